"""Benchmark of a 100,000-record mailing on PostgreSQL: prepare, then send with one worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_sending python -m bench.sending

1. Seeds (set-based SQL, reused when the count matches) 100,000 contacts on 2,000 company
   domains (20 of them without MX or A in the DNS fixture the run writes), 2% blocked, 0.5%
   opted out, 0.2% on a typo domain (`gmial.com`), 1% with a recent temporary bounce, and a mix
   of last-emailed dates.
2. Prepare: the pre-send check alone (selection, suppression, risk checks), then the pre-send
   page through Django's test client (it runs the check again; DNS answers are then cached),
   then the confirmation that writes one row per recipient.
3. Send: a local SMTP sink (aiosmtpd's Sink, its own process) receives (a) a bare `smtplib`
   loop of ready-made messages over one connection, (b) the mailing sent by one real Celery
   worker (solo pool) on Redis, (c) the bare loop again. Both loops bracket the worker, so
   machine load shows in both; the ratio is the worker's rate over the loops' mean.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
SINK_PORT = 27150
DOMAINS = 2000
DEAD_DOMAINS = 20
REDIS = "redis://127.0.0.1:6379/2"


def _dns_fixture() -> Path:
    answers = {
        f"company{n}.example": {"MX": [f"10 mx.company{n}.example."]} for n in range(DOMAINS)
    }
    for n in range(DEAD_DOMAINS):
        answers.pop(f"company{n}.example")
    answers["gmail.com"] = {"MX": ["10 gmail-smtp-in.l.google.com."]}
    path = Path(tempfile.gettempdir()) / "bench_sending_dns.json"
    path.write_text(json.dumps(answers))
    return path


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bouncecrm.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ["BOUNCECRM_DNS_FIXTURE"] = str(_dns_fixture())
    os.environ["CELERY_BROKER_URL"] = REDIS
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-sending-{uuid.uuid4().hex[:8]}"
    os.environ["EMAIL_HOST"] = "127.0.0.1"
    os.environ["EMAIL_PORT"] = str(SINK_PORT)
    django.setup()


def seed(records: int) -> None:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    from bounces.models import Sender
    from records.models import Contact

    if connection.vendor != "postgresql":
        sys.exit("the benchmark needs PostgreSQL (set DATABASE_URL)")
    call_command("migrate", verbosity=0)
    User.objects.filter(username="bench-admin").exists() or User.objects.create_superuser(
        "bench-admin", "bench-admin@example.com", "bench"
    )
    Sender.objects.get_or_create(
        address="news@crm.example", defaults={"name": "News", "max_per_minute": 0}
    )
    from bounces.models import Block

    if Contact.objects.count() == records and Block.objects.exists():
        print(f"reusing {records} contacts")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE bounces_sentemail, bounces_mailing, bounces_optout, bounces_bounce, "
            "bounces_unblock, bounces_block, records_contact CASCADE"
        )
        cursor.execute(
            """
            INSERT INTO records_contact (first_name, last_name, company, phone, email,
                backup_email, last_emailed_at, created_at, updated_at)
            SELECT 'First' || i, 'Last' || (i %% 977), 'Company ' || (i %% %s), '',
                   CASE WHEN i %% 500 = 0 THEN 'user' || i || '@gmial.com'
                        ELSE 'user' || i || '@company' || (i %% %s) || '.example' END,
                   '',
                   CASE WHEN i %% 10 = 1 THEN NULL
                        ELSE now() - (i %% 400) * interval '1 day' END,
                   now(), now()
            FROM generate_series(1, %s) AS i
            """,
            [DOMAINS, DOMAINS, records],
        )
        cursor.execute(
            """
            INSERT INTO bounces_block (address, type, category, status, reply_code, diagnostic,
                explanation, first_bounce_at, last_bounce_at, bounce_count, review_due_at,
                created_at)
            SELECT email_key, CASE WHEN id %% 2 = 0 THEN 'permanent' ELSE 'temporary' END,
                   CASE WHEN id %% 2 = 0 THEN 'bad_mailbox' ELSE 'mailbox_full' END,
                   '', '', '', '', now(), now(), 1, now() + interval '180 days', now()
            FROM records_contact WHERE id %% 50 = 7
            """,
            [],
        )
        cursor.execute(
            """
            UPDATE records_contact c SET email_block = b.type || ':' || b.category
            FROM bounces_block b WHERE b.address = c.email_key AND b.lifted_at IS NULL
            """
        )
        cursor.execute(
            """
            INSERT INTO bounces_optout (address, source, created_at)
            SELECT email_key, 'link', now() FROM records_contact WHERE id %% 200 = 3
            """,
            [],
        )
        cursor.execute(
            """
            INSERT INTO bounces_bounce (dedupe_key, channel, esp, recipient, status, reply_code,
                diagnostic, explanation, type, category, kind, parsed, parse_error,
                sender_domain, recipient_domain, original_message_id, received_at, created_at)
            SELECT 'bench:' || id, 'pipe', '', email_key, '4.2.2', '452', '', '', 'temporary',
                   'mailbox_full', 'dsn', true, '', 'crm.example', '', '', now() - interval
                   '3 days', now()
            FROM records_contact WHERE id %% 100 = 11
            """,
            [],
        )
        for table in ("records_contact", "bounces_block", "bounces_optout", "bounces_bounce"):
            cursor.execute(f"VACUUM ANALYZE {table}")  # noqa: S608 - constants only
    print(f"seeded {records} contacts in {time.perf_counter() - started:.1f} s")


def prepare() -> int:
    """Time the pre-send check, the pre-send page and the confirmation; return the mailing."""
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from bounces.models import Mailing, Sender, SentEmail
    from bounces.sending import services

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bounces_sentemail")
        cursor.execute("DELETE FROM bounces_mailing")
        # A previous run's sending moved "last emailed": back to the seeded pattern.
        cursor.execute(
            """
            UPDATE records_contact SET last_emailed_at = CASE WHEN id %% 10 = 1 THEN NULL
                ELSE now() - (id %% 400) * interval '1 day' END
            """,
            [],
        )
    cache.clear()
    sender = Sender.objects.get(address="news@crm.example")
    admin = User.objects.get(username="bench-admin")
    started = time.perf_counter()
    check = services.mailing_precheck(
        record_type="contact", selection={"criteria": {}}, from_address=sender.address
    )
    checked = time.perf_counter() - started
    print(
        f"pre-send check (selection, suppression, risks, DNS of {DOMAINS} domains uncached): "
        f"{checked:.2f} s — {check.selected} selected, {check.to_send} to send, "
        f"{check.suppressed_count} suppressed, risky {check.risky}, "
        f"projected {check.projected_bounce_rate:.1f}%"
    )
    mailing = services.mailing_create(
        name="Bench",
        sender=sender,
        subject="News for {{company}}",
        body="Dear {{first_name}},\n\n" + "A line of news about our products.\n" * 20,
        record_type="contact",
        selection={"criteria": {}},
        actor=admin,
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    url = reverse("sending:mailing-detail", args=[mailing.pk])
    started = time.perf_counter()
    response = client.get(url)
    page = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    print(f"pre-send page (the check again, DNS cached, rendered): {page:.2f} s")
    started = time.perf_counter()
    services.mailing_confirm(mailing=mailing, actor=admin)
    confirmed = time.perf_counter() - started
    print(f"confirm (the web request: check again, state, queue): {confirmed:.2f} s")
    # The worker's first step writes the rows; timed here, before the worker starts, so the
    # sending rate below is the sending alone.
    started = time.perf_counter()
    services.mailing_materialize(mailing_id=mailing.pk)
    written = time.perf_counter() - started
    # Held until the timed run: the task queued on commit finds it paused and stops.
    Mailing.objects.filter(pk=mailing.pk).update(state=Mailing.State.PAUSED)
    rows = SentEmail.objects.filter(mailing=mailing).count()
    print(f"rows written by the worker's first step ({rows}, COPY): {written:.2f} s")
    print(f"prepare total (check + page): {checked + page:.2f} s (goal < 10 s)")
    return mailing.pk


def _sink() -> subprocess.Popen:
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{SINK_PORT}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            smtplib.SMTP("127.0.0.1", SINK_PORT, timeout=1).quit()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("the SMTP sink did not start")


def bare_loop(count: int) -> float:
    """Send `count` ready-made messages of the mailing's size over one connection; msg/s."""
    body = "Dear First1,\n\n" + "A line of news about our products.\n" * 20
    message = (
        "From: News <news@crm.example>\r\nTo: user1@company1.example\r\n"
        "Subject: News for Company 1\r\nMessage-ID: <x@bounces.example>\r\n\r\n" + body
    ).encode()
    smtp = smtplib.SMTP("127.0.0.1", SINK_PORT)
    started = time.perf_counter()
    for _ in range(count):
        smtp.sendmail("bounces+abcdefgh@bounces.example", ["user1@company1.example"], message)
    elapsed = time.perf_counter() - started
    smtp.quit()
    return count / elapsed


