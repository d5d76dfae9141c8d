"""The bounce report's reads: one selector computing every figure, from roll-ups or raw rows.

Definitions (the same on both paths, checked by tests/reports/test_report_numbers.py):
- *Sent*: sent emails (not suppressed) sent in the period. The period, sender, mailing and
  recipient-domain filters narrow it; type, category and channel do not (they describe bounces).
- *Bounced*: those sent emails whose first blocking bounce matches the type/category/channel
  filters; *bounce rate* = bounced / sent (per cohort of sending day).
- *Bounces*: blocking bounces received in the period (correlated to a sent email or not).
- *Blocked now*: active blocks; *unblocked*: blocks lifted in the period.

Which rows answer (each section on its own, shown on the page):
- bounce counts (totals, timeline, categories): the bounce roll-ups unless a recipient-domain
  filter is set; with it and no channel/sender/mailing filter, `DailyDomainRollup`; else raw;
- top recipient domains: closed months' `ClosedMonthTopDomain` lists when they prove the top,
  open and unmaterialised months summed from the domain roll-ups (else those alone), unless a
  channel/sender/mailing filter is set;
- sent and bounced (rate, timeline, per mailing): the sent roll-ups unless a recipient-domain
  filter is set (sent emails are not rolled up per recipient domain: that tail is unbounded).
A period bucketed by month reads the monthly tables for its whole months and the daily ones
only at its edges (`_grain_parts`); shorter periods read the daily tables.
Blocks and unblocks are always counted live (indexed counts).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone

from bounces.categories import BlockCategory, BlockType
from bounces.models import Block, Bounce, Mailing, SentEmail, Unblock
from core.rates import bounce_rate, is_above_threshold

from .models import (
    ClosedMonthTopDomain,
    DailyBounceRollup,
    DailyDomainRollup,
    DailySentRollup,
    MonthlyBounceRollup,
    MonthlyDomainRollup,
    MonthlySentRollup,
)
from .rates import RateRow, mailings_over_threshold, senders_over_threshold, threshold
from .rollups import _day_bounds, _next_month, day_sql
from .routers import read_alias

TOP_DOMAINS = 10
MAX_MAILINGS = 200
# The timeline buckets by day up to two months, by week up to ~6 months, else by month.
DAYS_BUCKETED_BY_DAY = 62
DAYS_BUCKETED_BY_WEEK = 190
ONE_DAY = dt.timedelta(days=1)

ROLLUP = "rollup"
RAW = "raw"


@dataclass(frozen=True)
class ReportFilters:
    """What the report is narrowed to. `end` is inclusive; empty strings mean "any"."""

    start: dt.date
    end: dt.date
    type: str = ""  # "temporary" / "permanent"
    category: str = ""  # "type:slug"
    channel: str = ""
    sender: str = ""  # an address (has "@") or a domain, lower-cased
    mailing: int | None = None
    recipient_domain: str = ""  # lower-cased

    @property
    def sender_address(self) -> str:
        return self.sender if "@" in self.sender else ""

    @property
    def sender_domain(self) -> str:
        return "" if "@" in self.sender else self.sender

    @property
    def category_pair(self) -> tuple[str, str]:
        type_, _sep, slug = self.category.partition(":")
        return type_, slug

    @property
    def has_origin_filter(self) -> bool:
        """A channel, sender or mailing filter: facts the domain roll-up does not keep."""
        return bool(self.channel or self.sender or self.mailing)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        lo, hi = _day_bounds(self.start, self.end)
        assert lo is not None and hi is not None  # both days are always set
        return lo, hi


@dataclass(frozen=True)
class Point:
    """One bucket of the timeline (a day, a week or a month)."""

    start: dt.date
    end: dt.date  # inclusive
    label: str
    sent: int
    bounced: int
    bounces: int

    @property
    def rate(self) -> Decimal:
        return bounce_rate(self.bounced, self.sent)


@dataclass(frozen=True)
class CategoryRow:
    type: str
    slug: str
    name: str
    count: int

    @property
    def key(self) -> str:
        return f"{self.type}:{self.slug}"


@dataclass(frozen=True)
class DomainRow:
    domain: str
    count: int


@dataclass(frozen=True)
class MailingRow:
    id: int
    name: str
    sent: int
    bounced: int
    over: bool

    @property
    def rate(self) -> Decimal:
        return bounce_rate(self.bounced, self.sent)


@dataclass
class BounceReport:
    filters: ReportFilters
    threshold: Decimal
    sent: int = 0
    bounced: int = 0
    bounces: int = 0
    blocked_now: int = 0
    unblocked: int = 0
    granularity: str = "day"
    timeline: list[Point] = field(default_factory=list)
    categories: dict[str, list[CategoryRow]] = field(default_factory=dict)
    domains: list[DomainRow] = field(default_factory=list)
    mailings: list[MailingRow] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def rate(self) -> Decimal:
        return bounce_rate(self.bounced, self.sent)

    @property
    def over_threshold(self) -> bool:
        return is_above_threshold(self.bounced, self.sent, self.threshold)

    @property
    def from_rollups(self) -> bool:
        return all(source == ROLLUP for source in self.sources.values())


# --- the selector ------------------------------------------------------------------------------
def bounce_report(*, filters: ReportFilters, force: str | None = None) -> BounceReport:
    """Return every figure of the bounce report; `force="raw"` ignores the roll-ups.

    A constant number of queries whatever the data: 7 (one more when closed months' top lists
    cannot prove the top domains; plus the policy row when it is new).
    """
    report = BounceReport(filters=filters, threshold=threshold())
    f = filters
    raw = force == RAW

    # Bounce counts per (day, type, category).
    day_rows: Iterable[dict[str, Any]]
    if raw or (f.recipient_domain and f.has_origin_filter):
        report.sources["bounces"] = RAW
        day_rows = (
            raw_bounces(f)
            .values("type", "category", day=day_sql("received_at"))
            .annotate(n=Count("id"))
        )
    elif f.recipient_domain:
        report.sources["bounces"] = ROLLUP
        day_rows = _domain_rollup(f).values("day", "type", "category").annotate(n=Sum("count"))
    else:
        report.sources["bounces"] = ROLLUP
        day_rows = _read_grains(
            _grain_parts(f),
            (DailyBounceRollup, MonthlyBounceRollup),
            _bounce_rollup_q(f),
            dimensions=("type", "category"),
            measures={"n": F("count")},
        )
    bounces_by_day: dict[dt.date, int] = defaultdict(int)
    by_category: dict[tuple[str, str], int] = defaultdict(int)
    for row in day_rows:
        day = _as_date(row["day"])
        bounces_by_day[day] += row["n"]
        by_category[(row["type"], row["category"])] += row["n"]

    # Top recipient domains.
    domain_rows: Iterable[dict[str, Any]]
    if raw or f.has_origin_filter:
        report.sources["domains"] = RAW
        domain_rows = (
            raw_bounces(f)
            .values(domain=Lower("recipient_domain"))
            .annotate(n=Count("id"))
            .order_by("-n", "domain")[:TOP_DOMAINS]
        )
    else:
        report.sources["domains"] = ROLLUP
        domain_rows = _top_domains_from_rollups(f)
    report.domains = [DomainRow(domain=r["domain"], count=r["n"]) for r in domain_rows]

    # Sent and bounced per (day sent, mailing).
    sent_rows: Iterable[dict[str, Any]]
    if raw or f.recipient_domain:
        report.sources["sent"] = RAW
        sent_rows = (
            raw_sent(f)
            .values("mailing_id", day=day_sql("sent_at"))
            .annotate(sent=Count("id"), bounced=Count("id", filter=_first_bounce_matches(f)))
        )
    else:
        report.sources["sent"] = ROLLUP
        sent_rows = _read_grains(
            _grain_parts(f),
            (DailySentRollup, MonthlySentRollup),
            _sender_mailing_q(f),
            dimensions=("mailing_id",),
            measures={
                "sent": F("sent"),
                "bounced": Case(
                    When(_rollup_bounced_q(f), then=F("bounced")),
                    default=Value(0),
                    output_field=models.BigIntegerField(),
                ),
            },
        )
    sent_by_day: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    by_mailing: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in sent_rows:
        sent, bounced = row["sent"] or 0, row["bounced"] or 0
        day_totals = sent_by_day[_as_date(row["day"])]
        day_totals[0] += sent
        day_totals[1] += bounced
        if row["mailing_id"]:
            by_mailing[row["mailing_id"]][0] += sent
            by_mailing[row["mailing_id"]][1] += bounced

    report.bounces = sum(bounces_by_day.values())
    report.sent = sum(v[0] for v in sent_by_day.values())
    report.bounced = sum(v[1] for v in sent_by_day.values())
    report.granularity, report.timeline = _timeline(f, bounces_by_day, sent_by_day)
    report.categories = _categories(by_category)
    # Whole months less their days outside the period can net a mailing to nothing.
    report.mailings = _mailings(
        {m: v for m, v in by_mailing.items() if v != [0, 0]}, report.threshold
    )
    report.blocked_now = blocks_now(f).count()
    report.unblocked = unblocks_in_period(f).count()
    return report


def _connection(model: type[models.Model]) -> BaseDatabaseWrapper:
    """The connection the report reads `model` from (a replica when the router says so)."""
    return connections[router.db_for_read(model) or "default"]


def _prev_month(month: dt.date) -> dt.date:
    return (month - ONE_DAY).replace(day=1)


def _as_date(value) -> dt.date:
    # SQLite returns the truncated day as text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


# --- roll-up reads -------------------------------------------------------------------------
def _bounce_type_q(f: ReportFilters) -> Q:
    q = Q()
    if f.type:
        q &= Q(type=f.type)
    if f.category:
        type_, slug = f.category_pair
        q &= Q(type=type_, category=slug)
    return q


def _sender_mailing_q(f: ReportFilters) -> Q:
    """The sender and mailing filters, on the roll-up tables' shared column names."""
    q = Q()
    if f.sender_address:
        q &= Q(sender_address=f.sender_address)
    if f.sender_domain:
        q &= Q(sender_domain=f.sender_domain)
    if f.mailing:
        q &= Q(mailing_id=f.mailing)
    return q


