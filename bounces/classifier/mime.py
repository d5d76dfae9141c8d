"""Decoding helpers over Python's ``email`` (compat32) that never raise on bad input."""

from __future__ import annotations

import codecs
import email
import email.header
import email.parser
import html
import re
from collections.abc import Callable, Iterator
from email.message import Message
from email.policy import compat32

# Parse at most this much structurally; the rest of a huge bounce is an attachment we never read.
MAX_STRUCTURED_BYTES = 1_500_000
# Below this size a returned original is mostly header fields: scanning for it to cut its
# body costs about what parsing the body would (measured on the dev corpus).
MIN_CUT_BYTES = 32_768
# Deeper nesting than this is hostile or broken; stop walking rather than recurse.
MAX_DEPTH = 60
MAX_PARTS = 400

ENCLOSED_TYPES = frozenset(
    {
        "message/rfc822",
        "message/global",
        "text/rfc822-headers",
        "message/rfc822-headers",
        "message/global-headers",
        "message/partial",
    }
)

_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
)
_TAG = re.compile(r"<(?:script|style)\b.*?</(?:script|style)\s*>|<[^>]{0,2000}>", re.S | re.I)
_BR = re.compile(r"<\s*(?:br|/p|/div|/tr|/li|/h\d)\b[^>]*>", re.I)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_CHARSET = re.compile(r"(?:^|;)\s*charset\s*=\s*(?:\"([^\"]*)\"|([^\s;]*))", re.I)


def parse_message(
    raw: bytes, keep_whole: Callable[[str], bool] | None = None
) -> tuple[Message, bool]:
    """Parse ``raw`` with compat32; return the message and whether a fallback was needed.

    Oversized input is parsed structurally only up to a cap; input the parser cannot cope with
    (e.g. MIME nested thousands deep) is reread as headers plus one plain-text body so the
    text heuristics still see its words.  With ``keep_whole``, a returned original
    (message/rfc822 part) is parsed as its header block only, as text/rfc822-headers, unless
    ``keep_whole(its header text)`` says it must be read whole (see ``originals_as_headers``);
    only a message over ``MIN_CUT_BYTES`` has a body worth the scan.
    """
    raw = trim_trace_fields(raw)
    data = raw if len(raw) <= MAX_STRUCTURED_BYTES else _cut(raw, MAX_STRUCTURED_BYTES)
    degraded = len(data) != len(raw)
    try:
        return lazy_message(data.decode("ascii", "surrogateescape"), keep_whole), degraded
    except (RecursionError, MemoryError, Exception):  # noqa: BLE001 - any parser failure
        return _headers_and_text(data), True


# --- lazy MIME reading ------------------------------------------------------------------------
# compat32's feedparser reads a message line by line in Python, every part and every returned
# original included.  The classifier needs the header fields, the MIME tree and the text of a
# few leaf parts, so this reader splits the message with string searches and builds the same
# compat32 Message objects (``set_raw``/``set_payload``) with leaf bodies left as undecoded
# strings, which is how compat32 stores them too.  A returned original (message/rfc822) gets
# its header fields only, unless ``keep_whole`` asks for all of it (a bounce inside a bounce).

_BOUNDARY = re.compile(r"""(?:^|;)\s*boundary\s*=\s*(?:"([^"]*)"|([^\s;]+))""", re.I)


# One header field with its folded continuation lines (compat32 keeps the line breaks inside).
_HEADER_FIELD = re.compile(r"([\x21-\x39\x3b-\x7e]+):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)\n?")


def _split_head(text: str) -> tuple[list[tuple[str, str]], str, str | None]:
    """Return (header fields, body, unixfrom) of one entity's text, as compat32 splits them."""
    if text.startswith("\n"):
        return [], text[1:], None
    if text.startswith("\r\n"):
        return [], text[2:], None
    head_end, body_start = _blank_line(text)
    pos = 0
    unixfrom = None
    if text.startswith("From "):
        nl = text.find("\n", 0, head_end)
        unixfrom = text[: nl if nl >= 0 else head_end].rstrip("\r")
        pos = nl + 1 if nl >= 0 else head_end
    fields: list[tuple[str, str]] = []
    match = _HEADER_FIELD.match
    while pos < head_end:
        m = match(text, pos, head_end)
        if m is None:
            # Not a header line: the body starts here (compat32 does the same).
            return fields, text[pos:], unixfrom
        fields.append((m.group(1), m.group(2).rstrip("\r\n")))
        pos = m.end()
    return fields, text[body_start:], unixfrom


