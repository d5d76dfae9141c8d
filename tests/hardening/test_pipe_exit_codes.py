"""The MTA pipe exits 75 (retry later) for any failure before the message is stored."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.samples import sample
from tests.conftest import ROOT


def _pipe(*args: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", "ingest_bounce", *args],
        input=sample(71).raw,
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ((), {"DJANGO_DEBUG": "maybe"}),
        ((), {"DB_CONN_MAX_AGE": "forever"}),
        ((), {"DJANGO_SETTINGS_MODULE": "bouncecrm.no_such_settings"}),
        (("--no-such-option",), {}),
        ((), {"DATABASE_URL": "nosuchscheme://x"}),
    ],
    ids=["bad-boolean", "bad-integer", "missing-settings", "bad-argument", "bad-database-url"],
)
def test_a_failure_before_the_message_is_stored_exits_75(args, env):
    proc = _pipe(*args, **env)
    assert proc.returncode == 75, (proc.returncode, proc.stderr.decode()[-500:])
    assert b"temporary failure" in proc.stderr
