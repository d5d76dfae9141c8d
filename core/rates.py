"""The bounce rate, defined once: bounced recipients / recipients sent, in percent (DESIGN).

Two decimals, rounded half to even (what `Decimal.quantize` does by default); 0 when nothing was
sent. A rate is above the threshold when that rounded figure is, so what a page or an alert
shows and what it judges always agree. `bounces.rates.rate_above_threshold` is the same test in
SQL.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def bounce_rate(bounced: int, sent: int) -> Decimal:
    """Return bounced / sent in percent with two decimals (0.00 when nothing was sent)."""
    if not sent:
        return Decimal("0.00")
    return (Decimal(100) * bounced / sent).quantize(CENT, rounding=ROUND_HALF_EVEN)


def is_above_threshold(bounced: int, sent: int, threshold: Decimal) -> bool:
    """Return whether the bounce rate is above `threshold` percent (never when nothing was sent)."""
    return sent > 0 and bounce_rate(bounced, sent) > threshold