def _bounce_rollup_q(f: ReportFilters) -> Q:
    """The bounce roll-ups' rows under `f`, any grain (no period)."""
    q = _bounce_type_q(f) & _sender_mailing_q(f)
    if f.channel:
        q &= Q(channel=f.channel)
    return q


@dataclass(frozen=True)
class GrainPart:
    """Rows of one grain in [first, last] (month starts for "month"), added with `sign`.

    `anchor`: the day their counts are put on (None: each row's own day or month). The
    timeline buckets by month when months are read, so any day of the bucket does.
    """

    grain: str  # "day" or "month"
    first: dt.date
    last: dt.date
    sign: int = 1
    anchor: dt.date | None = None


def _month_end(day: dt.date) -> dt.date:
    return _next_month(day) - dt.timedelta(days=1)


def _grain_parts(f: ReportFilters, *, by_day: bool | None = None) -> list[GrainPart]:
    """Cover [f.start, f.end] with as few roll-up rows as possible.

    Whole months come from the monthly tables; a partial month from its days, or from its month
    less the days outside the period when those are fewer (the current month less the days
    still to come, which have no rows yet). Periods bucketed by day or week (up to ~6 months)
    keep the daily rows: a month's total cannot be split into weeks.
    """
    if by_day is None:
        by_day = (f.end - f.start).days + 1 <= DAYS_BUCKETED_BY_WEEK
    if by_day:
        return [GrainPart("day", f.start, f.end)]
    parts: list[GrainPart] = []
    whole: list[dt.date] = []
    month = f.start.replace(day=1)
    while month <= f.end:
        last_day = _month_end(month)
        first, last = max(f.start, month), min(f.end, last_day)
        inside = (last - first).days + 1
        if first == month and last == last_day:
            whole.append(month)
        elif (last_day - month).days + 1 - inside < inside:
            parts.append(GrainPart("month", month, month, anchor=first))
            if first > month:
                parts.append(GrainPart("day", month, first - ONE_DAY, -1, first))
            if last < last_day:
                parts.append(GrainPart("day", last + ONE_DAY, last_day, -1, first))
        else:
            parts.append(GrainPart("day", first, last))
        month = _next_month(month)
    if whole:
        parts.insert(0, GrainPart("month", whole[0], whole[-1]))
    return parts


