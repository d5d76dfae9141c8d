"""Lifting the temporary blocks of many records at once (the list view's bulk action).

Set-based: one guarded UPDATE lifts every matching active temporary block and returns the rows
it changed, the audit rows go in with `bulk_create`, the records' block columns follow with one
UPDATE per model, field and 5,000 addresses, and the counts of what was skipped come from
aggregate queries. Nothing runs per record, so 10,000 records take a fraction of a second
(see records/bench.py). Permanent blocks are never lifted in bulk: each one needs an admin's
written reason, which belongs on the record page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ..categories import BlockType
from ..models import Block, Unblock
from .blocks import can_unblock
from .errors import ConfirmationRequired, UnblockNotAllowed
from .record_blocks import records_sync_blocks
from .records import fields_for

KEY_COLUMNS = {"primary": "email_key", "backup": "backup_email_key"}
# Attribution of lifted addresses to records is looked up in chunks: bounded query parameters
# on every database (SQLite caps them), and still only a handful of queries for 10,000.
CHUNK = 5000


@dataclass
class BulkUnblockResult:
    """What a bulk unblock did: counts of addresses, with a few examples of each skip."""

    unblocked: int = 0
    skipped_permanent: int = 0
    not_blocked: int = 0
    records_without_address: int = 0
    permanent_examples: list[str] = field(default_factory=list)
    unblocked_examples: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.skipped_permanent + self.not_blocked


def _addresses(queryset: QuerySet, names: list[str]) -> QuerySet:
    """Return the distinct non-empty addresses the records carry in the chosen fields."""
    parts = [
        queryset.exclude(**{KEY_COLUMNS[name]: ""}).values_list(KEY_COLUMNS[name], flat=True)
        for name in names
    ]
    if len(parts) == 1:
        return parts[0].distinct()
    return parts[0].union(parts[1])  # UNION removes duplicates itself


def _lift(targets: QuerySet, now) -> list[tuple[int, str, str, str]]:
    """Lift the target blocks still active in one guarded UPDATE; return the rows it changed.

    RETURNING (PostgreSQL, SQLite ≥ 3.35) tells exactly which rows this call lifted: a block
    lifted concurrently by someone else fails the `lifted_at IS NULL` guard and is not returned,
    so it never gets a second audit row.
    """
    table = connection.ops.quote_name(Block._meta.db_table)
    sql, params = targets.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET lifted_at = %s "  # noqa: S608 - table name from the model
            f"WHERE lifted_at IS NULL AND id IN ({sql}) "
            "RETURNING id, address, type, category",
            [connection.ops.adapt_datetimefield_value(now), *params],
        )
        return list(cursor.fetchall())


def _attribute(queryset: QuerySet, names: list[str], addresses: list[str]) -> dict:
    """Return {address: (record id, field)} for one record of the set carrying each address."""
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(addresses), CHUNK):
        chunk = addresses[start : start + CHUNK]
        for name in names:
            column = KEY_COLUMNS[name]
            rows = queryset.filter(**{f"{column}__in": chunk}).values_list(column, "pk")
            for key, pk in rows:
                found.setdefault(key, (pk, name))
    return found


def records_bulk_unblock(
    *,
    queryset: QuerySet,
    fields: str,
    actor,
    confirmed: bool,
    source: str = Unblock.Source.BULK,
    examples: int = 10,
) -> BulkUnblockResult:
    """Lift the active temporary blocks on the chosen address fields of every record in `queryset`.

    `fields` is "primary", "backup" or "both". An address carried by several records is lifted
    once; its audit row names the first record of the set found carrying it. Permanent blocks are
    skipped and counted, like addresses that are not blocked. Raises `UnblockNotAllowed` when the
    actor may not lift temporary blocks and `ConfirmationRequired` without the confirmation;
    then nothing changes.
    """
    names = fields_for(fields)
    subject = _("the selected addresses")
    if not can_unblock(actor, Block(type=BlockType.TEMPORARY)):
        raise UnblockNotAllowed(subject)
    if not confirmed:
        raise ConfirmationRequired(subject)

    records = queryset.order_by()
    addresses = _addresses(records, names)
    matching = Block.objects.active().filter(address__in=addresses)
    result = BulkUnblockResult()
    record_type = records.model._meta.model_name
    now = timezone.now()
    # What was selected, counted before anything changes: `queryset` may be filtered by block
    # state (the list's "all matching"), which the lift and the sync below change.
    permanent = matching.filter(type=BlockType.PERMANENT)
    result.skipped_permanent = permanent.count()
    result.permanent_examples = list(
        permanent.order_by("address").values_list("address", flat=True)[:examples]
    )
    total = addresses.count()
    without = records
    for name in names:
        without = without.filter(**{KEY_COLUMNS[name]: ""})
    result.records_without_address = without.count()
    with transaction.atomic():
        lifted = _lift(matching.filter(type=BlockType.TEMPORARY), now)
        owners = _attribute(records, names, [address for _pk, address, _t, _c in lifted])
        audit = []
        for pk, address, type_, category in lifted:
            record_id, name = owners.get(address, (None, ""))
            audit.append(
                Unblock(
                    block_id=pk,
                    address=address,
                    block_type=type_,
                    category=category,
                    actor=actor,
                    source=source,
                    record_type=record_type,
                    record_id=record_id,
                    field=name,
                    confirmed=True,
                )
            )
        Unblock.objects.bulk_create(audit, batch_size=CHUNK)
        # Last: it takes the lifted records out of a queryset filtered by block state.
        records_sync_blocks(addresses=[address for _pk, address, _t, _c in lifted])
    result.unblocked = len(lifted)
    result.unblocked_examples = sorted(address for _pk, address, _t, _c in lifted)[:examples]
    result.not_blocked = max(0, total - result.unblocked - result.skipped_permanent)
    return result
