"""Keep each record's block columns (`email_block`, `backup_email_block`) equal to its addresses'
active blocks.

The columns are a copy ("type:slug", "" when not blocked) that the list filters read instead of
joining blocks at query time (records/models.py). Every service that creates a block, changes an
active block's type or category, or lifts one calls `records_sync_blocks` with the addresses it
touched, inside its own transaction; saving a record calls `record_refresh_blocks`. Both are
set-based UPDATEs computing the value from the block table itself, so they never trust a
caller's idea of the state, and they write only rows whose value changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat

from records.addresses import address_key
from records.models import ADDRESS_COLUMNS, RECORD_MODELS, Record

from ..models import Block

# Keys per statement: bounded parameters on every database (SQLite caps them), still a handful of
# statements for a 10,000-address bulk unblock.
CHUNK = 5000


def block_tag(key_column: str) -> Coalesce:
    """Return the expression "type:slug" of the active block of the row's `key_column`, or ""."""
    tag = Concat("type", Value(":"), "category", output_field=CharField())
    active = (
        Block.objects.filter(lifted_at__isnull=True, address=OuterRef(key_column))
        .order_by()
        .annotate(tag=tag)
        .values("tag")[:1]
    )
    return Coalesce(Subquery(active), Value(""), output_field=CharField())


def _keys(chunk: list[str]):
    """Return the right-hand side of `key IN …` for a chunk of keys.

    On PostgreSQL a semi-join on the unnested array: given `key = ANY('{…5,000 keys}')`, the
    planner picked the trigram GIN index on the key column (0002_search_trigram_indexes) and
    took 110 s at 1M contacts; joined, each key is one B-tree probe (well under a second).
    """
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::text[])", (chunk,))
    return chunk


def records_sync_blocks(*, addresses: Iterable[str] | None = None) -> int:
    """Set the block columns of the records carrying `addresses` (None: every record); return
    the number of records written.

    One UPDATE per model (per chunk of addresses) setting both columns: a record whose two
    addresses both changed gets one new row version, not two (each version goes into every
    index of the table). Only rows whose values differ are written, so a sync after a change
    that did not alter a block's tag costs a few index probes.
    """
    if addresses is None:
        chunks: list[list[str] | None] = [None]
    else:
        keys = sorted({key for key in map(address_key, addresses) if key})
        if not keys:
            return 0
        chunks = [keys[start : start + CHUNK] for start in range(0, len(keys), CHUNK)]
    changed = 0
    active_addresses = Block.objects.filter(lifted_at__isnull=True).values("address")
    values = {columns.block: block_tag(columns.key) for columns in ADDRESS_COLUMNS.values()}
    differs = Q()
    for column, value in values.items():
        differs |= ~Q(**{column: value})
    # No savepoint when nested: callers' transactions hold the block change and this together.
    with transaction.atomic(savepoint=False):
        for model in RECORD_MODELS.values():
            for chunk in chunks:
                if chunk is None:
                    # Only rows that can change: tagged now, or carrying a blocked address.
                    # Without this, each of the 1M rows ran the block subquery, a scan of the
                    # block table when it is small (313 s after the 1M demo seed).
                    can_change = Q()
                    for columns in ADDRESS_COLUMNS.values():
                        can_change |= ~Q(**{columns.block: ""})
                        can_change |= Q(**{f"{columns.key}__in": active_addresses})
                    rows = model.objects.filter(can_change)
                else:
                    # The records carrying a key in either field: one index range per field
                    # (`<> ''` lets the partial key indexes serve them), then one UPDATE.
                    carriers = [
                        model.objects.exclude(**{columns.key: ""})
                        .filter(**{f"{columns.key}__in": _keys(chunk)})
                        .order_by()
                        .values("pk")
                        for columns in ADDRESS_COLUMNS.values()
                    ]
                    rows = model.objects.filter(pk__in=carriers[0].union(*carriers[1:]))
                changed += rows.filter(differs).update(**values)
    return changed


def record_refresh_blocks(*, record: Record) -> None:
    """Set one saved record's block columns from its current addresses (one UPDATE), and reload
    them, and the generated key columns, on the instance.

    Call it after every save of a record: a changed address must show the new address' state.
    """
    model = type(record)
    columns = ADDRESS_COLUMNS.values()
    model.objects.filter(pk=record.pk).update(**{c.block: block_tag(c.key) for c in columns})
    record.refresh_from_db(fields=[name for c in columns for name in (c.block, c.key)])
