"""Benchmark of an import of 100,000 rows (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_imports python -m bench.imports
    DATABASE_URL=… CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \
        python -m bench.imports --mode worker

Writes a CSV of `--rows` lines (dirty addresses such as `"Name" <x@Example.com>,`, typo
domains, invalid addresses, 2% duplicates within the file, 1% of addresses already on a
contact, 1% blocked), then times the preview (reading, cleaning, validation and the duplicate
and block look-ups over the whole file, nothing saved) and the import (in this process, or with
`--mode worker` through one real Celery worker started here, polling the job until done).
Prints the times, rows per second and this process' peak RSS (the worker's too, from its
/proc VmHWM while it runs). The contacts it creates are deleted at the end (`--keep` keeps
them).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import django


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bouncecrm.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    django.setup()


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_peak_mib(pid: int) -> float:
    """Return a process' peak RSS (VmHWM) in MiB, 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def write_file(path: Path, rows: int, *, seed: int = 13) -> None:
    import csv

    rnd = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Company", "Email", "Backup email", "Phone"])
        for n in range(rows):
            email = f"person{n}@example{n % 500}.com"
            draw = rnd.random()
            if draw < 0.10:
                email = f'"Person {n}" <{email.replace("example", "Example")}>,'
            elif draw < 0.13:
                email = f"person{n}@gmial.com"
            elif draw < 0.14:
                email = f"person{n}-at-nowhere"
            elif draw < 0.16:
                email = f"person{max(n - 7, 0)}@example{max(n - 7, 0) % 500}.com"  # duplicate
            elif draw < 0.17:
                email = f"existing{n % 1000}@example.com"
            elif draw < 0.18:
                email = f"blocked{n % 1000}@example.com"
            writer.writerow([f"Person {n}", f"Company {n % 3000}", email, "", f"+86 138 {n:08d}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mode", choices=["process", "worker"], default="process")
    parser.add_argument("--keep", action="store_true", help="Keep the imported contacts.")
    args = parser.parse_args()
    _setup()

    from django.core.management import call_command
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (e.g. …/bench_imports).")
    call_command("migrate", verbosity=0)
    from bounces.models import Block
    from records.imports.models import ImportJob
    from records.imports.services import import_apply, import_job_preview, import_open
    from records.models import Contact
    from tests.factories import BlockFactory

    # Existing contacts and blocks the file collides with.
    Contact.objects.filter(last_name__startswith="BenchExisting").delete()
    Contact.objects.bulk_create(
        Contact(last_name=f"BenchExisting{n}", email=f"existing{n}@example.com")
        for n in range(1000)
    )
    if not Block.objects.filter(address="blocked0@example.com", lifted_at__isnull=True).exists():
        for n in range(1000):
            BlockFactory(address=f"blocked{n}@example.com")

    folder = Path(tempfile.mkdtemp(prefix="importbench-"))
    path = folder / "contacts.csv"
    started = time.perf_counter()
    write_file(path, args.rows)
    print(
        f"wrote {args.rows:,} rows ({path.stat().st_size / 1048576:.1f} MB) in "
        f"{time.perf_counter() - started:.1f} s"
    )

    table = import_open(path)
    job = ImportJob.objects.create(
        record_type="contact",
        file_name=path.name,
        file_path=str(path),
        file_format=table.format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        headers=table.headers,
        mapping={"0": "name", "1": "company", "2": "email", "3": "backup_email", "4": "phone"},
    )
    started, cpu = time.perf_counter(), _cpu_s()
    preview = import_job_preview(job=job)
    preview_s, preview_cpu = time.perf_counter() - started, _cpu_s() - cpu
    print(
        f"preview: {preview_s:.1f} s ({args.rows / preview_s:,.0f} rows/s); counts "
        f"{preview['counts']}; cleaning changes {preview['totals']['changes']:,}, "
        f"blocked {preview['totals']['blocked']:,}, duplicates "
        f"{preview['totals']['duplicates']:,}; CPU {preview_cpu:.1f} s; peak RSS "
        f"{_peak_mib():.0f} MiB; {_load()}"
    )

    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
    started, cpu = time.perf_counter(), _cpu_s()
    worker_peak = 0.0
    if args.mode == "process":
        import_apply(job_id=job.pk, keep_file=True)
    else:
        from bench.worker import solo_worker_argv
        from bouncecrm.celery import app
        from records.imports.tasks import run_import

        queue = f"importbench-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, "CELERY_TASK_DEFAULT_QUEUE": queue}
        argv = solo_worker_argv(queue, loglevel="WARNING")
        worker = subprocess.Popen(argv, env=env)  # noqa: S603 - our own command line
        try:
            app.conf.task_default_queue = queue
            started = time.perf_counter()
            with transaction.atomic():
                transaction.on_commit(lambda: run_import.apply_async((job.pk,), queue=queue))
            while not ImportJob.objects.filter(pk=job.pk, state__in=["done", "failed"]).exists():
                worker_peak = max(worker_peak, _worker_peak_mib(worker.pid))
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    import_s, import_cpu = time.perf_counter() - started, _cpu_s() - cpu
    job.refresh_from_db()
    print(
        f"import ({args.mode}): {import_s:.1f} s ({args.rows / import_s:,.0f} rows/s); "
        f"state {job.state}; created {job.created:,}, updated {job.updated:,}, skipped "
        f"{job.skipped:,}, rejected {job.rejected:,}; CPU here {import_cpu:.1f} s; peak RSS "
        f"here {_peak_mib():.0f} MiB"
        + (f", worker {worker_peak:.0f} MiB" if worker_peak else "")
        + f"; {_load()}"
    )
    if job.error:
        print("error:", job.error)
    blocked = Contact.objects.filter(email_key__startswith="blocked").exclude(email_block="")
    print(
        f"imported contacts carrying a blocked address with their block column set: "
        f"{blocked.count():,}"
    )
    if not args.keep:
        from records.imports.services import import_rollback

        started = time.perf_counter()
        deleted = import_rollback(job=job)
        print(
            f"rolled back ({deleted:,} contacts deleted) in {time.perf_counter() - started:.1f} s"
        )
    path.unlink(missing_ok=True)
    folder.rmdir()


if __name__ == "__main__":
    main()
