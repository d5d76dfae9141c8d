"""Table-driven checks of the classifier on real bounce messages (tests/.../fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bounces.classifier import PERMANENT, TEMPORARY, Analysis, analyse, classify
from core.categories import PAIRS

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# file -> (kind, [(recipient, type, category, status or None to skip the check)])
EXPECTED = {
    "lhost-postfix-15.eml": (
        "dsn",
        [("kijitora@bukkoji.example.org", TEMPORARY, "network_error", "4.4.1")],
    ),
    "lhost-qmail-04.eml": (
        "non_standard",
        [("kijitora@example.net", TEMPORARY, "authentication_failure", None)],
    ),
    "lhost-qmail-17.eml": (
        "non_standard",
        [
            ("userunknown@libsisimai.net", PERMANENT, "bad_mailbox", "5.1.1"),
            ("mailboxfull@libsisimai.net", TEMPORARY, "mailbox_full", "5.2.2"),
        ],
    ),
    "lhost-exim-06.eml": (
        "non_standard",
        [("kijitora@example.com", TEMPORARY, "network_error", None)],
    ),
    "lhost-exim-34.eml": (
        "non_standard",
        [("kijitora@example.net", TEMPORARY, "authentication_failure", "5.7.1")],
    ),
    "lhost-exim-36.eml": (
        "non_standard",
        # "Unroutable sender address": our sender domain is at fault, not the recipient.
        [("kijitora@example.edu", TEMPORARY, "authentication_failure", None)],
    ),
    "lhost-sendmail-05.eml": (
        "dsn",
        [("kijitora@example.org", TEMPORARY, "mailbox_full", "5.2.3")],
    ),
    "lhost-sendmail-25.eml": (
        "dsn",
        [("=?utf-8?B?8J+QiPCfkIg=?=@example.org", PERMANENT, "bad_mailbox", "5.1.1")],
    ),
    "lhost-gmail-11.eml": (
        "non_standard",
        [("kijitora@example.com", TEMPORARY, "network_error", None)],
    ),
    "lhost-googlegroups-07.eml": (
        "non_standard",
        [("libsisimai@googlegroups.com", PERMANENT, "sender_rejected", None)],
    ),
    "lhost-outlook-04.eml": (
        "dsn",
        [
            ("sabineko@example.co.jp", PERMANENT, "bad_mailbox", "5.1.1"),
            ("mikeneko@example.co.jp", TEMPORARY, "mailbox_full", "5.2.2"),
        ],
    ),
    "lhost-amazonses-12.eml": ("success", [("success@simulator.amazonses.com", None, None, None)]),
    # A 4.0.0 "temporary failure report": never a permanent block on its own.
    "lhost-opensmtpd-12.eml": ("dsn", [("neko@nyaan.jp", TEMPORARY, "domain_error", None)]),
    "lhost-dragonfly-11.eml": (
        "non_standard",
        [("hostunknown@libsisimai.net", PERMANENT, "bad_domain", "5.1.2")],
    ),
    "lhost-x5-01.eml": ("dsn", [("kijitora@neko.example.org", PERMANENT, "bad_mailbox", "5.1.1")]),
    "lhost-postfix-49.eml": (
        "dsn",
        [("kijitora-neko-nyaan@ntt.example.ne.jp", TEMPORARY, "authentication_failure", None)],
    ),
    "lhost-messagingserver-03.eml": (
        "dsn",
        [
            ("sabineko@example.org", PERMANENT, "bad_mailbox", None),
            ("mikeneko@example.org", PERMANENT, "bad_mailbox", None),
        ],
    ),
    "lhost-zoho-02.eml": (
        "non_standard",
        [
            ("mikeneko@example.co.jp", PERMANENT, "bad_mailbox", "5.2.1"),
            ("sabineko@example.co.jp", TEMPORARY, "mailbox_full", "5.2.2"),
        ],
    ),
    "lhost-v5sendmail-04.eml": (
        "non_standard",
        [
            ("kijitora@example.ed.jp", PERMANENT, "bad_domain", None),
            ("mikeneko@example.ac.jp", PERMANENT, "bad_domain", None),
        ],
    ),
    "lhost-mailfoundry-02.eml": (
        "non_standard",
        [("kijitora@example.org", TEMPORARY, "mailbox_full", None)],
    ),
    "rhost-gsuite-04.eml": ("dsn", [("sironeko@example.jp", TEMPORARY, "network_error", None)]),
    "rfc3464-40.eml": (
        "dsn",
        [("kijitora@nyaan.neko.example.com", TEMPORARY, "network_error", "4.4.6")],
    ),
    "rfc3834-04.eml": ("auto_reply", [("kijitora@example.org", TEMPORARY, "auto_reply", None)]),
    "arf-19.eml": ("complaint", [("kijitora@example.org", TEMPORARY, "content_related", None)]),
    "lhost-barracuda-02.eml": (
        "dsn",
        [("kijitora@example.jp", PERMANENT, "possible_spam", "5.7.1")],
    ),
    "lhost-postfix-28.eml": (
        "dsn",
        [("kijitora@gmail.example.com", PERMANENT, "protocol_error", "5.7.1")],
    ),
    "lhost-yahoo-02.eml": (
        "non_standard",
        [("kijitora@example.ed.jp", TEMPORARY, "mailbox_full", "5.2.2")],
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_is_classified_as_expected(name):
    kind, rows = EXPECTED[name]
    analysis = analyse((FIXTURES / name).read_bytes())
    assert analysis.parsed, analysis.reason
    assert analysis.kind == kind
    got = {v.recipient.lower(): v for v in analysis.verdicts}
    assert len(got) == len(rows)
    for recipient, type_, category, status in rows:
        verdict = got[recipient.lower()]
        assert (verdict.type, verdict.category) == (type_, category)
        if status is not None:
            assert verdict.status == status
        assert verdict.explanation


def test_arf_report_lists_every_original_recipient(load_fixture):
    analysis = analyse(load_fixture("arf-16.eml"))
    assert analysis.kind == "complaint"
    assert len(analysis.verdicts) == 7
    assert {v.category for v in analysis.verdicts} == {"content_related"}
    assert analysis.verdicts[0].diagnostic == "Feedback-Type: abuse"


def test_original_message_id_and_return_path_are_found(load_fixture):
    analysis = analyse(load_fixture("lhost-exim-06.eml"))
    assert analysis.original_message_id == "00000000000000000000000000000000@mx.example.org"
    assert analysis.original_return_path == "shironeko@mail.example.net"
    assert analysis.subject == "Mail delivery failed: returning message to sender"
    assert analysis.sender == "Mailer-Daemon@mail.example.net"


def test_success_dsn_blocks_nothing(load_fixture):
    analysis = analyse(load_fixture("lhost-amazonses-12.eml"))
    assert analysis.kind == "success"
    assert all(v.type is None and v.category is None for v in analysis.verdicts)


def test_classify_returns_the_verdicts_of_analyse(load_fixture):
    raw = load_fixture("lhost-outlook-04.eml")
    assert classify(raw) == list(analyse(raw).verdicts)


def test_every_fixture_parses_and_only_uses_known_categories():
    for path in sorted(FIXTURES.glob("*.eml")):
        analysis = analyse(path.read_bytes())
        assert isinstance(analysis, Analysis)
        assert analysis.parsed, path.name
        for v in analysis.verdicts:
            assert v.category is None or (v.type, v.category) in PAIRS
            assert v.type in (None, TEMPORARY, PERMANENT)
            assert (v.type is None) == (v.category is None)
            assert v.diagnostic is None or ("\n" not in v.diagnostic and len(v.diagnostic) <= 1000)
