"""Writing many blocks at once behind the per-bounce services, for demo and benchmark data.

`address_block` is the rule; this is the fast path for data generated in bulk: blocks derived
from their bounces as `address_block` would derive them, written with `bulk_create`, lifted
ones with their audit rows, and the records' block columns set with the same set-based sync the
services call. The block-column consistency test seeds through it (tests/bounces/
test_record_block_sync.py), so a change to the rules that this path misses shows there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from django.db.models import F, OuterRef, Subquery

from ..models import Block, Bounce, BouncePolicy, Unblock
from .record_blocks import records_sync_blocks

BATCH = 5_000


def blocks_from_bounces(bounces: Iterable[Bounce], *, policy: BouncePolicy) -> list[Block]:
    """Return the (unsaved) block of each bounced address: the latest bounce is the cause, the
    count is the number of bounces, the review is due an interval after the first one."""
    interval = timedelta(days=policy.review_interval_days)
    by_address: dict[str, list[Bounce]] = {}
    for bounce in bounces:
        by_address.setdefault(bounce.recipient, []).append(bounce)
    blocks = []
    for address, history in by_address.items():
        history.sort(key=lambda b: b.received_at)
        latest = history[-1]
        blocks.append(
            Block(
                address=address,
                type=latest.type,
                category=latest.category,
                status=latest.status,
                reply_code=latest.reply_code,
                diagnostic=latest.diagnostic,
                explanation=latest.explanation,
                first_bounce_at=history[0].received_at,
                last_bounce_at=latest.received_at,
                bounce_count=len(history),
                cause=latest,
                review_due_at=history[0].received_at + interval,
            )
        )
    return blocks


def blocks_seed(*, blocks: list[Block], unblock: Callable[[Block], Unblock]) -> list[Unblock]:
    """Write `blocks` (those with `lifted_at` set are history) and the audit row `unblock(block)`
    of each lifted one; set the records' block columns; return the audit rows.

    Rows are dated as the history they stand for: a block created at its first bounce, an
    audit row at its block's lift.
    """
    Block.objects.bulk_create(blocks, batch_size=BATCH)
    if not blocks:
        return []
    # auto_now_add stamped "now" (one UPDATE each).
    new = {"pk__gte": min(b.pk for b in blocks), "pk__lte": max(b.pk for b in blocks)}
    Block.objects.filter(**new).update(created_at=F("first_bounce_at"))
    unblocks = [unblock(block) for block in blocks if block.lifted_at is not None]
    Unblock.objects.bulk_create(unblocks, batch_size=BATCH)
    Unblock.objects.filter(block__in=Block.objects.filter(**new)).update(
        created_at=Subquery(Block.objects.filter(pk=OuterRef("block_id")).values("lifted_at")[:1])
    )
    # As the block services would have set them: one set-based UPDATE per model and field.
    records_sync_blocks(addresses=[b.address for b in blocks if b.lifted_at is None])
    return unblocks
