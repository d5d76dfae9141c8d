"""The pre-send check: who a selection reaches, who is suppressed and why, who is risky and why.

Set-based: one query reads every selected record with its block columns and three EXISTS
probes (opt-out of each address, a recent temporary bounce); the recipient domains are then
checked once each (likely typo; MX or A record, cached per domain). 100,000 records take a few
seconds on PostgreSQL (`python -m bench.sending`).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.addresses import address_domain
from records.domains import is_free_webmail, suggest_domain
from records.models import EmailField
from records.selectors import STALE_AFTER

from ..categories import BlockCategory
from ..models import Bounce, BouncePolicy, OptOut

logger = logging.getLogger(__name__)

# Risk groups, in the order the page lists them. Each has a rough chance that a message to such
# an address bounces, for the projected bounce rate (an estimate, said so on the page):
# a domain with no MX/A cannot receive mail; a provider's typo rarely can; a recent temporary
# bounce often repeats; a list decays about 2% a month (so 6+ months stale: ~10%).
RISKS: dict[str, tuple[object, float]] = {
    "no_mx": (_("recipient domain has no MX or A record"), 1.0),
    "typo": (_("likely typo in the domain"), 0.9),
    "temp_bounce": (_("temporary bounce in the last 30 days"), 0.5),
    "stale": (_("not emailed for 6 months"), 0.1),
    "never": (_("never emailed since created"), 0.1),
}
BASELINE_BOUNCE = 0.01
RECENT_BOUNCE = timedelta(days=30)
DNS_CACHE_SECONDS = 24 * 3600
DNS_THREADS = 16

OPTED_OUT = "opted_out"
NO_ADDRESS = "no_address"


@dataclass(frozen=True)
class Recipient:
    record_id: int
    field: str  # EmailField value: which address is used
    address: str
    risks: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Suppressed:
    record_id: int
    field: str
    address: str
    reason: str  # "blocked:<type>:<slug>", "opted_out" or "no_address"


@dataclass
class PreCheck:
    """What a mailing would do, before anything is queued."""

    selected: int = 0
    recipients: list[Recipient] = field(default_factory=list)  # after the exclusions
    suppressed: list[Suppressed] = field(default_factory=list)
    risky: dict[str, int] = field(default_factory=dict)  # group → sendable records in it
    excluded: list[str] = field(default_factory=list)
    excluded_count: int = 0
    backup_used: int = 0
    typo_examples: dict[str, str] = field(default_factory=dict)  # domain → suggestion
    webmail_from: bool = False

    @property
    def to_send(self) -> int:
        return len(self.recipients)

    @property
    def suppressed_count(self) -> int:
        return len(self.suppressed)

    def suppressed_by_reason(self) -> list[tuple[str, str, int]]:
        """Return (reason key, label, count) rows, largest first."""
        counts: dict[str, int] = {}
        for row in self.suppressed:
            counts[row.reason] = counts.get(row.reason, 0) + 1
        return sorted(
            ((key, str(reason_label(key)), n) for key, n in counts.items()),
            key=lambda row: (-row[2], row[0]),
        )

    def risky_rows(self) -> list[tuple[str, str, int, bool]]:
        """Return (group, label, count, excluded) for every risk group with records in it."""
        return [
            (key, str(label), self.risky.get(key, 0), key in self.excluded)
            for key, (label, _weight) in RISKS.items()
            if self.risky.get(key, 0)
        ]

    @property
    def projected_bounce_rate(self) -> float:
        """Return the expected bounced / sent in percent (each group's rough chance)."""
        if not self.recipients:
            return 0.0
        expected = sum(
            max((RISKS[r][1] for r in recipient.risks), default=BASELINE_BOUNCE)
            for recipient in self.recipients
        )
        return 100.0 * expected / len(self.recipients)


def reason_label(key: str) -> str:
    """Return the readable reason of a suppression key."""
    if key == OPTED_OUT:
        return str(_("opted out (unsubscribed)"))
    if key == NO_ADDRESS:
        return str(_("no usable address"))
    _kind, type_, slug = (key.split(":", 2) + ["", ""])[:3]
    info = BlockCategory.get(type_, slug)
    kind = _("blocked permanently") if type_ == "permanent" else _("blocked temporarily")
    return f"{kind}: {info.name}"


def domains_without_mail(domains: set[str]) -> set[str]:
    """Return the domains with neither MX nor A/AAAA records (cached per domain for a day).

    Uses the review's resolver (`BOUNCECRM_DNS_FIXTURE` in tests); a failed lookup counts as
    "has mail": a DNS hiccup must not make a whole list look risky.
    """
    from ..services.review import LookupFailed, _Dns, default_resolver, domain_evidence

    found: dict[str, bool] = {}
    keys = {d: f"bouncecrm:mx:{d}" for d in domains if d}
    cached = cache.get_many(list(keys.values())) if keys else {}
    missing = []
    for domain, key in keys.items():
        if key in cached:
            found[domain] = cached[key]
        else:
            missing.append(domain)
    if missing:
        resolver = default_resolver()

        def check(domain: str) -> tuple[str, bool]:
            try:
                return domain, domain_evidence(domain, _Dns(resolver)) is not None
            except LookupFailed:
                return domain, True

        # A time budget: with slow or unreachable DNS the page must still answer. Domains not
        # checked in time count as "has mail" and are not cached (the next check tries again).
        pool = ThreadPoolExecutor(max_workers=min(DNS_THREADS, len(missing)))
        futures = [pool.submit(check, domain) for domain in missing]
        done, _pending = wait(futures, timeout=settings.SENDING_DNS_BUDGET_SECONDS)
        pool.shutdown(wait=False, cancel_futures=True)
        fresh = dict(future.result() for future in done)
        if len(fresh) < len(missing):
            logger.warning(
                "pre-send check: %d of %d domains not checked within the DNS budget",
                len(missing) - len(fresh),
                len(missing),
            )
        cache.set_many({keys[d]: ok for d, ok in fresh.items()}, DNS_CACHE_SECONDS)
        found.update(fresh)
    return {domain for domain, ok in found.items() if not ok}


def _annotated(queryset: QuerySet, now: datetime) -> QuerySet:
    recent = now - RECENT_BOUNCE
    return queryset.order_by().annotate(
        p_opt=Exists(OptOut.objects.filter(address=OuterRef("email_key"))),
        b_opt=Exists(OptOut.objects.filter(address=OuterRef("backup_email_key"))),
        p_temp=Exists(
            Bounce.objects.filter(
                recipient=OuterRef("email_key"), type="temporary", received_at__gte=recent
            )
        ),
        b_temp=Exists(
            Bounce.objects.filter(
                recipient=OuterRef("backup_email_key"), type="temporary", received_at__gte=recent
            )
        ),
    )


def precheck(
    *,
    queryset: QuerySet,
    exclude: list[str] | tuple[str, ...] = (),
    from_address: str = "",
    fallback: str | None = None,
    now: datetime | None = None,
) -> PreCheck:
    """Return the pre-send check of the records in `queryset` (a contact or lead queryset).

    Per record: the primary address, unless it is blocked or opted out; then, when the policy's
    backup fallback says so, the backup address if it is neither; else the record is suppressed
    with the primary's reason. Sendable records are tagged with their risks; records in an
    `exclude`d risk group are left out.
    """
    now = now or timezone.now()
    if fallback is None:
        fallback = BouncePolicy.current().backup_fallback
    use_backup = fallback == BouncePolicy.BackupFallback.BACKUP
    stale_before = now - STALE_AFTER
    rows = _annotated(queryset, now).values_list(
        "pk",
        "email",
        "backup_email",
        "email_block",
        "backup_email_block",
        "p_opt",
        "b_opt",
        "p_temp",
        "b_temp",
        "last_emailed_at",
    )
    result = PreCheck(excluded=[key for key in RISKS if key in set(exclude)])
    chosen: list[tuple[int, str, str, bool, datetime | None]] = []
    for pk, email, backup, p_block, b_block, p_opt, b_opt, p_temp, b_temp, last in rows.iterator(
        chunk_size=5000
    ):
        result.selected += 1
        primary_reason = (
            f"blocked:{p_block}" if p_block else OPTED_OUT if p_opt else "" if email else NO_ADDRESS
        )
        if not primary_reason:
            chosen.append((pk, EmailField.PRIMARY, email, p_temp, last))
            continue
        if use_backup and backup and not b_block and not b_opt:
            chosen.append((pk, EmailField.BACKUP, backup, b_temp, last))
            result.backup_used += 1
            continue
        result.suppressed.append(Suppressed(pk, EmailField.PRIMARY, email, primary_reason))

    domains = {address_domain(address) for _pk, _f, address, _t, _l in chosen}
    typos = {d: s for d in domains if (s := suggest_domain(d))}
    dead = domains_without_mail(domains - set(typos))
    result.typo_examples = dict(sorted(typos.items())[:5])
    excluded = set(result.excluded)
    for pk, field_, address, temp, last in chosen:
        domain = address_domain(address)
        risks = set()
        if domain in dead:
            risks.add("no_mx")
        if domain in typos:
            risks.add("typo")
        if temp:
            risks.add("temp_bounce")
        if last is None:
            risks.add("never")
        elif last < stale_before:
            risks.add("stale")
        for risk in risks:
            result.risky[risk] = result.risky.get(risk, 0) + 1
        if risks & excluded:
            result.excluded_count += 1
            continue
        result.recipients.append(Recipient(pk, field_, address, frozenset(risks)))
    result.webmail_from = bool(from_address) and is_free_webmail(address_domain(from_address))
    return result
