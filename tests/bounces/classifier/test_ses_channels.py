"""One SES table, one verdict: the same SES event read by e-mail and by webhook agrees."""

from __future__ import annotations

import json

import pytest

from bounces.classifier import analyse
from bounces.classifier.ses_mail import SES_BOUNCE
from bounces.ingestion.esp_events import evidence_from_event


def _event(bounce_type: str, subtype: str, status: str | None, diagnostic: str | None) -> dict:
    recipient = {"emailAddress": "jane@example.com", "action": "failed"}
    if status:
        recipient["status"] = status
    if diagnostic:
        recipient["diagnosticCode"] = diagnostic
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": subtype,
            "bouncedRecipients": [recipient],
            "timestamp": "2024-03-05T10:41:02.669Z",
            "feedbackId": "0100017a1f5e8c3b-000000",
        },
        "mail": {
            "timestamp": "2024-03-05T10:40:59.000Z",
            "source": "bounces+tok123@bounces.example.net",
            "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/sender@example.net",
            "messageId": "0100017a1f5e6a2f-000000",
            "destination": ["jane@example.com"],
        },
    }


def _by_mail(event: dict, *, wrap: bool = False) -> tuple[str | None, str | None, str | None]:
    body = json.dumps(event)
    if wrap:  # a mail program's hard wrap at 76 columns
        body = "\n".join(body[i : i + 76] for i in range(0, len(body), 76))
    raw = (
        "From: no-reply@sns.amazonaws.com\n"
        "To: bounces@example.net\n"
        "Subject: AWS Notification Message\n"
        "Content-Type: text/plain; charset=UTF-8\n\n" + body + "\n"
    ).encode()
    verdicts = analyse(raw).verdicts
    assert len(verdicts) == 1
    v = verdicts[0]
    return v.recipient, v.type, v.category


def _by_webhook(event: dict) -> tuple[str | None, str | None, str | None]:
    payload = {
        "esp": "amazon_ses",
        "event_type": "bounced",
        "recipient": "jane@example.com",
        "esp_event": event,
        "timestamp": "2024-03-05T10:41:02Z",
    }
    evidence = evidence_from_event(payload)
    assert len(evidence.findings) == 1
    f = evidence.findings[0]
    return f.recipient, f.type, f.category


CASES = [(*pair, None, None) for pair in SES_BOUNCE] + [
    ("Permanent", "General", "5.1.1", "smtp; 550 5.1.1 user unknown"),
    ("Permanent", "General", "5.0.0", "smtp; 552 5.2.2 Mailbox full"),
    ("Transient", "General", "4.4.7", "smtp; 421 4.4.7 delivery time expired"),
    ("Permanent", "NoEmail", "5.0.0", "smtp; 550 5.7.1 spam detected"),
]


@pytest.mark.parametrize(("bounce_type", "subtype", "status", "diagnostic"), CASES)
def test_same_ses_event_gives_same_verdict_by_mail_and_webhook(
    bounce_type, subtype, status, diagnostic
):
    event = _event(bounce_type, subtype, status, diagnostic)
    by_mail = _by_mail(event)
    assert by_mail == _by_webhook(event)
    assert by_mail[0] == "jane@example.com"


@pytest.mark.parametrize("subtype", ["NoEmail", "Suppressed"])
def test_ses_no_email_and_suppressed_are_bad_mailbox(subtype):
    event = _event("Permanent", subtype, None, None)
    assert _by_mail(event) == ("jane@example.com", "permanent", "bad_mailbox")


def test_inner_status_beats_ses_summary_status():
    event = _event("Permanent", "General", "5.0.0", "smtp; 552 5.2.2 Mailbox full")
    assert _by_mail(event) == ("jane@example.com", "temporary", "mailbox_full")


def test_line_wrapped_ses_json_is_read_and_source_is_not_a_recipient():
    event = _event("Permanent", "General", "5.1.1", "smtp; 550 5.1.1 user unknown")
    assert _by_mail(event, wrap=True) == ("jane@example.com", "permanent", "bad_mailbox")
