"""Non-standard bounces: find failed recipients and their diagnostics in human text."""

from __future__ import annotations

import re
from functools import lru_cache

import ahocorasick

from core.addresses import ADDRESS_RE

from .dsn import STATUS
from .mime import clean_line, lower_in_place

# A line that starts the returned original message (or its headers) in a plain-text bounce,
# never the first line.  This and _HEADER_BLOCK are matched against lower-cased text (see
# mime.lower_in_place), and both open with the newline before the line: a search for a
# literal character skips ahead quickly, where "^" would be tried at every position.
_ORIGINAL_MARKER = re.compile(
    r"\n[ \t\-=_*#>|]*(?:"
    r"(?:this is |here is |following is |below is )?(?:a )?copy of (?:the |your )?(?:original )?"
    r"(?:message|mail)"
    r"|below this line is a copy"
    r"|(?:the )?(?:original|returned|undelivered|unsent|rejected|bounced) (?:message|mail|e-?mail)"
    r"(?: headers?)?(?:\s+(?:as\s+)?(?:follows|below|is attached|attached|text|header)"
    r"|\s*:|\s*[-=]*\s*$)"
    r"|message headers? follows?"
    r"|(?:the )?headers? (?:of|from) (?:the |your )?(?:original |returned )?message"
    r"|content-type: (?:message/rfc822|text/rfc822-headers)"
    r"|unsent message below"
    r"|original message (?:follows|headers?)"
    r"|message text follows"
    # "\S*\s*(?:included|enclosed|attached)" without backtracking through every line's first
    # word: the word is either followed by white space and the verb, or ends with the verb.
    r"|\S*+(?:\s++(?:included|enclosed|attached)|(?<=included|enclosed|attached))"
    r" (?:is )?(?:the )?(?:original )?message"
    r")",
    re.M,
)
# The first header of a returned message, followed by another header or a folded line.
_HEADER_BLOCK = re.compile(
    r"\n(?:return-path|received|dkim-signature|message-id|mime-version|x-mailer|"
    r"authentication-results|delivered-to|x-original-to):[ \t][^\n]*\n"
    r"(?:[a-z][a-z0-9-]*:[ \t]|[ \t]+\S)",
    re.M,
)

# Contexts in which an address in bounce text names a failed recipient.
# How much of a non-standard bounce's own text is read for its reason.  The same slice is used
# everywhere, so the wording cache (rules.phrase_matches) answers the second time.
CONTEXT_CHARS = 4000

# Contexts in which an address in bounce text names a failed recipient, matched against the
# lower-cased end of the text before it (see _strong_context for the cheap cases).  Every
# alternative is anchored at the end, which the matcher tries at each position: the window is
# kept short and the expression free of re.IGNORECASE.
_STRONG_TAIL = re.compile(
    r"(?:rcpt to:\s*<?|\bto\s*:?\s*<|\bto:\s*|recipient(?: address)?\s*:?\s*<?|"
    r"address(?:es)?\s*:\s*<?|\bfor\s*<|\buser\s*<?|mailbox\s*<?|"
    r"delivering (?:your )?mail to\s*<?|deliver(?:ed)? to\s*<?|\bto\s+<?|"
    # Exim's "(generated from jane@...)" names the address we wrote to; "quota violation for"
    # and the like name the mailbox the reason is about.
    r"generated from\s*<?|(?:violation|exceeded|full|unknown|rejected|failed|denied) for\s*<?)$"
)
# Contexts in which an address is not a recipient: a message id, a help desk to write to.
_NOT_RECIPIENT_TAIL = re.compile(
    r"(?:message-?id|\bid|contact|e-?mail us at|write to|reply to|sent by|"
    r"(?<!generated )from|sender|send (?:an )?e-?mail to|reach us at):?\s*<?\s*$"
)
# Rarer ones, each tried only when a word it needs occurs: (needed words, expression).
_NOT_RECIPIENT_RARE = (
    (("contact",), re.compile(r"\bcontact\b")),
    (("question",), re.compile(r"questions?[^.]{0,30}\b(?:to|at):?\s*<?\s*$")),
    # The sender identity of an ESP's JSON notification ("source", an ARN), not a recipient.
    (
        ('"',),
        re.compile(
            r"\"(?:source|sourcearn|sendingaccountid|from|returnpath|sender)\"\s*:\s*\[?\s*\"[^\"]*$"
        ),
    ),
    (("arn:aws:",), re.compile(r"\barn:aws:\S*$")),
    # Examples in explanatory text: "e.g., if jane@... fails, try emailing to NAME@...".
    (
        ("e.g.", "i.e.", "for example", "for instance", "such as"),
        re.compile(r"\b(?:e\.g\.|i\.e\.|for example|for instance|such as)[,:]?(?:\s+\w+){0,2}\s*$"),
    ),
    (("try",), re.compile(r"\btry(?:\s+\w+)?(?:\s+(?:to|at))?\s*$")),
)


