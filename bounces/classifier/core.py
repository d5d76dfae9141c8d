"""Read one raw message and decide, per recipient, what its bounce means."""

from __future__ import annotations

import re
from email.message import Message
from typing import TypedDict

from core.categories import TEMPORARY

from . import arf, autoreply, heuristics, rules, ses_mail
from .dsn import (
    SUCCESS_ACTIONS,
    RecipientFields,
    field_groups,
    field_groups_from_text,
    inner_status,
    parse_reply_code,
    parse_status,
    recipient_groups,
    strip_diagnostic_type,
)
from .mime import (
    ENCLOSED_TYPES,
    HeaderIndex,
    addresses,
    clean_line,
    first_address,
    get_all_headers,
    get_header,
    header_index,
    normalise_address,
    parse_message,
    part_text,
    walk,
    wanted_fields,
)
from .verdicts import (
    KIND_AUTO_REPLY,
    KIND_COMPLAINT,
    KIND_DSN,
    KIND_NON_STANDARD,
    KIND_SUCCESS,
    KIND_UNKNOWN,
    Analysis,
    Verdict,
)

_BOUNCE_SENDER = re.compile(
    r"mailer-daemon|postmaster|mail ?delivery|delivery ?(?:subsystem|system|status)|"
    r"mail ?administrator|mailadmin|returned mail|bounce",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|not delivered|non-?deliver|delivery (?:status|fail|notif|report|"
    r"problem)|failure notice|returned mail|mail delivery|delivery failure|could not be delivered|"
    r"returned to sender|bounce|rejected|warning: could not|delayed mail|mail system error|"
    r"mail not deliverable|message you sent|fail(?:ed|ure)|error|loop|user unknown|"
    r"unknown user|no such user|不達|エラー|配信",
    re.I,
)
_BOUNCE_BODY = re.compile(
    r"could not be delivered|couldn't be delivered|undeliverable|delivery (?:has )?failed|"
    r"permanent(?:ly)? (?:error|fail)|not (?:be )?delivered|unable to deliver|delivery to the "
    r"following|failed to deliver|returned to (?:you|sender)|mail delivery failed|"
    r"was not able to deliver|wasn't able to deliver|following address(?:es)? failed|"
    r"delivery (?:problem|error|failure)|message (?:was )?(?:rejected|refused|bounced)|"
    r"delivery status notification|could not deliver|error delivering|"
    r"transcript of session|user unknown|unknown user|no such user|does not exist",
    re.I,
)
_MSGID = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
# Our VERP return paths look like bounces+<token>@BOUNCE_DOMAIN (bounces/verp.py, which needs
# Django settings): never a failed recipient, wherever a bounce quotes one.
OWN_RETURN_PATH_PREFIX = "bounces+"


def analyse(raw: bytes) -> Analysis:
    """Return what ``raw`` (one message's bytes) says about failed recipients; never raise."""
    try:
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            return _not_parsed("input is not bytes")
        raw = bytes(raw)
        # The wording cache only serves one message (rating, then deciding, the same text);
        # clearing it keeps memory flat and timings honest across messages.
        rules.phrase_matches.cache_clear()
        heuristics.clear_caches()
        if not raw.strip():
            return _not_parsed("empty message")
        return _analyse(raw)
    except RecursionError:
        return _not_parsed("message structure too deeply nested")
    except MemoryError:
        return _not_parsed("message too large to analyse")
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
        return _not_parsed(f"internal error while analysing: {type(exc).__name__}")


def classify(raw: bytes) -> list[Verdict]:
    """Return the verdicts of ``analyse(raw)`` as a list (the evaluation tool's entry point)."""
    return list(analyse(raw).verdicts)


class _Common(TypedDict):
    """What every Analysis of one message says, whatever its verdicts."""

    original_message_id: str | None
    original_return_path: str | None
    subject: str | None
    sender: str | None


_NOTHING_KNOWN: _Common = {
    "original_message_id": None,
    "original_return_path": None,
    "subject": None,
    "sender": None,
}


def _not_parsed(reason: str, kind: str = KIND_UNKNOWN, common: _Common | None = None) -> Analysis:
    return Analysis(False, reason, kind, (), **(common or _NOTHING_KNOWN))


class _Parts:
    """The pieces of a message the classifier looks at, gathered in one walk."""

    __slots__ = (
        "status_parts",
        "feedback_parts",
        "text_parts",
        "enclosed",
        "enclosed_part",
        "enclosed_text",
    )

    def __init__(self, msg: Message, headers: HeaderIndex | Message | None = None) -> None:
        self.status_parts: list[Message] = []
        self.feedback_parts: list[Message] = []
        # Human-readable parts, decoded only when their words are needed (see _Body).
        self.text_parts: list[tuple[Message, str]] = []
        self.enclosed: HeaderIndex | Message | TextHeaders | None = None
        self.enclosed_part: Message | None = None
        self.enclosed_text = ""
        html: list[tuple[Message, str]] = []
        for part, ctype in walk(msg, headers):
            if ctype in ("message/delivery-status", "message/global-delivery-status"):
                self.status_parts.append(part)
            elif ctype == "message/feedback-report":
                self.feedback_parts.append(part)
            elif ctype in ENCLOSED_TYPES:
                # Only the first enclosed message is the one that bounced.
                if self.enclosed is None:
                    self._take_enclosed(part)
            elif ctype == "text/html":
                html.append((part, ctype))
            elif not part.is_multipart() and ctype.startswith(("text/", "multipart/")):
                # A multipart whose boundary never appears is, in effect, one text body.
                self.text_parts.append((part, ctype))
        if not self.text_parts:
            self.text_parts = html

    def _take_enclosed(self, part: Message) -> None:
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            self.enclosed = header_index(payload[0])
            self.enclosed_part = payload[0]
        else:
            text = part_text(part)
            self.enclosed_text = text
            self.enclosed = _headers_of(text)


class _Body:
    """The bounce's human-readable text, decoded and split into its own words and the
    returned original on first use: a DSN whose fields say everything never needs it."""

    __slots__ = ("_parts", "_split")

    def __init__(self, parts: _Parts) -> None:
        self._parts = parts
        self._split: tuple[str, str] | None = None

    def _get(self) -> tuple[str, str]:
        if self._split is None:
            text = "\n".join(part_text(p, ctype=ctype) for p, ctype in self._parts.text_parts)
            self._split = heuristics.split_original(text)
        return self._split

    @property
    def own(self) -> str:
        """The bounce's own words."""
        return self._get()[0]

    @property
    def original(self) -> str:
        """The returned original message quoted in the text, or ''."""
        return self._get()[1]


class TextHeaders:
    """Header fields read from text with one regular expression: the few look-ups the
    classifier makes on a returned message do not need the full parser."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._fields = fields

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of header ``name``, or ``default``."""
        values = self._fields.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str, default: list[str] | None = None) -> list[str] | None:
        """Return every value of header ``name``, or ``default``."""
        return self._fields.get(name.lower(), default)


