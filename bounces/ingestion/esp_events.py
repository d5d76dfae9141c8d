"""ESP events (via django-anymail) into findings: the ESP's own reason fields decide the category.

Where an event carries an SMTP status or diagnostic text, the classifier's rule tables
(`bounces.classifier.rules.decide`) weigh it exactly as for a DSN; the ESP's bounce type and
subtype fill in (or override, where they are more specific than any text).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

from django.utils.dateparse import parse_datetime

from bounces.classifier.dsn import parse_reply_code, parse_status
from bounces.classifier.rules import decide
from bounces.classifier.ses_mail import SES_BOUNCE as CLASSIFIER_SES_BOUNCE
from bounces.classifier.ses_mail import ses_bounce_hint
from core.categories import PERMANENT, TEMPORARY, TEMPORARY_CATEGORIES

from ..verp import verp_find
from .evidence import Evidence, Finding, clean_text
from .payloads import (
    MailgunEventData,
    MailgunWebhook,
    PostmarkEvent,
    SendGridEvent,
    SesNotification,
    SesRecipient,
    StoredEvent,
)

T, P = TEMPORARY, PERMANENT

# anymail's esp_name → our short name (Bounce.esp, InboundMessage.source).
ESP_SLUGS = {
    "Amazon SES": "amazon_ses",
    "SendGrid": "sendgrid",
    "Mailgun": "mailgun",
    "Postmark": "postmark",
}

# anymail's normalised event types that are about a failed or returned delivery.
BOUNCE_EVENTS = frozenset({"bounced", "deferred", "rejected", "complained", "autoresponded"})


def esp_slug(esp_name: str) -> str:
    return ESP_SLUGS.get(esp_name, esp_name.lower().replace(" ", "_"))


def is_bounce_event(event_type: str, esp_event: object) -> bool:
    """Return whether an anymail tracking event should become a bounce."""
    if event_type in BOUNCE_EVENTS:
        return True
    # anymail has no type for SES's DeliveryDelay (reported as "unknown"): a deferral.
    return isinstance(esp_event, dict) and esp_event.get("eventType") == "DeliveryDelay"


# --- per-ESP hints: (type, category) the ESP's own fields imply, and whether they are decisive --
# One SES bounce table for the e-mail and webhook paths: the classifier's.
SES_BOUNCE = CLASSIFIER_SES_BOUNCE
SES_DELAY = {
    "MailboxFull": "mailbox_full",
    "SpamDetected": "content_related",
    "IPFailure": "authentication_failure",
    "TransientCommunicationFailure": "network_error",
    "RecipientServerError": "network_error",
    "BYOIPHostNameLookupUnavailable": "network_error",
    "InternalFailure": "other",
    "General": "other",
    "Undetermined": "other",
    "SendingDeferral": "other",
}
SENDGRID_DROPPED = {
    "bounced address": (P, "bad_mailbox"),
    "invalid": (P, "bad_mailbox"),
    "invalid smtpapi header": None,
    "spam reporting address": (T, "content_related"),
    "spam content": (T, "content_related"),
    "unsubscribed address": None,
}
POSTMARK_TYPES = {
    # Type: (type, category, decisive); None: blocks nothing.
    "HardBounce": (P, "bad_mailbox", False),
    "SoftBounce": (T, "other", False),
    "Transient": (T, "network_error", False),
    "DnsError": (T, "domain_error", True),
    "AutoResponder": (T, "auto_reply", True),
    "AddressChange": (P, "bad_mailbox", True),
    "SpamNotification": (T, "content_related", True),
    "SpamComplaint": (T, "content_related", True),
    "VirusNotification": (T, "content_related", True),
    "BadEmailAddress": (P, "bad_mailbox", True),
    "Blocked": (T, "authentication_failure", False),
    "DMARCPolicy": (T, "authentication_failure", True),
    "ManuallyDeactivated": (P, "other", True),
    "ChallengeVerification": (T, "auto_reply", True),
    "OpenRelayTest": None,
    "Unconfirmed": None,
    "SMTPApiError": (T, "other", False),
    "Unknown": (T, "other", False),
}


def _as_temporary(type_: str, category: str, fallback: str) -> tuple[str, str]:
    """A deferral is temporary whatever its text says: keep the category when it fits."""
    if type_ == T:
        return type_, category
    return T, category if category in TEMPORARY_CATEGORIES else fallback


def _decide(
    *,
    status: str | None,
    reply_code: str | None,
    diagnostic: str | None,
    hint: tuple[str, str, bool] | None,
    deferred: bool = False,
) -> tuple[str, str, str]:
    """Return (type, category, explanation) from the text evidence and the ESP's hint."""
    status = status or parse_status(diagnostic)
    reply_code = reply_code or parse_reply_code(diagnostic)
    if hint is not None and hint[2]:
        type_, category, why = hint[0], hint[1], ""
    elif status or reply_code or diagnostic:
        decision = decide(status, reply_code, diagnostic, "delayed" if deferred else "failed")
        type_, category, why = decision.type, decision.category, decision.explanation
        if hint is not None and not (status or reply_code) and category == "other":
            # Text alone that says nothing specific: the ESP's classification knows better.
            type_, category = hint[0], hint[1]
    elif hint is not None:
        type_, category, why = hint[0], hint[1], ""
    else:
        type_, category, why = (T if deferred else P), "other", ""
    if deferred:
        type_, category = _as_temporary(type_, category, "network_error")
    return type_, category, why