def _part_queryset(
    part: GrainPart,
    models_: tuple[type[models.Model], type[models.Model]],
    where: Q,
    dimensions: tuple[str, ...],
    measures: dict[str, Any],
) -> QuerySet:
    daily, monthly = models_
    column = part.grain
    model = daily if part.grain == "day" else monthly
    anchor = (
        F(column) if part.anchor is None else Value(part.anchor, output_field=models.DateField())
    )
    values: dict[str, Any] = {"r_day": anchor}
    values.update({f"r_{d}": F(d) for d in dimensions})
    for name, expression in measures.items():
        values[f"r_{name}"] = expression * Value(part.sign) if part.sign != 1 else expression
    return (
        model._default_manager.filter(
            where, **{f"{column}__gte": part.first, f"{column}__lte": part.last}
        )
        .order_by()
        .values(**values)
    )


def _read_grains(
    parts: list[GrainPart],
    models_: tuple[type[models.Model], type[models.Model]],
    where: Q,
    *,
    dimensions: tuple[str, ...],
    measures: dict[str, Any],
) -> list[dict[str, Any]]:
    """One statement: SUM(measures) per (day, dimensions) over the parts' rows (UNION ALL)."""
    sqls: list[str] = []
    params: list[Any] = []
    for part in parts:
        sql, part_params = _part_queryset(
            part, models_, where, dimensions, measures
        ).query.sql_with_params()
        sqls.append(sql)
        params.extend(part_params)
    keys = ["r_day", *(f"r_{d}" for d in dimensions)]
    group = ", ".join(f"u.{k}" for k in keys)
    sums = ", ".join(f"SUM(u.r_{m})" for m in measures)
    statement = f"SELECT {group}, {sums} FROM ({' UNION ALL '.join(sqls)}) u GROUP BY {group}"  # noqa: S608
    names = ["day", *dimensions, *measures]
    with _connection(models_[0]).cursor() as cursor:
        cursor.execute(statement, params)
        return [
            dict(
                zip(
                    names,
                    (*row[: len(keys)], *(int(n or 0) for n in row[len(keys) :])),
                    strict=True,
                )
            )
            for row in cursor.fetchall()
        ]


