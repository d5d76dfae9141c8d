"""Fixtures of the hardening tests: a broker that is down, in its two ways."""

from __future__ import annotations

import socket
import threading

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
