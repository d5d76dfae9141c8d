"""The raw-message endpoint for relays: bearer token, size limit, 202, processing queued."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from bench.samples import sample
from bounces.models import Block, Bounce, InboundMessage

pytestmark = pytest.mark.django_db


def _post(client, body: bytes, token: str | None, slug: str = "relay"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return client.post(
        reverse("bounces:inbound-raw", args=[slug]),
        data=body,
        content_type="message/rfc822",
        **headers,
    )


def test_accepts_a_raw_message_with_202_and_processes_it(
    http_source, django_capture_on_commit_callbacks
):
    _source, token = http_source
    s = sample(1, shape="postfix", failure=0)
    strict = Client(enforce_csrf_checks=True)  # relays have no CSRF token
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(strict, s.raw, token)
    assert response.status_code == 202
    row = InboundMessage.objects.get(pk=response.json()["id"])
    assert row.channel == "http" and row.source == "relay" and bytes(row.raw) == s.raw
    assert row.state == InboundMessage.State.PROCESSED
    assert Bounce.objects.get().recipient == s.recipient.lower()
    assert Block.objects.active().filter(address=s.recipient.lower()).exists()


def test_the_same_message_posted_twice_is_stored_once(client, http_source):
    _source, token = http_source
    raw = sample(2).raw
    first, second = _post(client, raw, token), _post(client, raw, token)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"] and second.json()["duplicate"] is True
    assert InboundMessage.objects.count() == 1


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_missing_or_wrong_token_is_refused_and_nothing_stored(client, http_source, token):
    response = _post(client, sample(3).raw, token)
    assert response.status_code == 401
    assert not InboundMessage.objects.exists()


def test_a_disabled_or_unknown_source_is_refused_like_a_bad_token(client, http_source):
    source, token = http_source
    assert _post(client, sample(4).raw, token, slug="nope").status_code == 401
    source.enabled = False
    source.save()
    assert _post(client, sample(4).raw, token).status_code == 401


def test_oversized_message_is_refused_with_413_and_its_head_quarantined(client, http_source):
    source, token = http_source
    body = sample(5).raw + b"A" * (source.max_bytes + 10)
    response = _post(client, body, token)
    assert response.status_code == 413
    row = InboundMessage.objects.get()
    assert row.state == InboundMessage.State.QUARANTINED
    assert row.size == len(body) and str(source.max_bytes) in row.error
    assert len(bytes(row.raw)) < len(body)


def test_larger_than_djangos_upload_limit_is_fine_below_the_source_limit(
    client, http_source, settings
):
    source, token = http_source
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # the view reads the stream itself
    body = sample(6).raw + b"\r\n" + b"B" * 5000
    assert len(body) < source.max_bytes
    assert _post(client, body, token).status_code == 202


def test_empty_body_is_refused(client, http_source):
    _source, token = http_source
    assert _post(client, b"", token).status_code == 400


def test_get_is_not_allowed(client, http_source):
    assert client.get(reverse("bounces:inbound-raw", args=["relay"])).status_code == 405
