"""The report's charts, drawn on the server as inline SVG by pygal (no JavaScript, no CDN).

pygal's default output references its tooltip script on a CDN; `js=[]` drops it and the inline
config script is stripped too, so the page needs nothing from outside. Every chart is followed by
a table with the same numbers in the template (screen readers, and anyone who wants the figures).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pygal
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

from .selectors import BounceReport, CategoryRow, DomainRow

_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    colors=("#0d6efd", "#dc3545", "#fd7e14", "#198754", "#6f42c1"),
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=12,
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def _config(**kwargs) -> dict:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "style": _STYLE,
        "width": 800,
        "height": 320,
        "explicit_size": False,
        "margin": 10,
        "print_values": False,
        **kwargs,
    }


def _render(chart: pygal.graph.graph.Graph) -> SafeString:
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    return mark_safe(svg)  # noqa: S308 - pygal escapes every label it draws


def rate_chart(report: BounceReport) -> SafeString:
    """The bounce rate per day/week/month, with the threshold drawn as a dashed line."""
    points = report.timeline
    chart = pygal.Line(
        **_config(
            x_label_rotation=30 if len(points) > 12 else 0,
            show_minor_x_labels=False,
            x_labels_major_count=12,
            legend_at_bottom=True,
            range=(0, float(max([report.threshold * 2, *[p.rate for p in points]]))),
            value_formatter=lambda v: f"{v:.2f} %",
        )
    )
    chart.x_labels = [p.label for p in points]
    chart.add(_("Bounce rate (%)"), [float(p.rate) if p.sent else None for p in points])
    chart.add(
        _("Threshold (%(rate)s %%)") % {"rate": _fmt(report.threshold)},
        [float(report.threshold)] * len(points),
        stroke_style={"dasharray": "8, 5", "width": 2},
        show_dots=False,
    )
    return _render(chart)


def category_chart(rows: list[CategoryRow]) -> SafeString:
    """Bounces per category of one type, as horizontal bars."""
    chart = pygal.HorizontalBar(
        **_config(show_legend=False, height=40 + 34 * len(rows), value_formatter=str)
    )
    chart.x_labels = [row.name for row in rows]
    chart.add(_("Bounces"), [row.count for row in rows])
    return _render(chart)


def domains_chart(rows: list[DomainRow]) -> SafeString:
    """Bounces of the top recipient domains, as horizontal bars."""
    chart = pygal.HorizontalBar(
        **_config(show_legend=False, height=40 + 30 * max(len(rows), 1), value_formatter=str)
    )
    chart.x_labels = [row.domain or _("(unknown)") for row in rows]
    chart.add(_("Bounces"), [row.count for row in rows])
    return _render(chart)


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"
