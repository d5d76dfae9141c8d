"""Recompute every contact's and lead's search text (the repair path of records.search)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from records.search import records_fill_search_text


class Command(BaseCommand):
    help = (
        "Recompute the normalised search text (names, company, addresses, phone; no case, no "
        "accents) of every contact and lead. Saves keep it; run this after writing records "
        "outside the ORM's save()/bulk_create() (raw SQL, update(), a restore). Writes only the "
        "rows that differ."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        changed = records_fill_search_text()
        self.stdout.write(
            f"{changed} records' search text corrected in {time.monotonic() - started:.1f} s."
        )
