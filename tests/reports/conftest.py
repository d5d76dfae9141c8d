"""Fixtures of the report tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import ContactFactory, MailingFactory, SentEmailFactory
from tests.reports.report_data import TZ, at


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate(timezone=TZ)


@pytest.fixture
def make_sent(db):
    """make_sent(n, day=…, mailing=…, from_address=…, domain=…) → list of n sent emails."""
    contact = ContactFactory()
    counter = iter(range(10**6))

    def make(n, *, day, mailing=None, from_address="sales@acme.test", domain="example.com", **kw):
        return [
            SentEmailFactory(
                contact=contact,
                mailing=mailing,
                from_address=from_address,
                sent_at=at(day),
                to_address=f"r{next(counter)}@{domain}",
                **kw,
            )
            for _ in range(n)
        ]

    return make


@pytest.fixture
def mailing(db):
    return MailingFactory(name="Spring news", from_address="news@acme.test")


@pytest.fixture(autouse=True)
def _base_template(settings, tmp_path_factory):
    """Until the UI's templates/base.html lands, render report pages in a minimal stand-in."""
    from pathlib import Path

    if (Path(settings.BASE_DIR) / "templates" / "base.html").exists():
        return
    folder = tmp_path_factory.mktemp("base")
    (folder / "base.html").write_text(
        "{% load report_tags %}<html><body>{% bounce_rate_banner %}"
        "<main>{% block content %}{% endblock %}</main></body></html>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], folder]}
    ]
