"""What one inbound row says, before anything is written: plain data, no database access.

`evidence_from_raw` runs the classifier on a raw message; `bounces.ingestion.esp_events` builds
the same shape from an ESP event. Processing then writes bounces, blocks and sent-email states
from it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TypeVar

from email_validator import EmailNotValidError, validate_email

from bounces.classifier import analyse

from ..verp import verp_find, verp_parse

# The classifier's kinds that mean "the message reached the mailbox": a block, not a bounce.
DELIVERED_KINDS = frozenset({"auto_reply", "complaint", "success"})
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_DATE = re.compile(r"^Date:[ \t]*(.+(?:\r?\n[ \t].*)*)", re.MULTILINE | re.IGNORECASE)
# Bounces dated further back than this (or in the future) take the time they reached us.
MAX_BACKDATE = timedelta(days=30)


@dataclass(frozen=True)
class Finding:
    """One recipient's outcome, ready to be stored as one Bounce."""

    recipient: str
    status: str = ""
    reply_code: str = ""
    diagnostic: str = ""
    explanation: str = ""
    type: str = ""
    category: str = ""
    kind: str = ""
    # Whether the sent email counts as bounced (a final failure, not a deferral or auto-reply).
    final: bool = False


@dataclass
class Evidence:
    """Everything processing needs from one inbound row."""

    parsed: bool
    parse_error: str = ""
    findings: list[Finding] = field(default_factory=list)
    verp_token: str | None = None
    original_message_id: str = ""
    original_sender: str = ""
    at: datetime | None = None
    esp: str = ""


def clean_text(value: str | None, limit: int | None = None) -> str:
    """Return text safe for a PostgreSQL text column (no NUL), cut to `limit` characters."""
    if not value:
        return ""
    value = value.replace("\x00", "")
    return value[:limit] if limit else value


_UNSAFE = re.compile("[\x00\ud800-\udfff]")
_J = TypeVar("_J")  # a JSON value: its cleaned copy has the same shape
_ESCAPED_UNSAFE = re.compile(r"\\u0000|\\ud[89a-f]", re.IGNORECASE)


def sanitize_json(value: _J) -> tuple[_J, list[str]]:
    """Return (`value` without NUL bytes and lone surrogates in any string, what was found).

    PostgreSQL refuses both in text and JSON columns; one such character must not sink a batch.
    Surrogates become U+FFFD, NULs are dropped.
    """
    # Fast path (nearly every event): JSON escapes both as \u0000 / \udXXX, so one search of
    # the serialised text says whether there is anything to clean.
    if not _ESCAPED_UNSAFE.search(json.dumps(value, default=str)):
        return value, []
    found: set[str] = set()

    def clean(item):
        if isinstance(item, str):
            if _UNSAFE.search(item):
                if "\x00" in item:
                    found.add("a NUL byte")
                if re.search("[\ud800-\udfff]", item):
                    found.add("a lone surrogate")
                return re.sub("[\ud800-\udfff]", "\ufffd", item.replace("\x00", ""))
            return item
        if isinstance(item, dict):
            return {clean(k): clean(v) for k, v in item.items()}
        if isinstance(item, list):
            return [clean(v) for v in item]
        return item

    cleaned = clean(value)
    return cleaned, [f"The event's text held {what}; it was removed." for what in sorted(found)]


# A plain ASCII address (dot-atom local part, LDH domain labels): the fast path. Anything else
# (quoted local parts, international addresses) is judged by email_validator.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def recipient_problem(address: str | None) -> str:
    """Return why `address` cannot be a bounce's recipient (empty, bad syntax), or ""."""
    if not address:
        return "The event names no recipient."
    if len(address) <= 254 and _PLAIN_ADDRESS.fullmatch(address):
        return ""
    if address.isascii() and '"' not in address:
        return f"The recipient {address[:100]!r} is not a valid address."
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return f"The recipient {address[:100]!r} is not a valid address: {exc}"
    return ""


def _outer_headers(raw: bytes) -> str:
    match = _HEADER_END.search(raw, 0, 256 * 1024)
    head = raw[: match.start()] if match else raw[: 64 * 1024]
    return head.decode("latin-1")


def _date(headers: str, received_at: datetime) -> datetime:
    match = _DATE.search(headers)
    if match:
        try:
            value = parsedate_to_datetime(match.group(1).strip())
        except (TypeError, ValueError, IndexError):
            value = None
        if (
            value is not None
            and value.tzinfo is not None
            and received_at - MAX_BACKDATE <= value <= received_at
        ):
            return value
    return received_at


def evidence_from_raw(raw: bytes, *, received_at: datetime) -> Evidence:
    """Classify a raw message; never raises for bad input (the classifier does not)."""
    analysis = analyse(raw)
    headers = _outer_headers(raw)
    # The bounce is addressed to our return path (To:, Delivered-To:, X-Original-To:); the
    # original's Return-Path, when enclosed, carries the same token.
    token = (
        verp_find(headers)
        or verp_parse(analysis.original_return_path)
        or verp_find(raw[: 512 * 1024].decode("latin-1"))
    )
    evidence = Evidence(
        parsed=analysis.parsed,
        parse_error=clean_text(analysis.reason, 500),
        verp_token=token,
        original_message_id=clean_text(analysis.original_message_id, 998),
        original_sender=clean_text(analysis.original_return_path, 254),
        at=_date(headers, received_at),
    )
    if not analysis.parsed:
        return evidence
    delivered = analysis.kind in DELIVERED_KINDS
    for verdict in analysis.verdicts:
        evidence.findings.append(
            Finding(
                recipient=clean_text(verdict.recipient, 254),
                status=clean_text(verdict.status, 16),
                reply_code=clean_text(verdict.reply_code, 3),
                diagnostic=clean_text(verdict.diagnostic, 5000),
                explanation=clean_text(verdict.explanation, 500),
                type=verdict.type or "",
                category=verdict.category or "",
                kind=analysis.kind,
                final=bool(verdict.type) and not delivered and verdict.action != "delayed",
            )
        )
    return evidence