def _strong_context(before: str) -> bool:
    """Return whether the text ``before`` an address puts it in a recipient's place."""
    tail = before[-60:]
    if not tail.strip(" \t*-<[") or tail.endswith("<"):
        return True  # at the start of a line (a list of addresses), or in angle brackets
    low = tail.lower()
    if "original-recipient:" in low or "final-recipient:" in low:
        return True
    return _STRONG_TAIL.search(low[-40:]) is not None


def _not_recipient_context(before: str) -> bool:
    """Return whether the text ``before`` an address says it is not a failed recipient."""
    low = before[-60:].lower()
    if _NOT_RECIPIENT_TAIL.search(low[-40:]):
        return True
    for words, rx in _NOT_RECIPIENT_RARE:
        for word in words:
            if word in low:
                if rx.search(low) is not None:
                    return True
                break
    return False


_ROLE = re.compile(
    r"^(?:mailer-daemon|postmaster|hostmaster|webmaster|abuse|noreply|no-reply|do-not-reply|"
    r"donotreply|help|helpdesk|help-desk|support|it-?support|servicedesk|service-desk|"
    r"security|noc)@",
    re.I,
)
# Look-behinds come after the first digit (see dsn.STATUS): a regular expression starting
# with a character class is scanned much faster.
_PAIRED = re.compile(r"([245](?<![\d.].)[0-5]\d)[\s\-]+#?([245]\.\d{1,3}\.\d{1,3})\b(?!\.\d)")
# A bare reply code; where it stands (line start, after "said:", "<<<" ...) is checked after,
# for the same reason.
_CODE = re.compile(r"([245](?<![\d.].)[0-5]\d)(?=[\s\-]|$)")
_CODE_LEADS = (":", "(", "<<<", "...", "]:")


# Every alternative of _ORIGINAL_MARKER contains one of these words on its first line, or (after
# a line break its white space crosses) on the next one.
_MARKER_WORDS = (
    "copy",
    "original",
    "returned",
    "undelivered",
    "unsent",
    "rejected",
    "bounced",
    "header",
    "rfc822",
    "text follows",
    "included",
    "enclosed",
    "attached",
)


_MARKER_FINDER = ahocorasick.Automaton()
for _word in _MARKER_WORDS:
    _MARKER_FINDER.add_word(_word, _word)
_MARKER_FINDER.make_automaton()


def find_original_marker(low: str) -> re.Match[str] | None:
    """Return the first match of _ORIGINAL_MARKER in ``low`` (lower-cased text), as
    ``_ORIGINAL_MARKER.search(low)`` would, trying the expression only at the starts of lines
    holding one of its words (and of the line before) instead of at every line."""
    # Aho-Corasick reports the words in the order they end, so candidate lines come in order:
    # the first line where the expression matches is the first match.
    tested: set[int] = set()
    for end, _word in _MARKER_FINDER.iter(low):
        line = low.rfind("\n", 0, end)
        if line < 0 or line in tested:
            continue
        before = low.rfind("\n", 0, line)
        for start in (before, line):
            if start >= 0 and start not in tested:
                tested.add(start)
                m = _ORIGINAL_MARKER.match(low, start)
                if m:
                    return m
    return None


def split_original(text: str) -> tuple[str, str]:
    """Split a plain-text bounce into (the bounce's own words, the returned original)."""
    low = lower_in_place(text)
    cut = len(text)
    m = find_original_marker(low)
    if m:
        cut = m.start() + 1  # after the newline
        nl = text.find("\n", m.end())
        rest_at = nl + 1 if nl >= 0 else len(text)
    h = _HEADER_BLOCK.search(low, 0, cut)
    if h:
        at = h.start() + 1
        return text[:at], text[at:]
    if m:
        return text[:cut], text[rest_at:]
    return text, ""


