"""Reads of contacts and leads that views, the bulk action and the benchmark share.

Blocks belong to addresses, not to records: a record is "blocked" when one of its lower-cased
address columns (`email_key`, `backup_email_key`) equals the address of an active block. The
list filters read each record's copy of that state (`email_block`, `backup_email_block`, kept in
sync by `bounces.services.record_blocks`); the Block rows themselves are read by
`bounces.selectors`. No selector here runs a query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from core.categories import CATEGORIES, TYPES

from .addresses import address_key
from .models import ADDRESS_COLUMNS, RECORD_MODELS, EmailField
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
    types = [type] if type in TYPES else None
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


# --- list criteria and bulk selections -------------------------------------------------------
class InvalidSelection(ValueError):
    """The stored or posted selection cannot be rebuilt (e.g. the list's filter is not valid)."""


@dataclass(frozen=True)
class RecordCriteria:
    """What a list of contacts or leads is narrowed by; the defaults select every record.

    The list page, the bulk unblock (now or as a job) and the mailing all select their rows
    with `records_matching`, so they agree on "all rows matching this filter".
    """

    search: str = ""
    owner_id: int | None = None
    block: BlockFilter = BlockFilter()
    stale: bool = False
    status: str = ""  # leads only

    @property
    def active(self) -> bool:
        return bool(self.search or self.owner_id or self.stale or self.status) or self.block.active

    def as_dict(self) -> dict:
        """Return the criteria as stored in a job or mailing: the list's query names, no empties."""
        data = {
            "q": self.search,
            "owner": self.owner_id,
            "blocked": self.block.type,
            "field": "" if self.block.field == EITHER else self.block.field,
            "category": self.block.category,
            "stale": self.stale,
            "status": self.status,
        }
        return {key: value for key, value in data.items() if value}

    @classmethod
    def from_dict(cls, data: dict) -> RecordCriteria:
        """Rebuild stored criteria; raise `InvalidSelection` on an unknown key or value."""
        if not isinstance(data, dict) or set(data) - CRITERIA_KEYS:
            raise InvalidSelection(data)
        owner = data.get("owner")
        block = BlockFilter(
            type=data.get("blocked") or "",
            field=data.get("field") or EITHER,
            category=data.get("category") or "",
        )
        if (
            not isinstance(data.get("q", ""), str)
            or not isinstance(data.get("status", ""), str)
            or not (owner is None or (isinstance(owner, int) and not isinstance(owner, bool)))
            or not isinstance(data.get("stale", False), bool)
            or block.type not in ("", ANY_TYPE, *TYPES)
            or block.field not in (EITHER, PRIMARY, BACKUP)
            or block.category not in ("", *(spec.key for spec in CATEGORIES))
        ):
            raise InvalidSelection(data)
        return cls(
            search=data.get("q", ""),
            owner_id=owner,
            block=block,
            stale=data.get("stale", False),
            status=data.get("status", ""),
        )


CRITERIA_KEYS = {"q", "owner", "blocked", "field", "category", "stale", "status"}


def criteria_from_query(query: str, model) -> RecordCriteria:
    """Return the criteria of a list's query string (as `send_mailing --filter` takes it).

    The same rules as the list's FilterSet, which tests/records/test_criteria.py compares with
    this: known choices only, an owner among the active users, the lead status for leads only.
    Raises `InvalidSelection` when the list would reject the query.
    """
    params = QueryDict(query)
    data: dict = {key: params[key] for key in CRITERIA_KEYS if params.get(key)}
    data["q"] = data.get("q", "").strip()
    if "owner" in data:
        users = get_user_model().objects.filter(is_active=True)
        if not data["owner"].isdigit() or not users.filter(pk=int(data["owner"])).exists():
            raise InvalidSelection(query)
        data["owner"] = int(data["owner"])
    if "stale" in data:  # a checkbox: ticked unless "false"
        data["stale"] = data["stale"].lower() != "false"
    statuses = getattr(model, "Status", None)  # contacts have no status: the list ignores it
    if statuses is None:
        data.pop("status", None)
    elif data.get("status", "") not in ("", *statuses.values):
        raise InvalidSelection(query)
    return RecordCriteria.from_dict(data)


def records_matching(queryset: QuerySet, criteria: RecordCriteria) -> QuerySet:
    """Return the records of `queryset` (contacts or leads) that match the list criteria."""
    if criteria.search:
        queryset = records_search(queryset, criteria.search)
    if criteria.owner_id is not None:
        queryset = queryset.filter(owner_id=criteria.owner_id)
    if criteria.stale:
        queryset = records_not_emailed_since(queryset)
    if criteria.status:
        statuses = getattr(queryset.model, "Status", None)  # contacts have no status
        if statuses is None or criteria.status not in statuses.values:
            raise InvalidSelection(criteria.status)
        queryset = queryset.filter(status=criteria.status)
    return records_filter_blocked(queryset, criteria.block)


def records_for_selection(*, record_type: str, selection: dict) -> QuerySet:
    """Return the records of a bulk selection: {"ids": [...]} or {"criteria": {...}}.

    The one code path for the synchronous bulk action, the background job and the mailing:
    "all rows matching the filter" is rebuilt on the server from the stored criteria
    (`RecordCriteria.as_dict`), never from ids the browser sent. Raises `InvalidSelection` when
    the criteria are not valid.
    """
    if record_type not in RECORD_MODELS:
        raise InvalidSelection(record_type)
    model = RECORD_MODELS[record_type]
    if "criteria" in selection:
        criteria = RecordCriteria.from_dict(selection["criteria"])
        return records_matching(model.objects.all(), criteria)
    return model.objects.filter(pk__in=[int(pk) for pk in selection.get("ids", [])])
