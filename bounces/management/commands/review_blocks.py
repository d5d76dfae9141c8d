"""Run the periodic block review now (the same service the daily Celery beat task calls)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bounces.services.review import DEFAULT_BATCH_SIZE, blocks_review_due


class Command(BaseCommand):
    help = (
        "Review the active blocks whose review is due: lift those whose cause DNS now shows "
        "resolved (recipient domain has MX/A records; sending domains pass SPF and DKIM), and "
        "schedule the others for the next review. Set BOUNCECRM_DNS_FIXTURE to answer from a "
        "JSON file instead of DNS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Blocks loaded per query (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--list",
            dest="show_lifted",
            action="store_true",
            help="Print each lifted address as well.",
        )

    def handle(self, *args, batch_size: int, show_lifted: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        result = blocks_review_due(batch_size=batch_size)
        if show_lifted:
            for address in result.lifted_addresses:
                self.stdout.write(f"lifted {address}")
        self.stdout.write(str(result))