def _message_id(value: object) -> str:
    return str(value or "").strip().strip("<>").strip()


# A mapper's answer: (the finding or None when the event blocks nothing, the Message-ID of the
# message that bounced, its sender).
_Mapped = tuple[Finding | None, str, str]


def evidence_from_event(payload: StoredEvent) -> Evidence:
    """Return what a stored ESP event (see `bounces.webhooks.event_payload`) says."""
    esp = payload.get("esp", "")
    event = payload.get("esp_event") or {}
    event_type = payload.get("event_type", "")
    recipient = clean_text(payload.get("recipient"), 254)
    description = clean_text(payload.get("description"), 500)
    mta = clean_text(payload.get("mta_response"), 5000)
    metadata = payload.get("metadata") or {}
    timestamp = payload.get("timestamp")
    at = parse_datetime(timestamp) if timestamp else None
    dumped = json.dumps(event, default=str)
    evidence = Evidence(
        parsed=True,
        esp=esp,
        at=at if isinstance(at, datetime) else None,
        verp_token=(str(metadata.get("verp_token") or "") or None) or verp_find(dumped),
    )
    mapper = _MAPPERS.get(esp, _generic)
    finding, message_id, sender = mapper(payload, event, event_type, recipient, description, mta)
    evidence.original_message_id = clean_text(_message_id(message_id), 998)
    evidence.original_sender = clean_text(sender, 254)
    if finding is not None:
        evidence.findings.append(finding)
    return evidence


def _finding(
    recipient: str,
    event_type: str,
    *,
    status: str | None = None,
    reply_code: str | None = None,
    diagnostic: str = "",
    hint: tuple[str, str, bool] | None = None,
    label: str = "",
) -> Finding:
    deferred = event_type == "deferred"
    if event_type == "complained":
        type_, category, why = T, "content_related", ""
        kind = "complaint"
    elif event_type == "autoresponded" and hint is None:
        type_, category, why = T, "auto_reply", ""
        kind = "auto_reply"
    else:
        type_, category, why = _decide(
            status=status,
            reply_code=reply_code,
            diagnostic=diagnostic,
            hint=hint,
            deferred=deferred,
        )
        kind = "auto_reply" if category == "auto_reply" else "esp"
    status = status or parse_status(diagnostic) or ""
    reply_code = reply_code or parse_reply_code(diagnostic) or ""
    explanation = label + (f": {why}" if why else "")
    return Finding(
        recipient=recipient,
        status=clean_text(status, 16),
        reply_code=clean_text(str(reply_code), 3),
        diagnostic=clean_text(diagnostic, 5000),
        explanation=clean_text(explanation, 500),
        type=type_,
        category=category,
        kind=kind,
        final=event_type in ("bounced", "rejected") and kind == "esp",
    )


