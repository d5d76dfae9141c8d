"""Imports: plan every line of a file (clean, validate, find duplicates and blocks), preview the
plan, and apply it in chunks. Views, the Celery task and `manage.py import_records` call these.

The plan is computed again when the import runs (the database may have changed since the
preview), from the same stored file and options, so the preview and the result agree on
everything that did not change in between.
"""

from __future__ import annotations

import csv
import logging
import os
import queue
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bounces.models import Block
from bounces.services.record_blocks import _keys as keys_rhs
from bounces.services.record_blocks import records_sync_blocks
from bounces.services.review import LookupFailed, _Dns, default_resolver, domain_evidence
from core.addresses import address_domain
from core.spreadsheets import safe_cell
from records.addresses import address_key
from records.models import ADDRESS_COLUMNS, record_model

from .cleaning import FIELDS, clean_email, formula_like, match_headers, split_name
from .models import ImportBatch, ImportJob, OnDuplicate, Outcome
from .reading import Limits, Table, TableError, open_table

logger = logging.getLogger(__name__)

CHUNK = 1000
# Each list of the stored preview keeps this many entries; the preview download has them all.
PREVIEW_LIMIT = 500
_MAX_LENGTHS = {"first_name": 100, "last_name": 100, "company": 200, "phone": 50}

__all__ = [
    "ImportError_",
    "ImportOptions",
    "RowPlan",
    "TableError",
    "import_apply",
    "import_open",
    "import_plan",
    "import_preview",
    "import_rollback",
    "import_upload",
    "limits",
]


class ImportError_(Exception):  # noqa: N801 - "ImportError" is a builtin
    """An import action that cannot be done now; the message says why."""


def limits() -> Limits:
    return Limits(
        max_file_bytes=settings.IMPORT_MAX_FILE_BYTES,
        max_line_chars=settings.IMPORT_MAX_LINE_CHARS,
        max_rows=settings.IMPORT_MAX_ROWS,
        xlsx_max_uncompressed_bytes=settings.IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES,
    )


@dataclass
class ImportOptions:
    record_type: str
    mapping: dict[int, str]
    on_duplicate: str = OnDuplicate.SKIP
    fix_typos: bool = False
    check_dns: bool = False


@dataclass
class RowPlan:
    line: int
    outcome: str = Outcome.CREATED
    reason: str = ""
    values: dict = field(default_factory=dict)
    # (field, original, cleaned, what changed)
    changes: list[tuple[str, str, str, str]] = field(default_factory=list)
    typos: list[tuple[str, str, str]] = field(default_factory=list)  # (field, address, fix)
    existing_id: int | None = None
    duplicate: str = ""  # why the row is a duplicate
    blocked: list[tuple[str, str, str]] = field(default_factory=list)  # (address, type, category)
    owner: str = ""  # the owner cell, as written

    def reject(self, reason: str) -> None:
        if self.outcome != Outcome.REJECTED:
            self.outcome = Outcome.REJECTED
            self.reason = reason

    @cached_property
    def keys(self) -> list[str]:
        # Read only once the plan's values are final (after _plan_row).
        return [
            address_key(self.values.get(name, ""))
            for name in ("email", "backup_email")
            if self.values.get(name)
        ]


def import_open(path: str | os.PathLike) -> Table:
    """Return the checked table at `path` (raise TableError)."""
    return open_table(path, limits=limits())


class _Owners:
    """Owner cells (a user name or an email) resolved to user ids, one query per distinct value."""

    def __init__(self) -> None:
        self.cache: dict[str, int | None] = {}

    def resolve(self, value: str) -> int | None:
        key = value.strip().lower()
        if key not in self.cache:
            user = (
                get_user_model()
                .objects.filter(Q(username__iexact=key) | Q(email__iexact=key), is_active=True)
                .order_by("pk")
                .first()
            )
            self.cache[key] = user.pk if user else None
        return self.cache[key]


