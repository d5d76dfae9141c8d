"""Keep the report's daily roll-ups up to date, incrementally or by rebuilding them.

- `add_bounces(bounces)`: call it in the same transaction that inserted the bounces (after they
  have primary keys), once per bounce. One upsert statement per table and batch.
- `add_sent(sent_emails)`: the same for sent emails, from the code that records them.
- `rebuild(start=None, end=None)`: recompute the days in [start, end] (inclusive, all days when
  omitted) from the raw rows, set-based (`INSERT … SELECT … GROUP BY`), then the months
  touching them from the daily rows.
- `close_months()`: materialise the top recipient domains of closed months that lack them
  (daily task; closed months are final, a late bounce for one drops its materialised rows).

Each daily table has a monthly twin (the same dimensions, `month` = the month's first day) kept
by the same upserts, so a long period reads whole months and only its edge days.

Only blocking bounces (a type is set) are counted: a success DSN or an unparsed message blocks
nothing and is not a bounce in the report. Days are calendar days in settings.TIME_ZONE.

A sent email counts as bounced once, with the type, category and channel of its first blocking
bounce (lowest id). Bounces fed in the order they were recorded give exactly what `rebuild`
gives; if two ingestion transactions commit out of order, a later `rebuild` of those days
settles it (`manage.py rebuild_report_rollups --since DATE`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from django.db import DEFAULT_DB_ALIAS, connection, models, transaction
from django.db.models import Case, Count, F, Min, Q, Sum, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import (
    Coalesce,
    Length,
    Lower,
    Reverse,
    StrIndex,
    Substr,
    TruncDate,
    TruncMonth,
)
from django.utils import timezone

from bounces.models import Bounce, SentEmail
from core.addresses import address_domain

from .models import (
    BOUNCE_DIMENSIONS,
    DOMAIN_DIMENSIONS,
    MONTH_SENT_DIMENSIONS,
    SENT_DIMENSIONS,
    ClosedMonthTopDomain,
    DailyBounceRollup,
    DailyDomainRollup,
    DailySentRollup,
    MonthlyBounceRollup,
    MonthlyDomainRollup,
    MonthlySentRollup,
)

__all__ = ["add_bounces", "add_sent", "close_months", "rebuild"]

SUPPRESSED = SentEmail.Status.SUPPRESSED
# Rows that never reached a mail server (queued, retrying, failed, suppressed) are not "sent".
UNSENT = SentEmail.UNSENT
_BATCH_ROWS = 300  # rows per INSERT … VALUES statement (well under SQLite's variable limit)


# --- the two definitions every path shares (Python here, SQL below) -------------------------
def local_day(value: dt.datetime) -> dt.date:
    """Return the calendar day of `value` in the site's time zone."""
    return value.astimezone(timezone.get_default_timezone()).date()


def domain_sql(field: str) -> Case:
    """SQL mirror of `core.addresses.address_domain` (after the last "@") for an address column."""
    # The last "@" is the first of the reversed text: the domain starts that far from the end.
    start = Length(F(field)) - StrIndex(Reverse(F(field)), Value("@")) + 2
    return Case(
        When(Q(**{f"{field}__contains": "@"}), then=Lower(Substr(F(field), start))),
        default=Value(""),
        output_field=models.CharField(),
    )


def day_sql(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_default_timezone())


