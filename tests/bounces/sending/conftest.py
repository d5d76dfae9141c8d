"""Fixtures of the sending tests: configured senders and a few contacts."""

from __future__ import annotations

import pytest

from bounces.models import Sender


@pytest.fixture
def sender(db) -> Sender:
    return Sender.objects.create(address="sales@crm.example", name="ACME Sales", max_per_minute=0)


@pytest.fixture
def mail_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.BOUNCE_DOMAIN = "bounces.crm.example"
    settings.SENDING_RETRY_BASE_SECONDS = 0
    return settings
