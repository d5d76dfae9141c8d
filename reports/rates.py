"""Bounce rates of mailings and senders, read from the daily sent roll-up.

Rate = bounced recipients / recipients sent (DESIGN "Bounce rate"), in percent. A mailing's rate
covers all its sends; a sender's covers the emails it sent in the last `window_days` days.
Subjects with fewer than `settings.REPORTS_ALERT_MIN_SENT` (default 20) sent emails are not
judged: one bounce out of two sends says nothing about a list's health.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from bounces.models import BouncePolicy, Mailing
from core.rates import bounce_rate, is_above_threshold

from .models import DailySentRollup

__all__ = [
    "RateRow",
    "mailing_rates",
    "mailings_over_threshold",
    "min_sent",
    "sender_rates",
    "senders_over_threshold",
    "threshold",
]


@dataclass(frozen=True)
class RateRow:
    """One mailing's or sender's bounce rate."""

    subject_kind: str  # "mailing" or "sender" (RateAlert.Kind)
    key: str  # the mailing id (as text) or the sender address
    name: str  # the mailing's name, or the sender address
    sent: int
    bounced: int

    @property
    def rate(self) -> Decimal:
        """Return bounced / sent in percent, two decimals (0 when nothing was sent)."""
        return bounce_rate(self.bounced, self.sent)

    @property
    def mailing_id(self) -> int | None:
        return int(self.key) if self.subject_kind == "mailing" else None


def threshold() -> Decimal:
    """Return the admin-set bounce-rate threshold in percent (BouncePolicy, default 5)."""
    return BouncePolicy.current().bounce_rate_threshold


def min_sent() -> int:
    return int(getattr(settings, "REPORTS_ALERT_MIN_SENT", 20))


def mailing_rates(*, mailing_ids: list[int] | None = None) -> list[RateRow]:
    """Return the rate of every mailing that sent something (all time), largest rate first."""
    rows = DailySentRollup.objects.exclude(mailing_id=0)
    if mailing_ids is not None:
        rows = rows.filter(mailing_id__in=mailing_ids)
    totals = list(
        rows.order_by()
        .values("mailing_id")
        .annotate(sent=Sum("sent"), bounced=Sum("bounced"))
        .filter(sent__gt=0)
    )
    names = dict(
        Mailing.objects.filter(pk__in=[t["mailing_id"] for t in totals]).values_list("pk", "name")
    )
    result = [
        RateRow(
            subject_kind="mailing",
            key=str(t["mailing_id"]),
            name=names.get(t["mailing_id"], f"#{t['mailing_id']}"),
            sent=t["sent"],
            bounced=t["bounced"],
        )
        for t in totals
    ]
    return sorted(result, key=lambda r: (-r.rate, r.name))


def sender_rates(*, window_days: int = 30, today: dt.date | None = None) -> list[RateRow]:
    """Return the rate of every sender address over the last `window_days` days."""
    today = today or timezone.localdate(timezone=timezone.get_default_timezone())
    since = today - dt.timedelta(days=window_days - 1)
    totals = (
        DailySentRollup.objects.filter(Q(day__gte=since) & ~Q(sender_address=""))
        .order_by()
        .values("sender_address")
        .annotate(sent=Sum("sent"), bounced=Sum("bounced"))
        .filter(sent__gt=0)
    )
    result = [
        RateRow(
            subject_kind="sender",
            key=t["sender_address"],
            name=t["sender_address"],
            sent=t["sent"],
            bounced=t["bounced"],
        )
        for t in totals
    ]
    return sorted(result, key=lambda r: (-r.rate, r.name))


def _over(rows: list[RateRow], limit: Decimal) -> list[RateRow]:
    floor = min_sent()
    return [r for r in rows if r.sent >= floor and is_above_threshold(r.bounced, r.sent, limit)]


def mailings_over_threshold() -> list[RateRow]:
    """Return the mailings whose bounce rate is above the threshold, worst first."""
    return _over(mailing_rates(), threshold())


def senders_over_threshold(window_days: int = 30) -> list[RateRow]:
    """Return the sender addresses above the threshold over the last `window_days` days."""
    return _over(sender_rates(window_days=window_days), threshold())
