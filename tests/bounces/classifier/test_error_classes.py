"""Whole messages for each class of error issue 10 lists: one message per class, built the way
mail servers write them, run through ``analyse``."""

from __future__ import annotations

import pytest

from bounces.classifier import analyse

P, T = "permanent", "temporary"


def dsn(*groups: str, text: str = "Delivery to the following recipients failed.") -> bytes:
    """A multipart/report DSN with one per-recipient group per argument."""
    fields = "\n\n".join(groups)
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        "To: bounces+tok42@bounces.crm.example\n"
        "Reply-To: helpdesk@example.net\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain; charset=utf-8\n\n"
        f"{text}\n\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\n"
        f"{fields}\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\n"
        "From: Sales <sales@crm.example>\nTo: jane@example.org\nSubject: Hello\n"
        "Message-ID: <m1@crm.example>\n\n"
        "--B--\n"
    ).encode()


def group(recipient: str, action: str, status: str, diagnostic: str = "") -> str:
    out = f"Final-Recipient: rfc822; {recipient}\nAction: {action}\nStatus: {status}"
    return out + (f"\nDiagnostic-Code: smtp; {diagnostic}" if diagnostic else "")


def plain(
    subject: str, body: str, sender: str = "MAILER-DAEMON@mx.example.net", **headers
) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in headers.items())
    return (
        f"From: {sender}\nTo: bounces+tok42@bounces.crm.example\nSubject: {subject}\n{extra}"
        "Content-Type: text/plain; charset=utf-8\n\n" + body
    ).encode()


def verdicts(raw: bytes) -> dict[str, tuple[str | None, str | None]]:
    return {v.recipient: (v.type, v.category) for v in analyse(raw).verdicts}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # 1. Status class: delayed DSNs and 4.x.x are never permanent.
        (
            dsn(group("jane@example.org", "delayed", "4.4.1", "connect to mx: Connection refused")),
            (T, "network_error"),
        ),
        (
            dsn(group("jane@example.org", "failed", "4.4.7", "delivery time expired")),
            (T, "network_error"),
        ),
        (
            dsn(group("jane@example.org", "failed", "4.1.1", "450 4.1.1 user unknown")),
            (T, "other"),
        ),
        (
            plain(
                "Mail delivery failed",
                "This message has been rejected:\n\n  jane@example.org\n"
                "    retry timeout exceeded\n",
            ),
            (T, "network_error"),
        ),
        # 2. Null MX.
        (
            dsn(group("jane@example.org", "failed", "5.1.10", "556 5.1.10 Null MX")),
            (P, "bad_domain"),
        ),
        # 3. Sender-side faults.
        (
            dsn(
                group(
                    "jane@example.org",
                    "failed",
                    "5.1.8",
                    "553 5.1.8 Domain of sender address bounces@crm.example does not exist",
                )
            ),
            (T, "authentication_failure"),
        ),
        (
            dsn(group("jane@example.org", "failed", "5.7.26", "550 5.7.26 does not pass DMARC")),
            (T, "authentication_failure"),
        ),
        (
            dsn(
                group(
                    "jane@example.org",
                    "failed",
                    "5.7.1",
                    "550 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using Spamhaus",
                )
            ),
            (T, "authentication_failure"),
        ),
        (
            dsn(group("jane@example.org", "failed", "4.7.0", "421 4.7.0 Too many connections")),
            (T, "network_error"),
        ),
        # 4. Relay refusals.
        (
            dsn(group("jane@example.org", "failed", "5.7.1", "550 5.7.1 Relaying denied")),
            (P, "relay_denied"),
        ),
        (
            dsn(group("jane@example.org", "failed", "5.0.0", "550 not configured to relay")),
            (P, "relay_denied"),
        ),
        # 5. Microsoft's directory-based edge blocking.
        (
            dsn(
                group(
                    "jane@example.org",
                    "failed",
                    "5.4.1",
                    "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
                )
            ),
            (P, "bad_mailbox"),
        ),
        # 6. The inner status beats the wrapper; a virus banner is no reason.
        (
            dsn(
                group("jane@example.org", "failed", "5.0.0", "552 5.2.2 Mailbox full"),
                text="This message was scanned for all viruses.",
            ),
            (T, "mailbox_full"),
        ),
        (
            dsn(
                group("jane@example.org", "failed", "5.1.1"),
                text="Virus-free. Scanned for all viruses by ExampleAV.",
            ),
            (P, "bad_mailbox"),
        ),
    ],
)
def test_class_of_error(raw, expected):
    assert verdicts(raw) == {"jane@example.org": expected}


