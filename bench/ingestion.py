"""Benchmark: ingest N synthetic bounce messages end to end and print messages per second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ingbench \\
        python -m bench.ingestion --messages 10000 [--mode inprocess|steps|worker] [--workers N]

Each message is a realistic DSN (Postfix, Exim, Gmail shapes, plus auto-replies; see
`bench.samples`) to its own recipient, carrying the VERP token of a sent email in a
mailing. Untimed set-up: migrate, contacts, sent emails, the raw messages. Timed: storing them in
the inbox (as a channel does) and processing them through the real path: classification,
bounces, blocks, sent emails marked bounced, mailing counts, report roll-ups.

`--mode inprocess` runs the batch function the Celery task runs, in this one process;
`--mode steps` does the same and prints each step's time per batch and the slowest statements;
`--mode worker` starts `--workers` real Celery worker processes (solo pool) on Redis
(BENCH_BROKER_URL, default redis://127.0.0.1:6379/0) and queues the tasks to them. The peak RSS
of this process and of each worker is printed at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import time
import uuid
from pathlib import Path


def _setup(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    # Measure as production runs: DEBUG off (no per-query bookkeeping), here and in the worker.
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex * 2)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bouncecrm.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _prepare(n: int, run: str):
    from django.utils import timezone

    from bench.samples import sample
    from bounces.models import Mailing, SentEmail
    from records.models import Contact

    mailing = Mailing.objects.create(
        name=f"bench {run}", subject="Bench", from_address="sales@crm.example.com"
    )
    contacts = Contact.objects.bulk_create(
        [Contact(last_name=f"Bench {i}", email=f"b{run}.{i}@example.com") for i in range(n)],
        batch_size=2000,
    )
    now = timezone.now()
    SentEmail.objects.bulk_create(
        [
            SentEmail(
                contact=c,
                mailing=mailing,
                to_address=c.email,
                from_address="sales@crm.example.com",
                subject="Bench",
                message_id=f"<b{run}.{i}@app1.crm.example.com>",
                verp_token=f"b{run}{i:07d}",
                sent_at=now,
            )
            for i, c in enumerate(contacts)
        ],
        batch_size=2000,
    )
    Mailing.objects.filter(pk=mailing.pk).update(recipients_sent=n)
    raws = [sample(i, token=f"b{run}{i:07d}", rcpt=f"b{run}.{i}@example.com").raw for i in range(n)]
    return mailing, raws


def _store(raws: list[bytes]) -> list[int]:
    from bounces.ingestion.store import inbound_store_many_raw
    from bounces.models import Channel

    ids: list[int] = []
    for start in range(0, len(raws), 500):
        stored = inbound_store_many_raw(
            raws=raws[start : start + 500], channel=Channel.IMAP, source="bench", queue=False
        )
        ids.extend(s.id for s in stored)
    return ids


def _process_inprocess(ids: list[int]) -> None:
    from bounces.ingestion.process import BATCH_SIZE, inbound_process

    for start in range(0, len(ids), BATCH_SIZE):
        inbound_process(ids=ids[start : start + BATCH_SIZE])


# The steps of a batch (`bounces.ingestion.process`), timed by wrapping the functions the batch
# calls by name: (label, module, function). Indented labels are part of the step above.
_STEPS = (
    ("classification", "bounces.ingestion.process", "_evidence"),
    ("claim + rows marked processed", "bounces.ingestion.process", "_claim"),
    ("correlation (sent_emails_for)", "bounces.ingestion.process", "sent_emails_for"),
    ("bounce insert", "bounces.ingestion.process", "_insert_bounces"),
    ("blocks (addresses_block)", "bounces.ingestion.process", "addresses_block"),
    ("  record block-column sync", "bounces.services.blocks", "records_sync_blocks"),
    ("sent marked + mailing counts", "bounces.ingestion.process", "_mark_sent"),
    ("  autopause", "bounces.sending.services", "mailings_autopause"),
    ("roll-ups (add_bounces)", "bounces.ingestion.process", "_announce"),
    ("unparsed rows quarantined", "bounces.ingestion.process", "_quarantine_unparsed"),
)


def _process_steps(ids: list[int]) -> None:
    """Process in this process with each step of a batch timed; print the table."""
    import importlib
    from functools import wraps

    from bounces.ingestion import process

    spent: dict[str, float] = {}

    def timed(label: str, func):
        @wraps(func)
        def run(*args, **kwargs):
            t = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t

        return run

    targets = [*_STEPS, ("batch", "bounces.ingestion.process", "_process_batch")]
    targets.append(("transaction", "bounces.ingestion.process", "_commit"))
    saved = []
    for label, module_name, name in targets:
        module = importlib.import_module(module_name)
        saved.append((module, name, getattr(module, name)))
        setattr(module, name, timed(label, getattr(module, name)))
    statements: dict[str, list[float]] = {}

    def timed_sql(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = " ".join(sql.split()[:8])[:90]
            statements.setdefault(shape, []).append(time.perf_counter() - t)

    from django.db import connection

    try:
        with connection.execute_wrapper(timed_sql):
            _process_inprocess(ids)
    finally:
        for module, name, func in saved:
            setattr(module, name, func)
    batches = -(-len(ids) // process.BATCH_SIZE)
    inside = sum(spent.get(label, 0.0) for label, _m, _f in _STEPS[1:] if not label[0].isspace())
    rows = [(label, spent.get(label, 0.0)) for label, _m, _f in _STEPS]
    rows.append(("commit + the rest of the transaction", spent.get("transaction", 0) - inside))
    total = spent.get("batch", 0.0)
    print(f"steps per batch of {process.BATCH_SIZE} ({batches} batches):")
    for label, seconds in rows:
        share = 100 * seconds / total if total else 0
        print(f"  {label:<38} {1000 * seconds / batches:8.1f} ms {share:5.1f} %")
    print(f"  {'batch total':<38} {1000 * total / batches:8.1f} ms")
    print("statements per batch (the slowest, by their first words):")
    top = sorted(statements.items(), key=lambda kv: -sum(kv[1]))[:12]
    for shape, times in top:
        print(f"  {1000 * sum(times) / batches:7.1f} ms {len(times) / batches:5.1f}x  {shape}")


def _peak_rss_mb(pid: int) -> float:
    """Return the peak resident set of a running process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _process_worker(ids: list[int], broker: str, workers: int) -> tuple[float, list[float]]:
    """Queue the batches to `workers` solo Celery workers; return the seconds until every row
    is done and each worker's peak RSS (MB)."""
    from django.db import connection

    from bench.worker import solo_worker_argv
    from bouncecrm.celery import app
    from bounces.ingestion.process import BATCH_SIZE
    from bounces.models import InboundMessage

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    names = [f"{queue}-{n}" for n in range(workers)]
    s = connection.settings_dict
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    url = f"postgres://{s['USER'] or 'postgres'}@{host}/{s['NAME']}"
    if s.get("PASSWORD"):
        url = url.replace("@", f":{s['PASSWORD']}@", 1)
    root = Path(__file__).resolve().parents[1]
    log_path = os.environ.get("BENCH_WORKER_LOG")
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONPATH": str(root),
    }
    procs = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            solo_worker_argv(queue, loglevel="INFO" if log_path else "WARNING", name=name),
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for name in names
    ]
    rss: list[float] = []
    try:
        app.conf.update(task_always_eager=False, broker_url=broker, task_default_queue=queue)
        deadline = time.monotonic() + 60
        nodes = [f"{name}@{os.uname().nodename}" for name in names]
        while len(app.control.ping(destination=nodes, timeout=0.5) or []) < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit("the Celery workers did not start")
        started = time.perf_counter()
        from bounces.tasks.ingestion import process_inbound

        for start in range(0, len(ids), BATCH_SIZE):
            process_inbound.delay(ids[start : start + BATCH_SIZE])
        # A range, not the 10,000 ids: polling must cost the machine next to nothing.
        pending = InboundMessage.objects.filter(
            pk__range=(min(ids), max(ids)), state=InboundMessage.State.PENDING
        )
        while pending.exists():
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        rss = [_peak_rss_mb(p.pid) for p in procs]
        return elapsed, rss
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="How many messages.")
    parser.add_argument("--mode", choices=["inprocess", "worker", "steps"], default="inprocess")
    parser.add_argument("--workers", type=int, default=1, help="Celery workers (--mode worker).")
    parser.add_argument("--database-url", help="Defaults to $DATABASE_URL.")
    parser.add_argument(
        "--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args(argv)
    _setup(args.database_url)
    from django.db import connection

    from bounces.models import Block, Bounce, InboundMessage

    run = uuid.uuid4().hex[:6]
    t0 = time.perf_counter()
    mailing, raws = _prepare(args.messages, run)
    if connection.vendor == "postgresql":
        # Fresh statistics after the bulk set-up, as a live database has (autovacuum would
        # catch up within a minute); stale ones make the planner scan whole tables.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"set-up ({connection.vendor}): {time.perf_counter() - t0:.1f} s, "
        f"{sum(map(len, raws)) / len(raws):.0f} bytes per message"
    )

    t1 = time.perf_counter()
    ids = _store(raws)
    store_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    if args.mode in ("inprocess", "steps"):
        (_process_steps if args.mode == "steps" else _process_inprocess)(ids)
        process_s = time.perf_counter() - t2
        worker_rss: list[float] = []
    else:
        process_s, worker_rss = _process_worker(ids, args.broker, args.workers)
    total = store_s + process_s

    done = InboundMessage.objects.filter(pk__in=ids, state=InboundMessage.State.PROCESSED).count()
    bounces = Bounce.objects.filter(inbound_id__in=ids).count()
    blocks = Block.objects.filter(address__startswith=f"b{run}.").count()
    mailing.refresh_from_db()
    n = args.messages
    print(f"stored   {n} messages in {store_s:.2f} s ({n / store_s:.0f} msg/s)")
    print(
        f"processed {done} messages ({bounces} bounces, {blocks} blocks, "
        f"{mailing.recipients_bounced} sent emails bounced) in {process_s:.2f} s "
        f"({n / process_s:.0f} msg/s, mode {args.mode}"
        + (f", {args.workers} worker(s))" if args.mode == "worker" else ")")
    )
    print(f"end to end: {n / total:.0f} messages per second")
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    peak = f"peak RSS: bench process {own_mb:.0f} MB"
    if worker_rss:
        peak += ", worker(s) " + ", ".join(f"{mb:.0f} MB" for mb in worker_rss)
    print(peak)


if __name__ == "__main__":
    main()
