#!/usr/bin/env python3
"""Write ESP notification samples as messages, in the formats the ESPs document.

    python3 tests/bounces/classifier/corpus2/make_esp_samples.py [--out DIR]

Amazon SES sends its bounce, complaint, delivery and delivery-delay notifications by e-mail
through an SNS subscription ("email": the notification JSON as the body; "email-json": the
SNS envelope with the notification as its ``Message`` string).  SendGrid (Event Webhook),
Mailgun (webhooks, ``event-data``) and Postmark (bounce, spam complaint and delivery webhooks)
post JSON; a relay or a colleague may forward such a payload by mail, and the classifier reads
it there too.  Field names and values follow each ESP's documentation of its payloads (SES
"Contents of notifications", SendGrid "Event Webhook reference", Mailgun "Webhooks / event
structure", Postmark "Bounce webhook" and bounce types); addresses, ids and texts are ours.
Every sample's sender identity (SES ``source``/``sourceArn``, Mailgun ``envelope.sender``) is a
``bounces+`` return path or our domain, which must never be reported as a failed recipient.
One SES sample is hard-wrapped at 76 columns, as some mail programs do.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = "Sales <bounces+7f3a9c@crm.example.net>"
ARN = "arn:aws:ses:eu-west-1:123456789012:identity/sales@crm.example.net"


def _mail(destination: list[str]) -> dict:
    return {
        "timestamp": "2024-05-02T09:14:03.000Z",
        "messageId": "0102018f3c6a1e2b-6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d-000000",
        "source": SOURCE,
        "sourceArn": ARN,
        "sourceIp": "203.0.113.15",
        "sendingAccountId": "123456789012",
        "destination": destination,
        "headersTruncated": False,
        "commonHeaders": {
            "from": ["Sales <sales@crm.example.net>"],
            "to": destination,
            "messageId": "<crm.20240502.0001@crm.example.net>",
            "subject": "Your May newsletter",
        },
    }


def ses_bounce(bounce_type: str, subtype: str, recipients: list[dict]) -> dict:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": subtype,
            "bouncedRecipients": recipients,
            "timestamp": "2024-05-02T09:14:05.000Z",
            "feedbackId": "0102018f3c6a2a4e-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f-000000",
            "reportingMTA": "dsn; a7-12.smtp-out.eu-west-1.amazonses.com",
            "remoteMtaIp": "198.51.100.25",
        },
        "mail": _mail([r["emailAddress"] for r in recipients]),
    }


def ses_message(notification: dict, *, envelope: bool, wrap: bool = False) -> str:
    body = json.dumps(notification, indent=None)
    if envelope:  # "email-json" subscription: the SNS envelope
        body = json.dumps(
            {
                "Type": "Notification",
                "MessageId": "5d4c3b2a-1f0e-5d9c-8b7a-6f5e4d3c2b1a",
                "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-notifications",
                "Message": body,
                "Timestamp": "2024-05-02T09:14:06.123Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLEsignatureEXAMPLEsignatureEXAMPLEsignature==",
                "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/"
                "SimpleNotificationService-0000000000000000000000.pem",
                "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&"
                "SubscriptionArn=arn:aws:sns:eu-west-1:123456789012:ses-notifications:0b1c2d3e",
            },
            indent=2,
        )
    if wrap:
        body = "\n".join(body[i : i + 76] for i in range(0, len(body), 76))
    return (
        "From: AWS Notifications <no-reply@sns.amazonaws.com>\n"
        "To: bounces@crm.example.net\n"
        "Subject: AWS Notification Message\n"
        "Date: Thu, 02 May 2024 09:14:06 +0000\n"
        "Message-ID: <0100018f3c6a3b5c-sns@email.amazonses.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n"
        "Content-Transfer-Encoding: 7bit\n\n" + body + "\n"
    )


def forwarded(esp: str, payload: object) -> str:
    """A webhook payload forwarded by mail (pretty-printed JSON in a plain text body)."""
    return (
        f"From: {esp} webhook relay <webhooks@crm.example.net>\n"
        "To: bounces@crm.example.net\n"
        f"Subject: {esp} event notification\n"
        "Date: Thu, 02 May 2024 09:20:00 +0000\n"
        f"Message-ID: <{esp.lower()}.relay.20240502@crm.example.net>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n\n" + json.dumps(payload, indent=2) + "\n"
    )


def samples() -> dict[str, str]:
    out: dict[str, str] = {}
    out["esp-ses-bounce-permanent-general.eml"] = ses_message(
        ses_bounce(
            "Permanent",
            "General",
            [
                {
                    "emailAddress": "jane.doe@example.com",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
        ),
        envelope=True,
    )
    out["esp-ses-bounce-noemail.eml"] = ses_message(
        ses_bounce("Permanent", "NoEmail", [{"emailAddress": "no.one@example.org"}]),
        envelope=False,
    )
    out["esp-ses-bounce-suppressed.eml"] = ses_message(
        ses_bounce(
            "Permanent",
            "Suppressed",
            [
                {
                    "emailAddress": "old.contact@example.net",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "Amazon SES has suppressed sending to this address because "
                    "it has a recent history of bouncing as an invalid address.",
                }
            ],
        ),
        envelope=True,
    )
    out["esp-ses-bounce-account-suppression.eml"] = ses_message(
        ses_bounce(
            "Permanent",
            "OnAccountSuppressionList",
            [{"emailAddress": "listed@example.com", "action": "failed", "status": "5.0.0"}],
        ),
        envelope=False,
    )
    out["esp-ses-bounce-transient-mailboxfull.eml"] = ses_message(
        ses_bounce(
            "Transient",
            "MailboxFull",
            [
                {
                    "emailAddress": "busy.person@example.com",
                    "action": "failed",
                    "status": "4.2.2",
                    "diagnosticCode": "smtp; 452 4.2.2 The email account that you tried to reach "
                    "is over quota.",
                }
            ],
        ),
        envelope=True,
    )
    out["esp-ses-bounce-transient-general-expired.eml"] = ses_message(
        ses_bounce(
            "Transient",
            "General",
            [
                {
                    "emailAddress": "slow.server@example.org",
                    "action": "failed",
                    "status": "4.4.7",
                    "diagnosticCode": "smtp; 421 4.4.7 Delivery time expired",
                }
            ],
        ),
        envelope=False,
    )
    # A permanent bounce whose second recipient's server said "mailbox full": the inner code
    # beats SES's summary.  Hard-wrapped by a mail program.
    out["esp-ses-bounce-two-wrapped.eml"] = ses_message(
        ses_bounce(
            "Permanent",
            "General",
            [
                {
                    "emailAddress": "left.company@example.com",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 <left.company@example.com>: Recipient "
                    "address rejected: User unknown in virtual mailbox table",
                },
                {
                    "emailAddress": "full.box@example.com",
                    "action": "failed",
                    "status": "5.0.0",
                    "diagnosticCode": "smtp; 552 5.2.2 <full.box@example.com>: Mailbox full",
                },
            ],
        ),
        envelope=False,
        wrap=True,
    )
    out["esp-ses-complaint.eml"] = ses_message(
        {
            "notificationType": "Complaint",
            "complaint": {
                "userAgent": "ExampleCorp Feedback Loop (V0.01)",
                "complainedRecipients": [{"emailAddress": "annoyed@example.com"}],
                "complaintFeedbackType": "abuse",
                "arrivalDate": "2024-05-02T09:30:00.000Z",
                "timestamp": "2024-05-02T09:31:00.000Z",
                "feedbackId": "0102018f3c7a1b2c-8d9e0f1a-2b3c-4d5e-6f7a-8b9c0d1e2f3a-000000",
            },
            "mail": _mail(["annoyed@example.com"]),
        },
        envelope=True,
    )
    out["esp-ses-delivery.eml"] = ses_message(
        {
            "notificationType": "Delivery",
            "delivery": {
                "timestamp": "2024-05-02T09:14:04.000Z",
                "processingTimeMillis": 546,
                "recipients": ["happy.reader@example.com"],
                "smtpResponse": "250 ok:  Message 64111812 accepted",
                "reportingMTA": "a7-12.smtp-out.eu-west-1.amazonses.com",
                "remoteMtaIp": "198.51.100.33",
            },
            "mail": _mail(["happy.reader@example.com"]),
        },
        envelope=False,
    )
    out["esp-ses-delivery-delay.eml"] = ses_message(
        {
            "eventType": "DeliveryDelay",
            "mail": _mail(["waiting@example.org"]),
            "deliveryDelay": {
                "timestamp": "2024-05-02T10:14:04.000Z",
                "delayType": "TransientCommunicationFailure",
                "expirationTime": "2024-05-02T23:14:04.000Z",
                "delayedRecipients": [
                    {
                        "emailAddress": "waiting@example.org",
                        "status": "4.4.1",
                        "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to remote host",
                    }
                ],
            },
        },
        envelope=True,
    )
    sg = {
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "timestamp": 1714641243,
        "category": ["newsletter"],
    }
    out["esp-sendgrid-events.eml"] = forwarded(
        "SendGrid",
        [
            {
                **sg,
                "email": "gone.away@example.com",
                "event": "bounce",
                "type": "bounce",
                "sg_event_id": "sg-bounce-1",
                "status": "5.1.1",
                "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
            },
            {
                **sg,
                "email": "filtered@example.net",
                "event": "bounce",
                "type": "blocked",
                "sg_event_id": "sg-blocked-1",
                "status": "5.7.1",
                "reason": "550 5.7.1 Service unavailable; client host [203.0.113.15] blocked "
                "using a block list",
            },
            {
                **sg,
                "email": "later@example.org",
                "event": "deferred",
                "attempt": "5",
                "sg_event_id": "sg-deferred-1",
                "response": "421 4.7.0 Try again later, closing connection.",
            },
            {
                **sg,
                "email": "complainer@example.com",
                "event": "spamreport",
                "sg_event_id": "sg-spam-1",
            },
            {
                **sg,
                "email": "reader@example.com",
                "event": "delivered",
                "sg_event_id": "sg-delivered-1",
                "response": "250 OK",
            },
        ],
    )
    mg_common = {
        "timestamp": 1714641300.12,
        "envelope": {
            "sender": "bounces+7f3a9c@crm.example.net",
            "transport": "smtp",
            "targets": "",
        },
        "message": {
            "headers": {
                "from": "Sales <sales@crm.example.net>",
                "message-id": "20240502091500.1.ABC@crm.example.net",
                "subject": "Your May newsletter",
            }
        },
        "tags": ["newsletter"],
    }
    signature = {
        "timestamp": "1714641301",
        "token": "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f",
        "signature": "d2271d12299f6592d9d44cd9d250f0704e4674c30d79d07c47a66f95ce71cf55",
    }

    def mg(event: dict) -> dict:
        headers = {**mg_common["message"]["headers"], "to": event["recipient"]}
        return {
            "signature": signature,
            "event-data": {**mg_common, "message": {"headers": headers}, **event},
        }

    out["esp-mailgun-failed-permanent.eml"] = forwarded(
        "Mailgun",
        mg(
            {
                "event": "failed",
                "id": "G9Bn5sl1TC6Ibb4TMgOSIQ",
                "severity": "permanent",
                "reason": "bounce",
                "recipient": "nobody@example.com",
                "recipient-domain": "example.com",
                "log-level": "error",
                "delivery-status": {
                    "attempt-no": 1,
                    "code": 550,
                    "session-seconds": 1.2,
                    "message": "5.1.1 The email account that you tried to reach does not "
                    "exist. Please try double-checking the recipient's email address",
                    "description": "",
                },
            }
        ),
    )
    out["esp-mailgun-failed-temporary.eml"] = forwarded(
        "Mailgun",
        mg(
            {
                "event": "failed",
                "id": "Fs7-5t81S2ewsQ3sJ7mB3Q",
                "severity": "temporary",
                "reason": "generic",
                "recipient": "overfull@example.org",
                "recipient-domain": "example.org",
                "log-level": "warn",
                "delivery-status": {
                    "attempt-no": 3,
                    "code": 452,
                    "session-seconds": 0.8,
                    "message": "4.2.2 The email account that you tried to reach is over "
                    "quota. Please direct the recipient to ...",
                    "description": "",
                    "retry-seconds": 600,
                },
            }
        ),
    )
    out["esp-mailgun-complained.eml"] = forwarded(
        "Mailgun",
        mg(
            {
                "event": "complained",
                "id": "-Agny091SquKnsrW2NEKUA",
                "log-level": "warn",
                "recipient": "spamclicker@example.com",
            }
        ),
    )
    out["esp-mailgun-delivered.eml"] = forwarded(
        "Mailgun",
        mg(
            {
                "event": "delivered",
                "id": "CPgfbmQMTCKtHW6uIWtuVe",
                "log-level": "info",
                "recipient": "glad@example.com",
                "recipient-domain": "example.com",
                "delivery-status": {
                    "attempt-no": 1,
                    "code": 250,
                    "message": "OK",
                    "description": "",
                    "session-seconds": 0.4,
                },
            }
        ),
    )
    pm = {
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ServerID": 23,
        "MessageStream": "outbound",
        "Tag": "newsletter",
        "From": "sales@crm.example.net",
        "BouncedAt": "2024-05-02T09:15:00Z",
        "DumpAvailable": True,
        "CanActivate": True,
        "Subject": "Your May newsletter",
        "Content": "Return-Path: <>\n...",
    }
    out["esp-postmark-hardbounce.eml"] = forwarded(
        "Postmark",
        {
            **pm,
            "RecordType": "Bounce",
            "ID": 4323372036,
            "Type": "HardBounce",
            "TypeCode": 1,
            "Name": "Hard bounce",
            "Description": "The server was unable to deliver your message "
            "(ex: unknown user, mailbox not found).",
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
            "Email": "missing@example.com",
            "Inactive": True,
        },
    )
    out["esp-postmark-softbounce.eml"] = forwarded(
        "Postmark",
        {
            **pm,
            "RecordType": "Bounce",
            "ID": 4323372037,
            "Type": "SoftBounce",
            "TypeCode": 4096,
            "Name": "Soft bounce/Undeliverable",
            "Description": "Unable to temporarily deliver this message.",
            "Details": "smtp;452 4.2.2 The email account that you tried to reach is over quota.",
            "Email": "quota.hit@example.com",
            "Inactive": False,
        },
    )
    out["esp-postmark-autoresponder.eml"] = forwarded(
        "Postmark",
        {
            **pm,
            "RecordType": "Bounce",
            "ID": 4323372038,
            "Type": "AutoResponder",
            "TypeCode": 32,
            "Name": "Auto responder",
            "Description": 'Automatic email responder (ex: "Out of Office" or "On Vacation").',
            "Details": "Out of office until May 20.",
            "Email": "holiday@example.com",
            "Inactive": False,
        },
    )
    out["esp-postmark-spamcomplaint.eml"] = forwarded(
        "Postmark",
        {
            **pm,
            "RecordType": "SpamComplaint",
            "ID": 4323372039,
            "Type": "SpamComplaint",
            "TypeCode": 512,
            "Name": "Spam complaint",
            "Description": "The subscriber explicitly marked this message as spam.",
            "Details": "Test spam complaint details",
            "Email": "marked.spam@example.com",
            "Inactive": True,
        },
    )
    out["esp-postmark-delivery.eml"] = forwarded(
        "Postmark",
        {
            "RecordType": "Delivery",
            "ServerID": 23,
            "MessageStream": "outbound",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79484",
            "Recipient": "fine@example.com",
            "Tag": "newsletter",
            "DeliveredAt": "2024-05-02T09:15:01Z",
            "Details": "Test delivery webhook details",
            "Metadata": {},
        },
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "corpus", help="where samples go")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in samples().items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