class _Domains:
    """The optional deliverability check, one DNS verdict per domain for the whole file."""

    def __init__(self) -> None:
        self.dns = _Dns(default_resolver())
        self.verdicts: dict[str, str] = {}

    def problem(self, domain: str) -> str:
        if domain not in self.verdicts:
            try:
                ok = domain_evidence(domain.encode("idna").decode("ascii"), self.dns)
                self.verdicts[domain] = (
                    ""
                    if ok
                    else _("the domain %(domain)s accepts no mail (no MX or A record)")
                    % {"domain": domain}
                )
            except (LookupFailed, UnicodeError):
                self.verdicts[domain] = ""  # unknown is not a reason to refuse a row
        return self.verdicts[domain]


def _plan_row(
    line: int, cells: list[str], options: ImportOptions, domains: _Domains | None
) -> RowPlan:
    plan = RowPlan(line=line)
    raw: dict[str, str] = {}
    for column, name in options.mapping.items():
        if column < len(cells) and name in FIELDS:
            # Email cells keep their spaces so that removing them shows as a change.
            raw[name] = (
                cells[column] if name in ("email", "backup_email") else cells[column].strip()
            )
    for name, value in raw.items():
        if name not in ("email", "backup_email") and formula_like(value):
            plan.reject(
                _("the %(field)s cell starts like a spreadsheet formula (%(value)s)")
                % {"field": FIELDS[name], "value": value[:40]}
            )
    values: dict = {}
    first, last = raw.get("first_name", ""), raw.get("last_name", "")
    if raw.get("name") and not (first or last):
        first, last = split_name(raw["name"])
    elif raw.get("name") and not last:
        last = raw["name"]
    values["first_name"], values["last_name"] = first, last
    for name in ("company", "phone"):
        if name in raw:
            values[name] = raw[name]
    for name, limit in _MAX_LENGTHS.items():
        if len(values.get(name, "")) > limit:
            plan.reject(
                _("the %(field)s is longer than %(limit)d characters")
                % {"field": FIELDS[name], "limit": limit}
            )
    for name in ("email", "backup_email"):
        if not raw.get(name, "").strip():
            continue
        cleaned = clean_email(raw[name])
        for change in cleaned.changes:
            plan.changes.append((name, raw[name], cleaned.address, change))
        if cleaned.error:
            plan.reject(
                _("invalid %(field)s “%(value)s”: %(reason)s")
                % {"field": FIELDS[name], "value": raw[name][:80], "reason": cleaned.error}
            )
            continue
        address = cleaned.address
        if cleaned.suggestion:
            local = address.rpartition("@")[0]
            fixed = f"{local}@{cleaned.suggestion}"
            plan.typos.append((name, address, fixed))
            if options.fix_typos:
                plan.changes.append(
                    (name, raw[name], fixed, _("fixed a likely typo in the domain"))
                )
                address = fixed
        if domains is not None:
            problem = domains.problem(address_domain(address))
            if problem:
                plan.reject(problem)
        values[name] = address
    if values.get("email") and address_key(values["email"]) == address_key(
        values.get("backup_email", "")
    ):
        values["backup_email"] = ""
        plan.typos = [typo for typo in plan.typos if typo[0] != "backup_email"]
        plan.changes.append(
            ("backup_email", raw.get("backup_email", ""), "", _("dropped: same as the email"))
        )
    plan.owner = raw.get("owner", "")  # resolved with the chunk (a database look-up)
    if not (values.get("first_name") or values.get("last_name") or values.get("email")):
        plan.reject(_("the row has neither a name nor an email"))
    plan.values = values
    return plan