# The quoted header block of the original in an NDR ("Your message / To: list@... / Subject:
# ... / Sent: ..."): its To names whom we wrote to, which for a list is not the mailbox.
_QUOTED_HEADER_LINE = re.compile(r"^\s*[*\-]?\s*to\s*:", re.I)
_QUOTED_HEADER_NEXT = re.compile(r"^\s*[*\-]?\s*(?:subject|sent|date|cc)\s*:", re.I)
# An X.400 domain-defined attribute carrying the SMTP address ("dda:SMTP=user@example.com").
_X400_BEFORE = ("smtp=", "rfc-822=", "rfc822=")


# Placeholders in instructions ("try NAME@cs.example.edu"), written in capitals.
_PLACEHOLDERS = frozenset({"NAME", "USERNAME", "YOURNAME", "USERID", "NICKNAME", "ALIAS"})


def _in_quoted_header(text: str, line_start: int) -> bool:
    line_end = text.find("\n", line_start)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    if not _QUOTED_HEADER_LINE.match(line):
        return False
    following = text[line_end + 1 : line_end + 400].split("\n")[:3] if line_end >= 0 else []
    return any(_QUOTED_HEADER_NEXT.match(nxt) for nxt in following)


def candidate_recipients(
    text: str, excluded: set[str], soft_excluded: frozenset[str] | set[str] = frozenset()
) -> list[str]:
    """Return addresses that ``text`` names as failed recipients, strongest contexts first.

    ``excluded`` addresses are never recipients (the bounce's own sender and addressees, our
    return path); ``soft_excluded`` ones (the original's From) only where the text does not
    name them in a recipient's place."""
    strong: list[str] = []
    weak: list[str] = []
    quoted: set[str] = set()
    for m in ADDRESS_RE.finditer(text):
        addr = m.group(0).strip(".")
        start = m.start()
        if addr.startswith("'"):
            addr = addr.lstrip("'")  # 'user@example.com' quoted with apostrophes
            start += m.group(0).find(addr)
        x400 = addr.lower().startswith(_X400_BEFORE)
        if x400:  # the address pattern allows "=", so it took the attribute name in
            cut = addr.index("=") + 1
            addr, start = addr[cut:], start + cut
        key = addr.lower()
        if key in excluded or addr.partition("@")[0] in _PLACEHOLDERS:
            continue
        line_start = max(0, text.rfind("\n", 0, start) + 1)
        before = text[line_start:start]
        x400 = x400 or before.lower().endswith(_X400_BEFORE)
        if before.endswith(("/", "=", "?", "mailto:", "&")) and not x400:
            continue  # part of a URL or a query string
        word = before[max(before.rfind(" "), before.rfind("\t"), before.rfind("<")) + 1 :]
        if ("://" in word or "?" in word) and not x400:
            continue  # inside a URL (a query string's value)
        context = before
        if not before.strip() and line_start > 0:
            # Wrapped prose: the words before the address end the previous line.
            context = text[max(0, line_start - 61) : line_start - 1] + " " + before
        if _not_recipient_context(context):
            continue  # a message id, or a help-desk address to contact
        is_strong = x400 or _strong_context(before)
        if key in soft_excluded and not is_strong:
            continue
        if is_strong and _in_quoted_header(text, line_start):
            quoted.add(key)
        target = strong if is_strong else weak
        if key not in (a.lower() for a in strong) and key not in (a.lower() for a in target):
            target.append(addr)
    if quoted and any(a.lower() not in quoted for a in strong):
        strong = [a for a in strong if a.lower() not in quoted]
    strong_keys = {a.lower() for a in strong}
    weak = [a for a in weak if a.lower() not in strong_keys]
    picked = strong or weak
    # Role accounts named in help text ("contact postmaster@...") are not recipients unless
    # nothing else is named.
    real = [a for a in picked if not _ROLE.match(a)]
    return real or picked


def codes_in(text: str) -> tuple[str | None, str | None]:
    """Return (enhanced status, reply code) found in ``text``."""
    m = _PAIRED.search(text)
    if m:
        return m.group(2), m.group(1)
    s = STATUS.search(text)
    return (s.group(0) if s else None), _reply_code(text)


def _reply_code(text: str) -> str | None:
    for m in _CODE.finditer(text):
        start = m.start()
        line_start = text.rfind("\n", 0, start) + 1
        before = text[max(line_start, start - 12) : start].rstrip()
        if not before or before.endswith(_CODE_LEADS):
            return m.group(1)
    return None