def _headers_of(text: str) -> TextHeaders | None:
    text = text.lstrip()
    if not text:
        return None
    # Only the header block: the body of the returned message is not ours to read.
    end = text.find("\n\n", 0, 60_000)
    head = text[: end + 1] if end >= 0 else text[:60_000]
    wanted = wanted_fields(head)
    return _text_headers(wanted) if wanted else None


def _text_headers(wanted: list[tuple[str, str]]) -> TextHeaders:
    fields: dict[str, list[str]] = {}
    for name, value in wanted:
        fields.setdefault(name.lower(), []).append(value.replace("\n", " "))
    return TextHeaders(fields)


def _address_list(values: list[str]) -> list[str]:
    out = []
    for value in values:
        for addr in addresses(value):
            norm = normalise_address(addr)
            if norm and norm not in out:
                out.append(norm)
    return out


def _message_id(value: str) -> str | None:
    m = _MSGID.search(value)
    if m:
        return m.group(1)
    value = value.strip().strip("<>").strip()
    return value or None


def _has_reason(text: str) -> bool:
    return bool(rules.phrase_matches(text))


def _reason_at(text: str) -> int | None:
    matches = rules.phrase_matches(text)
    return matches[0][1] if matches else None


def _enclosed_bounce(
    parts: _Parts, body: _Body, enclosed: HeaderIndex | Message | TextHeaders | None
) -> Message | None:
    """Return the enclosed message when it is itself a bounce, else None.

    An enclosed message the parser already built is used as it is: serialising it and
    parsing it again would only cost time."""
    if parts.enclosed_part is not None and enclosed is not None:
        return parts.enclosed_part if _is_bounce_message(enclosed) else None
    if enclosed is not None and body.original and _is_bounce_message(enclosed):
        return parse_message(body.original.lstrip().encode("utf-8", "replace"))[0]
    return None