# The header fields the classifier reads from a returned original; the rest (dozens of
# Received, DKIM, ARC... lines) is never parsed.
_WANTED_FIELD = re.compile(
    r"\n(message-id|return-path|to|cc|from|sender|reply-to|content-type|subject|date|"
    r"in-reply-to|references)[ \t]*:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)",
    re.I,
)


def wanted_fields(head: str) -> list[tuple[str, str]]:
    """Return (name, value) of the header fields the classifier reads, found in ``head`` (a
    header block) with one scan."""
    return [(m.group(1), m.group(2).rstrip("\r\n")) for m in _WANTED_FIELD.finditer("\n" + head)]


class LazyMessage(Message):
    """A compat32 Message built by ``lazy_message`` that remembers its Content-Type: the
    classifier asks each part for it several times, and compat32 rescans the fields each time."""

    ctype: str = "text/plain"
    ctype_value: str | None = None


def _ctype_of(fields: list[tuple[str, str]], default_type: str) -> tuple[str, str | None]:
    """Return (MIME type as ``get_content_type`` gives it, raw Content-Type value)."""
    for name, value in fields:
        if name.lower() == "content-type":
            ctype = value.partition(";")[0].strip().lower()
            return (ctype if ctype.count("/") == 1 else "text/plain"), value
    return default_type, None


def _entity(
    text: str,
    keep_whole: Callable[[str], bool] | None,
    depth: int,
    default_type: str = "text/plain",
) -> Message:
    fields, body, unixfrom = _split_head(text)
    msg = LazyMessage()
    if unixfrom:
        msg.set_unixfrom(unixfrom)
    if default_type != "text/plain":
        msg.set_default_type(default_type)
    for name, value in fields:
        msg.set_raw(name, value)
    ctype, msg.ctype_value = _ctype_of(fields, default_type)
    msg.ctype = ctype
    if depth >= MAX_DEPTH:
        msg.set_payload(body)
    elif ctype.startswith("multipart/"):
        _fill_multipart(msg, ctype, body, keep_whole, depth)
    elif ctype in ("message/rfc822", "message/global") and not _encoded(msg):
        head = body[: _blank_line(body)[0]]
        if keep_whole is None or keep_whole(head):
            msg.set_payload([_entity(body, keep_whole, depth + 1)])
        else:
            inner = LazyMessage()
            wanted = wanted_fields(head)
            for name, value in wanted:
                inner.set_raw(name, value)
            inner.ctype, inner.ctype_value = _ctype_of(wanted, "text/plain")
            msg.set_payload([inner])
    else:
        msg.set_payload(body)
    return msg


def _encoded(msg: Message) -> bool:
    cte = str(msg.get("content-transfer-encoding", "")).strip().lower()
    return cte not in ("", "7bit", "8bit", "binary")


def _blank_line(text: str) -> tuple[int, int]:
    """Return where the first blank line of ``text`` starts and ends (LF or CRLF lines);
    (len, len) when there is none.  Two plain searches: a regular expression that may start
    with an optional CR cannot skip ahead as fast."""
    lf = text.find("\n\n")
    crlf = text.find("\n\r\n", 0, lf if lf >= 0 else len(text))
    if lf < 0 and crlf < 0:
        return len(text), len(text)
    if crlf < 0 or 0 <= lf < crlf:
        return lf, lf + 2
    return crlf, crlf + 3


