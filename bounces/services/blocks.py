"""Writes to blocks: block an address from a classified bounce, lift a block.

Both are transactional, idempotent and race-safe: the partial unique constraint allows one active
block per address, new blocks are created inside a savepoint (a racing creator's IntegrityError
turns into an update of the row it created), and lifting is a guarded UPDATE whose row count says
who won. Each of them also brings the block columns of the records carrying the address up to
date (`record_blocks.records_sync_blocks`) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import zip_longest
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bulk_insert import copy_insert
from records.addresses import address_key

from ..categories import BlockCategory, BlockType
from ..models import Block, Bounce, BouncePolicy, Unblock
from .errors import (
    ConfirmationRequired,
    NotBlocked,
    PermanentBlockNeedsAdmin,
    ReasonRequired,
    UnblockNotAllowed,
)
from .record_blocks import records_sync_blocks

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from records.models import Record

ESCALATED_CATEGORY = "other"
_CAUSE_FIELDS = ("type", "category", "status", "reply_code", "diagnostic", "explanation")
_BOUNCE_FIELDS = ("cause", "last_bounce_at", "first_bounce_at", "bounce_count", "last_recorded_at")


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
    # An unknown (type, slug) pair falls back to that type's `other`, as the UI shows it.
    block.category = BlockCategory.get(cause.type, cause.category).slug
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
    within the window turns a temporary block permanent `other`. One request of
    `addresses_block`, the one implementation of these rules.
    """
    if not address_key(address):
        raise ValueError("address_block needs an address")
    if cause.type not in BlockType.values:
        # A verdict with no type blocks nothing; callers must not ask for a block then.
        raise ValueError(f"address_block needs a block type, not {cause.type!r}")
    request = BlockRequest(address, cause, at or timezone.now(), bounce)
    return addresses_block(requests=[request], policy=policy)[address_key(address)]


@dataclass(frozen=True)
class BlockRequest:
    """One bounce to apply to its address' block (see `addresses_block`)."""

    address: str
    cause: BlockCause
    at: datetime
    bounce: Bounce | None = None


def addresses_block(
    *, requests: Sequence[BlockRequest], policy: BouncePolicy | None = None
) -> dict[str, Block]:
    """Apply many bounces to their addresses' blocks in a few statements; return the active block
    of each address (by key).

    The rules are `address_block`'s. Requests apply in the order of their dates. Existing
    active blocks are locked with one SELECT and updated once each; new ones are inserted with
    one INSERT. With escalation configured an address's requests apply one round at a time:
    escalation reads each block's count after each bounce (see `_rounds`).
    """
    policy = policy or BouncePolicy.current()
    ordered = sorted(requests, key=lambda r: r.at)
    for r in ordered:
        if not address_key(r.address) or r.cause.type not in BlockType.values:
            raise ValueError(f"cannot block {r.address!r} for {r.cause.type!r}")
    rounds = _rounds(ordered) if policy.escalate_after_bounces else [ordered]
    blocks: dict[str, Block] = {}
    with transaction.atomic():
        for batch in rounds:
            blocks.update(_block_batch(batch, policy))
    return blocks


def _rounds(ordered: list[BlockRequest]) -> list[list[BlockRequest]]:
    """Split requests so each address has one per round, in date order: round k holds every
    address's k-th bounce. Escalation reads a block's count after each of its bounces; blocks of
    different addresses do not depend on each other, so one bounce per address per round keeps
    the rules in a few statements per round (usually one round per batch)."""
    per_address: dict[str, list[BlockRequest]] = {}
    for r in ordered:
        per_address.setdefault(address_key(r.address), []).append(r)
    return [[r for r in row if r is not None] for row in zip_longest(*per_address.values())]


def _block_batch(batch: list[BlockRequest], policy: BouncePolicy) -> dict[str, Block]:
    # If a racing transaction creates one of the new blocks between our SELECT and INSERT, the
    # unique constraint refuses ours and the next attempt locks and updates theirs (and should
    # theirs be lifted in that instant, the attempt after creates a fresh one).
    for _attempt in range(3):
        blocks = _try_block_batch(batch, policy)
        if blocks is not None:
            return blocks
    raise RuntimeError("could not create or lock the blocks of a batch")  # pragma: no cover


def _new_block(r: BlockRequest, policy: BouncePolicy, recorded_at: datetime) -> Block:
    block = Block(
        address=address_key(r.address),
        first_bounce_at=r.at,
        last_bounce_at=r.at,
        bounce_count=1,
        cause=r.bounce,
        review_due_at=r.at + timedelta(days=policy.review_interval_days),
        last_recorded_at=recorded_at,
    )
    _apply_cause(block, r.cause)
    return block