# --- incremental ---------------------------------------------------------------------------
def add_bounces(bounces: Sequence[Bounce]) -> None:
    """Add freshly recorded bounces to the roll-ups (two small reads, three upserts)."""
    bounces = [b for b in bounces if b.type]
    if not bounces:
        return
    unsaved = {b.dedupe_key: b for b in bounces if b.pk is None}
    if unsaved:  # e.g. bulk_create on a database that cannot return ids: find them
        ids = Bounce.objects.filter(dedupe_key__in=list(unsaved)).values_list("dedupe_key", "id")
        for key, pk in ids:
            unsaved[key].pk = pk
    sent_ids = {b.sent_email_id for b in bounces if b.sent_email_id}
    sent: dict[int, SentEmail] = {}
    first_bounce: dict[int, int] = {}
    if sent_ids:
        sent = {
            s.pk: s
            for s in SentEmail.objects.filter(pk__in=sent_ids).only(
                "id", "from_address", "mailing_id", "sent_at", "status"
            )
        }
        first_bounce = dict(
            Bounce.objects.filter(sent_email_id__in=sent_ids)
            .exclude(type="")
            .order_by()
            .values("sent_email_id")
            .annotate(first=Min("id"))
            .values_list("sent_email_id", "first")
        )

    by_bounce: Counter[tuple] = Counter()
    by_domain: Counter[tuple] = Counter()
    by_sent: Counter[tuple] = Counter()
    for b in bounces:
        day = local_day(b.received_at)
        s = sent.get(b.sent_email_id) if b.sent_email_id else None
        if s is not None:
            sender_address, sender_domain = s.from_address.lower(), address_domain(s.from_address)
            mailing_id = s.mailing_id or 0
        else:
            sender_address, sender_domain, mailing_id = "", (b.sender_domain or "").lower(), 0
        by_bounce[
            (day, b.type, b.category, b.channel, sender_address, sender_domain, mailing_id)
        ] += 1
        by_domain[(day, (b.recipient_domain or "").lower(), b.type, b.category)] += 1
        if s is not None and s.status != SUPPRESSED and first_bounce.get(s.pk) == b.pk:
            sent_key = (local_day(s.sent_at), sender_address, sender_domain, mailing_id)
            by_sent[(*sent_key, b.type, b.category, b.channel)] += 1

    counters = ("sent", "bounced")
    for daily, monthly, dimensions, rows, names in (
        (DailyBounceRollup, MonthlyBounceRollup, BOUNCE_DIMENSIONS, by_bounce, ("count",)),
        (DailyDomainRollup, MonthlyDomainRollup, DOMAIN_DIMENSIONS, by_domain, ("count",)),
        (DailySentRollup, MonthlySentRollup, SENT_DIMENSIONS, by_sent, counters),
    ):
        values = {k: (0, n) if names == counters else (n,) for k, n in rows.items()}
        _upsert(daily, dimensions, values, counters=names)
        _upsert(monthly, ("month", *dimensions[1:]), _by_month(values), counters=names)
    _reopen_months({key[0] for key in by_domain})


def _by_month(rows: Mapping[tuple, tuple[int, ...]]) -> dict[tuple, tuple[int, ...]]:
    """Sum per-day rows (the day first in each key) into their months' rows."""
    months: dict[tuple, tuple[int, ...]] = {}
    for (day, *rest), values in rows.items():
        key = (day.replace(day=1), *rest)
        total = months.get(key, (0,) * len(values))
        months[key] = tuple(a + b for a, b in zip(total, values, strict=True))
    return months


def _reopen_months(days: Iterable[dt.date]) -> None:
    """Drop the materialised top domains of closed months that just got a (late) bounce."""
    this_month = timezone.localdate(timezone=timezone.get_default_timezone()).replace(day=1)
    closed = {day.replace(day=1) for day in days} - {this_month}
    closed = {month for month in closed if month < this_month}
    if closed:
        ClosedMonthTopDomain.objects.filter(month__in=closed).delete()


def add_sent(sent_emails: Iterable[SentEmail]) -> None:
    """Add freshly recorded sent emails to the roll-up (suppressed ones were never sent)."""
    counts: Counter[tuple] = Counter()
    for s in sent_emails:
        if s.status == SUPPRESSED:
            continue
        key = (local_day(s.sent_at), s.from_address.lower(), address_domain(s.from_address))
        counts[(*key, s.mailing_id or 0, "", "", "")] += 1
    rows = {k: (n, 0) for k, n in counts.items()}
    _upsert(DailySentRollup, SENT_DIMENSIONS, rows, counters=("sent", "bounced"))
    _upsert(MonthlySentRollup, MONTH_SENT_DIMENSIONS, _by_month(rows), counters=("sent", "bounced"))


