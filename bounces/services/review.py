"""The periodic block review: lift blocks whose cause DNS now shows resolved.

DESIGN "Block lifecycle": every `review_interval_days` each active block is looked at again.
Two kinds of cause can be checked from outside:

- the recipient's domain could not be found (`domain_error`, `bad_domain`): lifted when the
  domain now has MX records (not a null MX) or, failing those, A/AAAA records;
- our sending domain was not authenticated (`authentication_failure`, `policy_related`): lifted
  when every domain in `BOUNCECRM_SENDING_DOMAINS` publishes an SPF record and a DKIM key.

Every lift goes through `block_unblock` with no actor (shown as "system review") and a reason
naming the evidence; every other block is looked at again one interval later. A DNS failure
(timeout, SERVFAIL) proves nothing either way: the block stays and is retried next interval.

The resolver is injectable (tests feed recorded answers). It is anything with dnspython's
`resolve(name, rdtype)` signature, returning an iterable of answers whose `str()` is their text
form and raising `dns.resolver.NXDOMAIN` / `NoAnswer` for "nothing there".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import dns.exception
import dns.resolver
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.addresses import address_domain

from ..categories import BlockType, Category
from ..models import Block, BouncePolicy, Unblock
from .blocks import block_unblock
from .errors import NotBlocked

logger = logging.getLogger(__name__)

DOMAIN_CAUSES = {
    (BlockType.TEMPORARY, Category["DOMAIN_ERROR"]),
    (BlockType.PERMANENT, Category["BAD_DOMAIN"]),
}
AUTH_CAUSES = {
    (BlockType.TEMPORARY, Category["AUTHENTICATION_FAILURE"]),
    (BlockType.PERMANENT, Category["POLICY_RELATED"]),
}
# Selectors tried when a sending domain is configured without one (common defaults of ESPs and
# MTAs); naming the selector in BOUNCECRM_SENDING_DOMAINS is better.
COMMON_DKIM_SELECTORS = ("default", "dkim", "mail", "selector1", "selector2", "s1", "s2", "k1")
DEFAULT_BATCH_SIZE = 500


class Resolver(Protocol):
    def resolve(self, qname: str, rdtype: str) -> Any: ...


class LookupFailed(Exception):
    """DNS gave no answer either way (timeout, SERVFAIL): the review cannot decide."""


@dataclass
class ReviewResult:
    checked: int = 0
    lifted: int = 0
    kept: int = 0
    undecided: int = 0  # kept because a DNS lookup failed
    lifted_addresses: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.checked} due blocks checked: {self.lifted} lifted, {self.kept} kept "
            f"({self.undecided} undecided for lack of a DNS answer)"
        )


class FixtureResolver:
    """Answer from a dict `{name: {rdtype: [text, …]}}` (a name that is absent: NXDOMAIN).

    The test and offline aid behind BOUNCECRM_DNS_FIXTURE; a value "SERVFAIL" for a name or a
    type simulates a lookup failure.
    """

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = {name.lower().rstrip("."): value for name, value in answers.items()}

    @classmethod
    def from_file(cls, path: str | Path) -> FixtureResolver:
        return cls(json.loads(Path(path).read_text()))

    def resolve(self, qname: str, rdtype: str) -> list[str]:
        name = qname.lower().rstrip(".")
        if name not in self.answers:
            raise dns.resolver.NXDOMAIN
        records = self.answers[name]
        if records == "SERVFAIL":
            raise dns.resolver.NoNameservers
        records = records.get(rdtype.upper(), [])
        if records == "SERVFAIL":
            raise dns.resolver.NoNameservers
        if not records:
            raise dns.resolver.NoAnswer
        return list(records)


def default_resolver() -> Resolver:
    """Return the resolver the review uses: the DNS fixture when configured, else real DNS."""
    if settings.BOUNCECRM_DNS_FIXTURE:
        return FixtureResolver.from_file(settings.BOUNCECRM_DNS_FIXTURE)
    resolver = dns.resolver.Resolver()
    resolver.lifetime = 5.0  # one hung name server must not stall the whole scan
    return resolver


class _Dns:
    """Cached lookups for one review run (many blocks share a domain)."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.cache: dict[tuple[str, str], list[str] | LookupFailed] = {}

    def records(self, name: str, rdtype: str) -> list[str]:
        """Return the records' text ([] when the name or type has none); raise LookupFailed."""
        key = (name.lower().rstrip("."), rdtype)
        if key not in self.cache:
            try:
                answer = self.resolver.resolve(key[0], rdtype)
                self.cache[key] = [_text(r) for r in answer]
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                self.cache[key] = []
            except dns.exception.DNSException as exc:
                self.cache[key] = LookupFailed(f"{rdtype} {key[0]}: {exc.__class__.__name__}")
        value = self.cache[key]
        if isinstance(value, LookupFailed):
            raise value
        return value