def _fill_multipart(
    msg: Message, ctype: str, body: str, keep_whole: Callable[[str], bool] | None, depth: int
) -> None:
    m = _BOUNDARY.search(str(msg.get("content-type", "")))
    boundary = (m.group(1) if m.group(1) is not None else m.group(2)) if m else None
    if not boundary:
        msg.set_payload(body)
        return
    delimiter = "--" + boundary
    child_type = "message/rfc822" if ctype == "multipart/digest" else "text/plain"
    starts: list[int] = []
    parts: list[Message] = []
    at = 0
    closed = False
    while len(parts) < MAX_PARTS:
        at = body.find(delimiter, at)
        if at < 0:
            break
        if at and body[at - 1] not in "\r\n":
            at += 1  # a delimiter only counts at the start of a line
            continue
        line_end = body.find("\n", at)
        rest = body[at + len(delimiter) : line_end if line_end >= 0 else len(body)]
        tail = rest.rstrip()
        if tail not in ("", "--"):
            at += 1  # a longer boundary that starts with this one
            continue
        if starts:
            end = at - 1
            if end > starts[-1] and body[end - 1 : end] == "\r":
                end -= 1
            parts.append(
                _entity(body[starts[-1] : max(end, starts[-1])], keep_whole, depth + 1, child_type)
            )
        if tail == "--" or line_end < 0:
            closed = True
            break
        starts.append(line_end + 1)
        at = line_end + 1
    if not starts:
        msg.set_payload(body)  # the boundary never occurs: in effect one text body
        return
    if not closed and len(parts) < len(starts):  # truncated: the last part runs to the end
        parts.append(_entity(body[starts[-1] :], keep_whole, depth + 1, child_type))
    msg.set_payload(parts)


def lazy_message(text: str, keep_whole: Callable[[str], bool] | None = None) -> Message:
    """Return ``text`` (a message decoded as ASCII with surrogate escapes, as compat32 does) as
    a compat32 Message tree, reading only what the classifier uses (see above)."""
    return _entity(text, keep_whole, 0)


_BLANK_LINE = re.compile(rb"\n\r?\n")
# An entity's Content-Type field with its folded continuation lines.
_CONTENT_TYPE = re.compile(
    rb"^content-type:[ \t]*([^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)", re.I | re.M
)
# Lines compat32 takes for header fields (or their continuations), as feedparser.headerRE.
_HEADER_BLOCK = re.compile(rb"(?:(?:From |[\x21-\x39\x3b-\x7e]*:|[ \t])[^\n]*\n)*")
_MESSAGE_TYPE = re.compile(rb"[ \t]*message/(?:rfc822|global)[ \t]*(?:;|\r?\n)", re.I)
# compat32 parses an enclosed message's body whatever its transfer encoding says, so only an
# identity encoding keeps the bytes the same when read as text.
_ENCODED = re.compile(
    rb"^content-transfer-encoding:[ \t]*(?!(?:7bit|8bit|binary)\b)\S", re.I | re.M
)


def originals_as_headers(data: bytes, keep_whole: Callable[[str], bool]) -> bytes:
    """Return ``data`` with each enclosed message/rfc822 part cut down to its header block and
    relabelled text/rfc822-headers (RFC 6522's type for just that).

    The classifier reads only a returned original's header fields, and parsing the original
    (often a whole newsletter with attachments) costs as much as the bounce around it.  The
    MIME structure is followed from the top (boundaries read as compat32 reads them), so text
    that merely looks like MIME is never touched.  A part stays whole when
    ``keep_whole(its header text)`` is true (a bounce forwarded inside another is analysed
    whole) or when its transfer encoding is not an identity one."""
    if b"message/" not in data.lower():
        return data
    cuts: list[tuple[int, int, int, int]] = []
    try:
        _find_originals(data, 0, len(data), 0, keep_whole, cuts)
    except Exception:  # noqa: BLE001 - a structure too odd to follow: parse it all
        return data
    if not cuts:
        return data
    out: list[bytes] = []
    done = 0
    for type_start, type_end, inner_end, close in cuts:
        newline = b"\r\n" if data[type_end - 2 : type_end] == b"\r\n" else b"\n"
        out += (data[done:type_start], b"text/rfc822-headers", newline, data[type_end:inner_end])
        done = close
    out.append(data[done:])
    return b"".join(out)


