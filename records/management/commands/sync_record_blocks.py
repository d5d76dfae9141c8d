"""Rebuild every contact's and lead's block columns from the active blocks (the repair path)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from bounces.services.record_blocks import records_sync_blocks


class Command(BaseCommand):
    help = (
        "Set every contact's and lead's email_block/backup_email_block columns from the active "
        "blocks of their addresses. The block services keep them in sync; run this after writing "
        "blocks or records outside them (raw SQL, a restore). Writes only the values that differ."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        changed = records_sync_blocks(addresses=None)
        self.stdout.write(
            f"{changed} records' block columns corrected in {time.monotonic() - started:.1f} s."
        )
