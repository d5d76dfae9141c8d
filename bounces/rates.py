"""`core.rates`' bounce-rate test as a database condition, for lists and updates in SQL."""

from __future__ import annotations

import math
from decimal import Decimal

from django.db.models import BigIntegerField, F, Q
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual


def rate_above_threshold(
    threshold: Decimal, *, bounced: str = "recipients_bounced", sent: str = "recipients_sent"
) -> Q:
    """Return the condition `core.rates.is_above_threshold(bounced, sent, threshold)` on columns.

    The rate rounded to hundredths of a percent is above `threshold` when it reaches C, the
    first hundredth above the threshold: 10000·bounced/sent > C - ½, or equal to C - ½ when
    rounding half to even gives C (C even). In integers: 20000·bounced against (2C - 1)·sent,
    in 64 bits so large counters cannot overflow.
    """
    first_above = math.floor(threshold * 100) + 1
    lookup = GreaterThanOrEqual if first_above % 2 == 0 else GreaterThan
    left = Cast(F(bounced), BigIntegerField()) * 20000
    right = Cast(F(sent), BigIntegerField()) * (2 * first_above - 1)
    return Q(**{f"{sent}__gt": 0}) & Q(lookup(left, right))