def _try_block_batch(batch: list[BlockRequest], policy: BouncePolicy) -> dict[str, Block] | None:
    """One attempt at a batch; None (and nothing written) when a racer created a block first."""
    recorded_at = timezone.now()
    keys = {address_key(r.address) for r in batch}
    # Locked and inserted in address order, so concurrent batches cannot deadlock on them.
    locked = Block.objects.select_for_update().active().filter(address__in=keys)
    active = {b.address: b for b in locked.order_by("address")}
    tags_before = {key: _tag(block) for key, block in active.items()}
    new: dict[str, Block] = {}
    added: dict[str, int] = {}
    for r in batch:
        key = address_key(r.address)
        block = active.get(key) or new.get(key)
        if block is None:
            new[key] = _new_block(r, policy, recorded_at)
            continue
        block.last_recorded_at = recorded_at
        if key in active:
            added[key] = added.get(key, 0) + 1
        else:
            block.bounce_count += 1
        _take_cause(block, r.cause, r.at, r.bounce)
    if new and not _insert_blocks([new[key] for key in sorted(new)]):
        return None
    for key, count in added.items():
        block = active[key]
        block.bounce_count = F("bounce_count") + count
        # Never write `lifted_at` back: on SQLite there is no row lock, and a lift committed
        # since our read must not be undone by this update.
        block.save(update_fields=[*_CAUSE_FIELDS, *_BOUNCE_FIELDS])
    if added:
        pks = [active[key].pk for key in added]
        counts = dict(Block.objects.filter(pk__in=pks).values_list("pk", "bounce_count"))
        for key in added:
            active[key].bounce_count = counts[active[key].pk]
            if _should_escalate(active[key], policy):
                _escalate(active[key], policy)
    # Records show new blocks and blocks whose cause moved to another category (or escalated).
    changed = [key for key, block in active.items() if _tag(block) != tags_before[key]]
    records_sync_blocks(addresses=[*new, *changed])
    return {**active, **new}


def _insert_blocks(blocks: list[Block]) -> bool:
    """Insert new blocks in a savepoint; False (nothing inserted) when a racing transaction
    created one of them first (the partial unique constraint refuses ours)."""
    try:
        with transaction.atomic():
            copy_insert(Block, blocks)
    except IntegrityError:
        return False
    return True


def _tag(block: Block) -> str:
    """Return the "type:slug" the records carrying the block's address show."""
    return f"{block.type}:{block.category}"


def _take_cause(block: Block, cause: BlockCause, at: datetime, bounce: Bounce | None) -> None:
    """Let the latest bounce set the cause, except that temporary never downgrades permanent."""
    if at >= block.last_bounce_at:
        block.last_bounce_at = at
        keeps_permanent = block.is_permanent and cause.type == BlockType.TEMPORARY
        if not keeps_permanent:
            _apply_cause(block, cause)
            if bounce is not None:
                block.cause = bounce
    block.first_bounce_at = min(block.first_bounce_at, at)


def _escalate(block: Block, policy: BouncePolicy) -> None:
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
    if block.first_bounce_at >= since:
        # The whole episode lies in the window: its count is the number of bounces in it (this
        # holds even when the caller recorded no Bounce rows, e.g. a manual block).
        return True
    recent = Bounce.objects.filter(
        recipient=block.address, type=BlockType.TEMPORARY, received_at__gte=since
    ).count()
    return recent >= limit


def can_unblock_type(user: User | AnonymousUser | None, block_type: str) -> bool:
    """Return whether `user` may lift blocks of `block_type` (the type alone decides)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if block_type == BlockType.PERMANENT:
        return user.has_perm("bounces.unblock_permanent")
    return user.has_perm("bounces.unblock_temporary")


def can_unblock(user: User | AnonymousUser | None, block: Block) -> bool:
    """Return whether `user` may lift `block` (checked again, on the server, when they do)."""
    return can_unblock_type(user, block.type)


def block_unblock(
    *,
    block: Block,
    actor: User | None,
    source: str,
    confirmed: bool,
    reason: str = "",
    record: Record | None = None,
    field: str = "",
) -> Unblock:
    """Lift one active block and write its audit row; return the audit row.

    `actor` None means the system review. Staff must confirm the cause is resolved; a permanent
    block needs the `unblock_permanent` permission and a written reason. Raises an
    `UnblockError` subclass and changes nothing when a rule is not met or the block is no longer
    active (someone else lifted it first).
    """
    reason = (reason or "").strip()
    now = timezone.now()
    with transaction.atomic():
        # Lock the row and decide on its current state, not on the caller's copy: the block may
        # have been lifted meanwhile (NotBlocked), or escalated to permanent, which a sales user
        # must then not lift. A racing lifter waits here and then sees `lifted_at` set.
        current = Block.objects.select_for_update().filter(pk=block.pk).first()
        if current is None or current.lifted_at is not None:
            raise NotBlocked(block)
        if actor is not None:
            if not can_unblock(actor, current):
                if current.is_permanent:
                    raise PermanentBlockNeedsAdmin(current)
                raise UnblockNotAllowed(current)
            if not confirmed:
                raise ConfirmationRequired(current)
            if current.is_permanent and not reason:
                raise ReasonRequired(current)
        # Guarded UPDATE as well as the lock: SQLite ignores FOR UPDATE, the count still decides.
        lifted = Block.objects.filter(pk=current.pk, lifted_at__isnull=True).update(lifted_at=now)
        if not lifted:
            raise NotBlocked(current)
        records_sync_blocks(addresses=[current.address])
        for name in _CAUSE_FIELDS:
            setattr(block, name, getattr(current, name))
        block.lifted_at = now
        return Unblock.objects.create(
            block=block,
            address=current.address,
            block_type=current.type,
            category=current.category,
            actor=actor,
            source=source,
            record_type=record.record_type() if record is not None else "",
            record_id=record.pk if record is not None else None,
            field=field,
            confirmed=confirmed,
            reason=reason,
        )