def _domain_rollup(f: ReportFilters) -> QuerySet:
    q = Q(day__gte=f.start, day__lte=f.end) & _bounce_type_q(f)
    if f.recipient_domain:
        q &= Q(recipient_domain=f.recipient_domain)
    return DailyDomainRollup.objects.filter(q)


def _top_domain_group(f: ReportFilters) -> tuple[str, str] | None:
    """The materialised group answering `f`'s top domains, None when none does."""
    if f.recipient_domain:
        return None
    if f.category:
        type_, slug = f.category_pair
        return (type_, slug) if not f.type or f.type == type_ else None
    return (f.type, "")


def _top_domains_from_rollups(f: ReportFilters) -> list[dict]:
    """Top recipient domains: closed months' materialised top lists, the rest summed exactly.

    Each closed month's group lists its biggest domains and a remainder; a domain missing from
    a month's list had at most that list's smallest count there (in part of the month too).
    A closed month only partly in the period counts its listed domains' days exactly (index
    probes per listed domain) and bounds the others the same way. The lists answer when that
    proves the top exact (every shown domain fully counted, nobody else able to reach the
    last); otherwise (a flat tail) the summed roll-ups do, one more statement. Open months and
    closed months not materialised yet are summed exactly.
    """
    group = _top_domain_group(f)
    this_month = timezone.localdate(timezone=timezone.get_default_timezone()).replace(day=1)
    if group is None or f.start >= this_month:
        return _top_domains_summed(f)
    closed_whole: list[dt.date] = []
    closed_partial: list[tuple[dt.date, dt.date, dt.date]] = []  # (month, first day, last day)
    month = f.start.replace(day=1)
    while month < this_month and month <= f.end:
        first, last = max(f.start, month), min(f.end, _month_end(month))
        if first == month and last == _month_end(month):
            closed_whole.append(month)
        else:
            closed_partial.append((month, first, last))
        month = _next_month(month)
    open_parts = (
        _grain_parts(ReportFilters(start=this_month, end=f.end), by_day=False)
        if f.end >= this_month
        else []
    )

    conn = _connection(ClosedMonthTopDomain)
    qn, adapt = conn.ops.quote_name, conn.ops.adapt_datefield_value
    top_table = qn(ClosedMonthTopDomain._meta.db_table)
    daily_table = qn(DailyDomainRollup._meta.db_table)
    closed = sorted([*closed_whole, *(m for m, _a, _b in closed_partial)])
    marker = "t.type = '' AND t.category = '' AND t.rank = 0"  # the month is materialised
    # 1. The lists (and remainders) of every closed month of the period.
    statement = (
        "SELECT 'L', month, rank, recipient_domain, count FROM "  # noqa: S608
        f"{top_table} WHERE type = %s AND category = %s AND month >= %s AND month <= %s"
    )
    params: list[Any] = [*group, adapt(closed[0]), adapt(closed[-1])]
    # 2. A partial closed month: its listed domains' counts on the period's days.
    type_sql, type_params = _where_sql(DailyDomainRollup, _bounce_type_q(f))
    for month, first, last in closed_partial:
        statement += (
            " UNION ALL SELECT 'P', NULL, NULL, d.recipient_domain, SUM(d.count) "  # noqa: S608
            f"FROM {daily_table} d WHERE {type_sql.replace(daily_table, 'd')} "
            "AND d.day >= %s AND d.day <= %s AND d.recipient_domain IN ("
            f"SELECT t.recipient_domain FROM {top_table} t WHERE t.type = %s "
            "AND t.category = %s AND t.month = %s AND t.rank > 0) GROUP BY d.recipient_domain"
        )
        params += [*type_params, adapt(first), adapt(last), *group, adapt(month)]
    # 3. Exact sums: open months, and closed months not materialised yet.
    summed: list[QuerySet] = []
    if closed_whole:
        months_sql = " UNION ALL ".join(["SELECT %s AS m"] * len(closed_whole))
        missing = RawSQL(  # noqa: S611 - table name and placeholders only
            # NOT EXISTS: one index probe per month (NOT IN re-scanned the table per row).
            f"SELECT w.m FROM ({months_sql}) w WHERE NOT EXISTS (SELECT 1 FROM {top_table} t "  # noqa: S608
            f"WHERE t.month = w.m AND {marker})",
            [adapt(m) for m in closed_whole],
        )
        summed.append(
            MonthlyDomainRollup.objects.filter(_bounce_type_q(f), month__in=missing)
            .order_by()
            .values(r_day=F("month"), r_recipient_domain=F("recipient_domain"), r_n=F("count"))
        )
    for month, first, last in closed_partial:
        materialised = ClosedMonthTopDomain.objects.filter(
            month=month, type="", category="", rank=0
        )
        summed.append(
            DailyDomainRollup.objects.filter(
                ~Exists(materialised), _bounce_type_q(f), day__gte=first, day__lte=last
            )
            .order_by()
            .values(r_day=F("day"), r_recipient_domain=F("recipient_domain"), r_n=F("count"))
        )
    summed += [
        _part_queryset(
            part,
            (DailyDomainRollup, MonthlyDomainRollup),
            _bounce_type_q(f),
            ("recipient_domain",),
            {"n": F("count")},
        )
        for part in open_parts
    ]
    if summed:
        sqls = []
        for queryset in summed:
            sql, part_params = queryset.query.sql_with_params()
            sqls.append(sql)
            params.extend(part_params)
        statement += (
            " UNION ALL SELECT 'X', NULL, NULL, u.r_recipient_domain, SUM(u.r_n) "  # noqa: S608
            f"FROM ({' UNION ALL '.join(sqls)}) u GROUP BY u.r_recipient_domain"
        )
    with conn.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    top = _exact_top(rows, {m for m, _a, _b in closed_partial})
    return _top_domains_summed(f) if top is None else top


