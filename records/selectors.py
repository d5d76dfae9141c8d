"""Reads of contacts and leads that views, the bulk action and the benchmark share.

Blocks belong to addresses, not to records: a record is "blocked" when one of its lower-cased
address columns (`email_key`, `backup_email_key`) equals the address of an active block. The
list filters read each record's copy of that state (`email_block`, `backup_email_block`, kept in
sync by `bounces.services.record_blocks`); tooltips read the page's Block rows in one query.
No selector here runs a query per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from bounces.categories import BlockCategory, BlockType
from bounces.models import Block, Bounce, SentEmail, Unblock
from core.categories import CATEGORIES

from .addresses import address_key
from .models import ADDRESS_COLUMNS, EmailField
from .search import search_words

PRIMARY = EmailField.PRIMARY
BACKUP = EmailField.BACKUP
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


def block_tags(*, type: str = "", category: str = "") -> list[str] | None:
    """Return the "type:slug" values a block filter matches; None for every block.

    `type` is "temporary", "permanent", "any" or ""; `category` is "type:slug" or "". A category
    of another type than the one asked for matches nothing ([]).
    """
    types = [type] if type in (BlockType.TEMPORARY, BlockType.PERMANENT) else None
    if category:
        return [category] if types is None or category.partition(":")[0] in types else []
    if types is None:
        return None
    return [spec.key for spec in CATEGORIES if spec.type == type]


def records_blocked_in(column: str, tags: list[str] | None) -> Q:
    """Return the condition "`column` (a record block column) holds one of `tags`".

    Equality or IN on the column rather than a prefix LIKE: both imply the partial indexes'
    `<> ''` condition, so PostgreSQL can use them, and they hold under any collation.
    """
    if tags is None:
        return ~Q(**{column: ""})
    if len(tags) == 1:
        return Q(**{column: tags[0]})
    return Q(**{f"{column}__in": tags})


def records_filter_blocked(queryset: QuerySet, block_filter: BlockFilter) -> QuerySet:
    """Return `queryset` narrowed to records whose chosen address field has a matching block.

    Reads the records' block columns. A category on one field is an index range already in list
    order (the partial (block, last name, first name, id) indexes); "either field" is the OR of
    the two fields, a BitmapOr of those indexes. Measured in records/bench.py.
    """
    if not block_filter.active:
        return queryset
    tags = block_tags(type=block_filter.type, category=block_filter.category)
    if tags == []:
        return queryset.none()
    primary = records_blocked_in(ADDRESS_COLUMNS[PRIMARY].block, tags)
    backup = records_blocked_in(ADDRESS_COLUMNS[BACKUP].block, tags)
    if block_filter.field == PRIMARY:
        return queryset.filter(primary)
    if block_filter.field == BACKUP:
        return queryset.filter(backup)
    return queryset.filter(primary | backup)


def records_search(queryset: QuerySet, text: str) -> QuerySet:
    """Return records whose search text contains every word of `text`, in any order.

    Case- and accent-insensitive over names, company, both addresses and phone (records.search):
    "Ali Maya" and "maya ali" both find Maya Ali, "Chloe" finds Chloé. On PostgreSQL each word is
    a `LIKE '%word%'` that the trigram index on `search_text` serves.
    """
    words = search_words(text)
    if not words:
        return queryset
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=word)
    return queryset.filter(condition)


def records_sharing_addresses(record, *, limit: int = 5) -> list:
    """Return other contacts and leads carrying one of `record`'s addresses (two queries).

    Either field of the other record counts: the same person entered twice, once as a lead and
    once as a contact, is the usual case.
    """
    from .models import RECORD_MODELS

    keys = [key for key in {address_key(record.email), address_key(record.backup_email)} if key]
    if not keys:
        return []
    found = []
    for model in RECORD_MODELS.values():
        queryset = model.objects.filter(Q(email_key__in=keys) | Q(backup_email_key__in=keys))
        if isinstance(record, model):
            queryset = queryset.exclude(pk=record.pk)
        found += list(queryset.order_by("last_name", "first_name", "id")[:limit])
    return found[:limit]


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
    emails = list(
        SentEmail.objects.filter(**{record.record_type(): record})
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


def record_last_emailed(record, sent_emails: list[SentEmail]):
    """Return when the record was last emailed: its newest email that left, or the stored date.

    The record page shows this beside the emails list, so the two never disagree (a record
    whose `last_emailed_at` was never set still has its emails).
    """
    left = [
        email.sent_at
        for email in sent_emails
        if email.sent_at and email.status != SentEmail.Status.SUPPRESSED
    ]
    dates = [date for date in (max(left, default=None), record.last_emailed_at) if date]
    return max(dates, default=None)


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
    """Return the latest bounces that block something (newest first), each with `.record`.

    `.record` is the contact or lead the bounce is about: the one its sent email went to, else
    a record carrying the recipient address (None when no record does). Four queries at most.
    """
    from .models import Contact, Lead

    bounces = list(
        Bounce.objects.exclude(type="")
        .select_related("sent_email__contact", "sent_email__lead")
        .order_by("-received_at", "-id")[:limit]
    )
    by_address: dict[str, object] = {}
    unmatched = {
        address_key(bounce.recipient)
        for bounce in bounces
        if bounce.sent_email is None and bounce.recipient
    }
    if unmatched:
        # Contacts win over leads, as the lists' order does; the first match per address.
        for model in (Lead, Contact):
            for record in model.objects.filter(
                Q(email_key__in=unmatched) | Q(backup_email_key__in=unmatched)
            ).order_by("-id"):
                for key in (record.email_key, record.backup_email_key):
                    if key in unmatched:
                        by_address[key] = record
    for bounce in bounces:
        record = bounce.sent_email.record if bounce.sent_email is not None else None
        bounce.record = record or by_address.get(address_key(bounce.recipient))
    return bounces


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


# --- bulk selections -------------------------------------------------------------------------
class InvalidSelection(ValueError):
    """The stored or posted selection cannot be rebuilt (e.g. the list's filter is not valid)."""


def records_for_selection(*, record_type: str, selection: dict) -> QuerySet:
    """Return the records of a bulk selection: {"ids": [...]} or {"query": "<filter query>"}.

    The one code path for the synchronous bulk action and the background job: "all rows
    matching the filter" is rebuilt on the server from the list's query string, through the
    list's own filterset, never from ids the browser sent. Raises `InvalidSelection` when the
    filter is not valid.
    """
    from django.http import QueryDict

    from .filters import ContactFilter, LeadFilter  # filters import this module
    from .models import RECORD_MODELS

    if record_type not in RECORD_MODELS:
        raise InvalidSelection(record_type)
    model = RECORD_MODELS[record_type]
    if "query" in selection:
        filterset_class = {"contact": ContactFilter, "lead": LeadFilter}[record_type]
        filterset = filterset_class(QueryDict(selection["query"]), queryset=model.objects.all())
        if not filterset.is_valid():
            raise InvalidSelection(selection["query"])
        return filterset.qs
    return model.objects.filter(pk__in=[int(pk) for pk in selection.get("ids", [])])
