"""Amazon SES notifications delivered by e-mail (SNS e-mail subscriptions), as documented by
AWS: a JSON object with ``notificationType`` (or ``eventType``) Bounce / Complaint / Delivery."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from core.categories import PERMANENT, TEMPORARY, TEMPORARY_CATEGORIES

from .rules import decide

if TYPE_CHECKING:  # the shapes only: the classifier imports nothing from ingestion at run time
    from bounces.ingestion.payloads import SesNotification

T, P = TEMPORARY, PERMANENT

# SES bounce (type, subtype) -> (block type, category, decisive?).  The one table for both
# channels: SES notifications arriving by e-mail (here) and by webhook
# (bounces/ingestion/esp_events.py).  Decisive rows win over any text; the others only fill in when
# the text names no reason.  NoEmail: SES found no mailbox; Suppressed: SES's global
# suppression list (the address hard-bounced recently); OnAccountSuppressionList: our own
# account's list, a decision of ours rather than a fact about the mailbox.
SES_BOUNCE: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("Permanent", "NoEmail"): (P, "bad_mailbox", True),
    ("Permanent", "Suppressed"): (P, "bad_mailbox", True),
    ("Permanent", "OnAccountSuppressionList"): (P, "other", True),
    ("Permanent", "General"): (P, "other", False),
    ("Transient", "MailboxFull"): (T, "mailbox_full", True),
    ("Transient", "MessageTooLarge"): (T, "mailbox_full", True),
    ("Transient", "ContentRejected"): (T, "content_related", True),
    ("Transient", "AttachmentRejected"): (T, "content_related", True),
    ("Transient", "General"): (T, "other", False),
    ("Undetermined", "Undetermined"): (T, "other", False),
}


def ses_bounce_hint(bounce_type: str, subtype: str) -> tuple[str, str, bool]:
    """Return SES_BOUNCE's row for (type, subtype), or the type's undecisive default."""
    row = SES_BOUNCE.get((bounce_type, subtype))
    if row is not None:
        return row
    return (T, "other", False) if bounce_type != "Permanent" else (P, "other", False)


def ses_decision(
    bounce_type: str,
    subtype: str,
    status: str | None,
    reply: str | None,
    diagnostic: str | None,
) -> tuple[str, str, str]:
    """Return (type, category, explanation) for one SES bounced recipient, exactly as the
    webhook path decides it: a decisive subtype wins; else the text's evidence, with the
    subtype filling in where the text says nothing; a Transient bounce stays temporary."""
    hint = ses_bounce_hint(bounce_type, subtype)
    label = f"Amazon SES bounce {bounce_type}/{subtype}"
    if hint[2]:
        type_, category, why = hint[0], hint[1], label
    elif status or reply or diagnostic:
        transient = bounce_type == "Transient"
        decision = decide(status, reply, diagnostic, "delayed" if transient else "failed")
        type_, category, why = decision.type, decision.category, decision.explanation
        if not (status or reply) and category == "other":
            type_, category = hint[0], hint[1]
    else:
        type_, category, why = hint[0], hint[1], label
    if bounce_type == "Transient" and type_ != T:
        type_ = T
        category = category if category in TEMPORARY_CATEGORIES else "network_error"
    return type_, category, why


@dataclass(slots=True)
class EspRecipient:
    """One recipient named by an ESP notification."""

    address: str
    kind: str  # "bounce" | "complaint" | "delivery"
    status: str | None
    diagnostic: str | None
    action: str | None
    transient: bool
    bounce_type: str = ""
    bounce_subtype: str = ""
    esp: str = "Amazon SES"


def _load(text: str) -> SesNotification | None:
    start = text.find("{")
    end = text.rfind("}")
    if start < 0 or end <= start:
        return None
    data = _loads_wrapped(text[start : end + 1])
    if data is None:
        return None
    if isinstance(data, dict) and isinstance(data.get("Message"), str):
        # An SNS envelope around the SES notification.
        try:
            inner = json.loads(data["Message"])
        except (ValueError, RecursionError):
            return None
        data = inner if isinstance(inner, dict) else None
    return cast("SesNotification", data) if isinstance(data, dict) else None


_LINE_BREAK = re.compile(r"\r?\n")


def _loads_wrapped(text: str) -> object:
    """Parse JSON that a mail program may have wrapped into lines: as it is; then with every
    line break removed (hard wraps at a fixed width split words, numbers and addresses; flowed
    text keeps its space before the break); then with breaks kept inside strings."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    if "\n" not in text:
        return None
    for candidate, strict in ((_LINE_BREAK.sub("", text), True), (text, False)):
        try:
            return json.loads(candidate, strict=strict)
        except (ValueError, RecursionError):
            continue
    return None


