"""Result types of the bounce classifier (plain dataclasses, no Django)."""

from __future__ import annotations

from dataclasses import dataclass

KIND_DSN = "dsn"
KIND_NON_STANDARD = "non_standard"
KIND_AUTO_REPLY = "auto_reply"
KIND_COMPLAINT = "complaint"
KIND_SUCCESS = "success"
KIND_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One recipient's outcome as read from one message.

    ``recipient`` is normalised: trimmed, angle brackets and quotes removed, the domain
    lower-cased and the local part kept as written (mailbox local parts may be case-sensitive).
    ``type`` is None when the message blocks nothing (a success DSN); ``category`` is then None.
    """

    recipient: str | None
    status: str | None
    reply_code: str | None
    diagnostic: str | None
    action: str | None
    type: str | None
    category: str | None
    explanation: str


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the classifier learned from one raw message."""

    parsed: bool
    reason: str
    kind: str
    verdicts: tuple[Verdict, ...]
    original_message_id: str | None
    original_return_path: str | None
    subject: str | None
    sender: str | None