def _settle_chunk(
    plans: list[RowPlan], options: ImportOptions, seen: dict[str, int], model, owners: _Owners
) -> None:
    """Resolve owners, decide duplicates and flag blocked addresses for a chunk (a few
    queries)."""
    for plan in plans:
        if plan.owner:
            owner_id = owners.resolve(plan.owner)
            if owner_id is None:
                plan.reject(_("unknown owner “%(owner)s”") % {"owner": plan.owner[:80]})
            plan.values["owner_id"] = owner_id
    keys = {key for plan in plans for key in plan.keys}
    primary_keys = {address_key(p.values["email"]) for p in plans if p.values.get("email")}
    existing: dict[str, int] = {}
    if primary_keys:
        # One query per key column, each with `<> ''` so the partial key index serves it; on
        # PostgreSQL the keys go as one array joined by unnest (record_blocks._keys): one
        # parameter instead of a thousand, and index probes instead of `= ANY` per row.
        rhs = keys_rhs(sorted(primary_keys))
        for column in (columns.key for columns in ADDRESS_COLUMNS.values()):
            rows = (
                model.objects.exclude(**{column: ""})
                .filter(**{f"{column}__in": rhs})
                .order_by("-pk")
                .values_list(column, "pk")
            )
            for key, pk in rows:
                if key not in existing or pk < existing[key]:
                    existing[key] = pk
    blocks: dict[str, tuple[str, str]] = {}
    if keys:
        blocks = {
            address: (type_, category)
            for address, type_, category in Block.objects.filter(
                lifted_at__isnull=True, address__in=keys_rhs(sorted(keys))
            ).values_list("address", "type", "category")
        }
    verbose = model._meta.verbose_name
    for plan in plans:
        for key in plan.keys:
            if key in blocks:
                plan.blocked.append((key, *blocks[key]))
        if plan.outcome == Outcome.REJECTED or not plan.values.get("email"):
            continue
        key = address_key(plan.values["email"])
        if key in seen:
            plan.duplicate = _("same email as line %(line)d") % {"line": seen[key]}
            if options.on_duplicate != OnDuplicate.CREATE:
                plan.outcome = Outcome.SKIPPED
                plan.reason = plan.duplicate
            continue
        seen[key] = plan.line
        if key in existing:
            plan.existing_id = existing[key]
            plan.duplicate = _("same email as %(record_type)s #%(id)d") % {
                "record_type": verbose,
                "id": existing[key],
            }
            if options.on_duplicate == OnDuplicate.SKIP:
                plan.outcome = Outcome.SKIPPED
                plan.reason = plan.duplicate
            elif options.on_duplicate == OnDuplicate.UPDATE:
                plan.outcome = Outcome.UPDATED
                plan.reason = plan.duplicate
        if plan.outcome == Outcome.CREATED and plan.duplicate:
            plan.reason = plan.duplicate


def _row_plans(table: Table, options: ImportOptions) -> Iterator[list[RowPlan]]:
    """Yield the rows' own plans (cleaning and validation, no database), a chunk at a time."""
    domains = _Domains() if options.check_dns else None
    chunk: list[RowPlan] = []
    for line, cells in table.rows():
        chunk.append(_plan_row(line, cells, options, domains))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_DONE = object()


