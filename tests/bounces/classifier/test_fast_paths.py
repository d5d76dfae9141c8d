"""The classifier's speed-ups must give the answers of the plain code they replace."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bounces.classifier import dsn, heuristics, rules
from bounces.classifier.mime import clean_line, lower_in_place

# The plain forms of the patterns that were rewritten to open with a character class.
PLAIN_STATUS = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})\b(?!\.\d)")
PLAIN_PAIRED = re.compile(r"(?<![\d.])([245][0-5]\d)[\s\-]+#?([245]\.\d{1,3}\.\d{1,3})\b(?!\.\d)")
PLAIN_CODE = re.compile(r"(?<![\d.])([245][0-5]\d)(?=[\s\-]|$)")
PLAIN_CODE_LINE = re.compile(
    r"^.*?(?:(?<![\w.])[245]\.\d{1,3}\.\d{1,3}\b(?!\.\d)|^\s*[245][0-5]\d[\s-]).*$", re.M
)

# Text made of the pieces that matter to these patterns, so examples hit the edge cases.
pieces = st.sampled_from(
    ["5", "4", "2", "0", "1", ".", "-", " ", "\n", "\t", "\r", "a", "_", "é", "550", "5.1.1"]
)
code_text = st.lists(pieces, max_size=30).map("".join)
wording = st.lists(
    st.sampled_from(sorted(rules._BY_LITERAL) + ["x", " ", "\n", "e", "s", "550 "]), max_size=12
).map("".join)


def spans(pattern: re.Pattern[str], text: str) -> list[tuple]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(code_text)
def test_code_patterns_match_their_plain_forms(text: str) -> None:
    assert spans(dsn.STATUS, text) == spans(PLAIN_STATUS, text)
    assert spans(heuristics._PAIRED, text) == spans(PLAIN_PAIRED, text)
    assert spans(heuristics._CODE, text) == spans(PLAIN_CODE, text)


@settings(max_examples=400, deadline=None)
@given(code_text)
def test_coded_lines_match_the_line_pattern(text: str) -> None:
    plain = [m.group(0) for m in PLAIN_CODE_LINE.finditer(text)][:3]
    assert clean_line("\n".join(heuristics._coded_lines(text, 3))) == clean_line("\n".join(plain))


@settings(max_examples=400, deadline=None)
@given(wording)
def test_literal_prefilter_finds_every_literal(text: str) -> None:
    expected = set(rules._UNFILTERED)
    for literal, pairs in rules._BY_LITERAL.items():
        if literal in text:
            expected.update(pairs)
    assert rules._candidate_rules(text) == expected


def test_lower_in_place_keeps_positions() -> None:
    text = "İSTANBUL: User Unknown"
    low = lower_in_place(text)
    assert len(low) == len(text)
    assert low.index("user unknown") == text.index("User Unknown")


marker_text = st.lists(
    st.sampled_from(
        list(heuristics._MARKER_WORDS)
        + ["\n", " ", "message", "mail", "follows", "below", ":", "-", "the ", "a ", "is ", "x"]
    ),
    max_size=20,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(marker_text)
def test_original_marker_search_matches_the_plain_search(text: str) -> None:
    plain = heuristics._ORIGINAL_MARKER.search(text)
    fast = heuristics.find_original_marker(text)
    assert (plain and plain.span()) == (fast and fast.span())
