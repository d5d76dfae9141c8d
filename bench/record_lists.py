"""Benchmark of the record list and the bulk unblock at a million contacts (PostgreSQL only).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/uibench python -m bench.record_lists seed
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/uibench python -m bench.record_lists list
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/uibench python -m bench.record_lists bulk

`seed` migrates and fills the database with synthetic contacts (set-based SQL, about a minute
for 1,000,000) and active blocks on about 10% of primary and 2% of backup addresses, skewed
across the 16 categories so the largest ones span hundreds of list pages. It reuses what is
already there when the contact count matches. `list` times the contact list view through
Django's test client (server time: middleware, queries, template) filtered by a category, on
page 1 and page 500, and prints p50/p95 and the queries per page at page sizes 25 and 100; then
the search box (`SEARCHES`: a full name in both orders, a first name, a company, an address),
and the peak RSS of the process.
`bulk` times the bulk unblock of a category's records (12,096 by default; `--records 10000` for
the first 10,000) inside a transaction it rolls back, with its queries and the peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

import django

from bench.categories import category_mix

# Share of blocks per category (percent), so some categories are large and some rare.
CATEGORY_WEIGHTS = category_mix(
    {
        ("temporary", "mailbox_full"): 20,
        ("temporary", "auto_reply"): 10,
        ("temporary", "domain_error"): 5,
        ("temporary", "authentication_failure"): 5,
        ("temporary", "network_error"): 5,
        ("temporary", "content_related"): 5,
        ("temporary", "other"): 3,
        ("permanent", "bad_mailbox"): 25,
        ("permanent", "bad_domain"): 6,
        ("permanent", "policy_related"): 4,
        ("permanent", "sender_rejected"): 2,
        ("permanent", "protocol_error"): 2,
        ("permanent", "relay_denied"): 2,
        ("permanent", "routing_error"): 2,
        ("permanent", "possible_spam"): 2,
        ("permanent", "other"): 2,
    }
)

FIRST = "Anna Ben Chen Daria Emil Fatima Georg Hana Ivan Jia Karl Lena Mateo Nora Omar Priya"
LAST = (
    "Adler Baker Cohen Diaz Evans Fischer Garcia Huang Ito Jensen Kim Lopez Meyer Nowak Olsen "
    "Patel Quinn Rossi Schmidt Tanaka Unger Vogel Wang Xu Yilmaz Zhang Bauer Castro Dubois Eriksen"
)


# Search cases of `list`: a full name in both orders, one name, a company, an address, a typo.
SEARCHES = ("Hana Tanaka", "tanaka hana", "Priya", "Company 4711", "user123456@", "zzqx")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bouncecrm.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    django.setup()


def seed(contacts: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    from records.models import Contact

    if connection.vendor != "postgresql":
        sys.exit("the benchmark needs PostgreSQL (set DATABASE_URL)")
    call_command("migrate", verbosity=0)
    sales, _ = User.objects.get_or_create(username="bench-sales")
    sales.groups.add(Group.objects.get(name="Sales staff"))
    owners = [User.objects.get_or_create(username=f"bench-owner-{n}")[0].pk for n in range(1, 21)]
    existing = Contact.objects.count()
    if existing == contacts:
        print(f"reusing {existing} contacts")
        return
    started = time.perf_counter()
    firsts = "{" + ",".join(FIRST.split()) + "}"
    lasts = "{" + ",".join(LAST.split()) + "}"
    owner_array = "{" + ",".join(str(pk) for pk in owners) + "}"
    buckets = []
    low = 0
    for type_, slug, weight in CATEGORY_WEIGHTS:
        buckets.append(f"({low}, {low + weight}, '{type_}', '{slug}')")
        low += weight
    total = low  # 100, unless a new category was added with weight 1
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE bounces_unblock, bounces_block, records_contact CASCADE")
        cursor.execute(
            """
            INSERT INTO records_contact (first_name, last_name, company, phone, owner_id, email,
                backup_email, last_emailed_at, created_at, updated_at)
            SELECT (%s::text[])[1 + i %% 16],
                   (%s::text[])[1 + (i / 16) %% 30] || CASE WHEN i %% 7 = 0 THEN '-' || (i %% 97)
                                                      ELSE '' END,
                   'Company ' || (i %% 5000),
                   '',
                   (%s::bigint[])[1 + i %% 20],
                   CASE WHEN i %% 20 = 0 THEN 'User' ELSE 'user' END || i || '@example'
                       || (i %% 997) || '.com',
                   CASE WHEN i %% 3 = 0 THEN 'alt' || i || '@mail' || (i %% 301) || '.net'
                        ELSE '' END,
                   CASE WHEN i %% 10 = 1 THEN NULL
                        ELSE now() - (i %% 730) * interval '1 day' END,
                   now(), now()
            FROM generate_series(1, %s) AS i
            """,
            [firsts, lasts, owner_array, contacts],
        )
        values = ", ".join(buckets)
        for column, modulo in (("email_key", 10), ("backup_email_key", 45)):
            cursor.execute(
                f"""
                WITH buckets(low, high, type, category) AS (VALUES {values})
                INSERT INTO bounces_block (address, type, category, status, reply_code,
                    diagnostic, explanation, first_bounce_at, last_bounce_at, bounce_count,
                    review_due_at, created_at)
                SELECT c.{column}, b.type, b.category,
                       CASE WHEN b.type = 'temporary' THEN '4.2.2' ELSE '5.1.1' END,
                       CASE WHEN b.type = 'temporary' THEN '452' ELSE '550' END,
                       '', '', now() - interval '20 days', now() - (c.id %% 19) * interval '1 day',
                       1, now() + interval '160 days', now()
                FROM records_contact c
                JOIN buckets b ON abs(hashtext(c.{column})) %% {total} >= b.low
                              AND abs(hashtext(c.{column})) %% {total} < b.high
                WHERE c.{column} <> '' AND c.id %% {modulo} = 0
                ON CONFLICT DO NOTHING
                """,  # noqa: S608 - constants only
                [],
            )
        for column, key in (
            ("email_block", "email_key"),
            ("backup_email_block", "backup_email_key"),
        ):
            # The records' copy of their block state (the services keep it in sync), in one join.
            cursor.execute(
                f"""
                UPDATE records_contact c SET {column} = b.type || ':' || b.category
                FROM bounces_block b WHERE b.address = c.{key} AND b.lifted_at IS NULL
                """  # noqa: S608 - constants only
            )
        # The ORM's save path fills the search text (records.search); raw SQL fills it here.
        cursor.execute(
            """
            UPDATE records_contact SET search_text = lower(concat_ws(' ', first_name,
                last_name, company, email, NULLIF(backup_email, '')))
            """
        )
        cursor.execute("VACUUM ANALYZE records_contact")
        cursor.execute("VACUUM ANALYZE bounces_block")
    print(
        f"seeded {Contact.objects.count()} contacts and "
        f"{Block_count()} active blocks in {time.perf_counter() - started:.1f} s"
    )


def Block_count() -> int:  # noqa: N802 - reads like the model it counts
    from bounces.models import Block

    return Block.objects.active().count()


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def bench_list(requests: int, category: str, field: str) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username="bench-sales"))
    url = reverse("records:contact-list")
    print(
        f"{os.getloadavg()[0]:.1f} load; {Block_count()} active blocks; "
        f"filter category={category} field={field}"
    )
    cases: list[dict[str, str | int]] = [
        {"category": category, "field": field, "page": page, "per_page": per_page}
        for page, per_page in ((1, 25), (500, 25), (1, 100), (125, 100))
    ]
    # The search box: a full name (two words, any order), a rare and a common word, an address.
    cases += [{"q": q, "page": 1, "per_page": 25} for q in SEARCHES]
    for params in cases:
        response = client.get(url, params)  # warm-up (plan cache, session)
        assert response.status_code == 200, response.status_code
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        # A request resets connection.queries, so count through an execute wrapper instead.
        with connection.execute_wrapper(count):
            client.get(url, params)
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url, params)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        label = (
            f"q={params['q']!r}"
            if "q" in params
            else f"page {params['page']:>3} × {params['per_page']:>3}"
        )
        print(
            f"{label:<24}: p50 {statistics.median(timings):6.1f} ms  "
            f"p95 {_percentile(timings, 95):6.1f} ms  queries {len(queries)}"
        )
    print(f"peak RSS of the process: {_peak_rss_mb():.0f} MB")


def _peak_rss_mb() -> float:
    """Return the process' peak resident memory (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_bulk(category: str, limit: int | None) -> None:
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from bounces.services.bulk import records_bulk_unblock
    from records.filters import ContactFilter
    from records.models import Contact

    actor = User.objects.get(username="bench-sales")
    queryset = ContactFilter({"category": category, "field": "either"}).qs
    if limit is not None:  # the first `limit` records of the list, as a filter still
        queryset = queryset.filter(pk__in=queryset.values("pk")[:limit])
    records = queryset.count()
    queries: list[str] = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    load = os.getloadavg()[0]
    with transaction.atomic(), connection.execute_wrapper(count):
        started = time.perf_counter()
        result = records_bulk_unblock(
            queryset=queryset, fields="both", actor=actor, confirmed=True, source="bulk"
        )
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    print(
        f"{load:.1f} load; bulk unblock of {records} {Contact._meta.verbose_name_plural} "
        f"({category}): {result.unblocked} unblocked, {result.skipped_permanent} permanent, "
        f"{result.not_blocked} not blocked, in {elapsed:.2f} s, {len(queries)} queries "
        f"(rolled back); peak RSS {_peak_rss_mb():.0f} MB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_seed = sub.add_parser("seed", help="migrate and seed synthetic contacts and blocks")
    p_seed.add_argument("--contacts", type=int, default=1_000_000)
    p_list = sub.add_parser("list", help="time the contact list filtered by a category")
    p_list.add_argument("--requests", type=int, default=50)
    p_list.add_argument("--category", default="temporary:mailbox_full")
    p_list.add_argument("--field", default="either", choices=["either", "primary", "backup"])
    p_bulk = sub.add_parser("bulk", help="time a bulk unblock of ~10,000 records (rolled back)")
    p_bulk.add_argument("--category", default="temporary:auto_reply")
    p_bulk.add_argument("--records", type=int, help="only the first N records of the category")
    args = parser.parse_args(argv)
    _setup()
    if args.command == "seed":
        seed(args.contacts)
    elif args.command == "list":
        bench_list(args.requests, args.category, args.field)
    else:
        bench_bulk(args.category, args.records)


if __name__ == "__main__":
    main()
