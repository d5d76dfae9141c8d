"""The JSON shapes ESPs send and we store, as far as our code reads them.

Every field is optional (``total=False``): the bodies come from outside, so the code reads them
with ``.get`` and checks types where it matters. Only the fields we read are listed; the ESPs send
more. Plain typing, no Django: the classifier reads SES notifications from bounce mail too.
"""

from __future__ import annotations

from typing import Any, TypedDict

# --- Amazon SNS: the envelope SNS posts to the SES webhook (and mails to an e-mail subscription)


class SnsMessage(TypedDict, total=False):
    Type: str  # Notification | SubscriptionConfirmation | UnsubscribeConfirmation
    Message: str  # the SES notification, as escaped JSON text
    MessageId: str
    Subject: str
    Timestamp: str
    TopicArn: str
    Token: str
    SubscribeURL: str
    SignatureVersion: str
    Signature: str
    SigningCertURL: str
    SigningCertUrl: str  # the spelling some relays use


# --- Amazon SES: the notification inside SNS's Message (notificationType) or event (eventType)


class SesHeader(TypedDict, total=False):
    name: str
    value: str


class SesCommonHeaders(TypedDict, total=False):
    messageId: str


class SesMail(TypedDict, total=False):
    source: str
    commonHeaders: SesCommonHeaders
    headers: list[SesHeader]


class SesRecipient(TypedDict, total=False):
    """One entry of bouncedRecipients, delayedRecipients or complainedRecipients."""

    emailAddress: str
    action: str
    status: str
    diagnosticCode: str


class SesBounce(TypedDict, total=False):
    bounceType: str  # Permanent | Transient | Undetermined
    bounceSubType: str
    bouncedRecipients: list[SesRecipient]


class SesDeliveryDelay(TypedDict, total=False):
    delayType: str
    delayedRecipients: list[SesRecipient]


class SesComplaint(TypedDict, total=False):
    complaintFeedbackType: str
    complainedRecipients: list[SesRecipient]


class SesDelivery(TypedDict, total=False):
    recipients: list[str]
    smtpResponse: str


class SesNotification(TypedDict, total=False):
    notificationType: str  # SNS notifications: Bounce | Complaint | Delivery
    eventType: str  # event publishing: also DeliveryDelay, Reject, ...
    mail: SesMail
    bounce: SesBounce
    deliveryDelay: SesDeliveryDelay
    complaint: SesComplaint
    delivery: SesDelivery


# --- SendGrid's Event Webhook: a JSON array of these

SendGridEvent = TypedDict(
    "SendGridEvent",
    {
        "event": str,  # bounce | blocked | deferred | dropped | spamreport | delivered | ...
        "email": str,
        "type": str,  # a bounce's kind: bounce | blocked
        "status": str,
        "reason": str,
        "response": str,
        "attempt": str,
        "smtp-id": str,
        "sg_event_id": str,
        "sg_message_id": str,
    },
    total=False,
)


# --- Mailgun's webhooks: {"signature": ..., "event-data": MailgunEventData}

MailgunDeliveryStatus = TypedDict(
    "MailgunDeliveryStatus",
    {"code": int, "enhanced-code": str, "message": str, "description": str},
    total=False,
)
MailgunMessageHeaders = TypedDict("MailgunMessageHeaders", {"message-id": str}, total=False)


class MailgunMessage(TypedDict, total=False):
    headers: MailgunMessageHeaders


class MailgunEnvelope(TypedDict, total=False):
    sender: str


class MailgunReject(TypedDict, total=False):
    reason: str


MailgunEventData = TypedDict(
    "MailgunEventData",
    {
        "event": str,  # failed | rejected | complained | delivered | ...
        "recipient": str,
        "severity": str,  # permanent | temporary
        "reason": str,
        "delivery-status": MailgunDeliveryStatus,
        "message": MailgunMessage,
        "envelope": MailgunEnvelope,
        "reject": MailgunReject,
    },
    total=False,
)


class MailgunSignature(TypedDict, total=False):
    token: str
    timestamp: str
    signature: str


MailgunWebhook = TypedDict(
    "MailgunWebhook",
    {"signature": MailgunSignature, "event-data": MailgunEventData},
    total=False,
)


# --- Postmark's bounce, spam complaint and delivery webhooks


class PostmarkEvent(TypedDict, total=False):
    RecordType: str  # Bounce | SpamComplaint | Delivery | ...
    Type: str  # HardBounce | SoftBounce | ...
    TypeCode: int
    Email: str
    Recipient: str
    From: str
    Details: str
    Description: str


# --- What a webhook stores per anymail tracking event (InboundMessage.payload_json)


class StoredEvent(TypedDict, total=False):
    esp: str  # our slug: amazon_ses | sendgrid | mailgun | postmark
    event_type: str  # anymail's normalised type: bounced | deferred | complained | ...
    event_id: str | None
    recipient: str | None
    message_id: str | None
    timestamp: str | None  # ISO 8601
    description: str | None
    mta_response: str | None
    reject_reason: str | None
    metadata: dict[str, Any]
    # The ESP's own event as JSON: a SesNotification, SendGridEvent, MailgunWebhook or
    # PostmarkEvent according to ``esp``; each mapper in esp_events reads its own.
    esp_event: dict[str, Any]
