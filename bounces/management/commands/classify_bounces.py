"""Classify raw bounce messages from files or folders; needs no database and no network."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bounces.classifier import analyse

# A bounce bigger than this is read only this far (the classifier caps its own work anyway).
MAX_READ_BYTES = 25 * 1024 * 1024


def iter_files(paths: list[str]) -> Iterator[Path]:
    """Yield every file named in ``paths``, walking folders recursively in a stable order.

    A path that does not exist is yielded as is: reading it fails and is reported like any
    unreadable file, without stopping the other paths.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path


class Command(BaseCommand):
    help = (
        "Classify raw bounce messages (files, or folders walked recursively) and print one "
        "line per failed recipient: a table, or JSON lines with --json."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="message files or folders")
        parser.add_argument(
            "--json",
            action="store_true",
            help="print one JSON object per recipient: file, recipient, type, category, "
            "status, diagnostic (recipient null when none was found)",
        )

    def handle(self, *args, **options):
        as_json = options["json"]
        messages = recipients = unparsed = 0
        unreadable: list[str] = []
        if not as_json:
            self.stdout.write(
                f"{'file':<32} {'recipient':<36} {'type':<10} {'category':<22} {'status':<7} why"
            )
        for path in iter_files(options["paths"]):
            try:
                with path.open("rb") as fh:
                    raw = fh.read(MAX_READ_BYTES)
            except OSError as exc:
                # Keep going: one bad path must not lose the other files' results.
                self.stderr.write(f"Cannot read {path}: {exc.strerror or exc}")
                unreadable.append(str(path))
                continue
            analysis = analyse(raw)
            messages += 1
            unparsed += not analysis.parsed
            rows = analysis.verdicts or (None,)
            for verdict in rows:
                recipients += verdict is not None
                if as_json:
                    self.stdout.write(json.dumps(self._row(path, verdict), ensure_ascii=False))
                else:
                    self.stdout.write(self._table_row(path, verdict, analysis.reason))
        if not as_json:
            self.stdout.write(
                f"{messages} message(s), {recipients} recipient(s), {unparsed} not parsed"
            )
        if unreadable:
            raise CommandError(f"{len(unreadable)} path(s) could not be read")

    @staticmethod
    def _row(path: Path, verdict) -> dict:
        if verdict is None:
            return {
                "file": str(path),
                "recipient": None,
                "type": None,
                "category": None,
                "status": None,
                "diagnostic": None,
            }
        return {
            "file": str(path),
            "recipient": verdict.recipient,
            "type": verdict.type,
            "category": verdict.category,
            "status": verdict.status,
            "diagnostic": verdict.diagnostic,
        }

    @staticmethod
    def _table_row(path: Path, verdict, reason: str) -> str:
        name = path.name if len(path.name) <= 32 else path.name[:31] + "…"
        if verdict is None:
            return f"{name:<32} {'-':<36} {'-':<10} {'-':<22} {'-':<7} {reason}"
        recipient = verdict.recipient or "-"
        if len(recipient) > 36:
            recipient = recipient[:35] + "…"
        return (
            f"{name:<32} {recipient:<36} {verdict.type or 'none':<10} "
            f"{verdict.category or '-':<22} {verdict.status or '-':<7} {verdict.explanation}"
        )
