"""The report's charts, drawn on the server as inline SVG by pygal (no JavaScript, no CDN).

pygal's default output references its tooltip script on a CDN; `js=[]` drops it and the inline
config script is stripped too, so the page needs nothing from outside. Every chart is followed by
a table with the same numbers in the template (screen readers, and anyone who wants the figures).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pygal
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from pygal.style import Style

from .selectors import BounceReport, CategoryRow, DomainRow

# One style for every chart. Each is drawn at its real size in pixels (not scaled to its box), so
# every label is 14 px on screen whatever the chart; a box narrower than the chart scrolls inside
# itself (app.css `.report-chart`), never the page. Grid lines are thin, solid and pale so that
# the threshold (a thick dashed red line) cannot be mistaken for one.
WIDE = 1000  # the full-width charts
HALF = 540  # the two category charts side by side
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#495057",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    colors=("#1d5fbf", "#b42318", "#b76e00", "#15803d", "#6f42c1"),
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=14,
    value_font_size=14,
    tooltip_font_size=14,
    guide_stroke_color="#dde2e8",
    guide_stroke_dasharray="0",
    major_guide_stroke_color="#c9d0d8",
    major_guide_stroke_dasharray="0",
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def _config(**kwargs) -> dict:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "style": _STYLE,
        "width": WIDE,
        "height": 320,
        "explicit_size": True,
        "margin": 10,
        "print_values": False,
        **kwargs,
    }


def _render(chart: pygal.graph.graph.Graph) -> SafeString:
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    return mark_safe(svg)  # noqa: S308 - pygal escapes every label it draws


# pygal builds an XML tree per chart (a few ms each, four per page). A chart is a function of
# its figures and the language: a closed period's charts are drawn once per process.
@functools.lru_cache(maxsize=256)
def _drawn(kind: str, language: str | None, *args: Any) -> SafeString:
    return _DRAW[kind](*args)


def count_ticks(largest: int, *, most: int = 6) -> list[int]:
    """Return whole-number axis ticks from 0 to at least `largest` (counts have no halves)."""
    step = max(1, math.ceil(largest / most))
    # A round step (1, 2, 5, 10, 20, 50, ...) reads better than 7 or 13.
    magnitude = 10 ** (len(str(step)) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= step)
    top = max(step, math.ceil(largest / step) * step)
    return list(range(0, top + 1, step))


def rate_ticks(largest: float, *, most: int = 6) -> list[float]:
    """Return a few round percentages from 0 to at least `largest` (0, 2, 4 … not 0, 1, … 14)."""
    wanted = max(largest, 0.5) / most
    step = next((s for s in (0.5, 1, 2, 5, 10, 20, 25, 50) if s >= wanted), 100.0)
    count = math.ceil(max(largest, step) / step)
    return [round(step * n, 1) for n in range(count + 1)]


def rate_chart(report: BounceReport) -> SafeString:
    """The bounce rate per day/week/month against the threshold (a thick dashed red line).

    A period in which nothing was sent has no rate: it is a gap in the line, not 0 %.
    """
    points = tuple((p.label, p.rate if p.sent else None) for p in report.timeline)
    return _drawn("rate", get_language(), points, report.threshold)


def _rate_chart(points: tuple[tuple[str, Decimal | None], ...], threshold: Decimal) -> SafeString:
    rates = [rate for _label, rate in points if rate is not None]
    ticks = rate_ticks(float(max([threshold * 2, *rates])))
    chart = pygal.Line(
        **_config(
            x_label_rotation=30 if len(points) > 12 else 0,
            show_minor_x_labels=False,
            x_labels_major_count=12,
            legend_at_bottom=True,
            allow_interruptions=True,
            range=(0, ticks[-1]),
            y_labels=ticks,
            value_formatter=lambda v: f"{v:.2f} %",
        )
    )
    chart.x_labels = [label for label, _rate in points]
    chart.add(_("Bounce rate (%)"), [None if r is None else float(r) for _label, r in points])
    chart.add(
        _("Threshold (%(rate)s %%)") % {"rate": _fmt(threshold)},
        [float(threshold)] * len(points),
        stroke_style={"dasharray": "12, 6", "width": 3},
        show_dots=False,
    )
    return _render(chart)


def _bars(labels: tuple[str, ...], counts: tuple[int, ...], width: int = WIDE) -> SafeString:
    # pygal draws a horizontal bar chart's first label at the bottom: reversed, the largest
    # (first) row is on top, in the same order as the table below the chart.
    ticks = count_ticks(max(counts, default=0))
    chart = pygal.HorizontalBar(
        **_config(
            show_legend=False,
            width=width,
            height=60 + 34 * max(len(labels), 1),
            value_formatter=str,
            y_labels=ticks,
            range=(0, ticks[-1]),
        )
    )
    chart.x_labels = list(reversed(labels))
    chart.add(_("Bounces"), list(reversed(counts)))
    return _render(chart)


def category_chart(rows: list[CategoryRow]) -> SafeString:
    """Bounces per category of one type, as horizontal bars, largest first."""
    rows = sorted(rows, key=lambda row: -row.count)
    labels = tuple(row.name for row in rows)
    return _drawn("bars", get_language(), labels, tuple(row.count for row in rows), HALF)


def domains_chart(rows: list[DomainRow]) -> SafeString:
    """Bounces of the top recipient domains, as horizontal bars, largest first."""
    rows = sorted(rows, key=lambda row: -row.count)
    labels = tuple(row.domain or _("(unknown)") for row in rows)
    return _drawn("bars", get_language(), labels, tuple(row.count for row in rows), WIDE)


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


_DRAW: dict[str, Callable[..., SafeString]] = {"rate": _rate_chart, "bars": _bars}
