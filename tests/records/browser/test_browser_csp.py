"""The Content-Security-Policy in a real browser: no page of the app (the sales pages, the
bounce report with pygal's inline SVG charts, the admin) triggers a CSP violation, and the
charts are drawn."""

from __future__ import annotations

import pytest

from bench.samples import sample
from bounces.ingestion.process import inbound_process
from bounces.ingestion.store import inbound_store_raw
from tests.factories import ContactFactory


@pytest.fixture
def bounced(transactional_db):
    ids = [
        inbound_store_raw(raw=sample(900 + n, failure=n % 6).raw, channel="http", queue=False).id
        for n in range(12)
    ]
    inbound_process(ids=ids)
    ContactFactory(email="person900@example.com")


def _violations(page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return seen


@pytest.mark.parametrize(
    "path",
    ["/", "/contacts/?blocked=any", "/reports/bounces/", "/admin/", "/admin/bounces/block/"],
)
def test_pages_load_under_the_policy_without_violations(page, login, admin_user, bounced, path):
    seen = _violations(page)
    response = login(admin_user).goto(path)
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    assert seen == [], seen


def test_the_report_charts_render_under_the_policy(page, login, admin_user, bounced):
    seen = _violations(page)
    login(admin_user).goto("/reports/bounces/")
    charts = page.locator("svg.pygal-chart")
    assert charts.count() >= 1
    box = charts.first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    # pygal's own stylesheet (an inline <style> in the SVG) applied: its plot background is
    # not the default black fill an unstyled SVG rect gets.
    fill = page.evaluate(
        "() => getComputedStyle(document.querySelector('svg.pygal-chart .background')).fill"
    )
    assert fill not in ("", "rgb(0, 0, 0)"), fill
    assert seen == [], seen
