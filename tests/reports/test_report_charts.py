"""Report charts: integer ticks for counts, largest bar on top, gaps where nothing was sent."""

from __future__ import annotations

import re
from decimal import Decimal
from types import SimpleNamespace

import pytest

from reports.charts import count_ticks, domains_chart, rate_chart


@pytest.mark.parametrize(
    "largest, expected",
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (40, [0, 10, 20, 30, 40]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_count_ticks_are_whole_round_numbers(largest, expected):
    assert count_ticks(largest) == expected


def _labels(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]+)</text>", svg)


def test_domains_chart_puts_the_largest_on_top_with_integer_ticks():
    rows = [SimpleNamespace(domain=d, count=n) for d, n in [("b.org", 2), ("a.com", 5)]]
    svg = str(domains_chart(rows))
    texts = _labels(svg)
    # pygal writes the bottom label first: the largest row must be the last one written.
    assert texts.index("b.org") < texts.index("a.com")
    assert not any(re.fullmatch(r"\d+\.\d+", t) for t in texts), texts
    assert "font-size:14px" in svg.replace(" ", "")
    assert re.search(r"<svg[^>]* width=\"1000\"", svg)  # drawn at its real size, not scaled


def test_rate_chart_leaves_a_gap_where_nothing_was_sent():
    point = lambda label, sent, rate: SimpleNamespace(label=label, sent=sent, rate=Decimal(rate))  # noqa: E731
    report = SimpleNamespace(
        threshold=Decimal("5"),
        timeline=[point(f"d{n}", 0 if n == 2 else 10, "10") for n in range(1, 6)],
    )
    svg = str(rate_chart(report))
    lines = re.findall(r'<path d="M([^"]*)" class="line reactive nofill"', svg)
    points = sorted(len(line.replace("L", "").split()) // 2 for line in lines)
    # The threshold spans the 5 periods; the rate is broken at d2: d3-d5 (d1 alone draws no line).
    assert points == [3, 5]
    assert "12, 6" in svg or "12,6" in svg  # the threshold's own dash pattern


@pytest.mark.parametrize(
    "largest, expected",
    [(10, [0, 2, 4, 6, 8, 10]), (14.8, [0, 5, 10, 15]), (33, [0, 10, 20, 30, 40])],
)
def test_rate_ticks_are_few_and_round(largest, expected):
    from reports.charts import rate_ticks

    assert rate_ticks(largest) == expected