def _where_sql(model: type[models.Model], where: Q) -> tuple[str, list[Any]]:
    """The WHERE clause `where` compiles to on `model`'s table ("1 = 1" when empty)."""
    query = model._default_manager.filter(where).order_by().values("pk").query
    sql, params = query.sql_with_params()
    _select, sep, condition = sql.partition(" WHERE ")
    return (condition, list(params)) if sep else ("1 = 1", [])


def _exact_top(rows: list[tuple], partial: Iterable[dt.date] = ()) -> list[dict] | None:
    """Merge closed months' top lists ("L": month, rank, domain, count; rank 0 = remainder),
    the period's days of a partial month's listed domains ("P") and exact sums ("X"); return
    the top domains, or None when the lists cannot prove them.

    A month in `partial` is only partly in the period: its list says who is listed and bounds
    the others; the counts come from its "P" rows.
    """
    partial = set(partial)
    known: dict[str, int] = defaultdict(int)
    listed_in: dict[str, list[dt.date]] = defaultdict(list)
    smallest: dict[dt.date, int] = {}
    remainder: dict[dt.date, int] = {}
    for kind, month, rank, domain, count in rows:
        count = int(count)
        if kind != "L":
            known[domain] += count
            continue
        month = _as_date(month)
        if rank == 0:
            remainder[month] = count
            continue
        if month not in partial:
            known[domain] += count
        listed_in[domain].append(month)
        smallest[month] = min(smallest.get(month, count), count)
    # The most an unlisted domain can have had in each month.
    bound = {m: min(smallest.get(m, 0), n) if n else 0 for m, n in remainder.items()}
    all_bounds = sum(bound.values())

    def upper(domain: str) -> int:
        return known[domain] + all_bounds - sum(bound[m] for m in listed_in.get(domain, ()))

    ranked = sorted(((-n, d) for d, n in known.items() if n > 0))
    chosen = ranked[:TOP_DOMAINS]
    if any(upper(d) != -n for n, d in chosen):
        return None  # a shown domain's count is not fully known
    if len(chosen) < TOP_DOMAINS:
        if all_bounds:
            return None
    else:
        last_n, last_d = -chosen[-1][0], chosen[-1][1]
        if all_bounds >= last_n:
            return None  # a domain seen nowhere could tie or pass the last one
        for _n, domain in ranked[TOP_DOMAINS:]:
            most = upper(domain)
            if most > last_n or (most == last_n and domain < last_d):
                return None
    return [{"domain": d, "n": -n} for n, d in chosen]


