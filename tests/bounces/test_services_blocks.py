"""Blocking an address from a bounce, and lifting a block: rules, idempotence, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from bounces.categories import BlockType, Category
from bounces.models import Block, BouncePolicy, Unblock
from bounces.services.blocks import (
    BlockCause,
    address_block,
    block_unblock,
    can_unblock,
)
from bounces.services.errors import (
    ConfirmationRequired,
    NotBlocked,
    PermanentBlockNeedsAdmin,
    ReasonRequired,
    UnblockNotAllowed,
)
from tests.factories import BlockFactory, BounceFactory, UserFactory

pytestmark = pytest.mark.django_db

FULL = BlockCause(
    type=BlockType.TEMPORARY,
    category=Category.MAILBOX_FULL,
    status="4.2.2",
    reply_code="452",
    diagnostic="smtp; 452 4.2.2 Mailbox full",
    explanation="The mailbox is full.",
)
UNKNOWN_USER = BlockCause(
    type=BlockType.PERMANENT,
    category=Category.BAD_MAILBOX,
    status="5.1.1",
    reply_code="550",
    diagnostic="smtp; 550 5.1.1 User unknown",
)


# --- address_block ----------------------------------------------------------------------------
def test_first_bounce_creates_an_active_block_with_its_cause():
    at = timezone.now() - timedelta(hours=1)
    bounce = BounceFactory(recipient="ann@example.com")

    block = address_block(address="ann@example.com", cause=UNKNOWN_USER, at=at, bounce=bounce)

    block.refresh_from_db()
    assert block.is_active and block.is_permanent
    assert (block.category, block.status, block.reply_code) == ("bad_mailbox", "5.1.1", "550")
    assert block.first_bounce_at == block.last_bounce_at == at
    assert block.bounce_count == 1
    assert block.cause == bounce
    policy = BouncePolicy.current()
    assert block.review_due_at == at + timedelta(days=policy.review_interval_days)


def test_block_belongs_to_the_address_whatever_its_case():
    first = address_block(address=" <Ann.Lee@Example.COM> ", cause=FULL)
    second = address_block(address="ann.lee@example.com", cause=FULL)

    assert first.pk == second.pk
    assert Block.objects.get().address == "ann.lee@example.com"
    assert Block.objects.get().bounce_count == 2


def test_later_bounce_replaces_the_cause_and_counts():
    t0 = timezone.now() - timedelta(days=2)
    address_block(address="bo@example.com", cause=FULL, at=t0)
    block = address_block(address="bo@example.com", cause=UNKNOWN_USER, at=t0 + timedelta(days=1))

    block.refresh_from_db()
    assert block.type == BlockType.PERMANENT and block.category == "bad_mailbox"
    assert block.bounce_count == 2
    assert block.first_bounce_at == t0
    assert Block.objects.count() == 1


def test_temporary_bounce_never_downgrades_a_permanent_block():
    address_block(address="cy@example.com", cause=UNKNOWN_USER)
    block = address_block(address="cy@example.com", cause=FULL)

    block.refresh_from_db()
    assert block.type == BlockType.PERMANENT and block.category == "bad_mailbox"
    assert block.bounce_count == 2


def test_an_older_bounce_arriving_late_counts_but_keeps_the_latest_cause():
    now = timezone.now()
    address_block(address="di@example.com", cause=FULL, at=now)
    block = address_block(address="di@example.com", cause=UNKNOWN_USER, at=now - timedelta(days=3))

    block.refresh_from_db()
    assert block.category == "mailbox_full"
    assert block.last_bounce_at == now
    assert block.first_bounce_at == now - timedelta(days=3)
    assert block.bounce_count == 2


def test_unknown_category_for_the_type_falls_back_to_other():
    cause = BlockCause(type=BlockType.TEMPORARY, category="bad_mailbox")
    assert address_block(address="ed@example.com", cause=cause).category == "other"


@pytest.mark.parametrize("kind", ["", "none", None])
def test_a_verdict_without_a_type_is_refused(kind):
    with pytest.raises(ValueError, match="block type"):
        address_block(address="fi@example.com", cause=BlockCause(type=kind, category="other"))
    assert not Block.objects.exists()


def test_an_empty_address_is_refused():
    with pytest.raises(ValueError, match="address"):
        address_block(address="  ", cause=FULL)


def test_a_bounce_after_a_lift_opens_a_new_block_and_keeps_the_history(admin_user):
    first = address_block(address="gus@example.com", cause=FULL)
    block_unblock(block=first, actor=admin_user, source=Unblock.Source.ADMIN, confirmed=True)

    second = address_block(address="gus@example.com", cause=UNKNOWN_USER)

    assert second.pk != first.pk
    assert Block.objects.filter(address="gus@example.com").count() == 2
    assert Block.objects.active().get(address="gus@example.com").pk == second.pk


def test_update_does_not_undo_a_lift_committed_since_the_block_was_read(admin_user):
    """The update writes only the cause fields, so a stale copy never resets `lifted_at`."""
    block = address_block(address="hal@example.com", cause=FULL)
    Block.objects.filter(pk=block.pk).update(lifted_at=timezone.now())

    new = address_block(address="hal@example.com", cause=FULL)

    block.refresh_from_db()
    assert block.lifted_at is not None
    assert new.pk != block.pk


def test_escalation_is_off_unless_configured():
    for _ in range(10):
        block = address_block(address="ivy@example.com", cause=FULL)
    block.refresh_from_db()
    assert block.type == BlockType.TEMPORARY and block.escalated_at is None


def test_nth_temporary_bounce_in_the_window_escalates_to_permanent_other():
    BouncePolicy.objects.update_or_create(
        pk=1, defaults={"escalate_after_bounces": 3, "escalate_within_days": 30}
    )
    now = timezone.now()
    address_block(address="jo@example.com", cause=FULL, at=now - timedelta(days=2))
    block = address_block(address="jo@example.com", cause=FULL, at=now - timedelta(days=1))
    block.refresh_from_db()
    assert block.type == BlockType.TEMPORARY

    block = address_block(address="jo@example.com", cause=FULL, at=now)

    block.refresh_from_db()
    assert (block.type, block.category) == (BlockType.PERMANENT, "other")
    assert block.escalated_at is not None
    assert "3 temporary bounces within 30 days" in block.explanation


def test_bounces_outside_the_window_do_not_escalate():
    BouncePolicy.objects.update_or_create(
        pk=1, defaults={"escalate_after_bounces": 3, "escalate_within_days": 7}
    )
    now = timezone.now()
    for days in (60, 40, 0):
        at = now - timedelta(days=days)
        bounce = BounceFactory(
            recipient="kai@example.com", type="temporary", category="mailbox_full", received_at=at
        )
        block = address_block(address="kai@example.com", cause=FULL, at=at, bounce=bounce)

    block.refresh_from_db()
    assert block.bounce_count == 3
    assert block.type == BlockType.TEMPORARY


# --- can_unblock ------------------------------------------------------------------------------
def test_who_may_unblock_what(sales_user, admin_user):
    temporary = BlockFactory()
    permanent = BlockFactory(permanent=True)
    nobody = UserFactory()

    assert can_unblock(sales_user, temporary) is True
    assert can_unblock(sales_user, permanent) is False
    assert can_unblock(admin_user, temporary) is True
    assert can_unblock(admin_user, permanent) is True
    assert can_unblock(nobody, temporary) is False
    assert can_unblock(AnonymousUser(), temporary) is False
    assert can_unblock(None, temporary) is False


def test_inactive_user_may_not_unblock(sales_user):
    sales_user.is_active = False
    sales_user.save()
    assert can_unblock(sales_user, BlockFactory()) is False


# --- block_unblock ----------------------------------------------------------------------------
def test_sales_user_lifts_a_temporary_block_and_an_audit_row_is_written(sales_user):
    block = BlockFactory(address="lia@example.com")

    unblock = block_unblock(
        block=block, actor=sales_user, source=Unblock.Source.RECORD, confirmed=True
    )

    block.refresh_from_db()
    assert block.lifted_at is not None and not block.is_active
    assert unblock.block == block
    assert (unblock.address, unblock.block_type, unblock.category) == (
        "lia@example.com",
        "temporary",
        "mailbox_full",
    )
    assert unblock.actor == sales_user and unblock.actor_name == "sally"
    assert unblock.source == "record" and unblock.confirmed is True


def test_sales_user_cannot_unblock_permanent(sales_user):
    block = BlockFactory(permanent=True, address="max@example.com")

    with pytest.raises(PermanentBlockNeedsAdmin) as exc:
        block_unblock(
            block=block, actor=sales_user, source="record", confirmed=True, reason="they said so"
        )

    assert "max@example.com is blocked permanently" in str(exc.value)
    block.refresh_from_db()
    assert block.is_active
    assert not Unblock.objects.exists()


def test_user_without_permission_cannot_unblock_temporary():
    block = BlockFactory()
    with pytest.raises(UnblockNotAllowed, match="not allowed"):
        block_unblock(block=block, actor=UserFactory(), source="record", confirmed=True)
    block.refresh_from_db()
    assert block.is_active and not Unblock.objects.exists()


def test_unblock_needs_confirmation_from_a_person(sales_user):
    block = BlockFactory(address="ned@example.com")
    with pytest.raises(ConfirmationRequired, match="ned@example.com"):
        block_unblock(block=block, actor=sales_user, source="record", confirmed=False)
    block.refresh_from_db()
    assert block.is_active and not Unblock.objects.exists()


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_admin_needs_a_written_reason_for_a_permanent_block(admin_user, reason):
    block = BlockFactory(permanent=True)
    with pytest.raises(ReasonRequired, match="reason"):
        block_unblock(block=block, actor=admin_user, source="admin", confirmed=True, reason=reason)
    block.refresh_from_db()
    assert block.is_active and not Unblock.objects.exists()


def test_admin_lifts_a_permanent_block_with_a_reason(admin_user):
    block = BlockFactory(permanent=True)
    unblock = block_unblock(
        block=block,
        actor=admin_user,
        source="admin",
        confirmed=True,
        reason="  Recipient confirmed by phone the mailbox exists again.  ",
    )
    assert unblock.reason == "Recipient confirmed by phone the mailbox exists again."
    assert unblock.block_type == "permanent"
    block.refresh_from_db()
    assert not block.is_active


def test_unblocking_twice_is_refused_and_writes_one_audit_row(sales_user):
    block = BlockFactory(address="oz@example.com")
    block_unblock(block=block, actor=sales_user, source="record", confirmed=True)

    with pytest.raises(NotBlocked, match="oz@example.com is not blocked"):
        block_unblock(block=block, actor=sales_user, source="record", confirmed=True)

    assert Unblock.objects.count() == 1


def test_stale_copy_cannot_lift_a_block_that_was_escalated_since(sales_user):
    """A sales user's page showed a temporary block; it turned permanent before they clicked."""
    block = BlockFactory()
    Block.objects.filter(pk=block.pk).update(type="permanent", category="other")

    with pytest.raises(PermanentBlockNeedsAdmin):
        block_unblock(block=block, actor=sales_user, source="record", confirmed=True)

    assert Block.objects.get(pk=block.pk).is_active


