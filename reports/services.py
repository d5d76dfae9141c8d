"""Bounce-rate alerts: open one per crossing, tell admins once, clear it when the rate recovers.

`rate_alerts_check()` is idempotent and safe to run concurrently (the periodic task calls it):
- a subject (a mailing, or a sender address over the last 30 days) above the threshold with no
  open alert gets one (a partial unique constraint allows one open alert per subject);
- each open alert not yet notified is claimed by a guarded update, then emailed to the admins
  (users in the "Admins" group and superusers, active, with an email address); if sending fails
  the claim is released and the next run retries;
- an open alert whose subject is back at or below the threshold (or no longer judged: too few
  emails sent in the window) is cleared; crossing again later opens a new alert.
When the policy says so, a mailing above the threshold is paused (`Mailing.paused_at`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from bounces.models import BouncePolicy, Mailing
from core.rates import is_above_threshold

from .models import RateAlert
from .rates import RateRow, mailing_rates, min_sent, sender_rates

logger = logging.getLogger(__name__)

ADMINS_GROUP = "Admins"
SENDER_WINDOW_DAYS = 30


@dataclass
class AlertCheckResult:
    opened: list[RateAlert] = field(default_factory=list)
    cleared: int = 0
    notified: int = 0
    paused: int = 0


def rate_alerts_check(*, sender_window_days: int = SENDER_WINDOW_DAYS) -> AlertCheckResult:
    """Open, notify and clear bounce-rate alerts for every mailing and sender; return counts."""
    now = timezone.now()
    policy = BouncePolicy.current()
    limit, floor = policy.bounce_rate_threshold, min_sent()
    rates: dict[tuple[str, str], RateRow] = {
        (r.subject_kind, r.key): r
        for r in [*mailing_rates(), *sender_rates(window_days=sender_window_days)]
    }
    over = {
        key: r
        for key, r in rates.items()
        if r.sent >= floor and is_above_threshold(r.bounced, r.sent, limit)
    }
    result = AlertCheckResult()

    open_alerts = {
        (a.subject_kind, a.subject_key): a for a in RateAlert.objects.filter(cleared_at=None)
    }
    recovered = [a.pk for key, a in open_alerts.items() if key not in over]
    if recovered:
        result.cleared = RateAlert.objects.filter(pk__in=recovered, cleared_at=None).update(
            cleared_at=now
        )

    for key, row in over.items():
        if key in open_alerts:
            continue
        try:
            with transaction.atomic():
                alert = RateAlert.objects.create(
                    subject_kind=row.subject_kind,
                    subject_key=row.key,
                    subject_name=row.name[:254],
                    crossed_at=now,
                    rate=row.rate,
                    threshold=limit,
                    sent=row.sent,
                    bounced=row.bounced,
                )
        except IntegrityError:
            continue  # a concurrent check opened it
        result.opened.append(alert)
        if (
            row.subject_kind == RateAlert.Kind.MAILING
            and row.mailing_id is not None
            and policy.pause_mailing_above_threshold
        ):
            result.paused += Mailing.objects.filter(pk=row.mailing_id, paused_at=None).update(
                paused_at=now
            )

    result.notified = _notify_pending(now)
    return result


def _admin_emails() -> list[str]:
    users = get_user_model().objects.filter(is_active=True)
    users = users.filter(Q(is_superuser=True) | Q(groups__name=ADMINS_GROUP)).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def _notify_pending(now) -> int:
    """Email every open, un-notified alert to the admins, each exactly once."""
    pending = list(RateAlert.objects.filter(cleared_at=None, notified_at=None).order_by("pk"))
    if not pending:
        return 0
    recipients = _admin_emails()
    if not recipients:
        logger.warning("bounce-rate alerts: no admin with an email address to notify")
        return 0
    sent = 0
    for alert in pending:
        # Claim first: a concurrent check that loses the race sends nothing.
        if not RateAlert.objects.filter(pk=alert.pk, notified_at=None).update(notified_at=now):
            continue
        try:
            _send_alert(alert, recipients)
        except Exception:
            RateAlert.objects.filter(pk=alert.pk).update(notified_at=None)  # retry next run
            logger.exception("bounce-rate alert %s could not be emailed", alert.pk)
            continue
        sent += 1
    return sent


def _send_alert(alert: RateAlert, recipients: list[str]) -> None:
    report_url = settings.SITE_URL.rstrip("/") + alert.get_absolute_url()
    context = {"alert": alert, "report_url": report_url}
    subject = " ".join(render_to_string("reports/emails/rate_alert-subject.txt", context).split())
    text = render_to_string("reports/emails/rate_alert-body.txt", context)
    html = render_to_string("reports/emails/rate_alert-body.html", context)
    connection = get_connection()
    messages = []
    for address in recipients:
        message = EmailMultiAlternatives(subject, text, to=[address], connection=connection)
        message.attach_alternative(html, "text/html")
        messages.append(message)
    connection.send_messages(messages)
