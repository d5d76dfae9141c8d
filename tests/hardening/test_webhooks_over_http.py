"""ESP webhooks through gunicorn over real HTTP: bad bodies are 400, a big batch is answered
quickly and stored once."""

from __future__ import annotations

import base64
import http.client
import json
import time

import pytest

from bounces.models import InboundMessage

AUTH = "Basic " + base64.b64encode(b"anymail:wh-secret-123").decode()
PATH = "/bounces/webhooks/sendgrid/tracking/"


def _post(base: str, body: bytes, content_type: str = "application/json"):
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request(
        "POST", PATH, body=body, headers={"Authorization": AUTH, "Content-Type": content_type}
    )
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, payload


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"event": ', "application/json"),
        (b"null", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b"[]", "text/html"),
    ],
    ids=["malformed", "null", "invalid-utf8", "deep", "content-type"],
)
def test_bad_bodies_answer_400_over_http(gunicorn_server, body, content_type):
    status, payload = _post(gunicorn_server, body, content_type)
    assert status == 400, payload[:200]
    assert not InboundMessage.objects.exists()


def test_ten_thousand_events_over_http_are_answered_quickly(gunicorn_server):
    events = [
        {
            "email": f"user{n}@example.com",
            "timestamp": 1709634000 + n,
            "event": "bounce",
            "type": "bounce",
            "status": "5.1.1",
            "reason": "550 5.1.1 user unknown",
            "sg_event_id": f"http-{n}",
        }
        for n in range(10_000)
    ]
    body = json.dumps(events).encode()
    _post(gunicorn_server, b"[]")  # warm the worker (imports) before timing
    started = time.monotonic()
    status, payload = _post(gunicorn_server, body)
    elapsed = time.monotonic() - started
    assert status == 200, payload[:200]
    assert json.loads(payload)["stored"] == 10_000
    print(f"10,000 events over HTTP in {elapsed:.2f} s")
    assert elapsed < 15, f"{elapsed:.1f} s"  # the issue saw a 500 after 60 s
    status, payload = _post(gunicorn_server, body)
    assert json.loads(payload)["duplicates"] == 10_000
    assert InboundMessage.objects.count() == 10_000
