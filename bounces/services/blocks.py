"""Writes to blocks: block an address from a classified bounce, lift a block.

Both are transactional, idempotent and race-safe: the partial unique constraint allows one active
block per address, new blocks are created inside a savepoint (a racing creator's IntegrityError
turns into an update of the row it created), and lifting is a guarded UPDATE whose row count says
who won.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from records.addresses import address_key

from ..categories import BlockType
from ..models import Block, Bounce, BouncePolicy, Unblock
from .errors import (
    ConfirmationRequired,
    NotBlocked,
    PermanentBlockNeedsAdmin,
    ReasonRequired,
    UnblockNotAllowed,
)

ESCALATED_CATEGORY = "other"


@dataclass(frozen=True)
class BlockCause:
    """What a classified bounce says about one address."""

    type: str
    category: str
    status: str = ""
    reply_code: str = ""
    diagnostic: str = ""
    explanation: str = ""


def _apply_cause(block: Block, cause: BlockCause) -> None:
    block.type = cause.type
    block.category = cause.category
    block.status = cause.status[:16]
    block.reply_code = cause.reply_code[:3]
    block.diagnostic = cause.diagnostic
    block.explanation = cause.explanation[:500]


def address_block(
    *,
    address: str,
    cause: BlockCause,
    at: datetime | None = None,
    bounce: Bounce | None = None,
    policy: BouncePolicy | None = None,
) -> Block:
    """Create or update the active block of `address` from one bounce; return it.

    The block keeps the latest cause and counts bounces. A permanent block is not downgraded by a
    later temporary bounce (an auto-reply from a dead mailbox's forwarder must not make it
    liftable by staff); it only counts it. With escalation configured, the Nth temporary bounce
    within the window turns a temporary block permanent `other`.
    """
    key = address_key(address)
    if not key:
        raise ValueError("address_block needs an address")
    at = at or timezone.now()
    policy = policy or BouncePolicy.current()
    with transaction.atomic():
        block = Block.objects.select_for_update().active().filter(address=key).first()
        if block is None:
            block = _create_block(key, cause, at, bounce, policy)
            if block is not None:
                return block
            # Another transaction created it between our SELECT and INSERT: lock theirs.
            block = Block.objects.select_for_update().active().get(address=key)
        _update_block(block, cause, at, bounce, policy)
        return block


def _create_block(
    key: str, cause: BlockCause, at: datetime, bounce: Bounce | None, policy: BouncePolicy
) -> Block | None:
    block = Block(
        address=key,
        first_bounce_at=at,
        last_bounce_at=at,
        bounce_count=1,
        cause=bounce,
        review_due_at=at + timedelta(days=policy.review_interval_days),
    )
    _apply_cause(block, cause)
    try:
        with transaction.atomic():
            block.save()
    except IntegrityError:
        return None
    return block


def _update_block(
    block: Block, cause: BlockCause, at: datetime, bounce: Bounce | None, policy: BouncePolicy
) -> None:
    block.bounce_count = F("bounce_count") + 1
    if at >= block.last_bounce_at:
        block.last_bounce_at = at
        keeps_permanent = block.is_permanent and cause.type == BlockType.TEMPORARY
        if not keeps_permanent:
            _apply_cause(block, cause)
            block.cause = bounce
    block.first_bounce_at = min(block.first_bounce_at, at)
    block.save()
    block.refresh_from_db(fields=["bounce_count"])
    if _should_escalate(block, policy):
        block.type = BlockType.PERMANENT
        block.category = ESCALATED_CATEGORY
        block.escalated_at = timezone.now()
        block.explanation = _(
            "%(count)d temporary bounces within %(days)d days: escalated to a permanent block."
        ) % {"count": block.bounce_count, "days": policy.escalate_within_days}
        block.save(update_fields=["type", "category", "escalated_at", "explanation"])


def _should_escalate(block: Block, policy: BouncePolicy) -> bool:
    limit = policy.escalate_after_bounces
    if not limit or block.type != BlockType.TEMPORARY or block.bounce_count < limit:
        return False
    since = block.last_bounce_at - timedelta(days=policy.escalate_within_days)
    recent = Bounce.objects.filter(
        recipient=block.address, type=BlockType.TEMPORARY, received_at__gte=since
    ).count()
    return recent >= limit


def can_unblock(user, block: Block) -> bool:
    """Return whether `user` may lift `block` (checked again, on the server, when they do)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if block.is_permanent:
        return user.has_perm("bounces.unblock_permanent")
    return user.has_perm("bounces.unblock_temporary")


def block_unblock(
    *,
    block: Block,
    actor,
    source: str,
    confirmed: bool,
    reason: str = "",
    record=None,
    field: str = "",
) -> Unblock:
    """Lift one active block and write its audit row; return the audit row.

    `actor` None means the system review. Staff must confirm the cause is resolved; a permanent
    block needs the `unblock_permanent` permission and a written reason. Raises an
    `UnblockError` subclass and changes nothing when a rule is not met or the block is no longer
    active (someone else lifted it first).
    """
    reason = (reason or "").strip()
    if actor is not None:
        if not can_unblock(actor, block):
            if block.is_permanent:
                raise PermanentBlockNeedsAdmin(block)
            raise UnblockNotAllowed(block)
        if not confirmed:
            raise ConfirmationRequired(block)
        if block.is_permanent and not reason:
            raise ReasonRequired(block)
    now = timezone.now()
    with transaction.atomic():
        lifted = Block.objects.filter(pk=block.pk, lifted_at__isnull=True).update(lifted_at=now)
        if not lifted:
            raise NotBlocked(block.address)
        block.lifted_at = now
        return Unblock.objects.create(
            block=block,
            address=block.address,
            block_type=block.type,
            category=block.category,
            actor=actor,
            source=source,
            record_type=record.record_type() if record is not None else "",
            record_id=record.pk if record is not None else None,
            field=field,
            confirmed=confirmed,
            reason=reason,
        )


def address_unblock(
    *,
    address: str,
    actor,
    source: str,
    confirmed: bool,
    reason: str = "",
    record=None,
    field: str = "",
) -> Unblock:
    """Lift the active block of `address`; raise `NotBlocked` when it has none."""
    block = Block.objects.active().filter(address=address_key(address)).first()
    if block is None:
        raise NotBlocked(address)
    return block_unblock(
        block=block,
        actor=actor,
        source=source,
        confirmed=confirmed,
        reason=reason,
        record=record,
        field=field,
    )
