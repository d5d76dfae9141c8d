"""RFC 3464 delivery status notifications: per-message and per-recipient field groups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from .mime import first_address, fix_surrogates, normalise_address, part_text

# The leading word boundary is written as a look-behind after the first digit: a pattern that
# starts with a character class lets the matcher skip ahead to candidate digits at C speed,
# where one that starts with an assertion is tried at every position (about 3x slower).
# Neither a dot nor a digit may touch it on either side: "policy (3.2.1.1)" holds no status.
STATUS = re.compile(r"([245])(?<![\w.].)\.(\d{1,3})\.(\d{1,3})\b(?!\.\d)")
REPLY_CODE = re.compile(r"^\s*([245][0-5]\d)(?:[\s\-]|$)")
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)\s*:\s?(.*)$")
# Fields that mark a per-recipient group, in RFC 3464 and in its look-alikes inside text bodies.
_RECIPIENT_FIELDS = ("final-recipient", "original-recipient", "x-actual-recipient")
# RFC 3464's non-failures, plus sendmail's "deliverable" (an address verification).
SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded", "deliverable"})
_UNITEXT = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")


@dataclass(slots=True)
class RecipientFields:
    """The fields of one per-recipient DSN group that the classifier uses."""

    recipient: str | None
    original_recipient: str | None
    action: str | None
    status: str | None
    reply_code: str | None
    diagnostic: str | None


def parse_status(text: str | None) -> str | None:
    """Return the first RFC 3463 enhanced status code in ``text`` ("5.1.1"), or None."""
    if not text:
        return None
    m = STATUS.search(text)
    return m.group(0) if m else None


def parse_reply_code(text: str | None) -> str | None:
    """Return the SMTP reply code that starts ``text`` ("550"), or None."""
    if not text:
        return None
    m = REPLY_CODE.match(text)
    return m.group(1) if m else None


def field_groups_from_text(text: str) -> list[dict[str, str]]:
    """Split ``text`` into blank-line separated groups of "Name: value" fields (folded lines
    joined); lines that are not fields are ignored."""
    groups: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                groups.append(current)
                current, last = {}, None
            continue
        if line[0] in " \t" and last is not None:
            current[last] += " " + line.strip()
            continue
        m = _FIELD.match(line)
        if m is None:
            last = None
            continue
        name = m.group(1).lower()
        last = name
        if name in current:
            # A repeated recipient field starts a new group even without a blank line.
            if name in _RECIPIENT_FIELDS:
                groups.append(current)
                current = {}
            else:
                continue
        current[name] = m.group(2).strip()
    if current:
        groups.append(current)
    return groups


def field_groups(part: Message) -> list[dict[str, str]]:
    """Return the field groups of a message/delivery-status part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        groups = []
        for block in payload:
            if not isinstance(block, Message):
                continue
            fields: dict[str, str] = {}
            # raw_items: compat32 would turn 8-bit bytes (RFC 6531 addresses) into U+FFFD.
            for name, value in block.raw_items():
                key = name.lower()
                if key in fields:
                    if key in _RECIPIENT_FIELDS:
                        groups.append(fields)
                        fields = {}
                    else:
                        continue
                # No RFC 2047 decoding: DSN fields are not encoded words, and an
                # address must stay exactly as the MTA wrote it.
                fields[key] = fix_surrogates(str(value))
            groups.append(fields)
        # compat32 puts a trailing group's text into the last block's payload when a group
        # is not separated cleanly; read those stray lines too.
        for block in payload:
            if isinstance(block, Message):
                rest = block.get_payload()
                if isinstance(rest, str) and ":" in rest:
                    groups.extend(field_groups_from_text(rest))
        return groups
    return field_groups_from_text(part_text(part))


def inner_status(outer: str | None, inner: str | None, reply: str | None) -> str | None:
    """Return the status to believe when a wrapper (a relay's DSN field, an ESP's summary)
    says ``outer`` and the remote server's own text says ``inner``: the inner one wins when
    it is at least as specific and of the same class, or when the reply code agrees with it."""
    if not inner or inner == outer:
        return outer or inner
    if outer is None:
        return inner
    if inner[0] == outer[0] and (outer.endswith(".0.0") or not inner.endswith(".0.0")):
        return inner
    if reply is not None and inner[0] == reply[0] != outer[0]:
        return inner
    return outer


def _decode_utf8_address(text: str) -> str:
    """Decode RFC 6533's utf-8-addr-unitext escapes (\\x{HHHH}); raw UTF-8 stays as it is."""
    if "\\x{" in text:
        text = _UNITEXT.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def _address_field(value: str | None) -> str | None:
    if not value:
        return None
    kind, semi, rest = value.partition(";")
    candidate = (rest if semi else value).strip()
    if semi and kind.strip().lower() == "utf-8":
        candidate = _decode_utf8_address(candidate)
    token = candidate.strip("<>").strip()
    if not token.isascii() and "@" in token and len(token.split()) == 1:
        # An internationalised address (RFC 6531): taken whole, as the ASCII pattern would
        # only find its ASCII tail.
        return normalise_address(token)
    addr = first_address(candidate)
    if addr is None:
        addr = candidate.strip().strip("<>").strip()
        if "@" not in addr or " " in addr:
            return None
    return normalise_address(addr)


def strip_diagnostic_type(value: str | None) -> str | None:
    """Return a Diagnostic-Code value without its type ("smtp; 550 ..." -> "550 ...")."""
    if not value:
        return None
    kind, semi, rest = value.partition(";")
    # "smtp; 550 ..." / "X-Postfix; ..." : drop the diagnostic type.
    if semi and len(kind) < 20 and " " not in kind.strip():
        value = rest
    return value.strip() or None


def recipient_groups(groups: list[dict[str, str]]) -> list[RecipientFields]:
    """Return the per-recipient groups among ``groups`` (those naming a recipient)."""
    out = []
    for g in groups:
        final = _address_field(g.get("final-recipient") or g.get("x-actual-recipient"))
        original = _address_field(g.get("original-recipient"))
        if final is None and original is None:
            continue
        diagnostic = strip_diagnostic_type(g.get("diagnostic-code"))
        raw_status = (g.get("status") or "").strip()
        if diagnostic is None and any(c.isalpha() for c in raw_status):
            # "Status: 5.0.0 (recipient reached disk quota)": the comment is the only reason.
            diagnostic = raw_status
        reply = parse_reply_code(diagnostic)
        # The remote server's own code (in the diagnostic) beats the relay's summary.
        status = inner_status(parse_status(g.get("status")), parse_status(diagnostic), reply)
        action = (g.get("action") or "").strip().lower().split(" ")[0] or None
        out.append(
            RecipientFields(
                recipient=final or original,
                original_recipient=original,
                action=action,
                status=status,
                reply_code=reply,
                diagnostic=diagnostic,
            )
        )
    return out
