"""Ingestion tasks: thin callers of `bounces.ingestion` services, owning retries and limits."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

__all__ = ["poll_mailbox", "poll_mailboxes", "process_inbound", "sweep_inbound"]


@shared_task(
    name="bounces.tasks.process_inbound",
    acks_late=True,
    reject_on_worker_lost=True,  # idempotent: a row already processed is skipped
    # The database down or restarting: retry after 5 s, 10 s, 20 s … capped at 2 min (about 9
    # minutes in all, jittered); rows still pending after that are the sweeper's.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=300,
    time_limit=360,
)
def process_inbound(ids: list[int]) -> dict:
    """Process the given inbox rows, filling the batch with other pending rows (backlogs)."""
    from bounces.ingestion.process import BATCH_SIZE, inbound_process

    result = inbound_process(ids=ids, fill=max(0, BATCH_SIZE - len(ids)))
    return {
        "processed": result.processed,
        "quarantined": result.quarantined,
        "failed": result.failed,
        "bounces": result.bounces,
    }


@shared_task(name="bounces.tasks.sweep_inbound", acks_late=True, max_retries=0)
def sweep_inbound() -> int:
    """Re-queue inbox rows still pending after a few minutes (a lost task, a dead worker)."""
    from bounces.ingestion.sweep import inbound_sweep

    return inbound_sweep()


@shared_task(name="bounces.tasks.poll_mailboxes", max_retries=0)
def poll_mailboxes() -> int:
    """Queue one poll per enabled bounce mailbox (each with its own retries)."""
    from bounces.models import BounceMailbox

    ids = list(BounceMailbox.objects.filter(enabled=True).values_list("pk", flat=True))
    for pk in ids:
        poll_mailbox.delay(pk)
    return len(ids)


@shared_task(
    name="bounces.tasks.poll_mailbox",
    bind=True,
    acks_late=True,
    max_retries=3,
    soft_time_limit=240,
    time_limit=300,
)
def poll_mailbox(self, mailbox_id: int) -> int:
    """Fetch new messages of one mailbox; retry with backoff while the server is unreachable."""
    from bounces.ingestion.imap import MailboxUnavailable, mailbox_poll
    from bounces.models import BounceMailbox

    mailbox = BounceMailbox.objects.filter(pk=mailbox_id, enabled=True).first()
    if mailbox is None:
        return 0
    try:
        return mailbox_poll(mailbox=mailbox).stored
    except MailboxUnavailable as exc:
        # 30 s, 60 s, 120 s: well inside the broker's visibility timeout, and the next beat
        # tick polls again anyway.
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
