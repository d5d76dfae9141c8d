"""Amazon SES notifications delivered by e-mail (SNS e-mail subscriptions), as documented by
AWS: a JSON object with ``notificationType`` (or ``eventType``) Bounce / Complaint / Delivery."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(slots=True)
class EspRecipient:
    """One recipient named by an ESP notification."""

    address: str
    kind: str  # "bounce" | "complaint" | "delivery"
    status: str | None
    diagnostic: str | None
    action: str | None
    transient: bool


def _load(text: str) -> dict | None:
    start = text.find("{")
    end = text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and isinstance(data.get("Message"), str):
        # An SNS envelope around the SES notification.
        try:
            inner = json.loads(data["Message"])
        except (ValueError, RecursionError):
            return None
        data = inner if isinstance(inner, dict) else None
    return data if isinstance(data, dict) else None


def ses_recipients(text: str) -> list[EspRecipient] | None:
    """Return the recipients of an SES notification in ``text``, or None when it is not one."""
    if '"notificationType"' not in text and '"eventType"' not in text:
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
                        r.get("diagnosticCode")
                        or f"{bounce.get('bounceType', '')} {bounce.get('bounceSubType', '')}",
                        r.get("action") or "failed",
                        transient,
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
