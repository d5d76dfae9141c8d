"""Bounce-rate alerts in the admin: listed and readable, never added, edited or deleted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.models import RateAlert

pytestmark = pytest.mark.django_db


def test_rate_alerts_are_read_only_in_the_admin(admin_client):
    alert = RateAlert.objects.create(
        subject_kind=RateAlert.Kind.SENDER,
        subject_key="news@example.com",
        subject_name="news@example.com",
        crossed_at=timezone.now(),
        rate=Decimal("7.50"),
        threshold=Decimal("5.00"),
        sent=400,
        bounced=30,
    )

    listing = admin_client.get(reverse("admin:reports_ratealert_changelist"))
    assert listing.status_code == 200 and "news@example.com" in listing.content.decode()
    page = admin_client.get(reverse("admin:reports_ratealert_change", args=[alert.pk]))
    assert page.status_code == 200 and 'name="rate"' not in page.content.decode()
    assert admin_client.get(reverse("admin:reports_ratealert_add")).status_code == 403
    delete = reverse("admin:reports_ratealert_delete", args=[alert.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert RateAlert.objects.filter(pk=alert.pk).exists()