def _upsert(
    model: type[models.Model],
    dimensions: Sequence[str],
    rows: Mapping[tuple, tuple[int, ...]],
    counters: Sequence[str] = ("count",),
) -> None:
    """INSERT … ON CONFLICT (dims) DO UPDATE SET c = c + excluded.c (PostgreSQL and SQLite)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = [*dimensions, *counters]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(f"{qn(c)} = {table}.{qn(c)} + excluded.{qn(c)}" for c in counters)
    head = f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}) VALUES "  # noqa: S608
    tail = f" ON CONFLICT ({', '.join(qn(d) for d in dimensions)}) DO UPDATE SET {updates}"
    adapt = connection.ops.adapt_datefield_value
    items = sorted(rows.items())  # a stable order, so concurrent upserts lock rows alike
    with connection.cursor() as cursor:
        for start in range(0, len(items), _BATCH_ROWS):
            chunk = items[start : start + _BATCH_ROWS]
            params: list = []
            for key, values in chunk:
                params.extend([adapt(key[0]), *key[1:], *values])
            cursor.execute(head + ", ".join([placeholders] * len(chunk)) + tail, params)


# --- rebuild -------------------------------------------------------------------------------
def _next_month(day: dt.date) -> dt.date:
    """Return the first day of the month after `day`'s."""
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _day_bounds(
    start: dt.date | None, end: dt.date | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    tz = timezone.get_default_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz) if start else None
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz) if end else None
    return lo, hi


def _in_range(field: str, lo: dt.datetime | None, hi: dt.datetime | None) -> Q:
    q = Q()
    if lo:
        q &= Q(**{f"{field}__gte": lo})
    if hi:
        q &= Q(**{f"{field}__lt": hi})
    return q


def _insert_select(model: type[models.Model], columns: Sequence[str], queryset) -> int:
    """Run INSERT INTO model(columns) SELECT r_<column>… FROM (queryset) (set-based).

    The queryset names each output column `r_<column>`: the roll-up's column names would clash
    with fields of the raw models (Bounce.sender_domain, SentEmail.mailing_id).
    """
    qn = connection.ops.quote_name
    sql, params = queryset.query.sql_with_params()
    select = ", ".join(f"sub.{qn('r_' + c)}" for c in columns)
    statement = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "  # noqa: S608
        # In time order, as the incremental upserts would have written them: a period's rows
        # then sit on few pages (a 12-month read of a shuffled table touched 9k pages a day).
        f"SELECT {select} FROM ({sql}) sub ORDER BY sub.{qn('r_' + columns[0])}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return max(cursor.rowcount, 0)


def _bounce_dimensions() -> dict[str, Combinable]:
    """The bounce roll-up's dimensions of a Bounce row, as expressions named r_<column>."""
    return {
        "r_type": F("type"),
        "r_category": F("category"),
        "r_channel": F("channel"),
        "r_sender_address": Coalesce(
            Lower("sent_email__from_address"), Value(""), output_field=models.CharField()
        ),
        "r_sender_domain": Case(
            When(sent_email__isnull=False, then=domain_sql("sent_email__from_address")),
            default=Lower("sender_domain"),
            output_field=models.CharField(),
        ),
        "r_mailing_id": Coalesce(
            "sent_email__mailing_id", Value(0), output_field=models.BigIntegerField()
        ),
    }


def _sent_dimensions(prefix: str = "") -> dict[str, models.Expression]:
    """The sent roll-up's sender dimensions of a SentEmail row (or of `prefix` from a Bounce)."""
    return {
        "r_day": day_sql(f"{prefix}sent_at"),
        "r_sender_address": Lower(f"{prefix}from_address"),
        "r_sender_domain": domain_sql(f"{prefix}from_address"),
        "r_mailing_id": Coalesce(
            f"{prefix}mailing_id", Value(0), output_field=models.BigIntegerField()
        ),
    }


