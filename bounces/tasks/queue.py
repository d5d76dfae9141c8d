"""The one place that hands tasks to the broker: after commit, and never failing the caller.

A web request or an ingestion channel has already committed its row when the task is sent; a
broker that is down (connection refused) or hung (accepting, never answering) must not turn
that into an error page or a lost delivery. The row stays as it is (an inbox row `pending`, a
job `queued`) and a periodic sweeper queues it again once the broker is back.
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def task_send(task, *args) -> bool:
    """Send `task(*args)` now; return False (logged) when the broker cannot be reached.

    No publish retries: Celery's default retry policy would hold the request for seconds more
    against a dead broker, and the sweeper retries anyway. The broker's socket timeouts
    (`CELERY_BROKER_TRANSPORT_OPTIONS`) bound a hung broker.
    """
    try:
        task.apply_async(args=args, retry=False)
    except Exception:  # noqa: BLE001 - any broker failure (kombu, redis, socket) is the same here
        logger.warning(
            "could not queue %s%r: broker unreachable; the sweeper will queue it again",
            task.name,
            args[:1],
            exc_info=True,
        )
        return False
    return True


def task_send_on_commit(task, *args) -> None:
    """Send `task(*args)` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task_send(task, *args))
