"""ESP webhooks at their edges: bad bodies answer 400 and store nothing; a batch with one bad
event stores the others; big batches are stored set-based; events without a valid recipient
are quarantined. Through the test client with raw bodies."""

from __future__ import annotations

import base64
import copy
import json
import time
from pathlib import Path

import pytest
from django.urls import reverse

from bounces.models import Block, Bounce, InboundMessage

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).parent.parent / "bounces" / "ingestion" / "payloads"
SECRET = "anymail:wh-secret-123"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
ESPS = {
    "sendgrid": ("bounces:webhook-sendgrid", "application/json"),
    "postmark": ("bounces:webhook-postmark", "application/json"),
    "amazon_ses": ("bounces:webhook-amazon-ses", "text/plain"),
    "mailgun": ("bounces:webhook-mailgun", "application/json"),
}
DEEP = b"[" * 100_000 + b"]" * 100_000
BAD_BODIES = {
    "malformed": (b'{"event": "bounce",', "not valid JSON"),
    "null": (b"null", "expected a JSON body"),
    "string": (b'"bounce"', "expected a JSON body"),
    "numbers": (b"[1, 2, 3]", None),  # SendGrid: each number is an unreadable event
    "invalid utf-8": (b'[{"email": "\xff\xfe@example.com"}]', "not UTF-8"),
    "deep nesting": (DEEP, "nested too deeply"),
}


@pytest.fixture(autouse=True)
def anymail_settings(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": "key-123"}
    settings.BOUNCE_SNS_VERIFY = False  # unsigned bodies; see test_sns_signature.py


def _post(client, esp: str, body: bytes, content_type: str | None = None, **extra):
    name, default_type = ESPS[esp]
    return client.generic(
        "POST", reverse(name), body, content_type=content_type or default_type, **AUTH, **extra
    )


@pytest.mark.parametrize("esp", list(ESPS))
@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_a_bad_body_answers_400_with_a_reason_and_stores_nothing(client, esp, kind):
    body, reason = BAD_BODIES[kind]
    response = _post(client, esp, body)
    if esp == "sendgrid" and kind == "numbers":
        # A list is SendGrid's shape; its items are not events: kept in quarantine, 200.
        assert response.status_code == 200
        assert InboundMessage.objects.filter(state="quarantined").count() == 3
        assert not InboundMessage.objects.filter(state="pending").exists()
        return
    assert response.status_code == 400, response.content[:200]
    if reason:
        assert reason in response.content.decode()
    assert len(response.content) < 200
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("esp", ["sendgrid", "postmark", "mailgun"])
def test_the_wrong_content_type_answers_400(client, esp):
    body = (PAYLOADS / "sendgrid_events.json").read_bytes()
    response = _post(client, esp, body, content_type="text/html")
    assert response.status_code == 400
    assert b"expected Content-Type application/json" in response.content
    assert not InboundMessage.objects.exists()


def test_bad_auth_is_still_401_before_the_body_is_looked_at(client):
    response = client.generic(
        "POST", reverse("bounces:webhook-sendgrid"), b"null", content_type="application/json"
    )
    assert response.status_code == 401


def _sendgrid_bounce(n: int, email: str | None = None, reason: str = "550 5.1.1 user unknown"):
    event = {
        "email": email if email is not None else f"user{n}@example.com",
        "timestamp": 1709634000 + n,
        "event": "bounce",
        "type": "bounce",
        "status": "5.1.1",
        "reason": reason,
        "sg_event_id": f"evt-{n}",
        "smtp-id": f"<m{n}@crm.example.com>",
    }
    if email is None and n < 0:
        del event["email"]
    return event


@pytest.mark.parametrize(
    "poison",
    ["550 5.1.1 user\\u0000unknown", "550 5.1.1 user \\ud800 unknown"],
    ids=["nul", "lone-surrogate"],
)
def test_one_bad_event_in_a_batch_of_four_keeps_the_three_good_ones(
    client, poison, django_capture_on_commit_callbacks
):
    events = [json.dumps(_sendgrid_bounce(n)) for n in range(4)]
    events[2] = events[2].replace("550 5.1.1 user unknown", poison)
    body = ("[" + ", ".join(events) + "]").encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, "sendgrid", body)
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 3, "duplicates": 0, "quarantined": 1}
    assert sorted(Bounce.objects.values_list("recipient", flat=True)) == [
        "user0@example.com",
        "user1@example.com",
        "user3@example.com",
    ]
    bad = InboundMessage.objects.get(state="quarantined")
    assert ("NUL byte" in bad.error) or ("lone surrogate" in bad.error)
    assert b"user2@example.com" in bytes(bad.raw)  # the event as it came, for admins
    assert "\x00" not in json.dumps(bad.payload)


@pytest.mark.parametrize(
    "email",
    ["", None, "<script>alert(1)</script>@example.com", "not an address"],
    ids=["empty", "missing", "script", "no-at"],
)
def test_a_bounce_without_a_valid_recipient_is_quarantined_not_blocked(
    client, email, django_capture_on_commit_callbacks
):
    event = _sendgrid_bounce(-1 if email is None else 7, email=email)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, "sendgrid", json.dumps([event]).encode())
    assert response.status_code == 200
    row = InboundMessage.objects.get()
    assert row.state == "quarantined"
    assert "recipient" in row.error
    assert not Bounce.objects.exists() and not Block.objects.exists()


def test_a_redelivered_batch_is_stored_once(client):
    body = json.dumps([_sendgrid_bounce(n) for n in range(5)]).encode()
    assert _post(client, "sendgrid", body).json()["stored"] == 5
    assert _post(client, "sendgrid", body).json() == {
        "stored": 0,
        "duplicates": 5,
        "quarantined": 0,
    }
    assert InboundMessage.objects.count() == 5


def test_ten_thousand_events_are_answered_within_seconds(client, django_assert_max_num_queries):
    events = [_sendgrid_bounce(n) for n in range(10_000)]
    body = json.dumps(events).encode()
    started = time.monotonic()
    # Set-based: about 15 statements on PostgreSQL; SQLite splits the INSERT by its variable limit.
    with django_assert_max_num_queries(200):
        response = _post(client, "sendgrid", body)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["stored"] == 10_000
    assert InboundMessage.objects.count() == 10_000
    print(f"10,000 SendGrid events answered in {elapsed:.2f} s")
    assert elapsed < 6, f"{elapsed:.1f} s"


def test_ses_subscription_confirmation_answers_200_and_says_why_not_confirmed(client, caplog):
    message = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "sub-1",
        "Token": "tok",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-crm-events",
        "Message": "You have chosen to subscribe…",
        "SubscribeURL": "https://evil.example.com/?Action=ConfirmSubscription",
        "Timestamp": "2026-01-01T00:00:00.000Z",
    }
    response = _post(
        client,
        "amazon_ses",
        json.dumps(message).encode(),
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="SubscriptionConfirmation",
        HTTP_X_AMZ_SNS_MESSAGE_ID="sub-1",
    )
    assert response.status_code == 200
    assert "NOT confirmed" in caplog.text and "not on an SNS host" in caplog.text
    assert not InboundMessage.objects.exists()


def test_an_unknown_sns_message_type_answers_400(client):
    payload = copy.deepcopy(json.loads((PAYLOADS / "ses_bounce.json").read_text()))
    payload["Type"] = "Gossip"
    response = _post(
        client,
        "amazon_ses",
        json.dumps(payload).encode(),
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="Gossip",
        HTTP_X_AMZ_SNS_MESSAGE_ID=payload["MessageId"],
    )
    assert response.status_code == 400
