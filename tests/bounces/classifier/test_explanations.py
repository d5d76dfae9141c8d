"""The "why" shown for a block: short, human, naming the evidence that decided."""

from __future__ import annotations

from bounces.classifier import PERMANENT, TEMPORARY, analyse
from bounces.classifier.rules import decide

DSN = b"""From: MAILER-DAEMON@mx.example.org
To: sender@example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; Someone@Example.NET
Action: failed
Status: %(status)s
Diagnostic-Code: smtp; %(diag)s

--B--
"""


def dsn(status: str, diag: str) -> bytes:
    return DSN % {b"status": status.encode(), b"diag": diag.encode()}


def test_specific_status_explains_itself():
    verdict = analyse(dsn("5.1.1", "550 5.1.1 <someone@example.net>: user unknown")).verdicts[0]
    assert verdict.explanation == "DSN status 5.1.1: the mailbox does not exist"
    assert verdict.recipient == "Someone@example.net"  # local part kept, domain lower-cased
    assert (verdict.type, verdict.category, verdict.reply_code) == (
        PERMANENT,
        "bad_mailbox",
        "550",
    )


def test_wording_beats_a_vague_status_and_is_quoted():
    verdict = analyse(dsn("5.0.0", "552 5.0.0 Mailbox full, try later")).verdicts[0]
    assert verdict.category == "mailbox_full"
    assert verdict.type == TEMPORARY
    assert '"mailbox full"' in verdict.explanation.lower()


def test_reply_code_is_the_last_resort():
    decision = decide(None, "552", "something odd happened")
    assert decision.category == "mailbox_full"
    assert decision.explanation.startswith("SMTP reply 552")


def test_no_evidence_says_so():
    decision = decide(None, None, None)
    assert decision.category == "other"
    assert "without a recognisable reason" in decision.explanation


def test_temporary_domain_failure_is_a_domain_error():
    decision = decide("4.1.2", None, "Host or domain name not found")
    assert (decision.type, decision.category) == (TEMPORARY, "domain_error")
    permanent = decide("5.1.2", None, "Host or domain name not found")
    assert (permanent.type, permanent.category) == (PERMANENT, "bad_domain")


def test_delayed_action_is_temporary():
    verdict = analyse(dsn("4.4.7", "delivery time expired")).verdicts[0]
    assert verdict.type == TEMPORARY
    assert verdict.category == "network_error"
