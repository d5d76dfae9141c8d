"""Block types and the 16 bounce categories, with the texts staff see on hover.

The classifier (plain Python) speaks in slugs; this module gives each (type, slug) pair its
translatable name, meaning and recommendation. `other` exists under both types, which is why a
category is identified by the pair, not by the slug alone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class BlockType(models.TextChoices):
    TEMPORARY = "temporary", _("Temporary")
    PERMANENT = "permanent", _("Permanent")


class Category(models.TextChoices):
    """Category slugs as stored in the database (the type is stored beside them)."""

    DOMAIN_ERROR = "domain_error", _("Temporary domain error")
    AUTO_REPLY = "auto_reply", _("Auto-reply")
    AUTHENTICATION_FAILURE = "authentication_failure", _("Authentication failure")
    MAILBOX_FULL = "mailbox_full", _("Mailbox full")
    NETWORK_ERROR = "network_error", _("Temporary network error")
    CONTENT_RELATED = "content_related", _("Content related")
    SENDER_REJECTED = "sender_rejected", _("Sender rejected")
    BAD_DOMAIN = "bad_domain", _("Bad domain")
    BAD_MAILBOX = "bad_mailbox", _("Bad mailbox")
    POLICY_RELATED = "policy_related", _("Policy related")
    PROTOCOL_ERROR = "protocol_error", _("Protocol error")
    RELAY_DENIED = "relay_denied", _("Relay denied")
    ROUTING_ERROR = "routing_error", _("Routing error")
    POSSIBLE_SPAM = "possible_spam", _("Possible spam")
    OTHER = "other", _("Other")


@dataclass(frozen=True)
class CategoryInfo:
    type: str
    slug: str
    name: Promise
    definition: Promise
    recommendation: Promise

    @property
    def key(self) -> str:
        """Return "type:slug", the form used in filters and URLs."""
        return f"{self.type}:{self.slug}"


T, P = BlockType.TEMPORARY.value, BlockType.PERMANENT.value


class BlockCategory(enum.Enum):
    """The 16 categories of DESIGN.md: 7 temporary and 9 permanent."""

    TEMPORARY_DOMAIN_ERROR = CategoryInfo(
        T,
        "domain_error",
        _("Temporary domain error"),
        _(
            "The recipient's domain could not be found for now: its registration may have lapsed, "
            "its DNS records may be incomplete, or the domain may be mistyped."
        ),
        _(
            "Check the domain for typos and correct the address; otherwise reach the recipient "
            "another way and ask about their domain."
        ),
    )
    AUTO_REPLY = CategoryInfo(
        T,
        "auto_reply",
        _("Auto-reply"),
        _("The recipient's mailbox answered with an out-of-office or vacation reply."),
        _("Wait until the recipient is back, or contact the colleague named in the reply."),
    )
    AUTHENTICATION_FAILURE = CategoryInfo(
        T,
        "authentication_failure",
        _("Authentication failure"),
        _(
            "The message was refused by policy: the sending domain is not authenticated with "
            "SPF or DKIM, or the recipient's rules reject the sending IP address or domain."
        ),
        _(
            "Authenticate your sending domain (SPF and DKIM), or ask the recipient to allow the "
            "IP addresses you send from."
        ),
    )
    MAILBOX_FULL = CategoryInfo(
        T,
        "mailbox_full",
        _("Mailbox full"),
        _(
            "The recipient's mailbox is at or near its storage limit, or the message was too "
            "large for it."
        ),
        _(
            "Ask the recipient to free some space, and leave out large attachments when you "
            "write again."
        ),
    )
    NETWORK_ERROR = CategoryInfo(
        T,
        "network_error",
        _("Temporary network error"),
        _(
            "The mail relay could not hand the message on: connections timed out, were limited, "
            "or delivery was given up after retrying."
        ),
        _(
            "Check your mail relay, and ask the recipient whether their mail provider or domain "
            "had an outage or a recent change."
        ),
    )
    CONTENT_RELATED = CategoryInfo(
        T,
        "content_related",
        _("Content related"),
        _(
            "The recipient marked the message as spam, or their server filtered it because of "
            "its content."
        ),
        _(
            "Review the wording, links and attachments of your message, and authenticate your "
            "sending domain so filters trust it."
        ),
    )
    TEMPORARY_OTHER = CategoryInfo(
        T,
        "other",
        _("Other"),
        _("The mailbox could not be reached, for a reason none of the other categories covers."),
        _(
            "Ask the recipient to allow the IP addresses you send from, and watch the next "
            "messages to this address."
        ),
    )
    SENDER_REJECTED = CategoryInfo(
        P,
        "sender_rejected",
        _("Sender rejected"),
        _("The recipient's server refuses mail from your sender address or domain."),
        _(
            "Contact the recipient by phone or another channel and ask them to allow your sender "
            "address; an admin can lift the block once they have."
        ),
    )
    BAD_DOMAIN = CategoryInfo(
        P,
        "bad_domain",
        _("Bad domain"),
        _("The recipient's domain does not exist or does not accept email."),
        _(
            "Look for a typo in the domain or ask the person for a current address, then update "
            "the record with it."
        ),
    )
    BAD_MAILBOX = CategoryInfo(
        P,
        "bad_mailbox",
        _("Bad mailbox"),
        _("The address does not exist on the recipient's server or is no longer in use."),
        _(
            "Ask the person or their company for a current address and update the record; do "
            "not keep mailing this one."
        ),
    )
    POLICY_RELATED = CategoryInfo(
        P,
        "policy_related",
        _("Policy related"),
        _("A restriction set by the recipient's server or by your own relay stopped the message."),
        _(
            "Ask the recipient's mail administrator which rule refused the message; an admin can "
            "lift the block once the rule allows you."
        ),
    )
    PROTOCOL_ERROR = CategoryInfo(
        P,
        "protocol_error",
        _("Protocol error"),
        _("The SMTP exchange with the recipient's server failed for a technical reason."),
        _(
            "Ask your mail administrator to check the relay's logs; an admin can lift the block "
            "once the fault is fixed."
        ),
    )
    RELAY_DENIED = CategoryInfo(
        P,
        "relay_denied",
        _("Relay denied"),
        _("Your configured mail relay does not accept you as an authenticated sender."),
        _(
            "Fix the relay's credentials or its list of allowed senders; an admin can then lift "
            "the block."
        ),
    )
    ROUTING_ERROR = CategoryInfo(
        P,
        "routing_error",
        _("Routing error"),
        _("The recipient's mail servers are misconfigured: mail loops or cannot be routed."),
        _(
            "Tell the recipient through another channel that their mail setup is broken; an "
            "admin can lift the block once it works."
        ),
    )
    POSSIBLE_SPAM = CategoryInfo(
        P,
        "possible_spam",
        _("Possible spam"),
        _("The recipient's server judged the message to be spam and refused it."),
        _(
            "Review what you send and how your domain is authenticated before writing to this "
            "address again; an admin can lift the block."
        ),
    )
    PERMANENT_OTHER = CategoryInfo(
        P,
        "other",
        _("Other"),
        _("The address is unavailable, for a reason none of the other categories covers."),
        _(
            "Confirm the address with the person through another channel; an admin can lift the "
            "block if it turns out to work."
        ),
    )

    @classmethod
    def get(cls, type: str, slug: str) -> CategoryInfo:
        """Return the info for (type, slug); unknown pairs fall back to that type's `other`."""
        info = _BY_KEY.get((type, slug))
        if info is None:
            info = _BY_KEY[(type if type in (T, P) else P, "other")]
        return info

    @classmethod
    def for_type(cls, type: str) -> list[CategoryInfo]:
        return [member.value for member in cls if member.value.type == type]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """Return ("type:slug", "Type · Name") pairs for filter forms."""
        return [(m.value.key, f"{BlockType(m.value.type).label} · {m.value.name}") for m in cls]


_BY_KEY: dict[tuple[str, str], CategoryInfo] = {
    (m.value.type, m.value.slug): m.value for m in BlockCategory
}

# Categories that exist under exactly one type, so a slug alone implies its type.
TEMPORARY_ONLY = {m.value.slug for m in BlockCategory if m.value.type == T} - {"other"}
PERMANENT_ONLY = {m.value.slug for m in BlockCategory if m.value.type == P} - {"other"}