def ses_recipients(text: str) -> list[EspRecipient] | None:
    """Return the recipients of an SES notification in ``text``, or None when it is not one."""
    # Also inside an SNS envelope, where the notification is a string of escaped JSON.
    if "notificationType" not in text and "eventType" not in text:
        return None
    data = _load(text)
    if data is None:
        return None
    kind = str(data.get("notificationType") or data.get("eventType") or "").lower()
    out: list[EspRecipient] = []
    if kind == "bounce":
        bounce = data.get("bounce") or {}
        transient = str(bounce.get("bounceType", "")).lower() != "permanent"
        for r in bounce.get("bouncedRecipients") or []:
            if isinstance(r, dict) and r.get("emailAddress"):
                out.append(
                    EspRecipient(
                        str(r["emailAddress"]),
                        "bounce",
                        r.get("status"),
                        r.get("diagnosticCode"),
                        r.get("action") or "failed",
                        transient,
                        str(bounce.get("bounceType", "")),
                        str(bounce.get("bounceSubType", "")),
                    )
                )
    elif kind == "complaint":
        complaint = data.get("complaint") or {}
        for r in complaint.get("complainedRecipients") or []:
            if isinstance(r, dict) and r.get("emailAddress"):
                feedback = complaint.get("complaintFeedbackType") or "abuse"
                out.append(
                    EspRecipient(str(r["emailAddress"]), "complaint", None, feedback, None, True)
                )
    elif kind == "deliverydelay":
        delay = data.get("deliveryDelay") or {}
        for r in delay.get("delayedRecipients") or []:
            if isinstance(r, dict) and r.get("emailAddress"):
                out.append(
                    EspRecipient(
                        str(r["emailAddress"]),
                        "bounce",
                        r.get("status"),
                        r.get("diagnosticCode") or delay.get("delayType"),
                        "delayed",
                        True,
                        "Transient",
                        str(delay.get("delayType", "")),
                    )
                )
    elif kind == "delivery":
        delivery = data.get("delivery") or {}
        for addr in delivery.get("recipients") or []:
            out.append(
                EspRecipient(
                    str(addr), "delivery", None, delivery.get("smtpResponse"), "delivered", False
                )
            )
    else:
        return None
    return out


def _load_any(text: str) -> object:
    """Parse the JSON object or array in ``text`` (line-wrapped or not), or return None."""
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return None
    start = min(starts)
    end = text.rfind("}" if text[start] == "{" else "]")
    if end <= start:
        return None
    return _loads_wrapped(text[start : end + 1])


def _events(data: object) -> list[dict[str, Any]]:
    items = data if isinstance(data, list) else [data]
    return [item for item in items if isinstance(item, dict)]


def _sendgrid(data: object) -> list[EspRecipient]:
    """SendGrid's Event Webhook: an array of events with ``email`` and ``event``."""
    out = []
    for ev in _events(data):
        kind, addr = str(ev.get("event", "")).lower(), ev.get("email")
        if not addr:
            continue
        text = ev.get("reason") or ev.get("response") or ""
        status = ev.get("status")
        if kind in ("bounce", "blocked"):
            # SendGrid's "blocked" bounce type is a temporary refusal by the receiving server.
            transient = kind == "blocked" or str(ev.get("type", "")).lower() == "blocked"
            action = "delayed" if transient else "failed"
            out.append(
                EspRecipient(str(addr), "bounce", status, text, action, transient, esp="SendGrid")
            )
        elif kind == "deferred":
            out.append(
                EspRecipient(str(addr), "bounce", status, text, "delayed", True, esp="SendGrid")
            )
        elif kind == "spamreport":
            out.append(
                EspRecipient(str(addr), "complaint", None, "abuse", None, True, esp="SendGrid")
            )
        elif kind == "delivered":
            out.append(
                EspRecipient(str(addr), "delivery", None, text, "delivered", False, esp="SendGrid")
            )
    return out


