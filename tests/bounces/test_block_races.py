"""Two requests racing on PostgreSQL: each thread has its own database connection.

The barriers make the interleaving certain rather than likely: both creators have looked for an
active block (and found none) before either inserts; both lifters hold the same block before
either lifts.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, connections

from bounces.categories import BlockType
from bounces.models import Block, Unblock
from bounces.services import blocks as block_services
from bounces.services.blocks import BlockCause, address_block, block_unblock
from bounces.services.errors import NotBlocked
from tests.factories import BlockFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CAUSE = BlockCause(type=BlockType.TEMPORARY, category="mailbox_full", status="4.2.2")


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")


@pytest.fixture
def lifter():
    """A user allowed to lift temporary blocks (a transactional test's flush removes the groups
    the data migration made, but post_migrate re-creates the permissions)."""
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="unblock_temporary"))
    return user


def _run_in_threads(target, count: int = 2) -> list:
    """Run `target(i)` in `count` threads, each on its own connection; return results/errors."""
    results: list = [None] * count

    def worker(i: int) -> None:
        try:
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each side got
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results


def test_two_first_bounces_of_one_address_make_one_active_block(monkeypatch):
    both_looked = threading.Barrier(2, timeout=10)
    real_insert = block_services._insert_blocks
    waited = threading.local()

    created: list = []

    def create_after_both_looked(*args, **kwargs):
        if not getattr(waited, "done", False):
            waited.done = True
            both_looked.wait()
        inserted = real_insert(*args, **kwargs)
        created.append(inserted)
        return inserted

    monkeypatch.setattr(block_services, "_insert_blocks", create_after_both_looked)

    results = _run_in_threads(lambda i: address_block(address="Race@Example.com", cause=CAUSE))

    assert all(isinstance(r, Block) for r in results), results
    assert results[0].pk == results[1].pk
    block = Block.objects.get()
    assert block.is_active and block.address == "race@example.com"
    assert block.bounce_count == 2
    # Both really tried to insert; the constraint refused one, which then updated the winner's.
    assert len(created) == 2 and created.count(False) == 1


def test_two_lifts_of_one_block_write_one_unblock_and_the_loser_is_told(lifter):
    block = BlockFactory(address="twice@example.com")
    start = threading.Barrier(2, timeout=10)

    def lift(i: int):
        copy = Block.objects.get(pk=block.pk)
        start.wait()
        return block_unblock(block=copy, actor=lifter, source="list", confirmed=True)

    results = _run_in_threads(lift)

    winners = [r for r in results if isinstance(r, Unblock)]
    losers = [r for r in results if isinstance(r, NotBlocked)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert str(losers[0]) == "twice@example.com is not blocked."
    assert Unblock.objects.count() == 1
    assert Block.objects.active().count() == 0


def test_a_bounce_racing_a_lift_leaves_at_most_one_active_block(lifter):
    block = BlockFactory(address="busy@example.com")
    start = threading.Barrier(2, timeout=10)

    def act(i: int):
        start.wait()
        if i == 0:
            return block_unblock(
                block=Block.objects.get(pk=block.pk),
                actor=lifter,
                source="list",
                confirmed=True,
            )
        return address_block(address="busy@example.com", cause=CAUSE)

    results = _run_in_threads(act)

    assert not any(isinstance(r, Exception) for r in results), results
    assert Block.objects.active().filter(address="busy@example.com").count() <= 1
    assert Unblock.objects.count() == 1
