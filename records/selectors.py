"""Reads of contacts and leads that views, the bulk action and the benchmark share.

Blocks belong to addresses, not to records: a record is "blocked" when one of its lower-cased
address columns (`email_key`, `backup_email_key`) equals the address of an active block. Every
selector here joins on those indexed columns and never runs a query per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, F, Lookup, Q, QuerySet
from django.utils import timezone

from bounces.categories import BlockCategory, BlockType
from bounces.models import Block, Bounce, SentEmail, Unblock

from .addresses import address_key

PRIMARY = "primary"
BACKUP = "backup"
EITHER = "either"
ANY_TYPE = "any"

# "Not emailed for 6 months": the seed description's rule of thumb for a stale list.
STALE_AFTER = timedelta(days=182)


@dataclass(frozen=True)
class BlockFilter:
    """Which blocks a list is filtered by; all empty means no block filter."""

    type: str = ""  # "temporary", "permanent", "any" (both) or "" (no filter)
    field: str = EITHER  # "primary", "backup" or "either"
    category: str = ""  # "type:slug" or ""

    @property
    def active(self) -> bool:
        return bool(self.type or self.category)


def active_blocks(*, type: str = "", category: str = "") -> QuerySet[Block]:
    """Return the active blocks of one type ("" / "any": both) and category ("type:slug")."""
    blocks = Block.objects.active()
    if type in (BlockType.TEMPORARY, BlockType.PERMANENT):
        blocks = blocks.filter(type=type)
    if category:
        cat_type, _sep, slug = category.partition(":")
        blocks = blocks.filter(type=cat_type, category=slug)
    return blocks


class InAddresses(Lookup):
    """`key IN (SELECT address …)`, written `key = ANY(ARRAY(SELECT address …))` on PostgreSQL.

    Measured at 1M contacts and a category with 25k active blocks (records/bench.py): for
    `IN (SELECT …)` PostgreSQL 15 picks a hash join over a sequential scan of every contact, or,
    for "either field", an OR of two hashed subplans over every row (1.3 s for the page query);
    the ARRAY form runs the block subquery once and probes the key indexes with the addresses
    (a BitmapOr for "either"): 0.15–0.2 s on an idle 2-core machine. The planner takes such a
    condition to be very selective, so it drives the scan rather than being re-checked per row.
    """

    lookup_name = "in_addresses"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        if not rhs.startswith("("):
            rhs = f"({rhs})"
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)


def records_filter_blocked(queryset: QuerySet, block_filter: BlockFilter) -> QuerySet:
    """Return `queryset` narrowed to records whose chosen address field has a matching block.

    One condition per field (see `InAddresses`); "either field" is their OR.
    """
    if not block_filter.active:
        return queryset
    addresses = (
        active_blocks(type=block_filter.type, category=block_filter.category)
        .order_by()
        .values("address")
    )
    primary = Q(InAddresses(F("email_key"), addresses.query))
    backup = Q(InAddresses(F("backup_email_key"), addresses.query))
    if block_filter.field == PRIMARY:
        return queryset.filter(primary)
    if block_filter.field == BACKUP:
        return queryset.filter(backup)
    return queryset.filter(primary | backup)


def records_search(queryset: QuerySet, text: str) -> QuerySet:
    """Return records whose name, company or either address contains `text` (any case).

    Names use `icontains` (UPPER(col) LIKE …), matched on PostgreSQL by trigram indexes on
    UPPER(col); addresses are compared on the already lower-cased key columns with `contains`,
    which trigram indexes on the plain key columns serve.
    """
    text = text.strip()
    if not text:
        return queryset
    lowered = text.lower()
    return queryset.filter(
        Q(first_name__icontains=text)
        | Q(last_name__icontains=text)
        | Q(company__icontains=text)
        | Q(email_key__contains=lowered)
        | Q(backup_email_key__contains=lowered)
    )


def records_not_emailed_since(queryset: QuerySet, *, now=None) -> QuerySet:
    """Return records not emailed for six months, including those never emailed."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    return queryset.filter(Q(last_emailed_at__lt=cutoff) | Q(last_emailed_at__isnull=True))


