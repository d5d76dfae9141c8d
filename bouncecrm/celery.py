"""The Celery app: configured from Django settings under the CELERY_ namespace."""

from __future__ import annotations

import os
import sys

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bouncecrm.settings")

app = Celery("bouncecrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def solo_worker_argv(queue: str, *, loglevel: str = "INFO") -> list[str]:
    """Return the command line of one single-process worker consuming only `queue`.

    The test suite and the ingestion benchmark start such workers; a per-run queue keeps
    parallel runs from taking each other's tasks.
    """
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bouncecrm",
        "worker",
        "-P",
        "solo",
        "-Q",
        queue,
        "--without-gossip",
        "--without-mingle",
        "-l",
        loglevel,
        "-n",
        f"{queue}@%h",
    ]
