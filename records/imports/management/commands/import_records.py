"""`manage.py import_records (--contacts|--leads) PATH [--dry-run] [--on-duplicate …]
[--report OUT.csv]`: a thin caller of records.imports.services."""

from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError

from records.imports.cleaning import match_headers
from records.imports.models import ImportJob, OnDuplicate, Outcome
from records.imports.services import (
    ImportOptions,
    TableError,
    import_apply,
    import_open,
    import_preview,
    write_result,
)
from records.models import RecordType


class Command(BaseCommand):
    help = (
        "Import contacts or leads from a CSV or XLSX file, exactly as the upload page does: "
        "addresses cleaned and validated, duplicates and blocked addresses detected. "
        "--dry-run prints the preview and saves nothing."
    )

    def add_arguments(self, parser):
        record_type = parser.add_mutually_exclusive_group(required=True)
        record_type.add_argument("--contacts", action="store_true", help="Import contacts.")
        record_type.add_argument("--leads", action="store_true", help="Import leads.")
        parser.add_argument("path", help="The CSV or XLSX file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the preview; save nothing."
        )
        parser.add_argument(
            "--on-duplicate",
            choices=OnDuplicate.values,
            default=OnDuplicate.SKIP,
            help="A row whose email is already on a record (or earlier in the file): skip it "
            "(default), update the existing record, or create another record.",
        )
        parser.add_argument(
            "--report",
            metavar="OUT.csv",
            help="Write one row per input line: line, outcome (created, updated, skipped, "
            "rejected) and reason.",
        )

    def handle(self, *args, **options):
        record_type = RecordType.CONTACT if options["contacts"] else RecordType.LEAD
        try:
            table = import_open(options["path"])
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {options['path']}") from exc
        except (TableError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        mapping = match_headers(table.headers)
        if "email" not in mapping.values() and not {"name", "last_name"} & set(mapping.values()):
            raise CommandError(
                "No column could be matched to a name or an email; headers: "
                + ", ".join(table.headers)
            )
        import_options = ImportOptions(
            record_type=record_type, mapping=mapping, on_duplicate=options["on_duplicate"]
        )
        try:
            report_file = open(options["report"], "w", newline="") if options["report"] else None  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot write the report {options['report']}: {exc}") from exc
        try:
            if options["dry_run"]:
                writer = None
                if report_file:
                    writer = csv.writer(report_file)
                    writer.writerow(["line", "outcome", "reason"])
                try:
                    preview = import_preview(table, import_options, report=writer)
                except TableError as exc:
                    raise CommandError(str(exc)) from exc
                self._print_preview(table, mapping, preview)
                return
            try:
                # The whole file is checked before anything is saved: a file that breaks off
                # half-way (a NUL byte at line 90,000) must not leave 89,999 lines imported.
                total = sum(1 for _ in table.rows())
            except TableError as exc:
                raise CommandError(str(exc)) from exc
            job = ImportJob.objects.create(
                record_type=record_type,
                file_name=str(options["path"])[-255:],
                file_path=str(options["path"]),
                file_format=table.format,
                encoding=table.encoding,
                delimiter=table.delimiter,
                headers=table.headers,
                mapping={str(c): f for c, f in mapping.items()},
                on_duplicate=options["on_duplicate"],
                total_lines=total,
                state=ImportJob.State.QUEUED,
            )
            applied = import_apply(job_id=job.pk, keep_file=True)
            if applied is None:  # only if another process claimed the job we just queued
                raise CommandError(f"Import #{job.pk} was taken by another process.")
            job = applied
            if report_file:
                write_result(job, report_file)
            if job.state == ImportJob.State.FAILED:
                raise CommandError(
                    f"The import failed after line {job.last_line} (lines up to it are saved; "
                    f"import #{job.pk}): {job.error}"
                )
            self.stdout.write(
                f"Imported {record_type}s from {options['path']}: {job.created} created, "
                f"{job.updated} updated, {job.skipped} skipped, {job.rejected} rejected "
                f"(import #{job.pk})."
            )
        finally:
            if report_file:
                report_file.close()

    def _print_preview(self, table, mapping, preview) -> None:
        out = self.stdout
        out.write(
            f"Format: {table.format}"
            + (
                f", encoding {table.encoding}, delimiter {table.delimiter!r}"
                if table.encoding
                else ""
            )
        )
        out.write(
            "Columns: "
            + ", ".join(
                f"{header or '?'} -> {mapping.get(i, '(ignored)')}"
                for i, header in enumerate(table.headers)
            )
        )
        counts = preview["counts"]
        out.write(
            f"Dry run, nothing saved. {preview['lines']} lines: "
            + ", ".join(f"{counts[o]} {o}" for o in Outcome.values)
        )
        sections = (
            ("changes", "Cleaning changes"),
            ("typos", "Likely typos"),
            ("duplicates", "Duplicates"),
            ("blocked", "Blocked addresses"),
            ("rejected", "Rejected rows"),
        )
        for key, title in sections:
            if preview["totals"][key]:
                out.write(f"{title} ({preview['totals'][key]}):")
                for item in preview[key]:
                    out.write("  line " + " | ".join(str(v) for v in item))
                if preview["totals"][key] > len(preview[key]):
                    out.write(f"  … and {preview['totals'][key] - len(preview[key])} more")
