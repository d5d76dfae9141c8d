"""Failing inbox rows back off between attempts; a database error is retried, never counted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from bounces.ingestion import process as process_module
from bounces.ingestion.process import MAX_ATTEMPTS, inbound_process
from bounces.ingestion.store import inbound_store_event
from bounces.models import InboundMessage
from bounces.tasks.ingestion import process_inbound

pytestmark = pytest.mark.django_db


def _broken_row() -> InboundMessage:
    # An ESP event whose body is not an object: the SendGrid mapping cannot read it.
    stored = inbound_store_event(
        esp="sendgrid",
        event={"esp": "sendgrid", "event_type": "bounced", "esp_event": ["not", "an", "event"]},
        queue=False,
    )
    return InboundMessage.objects.get(pk=stored.id)


def test_a_failing_row_waits_longer_after_each_attempt_before_quarantine():
    row = _broken_row()
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        before = timezone.now()
        inbound_process(ids=[row.pk])
        row.refresh_from_db()
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert row.state == InboundMessage.State.PENDING
            waits.append((row.retry_at - before).total_seconds())
            # Asked again at once (a new task filling its batch): not yet.
            inbound_process(ids=[row.pk], fill=100)
            row.refresh_from_db()
            assert row.attempts == attempt
            InboundMessage.objects.filter(pk=row.pk).update(retry_at=timezone.now())
    assert row.state == InboundMessage.State.QUARANTINED
    assert [round(w) for w in waits] == [30, 60, 120, 240]


def test_a_database_error_is_retried_by_the_task_and_not_counted_against_the_row(monkeypatch):
    row = _broken_row()
    InboundMessage.objects.filter(pk=row.pk).update(payload={"esp": "x", "esp_event": {}})

    def database_down(work):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(process_module, "_commit", database_down)
    with pytest.raises(OperationalError):
        inbound_process(ids=[row.pk])
    row.refresh_from_db()
    assert (row.attempts, row.state, row.retry_at) == (0, InboundMessage.State.PENDING, None)
    assert OperationalError in process_inbound.autoretry_for
    assert process_inbound.max_retries >= 5 and process_inbound.retry_backoff


def test_rows_still_backing_off_are_not_swept(settings):
    from bounces.ingestion.sweep import inbound_sweep

    row = _broken_row()
    old = timezone.now() - timedelta(minutes=10)
    InboundMessage.objects.filter(pk=row.pk).update(
        received_at=old, retry_at=timezone.now() + timedelta(minutes=1)
    )
    assert inbound_sweep() == 0
    InboundMessage.objects.filter(pk=row.pk).update(retry_at=old)
    assert inbound_sweep() == 1
