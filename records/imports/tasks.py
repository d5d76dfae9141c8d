"""The background import (see records.imports.services.import_apply)."""

from __future__ import annotations

from celery import shared_task


# acks_late + redelivery are safe: each chunk is saved with the job's progress under a row lock,
# and a redelivered task resumes after the last saved line.
@shared_task(
    name="imports.tasks.run_import",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=3500,
    time_limit=3600,
)
def run_import(job_id: int) -> str | None:
    """Run one import job; return its final state (None: not claimable here)."""
    from .services import import_apply

    job = import_apply(job_id=job_id)
    return job.state if job else None


@shared_task(name="imports.tasks.discard_stale_uploads")
def discard_stale_uploads() -> int:
    """Delete uploads that were never confirmed within a day."""
    from .services import import_discard_stale

    return import_discard_stale()