def send_with_worker(mailing_id: int) -> float:
    """Send the mailing with one solo Celery worker; return messages handed over per second."""
    from django.conf import settings

    from bench.worker import solo_worker_argv
    from bouncecrm.celery import app
    from bounces.models import Mailing, SentEmail
    from bounces.tasks.sending import send_mailing

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    log = open(ROOT / "var" / "bench-sending-worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        solo_worker_argv(queue, loglevel="WARNING"),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        import socket

        while not app.control.ping(destination=[f"{queue}@{socket.gethostname()}"], timeout=0.5):
            if time.monotonic() > deadline or worker.poll() is not None:
                sys.exit("the worker did not start; see var/bench-sending-worker.log")
        total = SentEmail.objects.filter(mailing_id=mailing_id, status="queued").count()
        time.sleep(2)  # the task queued at confirmation has seen the pause and stopped
        started = time.perf_counter()
        Mailing.objects.filter(pk=mailing_id).update(state=Mailing.State.SENDING)
        send_mailing.delay(mailing_id)
        while True:
            time.sleep(1)
            left = SentEmail.objects.filter(
                mailing_id=mailing_id, status__in=["queued", "sending", "retrying"]
            ).count()
            if not left:
                break
        elapsed = time.perf_counter() - started
        sent = SentEmail.objects.filter(mailing_id=mailing_id, status="sent").count()
        print(f"worker: {sent} of {total} sent in {elapsed:.1f} s")
        return sent / elapsed
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--loop", type=int, default=20_000, help="messages per bare loop")
    parser.add_argument("--no-send", action="store_true", help="time the preparation only")
    args = parser.parse_args()
    _setup()
    seed(args.records)
    mailing_id = prepare()
    if args.no_send:
        return
    (ROOT / "var").mkdir(exist_ok=True)
    sink = _sink()
    try:
        before = bare_loop(args.loop)
        print(f"bare smtplib loop: {before:.0f} msg/s")
        worker = send_with_worker(mailing_id)
        print(f"one worker: {worker:.0f} msg/s")
        after = bare_loop(args.loop)
        print(f"bare smtplib loop again: {after:.0f} msg/s")
        base = (before + after) / 2
        print(f"worker / bare loop: {100 * worker / base:.0f}% (goal ≥ 80%)")
    finally:
        sink.terminate()
        sink.wait(timeout=10)


if __name__ == "__main__":
    main()
