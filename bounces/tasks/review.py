"""The periodic block review task (see bounces.services.review)."""

from __future__ import annotations

from celery import shared_task

from ..services.review import blocks_review_due

__all__ = ["review_due_blocks"]


# Idempotent (a block is lifted once, a postponed one is no longer due), so a redelivery after a
# lost worker is harmless. The time limit bounds a scan stuck on DNS; tomorrow's run resumes.
@shared_task(name="bounces.tasks.review_due_blocks", soft_time_limit=3000, time_limit=3300)
def review_due_blocks() -> dict:
    """Review the blocks whose periodic review is due; return the counts."""
    result = blocks_review_due()
    return {
        "checked": result.checked,
        "lifted": result.lifted,
        "kept": result.kept,
        "undecided": result.undecided,
    }
