"""What the reports do when bounces records something (`bounces.signals`; connected in apps.py).

The roll-ups are written in the sender's transaction, so they commit or roll back with the rows
they count; the rate check is queued only once that transaction has committed.
"""

from __future__ import annotations

import logging

from django.db import transaction

from . import rollups
from .tasks import check_bounce_rates

logger = logging.getLogger(__name__)


def rollups_add_bounces(sender, *, bounces, **kwargs) -> None:
    rollups.add_bounces(bounces)


def rollups_add_sent(sender, *, sent_emails, **kwargs) -> None:
    rollups.add_sent(sent_emails)


def rate_check_queue(sender, **kwargs) -> None:
    def queue() -> None:
        try:
            check_bounce_rates.delay()
        except Exception:  # the alert must never undo the ingestion
            logger.exception("could not queue the bounce-rate alert check")

    transaction.on_commit(queue)
