"""Incremental roll-ups equal a rebuild from the raw rows, whatever the batching."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounces.models import Bounce, Channel
from reports import rollups
from reports.models import (
    DailyBounceRollup,
    DailyDomainRollup,
    DailySentRollup,
    MonthlyBounceRollup,
    MonthlyDomainRollup,
    MonthlySentRollup,
)
from tests.factories import BounceFactory, ContactFactory, MailingFactory, SentEmailFactory
from tests.reports.report_data import at

pytestmark = pytest.mark.django_db

CATEGORIES = [
    ("permanent", "bad_mailbox"),
    ("permanent", "other"),
    ("temporary", "mailbox_full"),
    ("temporary", "other"),
    ("", ""),  # blocks nothing: never counted
]


def snapshot() -> dict[str, set]:
    def rows(model, *fields):
        return {tuple(r) for r in model.objects.values_list(*fields)}

    return {
        "bounce": rows(
            DailyBounceRollup,
            "day",
            "type",
            "category",
            "channel",
            "sender_address",
            "sender_domain",
            "mailing_id",
            "count",
        ),
        "month_bounce": rows(
            MonthlyBounceRollup,
            "month",
            "type",
            "category",
            "channel",
            "sender_address",
            "sender_domain",
            "mailing_id",
            "count",
        ),
        "month_sent": {
            r
            for r in rows(
                MonthlySentRollup,
                "month",
                "sender_address",
                "sender_domain",
                "mailing_id",
                "type",
                "category",
                "channel",
                "sent",
                "bounced",
            )
            if r[-1] or r[-2]
        },
        "domain": rows(DailyDomainRollup, "day", "recipient_domain", "type", "category", "count"),
        "month": rows(
            MonthlyDomainRollup, "month", "recipient_domain", "type", "category", "count"
        ),
        "sent": {
            r
            for r in rows(
                DailySentRollup,
                "day",
                "sender_address",
                "sender_domain",
                "mailing_id",
                "type",
                "category",
                "channel",
                "sent",
                "bounced",
            )
            if r[-1] or r[-2]
        },
    }


def build_dataset(rnd: random.Random, n_sent: int, n_bounces: int) -> tuple[list, list]:
    base = dt.date(2025, 2, 26)  # the data spans a month boundary
    contact = ContactFactory()
    mailings = [MailingFactory(from_address="News@Acme.test"), None]
    sent = [
        SentEmailFactory(
            contact=contact,
            mailing=rnd.choice(mailings),
            from_address=rnd.choice(["News@Acme.test", "sales@acme.test", "x@other.test"]),
            status=rnd.choice(["sent", "sent", "delivered", "suppressed"]),
            sent_at=at(base + dt.timedelta(days=rnd.randrange(5)), rnd.randrange(24)),
        )
        for _ in range(n_sent)
    ]
    bounces = []
    for _ in range(n_bounces):
        type_, category = rnd.choice(CATEGORIES)
        s = rnd.choice(sent + [None, None])
        bounces.append(
            BounceFactory(
                sent_email=s,
                type=type_,
                category=category,
                channel=rnd.choice([Channel.IMAP, Channel.WEBHOOK]),
                sender_domain=rnd.choice(["Acme.test", "", "third.test"]),
                recipient_domain=rnd.choice(["Gmail.com", "example.com", ""]),
                received_at=at(base + dt.timedelta(days=rnd.randrange(7)), rnd.randrange(24)),
            )
        )
    return sent, bounces


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(1, 12), min_size=1, max_size=8))
def test_incremental_batches_equal_rebuild(seed, cuts, django_db_blocker):
    rnd = random.Random(seed)
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            sent, bounces = build_dataset(rnd, n_sent=15, n_bounces=30)
            rollups.add_sent(sent)
            bounces.sort(key=lambda b: b.pk)  # fed in the order they were recorded
            i = 0
            while i < len(bounces):
                size = cuts[i % len(cuts)]
                rollups.add_bounces(bounces[i : i + size])
                i += size
            incremental = snapshot()
            rollups.rebuild()
            rebuilt = snapshot()
            assert incremental == rebuilt
            assert sum(r[-1] for r in rebuilt["bounce"]) == Bounce.objects.exclude(type="").count()
            transaction.set_rollback(True)


def test_rebuild_of_a_range_keeps_other_days():
    rnd = random.Random(7)
    sent, bounces = build_dataset(rnd, n_sent=10, n_bounces=25)
    rollups.add_sent(sent)
    rollups.add_bounces(bounces)
    before = snapshot()
    DailyBounceRollup.objects.filter(day=dt.date(2025, 3, 1)).update(count=999)
    MonthlyDomainRollup.objects.update(count=999)
    MonthlyBounceRollup.objects.update(count=999)
    MonthlySentRollup.objects.update(sent=999)
    rollups.rebuild(dt.date(2025, 2, 27), dt.date(2025, 3, 1))
    assert snapshot() == before


def test_sent_email_counts_as_bounced_once_with_its_first_bounce(make_sent):
    day = dt.date(2025, 5, 2)
    (sent,) = make_sent(1, day=day)
    rollups.add_sent([sent])
    first = BounceFactory(
        sent_email=sent, type="temporary", category="mailbox_full", received_at=at(day)
    )
    rollups.add_bounces([first])
    second = BounceFactory(
        sent_email=sent,
        type="permanent",
        category="bad_mailbox",
        received_at=at(day + dt.timedelta(days=1)),
    )
    rollups.add_bounces([second])
    rows = DailySentRollup.objects.filter(bounced__gt=0)
    assert [(r.category, r.bounced) for r in rows] == [("mailbox_full", 1)]
    assert DailyBounceRollup.objects.count() == 2


def test_bounces_without_their_ids_are_looked_up(make_sent):
    day = dt.date(2025, 5, 2)
    (sent,) = make_sent(1, day=day)
    Bounce.objects.bulk_create(
        [
            Bounce(
                dedupe_key="bulk-1",
                channel="imap",
                type="permanent",
                category="bad_mailbox",
                sent_email=sent,
                received_at=at(day),
            )
        ]
    )
    unsaved = Bounce(
        dedupe_key="bulk-1",
        channel="imap",
        type="permanent",
        category="bad_mailbox",
        sent_email=sent,
        received_at=at(day),
    )
    rollups.add_bounces([unsaved])
    assert DailySentRollup.objects.get(type="permanent").bounced == 1
