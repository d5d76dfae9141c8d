"""The report's figures on a small known dataset, by roll-ups and by raw rows alike."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from reports.selectors import RAW, ROLLUP, ReportFilters, bounce_report
from tests.reports.report_data import MARCH, build_march

pytestmark = pytest.mark.django_db


@pytest.fixture
def march():
    return build_march()


def both(**filters):
    f = ReportFilters(start=MARCH[0], end=MARCH[1], **filters)
    return bounce_report(filters=f), bounce_report(filters=f, force=RAW)


def comparable(report):
    data = dataclasses.asdict(report)
    data.pop("sources")
    return data


def test_totals_of_the_month(march):
    report, raw = both()
    assert (report.sent, report.bounced, report.rate) == (100, 5, Decimal("5.00"))
    assert report.bounces == 8
    assert report.blocked_now == 2
    assert report.unblocked == 1
    assert not report.over_threshold  # 5.00 % is not above a 5 % threshold
    assert report.from_rollups
    assert set(raw.sources.values()) == {RAW}
    assert comparable(report) == comparable(raw)


def test_categories_keep_temporary_and_permanent_apart(march):
    report, _raw = both()
    temporary = {r.slug: r.count for r in report.categories["temporary"]}
    permanent = {r.slug: r.count for r in report.categories["permanent"]}
    assert temporary["mailbox_full"] == 2 and sum(temporary.values()) == 2
    assert permanent["bad_mailbox"] == 4 and permanent["bad_domain"] == 2
    assert len(temporary) == 7 and len(permanent) == 9


def test_top_domains_and_mailings(march):
    report, _raw = both()
    assert [(d.domain, d.count) for d in report.domains] == [
        ("example.com", 6),
        ("nowhere.test", 2),
    ]
    rows = {m.name: (m.sent, m.bounced, m.rate, m.over) for m in report.mailings}
    assert rows == {
        "Spring news": (40, 4, Decimal("10.00"), True),
        "Product update": (50, 1, Decimal("2.00"), False),
    }
    assert report.mailings[0].name == "Spring news"  # worst first


def test_timeline_is_per_day_for_a_month(march):
    report, _raw = both()
    assert report.granularity == "day"
    assert len(report.timeline) == 31
    day5 = report.timeline[4]
    assert (day5.label, day5.sent, day5.bounced, day5.rate) == (
        "2025-03-05",
        40,
        4,
        Decimal("10.00"),
    )
    assert sum(p.bounces for p in report.timeline) == 8


@pytest.mark.parametrize(
    ("filters", "expected", "source"),
    [
        ({"category": "permanent:bad_mailbox"}, (100, 4, 4), ROLLUP),
        ({"type": "temporary"}, (100, 1, 2), ROLLUP),
        ({"channel": "webhook"}, (100, 1, 1), "mixed"),
        ({"sender": "news@acme.test"}, (90, 5, 6), "mixed"),
        ({"sender": "acme.test"}, (100, 5, 8), "mixed"),
        ({"sender": "other.test"}, (0, 0, 0), "mixed"),
        ({"recipient_domain": "nowhere.test"}, (0, 0, 2), "mixed"),
        ({"recipient_domain": "example.com", "channel": "imap"}, (100, 4, 5), RAW),
    ],
)
def test_filters(march, filters, expected, source):
    report, raw = both(**filters)
    assert (report.sent, report.bounced, report.bounces) == expected
    assert comparable(report) == comparable(raw)
    sources = set(report.sources.values())
    assert sources == ({ROLLUP, RAW} if source == "mixed" else {source})


def test_mailing_filter(march):
    report, raw = both(mailing=march.mailing_a.pk)
    assert (report.sent, report.bounced, report.bounces) == (40, 4, 5)
    assert comparable(report) == comparable(raw)


def test_week_and_month_buckets():
    import datetime as dt

    f = ReportFilters(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    assert bounce_report(filters=f).granularity == "month"
    assert len(bounce_report(filters=f).timeline) == 12
    f = ReportFilters(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))
    report = bounce_report(filters=f)
    assert report.granularity == "week"
    assert report.timeline[0].end == dt.date(2025, 1, 5)  # weeks end on Sunday


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-02-20", "2025-04-10"),  # whole March plus edge days on both sides
        ("2025-03-06", "2025-03-15"),  # no whole month: days only
        ("2025-03-01", "2025-03-31"),  # exactly one month
        ("2025-03-10", "2025-05-31"),  # ends on a month end
    ],
)
def test_top_domains_across_month_edges_equal_raw(march, start, end):
    import datetime as dt

    f = ReportFilters(start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end))
    report, raw = bounce_report(filters=f), bounce_report(filters=f, force=RAW)
    assert report.domains == raw.domains
    assert comparable(report) == comparable(raw)
