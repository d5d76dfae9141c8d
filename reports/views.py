"""Reports › Email reports › Bounce report: the page, the rows behind its numbers, downloads.

Thin views: the filter form gives `ReportFilters`, `selectors.bounce_report` computes, `charts`
draws and `core.downloads` writes. Every number on the page links to a list of the rows behind it
(`reports:rows`), with the report's own query parameters (see reports/filters.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView
from django_tables2 import SingleTableMixin

from core.downloads import csv_response, xlsx_response
from core.rates import is_above_threshold

from . import charts, tables
from .filters import BounceReportFilter
from .selectors import (
    BounceReport,
    ReportFilters,
    blocks_now,
    bounce_report,
    raw_bounced,
    raw_bounces,
    raw_sent,
    unblocks_in_period,
)

VIEW_PERMISSION = "bounces.view_bounce"


class ReportAccessMixin(PermissionRequiredMixin):
    """Sales staff and admins: anyone who may see bounces (login is enforced by middleware)."""

    permission_required = VIEW_PERMISSION
    raise_exception = True
    request: HttpRequest  # set by the view this mixin is part of

    def get_filterset(self) -> BounceReportFilter:
        if not hasattr(self, "_filterset"):
            self._filterset = BounceReportFilter(self.request.GET)
        return self._filterset

    def get_report_filters(self) -> ReportFilters:
        return self.get_filterset().report_filters()


def filter_params(f: ReportFilters, **overrides: Any) -> dict[str, str]:
    """Return the query parameters reproducing `f` (with an explicit date range)."""
    params = {
        "period": "custom",
        "start": f.start.isoformat(),
        "end": f.end.isoformat(),
        "type": f.type,
        "category": f.category,
        "channel": f.channel,
        "sender": f.sender,
        "mailing": f.mailing or "",
        "recipient_domain": f.recipient_domain,
    }
    params.update(overrides)
    return {k: str(v) for k, v in params.items() if v not in ("", None)}


def rows_url(listing: str, f: ReportFilters, **overrides: Any) -> str:
    return reverse("reports:rows", args=[listing]) + "?" + urlencode(filter_params(f, **overrides))


def url_per_value(path: str, f: ReportFilters, key: str) -> Callable[[Any], str]:
    """Return value → what `path?urlencode(filter_params(f, key=value))` gives, built once.

    The mailings table links every row three times: 600 reverse()s and urlencode()s of the
    same filters were a tenth of the page.
    """
    params = filter_params(f, **{key: "-"})  # a placeholder: the key keeps its place
    keys = list(params)
    at = keys.index(key)
    before = urlencode({k: params[k] for k in keys[:at]})
    after = urlencode({k: params[k] for k in keys[at + 1 :]})

    def url(value: Any) -> str:
        return path + "?" + "&".join(p for p in (before, urlencode({key: value}), after) if p)

    return url


def record_links(*, type: str = "", category: str = "") -> list[dict[str, Any]]:
    """Links to the contacts and leads lists filtered to records whose address is blocked now
    (records.filters: `blocked` = temporary/permanent/any, `category` = "type:slug")."""
    params = {"blocked": type or (category.partition(":")[0] if category else "any")}
    if category:
        params["category"] = category
    query = "?" + urlencode(params)
    return [
        # Paths fixed by DESIGN.md (bookmarked), so no dependency on the records URL names.
        {"label": _("Contacts"), "url": "/contacts/" + query},
        {"label": _("Leads"), "url": "/leads/" + query},
    ]


class ReportsIndexView(ReportAccessMixin, TemplateView):
    template_name = "reports/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["groups"] = [
            {
                "title": _("Email reports"),
                "reports": [
                    {
                        "title": _("Bounce report"),
                        "url": reverse("reports:bounces"),
                        "description": _(
                            "Where bounces come from, the bounce rate over time against the "
                            "threshold, by category, recipient domain and mailing."
                        ),
                    }
                ],
            }
        ]
        return context


class BounceReportView(ReportAccessMixin, TemplateView):
    template_name = "reports/bounce_report.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        filterset = self.get_filterset()
        f = filterset.report_filters()
        report = bounce_report(filters=f)
        query = self.request.GET.urlencode()
        sent_url = url_per_value(reverse("reports:rows", args=["sent"]), f, "mailing")
        bounced_url = url_per_value(reverse("reports:rows", args=["bounced"]), f, "mailing")
        filter_url = url_per_value(reverse("reports:bounces"), f, "mailing")
        context.update(
            filter=filterset,
            report=report,
            f=f,
            totals=_totals(report),
            timeline=[
                {
                    "point": p,
                    "sent_url": rows_url("sent", f, start=p.start, end=p.end),
                    "bounced_url": rows_url("bounced", f, start=p.start, end=p.end),
                    "bounces_url": rows_url("bounces", f, start=p.start, end=p.end),
                    "over": is_above_threshold(p.bounced, p.sent, report.threshold),
                }
                for p in report.timeline
            ],
            category_groups=[
                {
                    "type": type_,
                    "title": _("Temporary") if type_ == "temporary" else _("Permanent"),
                    "total": sum(r.count for r in rows),
                    "rows": [
                        {
                            "row": r,
                            "url": rows_url("bounces", f, category=r.key),
                            "records": record_links(category=r.key),
                        }
                        for r in rows
                    ],
                    "chart": charts.category_chart(rows),
                }
                for type_, rows in report.categories.items()
            ],
            domains=[
                {
                    "row": r,
                    "url": rows_url("bounces", f, recipient_domain=r.domain) if r.domain else None,
                    "share": (100 * r.count / report.bounces) if report.bounces else 0,
                }
                for r in report.domains
            ],
            mailings=[
                {
                    "row": m,
                    "sent_url": sent_url(m.id),
                    "bounced_url": bounced_url(m.id),
                    "filter_url": filter_url(m.id),
                }
                for m in report.mailings
            ],
            rate_chart=charts.rate_chart(report),
            domains_chart=charts.domains_chart(report.domains) if report.domains else "",
            raw_sections=[name for name, src in report.sources.items() if src == "raw"],
            downloads={
                "report_csv": reverse("reports:export", args=["csv"]) + "?" + query,
                "report_xlsx": reverse("reports:export", args=["xlsx"]) + "?" + query,
                "rows_csv": reverse("reports:rows-export", args=["csv"]) + "?" + query,
                "rows_xlsx": reverse("reports:rows-export", args=["xlsx"]) + "?" + query,
            },
        )
        return context


def _totals(report: BounceReport) -> list[dict[str, Any]]:
    f = report.filters
    return [
        {
            "label": _("Sent"),
            "value": report.sent,
            "url": rows_url("sent", f),
            "help": _("Emails sent in the period (suppressed ones were never sent)."),
        },
        {
            "label": _("Bounced"),
            "value": report.bounced,
            "url": rows_url("bounced", f),
            "help": _("Of those, the emails that bounced (each counted once)."),
        },
        {
            "label": _("Bounce rate"),
            "value": report.rate,
            "percent": True,
            "over": report.over_threshold,
            "url": rows_url("bounced", f),
            "help": _("Bounced divided by sent; the threshold is %(threshold)s %%.")
            % {"threshold": report.threshold},
        },
        {
            "label": _("Bounces received"),
            "value": report.bounces,
            "url": rows_url("bounces", f),
            "help": _("Every blocking bounce received in the period, matched or not."),
        },
        {
            "label": _("Blocked now"),
            "value": report.blocked_now,
            "url": rows_url("blocks", f),
            "help": _("Addresses blocked at this moment."),
            "records": record_links(type=f.type, category=f.category),
        },
        {
            "label": _("Unblocked in period"),
            "value": report.unblocked,
            "url": rows_url("unblocks", f),
            "help": _("Blocks lifted in the period."),
        },
    ]


# The lists of rows behind the report's numbers: {URL slug: (title, table)}.
ROW_LISTS = {
    "bounces": (_("Bounces received"), tables.BounceTable),
    "sent": (_("Sent emails"), tables.SentTable),
    "bounced": (_("Sent emails that bounced"), tables.SentTable),
    "blocks": (_("Addresses blocked now"), tables.BlockTable),
    "unblocks": (_("Blocks lifted in the period"), tables.UnblockTable),
}


class RowsView(ReportAccessMixin, SingleTableMixin, TemplateView):
    """The rows behind one number of the report (the same filters, one list per number)."""

    template_name = "reports/rows.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any):
        if kwargs["listing"] not in ROW_LISTS:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_table_class(self):
        return ROW_LISTS[self.kwargs["listing"]][1]

    def get_table_data(self):
        f = self.get_report_filters()
        listing = self.kwargs["listing"]
        if listing == "bounces":
            return (
                raw_bounces(f).select_related("sent_email__mailing").order_by("-received_at", "-id")
            )
        if listing in ("sent", "bounced"):
            rows = raw_bounced(f) if listing == "bounced" else raw_sent(f)
            return rows.select_related("mailing").order_by("-sent_at", "-id")
        if listing == "blocks":
            return blocks_now(f).order_by("-last_bounce_at", "-id")
        return unblocks_in_period(f).select_related("actor").order_by("-created_at", "-id")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        f = self.get_report_filters()
        context.update(
            title=ROW_LISTS[self.kwargs["listing"]][0],
            f=f,
            filter=self.get_filterset(),
            report_url=reverse("reports:bounces") + "?" + urlencode(filter_params(f)),
        )
        return context


# --- downloads ----------------------------------------------------------------------------------
class ReportExportView(ReportAccessMixin, View):
    """The report's tables as CSV (one long table with a section column) or XLSX (a sheet each)."""

    def get(self, request: HttpRequest, fmt: str):
        report = bounce_report(filters=self.get_report_filters())
        name = f"bounce-report-{report.filters.start}-{report.filters.end}"
        if fmt == "csv":
            return csv_response(f"{name}.csv", *report_table(report))
        if fmt == "xlsx":
            return xlsx_response(f"{name}.xlsx", report_sheets(report))
        raise Http404