def _find_originals(
    data: bytes,
    start: int,
    end: int,
    depth: int,
    keep_whole: Callable[[str], bool],
    cuts: list[tuple[int, int, int, int]],
) -> None:
    """Collect in ``cuts`` the enclosed messages of the entity ``data[start:end]``: (start and
    end of the Content-Type value, end of the enclosed header block, end of the part)."""
    blank = _BLANK_LINE.search(data, start, end)
    if blank is None or depth > MAX_DEPTH:
        return
    head_end = blank.start() + 1
    if not _HEADER_BLOCK.fullmatch(data, start, head_end):
        return  # the parser would end this header block elsewhere: leave it to the parser
    ctype = _CONTENT_TYPE.search(data, start, head_end)
    if ctype is None:
        return
    body = blank.end()
    value = ctype.group(1)
    if depth and _MESSAGE_TYPE.match(value):
        if _ENCODED.search(data, start, head_end):
            return
        inner = _BLANK_LINE.search(data, body, end)
        inner_end = inner.end() if inner else end
        if not keep_whole(data[body:inner_end].decode("utf-8", "replace")):
            cuts.append((ctype.start(1), ctype.end(1), inner_end, end))
        return
    if not value.lstrip()[:10].lower().startswith(b"multipart/"):
        return
    probe = Message()
    probe["Content-Type"] = value.decode("ascii", "surrogateescape").strip()
    boundary = probe.get_boundary()
    if not boundary:
        return
    delimiter = b"\n--" + boundary.encode("ascii", "surrogateescape")
    # Part i runs from the line after delimiter i to the line break before delimiter i + 1.
    starts: list[int] = []
    at = body - 1
    while True:
        at = data.find(delimiter, at, end)
        if at < 0:
            break
        line_end = data.find(b"\n", at + 1, end)
        rest = data[at + len(delimiter) : line_end if line_end >= 0 else end].rstrip()
        if rest not in (b"", b"--"):
            at += 1  # a longer boundary that starts with this one
            continue
        if starts:
            _find_originals(data, starts[-1], at, depth + 1, keep_whole, cuts)
        if rest == b"--" or line_end < 0:
            return
        starts.append(line_end + 1)
        at = line_end
    if starts:  # truncated: the last part runs to the end
        _find_originals(data, starts[-1], end, depth + 1, keep_whole, cuts)


# A header block larger than this is mostly trace fields (a mail loop adds one Received per
# hop): beyond the first MAX_TRACE_FIELDS of them they say nothing about the failure.
MAX_HEADER_BYTES = 64 * 1024
MAX_TRACE_FIELDS = 100
_TRACE_NAMES = (b"received:", b"x-received:", b"arc-", b"dkim-signature:", b"x-google-")


def trim_trace_fields(raw: bytes) -> bytes:
    """Return ``raw`` with the top header block's trace fields (Received...) beyond the first
    ``MAX_TRACE_FIELDS`` dropped, when that block is over ``MAX_HEADER_BYTES``; else ``raw``.

    Tens of thousands of Received fields would otherwise push the bounce's own parts past
    the structural cap, and the message would be read as headers only."""
    blank = _BLANK_LINE.search(raw)
    head_end = blank.start() + 1 if blank else len(raw)
    if head_end <= MAX_HEADER_BYTES:
        return raw
    kept: list[bytes] = []
    trace = 0
    dropping = False
    for line in raw[:head_end].splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = False
        if line[:20].lower().startswith(_TRACE_NAMES):
            trace += 1
            dropping = trace > MAX_TRACE_FIELDS
        if not dropping:
            kept.append(line)
    return b"".join(kept) + raw[head_end:]


def _cut(raw: bytes, limit: int) -> bytes:
    end = raw.rfind(b"\n", 0, limit)
    return raw[: end + 1] if end > 0 else raw[:limit]


def _headers_and_text(data: bytes) -> Message:
    head, sep, body = data.partition(b"\n\n")
    if not sep:
        head, sep, body = data.partition(b"\r\n\r\n")
    try:
        msg = email.parser.BytesHeaderParser().parsebytes(head + b"\n\n")
    except Exception:  # noqa: BLE001 - headers beyond repair: keep the body only
        msg = Message()
    del msg["Content-Type"]
    del msg["Content-Transfer-Encoding"]
    msg["Content-Type"] = "text/plain; charset=utf-8"
    msg.set_payload(body.decode("utf-8", "replace"))
    return msg


