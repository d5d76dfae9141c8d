"""Background bulk unblock jobs: start (checks, count, queue) and run (chunks, counters, claim)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from bounces.models import Block, BulkUnblockJob, Unblock
from bounces.services.bulk import bulk_unblock_job_run, bulk_unblock_job_start
from bounces.services.errors import ConfirmationRequired, UnblockNotAllowed
from records.models import Contact
from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _active(address: str) -> bool:
    return Block.objects.active().filter(address=address).exists()


@pytest.fixture
def many():
    """25 contacts: 20 temporarily blocked, 3 permanently, 2 clean (last names sort by number)."""
    contacts = []
    for n in range(25):
        contact = ContactFactory(last_name=f"Person{n:02d}", email=f"p{n}@example.com")
        contacts.append(contact)
        if n < 20:
            BlockFactory(address=f"p{n}@example.com")
        elif n < 23:
            BlockFactory(address=f"p{n}@example.com", permanent=True)
    return contacts


def start(actor, selection, *, confirmed=True, fields="primary"):
    return bulk_unblock_job_start(
        actor=actor, record_type="contact", selection=selection, fields=fields, confirmed=confirmed
    )


def test_start_refuses_without_confirmation(many, sales_user):
    with pytest.raises(ConfirmationRequired):
        start(sales_user, {"criteria": {}}, confirmed=False)
    assert not BulkUnblockJob.objects.exists()


def test_start_refuses_without_permission(many):
    nobody = User.objects.create_user("nobody", password="pw-nobody-123")
    with pytest.raises(UnblockNotAllowed):
        start(nobody, {"criteria": {}})
    assert not BulkUnblockJob.objects.exists()


def test_start_counts_and_queues_on_commit(many, sales_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        job = start(sales_user, {"criteria": {"blocked": "temporary"}})
    assert (job.state, job.total, job.processed, job.actor) == ("queued", 20, 0, sales_user)
    assert len(callbacks) == 1  # the task, queued only once the job row is committed


def test_run_by_filter_query_in_chunks(many, sales_user):
    job = start(sales_user, {"criteria": {"blocked": "any"}})
    assert job.total == 23
    done = bulk_unblock_job_run(job_id=job.pk, chunk=10)
    assert done.state == "done" and done.finished_at and done.started_at
    assert (done.processed, done.unblocked, done.skipped_permanent) == (23, 20, 3)
    assert done.skipped_not_blocked == 0
    assert done.permanent_examples == ["p20@example.com", "p21@example.com", "p22@example.com"]
    assert not any(_active(f"p{n}@example.com") for n in range(20))
    assert all(_active(f"p{n}@example.com") for n in range(20, 23))
    audit = Unblock.objects.all()
    assert audit.count() == 20
    assert {(u.source, u.actor_id, u.record_type) for u in audit} == {
        ("bulk", sales_user.pk, "contact")
    }
    assert done.last_pk == max(c.pk for c in many[:23])


def test_run_by_ids_counts_not_blocked(many, sales_user):
    ids = [c.pk for c in many[18:25]]  # 2 temporary, 3 permanent, 2 clean
    job = start(sales_user, {"ids": ids})
    done = bulk_unblock_job_run(job_id=job.pk, chunk=3)
    assert (done.total, done.processed, done.unblocked) == (7, 7, 2)
    assert (done.skipped_permanent, done.skipped_not_blocked) == (3, 2)
    assert not _active("p18@example.com") and _active("p17@example.com")


def test_progress_is_committed_after_each_chunk(many, sales_user, monkeypatch):
    from bounces.services import bulk

    seen = []
    real = bulk.records_bulk_unblock

    def spy(**kwargs):
        seen.append(BulkUnblockJob.objects.values_list("processed", flat=True).get())
        return real(**kwargs)

    monkeypatch.setattr(bulk, "records_bulk_unblock", spy)
    job = start(sales_user, {"criteria": {}})
    bulk_unblock_job_run(job_id=job.pk, chunk=10)
    assert seen == [0, 10, 20]


def test_job_is_claimed_once(many, sales_user):
    job = start(sales_user, {"criteria": {}})
    assert bulk_unblock_job_run(job_id=job.pk).state == "done"
    assert bulk_unblock_job_run(job_id=job.pk) is None  # finished: not run again
    BulkUnblockJob.objects.filter(pk=job.pk).update(state="running")
    assert bulk_unblock_job_run(job_id=job.pk) is None  # running elsewhere: left alone
    assert Unblock.objects.count() == 20


def test_a_failure_marks_the_job_failed(many, sales_user):
    job = start(sales_user, {"criteria": {}})
    BulkUnblockJob.objects.filter(pk=job.pk).update(selection={"criteria": {"blocked": "nonsense"}})
    done = bulk_unblock_job_run(job_id=job.pk)
    assert done.state == "failed" and done.error and done.finished_at
    assert Contact.objects.count() == 25 and Unblock.objects.count() == 0
