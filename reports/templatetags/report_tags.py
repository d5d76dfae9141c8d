"""`{% load report_tags %}{% bounce_rate_banner %}`: the staff banner of open bounce-rate alerts.

Rendered by base.html on every page: one small query (the newest open alerts, on a partial
index), cached on the request so a page rendering it twice queries once. Shown to users who may
see bounces (sales staff and admins); nothing for anyone else or when no alert is open.
"""

from __future__ import annotations

from django import template
from django.urls import reverse

from reports.models import RateAlert

register = template.Library()

SHOWN = 3


def open_alerts_for(request) -> list[RateAlert]:
    cached = getattr(request, "_bounce_rate_alerts", None)
    if cached is None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.has_perm("bounces.view_bounce"):
            cached = []
        else:
            cached = list(
                RateAlert.objects.filter(cleared_at=None).order_by("-crossed_at")[: SHOWN + 1]
            )
        request._bounce_rate_alerts = cached
    return cached


@register.inclusion_tag("reports/banner.html", takes_context=True)
def bounce_rate_banner(context) -> dict:
    request = context.get("request")
    alerts = open_alerts_for(request) if request is not None else []
    items = []
    for alert in alerts[:SHOWN]:
        if alert.subject_kind == RateAlert.Kind.MAILING:
            query = f"?period=12m&mailing={alert.subject_key}"
        else:
            query = f"?period=30d&sender={alert.subject_key}"
        items.append({"alert": alert, "url": reverse("reports:bounces") + query})
    return {"items": items, "more": len(alerts) > SHOWN, "report_url": reverse("reports:bounces")}
