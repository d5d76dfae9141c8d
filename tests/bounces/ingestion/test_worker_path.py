"""The whole path through a real Celery worker process on Redis (not eager mode)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from django.urls import reverse

from bench.samples import sample
from bounces.models import Block, Bounce, InboundMessage, SentEmail
from tests.conftest import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_raw_message_posted_over_http_is_processed_by_the_worker(
    celery_worker, client, http_source, make_sent
):
    _source, token = http_source
    sent = make_sent("worker.path@example.com", token="tokWORKER0001")
    s = sample(1, shape="gmail", token="tokWORKER0001", rcpt="worker.path@example.com", failure=0)

    response = client.post(
        reverse("bounces:inbound-raw", args=["relay"]),
        data=s.raw,
        content_type="message/rfc822",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 202
    block = wait_until(
        lambda: Block.objects.active().filter(address="worker.path@example.com").first()
    )
    assert block.category == "bad_mailbox"
    bounce = Bounce.objects.get()
    assert bounce.sent_email_id == sent.pk and block.cause_id == bounce.pk
    assert SentEmail.objects.get(pk=sent.pk).status == SentEmail.Status.BOUNCED
    assert InboundMessage.objects.get().state == InboundMessage.State.PROCESSED


def test_esp_webhook_event_is_processed_by_the_worker(celery_worker, client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "anymail:wh-secret-123"}
    payload = json.loads((Path(__file__).parent / "payloads" / "postmark_bounce.json").read_text())
    response = client.post(
        reverse("bounces:webhook-postmark"),
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"anymail:wh-secret-123").decode(),
    )
    assert response.status_code == 200
    bounce = wait_until(lambda: Bounce.objects.filter(recipient="pm.user@example.com").first())
    assert (bounce.esp, bounce.type, bounce.category) == ("postmark", "permanent", "bad_mailbox")
    assert wait_until(lambda: Block.objects.active().filter(address="pm.user@example.com").exists())


def test_a_backlog_is_drained_in_batches(celery_worker, make_sent):
    from bounces.ingestion.store import inbound_store_many_raw

    raws = [sample(100 + n).raw for n in range(150)]
    inbound_store_many_raw(raws=raws, channel="imap", source="backlog")
    wait_until(
        lambda: not InboundMessage.objects.filter(state=InboundMessage.State.PENDING).exists(),
        timeout=60,
    )
    assert InboundMessage.objects.filter(state=InboundMessage.State.PROCESSED).count() == 150
    assert Bounce.objects.count() == 150