def _is_bounce_head(fields: list[tuple[str, str]]) -> bool:
    """Return whether a returned original with these header fields is itself a bounce."""
    return bool(fields) and _is_bounce_message(_text_headers(fields))


def _is_bounce_message(headers: HeaderIndex | Message | TextHeaders) -> bool:
    ctype = get_header(headers, "Content-Type").lower()
    if "multipart/report" in ctype and "delivery-status" in ctype:
        return True
    return bool(_BOUNCE_SENDER.search(get_header(headers, "From")))


def _analyse(raw: bytes) -> Analysis:
    # A returned original is read for its header fields only, unless it is itself a bounce.
    msg, degraded = parse_message(raw, keep_whole=_is_bounce_head)
    return _analyse_message(msg, degraded)


def _analyse_message(msg: Message, degraded: bool, depth: int = 0) -> Analysis:
    headers = header_index(msg)
    subject = clean_line(get_header(headers, "Subject"), 500) or None
    sender_header = get_header(headers, "From")
    sender = normalise_address(first_address(sender_header) or "")
    parts = _Parts(msg, headers)
    body = _Body(parts)
    enclosed = parts.enclosed
    if enclosed is None and body.original:
        enclosed = _headers_of(body.original)

    original_id = None
    original_return_path = None
    if enclosed is not None:
        original_id = _message_id(get_header(enclosed, "Message-ID")) or None
        rp = first_address(get_header(enclosed, "Return-Path"))
        original_return_path = normalise_address(rp) if rp else None
    if original_id is None:
        refs = get_header(headers, "In-Reply-To") or get_header(headers, "References")
        original_id = _message_id(refs) if refs else None
    bounce_to = _address_list(get_all_headers(headers, "To"))
    if original_return_path is None and bounce_to:
        original_return_path = bounce_to[0]

    common: _Common = {
        "original_message_id": original_id,
        "original_return_path": original_return_path,
        "subject": subject,
        "sender": sender,
    }

    # 1. RFC 5965 complaint.
    if parts.feedback_parts:
        return _complaint(parts, _enclosed_addresses(enclosed, "To", "Cc"), common)

    # 2. RFC 3464 DSN (or DSN fields pasted into a text body).
    groups: list[dict[str, str]] = []
    for part in parts.status_parts:
        groups.extend(field_groups(part))
    fields = recipient_groups(groups)
    if not fields:
        low = body.own.lower()
        if "final-recipient:" in low or "action:" in low:
            fields = recipient_groups(field_groups_from_text(body.own))
    fields = [f for f in fields if not _is_own_return_path(f.recipient)]
    if fields:
        return _from_dsn(fields, body, common)

    # The bounce's own correspondents and the sender of the original are never the failed
    # recipients a text names.
    bounce_reply_to = _address_list(get_all_headers(headers, "Reply-To"))
    excluded = {a.lower() for a in bounce_to + bounce_reply_to}
    # The original's From is often us, but a test message to oneself has it as the recipient.
    soft_excluded = {a.lower() for a in _enclosed_addresses(enclosed, "From", "Sender")}
    if sender:
        excluded.add(sender.lower())
    if original_return_path:
        excluded.add(original_return_path.lower())
    enclosed_to = _enclosed_addresses(enclosed, "To", "Cc")

    # 3. An ESP's JSON notification sent as mail (Amazon SES through SNS).
    own_text = body.own
    notified = ses_mail.esp_recipients(own_text) if "{" in own_text else None
    if notified:
        return _from_esp(notified, common)

    # 3b. A challenge-response system (Boxbe, Bluebottle...) asking us to prove we are human:
    # the recipient's own filter answered, as an auto-reply would.  A mailer daemon's own
    # message is never one.
    from_daemon = _BOUNCE_SENDER.search(sender_header) is not None
    challenge = None if from_daemon else autoreply.challenge_evidence(headers, own_text)
    if challenge:
        # Whom we wrote to: the original's To, else the person the request names.
        named = [normalise_address(a) for a in heuristics.candidate_recipients(own_text, excluded)]
        target = next((a for a in enclosed_to + named if a and a.lower() not in excluded), None)
        return _auto_reply(target or sender, challenge, common)

    # 4. A bounce forwarded inside another message (e.g. by a postmaster): read the inner one.
    bounce_like = _bounce_like(headers, from_daemon, subject or "", own_text)
    if depth < 2:
        inner_msg = _enclosed_bounce(parts, body, enclosed)
        if inner_msg is not None:
            inner = _analyse_message(inner_msg, False, depth + 1)
            if inner.verdicts:
                return inner

    # 5. Auto-reply marked as such by its headers, unless it is a bounce in disguise.
    header_auto = None
    if not bounce_like:
        header_auto = autoreply.header_evidence(headers)
        if header_auto:
            return _auto_reply(sender, header_auto, common)

    # 6. Non-standard bounce text.
    if bounce_like:
        verdicts = _from_text(headers, own_text, excluded, soft_excluded, enclosed_to)
        if verdicts:
            return Analysis(True, "", KIND_NON_STANDARD, tuple(verdicts), **common)

    # 7. Auto-reply recognised by its headers or its words only.
    if bounce_like:
        header_auto = autoreply.header_evidence(headers)
    body_auto = autoreply.body_evidence(own_text) if not bounce_like else None
    if header_auto or body_auto:
        return _auto_reply(sender, header_auto or body_auto or "", common)
    reason = (
        "no recipient found in a bounce" if bounce_like else "not a bounce, auto-reply or complaint"
    )
    if degraded:
        reason += " (message too large or malformed; only part of it was read)"
    return _not_parsed(reason, common=common)


