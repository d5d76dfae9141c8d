"""Helpers shared by the report tests, and the small dataset whose figures are known."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from bounces.models import Bounce, SentEmail, Unblock
from reports import rollups
from tests.factories import (
    BlockFactory,
    BounceFactory,
    ContactFactory,
    MailingFactory,
    SentEmailFactory,
)

TZ = timezone.get_default_timezone()
MARCH = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def bounce_for(sent: SentEmail | None, *, day: dt.date, **kw) -> Bounce:
    """A blocking bounce (permanent bad_mailbox unless told), correlated to `sent` if given."""
    fields = {"received_at": at(day, 13), "sent_email": sent}
    if sent is not None:
        fields["recipient"] = sent.to_address
        fields["recipient_domain"] = sent.to_address.rpartition("@")[2]
    fields.update(kw)
    return BounceFactory(**fields)


@dataclass
class March:
    mailing_a: object
    mailing_b: object
    bounces: list


def sent_batch(n, *, day, mailing=None, from_address, domain="example.com", start=0, **kw):
    contact = ContactFactory()
    return [
        SentEmailFactory(
            contact=contact,
            mailing=mailing,
            from_address=from_address,
            to_address=f"r{start + i}@{domain}",
            sent_at=at(day),
            **kw,
        )
        for i in range(n)
    ]


def build_march() -> March:
    """March 2025: 100 sent, 5 bounced (5.00 %), 8 blocking bounces received.

    - mailing A (news@acme.test): 40 sent on the 5th, 4 bounced permanent/bad_mailbox by IMAP
      (10 %), one of them bounced again later as temporary/mailbox_full (still counted once);
    - mailing B (news@acme.test): 50 sent on the 10th, 1 bounced temporary/mailbox_full by
      webhook (2 %);
    - sales@acme.test, no mailing: 10 sent on the 12th, none bounced; 1 suppressed (not sent);
    - 2 unmatched permanent/bad_domain bounces for nowhere.test (sender domain acme.test) on the
      15th; plus one success DSN (blocks nothing) and one bounce in April: neither counted;
    - blocks: 2 active (one permanent bad_mailbox), 1 lifted on the 20th.
    """
    a = MailingFactory(name="Spring news", from_address="news@acme.test")
    b = MailingFactory(name="Product update", from_address="news@acme.test")
    sent_a = sent_batch(40, day=dt.date(2025, 3, 5), mailing=a, from_address="news@acme.test")
    sent_b = sent_batch(
        50, day=dt.date(2025, 3, 10), mailing=b, from_address="News@Acme.test", start=100
    )
    sent_batch(10, day=dt.date(2025, 3, 12), from_address="sales@acme.test", start=200)
    sent_batch(
        1,
        day=dt.date(2025, 3, 12),
        from_address="sales@acme.test",
        start=300,
        status="suppressed",
    )
    bounces = [bounce_for(s, day=dt.date(2025, 3, 6), channel="imap") for s in sent_a[:4]]
    bounces.append(
        bounce_for(
            sent_a[0],
            day=dt.date(2025, 3, 8),
            channel="imap",
            type="temporary",
            category="mailbox_full",
            status="4.2.2",
        )
    )
    bounces.append(
        bounce_for(
            sent_b[0],
            day=dt.date(2025, 3, 11),
            channel="webhook",
            type="temporary",
            category="mailbox_full",
            status="4.2.2",
        )
    )
    for i in range(2):
        bounces.append(
            bounce_for(
                None,
                day=dt.date(2025, 3, 15),
                channel="imap",
                category="bad_domain",
                recipient=f"x{i}@nowhere.test",
                recipient_domain="nowhere.test",
                sender_domain="acme.test",
            )
        )
    bounce_for(None, day=dt.date(2025, 3, 15), type="", category="", recipient="ok@example.com")
    bounce_for(None, day=dt.date(2025, 4, 2), recipient="late@example.com")

    BlockFactory(address="r0@example.com")
    BlockFactory(address="r1@example.com", permanent=True)
    lifted = BlockFactory(address="r2@example.com", lifted_at=at(dt.date(2025, 3, 20)))
    unblock = Unblock.objects.create(
        block=lifted,
        address=lifted.address,
        block_type=lifted.type,
        category=lifted.category,
        source=Unblock.Source.ADMIN,
        reason="fixed",
    )
    Unblock.objects.filter(pk=unblock.pk).update(created_at=at(dt.date(2025, 3, 20)))
    rollups.rebuild()
    return March(mailing_a=a, mailing_b=b, bounces=bounces)
