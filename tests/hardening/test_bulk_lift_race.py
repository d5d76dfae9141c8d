"""A sales user's bulk unblock racing a bounce that makes the same block permanent (PostgreSQL).

Two connections: the bounce's transaction escalates the block and holds its row lock; the bulk
lift starts meanwhile (its reads still see a temporary block), waits on that lock, and must
then decide on the committed, permanent row, not on what its subquery saw at the start.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from bounces.categories import BlockType
from bounces.models import Block, Unblock
from bounces.services.blocks import BlockCause, address_block
from bounces.services.bulk import records_bulk_unblock
from records.models import Contact
from tests.factories import BlockFactory, ContactFactory

USER_UNKNOWN = BlockCause(type=BlockType.PERMANENT, category="bad_mailbox", status="5.1.1")
MAILBOX_FULL = BlockCause(type=BlockType.TEMPORARY, category="mailbox_full", status="4.2.2")


@pytest.fixture
def postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")


@pytest.fixture
def sales(sales_user):
    """The seed's sales staff persona (the Sales staff group may lift temporary blocks)."""
    return sales_user


def _wait_for_lock_wait(timeout: float = 10) -> None:
    """Return once another backend waits on a row lock (the bulk UPDATE behind the bounce)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query ILIKE 'UPDATE%%bounces_block%%'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the bulk lift never waited on the bounce's row lock")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bulk_lift_never_lifts_a_block_escalated_to_permanent_meanwhile(postgres_only, sales):
    contact = ContactFactory(email="race@example.com")
    block = BlockFactory(address="race@example.com", last_bounce_at=timezone.now())
    escalated, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def bounce() -> None:
        try:
            with transaction.atomic():
                address_block(address="race@example.com", cause=USER_UNKNOWN)
                escalated.set()
                assert release.wait(20)
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            outcome["bounce"] = exc
        finally:
            connections.close_all()

    def bulk() -> None:
        try:
            outcome["bulk"] = records_bulk_unblock(
                queryset=Contact.objects.filter(pk=contact.pk),
                fields="primary",
                actor=sales,
                confirmed=True,
            )
        except Exception as exc:  # noqa: BLE001
            outcome["bulk"] = exc
        finally:
            connections.close_all()

    bouncer = threading.Thread(target=bounce)
    bouncer.start()
    assert escalated.wait(10)
    lifter = threading.Thread(target=bulk)
    lifter.start()
    try:
        _wait_for_lock_wait()
    finally:
        release.set()
        bouncer.join(20)
        lifter.join(20)
    assert "bounce" not in outcome, outcome
    result = outcome["bulk"]
    assert not isinstance(result, Exception), result

    block.refresh_from_db()
    assert block.type == BlockType.PERMANENT
    assert block.lifted_at is None, "a sales user's bulk action lifted a permanent block"
    assert not Unblock.objects.exists()
    assert result.unblocked == 0 and result.skipped_changed == 1


@pytest.mark.django_db
def test_bulk_lift_leaves_a_block_that_bounced_after_the_user_confirmed(sales):
    ContactFactory(email="late@example.com")
    ContactFactory(email="calm@example.com")
    long_ago = timezone.now() - timedelta(hours=1)
    BlockFactory(address="late@example.com", first_bounce_at=long_ago)
    BlockFactory(address="calm@example.com", first_bounce_at=long_ago)
    confirmed_at = timezone.now()
    # A new bounce arrives between the confirmation and the lift, dated before the
    # confirmation (an ESP event or a DSN's Date: header can lie in the past).
    address_block(
        address="late@example.com", cause=MAILBOX_FULL, at=confirmed_at - timedelta(minutes=5)
    )

    result = records_bulk_unblock(
        queryset=Contact.objects.all(),
        fields="primary",
        actor=sales,
        confirmed=True,
        confirmed_at=confirmed_at,
    )

    assert result.unblocked == 1 and result.skipped_changed == 1
    assert Block.objects.active().get().address == "late@example.com"
    assert list(Unblock.objects.values_list("address", flat=True)) == ["calm@example.com"]