def report_table(report: BounceReport) -> tuple[list[str], list[list]]:
    """The report as one long table: section, key, label, start, end, sent, bounced, rate, count.

    `count` is bounces received (total, period, category, recipient_domain rows) or blocks
    (blocks rows).
    """
    f = report.filters
    headers = [
        "section",
        "key",
        "label",
        "start",
        "end",
        "sent",
        "bounced",
        "bounce_rate_percent",
        "count",
    ]
    rows: list[list] = [
        [
            "total",
            "",
            str(_("All")),
            f.start,
            f.end,
            report.sent,
            report.bounced,
            report.rate,
            report.bounces,
        ],
        [
            "blocks",
            "blocked_now",
            str(_("Blocked now")),
            None,
            None,
            None,
            None,
            None,
            report.blocked_now,
        ],
        [
            "blocks",
            "unblocked",
            str(_("Unblocked in period")),
            f.start,
            f.end,
            None,
            None,
            None,
            report.unblocked,
        ],
    ]
    for p in report.timeline:
        rows.append(
            ["period", p.label, p.label, p.start, p.end, p.sent, p.bounced, p.rate, p.bounces]
        )
    for group in report.categories.values():
        for c in group:
            rows.append(["category", c.key, c.name, f.start, f.end, None, None, None, c.count])
    for d in report.domains:
        rows.append(
            ["recipient_domain", d.domain, d.domain, f.start, f.end, None, None, None, d.count]
        )
    for m in report.mailings:
        rows.append(["mailing", m.id, m.name, f.start, f.end, m.sent, m.bounced, m.rate, None])
    return headers, rows