def test_audit_row_records_the_current_cause_not_the_callers_copy(admin_user):
    block = BlockFactory()
    Block.objects.filter(pk=block.pk).update(category="network_error")

    unblock = block_unblock(block=block, actor=admin_user, source="admin", confirmed=True)

    assert unblock.category == "network_error"
    assert block.category == "network_error" and block.lifted_at is not None


def test_system_review_lifts_without_a_person(django_assert_num_queries):
    block = BlockFactory(permanent=True)
    # Savepoint, row lock, guarded update, the records' block columns (one UPDATE per model),
    # audit insert, release: no query per anything else.
    with django_assert_num_queries(7):
        unblock = block_unblock(
            block=block,
            actor=None,
            source=Unblock.Source.REVIEW,
            confirmed=True,
            reason="example.com has MX records again",
        )
    assert unblock.actor is None
    assert unblock.actor_name == "system review"
    assert unblock.get_source_display() == "System review"


def test_unblock_writes_the_record_and_field_it_came_from(sales_user):
    from tests.factories import ContactFactory

    contact = ContactFactory(email="pat@example.com")
    block = BlockFactory(address="pat@example.com")
    unblock = block_unblock(
        block=block,
        actor=sales_user,
        source="record",
        confirmed=True,
        record=contact,
        field="primary",
    )
    assert (unblock.record_type, unblock.record_id, unblock.field) == (
        "contact",
        contact.pk,
        "primary",
    )