def _enclosed_addresses(
    enclosed: HeaderIndex | Message | TextHeaders | None, *names: str
) -> list[str]:
    """Return the addresses in the returned original's ``names`` header fields."""
    if enclosed is None:
        return []
    return _address_list([v for name in names for v in get_all_headers(enclosed, name)])


def _bounce_like(
    headers: HeaderIndex | Message, from_daemon: bool, subject: str, text: str
) -> bool:
    if from_daemon or get_header(headers, "X-Failed-Recipients"):
        return True
    if subject and _BOUNCE_SUBJECT.search(subject):
        return True
    return bool(_BOUNCE_BODY.search(text[:20_000]))


def _complaint(parts: _Parts, enclosed_to: list[str], common: _Common) -> Analysis:
    report_text = ""
    groups: list[dict[str, str]] = []
    for part in parts.feedback_parts:
        payload = part.get_payload()
        if isinstance(payload, list):
            for block in payload:
                if isinstance(block, Message):
                    report_text += "".join(f"{k}: {v}\n" for k, v in block.items()) + "\n"
        else:
            report_text += part_text(part) + "\n"
    groups = field_groups_from_text(report_text)
    kind = arf.feedback_type(groups)
    recipients = arf.complained_recipients(groups, enclosed_to, report_text)
    why = (
        f"Spam complaint (RFC 5965 report, feedback type {kind}): "
        "the recipient or their provider reported the message"
    )
    if not recipients:
        return _not_parsed(
            "complaint report names no recipient", kind=KIND_COMPLAINT, common=common
        )
    verdicts = tuple(
        Verdict(r, None, None, f"Feedback-Type: {kind}", None, TEMPORARY, "content_related", why)
        for r in recipients
    )
    return Analysis(True, "", KIND_COMPLAINT, verdicts, **common)