def _ses(
    payload: StoredEvent,
    event: SesNotification,
    event_type: str,
    recipient: str,
    description: str,
    mta: str,
) -> _Mapped:
    mail = event.get("mail") or {}
    headers = mail.get("commonHeaders") or {}
    message_id = headers.get("messageId") or ""
    for header in mail.get("headers") or []:
        if str(header.get("name", "")).lower() == "message-id":
            message_id = header.get("value") or ""
    ses_type = event.get("eventType") or event.get("notificationType")
    finding: Finding | None
    if ses_type == "Bounce":
        bounce = event.get("bounce") or {}
        entry = _recipient_entry(bounce.get("bouncedRecipients"), recipient)
        pair = (bounce.get("bounceType", ""), bounce.get("bounceSubType", ""))
        hint = ses_bounce_hint(*pair)
        if pair[0] == "Transient":
            event_type = "deferred"  # SES stopped retrying a soft bounce: still temporary.
        finding = _finding(
            recipient,
            event_type,
            status=entry.get("status"),
            diagnostic=str(entry.get("diagnosticCode") or mta),
            hint=hint,
            label=f"Amazon SES bounce {pair[0]}/{pair[1]}",
        )
        if pair[0] == "Permanent":
            finding = _final(finding)
    elif ses_type == "DeliveryDelay":
        delay = event.get("deliveryDelay") or {}
        entry = _recipient_entry(delay.get("delayedRecipients"), recipient)
        delay_type = delay.get("delayType", "General")
        finding = _finding(
            recipient,
            "deferred",
            status=entry.get("status"),
            diagnostic=str(entry.get("diagnosticCode") or ""),
            hint=(
                T,
                SES_DELAY.get(delay_type, "other"),
                delay_type not in ("General", "Undetermined"),
            ),
            label=f"Amazon SES delivery delay ({delay_type})",
        )
    elif ses_type == "Complaint":
        complaint = event.get("complaint") or {}
        finding = _finding(
            recipient,
            "complained",
            diagnostic=str(complaint.get("complaintFeedbackType") or ""),
            label="Amazon SES spam complaint",
        )
    elif ses_type == "Reject":
        finding = _finding(
            recipient,
            "rejected",
            diagnostic=description,
            hint=(T, "content_related", True),
            label="Amazon SES refused to send the message",
        )
        finding = _not_final(finding)
    else:
        finding = _generic(payload, event, event_type, recipient, description, mta)[0]
    return finding, message_id, mail.get("source", "")


def _recipient_entry(entries: list[SesRecipient] | None, recipient: str) -> SesRecipient:
    for entry in entries or []:
        if str(entry.get("emailAddress", "")).lower() == recipient.lower():
            return entry
    return {}


def _final(finding: Finding) -> Finding:
    return Finding(**{**finding.__dict__, "final": finding.kind == "esp"})


def _not_final(finding: Finding) -> Finding:
    return Finding(**{**finding.__dict__, "final": False})


def _sendgrid(
    payload: StoredEvent,
    event: SendGridEvent,
    event_type: str,
    recipient: str,
    description: str,
    mta: str,
) -> _Mapped:
    name = event.get("event", "")
    if name == "dropped":
        reason = str(event.get("reason") or event.get("type") or "").strip()
        mapped = SENDGRID_DROPPED.get(reason.lower(), (P, "other"))
        if mapped is None:
            return None, event.get("smtp-id", ""), ""
        finding = _finding(
            recipient,
            "rejected",
            diagnostic=reason,
            hint=(mapped[0], mapped[1], True),
            label=f"SendGrid dropped the message ({reason})",
        )
        return _not_final(finding), event.get("smtp-id", ""), ""
    if name == "bounce":
        bounce_type = str(event.get("type") or "bounce")
        hint = (T, "other", False) if bounce_type == "blocked" else (P, "other", False)
        finding = _finding(
            recipient,
            event_type,
            status=parse_status(str(event.get("status") or "")),
            diagnostic=str(event.get("reason") or mta),
            hint=hint,
            label=f"SendGrid {bounce_type}",
        )
    elif name == "deferred":
        finding = _finding(
            recipient,
            "deferred",
            diagnostic=str(event.get("response") or mta),
            hint=(T, "network_error", False),
            label=f"SendGrid deferred (attempt {event.get('attempt', '?')})",
        )
    else:
        finding = _finding(recipient, event_type, diagnostic=mta, label=f"SendGrid {name}")
    return finding, event.get("smtp-id", ""), ""