def rebuild(start: dt.date | None = None, end: dt.date | None = None) -> dict[str, int]:
    """Recompute the roll-ups for the days in [start, end] from the raw rows.

    Bounce and domain roll-ups cover bounces received on those days; the sent roll-up covers
    emails sent on those days (with their bounces, whenever those came). Returns the number of
    roll-up rows written per table.
    """
    lo, hi = _day_bounds(start, end)
    days = Q()
    if start:
        days &= Q(day__gte=start)
    if end:
        days &= Q(day__lte=end)

    bounces = Bounce.objects.exclude(type="").filter(_in_range("received_at", lo, hi)).order_by()
    by_bounce = bounces.values(r_day=day_sql("received_at"), **_bounce_dimensions()).annotate(
        r_count=Count("id")
    )
    by_domain = bounces.values(
        r_day=day_sql("received_at"),
        r_recipient_domain=Lower("recipient_domain"),
        r_type=F("type"),
        r_category=F("category"),
    ).annotate(r_count=Count("id"))

    sent = (
        SentEmail.objects.exclude(status__in=UNSENT)
        .filter(_in_range("sent_at", lo, hi))
        .order_by()
        .values(**_sent_dimensions())
        .annotate(
            r_type=Value(""),
            r_category=Value(""),
            r_channel=Value(""),
            r_sent=Count("id"),
            r_bounced=Value(0),
        )
    )
    # Each sent email's first blocking bounce carries its "bounced" count.
    first_ids = (
        Bounce.objects.exclude(type="")
        .filter(sent_email__isnull=False)
        .order_by()
        .values("sent_email_id")
        .annotate(first=Min("id"))
        .values("first")
    )
    bounced = (
        Bounce.objects.filter(id__in=first_ids)
        .exclude(sent_email__status=SUPPRESSED)
        .filter(_in_range("sent_email__sent_at", lo, hi))
        .order_by()
        .values(
            **_sent_dimensions("sent_email__"),
            r_type=F("type"),
            r_category=F("category"),
            r_channel=F("channel"),
        )
        .annotate(r_sent=Value(0), r_bounced=Count("id"))
    )

    written: dict[str, int] = {}
    with transaction.atomic():
        for model in (DailyBounceRollup, DailyDomainRollup, DailySentRollup):
            model.objects.filter(days).delete()
        written["bounce"] = _insert_select(
            DailyBounceRollup, [*BOUNCE_DIMENSIONS, "count"], by_bounce
        )
        written["domain"] = _insert_select(
            DailyDomainRollup, [*DOMAIN_DIMENSIONS, "count"], by_domain
        )
        written["sent"] = _insert_select(
            DailySentRollup, [*SENT_DIMENSIONS, "sent", "bounced"], sent
        ) + _insert_select(DailySentRollup, [*SENT_DIMENSIONS, "sent", "bounced"], bounced)

        # Whole months touching [start, end], from the (now complete) daily rows.
        first = start.replace(day=1) if start else None
        last = end.replace(day=1) if end else None
        for name, daily, monthly, dimensions, counters in (
            ("month_bounce", DailyBounceRollup, MonthlyBounceRollup, BOUNCE_DIMENSIONS, ("count",)),
            ("month", DailyDomainRollup, MonthlyDomainRollup, DOMAIN_DIMENSIONS, ("count",)),
            (
                "month_sent",
                DailySentRollup,
                MonthlySentRollup,
                SENT_DIMENSIONS,
                ("sent", "bounced"),
            ),
        ):
            monthly.objects.filter(_month_range(first, last)).delete()
            rows = daily.objects.order_by()
            if first:
                rows = rows.filter(day__gte=first)
            if last:
                rows = rows.filter(day__lt=_next_month(last))
            written[name] = _insert_select(
                monthly,
                ["month", *dimensions[1:], *counters],
                rows.values(
                    r_month=TruncMonth("day"), **{f"r_{d}": F(d) for d in dimensions[1:]}
                ).annotate(**{f"r_{c}": Sum(c) for c in counters}),
            )
        written["top_domains"] = close_months(first, last, rebuild=True)
    return written


