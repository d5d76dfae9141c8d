"""One batch, set-based writes: sent emails, mailing counts and quarantined rows, each in one
statement, keep the per-row rules."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bench.samples import sample
from bounces.ingestion.process import inbound_process
from bounces.ingestion.store import inbound_store_raw
from bounces.models import Bounce, BouncePolicy, InboundMessage, Mailing, SentEmail
from records.models import Contact

pytestmark = pytest.mark.django_db


def _store(raw: bytes):
    return inbound_store_raw(raw=raw, channel="pipe", source="test", queue=False).id


def _sent(mailing: Mailing, address: str, token: str) -> SentEmail:
    return SentEmail.objects.create(
        contact=Contact.objects.create(last_name=address, email=address),
        mailing=mailing,
        to_address=address,
        from_address="sales@crm.example.com",
        subject=mailing.subject,
        message_id=f"<{token}@app1.crm.example.com>",
        verp_token=token,
        sent_at=timezone.now(),
    )


def test_two_final_bounces_of_one_email_in_a_batch_count_once_with_the_earliest():
    mailing = Mailing.objects.create(name="A", subject="A", from_address="sales@crm.example.com")
    sent = _sent(mailing, "twice@example.com", "tokTWICE0001")
    raws = [
        sample(n, shape=shape, token="tokTWICE0001", rcpt="twice@example.com", failure=0).raw
        for n, shape in ((31, "postfix"), (32, "exim"))
    ]
    inbound_process(ids=[_store(raw) for raw in raws])
    bounces = list(Bounce.objects.filter(sent_email=sent).order_by("received_at", "pk"))
    assert len(bounces) == 2
    sent.refresh_from_db()
    assert sent.status == SentEmail.Status.BOUNCED
    assert (sent.bounced_at, sent.status_reason) == (
        bounces[0].received_at,
        bounces[0].explanation[:500],
    )
    assert Mailing.objects.get().recipients_bounced == 1


def test_each_mailing_counts_its_own_bounced_emails_in_one_batch():
    a = Mailing.objects.create(name="A", subject="A", from_address="sales@crm.example.com")
    b = Mailing.objects.create(name="B", subject="B", from_address="sales@crm.example.com")
    sent = [
        _sent(a, "a1@example.com", "tokSETA00001"),
        _sent(a, "a2@example.com", "tokSETA00002"),
        _sent(b, "b1@example.com", "tokSETB00001"),
    ]
    raws = [
        sample(40 + n, shape="postfix", token=s.verp_token, rcpt=s.to_address, failure=0).raw
        for n, s in enumerate(sent)
    ]
    inbound_process(ids=[_store(raw) for raw in raws])
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.recipients_bounced, b.recipients_bounced) == (2, 1)
    # Processing again changes nothing.
    InboundMessage.objects.update(state=InboundMessage.State.PENDING)
    inbound_process(ids=list(InboundMessage.objects.values_list("pk", flat=True)))
    assert Mailing.objects.get(pk=a.pk).recipients_bounced == 2


def test_unparseable_rows_of_one_batch_are_quarantined_each_with_its_reason():
    ids = [_store(b"\x00\x01 not an email %d \xff" % n) for n in range(3)]
    ids.append(_store(sample(50).raw))
    result = inbound_process(ids=ids)
    assert (result.processed, result.quarantined) == (1, 3)
    rows = InboundMessage.objects.filter(state=InboundMessage.State.QUARANTINED)
    assert rows.count() == 3
    assert all(row.error and row.attempts == 1 and row.processed_at for row in rows)


def test_a_batch_runs_the_same_statements_for_5_rows_as_for_40():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    BouncePolicy.current()  # the policy's row, created on first use
    mailing = Mailing.objects.create(name="Q", subject="Q", from_address="sales@crm.example.com")
    counts = []
    for size, first in ((5, 0), (40, 100)):
        sent = [
            _sent(mailing, f"q{n}@example.com", f"tokQ{n:08d}") for n in range(first, first + size)
        ]
        ids = [
            _store(sample(200 + n, shape="postfix", token=s.verp_token, rcpt=s.to_address).raw)
            for n, s in enumerate(sent, start=first)
        ]
        with CaptureQueriesContext(connection) as queries:
            assert inbound_process(ids=ids).processed == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
