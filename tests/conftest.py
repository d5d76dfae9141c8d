"""Shared fixtures: personas, and the real services some tests drive (Celery worker + Redis).

With BOUNCECRM_REQUIRE_SERVICES=1 (set by `.ci/run` and `scripts/test`) a missing service fails
the test instead of skipping it, so CI can never go green by skipping the real-server tests.
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_service(what: str) -> None:
    """Skip (locally) or fail (CI) a test whose real service is not available."""
    message = f"{what} is not available"
    if os.environ.get("BOUNCECRM_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# Tests that drive a real server carry its marker, whatever file they live in, so that
# `scripts/test` can run them once (on PostgreSQL) instead of on both databases.
SERVICE_MARKERS = {
    "celery_worker": "worker",
    "chromium": "browser",
    "dovecot": "imap",
    "postfix": "mta",
}


def pytest_collection_modifyitems(items):
    for item in items:
        for fixture, marker in SERVICE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(getattr(pytest.mark, marker))


# --- personas ---------------------------------------------------------------------------------
def _groups():
    """Return the two groups, re-creating them after a transactional test flushed them."""
    from django.apps import apps

    if Group.objects.filter(name__in=["Sales staff", "Admins"]).count() != 2:
        migration = importlib.import_module("bounces.migrations.0002_fill_groups")
        migration.fill_groups(apps, None)
        sending = importlib.import_module("bounces.migrations.0006_fill_sending_permissions")
        sending.fill_sending_permissions(apps, None)
    return Group.objects.get(name="Sales staff"), Group.objects.get(name="Admins")


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in Chinese leaves its language active in this thread (LocaleMiddleware does not
    reset it): every test starts in the default language, whatever ran before it."""
    yield
    translation.deactivate()


@pytest.fixture
def sales_user(django_user_model):
    user = django_user_model.objects.create_user("sally", "sally@example.com", "pw-sales-123")
    user.groups.add(_groups()[0])
    return user


@pytest.fixture
def admin_user(django_user_model):
    user = django_user_model.objects.create_user(
        "ada", "ada@example.com", "pw-admin-123", is_staff=True, is_superuser=True
    )
    user.groups.add(_groups()[1])
    return user


@pytest.fixture
def sales_client(client, sales_user):
    client.force_login(sales_user)
    return client


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


# --- a real Chromium (Playwright) -------------------------------------------------------------
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium through Playwright: one browser for the whole run.

    It lives here, not in a browser folder's conftest, because Playwright's sync API allows one
    instance per thread: two session fixtures of the same name would start two.
    """
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # itself (fixtures, assertions) stay synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if not CHROMIUM.exists():
        require_service(f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# --- a real Celery worker on Redis ---------------------------------------------------------------
def _database_url_for_worker() -> str:
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}@" if s.get("PASSWORD") else f"{user}@"
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@pytest.fixture
def celery_worker(transactional_db, settings):
    """Start a real `celery worker` process on Redis against the test database.

    Tasks queued by the test (after commit) run in that process; the test sees their effects
    through the database. Each use gets its own queue, so parallel runs never share tasks.
    """
    if not port_open("127.0.0.1", 6379):
        require_service("Redis at 127.0.0.1:6379")
    from django.db import connection

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("an in-memory SQLite database cannot be shared with a worker")

    from bench.worker import solo_worker_argv
    from bouncecrm.celery import app

    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_worker(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONPATH": str(ROOT),
    }
    log_path = ROOT / "var" / f"worker-{queue}.log"
    log_path.parent.mkdir(exist_ok=True)
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url", "task_default_queue")}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            solo_worker_argv(queue),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        app.conf.update(task_always_eager=False, broker_url=REDIS_URL, task_default_queue=queue)
        settings.CELERY_TASK_ALWAYS_EAGER = False
        _reset_broker_connections(app)
        try:
            _wait_for_worker(app, queue, proc, log_path)
            yield proc
        finally:
            app.conf.update(saved)
            _reset_broker_connections(app)
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _reset_broker_connections(app) -> None:
    # An eager .delay() earlier in the run leaves pools bound to the old broker URL.
    app._pool = None
    app.amqp._producer_pool = None


def _wait_for_worker(
    app, queue: str, proc: subprocess.Popen, log_path: Path, timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"celery worker exited with {proc.returncode}; see {log_path}")
        replies = app.control.ping(destination=[f"{queue}@{socket.gethostname()}"], timeout=0.5)
        if replies:
            return
    pytest.fail(f"celery worker did not answer a ping within {timeout} s; see {log_path}")


def wait_until(predicate, timeout: float = 20, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")