def _read_ahead(chunks: Iterator[list[RowPlan]]) -> Iterator[list[RowPlan]]:
    """Yield `chunks` computed by a helper thread one or two chunks ahead.

    The import alternates between Python work (cleaning, validation) and waiting for
    PostgreSQL to store a chunk; reading ahead overlaps the two. The thread touches no database
    (owners, duplicates and blocks are looked up by the caller) and stops when the caller does.
    """
    out: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        out.put(chunk, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            out.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            out.put(exc)

    thread = threading.Thread(target=produce, name="import-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def import_plan(
    table: Table, options: ImportOptions, *, read_ahead: bool = False
) -> Iterator[list[RowPlan]]:
    """Yield the plan of every data line of `table`, a chunk at a time (no writes)."""
    model = record_model(options.record_type)
    owners = _Owners()
    seen: dict[str, int] = {}
    chunks = _row_plans(table, options)
    for chunk in _read_ahead(chunks) if read_ahead else chunks:
        _settle_chunk(chunk, options, seen, model, owners)
        yield chunk


def import_preview(table: Table, options: ImportOptions, *, report=None) -> dict:
    """Return the preview of importing `table`: counts and the lists of what needs a look.

    `report`, a csv.writer, receives one row per line (line, outcome, reason).
    """
    counts = dict.fromkeys(Outcome.values, 0)
    lists: dict[str, list] = {
        "changes": [],
        "rejected": [],
        "duplicates": [],
        "blocked": [],
        "typos": [],
    }
    totals = dict.fromkeys(lists, 0)

    def add(name: str, item) -> None:
        totals[name] += 1
        if len(lists[name]) < PREVIEW_LIMIT:
            lists[name].append(item)

    lines = 0
    for chunk in import_plan(table, options):
        for plan in chunk:
            lines += 1
            counts[plan.outcome] += 1
            for name, original, cleaned, change in plan.changes:
                add("changes", [plan.line, str(FIELDS[name]), original, cleaned, change])
            if plan.outcome == Outcome.REJECTED:
                add("rejected", [plan.line, plan.reason])
            if plan.duplicate:
                add("duplicates", [plan.line, plan.values.get("email", ""), plan.duplicate])
            for address, type_, category in plan.blocked:
                add("blocked", [plan.line, address, type_, category])
            for name, address, fixed in plan.typos:
                add("typos", [plan.line, str(FIELDS[name]), address, fixed])
            if report is not None:
                report.writerow([plan.line, plan.outcome, safe_cell(line_reason(plan))])
    truncated = any(totals[name] > len(items) for name, items in lists.items())
    return {"lines": lines, "counts": counts, "totals": totals, "truncated": truncated, **lists}


def preview_rows(table: Table, options: ImportOptions) -> Iterator[list]:
    """Yield the full preview as rows (a header first): per line its planned outcome, reason and
    every cleaning change, so nothing is hidden by the page's 500-entry lists."""
    yield ["line", "outcome", "reason", "changes"]
    for chunk in import_plan(table, options):
        for plan in chunk:
            changes = "; ".join(
                f"{FIELDS[name]}: {original!r} → {cleaned!r} ({change})"
                for name, original, cleaned, change in plan.changes
            )
            yield [plan.line, plan.outcome, line_reason(plan), changes]


def line_reason(plan: RowPlan) -> str:
    """Return the result file's reason text of a line: the decision, then notes."""
    notes = [plan.reason] if plan.reason else []
    if plan.outcome != Outcome.REJECTED:
        notes += [
            _("%(address)s is blocked (%(type)s: %(category)s)")
            % {"address": a, "type": t, "category": c}
            for a, t, c in plan.blocked
        ]
        notes += [
            _("%(address)s may be a typo of %(fixed)s") % {"address": a, "fixed": f}
            for _n, a, f in plan.typos
        ]
    return "; ".join(notes)


# --- jobs ------------------------------------------------------------------------------------
def import_upload(
    *, actor: User, record_type: str, upload: UploadedFile, file_name: str
) -> ImportJob:
    """Store an uploaded file, check it, and return its new job with the guessed mapping.

    Raise TableError (nothing kept) when the file cannot be imported.
    """
    folder = Path(settings.IMPORT_UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.upload"
    size = 0
    max_bytes = settings.IMPORT_MAX_FILE_BYTES
    try:
        with path.open("wb") as out:
            for chunk in upload.chunks():
                size += len(chunk)
                if size > max_bytes:
                    raise TableError(
                        _("The file is bigger than the limit of %(limit).1f MB.")
                        % {"limit": max_bytes / 1048576}
                    )
                out.write(chunk)
        table = import_open(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    mapping = match_headers(table.headers)
    return ImportJob.objects.create(
        actor=actor,
        record_type=record_type,
        file_name=file_name[:255],
        file_path=str(path),
        file_size=size,
        file_format=table.format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        headers=table.headers,
        mapping={str(column): name for column, name in mapping.items()},
    )


def job_options(job: ImportJob) -> ImportOptions:
    return ImportOptions(
        record_type=job.record_type,
        mapping={int(column): name for column, name in job.mapping.items()},
        on_duplicate=job.on_duplicate,
        fix_typos=job.fix_typos,
        check_dns=job.check_dns,
    )


def job_table(job: ImportJob) -> Table:
    return import_open(job.file_path)


def import_job_preview(*, job: ImportJob) -> dict:
    """Compute and store the job's preview; return it."""
    preview = import_preview(job_table(job), job_options(job))
    ImportJob.objects.filter(pk=job.pk).update(preview=preview, total_lines=preview["lines"])
    job.preview, job.total_lines = preview, preview["lines"]
    return preview


def import_confirm(*, job: ImportJob) -> bool:
    """Queue the job's import; return False when it was not waiting for confirmation."""
    from .tasks import run_import

    claimed = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.UPLOADED).update(
        state=ImportJob.State.QUEUED
    )
    if claimed:
        transaction.on_commit(lambda: run_import.delay(job.pk))
    return bool(claimed)


def import_resume(*, job: ImportJob) -> bool:
    """Queue a failed job again; it continues after its last saved line."""
    from .tasks import run_import

    claimed = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.FAILED).update(
        state=ImportJob.State.QUEUED, error=""
    )
    if claimed:
        transaction.on_commit(lambda: run_import.delay(job.pk))
    return bool(claimed)


def import_discard_stale(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete uploads never confirmed (and their jobs) older than `older_than`; return how many.

    An abandoned upload would otherwise keep its file in IMPORT_UPLOAD_DIR for ever.
    """
    stale = ImportJob.objects.filter(
        state=ImportJob.State.UPLOADED, created_at__lt=timezone.now() - older_than
    )
    count = 0
    for job in stale.iterator():
        _discard_upload(job)
        count += ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.UPLOADED).delete()[0]
    return count


def _discard_upload(job: ImportJob) -> None:
    """Delete the job's stored upload; never a file outside the upload folder (a command's
    input file is the operator's)."""
    path = Path(job.file_path)
    if path.parent.resolve() == Path(settings.IMPORT_UPLOAD_DIR).resolve():
        path.unlink(missing_ok=True)


def _block_tags(keys: set[str]) -> dict[str, str]:
    """Return {address key: "type:slug"} of the active blocks among `keys`."""
    if not keys:
        return {}
    return {
        address: f"{type_}:{category}"
        for address, type_, category in Block.objects.filter(
            lifted_at__isnull=True, address__in=keys_rhs(sorted(keys))
        ).values_list("address", "type", "category")
    }


def _apply_chunk(job_id: int, plans: list[RowPlan], model) -> None:
    """Save one chunk: its records, its lines and the job's progress, in one transaction."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        plans = [plan for plan in plans if plan.line > job.last_line]
        if not plans or job.state != ImportJob.State.RUNNING:
            return
        creating = [p for p in plans if p.outcome == Outcome.CREATED]
        # New records get their block columns at insert, read from the block table inside this
        # transaction (one indexed query; cheaper than four sync UPDATEs per chunk).
        tags = _block_tags({key for plan in creating for key in plan.keys})
        new = []
        for plan in creating:
            record = model(**plan.values)
            record.email_block = tags.get(address_key(record.email), "")
            record.backup_email_block = tags.get(address_key(record.backup_email), "")
            new.append(record)
        created = model.objects.bulk_create(new)
        record_ids = {p.line: record.pk for p, record in zip(creating, created, strict=True)}
        for plan in plans:
            if plan.outcome == Outcome.UPDATED:
                changes = {k: v for k, v in plan.values.items() if v not in ("", None)}
                model.objects.filter(pk=plan.existing_id).update(
                    **changes, updated_at=timezone.now()
                )
                record_ids[plan.line] = plan.existing_id
            elif plan.outcome == Outcome.SKIPPED and plan.existing_id:
                record_ids[plan.line] = plan.existing_id
        ImportBatch.objects.create(
            job_id=job_id,
            first_line=plans[0].line,
            last_line=plans[-1].line,
            lines=[
                [plan.line, plan.outcome, line_reason(plan), record_ids.get(plan.line)]
                for plan in plans
            ],
            created_ids=[record.pk for record in created],
        )
        # An updated record may carry a new address: its block columns from the block table.
        records_sync_blocks(
            addresses=[
                key for plan in plans if plan.outcome == Outcome.UPDATED for key in plan.keys
            ]
        )
        tally = dict.fromkeys(Outcome.values, 0)
        for plan in plans:
            tally[plan.outcome] += 1
        job.last_line = plans[-1].line
        job.processed += len(plans)
        job.created += tally["created"]
        job.updated += tally["updated"]
        job.skipped += tally["skipped"]
        job.rejected += tally["rejected"]
        job.save(
            update_fields=[
                "last_line",
                "processed",
                "created",
                "updated",
                "skipped",
                "rejected",
            ]
        )


def import_apply(*, job_id: int, keep_file: bool = False) -> ImportJob | None:
    """Run (or resume) a queued import job; return it, or None when it was not claimable.

    The uploaded file is deleted once the job is done, unless `keep_file` (the command's input).
    """
    now = timezone.now()
    claimed = ImportJob.objects.filter(
        pk=job_id, state__in=[ImportJob.State.QUEUED, ImportJob.State.RUNNING]
    ).update(state=ImportJob.State.RUNNING, started_at=now)
    if not claimed:
        return None
    job = ImportJob.objects.get(pk=job_id)
    model = record_model(job.record_type)
    try:
        table = job_table(job)
        if not job.total_lines:
            ImportJob.objects.filter(pk=job_id).update(total_lines=sum(1 for _ in table.rows()))
        for chunk in import_plan(table, job_options(job), read_ahead=True):
            if chunk[-1].line <= job.last_line:
                continue  # saved before a resume: planned again only to rebuild duplicates
            _apply_chunk(job_id, chunk, model)
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        job.refresh_from_db()
        ImportJob.objects.filter(pk=job_id).update(
            state=ImportJob.State.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:2000]
        )
        job.refresh_from_db()
        return job
    ImportJob.objects.filter(pk=job_id, state=ImportJob.State.RUNNING).update(
        state=ImportJob.State.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    if not keep_file:
        _discard_upload(job)
    return job


def import_rollback(*, job: ImportJob) -> int:
    """Delete the records a failed or finished job created; return how many.

    Updated records keep their new values (the result file lists them).
    """
    claimed = ImportJob.objects.filter(
        pk=job.pk, state__in=[ImportJob.State.FAILED, ImportJob.State.DONE]
    ).update(state=ImportJob.State.ROLLED_BACK, finished_at=timezone.now())
    if not claimed:
        raise ImportError_(_("Only a finished or failed import can be rolled back."))
    model = record_model(job.record_type)
    deleted = 0
    with transaction.atomic():
        for created_ids in ImportBatch.objects.filter(job=job).values_list(
            "created_ids", flat=True
        ):
            deleted += model.objects.filter(pk__in=created_ids).delete()[0]
    _discard_upload(job)
    return deleted


def result_rows(job: ImportJob, *, with_ids: bool = False) -> Iterator[list]:
    """Yield the job's result file: a header, then one row per input line (line, outcome,
    reason[, record id])."""
    columns = ["line", "outcome", "reason", *(["record_id"] if with_ids else [])]
    yield columns
    for lines in (
        ImportBatch.objects.filter(job=job)
        .order_by("first_line")
        .values_list("lines", flat=True)
        .iterator(chunk_size=20)
    ):
        for line, outcome, reason, record_id in lines:
            row = [line, outcome, reason, "" if record_id is None else record_id]
            yield row if with_ids else row[:3]


def write_result(job: ImportJob, out) -> None:
    """Write the job's result file (CSV: line, outcome, reason) to `out`."""
    # Reasons quote the file's own cells: a spreadsheet must not run them (core.spreadsheets).
    csv.writer(out).writerows([safe_cell(value) for value in row] for row in result_rows(job))
