"""Lifting the blocks of many records, or many blocks, at once (bulk actions of the list
view and of the admin, and the background job).

Set-based: one guarded UPDATE lifts every matching active block the actor may lift and returns
the rows it changed, the audit rows go in with INSERT … SELECT, the records' block columns
follow with one UPDATE per model and 5,000 addresses, and the counts of what was skipped come
from aggregate queries. Nothing runs per record in Python: at 1M contacts the time is the
database's, most of it the records' rows rewritten through their indexes (bench/record_lists.py
and the README's "Speed and scale"). Permanent blocks are lifted only
by a user with the `unblock_permanent` permission who wrote a reason (the admin); otherwise they
are skipped and counted.

`bulk_unblock` is the one entry point for a selection of records: it runs the lift now, or
queues a background job when the selection is larger than `BULK_UNBLOCK_SYNC_LIMIT`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from records.models import ADDRESS_COLUMNS

from ..categories import BlockType
from ..models import Block, BulkUnblockJob, Unblock
from .blocks import can_unblock_type
from .errors import ConfirmationRequired, UnblockNotAllowed
from .record_blocks import records_sync_blocks
from .record_unblock import fields_for

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# The audit rows go in in chunks of lifted blocks: bounded query parameters on every database
# (SQLite caps them), and still only a handful of statements for 10,000.
CHUNK = 5000


@dataclass
class BulkUnblockResult:
    """What a bulk unblock did: counts of addresses, with a few examples of each skip."""

    unblocked: int = 0
    skipped_permanent: int = 0
    not_blocked: int = 0
    records_without_address: int = 0
    # Blocks left in place: a bounce came after the user confirmed (or one turned permanent,
    # or someone else lifted it, while this ran).
    skipped_changed: int = 0
    permanent_examples: list[str] = field(default_factory=list)
    unblocked_examples: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.skipped_permanent + self.not_blocked + self.skipped_changed


def _key(name: str) -> str:
    return ADDRESS_COLUMNS[name].key


def _addresses(queryset: QuerySet, names: list[str]) -> QuerySet:
    """Return the distinct non-empty addresses the records carry in the chosen fields."""
    parts = [
        queryset.exclude(**{_key(name): ""}).values_list(_key(name), flat=True) for name in names
    ]
    if len(parts) == 1:
        return parts[0].distinct()
    return parts[0].union(parts[1])  # UNION removes duplicates itself


def _liftable_types(actor, reason: str = "") -> list[str]:
    """Return the block types `actor` may lift in bulk: temporary with `unblock_temporary`,
    permanent with `unblock_permanent` and a written reason."""
    types = []
    if can_unblock_type(actor, BlockType.TEMPORARY):
        types.append(BlockType.TEMPORARY.value)
    if reason.strip() and can_unblock_type(actor, BlockType.PERMANENT):
        types.append(BlockType.PERMANENT.value)
    return types


def _lift(
    targets: QuerySet, *, types: list[str], now, confirmed_at
) -> list[tuple[int, str, str, str]]:
    """Lift the target blocks still active and of a liftable type in one guarded UPDATE; return
    them.

    The guards sit on the UPDATE itself, not only in the `id IN (…)` subquery: on PostgreSQL a
    row another transaction changed meanwhile (a bounce escalating the block to permanent, a new
    bounce, a lift) is locked and its WHERE re-checked on the committed version, while the
    subquery still sees the rows as they were when the statement started. So the actor's
    permission (`types`) and the write are one statement: a block that turned permanent under a
    sales user's lift, or got a bounce after `confirmed_at`, is never lifted here; the single
    lift (`block_unblock`) decides under the same row lock. RETURNING tells exactly which rows
    this call lifted, so a block lifted concurrently never gets a second audit row.
    """
    if not types:
        return []
    table = connection.ops.quote_name(Block._meta.db_table)
    try:
        sql, params = targets.values("pk").query.sql_with_params()
    except EmptyResultSet:  # the selection matches nothing (a category of the other type)
        return []
    confirmed = connection.ops.adapt_datetimefield_value(confirmed_at)
    placeholders = ", ".join(["%s"] * len(types))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET lifted_at = %s "  # noqa: S608 - table name from the model
            f"WHERE lifted_at IS NULL AND type IN ({placeholders}) "
            # Our clock's record of the last bounce (the bounce's own date may lie in the past
            # or, from a skewed ESP clock, the future); blocks older than the field have none.
            "AND COALESCE(last_recorded_at, last_bounce_at) <= %s "
            f"AND id IN ({sql}) "
            "RETURNING id, address, type, category",
            [connection.ops.adapt_datetimefield_value(now), *types, confirmed, *params],
        )
        return list(cursor.fetchall())


# Columns of the audit rows `_audit` writes, in the order of its SELECT.
AUDIT_COLUMNS = (
    "block_id", "address", "block_type", "category", "actor_id", "source", "record_type",
    "record_id", "field", "confirmed", "reason", "created_at",
)  # fmt: skip


def _audit(
    lifted_ids: list[int],
    *,
    actor,
    source: str,
    reason: str,
    now: datetime,
    records: QuerySet | None,
    names: list[str],
) -> None:
    """Write the audit rows (`Unblock`) of the lifted blocks with INSERT … SELECT, in chunks.

    Each row names the record of `records` with the lowest id carrying the address, the primary
    field before the backup one, or none (`records` None: the admin's block list). The owners
    are one grouped join per field, never a subquery per address: the selection may be any list
    filter, and correlated into each row PostgreSQL re-ran one with a LIMIT for every address
    (100 s for 10,000). In SQL rather than `bulk_create`: building and preparing 10,000 model
    instances cost more than the insert itself (bench/record_lists.py).
    """
    q = connection.ops.quote_name
    carriers: list[tuple[str, str, QuerySet]] = []  # (field, key column, records carrying one)
    if records is not None:
        carriers = [(name, _key(name), records.exclude(**{_key(name): ""})) for name in names]
    constants = [
        actor.pk if actor is not None else None,
        source,
        records.model._meta.model_name if records is not None else "",
        *[name for name, _key_column, _records in carriers],  # the field names of the CASE
        True,
        reason,
        connection.ops.adapt_datetimefield_value(now),
    ]
    owner_ids = [f"o{n}.owner" for n in range(len(carriers))]
    record_id = ", ".join(owner_ids) or "NULL"
    if len(owner_ids) > 1:
        record_id = f"COALESCE({record_id})"
    whens = "".join(f"WHEN {owner} IS NOT NULL THEN %s " for owner in owner_ids)
    field_sql = f"CASE {whens}ELSE '' END" if whens else "''"
    for start in range(0, len(lifted_ids), CHUNK):
        blocks = Block.objects.filter(pk__in=lifted_ids[start : start + CHUNK]).order_by()
        sql, params = blocks.values(
            lifted_id=F("pk"),
            lifted_address=F("address"),
            lifted_type=F("type"),
            lifted_category=F("category"),
        ).query.sql_with_params()
        joins, join_params = "", []
        for n, (_name, key, carrying) in enumerate(carriers):
            owners = (
                carrying.filter(**{f"{key}__in": blocks.values("address")})
                .order_by()
                .values(carried=F(key))
                .annotate(owner=Min("pk"))
            )
            owners_sql, owners_params = owners.query.sql_with_params()
            joins += f" LEFT JOIN ({owners_sql}) o{n} ON o{n}.carried = b.lifted_address"
            join_params += owners_params
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {q(Unblock._meta.db_table)} ({', '.join(map(q, AUDIT_COLUMNS))}) "  # noqa: S608 - names from the models
                "SELECT b.lifted_id, b.lifted_address, b.lifted_type, b.lifted_category, %s, %s, "
                f"CASE WHEN {record_id} IS NULL THEN '' ELSE %s END, {record_id}, {field_sql}, "
                f"%s, %s, %s FROM ({sql}) b{joins}",
                [*constants, *params, *join_params],
            )


def _check_allowed(*, actor: User, confirmed: bool, reason: str = "") -> list[str]:
    """Return the types the actor may lift; refuse a bulk unblock the actor may not make at all,
    or did not confirm (nothing changes)."""
    subject = _("the selected addresses")
    types = _liftable_types(actor, reason)
    if not types:
        raise UnblockNotAllowed(subject)
    if not confirmed:
        raise ConfirmationRequired(subject)
    return types


def _blocks_lift(
    *,
    matching: QuerySet,
    actor,
    types: list[str],
    source: str,
    reason: str,
    confirmed_at: datetime | None,
    examples: int,
    records: QuerySet | None = None,
    names: list[str] | None = None,
) -> BulkUnblockResult:
    """The one set-based lift: the active blocks of `matching` whose type is in `types`.

    Counts the blocks skipped as permanent (not in `types`) and those that changed meanwhile;
    the audit row of each lifted address names the record of `records` carrying it in one of
    the fields `names`.
    """
    result = BulkUnblockResult()
    now = timezone.now()
    confirmed_at = confirmed_at or now
    # Counted before anything changes: the selection may be filtered by block state, which the
    # lift and the sync below change. Both counts in one scan of the selection's blocks.
    skipped = Q(type=BlockType.PERMANENT) & ~Q(type__in=types)
    counts = matching.aggregate(
        permanent=Count("pk", filter=skipped), candidates=Count("pk", filter=Q(type__in=types))
    )
    result.skipped_permanent, candidates = counts["permanent"], counts["candidates"]
    result.permanent_examples = list(
        matching.filter(skipped).order_by("address").values_list("address", flat=True)[:examples]
    )
    liftable = matching.filter(type__in=types)
    with transaction.atomic():
        lifted = _lift(liftable, types=types, now=now, confirmed_at=confirmed_at)
        addresses = [address for _pk, address, _t, _c in lifted]
        _audit(
            [pk for pk, _a, _t, _c in lifted],
            actor=actor,
            source=source,
            reason=reason,
            now=now,
            records=records,
            names=names or [],
        )
        # Last: it takes the lifted records out of a queryset filtered by block state.
        records_sync_blocks(addresses=addresses)
    result.unblocked = len(lifted)
    result.skipped_changed = max(0, candidates - result.unblocked)
    result.unblocked_examples = sorted(addresses)[:examples]
    return result


def blocks_bulk_unblock(
    *,
    queryset: QuerySet,
    actor,
    confirmed: bool,
    reason: str = "",
    source: str = Unblock.Source.ADMIN,
    examples: int = 10,
) -> BulkUnblockResult:
    """Lift the active blocks of `queryset` (blocks: the admin's block list) in a few statements.

    Temporary blocks need `unblock_temporary`; permanent ones `unblock_permanent` and a reason,
    else they are skipped and counted. Raises like `records_bulk_unblock`.
    """
    reason = (reason or "").strip()
    types = _check_allowed(actor=actor, confirmed=confirmed, reason=reason)
    matching = Block.objects.active().filter(pk__in=queryset.order_by().values("pk"))
    return _blocks_lift(
        matching=matching,
        actor=actor,
        types=types,
        source=source,
        reason=reason,
        confirmed_at=None,
        examples=examples,
    )


def records_bulk_unblock(
    *,
    queryset: QuerySet,
    fields: str,
    actor: User,
    confirmed: bool,
    source: str = Unblock.Source.BULK,
    reason: str = "",
    examples: int = 10,
    confirmed_at: datetime | None = None,
) -> BulkUnblockResult:
    """Lift the active blocks on the chosen address fields of every record in `queryset`.

    `fields` is "primary", "backup" or "both". An address carried by several records is lifted
    once; its audit row names the first record of the set found carrying it. Permanent blocks are
    lifted only with a `reason` by a user with `unblock_permanent`; otherwise they are skipped
    and counted, like addresses that are not blocked. A block that received a bounce after
    `confirmed_at` (when the user confirmed what they saw; default now) is left in place and
    counted in `skipped_changed`. Raises `UnblockNotAllowed` when the actor may not lift
    blocks and `ConfirmationRequired` without the confirmation; then nothing changes.
    """
    names = fields_for(fields)
    reason = (reason or "").strip()
    types = _check_allowed(actor=actor, confirmed=confirmed, reason=reason)

    records = queryset.order_by()
    addresses = _addresses(records, names)
    matching = Block.objects.active().filter(address__in=addresses)
    total = addresses.count()
    without = records
    for name in names:
        without = without.filter(**{_key(name): ""})
    records_without_address = without.count()
    result = _blocks_lift(
        matching=matching,
        actor=actor,
        types=types,
        source=source,
        reason=reason,
        confirmed_at=confirmed_at,
        examples=examples,
        records=records,
        names=names,
    )
    result.records_without_address = records_without_address
    result.not_blocked = max(
        0, total - result.unblocked - result.skipped_permanent - result.skipped_changed
    )
    return result


def bulk_unblock(
    *,
    actor: User,
    record_type: str,
    selection: dict,
    fields: str,
    confirmed: bool,
    confirmed_at: datetime | None = None,
    source: str = Unblock.Source.BULK,
    reason: str = "",
) -> BulkUnblockResult | BulkUnblockJob:
    """Lift the blocks of a selection of records now, or in the background when it is big.

    The one call of the sales list, the admin and commands: up to `BULK_UNBLOCK_SYNC_LIMIT`
    records are lifted at once and the result returned; a bigger selection is queued as a
    `BulkUnblockJob` (returned) after the same checks. Raises `InvalidSelection` for a filter
    that is not valid, and the `UnblockError`s of `records_bulk_unblock`.
    """
    from records.selectors import records_for_selection

    queryset = records_for_selection(record_type=record_type, selection=selection)
    if queryset.order_by().count() > settings.BULK_UNBLOCK_SYNC_LIMIT:
        return bulk_unblock_job_start(
            actor=actor,
            record_type=record_type,
            selection=selection,
            fields=fields,
            confirmed=confirmed,
            confirmed_at=confirmed_at,
            source=source,
            reason=reason,
        )
    return records_bulk_unblock(
        queryset=queryset,
        fields=fields,
        actor=actor,
        confirmed=confirmed,
        source=source,
        reason=reason,
        confirmed_at=confirmed_at,
    )


# --- background jobs -----------------------------------------------------------------------------
# One chunk is one transaction: short locks, and the progress page moves every second or so.
JOB_CHUNK = 1000
# A running job moves `started_at` forward with every chunk (a chunk takes about a second): one
# that made no progress for this long lost its worker, may be claimed again and resumes after
# its last finished chunk (`last_pk`).
JOB_STALE_AFTER = timedelta(minutes=10)


class _Superseded(Exception):
    """Another worker claimed the job (this one was taken for dead): stop without a trace."""


def bulk_unblock_job_start(
    *,
    actor: User,
    record_type: str,
    selection: dict,
    fields: str,
    confirmed: bool,
    confirmed_at: datetime | None = None,
    source: str = Unblock.Source.BULK,
    reason: str = "",
) -> BulkUnblockJob:
    """Check, count and queue a bulk unblock to run in the background; return its job.

    The same checks as `records_bulk_unblock` (permission, confirmation) run here, before
    anything is stored, so a refused job never exists. The task is queued on commit: the worker
    never looks for a job row that is not committed yet. A broker that cannot be reached leaves
    the job `queued` (the request still succeeds); `bulk_unblock_jobs_requeue` sends it again.
    """
    from records.selectors import records_for_selection

    fields_for(fields)  # raises on an unknown choice
    reason = (reason or "").strip()
    _check_allowed(actor=actor, confirmed=confirmed, reason=reason)
    queryset = records_for_selection(record_type=record_type, selection=selection)
    job = BulkUnblockJob.objects.create(
        actor=actor,
        record_type=record_type,
        selection=selection,
        fields=fields,
        total=queryset.order_by().count(),
        confirmed_at=confirmed_at or timezone.now(),
        source=source,
        reason=reason,
    )
    from ..tasks.jobs import bulk_unblock_job
    from ..tasks.queue import task_send_on_commit

    task_send_on_commit(bulk_unblock_job, job.pk)
    return job


# A queued job whose task never reached a worker (broker down when it was started) is sent again
# after this long; a duplicate message is harmless, since only one claim can win.
JOB_REQUEUE_AFTER = timedelta(minutes=2)


def bulk_unblock_jobs_requeue(*, older_than: timedelta = JOB_REQUEUE_AFTER) -> int:
    """Send the task of every job still queued after `older_than` again, and of every job whose
    worker died while running it (claimable again after `JOB_STALE_AFTER`); return how many."""
    from ..tasks.jobs import bulk_unblock_job
    from ..tasks.queue import task_send

    now = timezone.now()
    stale = Q(state=BulkUnblockJob.State.QUEUED, created_at__lt=now - older_than) | Q(
        state=BulkUnblockJob.State.RUNNING, started_at__lt=now - JOB_STALE_AFTER
    )
    ids = list(
        BulkUnblockJob.objects.filter(stale)
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
    return sum(task_send(bulk_unblock_job, pk) for pk in ids)


def _claim(job_id: int) -> bool:
    """Mark the job running, unless another worker has it: one guarded UPDATE decides."""
    now = timezone.now()
    claimable = Q(state=BulkUnblockJob.State.QUEUED) | Q(
        state=BulkUnblockJob.State.RUNNING, started_at__lt=now - JOB_STALE_AFTER
    )
    return bool(
        BulkUnblockJob.objects.filter(claimable, pk=job_id).update(
            state=BulkUnblockJob.State.RUNNING, started_at=now
        )
    )


def bulk_unblock_job_run(*, job_id: int, chunk: int = JOB_CHUNK) -> BulkUnblockJob | None:
    """Run a queued bulk unblock job in chunks of records ordered by pk; return the job.

    Returns None when the job is not claimable (already running elsewhere, or finished). Each
    chunk lifts its records' blocks with `records_bulk_unblock` and adds its counts to the job in
    the same transaction, so the counters and `last_pk` always match what was committed. An
    address carried by records of two chunks is counted as "not blocked" by the second one.
    """
    from records.selectors import records_for_selection

    if not _claim(job_id):
        return None
    job = BulkUnblockJob.objects.select_related("actor").get(pk=job_id)
    last_pk = job.last_pk
    try:
        base = records_for_selection(record_type=job.record_type, selection=job.selection)
        base = base.order_by("pk")
        last_pk = job.last_pk
        examples = list(job.permanent_examples)
        while True:
            # Records lifted by an earlier chunk may drop out of a filter on block state; the
            # pk cursor moves past them anyway.
            ids = list(base.filter(pk__gt=last_pk).values_list("pk", flat=True)[:chunk])
            if not ids:
                break
            with transaction.atomic():
                result = records_bulk_unblock(
                    queryset=base.filter(pk__in=ids),
                    fields=job.fields,
                    actor=job.actor,
                    confirmed=True,  # confirmed when the job was started
                    source=job.source,
                    reason=job.reason,
                    confirmed_at=job.confirmed_at or job.created_at,
                )
                update = {
                    "processed": F("processed") + len(ids),
                    "unblocked": F("unblocked") + result.unblocked,
                    "skipped_permanent": F("skipped_permanent") + result.skipped_permanent,
                    "skipped_not_blocked": F("skipped_not_blocked") + result.not_blocked,
                    "skipped_changed": F("skipped_changed") + result.skipped_changed,
                    "records_without_address": F("records_without_address")
                    + result.records_without_address,
                    "last_pk": ids[-1],
                    "started_at": timezone.now(),  # the heartbeat `_claim` looks at
                }
                if len(examples) < 10 and result.permanent_examples:
                    examples = sorted(set(examples) | set(result.permanent_examples))[:10]
                    update["permanent_examples"] = examples
                # Guarded: only while the job is still where this worker left it. If another
                # worker took it over, this chunk rolls back and this worker stops.
                ours = BulkUnblockJob.objects.filter(
                    pk=job_id, state=BulkUnblockJob.State.RUNNING, last_pk=last_pk
                ).update(**update)
                if not ours:
                    raise _Superseded
            last_pk = ids[-1]
    except _Superseded:
        logger.warning("bulk unblock job %s was taken over by another worker", job_id)
    except Exception as exc:  # noqa: BLE001 - any failure ends the job visibly, never silently
        logger.exception("bulk unblock job %s failed", job_id)
        BulkUnblockJob.objects.filter(
            pk=job_id, state=BulkUnblockJob.State.RUNNING, last_pk=last_pk
        ).update(
            state=BulkUnblockJob.State.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
    else:
        BulkUnblockJob.objects.filter(
            pk=job_id, state=BulkUnblockJob.State.RUNNING, last_pk=last_pk
        ).update(state=BulkUnblockJob.State.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def bulk_unblock_job_result(job: BulkUnblockJob) -> BulkUnblockResult:
    """Return a finished job's counts in the shape the synchronous path's summary reads."""
    return BulkUnblockResult(
        unblocked=job.unblocked,
        skipped_permanent=job.skipped_permanent,
        not_blocked=job.skipped_not_blocked,
        skipped_changed=job.skipped_changed,
        records_without_address=job.records_without_address,
        permanent_examples=list(job.permanent_examples),
    )
