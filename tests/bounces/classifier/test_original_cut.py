"""The lazy MIME reader (headers first, only the parts the classifier reads, a returned
original's header fields only) must give the answers of a full compat32 parse."""

from __future__ import annotations

import base64
import email
from email.message import Message
from pathlib import Path

import pytest

from bounces.classifier import analyse, mime
from bounces.classifier.core import _analyse_message, _is_bounce_head

HERE = Path(__file__).resolve().parent
MESSAGES = sorted(
    p for folder in (HERE / "fixtures", HERE / "corpus2" / "corpus") for p in folder.glob("*.eml")
)


def answers(analysis) -> list[tuple]:
    return [(v.recipient, v.status, v.type, v.category) for v in analysis.verdicts]


def full_parse_answers(raw: bytes) -> list[tuple]:
    return answers(_analyse_message(email.message_from_bytes(raw), False))


def enclosed(msg: Message) -> Message:
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            return part.get_payload()[0]
    raise AssertionError("no message/rfc822 part")


def dsn_with_original(original: bytes, *, newline: bytes = b"\n") -> bytes:
    text = (
        b"From: MAILER-DAEMON@mx.example.net\n"
        b"To: sender@example.com\n"
        b"Subject: Undelivered Mail Returned to Sender\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\n'
        b"\n"
        b"--B1\n"
        b"Content-Type: text/plain\n"
        b"\n"
        b"Your message could not be delivered.\n"
        b"\n"
        b"--B1\n"
        b"Content-Type: message/delivery-status\n"
        b"\n"
        b"Reporting-MTA: dns; mx.example.net\n"
        b"\n"
        b"Final-Recipient: rfc822; gone@example.org\n"
        b"Action: failed\n"
        b"Status: 5.1.1\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
        b"\n"
        b"--B1\n"
        b"Content-Type: message/rfc822\n"
        b"\n" + original + b"\n--B1--\n"
    )
    return text.replace(b"\n", newline)


BIG_ORIGINAL = (
    b"Return-Path: <bounces+42@example.com>\n"
    b"Message-ID: <newsletter-42@example.com>\n"
    b"From: News <news@example.com>\n"
    b"To: gone@example.org\n"
    b"Subject: Our news\n"
    b'Content-Type: multipart/mixed; boundary="B2"\n'
    b"\n"
    b"--B2\n"
    b"Content-Type: text/plain\n"
    b"\n"
    b"Hello\n"
    b"--B2\n"
    b"Content-Type: application/pdf\n"
    b"Content-Transfer-Encoding: base64\n"
    b"\n" + base64.encodebytes(bytes(range(256)) * 2000) + b"--B2--\n"
)


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: p.name)
def test_lazy_reading_changes_no_answer(path) -> None:
    raw = path.read_bytes()
    for variant in (raw, raw[: len(raw) // 2]):
        assert answers(analyse(variant)) == full_parse_answers(variant)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_big_original_is_read_for_its_headers(newline: bytes) -> None:
    raw = dsn_with_original(BIG_ORIGINAL, newline=newline)
    msg, degraded = mime.parse_message(raw, keep_whole=_is_bounce_head)
    original = enclosed(msg)
    assert not degraded and original.get_payload() is None  # its body was never read
    assert original["Message-ID"] == "<newsletter-42@example.com>"
    result = analyse(raw)
    assert result.original_message_id == "newsletter-42@example.com"
    assert result.original_return_path == "bounces+42@example.com"
    assert [v.recipient for v in result.verdicts] == ["gone@example.org"]
    assert answers(result) == full_parse_answers(raw)


def test_an_enclosed_bounce_is_kept_whole() -> None:
    inner = dsn_with_original(b"Message-ID: <first@example.com>\nTo: x@example.org\n\nhi\n")
    inner = inner.replace(b'"B1"', b'"B9"').replace(b"--B1", b"--B9")
    forwarded = dsn_with_original(inner + b"\n" + b"x" * 40_000)
    msg, _ = mime.parse_message(forwarded, keep_whole=_is_bounce_head)
    assert enclosed(msg).is_multipart()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[: raw.index(b"Subject: Our news") + 5],  # truncated in the headers
        lambda raw: raw[: len(raw) // 2],  # truncated in the attachment
        lambda raw: raw.replace(b"--B1--\n", b""),  # no closing delimiter
        lambda raw: raw.replace(
            b"Content-Type: message/rfc822\n",
            b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n",
        ),
        lambda raw: raw.replace(b'boundary="B1"', b"boundary="),  # no boundary
        lambda raw: raw.replace(b"\n\n", b"\n"),  # no blank lines at all
    ],
)
def test_malformed_structure_never_raises(mangle) -> None:
    raw = mangle(dsn_with_original(BIG_ORIGINAL))
    msg, _ = mime.parse_message(raw, keep_whole=_is_bounce_head)
    assert isinstance(msg, Message)
    assert answers(analyse(raw)) == full_parse_answers(raw)
