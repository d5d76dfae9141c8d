"""Playwright against a live test server, driving Debian's Chromium (`apt-get install chromium`).

Playwright's own browser download does not work here, so the system Chromium is launched with
flags that stop its background network chatter (PITFALLS "Tools here"). Without
/usr/bin/chromium the tests skip locally and fail in CI (BOUNCECRM_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.test import Client

from tests.conftest import require_service

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (fixtures, assertions) are still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _groups(transactional_db):
    """Recreate the groups of migration bounces/0002 when a previous flush removed them."""
    migration = importlib.import_module("bounces.migrations.0002_fill_groups")
    sales, _ = Group.objects.get_or_create(name=migration.SALES_STAFF)
    for app_label, codename in migration.SALES_PERMISSIONS:
        sales.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    admins, _ = Group.objects.get_or_create(name=migration.ADMINS)
    admins.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["records", "bounces"])
    )


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page, live_server):
    """Log a user in by handing the browser a session made by Django's test client."""

    def _login(user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )
        return page

    return _login


AXE = Path(__file__).resolve().parents[3] / "var/npm/node_modules/axe-core/axe.min.js"


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's script from the npm registry, installed into var/npm (never from a CDN)."""
    if not AXE.exists():
        import subprocess

        script = Path(__file__).resolve().parents[3] / "scripts/install-axe-core"
        if subprocess.run([str(script)], check=False).returncode != 0 or not AXE.exists():
            require_service("axe-core (npm install axe-core)")
    return AXE


@pytest.fixture
def axe(axe_script):
    """Run axe-core's WCAG 2.1 A/AA rules on the page; return the violations (id, nodes)."""

    source = axe_script.read_text()

    def _run(page) -> list[dict]:
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does
        # not govern (a <script> tag would be refused): the policy stays on, as in production.
        page.evaluate(source)
        result = page.evaluate(
            """async () => {
              const r = await axe.run(document, {runOnly: {type: "tag",
                values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
              if (!r.passes.some(p => p.id === "color-contrast")) {
                return [{id: "axe-did-not-check-contrast", nodes: []}];
              }
              return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 5).map(
                  n => n.target.join(" ") + " :: " + n.failureSummary)}));
            }"""
        )
        return result

    return _run


@pytest.fixture
def sized_page(chromium, live_server):
    """A page of a given viewport width (390: a phone; 1366: a laptop) and language."""
    contexts = []

    def _open(width: int, *, locale: str = "en-US"):
        context = chromium.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": 844 if width < 500 else 800},
            locale=locale,
            has_touch=width < 500,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def login_as(live_server):
    """Log `user` in on a page of any context (as `login` does for the default page)."""

    def _login(page, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )
        return page

    return _login
