"""The one ingestion path: store → bounces (once) → blocks → sent email bounced → mailing count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bench.samples import sample
from bounces.ingestion.process import MAX_ATTEMPTS, inbound_process
from bounces.ingestion.store import inbound_requeue, inbound_store_raw
from bounces.ingestion.sweep import inbound_sweep
from bounces.models import Block, Bounce, InboundMessage, Mailing, SentEmail

pytestmark = pytest.mark.django_db


def _store(raw: bytes, **kw):
    return inbound_store_raw(raw=raw, channel="pipe", source="test", queue=False, **kw)


def test_dsn_creates_bounce_block_and_marks_sent_email_by_verp_token(make_sent):
    sent = make_sent("Person1@Example.com", token="tokAAAA00001")
    s = sample(1, shape="postfix", token="tokAAAA00001", rcpt="Person1@example.com", failure=0)
    stored = _store(s.raw)

    result = inbound_process(ids=[stored.id])

    assert result.processed == 1 and result.bounces == 1
    bounce = Bounce.objects.get()
    assert (bounce.recipient, bounce.type, bounce.category) == (
        "person1@example.com",
        "permanent",
        "bad_mailbox",
    )
    assert bounce.sent_email_id == sent.pk and bounce.channel == "pipe"
    block = Block.objects.active().get(address="person1@example.com")
    assert block.cause_id == bounce.pk and block.category == "bad_mailbox"
    sent.refresh_from_db()
    assert sent.status == SentEmail.Status.BOUNCED and sent.bounced_at and sent.status_reason
    assert Mailing.objects.get().recipients_bounced == 1
    assert InboundMessage.objects.get().state == InboundMessage.State.PROCESSED


def test_token_names_the_recipient_when_the_dsn_hides_it(make_sent):
    sent = make_sent("hidden@example.org", token="tokHIDDEN0001")
    raw = (
        b"From: MAILER-DAEMON@mx.example.org\r\n"
        b"To: bounces+tokHIDDEN0001@bounces.bouncecrm.local\r\n"
        b"Subject: Undeliverable\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n"
        b"Your message could not be delivered.\r\n550 5.1.1 mailbox unavailable\r\n"
    )
    inbound_process(ids=[_store(raw).id])
    bounce = Bounce.objects.get()
    assert bounce.sent_email_id == sent.pk
    assert bounce.recipient == "hidden@example.org"


def test_correlates_by_original_message_id_without_token(make_sent):
    s = sample(2, shape="gmail", token=None, rcpt="mid@example.net", failure=1)
    sent = make_sent("mid@example.net", message_id=f"<{s.message_id}>")
    make_sent("mid@example.net")  # a later send to the same address must not be chosen
    inbound_process(ids=[_store(s.raw).id])
    assert Bounce.objects.get().sent_email_id == sent.pk


def test_correlates_by_recipient_and_time_as_a_last_resort(make_sent):
    make_sent("late@example.com", ago=timedelta(days=30))
    recent = make_sent("late@example.com", ago=timedelta(hours=2))
    s = sample(3, shape="exim", token=None, rcpt="late@example.com", failure=0)
    inbound_process(ids=[_store(s.raw).id])
    assert Bounce.objects.get().sent_email_id == recent.pk


def test_same_message_twice_is_stored_and_counted_once(make_sent):
    make_sent("twice@example.com", token="tokTWICE0001")
    s = sample(4, shape="postfix", token="tokTWICE0001", rcpt="twice@example.com", failure=0)
    first = _store(s.raw)
    second = _store(s.raw)
    assert first.created and not second.created and first.id == second.id
    inbound_process(ids=[first.id, second.id])
    inbound_process(ids=[first.id])
    assert InboundMessage.objects.count() == 1
    assert Bounce.objects.count() == 1
    assert Block.objects.get().bounce_count == 1
    assert Mailing.objects.get().recipients_bounced == 1


def test_reprocessing_never_duplicates(make_sent):
    make_sent("again@example.com", token="tokAGAIN0001")
    s = sample(5, shape="postfix", token="tokAGAIN0001", rcpt="again@example.com", failure=0)
    stored = _store(s.raw)
    inbound_process(ids=[stored.id])
    assert inbound_requeue(ids=[stored.id]) == 1  # eager: processed again at once
    inbound_process(ids=[stored.id])
    assert Bounce.objects.count() == 1
    assert Block.objects.get().bounce_count == 1
    assert Mailing.objects.get().recipients_bounced == 1


def test_second_bounce_for_the_same_sent_email_counts_once(make_sent):
    sent = make_sent("soft@example.com", token="tokSOFT00001")
    a = sample(6, shape="postfix", token="tokSOFT00001", rcpt="soft@example.com", failure=2)
    b = sample(7, shape="exim", token="tokSOFT00001", rcpt="soft@example.com", failure=0)
    inbound_process(ids=[_store(a.raw).id, _store(b.raw).id])
    assert Bounce.objects.filter(sent_email=sent).count() == 2
    assert Mailing.objects.get().recipients_bounced == 1
    assert Block.objects.get().bounce_count == 2


def test_auto_reply_blocks_temporarily_but_is_not_a_bounced_send(make_sent):
    sent = make_sent("away@example.com", token="tokAWAY00001")
    s = sample(8, shape="autoreply", token="tokAWAY00001", rcpt="away@example.com")
    inbound_process(ids=[_store(s.raw).id])
    assert Block.objects.get().category == "auto_reply"
    sent.refresh_from_db()
    assert sent.status == SentEmail.Status.SENT
    assert Mailing.objects.get().recipients_bounced == 0


def test_unparseable_message_is_quarantined_and_kept_as_evidence():
    stored = _store(b"\x00\x01 this is not an email at all \xff\xfe")
    inbound_process(ids=[stored.id])
    row = InboundMessage.objects.get()
    assert row.state == InboundMessage.State.QUARANTINED and row.error
    assert bytes(row.raw).startswith(b"\x00\x01")
    bounce = Bounce.objects.get()
    assert bounce.parsed is False and bounce.type == "" and bounce.inbound_id == row.pk
    assert not Block.objects.exists()


def test_oversized_message_keeps_its_head_quarantined_with_the_reason():
    raw = sample(9).raw + b"x" * 5000
    stored = _store(raw, limit=1000)
    row = InboundMessage.objects.get(pk=stored.id)
    assert row.state == InboundMessage.State.QUARANTINED
    assert "1000" in row.error and row.size == len(raw)
    assert inbound_requeue(ids=[row.pk]) == 0  # only the head was kept: cannot be processed


def test_batch_of_many_messages_runs_a_bounded_number_of_queries(
    make_sent, django_assert_max_num_queries
):
    ids = []
    for n in range(40):
        make_sent(f"batch{n}@example.com", token=f"tokBATCH{n:05d}")
        s = sample(100 + n, token=f"tokBATCH{n:05d}", rcpt=f"batch{n}@example.com")
        ids.append(_store(s.raw).id)
    # Per-address block writes dominate (a few statements each); everything else is per batch.
    with django_assert_max_num_queries(40 * 6 + 30):
        result = inbound_process(ids=ids)
    assert result.processed == 40
    assert Bounce.objects.count() == 40


def test_failing_row_is_retried_then_quarantined(monkeypatch):
    from bounces.ingestion import process

    stored = _store(sample(10).raw)

    def broken(row):
        raise RuntimeError("mapping bug")

    monkeypatch.setattr(process, "_evidence", broken)
    for _ in range(MAX_ATTEMPTS):
        inbound_process(ids=[stored.id])
        # Each failure backs off (tests/hardening/test_inbound_retries.py); let it pass.
        InboundMessage.objects.filter(pk=stored.id).update(retry_at=timezone.now())
    row = InboundMessage.objects.get()
    assert row.state == InboundMessage.State.QUARANTINED
    assert row.attempts == MAX_ATTEMPTS and "mapping bug" in row.error


def test_sweeper_requeues_rows_left_pending(make_sent):
    stored = _store(sample(11).raw)
    InboundMessage.objects.filter(pk=stored.id).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )
    assert inbound_sweep() == 1  # eager Celery: processed right away
    assert InboundMessage.objects.get().state == InboundMessage.State.PROCESSED


def test_fill_drains_other_pending_rows():
    ids = [_store(sample(200 + n).raw).id for n in range(5)]
    result = inbound_process(ids=ids[:1], fill=10)
    assert result.processed == 5
