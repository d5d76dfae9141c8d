"""The report follows ingestion through bounces.signals: roll-ups in the same transaction, the
rate check queued after commit (README, "Hooks instead of upward imports")."""

from __future__ import annotations

import pytest
from django.db import transaction

from bench.samples import sample
from bounces.ingestion.process import inbound_process
from bounces.ingestion.store import inbound_store_raw
from bounces.models import BouncePolicy, Mailing, SentEmail
from bounces.sending.services import Outcome, mailings_autopause, record_outcome
from reports import rollups
from reports.models import DailyBounceRollup, DailyDomainRollup, DailySentRollup
from tests.factories import SentEmailFactory

pytestmark = pytest.mark.django_db


def _ingest(token: str, rcpt: str) -> None:
    s = sample(1, shape="postfix", token=token, rcpt=rcpt, failure=0)
    stored = inbound_store_raw(raw=s.raw, channel="pipe", source="test", queue=False)
    inbound_process(ids=[stored.id])


def _rows(model) -> list[tuple]:
    return sorted(model.objects.values_list(*[f.name for f in model._meta.fields][1:]))


def test_ingested_bounces_reach_the_rollups_as_a_rebuild_counts_them(make_sent):
    make_sent("person1@example.com", token="tokHOOK00001")
    _ingest("tokHOOK00001", "person1@example.com")

    incremental = {model: _rows(model) for model in (DailyBounceRollup, DailyDomainRollup)}
    assert DailyBounceRollup.objects.get().count == 1
    assert DailySentRollup.objects.get().bounced == 1  # the mailing's email, counted bounced
    rollups.rebuild()
    assert incremental == {model: _rows(model) for model in incremental}


def test_rollups_are_written_in_the_ingestion_transaction(make_sent):
    make_sent("person2@example.com", token="tokHOOK00002")
    with pytest.raises(RuntimeError), transaction.atomic():
        _ingest("tokHOOK00002", "person2@example.com")
        assert DailyBounceRollup.objects.count() == 1  # visible inside it ...
        raise RuntimeError
    assert DailyBounceRollup.objects.count() == 0  # ... and gone with it


def test_emails_the_server_accepted_are_counted_sent():
    rows = SentEmailFactory.create_batch(3, status=SentEmail.Status.SENDING)
    record_outcome(Outcome(sent=rows))
    assert DailySentRollup.objects.get().sent == 3
    incremental = _rows(DailySentRollup)
    rollups.rebuild()
    assert _rows(DailySentRollup) == incremental


def test_an_autopaused_mailing_queues_the_rate_check_after_commit(
    settings, django_capture_on_commit_callbacks
):
    settings.SENDING_PAUSE_MIN_SENT = 2
    BouncePolicy.objects.update_or_create(pk=1, defaults={"pause_mailing_above_threshold": True})
    mailing = Mailing.objects.create(
        name="M",
        subject="S",
        from_address="news@example.com",
        state=Mailing.State.SENDING,
        recipients_sent=10,
        recipients_bounced=1,
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert mailings_autopause(mailing_ids=[mailing.pk]) == [mailing.pk]
    assert len(callbacks) == 1  # the rate check, queued once the pause has committed