def code_score(text: str) -> int:
    """Rate how much SMTP evidence ``text`` carries: an enhanced status, a reply code."""
    status, reply = codes_in(text)
    return (4 if status else 0) + (2 if reply else 0)


@lru_cache(maxsize=4)
def _lines_of(text: str) -> tuple[str, list[str], list[str]]:
    """Return ``text`` lower-cased, its lines and its lower-cased lines (cached: a bounce's
    text is searched once per recipient it names)."""
    low_text = text.lower()
    lines = text.split("\n")
    low_lines = low_text.split("\n")
    if len(low_lines) != len(lines):  # lower() never adds newlines, but stay safe
        low_lines = [ln.lower() for ln in lines]
    return low_text, lines, low_lines


def clear_caches() -> None:
    """Forget the texts cached for the previous message."""
    _lines_of.cache_clear()


def diagnostic_for(
    recipient: str, text: str, others: set[str], has_reason
) -> tuple[int, str] | None:
    """Return (score, text) for the text around ``recipient`` in ``text`` that best explains
    its failure, or None when ``recipient`` does not occur.

    Windows carrying status or reply codes win; among windows without codes, the first one
    whose wording ``has_reason`` recognises (score 1); otherwise the first window (score 0).
    """
    key = recipient.lower()
    low_text, lines, low_lines = _lines_of(text)
    if key not in low_text:
        return None
    # The lines naming the recipient, found with plain searches rather than a loop over lines.
    hits: list[int] = []
    pos, counted, line_no = low_text.find(key), 0, 0
    while pos >= 0:
        line_no += low_text.count("\n", counted, pos)
        counted = pos
        if not hits or hits[-1] != line_no:
            hits.append(line_no)
        pos = low_text.find(key, pos + len(key))
    windows: list[str] = []
    for i in hits:
        line = lines[i]
        # An SMTP transcript puts the server's answer ("<<< 550 ...") above the summary line.
        above: list[str] = []
        for prev in reversed(lines[max(0, i - 4) : i]):
            if not prev.lstrip().startswith("<<<"):
                break
            above.insert(0, prev)
        window = above + [line]
        blank = 0
        for j in range(i + 1, min(i + 10, len(lines))):
            nxt = lines[j]
            if any(o in low_lines[j] for o in others):
                break
            if not nxt.strip():
                blank += 1
                if blank >= 2 or len(window) > 2:
                    break
                continue
            window.append(nxt)
        windows.append(clean_line("\n".join(window)))
    if not windows:
        return None
    scores = [code_score(w) for w in windows]
    score = max(scores)
    if score:
        return score, windows[scores.index(score)]
    for chunk in windows:
        if has_reason(chunk):
            return 1, chunk
    return 0, windows[0]


# An enhanced status code, or a reply code followed by a space or dash (it counts only where
# a line's words start); written to open with a character class, see dsn.STATUS.
_CODE_MARK = re.compile(r"([245])(?<![\w.].)\.\d{1,3}\.\d{1,3}\b(?!\.\d)|[245][0-5]\d[\s-]")


def _coded_lines(text: str, limit: int) -> list[str]:
    """Return the first ``limit`` lines of ``text`` carrying a status code, or a reply code at
    their start."""
    lines: list[str] = []
    pos = 0
    while len(lines) < limit:
        m = _CODE_MARK.search(text, pos)
        if m is None:
            break
        at = m.start()
        start = text.rfind("\n", 0, at) + 1
        if m.group(1) is None and text[start:at].strip():
            pos = at + 1  # a reply code in the middle of a line
            continue
        # From the match's end: a reply code ending its line takes the next line with it.
        end = text.find("\n", m.end())
        end = len(text) if end < 0 else end
        lines.append(text[start:end])
        pos = end + 1
    return lines


def evidence_lines(text: str, reason_at, limit: int = 3) -> str | None:
    """Return the lines of ``text`` that carry the most evidence, for a bounce with no
    recipient-specific diagnostic: lines with SMTP codes, else the line where ``reason_at``
    (text -> position or None) finds the deciding wording."""
    coded = _coded_lines(text[:20_000], limit)
    if coded:
        return clean_line("\n".join(coded))
    head = text[:CONTEXT_CHARS]
    pos = reason_at(head)
    if pos is None:
        return None
    start = head.rfind("\n", 0, pos) + 1
    end = head.find("\n", pos)
    return clean_line(head[start : end if end >= 0 else len(head)])
