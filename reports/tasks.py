"""Celery tasks of the reports app (thin callers of reports.services)."""

from __future__ import annotations

from celery import shared_task

from .rollups import close_months
from .services import rate_alerts_check

__all__ = ["check_bounce_rates", "close_report_months"]


# Idempotent: an alert is opened once per crossing (database constraint) and claimed before it
# is emailed, so a redelivered or overlapping run sends nothing twice.
@shared_task(name="reports.tasks.check_bounce_rates", soft_time_limit=240, time_limit=300)
def check_bounce_rates() -> dict:
    """Open, notify and clear bounce-rate alerts; return the counts."""
    result = rate_alerts_check()
    return {
        "opened": len(result.opened),
        "cleared": result.cleared,
        "notified": result.notified,
        "paused": result.paused,
    }


# Idempotent: only closed months without materialised rows are written.
@shared_task(name="reports.tasks.close_report_months", soft_time_limit=600, time_limit=660)
def close_report_months() -> int:
    """Materialise the top recipient domains of newly closed months; return the rows written."""
    return close_months()