def _auto_reply(sender: str | None, evidence: str, common: _Common) -> Analysis:
    if not sender:
        return _not_parsed(
            "auto-reply without a sender address", kind=KIND_AUTO_REPLY, common=common
        )
    why = f"Automatic reply ({evidence}): the recipient is away; the address itself works"
    verdict = Verdict(sender, None, None, None, None, TEMPORARY, "auto_reply", why)
    return Analysis(True, "", KIND_AUTO_REPLY, (verdict,), **common)


def _is_own_return_path(address: str | None) -> bool:
    """Return whether ``address`` is one of our VERP return paths (bounces/verp.py)."""
    return bool(address and address.lower().startswith(OWN_RETURN_PATH_PREFIX))


def _from_dsn(fields: list[RecipientFields], body: _Body, common: _Common) -> Analysis:
    verdicts = []
    others = {f.recipient.lower() for f in fields if f.recipient}
    failed = 0
    for f in fields:
        if f.action in SUCCESS_ACTIONS or (f.status or "").startswith("2"):
            verdicts.append(
                Verdict(
                    f.recipient,
                    f.status,
                    f.reply_code,
                    clean_line(f.diagnostic) if f.diagnostic else None,
                    f.action,
                    None,
                    None,
                    f"Delivery succeeded (Action: {f.action}); nothing to block",
                )
            )
            continue
        failed += 1
        diagnostic = clean_line(f.diagnostic) if f.diagnostic else None
        status, reply = f.status, f.reply_code
        codes_open = status is None or reply is None or status.endswith(".0.0")
        # The human-readable text only matters when the DSN fields leave something open: a
        # missing or class-only code, or a diagnostic whose wording no rule recognises.
        if codes_open or diagnostic is None or not _has_reason(diagnostic):
            context = _dsn_context(f.recipient, body.own, others)
        else:
            context = None
        if codes_open and context:
            s2, r2 = heuristics.codes_in(context)
            if s2 and (status is None or (status.endswith(".0.0") and s2[0] == status[0])):
                status = s2
            reply = reply or r2
        decision = rules.decide(status, reply, diagnostic, f.action, context, f.recipient)
        verdicts.append(
            Verdict(
                f.recipient,
                status,
                reply,
                diagnostic or context,
                f.action,
                decision.type,
                decision.category,
                decision.explanation,
            )
        )
    kind = KIND_DSN if failed else KIND_SUCCESS
    return Analysis(True, "", kind, tuple(verdicts), **common)


def _dsn_context(recipient: str | None, text: str, others: set[str]) -> str | None:
    """Return the lines of a DSN's human-readable text that best explain ``recipient``'s
    failure: the lines naming it when they carry evidence, else the text's evidence lines."""
    if recipient:
        found = heuristics.diagnostic_for(
            recipient, text, others - {recipient.lower()}, _has_reason
        )
        if found is not None and found[0] > 0:
            return found[1]
    return heuristics.evidence_lines(text, _reason_at)


