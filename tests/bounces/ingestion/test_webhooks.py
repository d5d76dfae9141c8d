"""ESP tracking webhooks: recorded payload shapes in, bounces out; forged posts refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from bounces.models import Block, Bounce, InboundMessage, SentEmail

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = "anymail:wh-secret-123"
MAILGUN_KEY = "key-mailgun-signing-0123456789"


@pytest.fixture(autouse=True)
def anymail_settings(settings):
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
    }
    # These payloads are unsigned; signatures: tests/hardening/test_sns_signature.py.
    settings.BOUNCE_SNS_VERIFY = False
    return settings


def _auth(secret: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def _load(name: str):
    return json.loads((PAYLOADS / name).read_text())


def _post(client, name: str, body, *, auth=True, secret=SECRET, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    extra = _auth(secret) if auth else {}
    return client.post(
        reverse(name), data=data, content_type="application/json", **extra, **headers
    )


def _ses_headers(payload: dict) -> dict:
    return {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": payload["Type"],
        "HTTP_X_AMZ_SNS_MESSAGE_ID": payload["MessageId"],
    }


def _signed_mailgun(payload: dict, *, key: str = MAILGUN_KEY, age: float = 0) -> dict:
    payload = json.loads(json.dumps(payload))
    ts = str(int(time.time() - age))
    token = hashlib.sha256(f"{ts}{time.time_ns()}".encode()).hexdigest()[:50]
    sig = hmac.new(key.encode(), f"{ts}{token}".encode(), hashlib.sha256).hexdigest()
    payload["signature"] = {"timestamp": ts, "token": token, "signature": sig}
    return payload


# --- Amazon SES ---------------------------------------------------------------------------------
def test_ses_permanent_bounce_becomes_a_permanent_bounce_and_block(
    client, make_sent, django_capture_on_commit_callbacks
):
    sent = make_sent("ses.user@example.com", token="tokSES000001")
    payload = _load("ses_bounce.json")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, "bounces:webhook-amazon-ses", payload, **_ses_headers(payload))
    assert response.status_code == 200
    bounce = Bounce.objects.get()
    assert (bounce.esp, bounce.channel, bounce.recipient) == (
        "amazon_ses",
        "webhook",
        "ses.user@example.com",
    )
    assert (bounce.type, bounce.category, bounce.status) == ("permanent", "bad_mailbox", "5.1.1")
    assert bounce.sent_email_id == sent.pk
    sent.refresh_from_db()
    assert sent.status == SentEmail.Status.BOUNCED
    assert Block.objects.active().get(address="ses.user@example.com").type == "permanent"


@pytest.mark.parametrize(
    ("fixture", "address", "expected"),
    [
        ("ses_transient.json", "full.user@example.com", ("temporary", "mailbox_full")),
        ("ses_complaint.json", "angry@example.com", ("temporary", "content_related")),
        ("ses_delay.json", "slow@example.com", ("temporary", "mailbox_full")),
    ],
)
def test_ses_event_kinds_map_to_categories(
    client, fixture, address, expected, django_capture_on_commit_callbacks
):
    payload = _load(fixture)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            _post(
                client, "bounces:webhook-amazon-ses", payload, **_ses_headers(payload)
            ).status_code
            == 200
        )
    bounce = Bounce.objects.get(recipient=address)
    assert (bounce.type, bounce.category) == expected


def test_ses_redelivered_notification_is_stored_once(client, django_capture_on_commit_callbacks):
    payload = _load("ses_bounce.json")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            _post(client, "bounces:webhook-amazon-ses", payload, **_ses_headers(payload))
    assert InboundMessage.objects.count() == 1
    assert Bounce.objects.count() == 1


@pytest.mark.parametrize("secret", [None, "anymail:wrong-password"])
def test_ses_without_the_right_basic_auth_is_refused_and_nothing_stored(client, secret):
    payload = _load("ses_bounce.json")
    response = _post(
        client,
        "bounces:webhook-amazon-ses",
        payload,
        auth=secret is not None,
        secret=secret or "",
        **_ses_headers(payload),
    )
    assert response.status_code == 401
    assert not InboundMessage.objects.exists()


def test_ses_from_an_unexpected_topic_is_refused(client, settings):
    settings.BOUNCE_SES_TOPIC_ARNS = ["arn:aws:sns:us-east-1:123456789012:only-this-one"]
    payload = _load("ses_bounce.json")
    response = _post(client, "bounces:webhook-amazon-ses", payload, **_ses_headers(payload))
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_webhook_refuses_everything_while_no_secret_is_configured(client, settings):
    settings.ANYMAIL = {}
    payload = _load("ses_bounce.json")
    response = _post(
        client, "bounces:webhook-amazon-ses", payload, auth=False, **_ses_headers(payload)
    )
    assert response.status_code == 403
    assert (
        _post(
            client, "bounces:webhook-mailgun", _load("mailgun_failed.json"), auth=False
        ).status_code
        == 403
    )
    assert not InboundMessage.objects.exists()


# --- SendGrid -----------------------------------------------------------------------------------
def test_sendgrid_batch_maps_each_failure_and_ignores_engagement(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, "bounces:webhook-sendgrid", _load("sendgrid_events.json"))
    assert response.status_code == 200
    got = {b.recipient: (b.type, b.category) for b in Bounce.objects.all()}
    assert got == {
        "sg.bounce@example.com": ("permanent", "bad_mailbox"),
        "sg.blocked@example.com": ("temporary", "authentication_failure"),
        "sg.deferred@example.com": ("temporary", "network_error"),
        "sg.dropped@example.com": ("permanent", "bad_mailbox"),
        "sg.spam@example.com": ("temporary", "content_related"),
    }
    assert not Bounce.objects.filter(recipient="sg.fine@example.com").exists()


def test_sendgrid_forged_post_is_refused(client):
    response = _post(client, "bounces:webhook-sendgrid", _load("sendgrid_events.json"), auth=False)
    assert response.status_code in (400, 401)
    assert not InboundMessage.objects.exists()


# --- Mailgun ------------------------------------------------------------------------------------
def test_mailgun_permanent_failure_with_verp_envelope(
    client, make_sent, django_capture_on_commit_callbacks
):
    sent = make_sent("mg.user@example.com", token="tokMG0000001")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            client, "bounces:webhook-mailgun", _signed_mailgun(_load("mailgun_failed.json"))
        )
    assert response.status_code == 200
    bounce = Bounce.objects.get()
    assert (bounce.type, bounce.category, bounce.status, bounce.reply_code) == (
        "permanent",
        "bad_mailbox",
        "5.1.1",
        "550",
    )
    assert bounce.sent_email_id == sent.pk


def test_mailgun_temporary_failure_is_temporary(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, "bounces:webhook-mailgun", _signed_mailgun(_load("mailgun_temporary.json")))
    bounce = Bounce.objects.get()
    assert (bounce.type, bounce.category) == ("temporary", "mailbox_full")


def test_mailgun_bad_signature_is_refused(client):
    payload = _signed_mailgun(_load("mailgun_failed.json"), key="not-the-key")
    assert _post(client, "bounces:webhook-mailgun", payload).status_code == 400
    # The recorded sample's signature is real Mailgun's but old and for another key.
    assert _post(client, "bounces:webhook-mailgun", _load("mailgun_failed.json")).status_code == 400
    assert not InboundMessage.objects.exists()


def test_mailgun_replayed_signature_is_refused(client, django_capture_on_commit_callbacks):
    payload = _signed_mailgun(_load("mailgun_failed.json"))
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, "bounces:webhook-mailgun", payload).status_code == 200
    assert _post(client, "bounces:webhook-mailgun", payload).status_code == 400
    assert InboundMessage.objects.count() == 1


def test_mailgun_old_timestamp_is_refused(client):
    payload = _signed_mailgun(_load("mailgun_failed.json"), age=3600)
    assert _post(client, "bounces:webhook-mailgun", payload).status_code == 400
    assert not InboundMessage.objects.exists()


# --- Postmark -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "address", "expected"),
    [
        ("postmark_bounce.json", "pm.user@example.com", ("permanent", "bad_mailbox")),
        ("postmark_spam.json", "pm.spam@example.com", ("temporary", "content_related")),
        ("postmark_autoresponder.json", "pm.away@example.com", ("temporary", "auto_reply")),
    ],
)
def test_postmark_types_map_to_categories(
    client, fixture, address, expected, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, "bounces:webhook-postmark", _load(fixture)).status_code == 200
    bounce = Bounce.objects.get(recipient=address)
    assert (bounce.type, bounce.category) == expected


def test_postmark_metadata_token_marks_the_sent_email(
    client, make_sent, django_capture_on_commit_callbacks
):
    sent = make_sent("pm.user@example.com", token="tokPM0000001")
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, "bounces:webhook-postmark", _load("postmark_bounce.json"))
    sent.refresh_from_db()
    assert sent.status == SentEmail.Status.BOUNCED


def test_postmark_forged_post_is_refused_even_with_csrf_checks(client):
    strict = Client(enforce_csrf_checks=True)
    response = _post(
        strict, "bounces:webhook-postmark", _load("postmark_bounce.json"), secret="x:y"
    )
    assert response.status_code == 401
    assert not InboundMessage.objects.exists()
