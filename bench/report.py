# ruff: noqa: S608, E501 - SQL assembled from module constants only; long generated SQL lines
"""Benchmark of the bounce report on PostgreSQL: daily roll-ups against the raw rows.

    python -m bench.report                      # 10,000,000 bounces in database `repbench`
    python -m bench.report --bounces 1000000    # smaller
    python -m bench.report --regenerate         # drop the data and generate it again

Generates the data set-based (`INSERT … SELECT … generate_series`, 1M rows per statement, FK
triggers off during the load): contacts, 200 mailings over a year, sent emails (80 % in
mailings, whose bounce rates spread from 1 % to 12 %), the bounces correlated to those sends
(10 % of them bounce twice), unmatched bounces up to the requested total, and a block for every
bounced address (60 % still active; the lifted ones with their unblock row). Recipient domains
follow a Zipf-like long tail over 2,000 domains (a few big providers, many company domains).

Then it rebuilds the roll-ups (timed), ANALYZEs, and times the report for the last 12 months with
no filter and with a category filter: the selector via the roll-ups, the selector straight from
the raw rows (`force="raw"`), and the whole page (view, template, charts) via the roll-ups, each
the median of several runs. The generated data stays for later runs (rerun without
--regenerate to time again).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

from bench.categories import category_mix

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/repbench"

# (type, slug, weight): roughly the shape of real bounce traffic
CATEGORIES = category_mix(
    {
        ("permanent", "bad_mailbox"): 30,
        ("permanent", "bad_domain"): 8,
        ("permanent", "policy_related"): 5,
        ("permanent", "possible_spam"): 4,
        ("permanent", "sender_rejected"): 3,
        ("permanent", "other"): 3,
        ("permanent", "protocol_error"): 1,
        ("permanent", "relay_denied"): 1,
        ("permanent", "routing_error"): 1,
        ("temporary", "mailbox_full"): 12,
        ("temporary", "auto_reply"): 12,
        ("temporary", "network_error"): 6,
        ("temporary", "domain_error"): 4,
        ("temporary", "authentication_failure"): 4,
        ("temporary", "content_related"): 3,
        ("temporary", "other"): 3,
    }
)
BIG_DOMAINS = [
    "gmail.com", "outlook.com", "qq.com", "163.com", "yahoo.com", "hotmail.com", "126.com",
    "icloud.com", "sina.com", "foxmail.com",
]  # fmt: skip
N_DOMAINS = 2000
N_ADDRESSES = 1_000_000
N_CONTACTS = 100_000
N_MAILINGS = 200
CHUNK = 1_000_000


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("REPBENCH_URL", DEFAULT_URL))
    parser.add_argument("--bounces", type=int, default=10_000_000, help="bounces to generate")
    parser.add_argument("--sent", type=int, default=10_000_000, help="sent emails to generate")
    parser.add_argument("--regenerate", action="store_true", help="drop and regenerate the data")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the roll-ups of the existing data"
    )
    parser.add_argument("--generate-only", action="store_true", help="generate the data, then stop")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per roll-up case")
    parser.add_argument("--raw-runs", type=int, default=2, help="timed runs per raw case")
    return parser.parse_args()


def _ensure_database(url: str) -> None:
    import psycopg

    base, _sep, name = url.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _timed(label: str, fn, *args, **kwargs):
    began = time.monotonic()
    result = fn(*args, **kwargs)
    _log(f"{label}: {time.monotonic() - began:.1f} s")
    return result


# --- generation ---------------------------------------------------------------------------------
def _sql_array(values: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _missing_columns(cursor, table: str, provided: set[str]) -> tuple[str, str]:
    """Columns NOT NULL without a default that the bench does not know (added later): fill
    them with a neutral value so the benchmark keeps working as the models grow."""
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
        "AND is_nullable = 'NO' AND column_default IS NULL AND is_generated = 'NEVER'",
        [table],
    )
    names, values = [], []
    for name, data_type in cursor.fetchall():
        if name in provided or name == "id":
            continue
        names.append(name)
        if "timestamp" in data_type:
            values.append("now()")
        elif data_type in ("integer", "bigint", "smallint", "numeric", "double precision"):
            values.append("0")
        elif data_type == "boolean":
            values.append("false")
        elif data_type == "jsonb":
            values.append("'{}'::jsonb")
        else:
            values.append("''")
    return "".join(", " + n for n in names), "".join(", " + v for v in values)


def _insert(cursor, table: str, columns: list[str], select: str, params=None) -> None:
    extra_cols, extra_vals = _missing_columns(cursor, table, set(columns))
    select = select.replace("{extra}", extra_vals)
    cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}{extra_cols}) {select}", params)


def _generate(n_bounces: int, n_sent: int) -> None:
    from django.db import connection

    from bounces.models import Channel

    channels = [Channel.IMAP] * 6 + [Channel.WEBHOOK] * 3 + [Channel.PIPE, Channel.HTTP]

    weights = [w for _t, _c, w in CATEGORIES]
    types = [t for t, _c, w in CATEGORIES for _ in range(w)]
    cats = [c for _t, c, w in CATEGORIES for _ in range(w)]
    n_cat = sum(weights)
    # Zipf-like domain of a local-part number: log-uniform index, small indexes are the big ones.
    domain = (
        "(CASE WHEN d < 10 THEN (" + _sql_array(BIG_DOMAINS) + ")[d + 1] "
        "ELSE 'corp' || d || '.example' END)"
    )
    domain_of = (
        "(SELECT " + domain + " FROM (SELECT floor(exp(((mod({n} * 2654435761, 10007) + 0.5) "
        f"/ 10007.0) * ln({N_DOMAINS})))::int - 1 AS d) dd)"
    )

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # FK triggers off: load only
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute("SELECT setseed(0.42)")

        _log("contacts")
        _insert(
            cursor,
            "records_contact",
            [
                "first_name",
                "last_name",
                "company",
                "phone",
                "email",
                "backup_email",
                "created_at",
                "updated_at",
            ],
            "SELECT 'First', 'Last' || i, 'Company ' || mod(i, 5000), '', "
            "'u' || i || '@' || " + domain_of.format(n="i") + ", '', now(), now(){extra} "
            "FROM generate_series(1, %s) i",
            [N_CONTACTS],
        )
        cursor.execute("SELECT min(id) FROM records_contact")
        contact0 = cursor.fetchone()[0]

        _log("mailings")
        _insert(
            cursor,
            "bounces_mailing",
            [
                "name",
                "subject",
                "from_address",
                "created_at",
                "sent_at",
                "recipients_sent",
                "recipients_bounced",
            ],
            "SELECT 'Mailing ' || m, 'Subject ' || m, 'news' || mod(m, 4) || '@acme.example', "
            "now() - (m * 365.0 / %s) * interval '1 day', "
            "now() - (m * 365.0 / %s) * interval '1 day', 0, 0{extra} "
            "FROM generate_series(0, %s - 1) m",
            [N_MAILINGS, N_MAILINGS, N_MAILINGS],
        )
        cursor.execute("SELECT min(id) FROM bounces_mailing")
        mailing0 = cursor.fetchone()[0]

        # Sent emails: 80 % in mailings (mailing m = (i / block) % 200), the rest by sales reps.
        per_mailing = max(n_sent * 8 // 10 // N_MAILINGS, 1)
        for start in range(0, n_sent, CHUNK):
            _log(f"sent emails {start:,}…")
            _insert(
                cursor,
                "bounces_sentemail",
                [
                    "contact_id",
                    "mailing_id",
                    "field",
                    "to_address",
                    "from_address",
                    "subject",
                    "message_id",
                    "verp_token",
                    "status",
                    "status_reason",
                    "sent_at",
                ],
                f"""
                SELECT %(c0)s + mod(i, {N_CONTACTS}),
                       CASE WHEN m IS NULL THEN NULL ELSE %(m0)s + m END,
                       'primary',
                       'u' || mod(i, {N_ADDRESSES}) || '@' || {domain_of.format(n=f"mod(i, {N_ADDRESSES})")},
                       CASE WHEN m IS NULL THEN 'rep' || mod(i, 7) || '@acme' || mod(i, 2) || '.example'
                            ELSE 'news' || mod(m, 4) || '@acme.example' END,
                       'Hello', '<b' || i || '@bench.example>', 'b' || i, 'sent', '',
                       CASE WHEN m IS NULL THEN now() - random() * interval '365 days'
                            ELSE now() - (m * 365.0 / {N_MAILINGS}) * interval '1 day'
                                 + random() * interval '6 hours' END
                       {{extra}}
                FROM (SELECT i, CASE WHEN i < %(mailing_sends)s
                                     THEN mod(i / %(per)s, {N_MAILINGS}) END AS m
                      FROM generate_series(%(lo)s, %(hi)s) i) s
                """,  # noqa: E501
                {
                    "c0": contact0,
                    "m0": mailing0,
                    "mailing_sends": per_mailing * N_MAILINGS,
                    "per": per_mailing,
                    "lo": start,
                    "hi": min(start + CHUNK, n_sent) - 1,
                },
            )

        bounce_cols = [
            "dedupe_key", "channel", "esp", "recipient", "status", "reply_code", "diagnostic",
            "explanation", "type", "category", "kind", "parsed", "parse_error", "sender_domain",
            "recipient_domain", "original_message_id", "sent_email_id", "received_at",
            "created_at",
        ]  # fmt: skip
        pick = f"(1 + floor(random() * {n_cat}))::int"
        channel_pick = f"({_sql_array(channels)})[1 + floor(random() * {len(channels)})::int]"
        # Correlated bounces: a mailing's sends bounce at 1-12 % (by mailing), reps' at 3 %;
        # one in ten of those bounces twice (a delay notice, then the failure).
        _log("correlated bounces")
        _insert(
            cursor,
            "bounces_bounce",
            bounce_cols,
            f"""
            SELECT 'bench-s' || s.id || '-' || rep, {channel_pick}, '', s.to_address,
                   CASE WHEN t = 'permanent' THEN '5.1.1' ELSE '4.2.2' END,
                   CASE WHEN t = 'permanent' THEN '550' ELSE '452' END,
                   'smtp; generated', '', t, c, 'dsn', true, '',
                   split_part(s.from_address, '@', 2), split_part(s.to_address, '@', 2), '',
                   s.id, LEAST(s.sent_at + random() * interval '3 days', now()), now(){{extra}}
            FROM (
                SELECT se.*, r.rep, ({_sql_array(types)})[k] AS t, ({_sql_array(cats)})[k] AS c
                FROM bounces_sentemail se
                CROSS JOIN LATERAL (SELECT {pick} + 0 * se.id AS k) kk  -- per row (correlated)
                CROSS JOIN LATERAL generate_series(1, CASE WHEN mod(se.id, 10) = 0 THEN 2 ELSE 1 END)
                    AS r(rep)
                WHERE random() < CASE WHEN se.mailing_id IS NULL THEN 0.03
                                 ELSE 0.01 + mod(se.mailing_id - %s, 12) * 0.01 END
            ) s
            """,
            [mailing0],
        )
        cursor.execute("SELECT count(*) FROM bounces_bounce")
        have = cursor.fetchone()[0]
        _log(f"{have:,} correlated bounces")
        for start in range(have, n_bounces, CHUNK):
            _log(f"unmatched bounces {start:,}…")
            _insert(
                cursor,
                "bounces_bounce",
                bounce_cols,
                f"""
                SELECT 'bench-u' || i, {channel_pick}, '', 'u' || a || '@' || dom,
                       CASE WHEN t = 'permanent' THEN '5.1.1' ELSE '4.2.2' END,
                       CASE WHEN t = 'permanent' THEN '550' ELSE '452' END,
                       'smtp; generated', '', t, c, 'dsn', true, '',
                       'acme' || mod(i, 3) || '.example', dom, '', NULL,
                       now() - random() * interval '365 days', now(){{extra}}
                FROM (
                    SELECT i, a, {domain_of.format(n="a")} AS dom,
                           ({_sql_array(types)})[k] AS t, ({_sql_array(cats)})[k] AS c
                    FROM (SELECT i, mod(i::bigint * 7919, {N_ADDRESSES}) AS a, {pick} AS k
                          FROM generate_series(%s, %s) i) g
                ) s
                """,
                [start, min(start + CHUNK, n_bounces) - 1],
            )

        _log("blocks (one per bounced address; 60 % still active)")
        _insert(
            cursor,
            "bounces_block",
            [
                "address",
                "type",
                "category",
                "status",
                "reply_code",
                "diagnostic",
                "explanation",
                "first_bounce_at",
                "last_bounce_at",
                "bounce_count",
                "cause_id",
                "created_at",
                "lifted_at",
                "review_due_at",
            ],
            """
            SELECT recipient, type, category, status, reply_code, '', '', first_at, last_at, n,
                   last_id, first_at,
                   CASE WHEN mod(abs(hashtext(recipient)), 10) < 6 THEN NULL
                        ELSE last_at + interval '1 day' END,
                   last_at + interval '182 days'{extra}
            FROM (
                SELECT DISTINCT ON (lower(recipient)) lower(recipient) AS recipient, type,
                       category, status, reply_code, id AS last_id, received_at AS last_at,
                       min(received_at) OVER w AS first_at, count(*) OVER w AS n
                FROM bounces_bounce
                WINDOW w AS (PARTITION BY lower(recipient))
                ORDER BY lower(recipient), received_at DESC
            ) b
            """,
        )
        _log("unblocks")
        _insert(
            cursor,
            "bounces_unblock",
            [
                "block_id",
                "address",
                "block_type",
                "category",
                "source",
                "record_type",
                "field",
                "confirmed",
                "reason",
                "created_at",
            ],
            "SELECT id, address, type, category, 'review', '', '', true, 'bench', lifted_at"
            "{extra} FROM bounces_block WHERE lifted_at IS NOT NULL",
        )
        cursor.execute("SET session_replication_role = DEFAULT")


# --- timing ------------------------------------------------------------------------------------
def _median_run(fn: Callable[[], _R], runs: int) -> tuple[float, _R]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


_R = TypeVar("_R")


def main() -> int:
    args = _parse()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bouncecrm.settings")
    _ensure_database(args.database_url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from bounces.models import Bounce
    from reports import rollups
    from reports.filters import period_bounds
    from reports.selectors import RAW, ReportFilters, bounce_report

    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL (--database-url).", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)

    if args.regenerate:
        with connection.cursor() as cursor:
            _log("dropping the old data")
            cursor.execute(
                "TRUNCATE bounces_unblock, bounces_block, bounces_bounce, bounces_sentemail, "
                "bounces_mailing, records_contact, reports_dailybouncerollup, "
                "reports_dailydomainrollup, reports_dailysentrollup, reports_ratealert CASCADE"
            )
    have = Bounce.objects.count()
    if have == 0:
        _timed("generated the data", _generate, args.bounces, args.sent)
        with connection.cursor() as cursor:
            _timed("ANALYZE", cursor.execute, "ANALYZE")
        if args.generate_only:
            return 0
        written = _timed("rebuilt the roll-ups", rollups.rebuild)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reports_dailybouncerollup")
            cursor.execute("ANALYZE reports_dailydomainrollup")
            cursor.execute("ANALYZE reports_dailysentrollup")
        _log(f"roll-up rows: {written}")
    else:
        _log(f"using the existing data ({have:,} bounces); --regenerate to start over")
        if args.rebuild:
            written = _timed("rebuilt the roll-ups", rollups.rebuild)
            _log(f"roll-up rows: {written}")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    if args.generate_only:
        return 0

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM bounces_bounce), (SELECT count(*) FROM "
            "bounces_sentemail), (SELECT count(*) FROM bounces_block WHERE lifted_at IS NULL), "
            "(SELECT count(*) FROM reports_dailybouncerollup), "
            "(SELECT count(*) FROM reports_dailydomainrollup), "
            "(SELECT count(*) FROM reports_dailysentrollup)"
        )
        counts = cursor.fetchone()
    _log(
        "rows: {:,} bounces, {:,} sent emails, {:,} active blocks; roll-ups: {:,} bounce, "
        "{:,} domain, {:,} sent".format(*counts)
    )

    today = timezone.localdate(timezone=timezone.get_default_timezone())
    start, end = period_bounds("12m", today)
    cases = [
        ("12 months, no filter", ReportFilters(start=start, end=end), {"period": "12m"}),
        (
            "12 months, category permanent:bad_mailbox",
            ReportFilters(start=start, end=end, category="permanent:bad_mailbox"),
            {"period": "12m", "category": "permanent:bad_mailbox"},
        ),
    ]

    from django.contrib.auth import get_user_model

    user, _created = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_superuser": True, "is_staff": True}
    )
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)

    results = []
    for label, filters, query in cases:
        rollup_s, report = _median_run(partial(bounce_report, filters=filters), args.runs)
        page_s, response = _median_run(partial(client.get, "/reports/bounces/", query), args.runs)
        assert response.status_code == 200, response.status_code
        raw_s, raw = _median_run(partial(bounce_report, filters=filters, force=RAW), args.raw_runs)
        same = (report.sent, report.bounced, report.bounces) == (raw.sent, raw.bounced, raw.bounces)
        results.append((label, rollup_s, page_s, raw_s, report, same))
        _log(
            f"{label}: roll-ups {rollup_s * 1000:.0f} ms (page {page_s * 1000:.0f} ms), "
            f"raw rows {raw_s * 1000:.0f} ms; sent {report.sent:,}, bounced {report.bounced:,}, "
            f"bounces {report.bounces:,}; raw path agrees: {same}"
        )

    print()
    print(
        f"Bounce report, {counts[0]:,} bounces / {counts[1]:,} sent emails, PostgreSQL "
        f"({start} – {end}); median of {args.runs} runs (raw: {args.raw_runs})"
    )
    print(f"{'case':45} {'roll-ups':>10} {'page':>10} {'raw rows':>10}  agree")
    for label, rollup_s, page_s, raw_s, _report, same in results:
        print(
            f"{label:45} {rollup_s * 1000:>8.0f}ms {page_s * 1000:>8.0f}ms "
            f"{raw_s * 1000:>8.0f}ms  {same}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
