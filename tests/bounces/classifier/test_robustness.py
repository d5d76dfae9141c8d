"""The classifier never raises: mutated real messages, random bytes, hostile structure."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounces.classifier import Analysis, analyse

FIXTURES = sorted((Path(__file__).resolve().parent / "fixtures").glob("*.eml"))
REAL = [p.read_bytes() for p in FIXTURES]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(raw: bytes) -> Analysis:
    analysis = analyse(raw)
    assert isinstance(analysis, Analysis)
    assert analysis.parsed or analysis.reason
    for verdict in analysis.verdicts:
        assert verdict.explanation
    return analysis


@SETTINGS
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise(raw):
    check(raw)


@st.composite
def mutated(draw):
    raw = bytearray(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "dup"]))
        pos = draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del raw[pos:]
        elif op == "insert":
            raw[pos:pos] = draw(
                st.sampled_from(
                    [b"\x00", b"\xff\xfe", b"\n\n", b"--", b"=?utf-8?B?////?=", b"\r", b"\xe9"]
                )
            )
        elif op == "delete":
            del raw[pos : pos + draw(st.integers(1, 200))]
        elif op == "dup":
            raw[pos:pos] = raw[pos : pos + 300]
    return bytes(raw)


@SETTINGS
@given(mutated())
def test_mutated_real_messages_never_raise(raw):
    check(raw)


@SETTINGS
@given(st.sampled_from(REAL), st.integers(min_value=0, max_value=6000))
def test_truncated_messages_never_raise(raw, keep):
    check(raw[:keep])


def nested(depth: int) -> bytes:
    head = b"From: MAILER-DAEMON@example.org\nSubject: Undelivered\nMIME-Version: 1.0\n"
    parts = [head]
    for i in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i))
    parts.append(b"Content-Type: text/plain\n\n<x@example.net>: user unknown\n")
    for i in reversed(range(depth)):
        parts.append(b"--b%d--\n" % i)
    return b"".join(parts)


def test_multipart_nested_2000_deep_does_not_raise():
    check(nested(2000))


def test_20_mb_attachment_is_handled():
    raw = (
        b"From: MAILER-DAEMON@example.org\nTo: s@example.com\nSubject: Undelivered Mail\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n--B\n'
        b"Content-Type: text/plain\n\n<gone@example.net>: 550 5.1.1 user unknown\n\n--B\n"
        b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        + b"QUJDRA==\n" * (20 * 1024 * 1024 // 9)
        + b"--B--\n"
    )
    analysis = check(raw)
    assert [v.recipient for v in analysis.verdicts] == ["gone@example.net"]


def test_unknown_and_wrong_charsets_are_tolerated():
    raw = (
        b"From: MAILER-DAEMON@example.org\nSubject: =?x-bogus?Q?Undeliv=E9red?=\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\n\n"
        b"<gone@example.net>: 550 5.1.1 utilisateur inconnu \xe9\xe8 user unknown\n"
    )
    analysis = check(raw)
    assert analysis.verdicts[0].category == "bad_mailbox"


def test_nul_bytes_and_8bit_headers_are_cleaned():
    raw = (
        b"From: Mail\xc3\xa9 Delivery <MAILER-DAEMON@example.org>\n"
        b"Subject: Undelivered\x00 mail\n\n"
        b"<gone@example.net>:\x00 550 5.1.1 user unknown\n"
    )
    analysis = check(raw)
    assert "\x00" not in (analysis.subject or "")
    assert all("\x00" not in (v.diagnostic or "") for v in analysis.verdicts)


def test_empty_and_non_messages_are_not_parsed():
    assert analyse(b"").parsed is False
    assert analyse(b"just some words").reason
    assert analyse("not bytes").parsed is False  # type: ignore[arg-type]