def _top_domains_summed(f: ReportFilters) -> list[dict]:
    """Top recipient domains: whole months from the monthly table, edge days from the daily.

    One statement: SELECT d, SUM(n) FROM (months UNION ALL edge days) GROUP BY d … LIMIT.
    """
    first_full = f.start if f.start.day == 1 else _next_month(f.start)
    after = (f.end + dt.timedelta(days=1)).replace(day=1)  # months before it end by f.end
    if first_full >= after:  # no whole month inside: days only
        first_full = after = f.end + dt.timedelta(days=1)
    where = _bounce_type_q(f)
    if f.recipient_domain:
        where &= Q(recipient_domain=f.recipient_domain)
    months = MonthlyDomainRollup.objects.filter(
        where, month__gte=first_full, month__lt=after
    ).values(d=models.F("recipient_domain"), n=models.F("count"))
    days = DailyDomainRollup.objects.filter(
        where,
        Q(day__gte=f.start, day__lt=first_full) | Q(day__gte=after, day__lte=f.end),
    ).values(d=models.F("recipient_domain"), n=models.F("count"))
    parts: list[str] = []
    params: list[Any] = []
    for queryset in (months, days):
        sql, part_params = queryset.order_by().query.sql_with_params()
        parts.append(sql)
        params.extend(part_params)
    statement = (
        f"SELECT u.d, SUM(u.n) AS total FROM ({' UNION ALL '.join(parts)}) u "  # noqa: S608
        f"GROUP BY u.d ORDER BY total DESC, u.d LIMIT {TOP_DOMAINS:d}"
    )
    with _connection(DailyDomainRollup).cursor() as cursor:
        cursor.execute(statement, params)
        return [{"domain": d, "n": int(n)} for d, n in cursor.fetchall()]


