"""The MTA pipe command, run as the mail server runs it: a process reading stdin."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.samples import sample
from bounces.models import Bounce, InboundMessage
from tests.conftest import ROOT, _database_url_for_worker

pytestmark = pytest.mark.django_db(transaction=True)


def _pipe(raw: bytes, *args: str, database_url: str | None = None, **env_extra: str):
    env = {
        **os.environ,
        "DATABASE_URL": database_url or _database_url_for_worker(),
        "PYTHONPATH": str(ROOT),
        **env_extra,
    }
    env.pop("CELERY_BROKER_URL", None)  # eager: the pipe processes in-process in this test
    return subprocess.run(
        [sys.executable, "manage.py", "ingest_bounce", *args],
        input=raw,
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )


def test_a_piped_bounce_is_stored_and_processed_exit_0():
    s = sample(1, shape="postfix", failure=0)
    proc = _pipe(s.raw, "--source", "mx1")
    assert proc.returncode == 0, proc.stderr.decode()
    row = InboundMessage.objects.get()
    assert (row.channel, row.source, bytes(row.raw)) == ("pipe", "mx1", s.raw)
    assert row.state == InboundMessage.State.PROCESSED
    assert Bounce.objects.get().recipient == s.recipient.lower()


def test_the_same_message_piped_twice_is_stored_once_and_both_exit_0():
    raw = sample(2).raw
    assert _pipe(raw).returncode == 0
    second = _pipe(raw)
    assert second.returncode == 0 and b"already stored" in second.stdout
    assert InboundMessage.objects.count() == 1


def test_database_down_exits_75_so_the_mta_retries():
    proc = _pipe(sample(3).raw, database_url="postgres://nobody@127.0.0.1:1/none")
    assert proc.returncode == 75, proc.stderr.decode()
    assert not InboundMessage.objects.exists()


def test_oversized_message_is_quarantined_and_accepted():
    raw = sample(4).raw + b"Z" * 4000
    proc = _pipe(raw, BOUNCE_MAX_MESSAGE_BYTES="2000")
    assert proc.returncode == 0, proc.stderr.decode()
    row = InboundMessage.objects.get()
    assert row.state == InboundMessage.State.QUARANTINED and row.size == len(raw)


def test_empty_input_exits_65():
    assert _pipe(b"").returncode == 65
    assert not InboundMessage.objects.exists()