# --- closed months ---------------------------------------------------------------------------
TOP_DOMAINS_KEPT = 200  # per month and filter: far more than the report's 10, so the top is exact


def _month_range(first: dt.date | None, last: dt.date | None) -> Q:
    q = Q()
    if first:
        q &= Q(month__gte=first)
    if last:
        q &= Q(month__lte=last)
    return q


def close_months(
    first: dt.date | None = None, last: dt.date | None = None, *, rebuild: bool = False
) -> int:
    """Materialise the top recipient domains of closed months; return the rows written.

    Reads the main database (never the report's replica): it writes from what it reads.
    `rebuild`: (re)build every closed month in [first, last] (month starts; all when omitted).
    Otherwise only the closed months that have domain roll-ups but no materialised rows yet
    (the daily task).
    One INSERT … SELECT ranks each month's domains per filter group with a window function.
    """
    this_month = timezone.localdate(timezone=timezone.get_default_timezone()).replace(day=1)
    with transaction.atomic():
        if rebuild:
            ClosedMonthTopDomain.objects.filter(_month_range(first, last)).delete()
            found = (
                MonthlyDomainRollup.objects.using(DEFAULT_DB_ALIAS)
                .filter(_month_range(first, last), month__lt=this_month)
                .values_list("month", flat=True)
                .distinct()
            )
        else:
            done = ClosedMonthTopDomain.objects.filter(rank=0).values("month")
            found = (
                MonthlyDomainRollup.objects.using(DEFAULT_DB_ALIAS)
                .filter(month__lt=this_month)
                .exclude(month__in=done)
                .values_list("month", flat=True)
                .distinct()
            )
        months = sorted({_as_date(m) for m in found})
        if not months:
            return 0
        qn = connection.ops.quote_name
        source = qn(MonthlyDomainRollup._meta.db_table)
        target = qn(ClosedMonthTopDomain._meta.db_table)
        marks = ", ".join(["%s"] * len(months))
        where = f"month IN ({marks})"
        # Groups: each category, each type, all bounces. Ranks past the kept ones fold into
        # the remainder row (rank 0, domain ""), which every group has, even when empty.
        statement = f"""
            INSERT INTO {target} (month, type, category, rank, recipient_domain, count)
            SELECT month, type, category,
                   CASE WHEN rn <= {TOP_DOMAINS_KEPT:d} THEN rn ELSE 0 END,
                   CASE WHEN rn <= {TOP_DOMAINS_KEPT:d} THEN recipient_domain ELSE '' END,
                   SUM(n)
            FROM (
                SELECT month, type, category, recipient_domain, n, ROW_NUMBER() OVER (
                    PARTITION BY month, type, category ORDER BY n DESC, recipient_domain
                ) AS rn
                FROM (
                    SELECT month, type, category, recipient_domain, count AS n
                    FROM {source} WHERE {where}
                    UNION ALL
                    SELECT month, type, '', recipient_domain, SUM(count)
                    FROM {source} WHERE {where} GROUP BY month, type, recipient_domain
                    UNION ALL
                    SELECT month, '', '', recipient_domain, SUM(count)
                    FROM {source} WHERE {where} GROUP BY month, recipient_domain
                ) AS grouped
                UNION ALL
                SELECT DISTINCT month, type, category, '', 0, {TOP_DOMAINS_KEPT + 1:d}
                FROM {source} WHERE {where}
                UNION ALL
                SELECT DISTINCT month, type, '', '', 0, {TOP_DOMAINS_KEPT + 1:d}
                FROM {source} WHERE {where}
                UNION ALL
                SELECT DISTINCT month, '', '', '', 0, {TOP_DOMAINS_KEPT + 1:d}
                FROM {source} WHERE {where}
            ) AS ranked
            GROUP BY month, type, category, 4, 5
        """  # noqa: S608 - table names and constants only
        adapt = connection.ops.adapt_datefield_value
        params = [adapt(m) for m in months] * 6
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return max(cursor.rowcount, 0)


def _as_date(value) -> dt.date:
    # SQLite returns dates from DISTINCT/values_list as dates, raw SQL as text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
