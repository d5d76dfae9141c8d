"""Result types of the bounce classifier (plain dataclasses, no Django)."""

from __future__ import annotations

from dataclasses import dataclass

TEMPORARY = "temporary"
PERMANENT = "permanent"

# Each category slug belongs to one block type; "other" exists under both and is resolved
# from the status class.
TEMPORARY_CATEGORIES = (
    "domain_error",
    "auto_reply",
    "authentication_failure",
    "mailbox_full",
    "network_error",
    "content_related",
    "other",
)
PERMANENT_CATEGORIES = (
    "sender_rejected",
    "bad_domain",
    "bad_mailbox",
    "policy_related",
    "protocol_error",
    "relay_denied",
    "routing_error",
    "possible_spam",
    "other",
)

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
