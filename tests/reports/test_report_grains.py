"""Long periods read monthly roll-ups and closed months' top domains: raw rows' figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bounces.models import Channel
from reports import rollups
from reports.models import ClosedMonthTopDomain, MonthlyBounceRollup, MonthlySentRollup
from reports.selectors import RAW, ReportFilters, _exact_top, _grain_parts, bounce_report
from tests.factories import BounceFactory, ContactFactory, MailingFactory, SentEmailFactory

pytestmark = pytest.mark.django_db

CATEGORIES = [
    ("permanent", "bad_mailbox"),
    ("permanent", "bad_domain"),
    ("temporary", "mailbox_full"),
    ("temporary", "auto_reply"),
]
DOMAINS = [f"d{i}.test" for i in range(14)]  # more than the 10 shown


def comparable(report):
    data = dataclasses.asdict(report)
    data.pop("sources")
    return data


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def shanghai(settings):
    # Local midnight is 16:00 UTC: a bounce at 23:30 local on a month's last day is in that
    # month locally and in the next one in UTC.
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def year(shanghai):
    """Ten months of sent emails and bounces up to today, fed incrementally like ingestion."""
    rnd = random.Random(14)
    today = timezone.localdate()
    contact = ContactFactory()
    mailings = [MailingFactory(from_address="news@acme.test"), MailingFactory(), None]
    senders = ["news@acme.test", "Sales@Acme.test", "x@other.test"]
    days = [today - dt.timedelta(days=rnd.randrange(300)) for _ in range(60)]
    # Month edges: the last and first local day of a few months, at the edges of the day.
    for back in (1, 2, 5):
        first = (today.replace(day=1) - dt.timedelta(days=31 * back)).replace(day=1)
        days += [first, first - dt.timedelta(days=1)]
    sent = [
        SentEmailFactory(
            contact=contact,
            mailing=rnd.choice(mailings),
            from_address=rnd.choice(senders),
            to_address=f"r{i}@{rnd.choice(DOMAINS)}",
            sent_at=local(day, rnd.choice([0, 9, 23]), rnd.choice([0, 30])),
        )
        for i, day in enumerate(days)
    ]
    rollups.add_sent(sent)
    bounces = []
    for i in range(160):
        type_, category = rnd.choice(CATEGORIES)
        s = rnd.choice([*sent, None])
        day = rnd.choice(days) if i % 2 else today - dt.timedelta(days=rnd.randrange(300))
        bounces.append(
            BounceFactory(
                sent_email=s,
                type=type_,
                category=category,
                channel=rnd.choice([Channel.IMAP, Channel.WEBHOOK]),
                sender_domain=rnd.choice(["acme.test", "third.test"]),
                # Skewed, so a top ten exists; sometimes the sent email's own domain.
                recipient_domain=DOMAINS[min(int(rnd.expovariate(0.35)), len(DOMAINS) - 1)],
                received_at=local(day, rnd.choice([0, 12, 23]), rnd.choice([0, 30])),
            )
        )
    for start in range(0, len(bounces), 7):  # ingestion batches
        rollups.add_bounces(bounces[start : start + 7])
    return today, mailings[0]


def filter_cases(today: dt.date, mailing) -> list[ReportFilters]:
    starts = [
        today - dt.timedelta(days=299),
        (today - dt.timedelta(days=200)).replace(day=1),  # starts on a month's first day
        (today - dt.timedelta(days=250)).replace(day=27),  # a few days before a month end
    ]
    ends = [today, today.replace(day=1) - dt.timedelta(days=1)]  # today, last month's end
    cases = []
    for start in starts:
        for end in ends:
            cases.append(ReportFilters(start=start, end=end))
    full = {"start": starts[0], "end": today}
    cases += [
        ReportFilters(**full, category="permanent:bad_mailbox"),
        ReportFilters(**full, type="temporary"),
        ReportFilters(**full, type="permanent", category="temporary:auto_reply"),
        ReportFilters(**full, channel=Channel.WEBHOOK),
        ReportFilters(**full, sender="sales@acme.test"),
        ReportFilters(**full, sender="acme.test", category="temporary:mailbox_full"),
        ReportFilters(**full, mailing=mailing.pk),
        ReportFilters(**full, recipient_domain="d1.test"),
        ReportFilters(**full, channel=Channel.IMAP, type="permanent"),
    ]
    return cases


def assert_same_as_raw(cases):
    for f in cases:
        report, raw = bounce_report(filters=f), bounce_report(filters=f, force=RAW)
        assert comparable(report) == comparable(raw), f


def test_months_and_edge_days_equal_raw_rows(year):
    today, mailing = year
    cases = filter_cases(today, mailing)
    # Incremental roll-ups, no closed month materialised yet: the top domains are summed.
    assert not ClosedMonthTopDomain.objects.exists()
    assert_same_as_raw(cases)
    # The daily task materialises closed months; the lists answer the same.
    assert rollups.close_months() > 0
    assert rollups.close_months() == 0  # nothing left to close
    assert_same_as_raw(cases)
    # A rebuild gives the same monthly rows as the incremental upserts did.
    before = {
        model: set(model.objects.values_list(*[f.name for f in model._meta.fields][1:]))
        for model in (MonthlyBounceRollup, MonthlySentRollup, ClosedMonthTopDomain)
    }
    rollups.rebuild()
    for model, rows in before.items():
        after = set(model.objects.values_list(*[f.name for f in model._meta.fields][1:]))
        if model is MonthlySentRollup:  # the rebuild keeps no empty rows
            rows = {r for r in rows if r[-1] or r[-2]}
        assert after == rows, model


@pytest.mark.parametrize("kept", [12, 2])
def test_short_top_lists_stay_exact(year, kept, monkeypatch):
    today, mailing = year
    monkeypatch.setattr(rollups, "TOP_DOMAINS_KEPT", kept)
    rollups.close_months(rebuild=True)
    assert ClosedMonthTopDomain.objects.filter(rank=kept + 1).count() == 0
    assert_same_as_raw(filter_cases(today, mailing))
    f = ReportFilters(start=today - dt.timedelta(days=299), end=today)
    with CaptureQueriesContext(connection) as queries:
        bounce_report(filters=f)
    # 12 kept of 14 domains prove the top ten (one statement); 2 kept do not (one more).
    assert len(queries) == (7 if kept == 12 else 8)


def test_a_late_bounce_reopens_its_closed_month(year):
    today, _mailing = year
    rollups.close_months()
    closed = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=1)
    assert ClosedMonthTopDomain.objects.filter(month=closed).exists()
    late = [
        BounceFactory(recipient_domain="late.test", received_at=local(closed, 12))
        for _ in range(30)
    ]
    rollups.add_bounces(late)
    assert not ClosedMonthTopDomain.objects.filter(month=closed).exists()
    f = ReportFilters(start=today - dt.timedelta(days=299), end=today)
    report, raw = bounce_report(filters=f), bounce_report(filters=f, force=RAW)
    assert "late.test" in [row.domain for row in report.domains]
    assert comparable(report) == comparable(raw)


def test_long_periods_read_months_short_ones_days(shanghai):
    today = dt.date(2026, 11, 29)
    year = _grain_parts(ReportFilters(start=dt.date(2025, 11, 30), end=today))
    assert [(p.grain, p.first, p.last, p.sign) for p in year] == [
        ("month", dt.date(2025, 12, 1), dt.date(2026, 10, 1), 1),
        ("day", dt.date(2025, 11, 30), dt.date(2025, 11, 30), 1),  # one day: read it
        ("month", dt.date(2026, 11, 1), dt.date(2026, 11, 1), 1),  # 29 days: the month…
        ("day", dt.date(2026, 11, 30), dt.date(2026, 11, 30), -1),  # …less the 30th
    ]
    quarter = _grain_parts(ReportFilters(start=dt.date(2026, 9, 1), end=today))
    assert [(p.grain, p.first, p.last) for p in quarter] == [("day", dt.date(2026, 9, 1), today)]


def test_top_lists_that_cannot_prove_the_top_give_way():
    march, april = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
    # Two lists of one domain each over remainders: other domains exist, each may have had up
    # to 5 + 3, and the lists name fewer than ten: they cannot tell the top.
    rows = [("L", march, 1, "a", 6), ("L", march, 0, "", 5)]
    rows += [("L", april, 1, "a", 3), ("L", april, 0, "", 5)]
    assert _exact_top(rows) is None
    # Complete lists (no remainder) are exact, with the exact sums added.
    rows = [("L", march, 1, "a", 6), ("L", march, 2, "b", 2), ("L", march, 0, "", 0)]
    rows += [("X", None, None, "b", 5)]
    assert _exact_top(rows) == [{"domain": "b", "n": 7}, {"domain": "a", "n": 6}]
    # March only partly in the period: its listed domains count their days ("P").
    rows = [("L", march, 1, "a", 6), ("L", march, 2, "b", 2), ("L", march, 0, "", 0)]
    rows += [("P", None, None, "a", 1), ("X", None, None, "b", 5)]
    assert _exact_top(rows, {march}) == [{"domain": "b", "n": 5}, {"domain": "a", "n": 1}]
