"""Find the sent email a bounce is about: VERP token, else original Message-ID, else recipient
and time.

Set-based: one query per kind of evidence for a whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from ..models import SentEmail

# A bounce matched by recipient alone must follow a send to that address within this window.
RECIPIENT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class SentRef:
    id: int
    to_address: str
    from_address: str
    mailing_id: int | None
    sent_at: datetime


@dataclass(frozen=True)
class Query:
    """What one bounce offers for correlation."""

    token: str | None
    message_id: str
    recipient: str
    at: datetime


_FIELDS = ("id", "to_address", "from_address", "mailing_id", "sent_at", "verp_token", "message_id")


def _ref(row: dict) -> SentRef:
    return SentRef(
        row["id"], row["to_address"], row["from_address"], row["mailing_id"], row["sent_at"]
    )


def sent_emails_for(queries: list[Query]) -> list[SentRef | None]:
    """Return the matching sent email (or None) for each query, in order."""
    tokens = {q.token for q in queries if q.token}
    by_token: dict[str, SentRef] = {}
    if tokens:
        for row in SentEmail.objects.filter(verp_token__in=tokens).values(*_FIELDS):
            by_token[row["verp_token"]] = _ref(row)
    ids = {q.message_id for q in queries if q.message_id and not by_token.get(q.token or "")}
    by_message_id: dict[str, SentRef] = {}
    if ids:
        # Stored with or without angle brackets, depending on the sender: look for both.
        forms = ids | {f"<{i}>" for i in ids}
        for row in SentEmail.objects.filter(message_id__in=forms).values(*_FIELDS):
            by_message_id[row["message_id"].strip("<>")] = _ref(row)
    pending = [
        q
        for q in queries
        if q.recipient and not by_token.get(q.token or "") and not by_message_id.get(q.message_id)
    ]
    by_recipient: dict[str, list[SentRef]] = {}
    if pending:
        earliest = min(q.at for q in pending) - RECIPIENT_WINDOW
        latest = max(q.at for q in pending)
        addresses = {q.recipient for q in pending} | {q.recipient.lower() for q in pending}
        rows = (
            SentEmail.objects.filter(
                Q(to_address__in=addresses), sent_at__gte=earliest, sent_at__lte=latest
            )
            .order_by("-sent_at")
            .values(*_FIELDS)
        )
        for row in rows:
            by_recipient.setdefault(row["to_address"].lower(), []).append(_ref(row))
    found: list[SentRef | None] = []
    for q in queries:
        ref = by_token.get(q.token or "") or by_message_id.get(q.message_id)
        if ref is None and q.recipient:
            for candidate in by_recipient.get(q.recipient.lower(), []):
                if q.at - RECIPIENT_WINDOW <= candidate.sent_at <= q.at:
                    ref = candidate  # the most recent send before the bounce
                    break
        found.append(ref)
    return found