def header_text(value: object) -> str:
    """Return a header value as clean text: RFC 2047 words decoded, 8-bit bytes as UTF-8."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        value = str(value)
    text = value if isinstance(value, str) else str(value)
    if "=?" in text:
        try:
            chunks = []
            for chunk, charset in email.header.decode_header(text):
                if isinstance(chunk, bytes):
                    chunks.append(_decode_bytes(chunk, charset))
                else:
                    chunks.append(chunk)
            text = "".join(chunks)
        except Exception:  # noqa: BLE001, S110 - leave undecodable words as written
            pass
    if not text.isascii():
        text = fix_surrogates(text)
    return text.replace("\x00", "")


def fix_surrogates(text: str) -> str:
    """Turn surrogate-escaped 8-bit bytes (how compat32 keeps them) back into UTF-8 text."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class HeaderIndex:
    """A message's header fields indexed by lower-cased name.

    ``Message.get`` scans every field and lower-cases its name on each call; the classifier
    asks a bounce a dozen or so questions, so one pass up front is cheaper.  Values go through
    the message's policy exactly as ``Message.get`` would return them."""

    __slots__ = ("_fields", "_fetch", "_plain_ascii", "_default_type")

    # compat32 returns a header value as stored unless it holds surrogate-escaped bytes
    # (then a Header object), so a pure-ASCII string can skip the policy call.

    def __init__(self, msg: Message) -> None:
        fields: dict[str, list[tuple[str, object]]] = {}
        # raw_items() is the (name, unprocessed value) list behind Message.get.
        for name, value in msg.raw_items():
            key = name.lower()
            if key in fields:
                fields[key].append((name, value))
            else:
                fields[key] = [(name, value)]
        self._fields = fields
        self._fetch = msg.policy.header_fetch_parse
        self._plain_ascii = msg.policy is compat32
        self._default_type = msg.get_default_type()

    def get(self, name: str, default: object = None) -> object:
        """Return the first value of header ``name``, or ``default``."""
        pairs = self._fields.get(name.lower())
        if not pairs:
            return default
        key, value = pairs[0]
        if self._plain_ascii and isinstance(value, str) and value.isascii():
            return value
        return self._fetch(key, value)

    def content_type(self) -> str:
        """Return the lower-cased MIME type as ``Message.get_content_type`` would."""
        value = self.get("content-type")
        if value is None:
            return self._default_type
        ctype = str(value).partition(";")[0].strip().lower()
        return ctype if ctype.count("/") == 1 else "text/plain"

    def get_all(self, name: str, default: object = None) -> list[object] | object:
        """Return every value of header ``name``, or ``default``."""
        pairs = self._fields.get(name.lower())
        if not pairs:
            return default
        if self._plain_ascii:
            return [
                v if isinstance(v, str) and v.isascii() else self._fetch(k, v) for k, v in pairs
            ]
        return [self._fetch(k, v) for k, v in pairs]


def header_index(msg: Message) -> HeaderIndex | Message:
    """Return a ``HeaderIndex`` of ``msg``, or ``msg`` itself when its headers cannot be read."""
    try:
        return HeaderIndex(msg)
    except Exception:  # noqa: BLE001 - malformed header objects: fall back to Message.get
        return msg


def get_header(msg: HeaderIndex | Message, name: str) -> str:
    """Return the first ``name`` header of ``msg`` as decoded text, or ''."""
    try:
        return header_text(msg.get(name))
    except Exception:  # noqa: BLE001 - malformed header objects
        return ""


def get_all_headers(msg: HeaderIndex | Message, name: str) -> list[str]:
    """Return every ``name`` header of ``msg`` as decoded text."""
    try:
        return [header_text(v) for v in msg.get_all(name) or ()]
    except Exception:  # noqa: BLE001
        return []


def content_type(part: Message) -> str:
    """Return the part's lower-cased MIME type, tolerating broken Content-Type headers."""
    if isinstance(part, LazyMessage):
        return part.ctype
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "text/plain"


def _indexed_content_type(headers: HeaderIndex) -> str:
    try:
        return headers.content_type()
    except Exception:  # noqa: BLE001 - as content_type()
        return "text/plain"


def _decode_bytes(data: bytes, charset: str | None) -> str:
    name = (charset or "").strip().strip('"').lower()
    if name in ("", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "8bit", "default"):
        name = "utf-8"
    try:
        codecs.lookup(name)
    except (LookupError, ValueError):
        name = "utf-8"
    if name in ("utf-8", "utf8"):
        return data.decode("utf-8", "replace")
    try:
        return data.decode(name)
    except (UnicodeDecodeError, LookupError, ValueError):
        # A wrong declared charset is common; UTF-8 is the usual truth.
        return data.decode("utf-8", "replace")


