"""The sweeper: re-queue inbox rows left pending (a task lost with its worker, a broker outage)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ..models import InboundMessage, UsedWebhookToken
from .process import BATCH_SIZE, due

STALE_AFTER = timedelta(minutes=3)
MAX_REQUEUE = 5000
TOKEN_MEMORY = timedelta(days=1)  # far longer than the webhooks' timestamp window


def inbound_sweep(*, older_than: timedelta = STALE_AFTER) -> int:
    """Queue processing of rows pending for longer than `older_than`; return how many."""
    from ..tasks.ingestion import process_inbound
    from ..tasks.queue import task_send

    cutoff = timezone.now() - older_than
    ids = list(
        InboundMessage.objects.filter(due(), received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:MAX_REQUEUE]
    )
    for start in range(0, len(ids), BATCH_SIZE):
        if not task_send(process_inbound, ids[start : start + BATCH_SIZE]):
            break  # the broker is down: the next sweep tries again
    # A used token only needs remembering while its signature's timestamp is still accepted.
    UsedWebhookToken.objects.filter(seen_at__lt=timezone.now() - TOKEN_MEMORY).delete()
    return len(ids)