@pytest.mark.parametrize(
    ("action", "status"),
    [("delivered", "2.0.0"), ("relayed", "2.0.0"), ("expanded", "2.0.0"), ("deliverable", "2.1.5")],
)
def test_non_failures_block_nothing(action, status):
    assert verdicts(dsn(group("jane@example.org", action, status))) == {
        "jane@example.org": (None, None)
    }


def test_a_2xx_status_blocks_nothing_whatever_the_action_says():
    assert verdicts(dsn(group("jane@example.org", "failed", "2.0.0"))) == {
        "jane@example.org": (None, None)
    }


def test_route_address_reduces_to_the_mailbox():
    raw = dsn(group("<@relay.example.net:jane@example.org>", "failed", "5.1.1"))
    assert set(verdicts(raw)) == {"jane@example.org"}


def test_utf8_address_type_decodes():
    raw = dsn("Final-Recipient: utf-8; j\u00f6rg@example.de\nAction: failed\nStatus: 5.1.1")
    assert set(verdicts(raw)) == {"j\u00f6rg@example.de"}
    raw = dsn("Final-Recipient: utf-8; j\\x{00F6}rg@example.de\nAction: failed\nStatus: 5.1.1")
    assert set(verdicts(raw)) == {"j\u00f6rg@example.de"}


def test_dotted_numbers_are_not_statuses():
    raw = dsn(group("jane@example.org", "failed", "5.0.0", "554 rejected by policy (3.2.1.1)"))
    [verdict] = analyse(raw).verdicts
    assert verdict.status == "5.0.0"


def test_tens_of_thousands_of_received_fields_are_read():
    received = "".join(
        f"Received: from relay{i}.example.net by mx.example.net; Mon, 1 Jan 2024 00:00:00 +0000\n"
        for i in range(30_000)
    )
    raw = dsn(group("jane@example.org", "failed", "5.1.1")).replace(
        b"Subject:", received.encode() + b"Subject:", 1
    )
    analysis = analyse(raw)
    assert analysis.parsed, analysis.reason
    assert verdicts(raw) == {"jane@example.org": (P, "bad_mailbox")}


@pytest.mark.parametrize(
    "body",
    [
        # our own VERP return path, quoted by the bounce
        "Your message to jane@example.org could not be delivered: user unknown.\n"
        "It was sent by bounces+tok42@bounces.crm.example.\n",
        # a help desk named in the explanation
        "Delivery to jane@example.org failed: user unknown.\n"
        "If you have questions, contact helpdesk@example.net or postmaster@example.net.\n",
        # an address inside a URL's query string
        "Delivery to jane@example.org failed: user unknown.\n"
        "See https://support.example.net/lookup?email=other@example.net for details.\n",
    ],
)
def test_wrong_addresses_are_not_reported(body):
    assert set(verdicts(plain("Undeliverable: Hello", body))) == {"jane@example.org"}


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Automatische Antwort: Angebot", "Ich bin bis 12. Mai nicht im Büro."),
        ("Réponse automatique : Offre", "Je suis absent du bureau jusqu'au 12 mai."),
        ("Respuesta automática: Oferta", "Estoy fuera de la oficina hasta el 12 de mayo."),
        ("自动回复: 报价", "我正在休假，5月12日回来。"),
        ("Автоответ: Предложение", "Я в отпуске до 12 мая."),
    ],
)
def test_non_english_auto_replies(subject, body):
    raw = plain(subject, body, sender="Jane Doe <jane@example.org>")
    assert verdicts(raw) == {"jane@example.org": (T, "auto_reply")}


def test_challenge_response_is_an_auto_reply():
    raw = (
        b"From: Boxbe <notify@boxbe.com>\nTo: sales@crm.example\n"
        b"Subject: Request to join my Guest List\nContent-Type: text/plain\n\n"
        b"Hello, jane@example.org is using Boxbe to protect her inbox. Please click the link "
        b"below to verify that you are a human and be added to my Guest List.\n"
        b"https://www.boxbe.com/approve?tc=123&email=sales%40crm.example\n"
    )
    analysis = analyse(raw)
    assert analysis.kind == "auto_reply"
    assert verdicts(raw) == {"jane@example.org": (T, "auto_reply")}