def _rollup_bounced_q(f: ReportFilters) -> Q:
    q = ~Q(type="") & _bounce_type_q(f)
    if f.channel:
        q &= Q(channel=f.channel)
    return q


# --- raw reads (also the rows behind every number, and the downloads) -------------------------
def raw_bounces(f: ReportFilters) -> QuerySet[Bounce]:
    """Return the blocking bounces the report counts under `f` (no ordering)."""
    lo, hi = f.bounds()
    q = Q(received_at__gte=lo, received_at__lt=hi) & ~Q(type="") & _bounce_type_q(f)
    if f.channel:
        q &= Q(channel=f.channel)
    if f.sender_address:
        q &= Q(sent_email__from_address__iexact=f.sender_address)
    if f.sender_domain:
        q &= Q(
            sent_email__isnull=False, sent_email__from_address__iendswith="@" + f.sender_domain
        ) | Q(sent_email__isnull=True, sender_domain__iexact=f.sender_domain)
    if f.mailing:
        q &= Q(sent_email__mailing_id=f.mailing)
    if f.recipient_domain:
        q &= Q(recipient_domain__iexact=f.recipient_domain)
    return Bounce.objects.using(read_alias()).filter(q).order_by()


def raw_sent(f: ReportFilters) -> QuerySet[SentEmail]:
    """Return the sent emails the report counts as sent under `f`, annotated with `first_*`:
    the type, category and channel of each one's first blocking bounce (None if none)."""
    lo, hi = f.bounds()
    q = Q(sent_at__gte=lo, sent_at__lt=hi)
    if f.sender_address:
        q &= Q(from_address__iexact=f.sender_address)
    if f.sender_domain:
        q &= Q(from_address__iendswith="@" + f.sender_domain)
    if f.mailing:
        q &= Q(mailing_id=f.mailing)
    if f.recipient_domain:
        q &= Q(to_address__iendswith="@" + f.recipient_domain)
    first = Bounce.objects.filter(sent_email=OuterRef("pk")).exclude(type="").order_by("id")
    return (
        SentEmail.objects.using(read_alias())
        .filter(q)
        .exclude(status__in=SentEmail.UNSENT)
        .order_by()
        .annotate(
            first_type=Subquery(first.values("type")[:1]),
            first_category=Subquery(first.values("category")[:1]),
            first_channel=Subquery(first.values("channel")[:1]),
        )
    )


def _first_bounce_matches(f: ReportFilters) -> Q:
    q = Q(first_type__isnull=False)
    if f.type:
        q &= Q(first_type=f.type)
    if f.category:
        type_, slug = f.category_pair
        q &= Q(first_type=type_, first_category=slug)
    if f.channel:
        q &= Q(first_channel=f.channel)
    return q


def raw_bounced(f: ReportFilters) -> QuerySet[SentEmail]:
    """Return the sent emails counted as bounced under `f`."""
    return raw_sent(f).filter(_first_bounce_matches(f))


def _cause_q(f: ReportFilters, prefix: str) -> Q:
    """Narrow blocks (via their latest bounce) by the filters only a bounce knows."""
    q = Q()
    if f.channel:
        q &= Q(**{f"{prefix}cause__channel": f.channel})
    if f.sender_address:
        q &= Q(**{f"{prefix}cause__sent_email__from_address__iexact": f.sender_address})
    if f.sender_domain:
        sent = f"{prefix}cause__sent_email"
        q &= Q(**{f"{sent}__from_address__iendswith": "@" + f.sender_domain}) | Q(
            **{f"{sent}__isnull": True, f"{prefix}cause__sender_domain__iexact": f.sender_domain}
        )
    if f.mailing:
        q &= Q(**{f"{prefix}cause__sent_email__mailing_id": f.mailing})
    if f.recipient_domain:
        q &= Q(address__endswith="@" + f.recipient_domain)
    return q


def blocks_now(f: ReportFilters) -> QuerySet[Block]:
    """Return the active blocks matching the type/category and origin filters (any period)."""
    q = _cause_q(f, "")
    if f.type:
        q &= Q(type=f.type)
    if f.category:
        type_, slug = f.category_pair
        q &= Q(type=type_, category=slug)
    return Block.objects.using(read_alias()).active().filter(q).order_by()