def report_sheets(report: BounceReport):
    f = report.filters
    yield (
        str(_("Summary")),
        [str(_("Figure")), str(_("Value"))],
        [
            [str(_("From")), f.start],
            [str(_("To")), f.end],
            [str(_("Sent")), report.sent],
            [str(_("Bounced")), report.bounced],
            [str(_("Bounce rate (%)")), report.rate],
            [str(_("Threshold (%)")), report.threshold],
            [str(_("Bounces received")), report.bounces],
            [str(_("Blocked now")), report.blocked_now],
            [str(_("Unblocked in period")), report.unblocked],
        ],
    )
    yield (
        str(_("Over time")),
        [
            str(_("From")),
            str(_("To")),
            str(_("Sent")),
            str(_("Bounced")),
            str(_("Bounce rate (%)")),
            str(_("Bounces received")),
        ],
        [[p.start, p.end, p.sent, p.bounced, p.rate, p.bounces] for p in report.timeline],
    )
    yield (
        str(_("Categories")),
        [str(_("Type")), str(_("Category")), str(_("Name")), str(_("Bounces"))],
        [[c.type, c.slug, c.name, c.count] for g in report.categories.values() for c in g],
    )
    yield (
        str(_("Recipient domains")),
        [str(_("Domain")), str(_("Bounces"))],
        [[d.domain, d.count] for d in report.domains],
    )
    yield (
        str(_("Mailings")),
        [
            str(_("Mailing id")),
            str(_("Mailing")),
            str(_("Sent")),
            str(_("Bounced")),
            str(_("Bounce rate (%)")),
            str(_("Above threshold")),
        ],
        [[m.id, m.name, m.sent, m.bounced, m.rate, m.over] for m in report.mailings],
    )


ROW_COLUMNS = [
    ("id", "id"),
    ("received_at", "received_at"),
    ("recipient", "recipient"),
    ("recipient_domain", "recipient_domain"),
    ("type", "type"),
    ("category", "category"),
    ("status", "status"),
    ("reply_code", "reply_code"),
    ("channel", "channel"),
    ("sender_address", "sent_email__from_address"),
    ("sender_domain", "sender_domain"),
    ("mailing_id", "sent_email__mailing_id"),
    ("mailing", "sent_email__mailing__name"),
    ("diagnostic", "diagnostic"),
    ("explanation", "explanation"),
]


class RowsExportView(ReportAccessMixin, View):
    """The bounce rows behind the report, streamed (CSV) or written row by row (XLSX)."""

    def get(self, request: HttpRequest, fmt: str):
        f = self.get_report_filters()
        rows = (
            raw_bounces(f)
            .order_by("received_at", "id")
            .values_list(*[source for _name, source in ROW_COLUMNS])
            .iterator(chunk_size=2000)
        )
        headers = [name for name, _source in ROW_COLUMNS]
        name = f"bounces-{f.start}-{f.end}"
        if fmt == "csv":
            return csv_response(f"{name}.csv", headers, rows)
        if fmt == "xlsx":
            return xlsx_response(f"{name}.xlsx", [(str(_("Bounces")), headers, rows)])
        raise Http404
