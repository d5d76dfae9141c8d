"""The command line of a single-process Celery worker, for the benchmarks and the test suite."""

from __future__ import annotations

import sys


def solo_worker_argv(queue: str, *, loglevel: str = "INFO", name: str = "") -> list[str]:
    """Return the command line of one single-process worker consuming only `queue`.

    The test suite and the ingestion benchmark start such workers; a per-run queue keeps
    parallel runs from taking each other's tasks. `name` (default: the queue's) tells several
    workers on one queue apart.
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
        f"{name or queue}@%h",
    ]