def unblocks_in_period(f: ReportFilters) -> QuerySet[Unblock]:
    """Return the blocks lifted in the period matching the filters."""
    lo, hi = f.bounds()
    q = Q(created_at__gte=lo, created_at__lt=hi)
    if f.recipient_domain:
        q &= Q(address__endswith="@" + f.recipient_domain)
    if f.type:
        q &= Q(block_type=f.type)
    if f.category:
        type_, slug = f.category_pair
        q &= Q(block_type=type_, category=slug)
    if f.has_origin_filter:
        q &= Q(Exists(Block.objects.filter(pk=OuterRef("block_id")).filter(_cause_q(f, ""))))
    return Unblock.objects.using(read_alias()).filter(q).order_by()


# --- shaping ------------------------------------------------------------------------------------
def _timeline(
    f: ReportFilters,
    bounces_by_day: dict[dt.date, int],
    sent_by_day: dict[dt.date, list[int]],
) -> tuple[str, list[Point]]:
    """Bucket the days: by day up to two months, by week up to ~6 months, else by month."""
    span = (f.end - f.start).days + 1
    granularity = (
        "day"
        if span <= DAYS_BUCKETED_BY_DAY
        else "week"
        if span <= DAYS_BUCKETED_BY_WEEK
        else "month"
    )
    buckets: list[tuple[dt.date, dt.date, str]] = []
    day = f.start
    while day <= f.end:
        if granularity == "day":
            end, label = day, day.isoformat()
        elif granularity == "week":
            end = min(day + dt.timedelta(days=6 - day.weekday()), f.end)
            label = day.isoformat()
        else:
            next_month = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            end = min(next_month - dt.timedelta(days=1), f.end)
            label = day.strftime("%Y-%m")
        buckets.append((day, end, label))
        day = end + dt.timedelta(days=1)
    points = []
    for start, end, label in buckets:
        sent = bounced = bounces = 0
        d = start
        while d <= end:
            sent += sent_by_day.get(d, (0, 0))[0]
            bounced += sent_by_day.get(d, (0, 0))[1]
            bounces += bounces_by_day.get(d, 0)
            d += dt.timedelta(days=1)
        points.append(Point(start, end, label, sent, bounced, bounces))
    return granularity, points


def _categories(by_category: dict[tuple[str, str], int]) -> dict[str, list[CategoryRow]]:
    """Every category of each type, in the table's order, with its count (0 included)."""
    counts: dict[str, int] = defaultdict(int)
    for (type_, slug), n in by_category.items():
        # A pair outside the table (should not happen) is shown under that type's "other".
        counts[BlockCategory.get(type_, slug).key] += n
    result: dict[str, list[CategoryRow]] = {}
    for type_ in (BlockType.TEMPORARY, BlockType.PERMANENT):
        result[type_.value] = [
            CategoryRow(
                type=info.type,
                slug=info.slug,
                name=str(info.name),
                count=counts.get(info.key, 0),
            )
            for info in BlockCategory.for_type(type_.value)
        ]
    return result


def _mailings(by_mailing: dict[int, list[int]], limit: Decimal) -> list[MailingRow]:
    names = dict(
        Mailing.objects.using(read_alias())
        .filter(pk__in=list(by_mailing))
        .values_list("pk", "name")
    )
    rows = [
        MailingRow(
            id=mailing_id,
            name=names.get(mailing_id, f"#{mailing_id}"),
            sent=sent,
            bounced=bounced,
            over=is_above_threshold(bounced, sent, limit),
        )
        for mailing_id, (sent, bounced) in by_mailing.items()
    ]
    rows.sort(key=lambda r: (-r.rate, -r.sent, r.name))
    return rows[:MAX_MAILINGS]


# --- the home page's warning -----------------------------------------------------------------
@dataclass(frozen=True)
class RateAlerts:
    mailings: list[RateRow]
    senders: list[RateRow]
    threshold: Decimal


def rates_over_threshold() -> RateAlerts:
    """Return the mailings and senders above the bounce-rate threshold."""
    return RateAlerts(
        mailings=mailings_over_threshold(),
        senders=senders_over_threshold(),
        threshold=threshold(),
    )