def charset_of(part: Message) -> str | None:
    """Return the charset parameter of the part's Content-Type, or None.

    A plain regular expression over the header: ``Message.get_param`` parses every parameter
    (RFC 2231 continuations included) and costs more than decoding a typical bounce part."""
    try:
        value = part.ctype_value if isinstance(part, LazyMessage) else part.get("content-type")
    except Exception:  # noqa: BLE001 - malformed header objects
        return None
    if value is None:
        return None
    m = _CHARSET.search(str(value))
    return (m.group(1) or m.group(2)) if m else None


def part_text(part: Message, limit: int = 200_000, ctype: str | None = None) -> str:
    """Return the decoded text of a leaf part (HTML reduced to text), at most ``limit`` chars.

    ``ctype`` is the part's content type when the caller already knows it."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken base64 / quoted-printable
        payload = None
    if payload is None:
        raw = part.get_payload()
        if isinstance(raw, str):
            payload = raw.encode("utf-8", "surrogateescape")
        else:
            return ""
    if not isinstance(payload, bytes):
        return ""
    if len(payload) > limit * 2:
        payload = payload[: limit * 2]
    text = _decode_bytes(payload, charset_of(part))
    if (ctype or content_type(part)) == "text/html":
        text = html_to_text(text)
    return text[:limit].replace("\x00", "").replace("\r\n", "\n")


def html_to_text(text: str) -> str:
    """Reduce HTML to plain text lines, good enough to read a bounce's wording."""
    text = _BR.sub("\n", text)
    text = _TAG.sub(" ", text)
    return html.unescape(text)


def walk(
    msg: Message, headers: HeaderIndex | Message | None = None
) -> Iterator[tuple[Message, str]]:
    """Yield (part, content type) of ``msg``'s own parts, without recursion and bounded in
    depth and count.  An enclosed message (message/rfc822 ...) is yielded but not entered:
    its parts belong to the message that bounced, not to the bounce.  ``headers``, when
    given, is ``msg``'s header index: its own type is read from it, not by a header scan."""
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        if seen == 1 and isinstance(headers, HeaderIndex):
            ctype = _indexed_content_type(headers)
        else:
            ctype = content_type(part)
        yield part, ctype
        if depth >= MAX_DEPTH or ctype in ENCLOSED_TYPES:
            continue
        # Only a multipart has children; asking a leaf for its payload would make compat32
        # look up its transfer encoding (and decode 8-bit text) for nothing.
        if part.is_multipart():
            for child in reversed(part.get_payload()):
                if isinstance(child, Message):
                    stack.append((child, depth + 1))


def addresses(text: str) -> list[str]:
    """Return every e-mail address in ``text`` in order of appearance."""
    return _ADDRESS.findall(text)


def first_address(text: str) -> str | None:
    """Return the first e-mail address in ``text``, or None."""
    m = _ADDRESS.search(text)
    return m.group(0) if m else None


def normalise_address(addr: str | None) -> str | None:
    """Return ``addr`` trimmed, unquoted, with a lower-cased domain; None when it is not one."""
    if not addr:
        return None
    addr = addr.strip().strip("<>").replace('"', "").strip().rstrip(".")
    if addr.lower().startswith("mailto:"):
        addr = addr[7:]
    if addr.startswith("@") and ":" in addr:
        # An RFC 5321 source route ("@relay.example:user@example.com"): the mailbox follows.
        addr = addr.partition(":")[2].strip()
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain:
        return None
    return f"{local}@{domain.lower()}"


def clean_line(text: str, limit: int = 1000) -> str:
    """Collapse ``text`` into one line of at most ``limit`` characters."""
    text = _SPACES.sub(" ", text.replace("\n", " ").replace("\x00", "")).strip()
    return text[:limit]


def lower_in_place(text: str) -> str:
    """Return ``text`` lower-cased with every character kept at its position.

    Matching lower-case patterns against lower-cased text is several times faster than
    re.IGNORECASE, and positions found in the result hold in ``text``.  ``str.lower()`` turns
    "\u0130" (capital I with dot) into two characters, the only character it lengthens."""
    low = text.lower()
    if len(low) != len(text):
        low = text.replace("\u0130", "i").lower()
    return low


def squash_spaces(text: str) -> str:
    """Collapse runs of horizontal white space into one space."""
    return _SPACES.sub(" ", text)
