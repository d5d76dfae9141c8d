"""Table-driven checks of the decision rules (bounces/classifier/rules.py).

Every row of the status table under both classes, a sample of every wording rule, and the
precedence the module documents: Action, then status class, then subject/detail, then reply
code, then wording.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounces.classifier import rules
from bounces.classifier.rules import PHRASE_RULES, STATUS_TABLE, decide, phrase_matches
from core.categories import PERMANENT_CATEGORIES, TEMPORARY_CATEGORIES

P, T = "permanent", "temporary"

# subject.detail -> (type under 5.x.x, category under 5.x.x, category under 4.x.x).  Written out
# so that a change to the table shows up here as a decision someone has to make.
STATUS_EXPECTED = {
    "0.0": (P, "other", "other"),
    "1.0": (P, "bad_mailbox", "other"),
    "1.1": (P, "bad_mailbox", "other"),
    "1.2": (P, "bad_domain", "domain_error"),
    "1.3": (P, "bad_mailbox", "other"),
    "1.4": (P, "bad_mailbox", "other"),
    "1.6": (P, "bad_mailbox", "other"),
    "1.7": (P, "sender_rejected", "authentication_failure"),
    "1.8": (T, "authentication_failure", "authentication_failure"),
    "1.9": (P, "other", "other"),
    "1.10": (P, "bad_domain", "domain_error"),
    "2.0": (P, "bad_mailbox", "other"),
    "2.1": (P, "bad_mailbox", "other"),
    "2.2": (T, "mailbox_full", "mailbox_full"),
    "2.3": (T, "mailbox_full", "mailbox_full"),
    "2.4": (P, "routing_error", "network_error"),
    "3.0": (P, "routing_error", "network_error"),
    "3.1": (T, "mailbox_full", "mailbox_full"),
    "3.2": (T, "network_error", "network_error"),
    "3.3": (P, "protocol_error", "network_error"),
    "3.4": (T, "mailbox_full", "mailbox_full"),
    "3.5": (P, "routing_error", "network_error"),
    "4.0": (T, "network_error", "network_error"),
    "4.1": (T, "network_error", "network_error"),
    "4.2": (T, "network_error", "network_error"),
    "4.3": (T, "network_error", "network_error"),
    "4.4": (P, "bad_domain", "domain_error"),
    "4.5": (T, "network_error", "network_error"),
    "4.6": (P, "routing_error", "network_error"),
    "4.7": (T, "network_error", "network_error"),
    "5.0": (P, "protocol_error", "network_error"),
    "5.1": (P, "protocol_error", "network_error"),
    "5.2": (P, "protocol_error", "network_error"),
    "5.3": (P, "policy_related", "authentication_failure"),
    "5.4": (P, "protocol_error", "network_error"),
    "5.5": (P, "protocol_error", "network_error"),
    "5.6": (P, "protocol_error", "network_error"),
    "6.0": (T, "content_related", "content_related"),
    "6.1": (T, "content_related", "content_related"),
    "6.2": (T, "content_related", "content_related"),
    "6.3": (T, "content_related", "content_related"),
    "6.4": (T, "content_related", "content_related"),
    "6.5": (T, "content_related", "content_related"),
    "7.0": (P, "policy_related", "authentication_failure"),
    "7.1": (T, "authentication_failure", "authentication_failure"),
    "7.2": (P, "policy_related", "authentication_failure"),
    "7.3": (P, "protocol_error", "network_error"),
    "7.4": (P, "protocol_error", "network_error"),
    "7.5": (T, "authentication_failure", "authentication_failure"),
    "7.6": (P, "protocol_error", "network_error"),
    "7.7": (T, "content_related", "content_related"),
    "7.8": (P, "relay_denied", "authentication_failure"),
    "7.9": (P, "relay_denied", "authentication_failure"),
    "7.10": (P, "protocol_error", "network_error"),
    "7.11": (P, "protocol_error", "network_error"),
    "7.12": (P, "relay_denied", "authentication_failure"),
    "7.13": (P, "bad_mailbox", "other"),
    "7.14": (P, "relay_denied", "authentication_failure"),
    "7.15": (P, "policy_related", "authentication_failure"),
    "7.16": (T, "mailbox_full", "mailbox_full"),
    "7.17": (P, "bad_mailbox", "other"),
    "7.18": (P, "bad_domain", "domain_error"),
    "7.19": (P, "policy_related", "authentication_failure"),
    "7.20": (T, "authentication_failure", "authentication_failure"),
    "7.21": (T, "authentication_failure", "authentication_failure"),
    "7.22": (T, "authentication_failure", "authentication_failure"),
    "7.23": (T, "authentication_failure", "authentication_failure"),
    "7.24": (T, "authentication_failure", "authentication_failure"),
    "7.25": (T, "authentication_failure", "authentication_failure"),
    "7.26": (T, "authentication_failure", "authentication_failure"),
    "7.27": (T, "authentication_failure", "authentication_failure"),
    "7.28": (T, "network_error", "network_error"),
    "7.29": (T, "authentication_failure", "authentication_failure"),
    "7.30": (P, "protocol_error", "network_error"),
}


def test_every_status_row_is_expected():
    assert set(STATUS_EXPECTED) == set(STATUS_TABLE)


@pytest.mark.parametrize("key", sorted(STATUS_EXPECTED))
def test_status_row_under_5_and_4(key):
    type5, category5, category4 = STATUS_EXPECTED[key]
    d5 = decide(f"5.{key}", None, None, "failed")
    assert (d5.type, d5.category) == (type5, category5)
    # 4.x.x never makes a permanent block by itself.
    d4 = decide(f"4.{key}", None, None, "failed")
    assert (d4.type, d4.category) == (T, category4)
    assert category4 in TEMPORARY_CATEGORIES


@pytest.mark.parametrize(("code", "category"), sorted(rules.REPLY_TABLE.items()))
def test_reply_code_rows(code, category):
    decision = decide(None, code, None, "failed")
    assert decision.type == (T if code.startswith("4") else decision.type)
    expected = category[0]
    if code.startswith("4"):
        expected = rules._TEMPORARY_FOR.get(expected, expected)
    elif expected == rules.DOMAIN:
        expected = "bad_domain"
    assert decision.category == expected


# One sample per wording rule (reason, tier), plus the wording the issue names.
WORDING = [
    # relay
    ("554 5.7.1 <x@example.org>: Relay access denied", rules.RELAY),
    ("550 not configured to relay for this domain", rules.RELAY),
    ("550 No relaying allowed", rules.RELAY),
    ("530 SMTP authentication is required", rules.RELAY),
    # protocol
    ("501 Syntax error in parameters", rules.PROTOCOL),
    ("550 Message not RFC 5322 compliant: missing Date header", rules.PROTOCOL),
    ("the remote server does not support TLS", rules.PROTOCOL),
    # authentication / sender side
    ("550 5.7.26 This message does not pass DMARC", rules.AUTH),
    ("SPF check failed for the sending host", rules.AUTH),
    ("554 client host [192.0.2.1] blocked using zen.spamhaus.org", rules.AUTH),
    ("Domain of sender address bounces@example.net does not exist", rules.AUTH),
    ("553 Unroutable sender address", rules.AUTH),
    ("Sender domain must resolve", rules.AUTH),
    ("your IP address is blocked", rules.AUTH),
    # mailbox full / too big
    ("552 5.2.2 Mailbox full", rules.FULL),
    ("user is over quota", rules.FULL),
    ("This person's account is exceeding their quota", rules.FULL),
    ("Status: 5.0.0 (recipient reached disk quota)", rules.FULL),
    ("message size 41032 exceeds size limit 20000", rules.FULL),
    ("exceeded maximum inbound message size", rules.FULL),
    # network, rate, expiry
    (
        "conversation with mx.example.org timed out while receiving the initial greeting",
        rules.NETWORK,
    ),
    ("retry timeout exceeded", rules.NETWORK),
    ("could not be delivered for the last 432000 seconds", rules.NETWORK),
    ("421 too many connections from your host", rules.NETWORK),
    (
        "452 4.2.1 The user you are trying to contact is receiving mail at a rate that "
        "prevents additional messages from being delivered",
        rules.NETWORK,
    ),
    ("450 4.7.1 Greylisted, please try again later", rules.NETWORK),
    ("the recipient server did not respond", rules.NETWORK),
    ("Host corel.com is not responding", rules.NETWORK),
    ("gave up on the message", rules.NETWORK),
    # domains
    ("Domain nullmx.test does not accept mail (nullMX)", rules.NOT_ACCEPT),
    ("556 5.1.10 recipient domain has a null MX", rules.NOT_ACCEPT),
    ("Host or domain name not found. Name service error for name=x.example", rules.DOMAIN),
    ("no such domain", rules.DOMAIN),
    # mailboxes
    ("550 5.1.1 <x@example.org>: Recipient address rejected: User unknown", rules.MAILBOX),
    ("550 5.4.1 Recipient address rejected: Access denied", rules.MAILBOX),
    ("no such user here", rules.MAILBOX),
    ("Invalid final delivery userid: x@example.org", rules.MAILBOX),
    ("did not exactly match an LLNL email address", rules.MAILBOX),
    ("L'adresse de messagerie ci-dessus n'existe pas", rules.MAILBOX),
    ("Empfänger unbekannt", rules.MAILBOX),
    ("This account has been disabled or discontinued", rules.MAILBOX),
    ("recipient rejected", rules.MAILBOX),
    # sender rejected
    ("sender address rejected: not permitted", rules.SENDER),
    ("SMTP error from remote mail server after MAIL FROM", rules.SENDER),
    ("only members may post to this list", rules.SENDER),
    # spam, content, policy, routing
    ("554 5.7.1 Message rejected as spam", rules.SPAM),
    ("message contains a virus", rules.CONTENT),
    ("the attachment type is not allowed here", rules.CONTENT),
    ("554 5.7.0 Rejected by local policy", rules.POLICY),
    ("request refused", rules.POLICY),
    ("554 Too many hops 26 (25 max)", rules.ROUTING),
    ("internal server error", rules.ROUTING),
]


@pytest.mark.parametrize(("text", "reason"), WORDING)
def test_wording_sample(text, reason):
    # The first match is the wording rule `decide` quotes when the wording decides.
    found = phrase_matches(text)
    assert found and found[0][2] == reason, found


def test_every_wording_rule_has_a_sample():
    covered = {(reason, tier) for reason, tier, _ in PHRASE_RULES}
    sampled = set()
    for text, _reason in WORDING:
        for tier, _pos, reason, _words in rules.phrase_matches(text):
            sampled.add((reason, tier))
    assert covered <= sampled, covered - sampled


def test_virus_scanner_banner_is_not_a_reason():
    assert phrase_matches("This message was scanned for all viruses.") == ()
    decision = decide("5.1.1", "550", None, "failed", "Scanned for all viruses by ExampleAV")
    assert decision.category == "bad_mailbox"


@pytest.mark.parametrize(
    ("status", "reply", "diagnostic", "action", "expected"),
    [
        # The Action: a delayed DSN is transient whatever its codes.
        ("5.1.1", "550", "user unknown", "delayed", (T, "other")),
        # The class: 4.x.x never permanent, whatever the wording says.
        ("4.1.1", "450", "user unknown", "failed", (T, "other")),
        ("4.4.3", None, "Host or domain name not found, try again", "failed", (T, "domain_error")),
        ("4.7.1", "450", "Relay access denied", "failed", (T, "authentication_failure")),
        # No status: a 4xx reply decides the class; with neither, transient wording does.
        (None, "451", "mailbox unavailable", "failed", (T, "other")),
        (None, None, "Host not found, try again later", None, (T, "domain_error")),
        (None, None, "retry timeout exceeded", None, (T, "network_error")),
        (None, None, "message expired after 5 days in the queue", None, (T, "network_error")),
        # Subject and detail: null MX is a permanent bad domain, sender-side faults temporary.
        ("5.1.10", "550", "Null MX", "failed", (P, "bad_domain")),
        (
            "5.1.8",
            "553",
            "Domain of sender address x@example.net does not exist",
            "failed",
            (T, "authentication_failure"),
        ),
        ("5.7.23", "550", "SPF validation failed", "failed", (T, "authentication_failure")),
        (
            "5.7.26",
            "550",
            "Unauthenticated email is not accepted",
            "failed",
            (T, "authentication_failure"),
        ),
        # Wording refines the category within the class' type.
        ("5.0.0", "550", "Mailbox full", "failed", (T, "mailbox_full")),
        ("5.7.1", "554", "relaying denied", "failed", (P, "relay_denied")),
        ("5.4.1", "550", "Recipient address rejected: Access denied", "failed", (P, "bad_mailbox")),
        # The reply code when nothing else speaks.
        (None, "550", None, "failed", (P, "bad_mailbox")),
    ],
)
def test_precedence(status, reply, diagnostic, action, expected):
    decision = decide(status, reply, diagnostic, action)
    assert (decision.type, decision.category) == expected


def test_categories_belong_to_their_type():
    for key in STATUS_TABLE:
        for klass in "45":
            d = decide(f"{klass}.{key}", None, None, "failed")
            assert d.category in (TEMPORARY_CATEGORIES if d.type == T else PERMANENT_CATEGORIES)


ALTERNATIVES = [
    (literals, pattern)
    for _reason, _tier, alternatives in PHRASE_RULES
    for literals, pattern in alternatives
]


def _examples(pattern: str, count: int = 20) -> list[str]:
    """Strings generated to match ``pattern`` (none for constructs hypothesis cannot build)."""
    strategy = st.from_regex(pattern, fullmatch=True, alphabet=ALPHABET)
    found: list[str] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(text: str) -> None:
        found.append(text)

    # Look-behinds and the like cannot be generated: nothing to check for those.
    with contextlib.suppress(Exception):
        collect()
    return found


ALPHABET = "abcdefghijklmnopqrstuvwxyz .:-'0123456789"


@pytest.mark.parametrize("index", range(len(ALTERNATIVES)))
def test_hand_written_literals_occur_in_every_match(index):
    """The prefilter skips a pattern unless one of its literals occurs: check the hand-written
    literals against strings generated to match the pattern."""
    literals, pattern = ALTERNATIVES[index]
    if not literals:
        return
    for text in _examples(pattern.pattern):
        if pattern.fullmatch(text):
            assert any(lit in text for lit in literals), (pattern.pattern, text, literals)