def blocks_for_addresses(addresses: Iterable[str]) -> dict[str, Block]:
    """Return the active block of each address that has one, in one query."""
    keys = {address for address in addresses if address}
    if not keys:
        return {}
    return {block.address: block for block in Block.objects.active().filter(address__in=keys)}


def blocks_for_records(records: Iterable) -> dict[str, Block]:
    """Return the active blocks of the addresses the given records carry (one query)."""
    keys: set[str] = set()
    for record in records:
        # From the addresses, not the generated key columns: after a save the instance's
        # generated columns still hold the old values.
        keys.add(address_key(record.email))
        keys.add(address_key(record.backup_email))
    return blocks_for_addresses(keys)


def record_sent_emails(record, *, limit: int = 100) -> list[SentEmail]:
    """Return the record's latest sent emails, each with its latest bounce as `.last_bounce`.

    Two queries whatever the number of emails: the emails, then their bounces.
    """
    lookup = "contact" if record.record_type() == "contact" else "lead"
    emails = list(
        SentEmail.objects.filter(**{lookup: record})
        .select_related("mailing")
        .order_by("-sent_at", "-id")[:limit]
    )
    latest: dict[int, object] = {}
    bounced = [email.pk for email in emails if email.status == SentEmail.Status.BOUNCED]
    if bounced:
        for bounce in Bounce.objects.filter(sent_email_id__in=bounced).order_by(
            "sent_email_id", "-received_at", "-id"
        ):
            latest.setdefault(bounce.sent_email_id, bounce)
    for email in emails:
        email.last_bounce = latest.get(email.pk)
    return emails


@dataclass(frozen=True)
class CategoryCount:
    info: object  # bounces.categories.CategoryInfo
    count: int


@dataclass(frozen=True)
class BlockSummary:
    temporary: list[CategoryCount]
    permanent: list[CategoryCount]

    @property
    def temporary_total(self) -> int:
        return sum(row.count for row in self.temporary)

    @property
    def permanent_total(self) -> int:
        return sum(row.count for row in self.permanent)

    @property
    def total(self) -> int:
        return self.temporary_total + self.permanent_total


def block_summary() -> BlockSummary:
    """Return the number of blocked addresses per type and category (one aggregate query)."""
    counts = {
        (row["type"], row["category"]): row["n"]
        for row in Block.objects.active()
        .order_by()
        .values("type", "category")
        .annotate(n=Count("id"))
    }
    rows = {BlockType.TEMPORARY: [], BlockType.PERMANENT: []}
    for member in BlockCategory:
        info = member.value
        count = counts.get((info.type, info.slug), 0)
        if count:
            rows[info.type].append(CategoryCount(info, count))
    for type_rows in rows.values():
        type_rows.sort(key=lambda row: -row.count)
    return BlockSummary(rows[BlockType.TEMPORARY], rows[BlockType.PERMANENT])


def recent_bounces(limit: int = 10) -> list[Bounce]:
    """Return the latest bounces that block something (newest first)."""
    return list(Bounce.objects.exclude(type="").order_by("-received_at", "-id")[:limit])


@dataclass(frozen=True)
class RateAlerts:
    mailings: list
    senders: list
    threshold: object


def rates_over_threshold() -> RateAlerts:
    """Return the mailings and senders above the bounce-rate threshold (reports.rates)."""
    from reports import rates

    return RateAlerts(
        mailings=rates.mailings_over_threshold(),
        senders=rates.senders_over_threshold(),
        threshold=rates.threshold(),
    )


def unblock_history(addresses: Iterable[str], *, limit: int = 20) -> list[Unblock]:
    """Return the latest lifts of the given addresses, with who lifted them (one query)."""
    keys = [address for address in addresses if address]
    if not keys:
        return []
    return list(
        Unblock.objects.filter(address__in=keys)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
