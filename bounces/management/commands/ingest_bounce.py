"""MTA pipe: `python manage.py ingest_bounce < message.eml` (see the README for Postfix and Exim).

Exit codes follow sysexits.h, which every MTA understands:
  0   stored (or already stored: a redelivery is not an error), or quarantined because it is
      larger than BOUNCE_MAX_MESSAGE_BYTES (its head is kept for admins; retrying cannot help);
  65  EX_DATAERR: nothing on standard input;
  75  EX_TEMPFAIL: the database (or anything else) is unavailable; the MTA keeps the message
      in its queue and retries, so nothing is lost.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection

from bounces.ingestion.store import (
    OVERSIZE_HEAD_BYTES,
    inbound_store_oversized,
    inbound_store_raw,
    max_message_bytes,
)
from bounces.models import Channel

EX_OK = 0
EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = (
        "Read one raw bounce message on standard input and store it for processing. Meant to "
        "be run by the mail server's pipe transport; exits 75 (temporary failure) when the "
        "database is unavailable so the mail server retries."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            default="pipe",
            help="Label stored with the message (e.g. the MTA host name). Default: pipe.",
        )
        parser.add_argument(
            "--process",
            action="store_true",
            help="Process the message at once in this process instead of queueing it.",
        )

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except SystemExit:
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure must become EX_TEMPFAIL
            sys.stderr.write(f"ingest_bounce: temporary failure: {type(exc).__name__}: {exc}\n")
            sys.exit(EX_TEMPFAIL)

    def handle(self, *args, **options):
        limit = max_message_bytes()
        stream = sys.stdin.buffer
        raw = stream.read(limit + 1)
        size = len(raw)
        if size > limit:
            # Drain the rest so the MTA sees a clean exit, counting what it held.
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
        if not raw.strip():
            sys.stderr.write("ingest_bounce: empty message on standard input\n")
            sys.exit(EX_DATAERR)
        try:
            connection.ensure_connection()
            if size > limit:
                stored = inbound_store_oversized(
                    head=raw[:OVERSIZE_HEAD_BYTES],
                    size=size,
                    limit=limit,
                    channel=Channel.PIPE,
                    source=options["source"],
                )
                what = "quarantined (too large)"
            else:
                stored = inbound_store_raw(
                    raw=raw,
                    channel=Channel.PIPE,
                    source=options["source"],
                    queue=not options["process"],
                )
                what = "stored" if stored.created else "already stored"
                if options["process"] and stored.created:
                    from bounces.ingestion.process import inbound_process

                    inbound_process(ids=[stored.id])
        except DatabaseError as exc:
            sys.stderr.write(f"ingest_bounce: database unavailable: {exc}\n")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"inbound message {stored.id} {what}")
        sys.exit(EX_OK)