def _from_text(
    headers: HeaderIndex | Message,
    text: str,
    excluded: set[str],
    soft_excluded: set[str],
    enclosed_to: list[str],
) -> list[Verdict]:
    failed_header = _address_list(get_all_headers(headers, "X-Failed-Recipients"))
    recipients = []
    for addr in heuristics.candidate_recipients(text, excluded, soft_excluded):
        norm = normalise_address(addr)
        if norm and norm not in recipients and not _is_own_return_path(norm):
            recipients.append(norm)
    lowered = text.lower()
    if failed_header and (not recipients or any(a.lower() in lowered for a in failed_header)):
        # The header is authoritative unless the text names other addresses and not it.
        recipients = failed_header
    recipients = [a for a in recipients if not _is_own_return_path(a)]
    if not recipients:
        recipients = [
            a
            for a in enclosed_to
            if a.lower() not in excluded | soft_excluded and not _is_own_return_path(a)
        ]
    if not recipients:
        return []
    others = {r.lower() for r in recipients}
    general: list[str | None] = []
    verdicts = []
    for r in recipients:
        diag: str | None
        found = heuristics.diagnostic_for(r, text, others - {r.lower()}, _has_reason)
        if found is not None and found[0] > 0:
            diag = found[1]
        else:
            if not general:
                general.append(heuristics.evidence_lines(text, _reason_at))
            diag = general[0] or (found[1] if found is not None else None)
        status, reply = heuristics.codes_in(diag) if diag else (None, None)
        decision = rules.decide(status, reply, diag, None, text[: heuristics.CONTEXT_CHARS], r)
        verdicts.append(
            Verdict(
                r,
                status,
                reply,
                diag,
                "failed",
                decision.type,
                decision.category,
                decision.explanation,
            )
        )
    return verdicts


def _from_esp(found: list[ses_mail.EspRecipient], common: _Common) -> Analysis:
    verdicts = []
    kinds = set()
    for r in found:
        addr = normalise_address(r.address)
        if addr is None or _is_own_return_path(addr):
            continue
        text = strip_diagnostic_type(r.diagnostic)
        diagnostic = clean_line(text) if text else None
        if r.kind == "delivery":
            kinds.add(KIND_SUCCESS)
            why = f"Delivery succeeded ({r.esp} delivery notification); nothing to block"
            verdicts.append(Verdict(addr, None, None, diagnostic, "delivered", None, None, why))
        elif r.kind == "complaint":
            kinds.add(KIND_COMPLAINT)
            why = f"Spam complaint relayed by {r.esp}: the recipient reported the message"
            verdicts.append(
                Verdict(addr, None, None, diagnostic, None, TEMPORARY, "content_related", why)
            )
        elif r.kind == "auto_reply":
            kinds.add(KIND_AUTO_REPLY)
            why = f"Automatic reply reported by {r.esp}: the recipient is away"
            verdicts.append(
                Verdict(addr, None, None, diagnostic, None, TEMPORARY, "auto_reply", why)
            )
        else:
            kinds.add(KIND_DSN)
            reply = parse_reply_code(diagnostic)
            # The receiving server's code inside the diagnostic beats the ESP's summary status.
            status = inner_status(parse_status(r.status), parse_status(diagnostic), reply)
            if r.esp == "Amazon SES":
                type_, category, why = ses_mail.ses_decision(
                    r.bounce_type, r.bounce_subtype, status, reply, diagnostic
                )
            else:
                decision = rules.decide(status, reply, diagnostic, r.action, None, addr)
                type_, category = decision.type, decision.category
                why = f"{r.esp} bounce: {decision.explanation}"
            verdicts.append(
                Verdict(addr, status, reply, diagnostic, r.action, type_, category, why)
            )
    if not verdicts:
        return _not_parsed("ESP notification names no recipient", common=common)
    order = (KIND_DSN, KIND_COMPLAINT, KIND_AUTO_REPLY, KIND_SUCCESS)
    kind = next(k for k in order if k in kinds)
    return Analysis(True, "", kind, tuple(verdicts), **common)