def _mailgun(data: object) -> list[EspRecipient]:
    """Mailgun's webhooks: ``event-data`` with ``event``, ``recipient``, ``delivery-status``."""
    out = []
    for ev in _events(data):
        wrapped = ev.get("event-data")
        if isinstance(wrapped, dict):
            ev = wrapped
        kind, addr = str(ev.get("event", "")).lower(), ev.get("recipient")
        if not addr:
            continue
        ds = ev.get("delivery-status")
        if not isinstance(ds, dict):
            ds = {}
        text = " ".join(str(ds.get(k) or "") for k in ("message", "description")).strip()
        code = str(ds.get("code") or "")
        if code and not text.startswith(code):
            text = f"{code} {text}".strip()
        status = ds.get("enhanced-code")
        if kind == "failed":
            transient = str(ev.get("severity", "")).lower() == "temporary"
            action = "delayed" if transient else "failed"
            out.append(
                EspRecipient(
                    str(addr),
                    "bounce",
                    status,
                    text or ev.get("reason"),
                    action,
                    transient,
                    esp="Mailgun",
                )
            )
        elif kind == "complained":
            out.append(
                EspRecipient(str(addr), "complaint", None, "abuse", None, True, esp="Mailgun")
            )
        elif kind == "delivered":
            out.append(
                EspRecipient(str(addr), "delivery", None, text, "delivered", False, esp="Mailgun")
            )
    return out


# Postmark bounce types that describe a temporary condition, and those that are not failures.
_POSTMARK_TRANSIENT = frozenset({"SoftBounce", "Transient", "DnsError", "ChallengeVerification"})
_POSTMARK_AUTO_REPLY = frozenset({"AutoResponder", "ChallengeVerification"})


def _postmark(data: object) -> list[EspRecipient]:
    """Postmark's bounce, spam complaint and delivery webhooks (``RecordType``)."""
    out = []
    for ev in _events(data):
        kind, addr = str(ev.get("RecordType", "")), ev.get("Email") or ev.get("Recipient")
        if not addr:
            continue
        btype = str(ev.get("Type", ""))
        text = ev.get("Details") or ev.get("Description") or btype
        if kind == "SpamComplaint" or btype == "SpamComplaint":
            out.append(
                EspRecipient(str(addr), "complaint", None, "abuse", None, True, esp="Postmark")
            )
        elif kind == "Bounce" and btype in _POSTMARK_AUTO_REPLY:
            out.append(
                EspRecipient(str(addr), "auto_reply", None, text, None, True, esp="Postmark")
            )
        elif kind == "Bounce":
            transient = btype in _POSTMARK_TRANSIENT
            action = "delayed" if transient else "failed"
            out.append(
                EspRecipient(
                    str(addr),
                    "bounce",
                    None,
                    text,
                    action,
                    transient,
                    bounce_type=btype,
                    esp="Postmark",
                )
            )
        elif kind == "Delivery":
            out.append(
                EspRecipient(
                    str(addr),
                    "delivery",
                    None,
                    ev.get("Details"),
                    "delivered",
                    False,
                    esp="Postmark",
                )
            )
    return out


def esp_recipients(text: str) -> list[EspRecipient] | None:
    """Return the recipients of an ESP notification (Amazon SES, SendGrid, Mailgun, Postmark
    JSON in a message's text), or None when ``text`` holds none."""
    found = ses_recipients(text)
    if found:
        return found
    if '"sg_event_id"' in text or '"sg_message_id"' in text:
        reader = _sendgrid
    elif '"event-data"' in text or ('"event"' in text and '"delivery-status"' in text):
        reader = _mailgun
    elif '"RecordType"' in text:
        reader = _postmark
    else:
        return None
    data = _load_any(text)
    if data is None:
        return None
    return reader(data) or None
