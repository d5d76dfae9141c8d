"""Fixtures of the hardening tests: a broker that is down, in its two ways."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest

# Ports of this suite's throwaway servers (27300-27399).
CLOSED_PORT = 27301
HUNG_PORT = 27302


class HungServer:
    """Accept TCP connections on loopback and never answer (a hung Redis)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(2)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture(params=["closed", "hung"])
def dead_broker(request, settings):
    """Point Celery at a Redis that refuses connections, or accepts and never answers."""
    from bouncecrm.celery import app
    from tests.conftest import _reset_broker_connections

    server = None
    if request.param == "hung":
        server = HungServer(HUNG_PORT)
        port = HUNG_PORT
    else:
        port = CLOSED_PORT
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=f"redis://127.0.0.1:{port}/0")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _reset_broker_connections(app)
    try:
        yield request.param
    finally:
        app.conf.update(saved)
        _reset_broker_connections(app)
        if server is not None:
            server.close()


GUNICORN_PORT = 27320


@pytest.fixture
def gunicorn_server(transactional_db):
    """Serve the app with gunicorn on loopback against the test database (production settings,
    plain HTTP); yield its base URL. Requests the test makes are committed for real."""
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT, _database_url_for_worker, port_open

    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_worker(),
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": "gunicorn-test-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "ANYMAIL_WEBHOOK_SECRET": "anymail:wh-secret-123",
        "BOUNCE_SNS_VERIFY": "false",
        "PYTHONPATH": str(ROOT),
    }
    # A real broker nobody consumes (Redis DB 4, a private queue): requests only queue their
    # processing, as in production, instead of running it eagerly inside the request.
    queue = f"hardening-gunicorn-{uuid.uuid4().hex[:8]}"
    env["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/4"
    env["CELERY_TASK_DEFAULT_QUEUE"] = queue
    log = open(ROOT / "var" / "gunicorn-hardening.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bouncecrm.wsgi",
            "--bind",
            f"127.0.0.1:{GUNICORN_PORT}",
            "--workers",
            "1",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", GUNICORN_PORT):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start; see var/gunicorn-hardening.log")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{GUNICORN_PORT}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        _drop_queue(queue)


def _drop_queue(queue: str) -> None:
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=6379, db=4, socket_timeout=2)
        client.delete(queue, *client.scan_iter(match=f"_kombu.binding*{queue}"))
    except Exception:  # noqa: BLE001, S110 - no Redis: nothing was queued
        pass
