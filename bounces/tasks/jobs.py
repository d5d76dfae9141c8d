"""The background bulk unblock (see bounces.services.bulk.bulk_unblock_job_run)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

__all__ = ["bulk_unblock_job", "requeue_bulk_unblock_jobs"]


# acks_late + redelivery are safe: the job is claimed with a guarded UPDATE (never run twice at
# once) and resumes after its last committed chunk. Retries cover a database that is briefly
# unreachable before the claim; the time limit is generous (a million records in 1,000-record
# chunks) and shorter than the service's stale-claim window.
@shared_task(
    name="bounces.tasks.bulk_unblock_job",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
    soft_time_limit=7000,
    time_limit=7200,
)
def bulk_unblock_job(job_id: int) -> str | None:
    """Run one bulk unblock job; return its final state (None: not claimable here)."""
    from ..services.bulk import bulk_unblock_job_run

    job = bulk_unblock_job_run(job_id=job_id)
    return job.state if job else None


@shared_task(name="bounces.tasks.requeue_bulk_unblock_jobs", max_retries=0)
def requeue_bulk_unblock_jobs() -> int:
    """Send again the jobs left queued (their task never reached the broker)."""
    from ..services.bulk import bulk_unblock_jobs_requeue

    return bulk_unblock_jobs_requeue()
