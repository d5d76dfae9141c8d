"""The one table of block types and bounce categories (plain Python: the classifier reads it).

Each category is a (type, slug) pair with the English texts staff see on hover: its name, what
it means and what to do. `other` exists under both types, which is why a category is identified
by the pair, not by the slug alone. Everything else derives from this table: the database
choices and translated texts (`bounces.categories`), the classifier's tuples, the record
indexes, the benches, the demo and the tests. Adding a category is one edit here (and one
migration, for the record indexes and choices).
"""

from __future__ import annotations

from dataclasses import dataclass

TEMPORARY = "temporary"
PERMANENT = "permanent"
TYPES = (TEMPORARY, PERMANENT)
OTHER = "other"  # the one slug that exists under both types


def gettext_noop(message: str) -> str:
    """Mark `message` for translation (makemessages extracts it); Django translates it later."""
    return message


@dataclass(frozen=True)
class CategorySpec:
    type: str
    slug: str
    name: str  # English source texts: the msgids of their translations
    definition: str
    recommendation: str

    @property
    def key(self) -> str:
        """Return "type:slug", the form used in filters, URLs and the record block columns."""
        return f"{self.type}:{self.slug}"


# The 16 categories of DESIGN.md: 7 temporary and 9 permanent.
CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        TEMPORARY,
        "domain_error",
        gettext_noop("Temporary domain error"),
        gettext_noop(
            "The recipient's domain could not be found for now: its registration may have lapsed, "
            "its DNS records may be incomplete, or the domain may be mistyped."
        ),
        gettext_noop(
            "Check the domain for typos and correct the address; otherwise reach the recipient "
            "another way and ask about their domain."
        ),
    ),
    CategorySpec(
        TEMPORARY,
        "auto_reply",
        gettext_noop("Auto-reply"),
        gettext_noop("The recipient's mailbox answered with an out-of-office or vacation reply."),
        gettext_noop(
            "Wait until the recipient is back, or contact the colleague named in the reply."
        ),
    ),
    CategorySpec(
        TEMPORARY,
        "authentication_failure",
        gettext_noop("Authentication failure"),
        gettext_noop(
            "The message was refused by policy: the sending domain is not authenticated with "
            "SPF or DKIM, or the recipient's rules reject the sending IP address or domain."
        ),
        gettext_noop(
            "Authenticate your sending domain (SPF and DKIM), or ask the recipient to allow the "
            "IP addresses you send from."
        ),
    ),
    CategorySpec(
        TEMPORARY,
        "mailbox_full",
        gettext_noop("Mailbox full"),
        gettext_noop(
            "The recipient's mailbox is at or near its storage limit, or the message was too "
            "large for it."
        ),
        gettext_noop(
            "Ask the recipient to free some space, and leave out large attachments when you "
            "write again."
        ),
    ),
    CategorySpec(
        TEMPORARY,
        "network_error",
        gettext_noop("Temporary network error"),
        gettext_noop(
            "The mail relay could not hand the message on: connections timed out, were limited, "
            "or delivery was given up after retrying."
        ),
        gettext_noop(
            "Check your mail relay, and ask the recipient whether their mail provider or domain "
            "had an outage or a recent change."
        ),
    ),
    CategorySpec(
        TEMPORARY,
        "content_related",
        gettext_noop("Content related"),
        gettext_noop(
            "The recipient marked the message as spam, or their server filtered it because of "
            "its content."
        ),
        gettext_noop(
            "Review the wording, links and attachments of your message, and authenticate your "
            "sending domain so filters trust it."
        ),
    ),
    CategorySpec(
        TEMPORARY,
        "other",
        gettext_noop("Other"),
        gettext_noop(
            "The mailbox could not be reached, for a reason none of the other categories covers."
        ),
        gettext_noop(
            "Ask the recipient to allow the IP addresses you send from, and watch the next "
            "messages to this address."
        ),
    ),
    CategorySpec(
        PERMANENT,
        "sender_rejected",
        gettext_noop("Sender rejected"),
        gettext_noop("The recipient's server refuses mail from your sender address or domain."),
        gettext_noop(
            "Contact the recipient by phone or another channel and ask them to allow your sender "
            "address; an admin can lift the block once they have."
        ),
    ),
    CategorySpec(
        PERMANENT,
        "bad_domain",
        gettext_noop("Bad domain"),
        gettext_noop("The recipient's domain does not exist or does not accept email."),
        gettext_noop(
            "Look for a typo in the domain or ask the person for a current address, then update "
            "the record with it."
        ),
    ),
    CategorySpec(
        PERMANENT,
        "bad_mailbox",
        gettext_noop("Bad mailbox"),
        gettext_noop(
            "The address does not exist on the recipient's server or is no longer in use."
        ),
        gettext_noop(
            "Ask the person or their company for a current address and update the record; do "
            "not keep mailing this one."
        ),
    ),
    CategorySpec(
        PERMANENT,
        "policy_related",
        gettext_noop("Policy related"),
        gettext_noop(
            "A restriction set by the recipient's server or by your own relay stopped the message."
        ),
        gettext_noop(
            "Ask the recipient's mail administrator which rule refused the message; an admin can "
            "lift the block once the rule allows you."
        ),
    ),
    CategorySpec(
        PERMANENT,
        "protocol_error",
        gettext_noop("Protocol error"),
        gettext_noop(
            "The SMTP exchange with the recipient's server failed for a technical reason."
        ),
        gettext_noop(
            "Ask your mail administrator to check the relay's logs; an admin can lift the block "
            "once the fault is fixed."
        ),
    ),
    CategorySpec(
        PERMANENT,
        "relay_denied",
        gettext_noop("Relay denied"),
        gettext_noop("Your configured mail relay does not accept you as an authenticated sender."),
        gettext_noop(
            "Fix the relay's credentials or its list of allowed senders; an admin can then lift "
            "the block."
        ),
    ),
    CategorySpec(
        PERMANENT,
        "routing_error",
        gettext_noop("Routing error"),
        gettext_noop(
            "The recipient's mail servers are misconfigured: mail loops or cannot be routed."
        ),
        gettext_noop(
            "Tell the recipient through another channel that their mail setup is broken; an "
            "admin can lift the block once it works."
        ),
    ),
    CategorySpec(
        PERMANENT,
        "possible_spam",
        gettext_noop("Possible spam"),
        gettext_noop("The recipient's server judged the message to be spam and refused it."),
        gettext_noop(
            "Review what you send and how your domain is authenticated before writing to this "
            "address again; an admin can lift the block."
        ),
    ),
    CategorySpec(
        PERMANENT,
        "other",
        gettext_noop("Other"),
        gettext_noop(
            "The address is unavailable, for a reason none of the other categories covers."
        ),
        gettext_noop(
            "Confirm the address with the person through another channel; an admin can lift the "
            "block if it turns out to work."
        ),
    ),
)

TEMPORARY_CATEGORIES = tuple(c.slug for c in CATEGORIES if c.type == TEMPORARY)
PERMANENT_CATEGORIES = tuple(c.slug for c in CATEGORIES if c.type == PERMANENT)
# Every slug once (the database choices of a category column): table order, `other` last.
SLUGS = (*dict.fromkeys(c.slug for c in CATEGORIES if c.slug != OTHER), OTHER)
PAIRS = tuple((c.type, c.slug) for c in CATEGORIES)
