"""`addresses_block` (the batched block writer ingestion uses) keeps `address_block`'s rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bounces.models import Block, BouncePolicy
from bounces.services.blocks import BlockCause, BlockRequest, address_block, addresses_block

pytestmark = pytest.mark.django_db

PERM = BlockCause(type="permanent", category="bad_mailbox", status="5.1.1")
TEMP = BlockCause(type="temporary", category="mailbox_full", status="4.2.2")


def test_creates_new_blocks_and_counts_repeats_in_one_batch():
    now = timezone.now()
    addresses_block(
        requests=[
            BlockRequest("A@Example.com", TEMP, now - timedelta(minutes=2)),
            BlockRequest("a@example.com", PERM, now),
            BlockRequest("b@example.com", TEMP, now),
        ]
    )
    a = Block.objects.active().get(address="a@example.com")
    assert (a.type, a.category, a.bounce_count) == ("permanent", "bad_mailbox", 2)
    assert Block.objects.active().get(address="b@example.com").bounce_count == 1


def test_updates_an_existing_block_and_never_downgrades_permanent():
    now = timezone.now()
    address_block(address="p@example.com", cause=PERM, at=now - timedelta(hours=1))
    addresses_block(requests=[BlockRequest("p@example.com", TEMP, now)])
    block = Block.objects.active().get(address="p@example.com")
    assert (block.type, block.category, block.bounce_count) == ("permanent", "bad_mailbox", 2)
    assert block.last_bounce_at == now
    assert Block.objects.filter(address="p@example.com").count() == 1


def test_a_lifted_block_stays_history_and_a_new_one_opens():
    now = timezone.now()
    old = address_block(address="l@example.com", cause=TEMP, at=now - timedelta(days=1))
    Block.objects.filter(pk=old.pk).update(lifted_at=now - timedelta(hours=1))
    addresses_block(requests=[BlockRequest("l@example.com", PERM, now)])
    assert Block.objects.filter(address="l@example.com").count() == 2
    assert Block.objects.active().get(address="l@example.com").type == "permanent"


def test_with_escalation_configured_the_per_address_rules_apply():
    policy = BouncePolicy.current()
    policy.escalate_after_bounces = 3
    policy.save()
    now = timezone.now()
    addresses_block(
        requests=[BlockRequest("e@example.com", TEMP, now - timedelta(minutes=n)) for n in range(3)]
    )
    block = Block.objects.active().get(address="e@example.com")
    assert (block.type, block.category, block.bounce_count) == ("permanent", "other", 3)


def test_refuses_a_request_without_type():
    with pytest.raises(ValueError):
        addresses_block(
            requests=[
                BlockRequest("x@example.com", BlockCause(type="", category=""), timezone.now())
            ]
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_racing_for_the_same_new_address_make_one_block():
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    BouncePolicy.current()
    barrier = threading.Barrier(2)
    errors = []

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            addresses_block(
                requests=[BlockRequest("race@example.com", TEMP, timezone.now())] * 1
                + [BlockRequest(f"only{n}@example.com", TEMP, timezone.now())]
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    block = Block.objects.active().get(address="race@example.com")
    assert block.bounce_count == 2
    assert Block.objects.filter(address="race@example.com").count() == 1


def test_with_escalation_configured_a_batch_takes_one_round_per_bounce_of_an_address():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    policy = BouncePolicy.current()
    policy.escalate_after_bounces = 3
    policy.save()
    now = timezone.now()
    repeated = [
        BlockRequest(address, TEMP, now - timedelta(minutes=n))
        for n in range(3)
        for address in ("x@example.com", "y@example.com")
    ]
    counts = []
    for first, size in ((0, 5), (100, 30)):
        singles = [BlockRequest(f"s{n}@example.com", TEMP, now) for n in range(first, first + size)]
        with CaptureQueriesContext(connection) as queries:
            addresses_block(requests=[*repeated, *singles], policy=policy)
        counts.append(len(queries))
        repeated = [BlockRequest(r.address.replace("@", "2@"), r.cause, r.at) for r in repeated]
    assert counts[0] == counts[1]
    for address in ("x@example.com", "y2@example.com"):
        block = Block.objects.active().get(address=address)
        assert (block.type, block.category, block.bounce_count) == ("permanent", "other", 3)
    single = Block.objects.active().get(address="s0@example.com")
    assert (single.type, single.bounce_count) == ("temporary", 1)
