"""Fill an empty database with realistic demo data and the demo users `admin` and `sales`."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from records.demo import DEMO_PASSWORD, database_is_empty, demo_seed


class Command(BaseCommand):
    help = (
        "Fill the database with demo contacts, leads, mailings, sent emails, bounces and blocks, "
        f"and create the users 'admin' (superuser) and 'sales' (sales staff), password "
        f"'{DEMO_PASSWORD}'. Refuses to run unless DEBUG is on, and refuses a database that "
        "already holds records, blocks, bounces or sent emails unless --force is given (then it "
        "adds to them; nothing is ever deleted)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--contacts", type=int, default=200, help="Contacts to create (default 200)."
        )
        parser.add_argument("--leads", type=int, default=100, help="Leads to create (default 100).")
        parser.add_argument(
            "--bounces",
            type=int,
            default=300,
            help="Bounces to create (default 300); blocks follow from them.",
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed: the same seed gives the same data."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add demo data even though the database already holds some.",
        )

    def handle(self, *args, contacts, leads, bounces, seed, force, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates users with a known password: it runs only with DEBUG on "
                "(DJANGO_DEBUG=true)."
            )
        if min(contacts, leads, bounces) < 0:
            raise CommandError("--contacts, --leads and --bounces cannot be negative")
        if not force and not database_is_empty():
            raise CommandError(
                "The database already holds records, blocks, bounces or sent emails. "
                "Use --force to add demo data to it anyway."
            )
        started = time.monotonic()
        result = demo_seed(
            contacts=contacts,
            leads=leads,
            bounces=bounces,
            seed=seed,
            progress=lambda message: (
                self.stdout.write(f"… {message}") if options["verbosity"] > 1 else None
            ),
        )
        self.stdout.write(self.style.SUCCESS(f"{result} ({time.monotonic() - started:.1f} s)"))
