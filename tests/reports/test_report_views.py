"""The report pages: who may see them, what they show, links behind numbers, query count."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.reports.report_data import MARCH, build_march, sent_batch

pytestmark = pytest.mark.django_db

MARCH_QUERY = {"period": "custom", "start": "2025-03-01", "end": "2025-03-31"}


@pytest.fixture
def march():
    return build_march()


@pytest.mark.parametrize("name", ["reports:index", "reports:bounces"])
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "url",
    [
        "/reports/",
        "/reports/bounces/",
        "/reports/bounces/export.csv",
        "/reports/bounces/rows.csv",
        "/reports/bounces/rows/bounces/",
    ],
)
def test_user_without_bounce_permission_is_refused(client, url):
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403


def test_index_lists_email_reports_then_bounce_report(sales_client):
    html = sales_client.get("/reports/").content.decode()
    assert html.index("Email reports") < html.index("Bounce report")
    assert 'href="/reports/bounces/"' in html


def test_sales_user_sees_the_report(sales_client, march):
    response = sales_client.get("/reports/bounces/", MARCH_QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    report = response.context["report"]
    assert (report.sent, report.bounced, report.bounces) == (100, 5, 8)
    # Charts drawn inline as SVG, with no script and nothing loaded from elsewhere.
    assert html.count('class="pygal-chart"') == 4  # rate, temporary, permanent, domains
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing from elsewhere
    assert "kozea.github.io" not in html
    main = html[html.index("<main") : html.index("</main>")]
    assert "<script" not in main
    # Each chart has a table alternative.
    assert html.count("Show the figures as a table") == 4
    assert 'id="rate-table"' in html and 'id="domains-table"' in html
    # The threshold is drawn as a series of the rate chart.
    assert "Threshold (5 %)" in html
    # The mailing above the threshold is highlighted, the other not.
    rows = re.findall(r"<tr[^>]*>\s*<th scope=\"row\"><a [^>]*>([^<]+)</a>", html)
    assert "Spring news" in rows and "Product update" in rows
    assert re.search(
        r'<tr class="table-danger" data-over="1">\s*<th scope="row"><a [^>]*>'
        r"Spring news",
        html,
    )
    assert "Computed from the daily roll-ups." in html


def test_invalid_range_shows_an_error_and_the_default_period(sales_client):
    response = sales_client.get(
        "/reports/bounces/", {"period": "custom", "start": "2025-03-31", "end": "2025-03-01"}
    )
    assert response.status_code == 200
    assert "start is after its end" in response.content.decode()


def test_every_total_links_to_its_rows(sales_client, march):
    response = sales_client.get("/reports/bounces/", MARCH_QUERY)
    totals = {t["label"]: t for t in response.context["totals"]}
    expected = {
        "Sent": 100,
        "Bounced": 5,
        "Bounces received": 8,
        "Blocked now": 2,
        "Unblocked in period": 1,
    }
    for label, count in expected.items():
        url = totals[label]["url"]
        assert url in response.content.decode().replace("&amp;", "&")
        rows = sales_client.get(url)
        assert rows.status_code == 200, url
        assert rows.context["table"].paginator.count == count, label


def test_blocked_numbers_link_to_the_record_lists(sales_client, march):
    response = sales_client.get("/reports/bounces/", MARCH_QUERY)
    blocked = next(t for t in response.context["totals"] if t["label"] == "Blocked now")
    contacts = blocked["records"][0]["url"]
    assert contacts == "/contacts/?blocked=any"
    group = next(g for g in response.context["category_groups"] if g["type"] == "permanent")
    item = next(i for i in group["rows"] if i["row"].slug == "bad_mailbox")
    assert (
        item["records"][0]["url"] == "/contacts/?blocked=permanent&category=permanent%3Abad_mailbox"
    )


def test_category_and_domain_numbers_link_to_their_rows(sales_client, march):
    response = sales_client.get("/reports/bounces/", MARCH_QUERY)
    group = next(g for g in response.context["category_groups"] if g["type"] == "permanent")
    item = next(i for i in group["rows"] if i["row"].slug == "bad_mailbox")
    query = parse_qs(urlparse(item["url"]).query)
    assert query["category"] == ["permanent:bad_mailbox"]
    assert sales_client.get(item["url"]).context["table"].paginator.count == 4
    domain = response.context["domains"][1]
    assert domain["row"].domain == "nowhere.test"
    assert sales_client.get(domain["url"]).context["table"].paginator.count == 2
    mailing = response.context["mailings"][0]
    assert sales_client.get(mailing["bounced_url"]).context["table"].paginator.count == 4


def test_year_report_query_count_does_not_grow_with_data(sales_client, django_assert_num_queries):
    today = dt.date.today()
    query = {"period": "12m"}
    from tests.factories import MailingFactory

    sent_batch(3, day=today, from_address="a@acme.test", mailing=MailingFactory())
    sales_client.get("/reports/bounces/", query)  # warm up: policy row, sessions
    from reports import rollups

    rollups.rebuild()
    # session, user, permissions (one read, bouncecrm.auth), policy, 3 roll-up reads, mailing
    # names, blocks, unblocks, the banner's alerts, the mailing filter's choices.
    with django_assert_num_queries(12) as small:
        sales_client.get("/reports/bounces/", query)
    build_march()
    sent_batch(30, day=today - dt.timedelta(days=40), from_address="b@acme.test", start=900)
    rollups.rebuild()
    with django_assert_num_queries(len(small.captured_queries)):
        sales_client.get("/reports/bounces/", query)


def test_period_presets(sales_client):
    for period in ("7d", "30d", "90d", "year", "12m"):
        response = sales_client.get("/reports/bounces/", {"period": period})
        f = response.context["f"]
        assert f.end == dt.date.today() or f.end == response.context["filter"].today
        assert f.start <= f.end
    response = sales_client.get("/reports/bounces/", {"period": "7d"})
    f = response.context["f"]
    assert (f.end - f.start).days == 6


def test_unknown_row_list_is_404(sales_client):
    assert sales_client.get("/reports/bounces/rows/nope/").status_code == 404
    assert MARCH  # the fixed month used above
