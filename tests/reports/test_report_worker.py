"""The periodic alert check runs in a real Celery worker (Redis) and is scheduled in beat."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from reports import rollups
from reports.models import RateAlert
from tests.conftest import wait_until
from tests.factories import MailingFactory
from tests.reports.report_data import bounce_for, sent_batch


def test_check_is_in_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["check-bounce-rates"]
    assert entry["task"] == "reports.tasks.check_bounce_rates"


@pytest.mark.worker
def test_worker_opens_the_alert(celery_worker, admin_user):
    from reports.tasks import check_bounce_rates

    today = timezone.localdate(timezone=timezone.get_default_timezone())
    mailing = MailingFactory(name="Winter sale", from_address="sale@acme.test")
    sent = sent_batch(40, day=today, mailing=mailing, from_address=mailing.from_address)
    rollups.add_sent(sent)
    rollups.add_bounces([bounce_for(s, day=today) for s in sent[:8]])

    check_bounce_rates.delay()
    alert = wait_until(
        lambda: RateAlert.objects.filter(subject_kind="mailing", notified_at__isnull=False).first()
    )
    assert alert.subject_name == "Winter sale"
    assert alert.rate == 20