def _text(rdata: Any) -> str:
    # dnspython TXT rdata prints its strings quoted and split: join them for matching.
    text = rdata if isinstance(rdata, str) else rdata.to_text()
    if text.startswith('"'):
        text = "".join(part.strip('"') for part in text.split('" "'))
    return text


def domain_evidence(domain: str, dns_: _Dns) -> str | None:
    """Return why `domain` now accepts mail (MX, else A/AAAA), or None."""
    mx = [r for r in dns_.records(domain, "MX") if not _is_null_mx(r)]
    if mx:
        hosts = ", ".join(sorted(r.split()[-1].rstrip(".") for r in mx)[:3])
        return _("%(domain)s has MX records again (%(hosts)s).") % {
            "domain": domain,
            "hosts": hosts,
        }
    if dns_.records(domain, "MX"):
        return None  # a null MX (RFC 7505): the domain says it accepts no mail
    for rdtype in ("A", "AAAA"):
        found = dns_.records(domain, rdtype)
        if found:
            return _("%(domain)s has no MX but resolves to an address (%(type)s %(value)s).") % {
                "domain": domain,
                "type": rdtype,
                "value": found[0],
            }
    return None


def _is_null_mx(record: str) -> bool:
    parts = record.split()
    return len(parts) == 2 and parts[1] == "."


def sending_domains() -> list[tuple[str, tuple[str, ...]]]:
    """Return (domain, DKIM selectors) pairs parsed from BOUNCECRM_SENDING_DOMAINS."""
    result = []
    for item in settings.BOUNCECRM_SENDING_DOMAINS:
        domain, *selectors = (part.strip() for part in item.split(":"))
        if domain:
            result.append((domain.lower(), tuple(s for s in selectors if s)))
    return result


def authentication_evidence(dns_: _Dns) -> str | None:
    """Return why our sending domains now pass SPF and DKIM, or None.

    None when no sending domain is configured: then nothing shows the cause resolved.
    """
    domains = sending_domains()
    if not domains:
        return None
    found = []
    for domain, selectors in domains:
        if not any(r.lower().startswith("v=spf1") for r in dns_.records(domain, "TXT")):
            return None
        selector = _dkim_selector(domain, selectors or COMMON_DKIM_SELECTORS, dns_)
        if selector is None:
            return None
        found.append(f"{domain} (SPF, DKIM {selector})")
    return _("Sending domains now authenticated: %(domains)s.") % {"domains": "; ".join(found)}


def _dkim_selector(domain: str, selectors: tuple[str, ...], dns_: _Dns) -> str | None:
    for selector in selectors:
        try:
            records = dns_.records(f"{selector}._domainkey.{domain}", "TXT")
        except LookupFailed:
            if len(selectors) == 1:
                raise
            continue
        if any("p=" in r and "p=;" not in r.replace(" ", "") for r in records):
            return selector
    return None


def block_review_evidence(block: Block, dns_: _Dns) -> str | None:
    """Return the evidence that `block`'s cause is resolved, or None. May raise LookupFailed."""
    cause = (block.type, block.category)
    if cause in DOMAIN_CAUSES:
        domain = address_domain(block.address)
        return domain_evidence(domain, dns_) if domain else None
    if cause in AUTH_CAUSES:
        return authentication_evidence(dns_)
    return None


def blocks_review_due(
    *,
    now: datetime | None = None,
    resolver: Resolver | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ReviewResult:
    """Review every active block whose review is due; lift the resolved ones, postpone the rest.

    Runs in batches by primary key (a keyset scan, so a block that fails to move never makes the
    loop spin); each lift is its own transaction, postponing is one UPDATE per batch.
    """
    now = now or timezone.now()
    dns_ = _Dns(resolver or default_resolver())
    interval = timedelta(days=BouncePolicy.current().review_interval_days)
    result = ReviewResult()
    last_pk = 0
    while True:
        batch = list(
            Block.objects.active()
            .filter(review_due_at__lte=now, pk__gt=last_pk)
            .order_by("pk")[:batch_size]
        )
        if not batch:
            return result
        last_pk = batch[-1].pk
        keep: list[int] = []
        for block in batch:
            result.checked += 1
            try:
                evidence = block_review_evidence(block, dns_)
            except LookupFailed as exc:
                logger.info("review of block %s undecided: %s", block.pk, exc)
                result.undecided += 1
                evidence = None
            if evidence is None:
                keep.append(block.pk)
                continue
            try:
                block_unblock(
                    block=block,
                    actor=None,
                    source=Unblock.Source.REVIEW,
                    confirmed=True,
                    reason=evidence,
                )
            except NotBlocked:
                continue  # lifted by someone else meanwhile
            result.lifted += 1
            result.lifted_addresses.append(block.address)
        if keep:
            result.kept += Block.objects.filter(pk__in=keep, lifted_at__isnull=True).update(
                review_due_at=now + interval
            )
