"""Recompute the bounce report's daily roll-ups from the raw rows."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from reports.rollups import rebuild


class Command(BaseCommand):
    help = (
        "Recompute the bounce report's daily roll-ups from the bounces and sent emails "
        "(all days, or from --since on). Safe to run at any time: one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            metavar="YYYY-MM-DD",
            help="Only rebuild the days from this date on (default: every day).",
        )
        parser.add_argument(
            "--until",
            metavar="YYYY-MM-DD",
            help="Only rebuild the days up to this date, inclusive (default: no end).",
        )

    def handle(self, *args, since=None, until=None, **options):
        start = self._date(since, "--since")
        end = self._date(until, "--until")
        if start and end and start > end:
            raise CommandError("--since is after --until")
        began = time.monotonic()
        written = rebuild(start, end)
        self.stdout.write(
            f"Rebuilt report roll-ups in {time.monotonic() - began:.1f} s: "
            f"{written['bounce']} bounce rows, {written['domain']} domain rows, "
            f"{written['month']} monthly domain rows, "
            f"{written['sent']} sent rows."
        )

    @staticmethod
    def _date(value: str | None, option: str) -> dt.date | None:
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise CommandError(f"{option} must be a date like 2025-01-31, not {value!r}") from exc
