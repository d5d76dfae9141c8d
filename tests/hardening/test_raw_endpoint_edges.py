"""The raw-message endpoint over real HTTP (gunicorn): chunked bodies, size limits, and the
same answer for an unknown source as for a bad token."""

from __future__ import annotations

import http.client
import json

import pytest
from django.urls import reverse

from bench.samples import sample
from bounces.models import InboundMessage, InboundSource


@pytest.fixture
def relay(transactional_db):
    source = InboundSource(name="Relay", slug="relay", max_bytes=10 * 1024 * 1024)
    token = source.new_token()
    source.save()
    return source, token


def _post(base: str, path: str, body, token: str, *, chunked: bool = False):
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    if chunked:
        # An iterable body without a length: http.client sends Transfer-Encoding: chunked.
        conn.request("POST", path, body=iter(body), headers=headers, encode_chunked=True)
    else:
        conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, json.loads(payload or b"{}")


def test_a_chunked_message_is_accepted(gunicorn_server, relay):
    _source, token = relay
    raw = sample(61, shape="postfix").raw
    parts = [raw[i : i + 500] for i in range(0, len(raw), 500)]
    status, body = _post(
        gunicorn_server, reverse("bounces:inbound-raw", args=["relay"]), parts, token, chunked=True
    )
    assert status == 202, body
    assert bytes(InboundMessage.objects.get(pk=body["id"]).raw) == raw


def test_a_chunked_message_over_the_limit_is_refused(gunicorn_server, relay, settings):
    source, token = relay
    source.max_bytes = 50_000
    source.save()
    parts = [sample(62).raw] + [b"X" * 10_000] * 10
    status, body = _post(
        gunicorn_server, reverse("bounces:inbound-raw", args=["relay"]), parts, token, chunked=True
    )
    assert status == 413, body
    assert InboundMessage.objects.get().state == InboundMessage.State.QUARANTINED


def test_the_global_size_limit_applies_below_a_bigger_source_limit(client, relay, settings):
    _source, token = relay  # the source allows 10 MiB
    settings.BOUNCE_MAX_MESSAGE_BYTES = 1024 * 1024
    body = sample(63).raw + b"A" * (2 * 1024 * 1024)
    response = client.post(
        reverse("bounces:inbound-raw", args=["relay"]),
        data=body,
        content_type="message/rfc822",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 413
    assert "1048576" in response.json()["error"]
    assert InboundMessage.objects.get().state == InboundMessage.State.QUARANTINED


def test_an_unknown_source_and_a_bad_token_answer_alike(client, relay):
    source, token = relay
    url = reverse("bounces:inbound-raw", args=["relay"])
    answers = []
    for path, bearer in [
        (url, "wrong-token"),
        (reverse("bounces:inbound-raw", args=["nope"]), token),
        (reverse("bounces:inbound-raw", args=["nope"]), "wrong-token"),
    ]:
        response = client.post(
            path, data=b"x", content_type="message/rfc822", HTTP_AUTHORIZATION=f"Bearer {bearer}"
        )
        answers.append((response.status_code, response.content, response["WWW-Authenticate"]))
    source.enabled = False
    source.save()
    response = client.post(
        url, data=b"x", content_type="message/rfc822", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    answers.append((response.status_code, response.content, response["WWW-Authenticate"]))
    assert len(set(answers)) == 1 and answers[0][0] == 401
    assert not InboundMessage.objects.exists()
