"""Starting a background bulk unblock while the broker is down: the page, not a 500."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bounces.models import Block, BulkUnblockJob
from bounces.services.bulk import bulk_unblock_jobs_requeue
from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)  # the task is sent on commit: commit for real
def test_bulk_job_with_the_broker_down_answers_the_page_and_is_requeued_later(
    dead_broker, sales_client, settings
):
    settings.BULK_UNBLOCK_SYNC_LIMIT = 1
    for n in range(3):
        ContactFactory(email=f"q{n}@example.com")
        BlockFactory(address=f"q{n}@example.com")

    started = time.monotonic()
    response = sales_client.post(
        reverse("records:contact-bulk-unblock"),
        {"fields": "primary", "confirm": "on", "all_matching": "1", "query": "blocked=any"},
    )
    elapsed = time.monotonic() - started

    job = BulkUnblockJob.objects.get()
    assert response.status_code == 302, response.status_code
    assert response["Location"] == reverse("records:bulk-unblock-job", args=[job.pk])
    assert elapsed < 10, f"the request hung {elapsed:.1f} s on the {dead_broker} broker"
    assert job.state == BulkUnblockJob.State.QUEUED
    page = sales_client.get(response["Location"]).content.decode()
    assert "will start as soon as the background worker is reachable" in page

    # The sweeper cannot reach the broker either: it says so and leaves the job queued.
    BulkUnblockJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert bulk_unblock_jobs_requeue() == 0
    assert BulkUnblockJob.objects.get().state == BulkUnblockJob.State.QUEUED


def test_the_sweeper_sends_stale_queued_jobs_again(sales_user, settings):
    # No broker configured: tasks run in-process, as with a worker that is back.
    ContactFactory(email="back@example.com")
    BlockFactory(address="back@example.com")
    job = BulkUnblockJob.objects.create(
        actor=sales_user,
        record_type="contact",
        selection={"criteria": {"blocked": "any"}},
        fields="primary",
        total=1,
        confirmed_at=timezone.now(),
    )
    assert bulk_unblock_jobs_requeue() == 0  # too fresh: its own task may still be on the way
    BulkUnblockJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert bulk_unblock_jobs_requeue() == 1
    job.refresh_from_db()
    assert job.state == BulkUnblockJob.State.DONE and job.unblocked == 1
    assert not Block.objects.active().exists()


def test_a_job_whose_worker_died_mid_run_is_resumed_by_the_sweeper(sales_user):
    long_ago = timezone.now() - timedelta(hours=3)
    ContactFactory(email="dead@example.com")
    BlockFactory(address="dead@example.com", first_bounce_at=long_ago - timedelta(hours=1))
    job = BulkUnblockJob.objects.create(
        actor=sales_user,
        record_type="contact",
        selection={"criteria": {"blocked": "any"}},
        fields="primary",
        total=1,
        state=BulkUnblockJob.State.RUNNING,
        started_at=long_ago,
        confirmed_at=long_ago,
    )
    BulkUnblockJob.objects.filter(pk=job.pk).update(created_at=long_ago)
    assert bulk_unblock_jobs_requeue() == 1
    job.refresh_from_db()
    assert job.state == BulkUnblockJob.State.DONE and job.unblocked == 1


def test_a_worker_taken_for_dead_stops_without_counting_twice(sales_user, monkeypatch):
    from bounces.services import bulk

    long_ago = timezone.now() - timedelta(hours=1)
    for n in range(3):
        ContactFactory(email=f"twice{n}@example.com")
        BlockFactory(address=f"twice{n}@example.com", first_bounce_at=long_ago)
    job = BulkUnblockJob.objects.create(
        actor=sales_user,
        record_type="contact",
        selection={"criteria": {"blocked": "any"}},
        fields="primary",
        total=3,
        confirmed_at=timezone.now(),
    )
    real = bulk.records_bulk_unblock
    calls = []

    def chunk_then_taken_over(**kwargs):
        result = real(**kwargs)
        calls.append(1)
        if len(calls) == 2:
            # Meanwhile another worker claimed the stale-looking job and moved it on.
            BulkUnblockJob.objects.filter(pk=job.pk).update(last_pk=10**9)
        return result

    monkeypatch.setattr(bulk, "records_bulk_unblock", chunk_then_taken_over)
    bulk.bulk_unblock_job_run(job_id=job.pk, chunk=1)
    job.refresh_from_db()
    # The first chunk counted; the second rolled back when the guard saw the takeover, and
    # this worker neither went on nor marked the job done.
    assert (job.processed, job.unblocked, job.state) == (1, 1, BulkUnblockJob.State.RUNNING)
    assert Block.objects.active().count() == 2
