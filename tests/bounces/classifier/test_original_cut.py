"""Reading a returned original for its header fields only must not change any answer."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bounces.classifier import analyse, mime
from bounces.classifier.core import _is_bounce_head

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MESSAGES = sorted(p for p in FIXTURES.iterdir() if p.suffix == ".eml")


@pytest.fixture
def cut_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut originals out of messages of any size, so the small fixtures exercise the cut."""
    monkeypatch.setattr(mime, "MIN_CUT_BYTES", 0)


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
def test_cut_changes_no_answer(path, cut_everything) -> None:
    raw = path.read_bytes()
    for variant in (raw, raw.replace(b"\n", b"\r\n"), raw[: len(raw) // 2]):
        cut = mime.originals_as_headers(variant, _is_bounce_head)
        assert analyse(cut) == analyse(variant)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_big_original_is_read_for_its_headers(newline: bytes) -> None:
    raw = dsn_with_original(BIG_ORIGINAL, newline=newline)
    cut = mime.originals_as_headers(raw, _is_bounce_head)
    assert len(cut) < 2_000 < len(raw)
    assert b"Content-Type: text/rfc822-headers" in cut
    result = analyse(raw)
    assert result.original_message_id == "newsletter-42@example.com"
    assert result.original_return_path == "bounces+42@example.com"
    assert [v.recipient for v in result.verdicts] == ["gone@example.org"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mime, "MIN_CUT_BYTES", 10**9)
        assert analyse(raw) == result


def test_an_enclosed_bounce_is_kept_whole() -> None:
    inner = dsn_with_original(b"Message-ID: <first@example.com>\nTo: x@example.org\n\nhi\n")
    inner = inner.replace(b'"B1"', b'"B9"').replace(b"--B1", b"--B9")
    forwarded = dsn_with_original(inner + b"\n" + b"x" * 40_000)
    assert mime.originals_as_headers(forwarded, _is_bounce_head) == forwarded


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
    cut = mime.originals_as_headers(raw, _is_bounce_head)
    assert isinstance(cut, bytes)
    result = analyse(raw)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mime, "MIN_CUT_BYTES", 10**9)
        assert analyse(raw) == result