def _mailgun(
    payload: StoredEvent,
    event: MailgunWebhook,
    event_type: str,
    recipient: str,
    description: str,
    mta: str,
) -> _Mapped:
    # A legacy form post is stored flat: its fields without the "event-data" wrapper.
    data = event.get("event-data") or cast("MailgunEventData", event)
    status = data.get("delivery-status") or {}
    message = data.get("message") or {}
    message_id = (message.get("headers") or {}).get("message-id", "")
    sender = (data.get("envelope") or {}).get("sender", "")
    name = data.get("event", "")
    severity = data.get("severity", "")
    reason = data.get("reason", "")
    if name == "failed":
        if reason == "suppress-bounce":
            hint = (P, "bad_mailbox", True)
        elif reason == "suppress-complaint":
            hint = (T, "content_related", True)
        else:
            hint = (T, "other", False) if severity == "temporary" else (P, "other", False)
        code = status.get("code")
        finding = _finding(
            recipient,
            "deferred" if severity == "temporary" else "bounced",
            status=parse_status(str(status.get("enhanced-code") or "")),
            reply_code=str(code) if isinstance(code, int) and 200 <= code < 600 else None,
            diagnostic=str(status.get("message") or status.get("description") or ""),
            hint=hint,
            label=f"Mailgun {severity or 'failed'} failure ({reason or 'generic'})",
        )
    elif name == "rejected":
        why = str((data.get("reject") or {}).get("reason") or description)
        finding = _not_final(
            _finding(
                recipient,
                "rejected",
                diagnostic=why,
                hint=(T, "other", False),
                label="Mailgun refused to send the message",
            )
        )
    else:
        finding = _finding(recipient, event_type, diagnostic=mta, label=f"Mailgun {name}")
    return finding, message_id, sender


def _postmark(
    payload: StoredEvent,
    event: PostmarkEvent,
    event_type: str,
    recipient: str,
    description: str,
    mta: str,
) -> _Mapped:
    postmark_record = event.get("RecordType", "")
    bounce_type = event.get("Type", "")
    if postmark_record == "SpamComplaint" or bounce_type == "SpamComplaint":
        finding = _finding(recipient, "complained", diagnostic=str(event.get("Details") or ""))
    else:
        hint = POSTMARK_TYPES.get(bounce_type, (T, "other", False))
        if hint is None:
            return None, "", event.get("From", "")
        finding = _finding(
            recipient,
            event_type,
            diagnostic=str(event.get("Details") or event.get("Description") or ""),
            hint=hint,
            label=f"Postmark {bounce_type} (TypeCode {event.get('TypeCode', '?')})",
        )
        if bounce_type in ("HardBounce", "BadEmailAddress", "AddressChange"):
            finding = _final(finding)
    return finding, "", event.get("From", "")


def _generic(
    payload: StoredEvent,
    event: Mapping[str, object],
    event_type: str,
    recipient: str,
    description: str,
    mta: str,
) -> _Mapped:
    finding = _finding(
        recipient,
        event_type,
        diagnostic=mta or description,
        label=f"{payload.get('esp', 'ESP')} {event_type}",
    )
    return finding, payload.get("message_id") or "", ""


# Each mapper declares the shape of its ESP's event; the stored JSON gets it here, by ``esp``.
_MAPPERS: dict[str, Callable[[StoredEvent, Any, str, str, str, str], _Mapped]] = {
    "amazon_ses": _ses,
    "sendgrid": _sendgrid,
    "mailgun": _mailgun,
    "postmark": _postmark,
}
