"""Bounce-rate alerts: once per crossing, to admins by email and to staff as a banner."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from bounces.models import BouncePolicy, Mailing
from reports import rollups
from reports.models import RateAlert
from reports.rates import mailings_over_threshold, senders_over_threshold
from reports.services import rate_alerts_check
from reports.tasks import check_bounce_rates
from tests.factories import MailingFactory, UserFactory
from tests.reports.report_data import bounce_for, sent_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate(timezone=timezone.get_default_timezone())


@pytest.fixture
def mailing(db):
    return MailingFactory(name="Autumn offer", from_address="offers@acme.test")


def send(mailing, n, today, start=0):
    sent = sent_batch(n, day=today, mailing=mailing, from_address=mailing.from_address, start=start)
    rollups.add_sent(sent)
    return sent


def bounce(sent, today):
    bounces = [bounce_for(s, day=today) for s in sent]
    rollups.add_bounces(bounces)


def test_crossing_emails_admins_once_then_clears_and_fires_again(admin_user, mailing, today):
    sent = send(mailing, 100, today)
    bounce(sent[:5], today)  # exactly 5 %: not above
    rate_alerts_check()
    assert mail.outbox == [] and not RateAlert.objects.exists()

    bounce(sent[5:7], today)  # 7 %: crossed
    result = rate_alerts_check()
    assert len(result.opened) == 2  # the mailing and its sender address
    assert len(mail.outbox) == 2
    assert all(m.to == [admin_user.email] for m in mail.outbox)
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "Bounce rate 7.00 % for sender offers@acme.test",
        "Bounce rate 7.00 % on mailing “Autumn offer”",
    ]
    assert "/reports/bounces/" in mail.outbox[0].body
    assert mail.outbox[0].alternatives[0][1] == "text/html"

    check_bounce_rates()  # still above: nothing new
    rate_alerts_check()
    assert len(mail.outbox) == 2
    assert RateAlert.objects.filter(cleared_at=None, notified_at__isnull=False).count() == 2

    send(mailing, 100, today, start=1000)  # 7 / 200 = 3.5 %: back under
    result = rate_alerts_check()
    assert result.cleared == 2
    assert not RateAlert.objects.filter(cleared_at=None).exists()

    more = send(mailing, 20, today, start=2000)
    bounce(more[:10], today)  # 17 / 220 = 7.7 %: a new crossing
    rate_alerts_check()
    assert len(mail.outbox) == 4
    assert RateAlert.objects.count() == 4
    assert RateAlert.objects.filter(cleared_at=None).count() == 2


def test_only_admins_with_an_email_are_told(admin_user, sales_user, mailing, today):
    UserFactory(username="nomail", email="", is_superuser=True)
    UserFactory(username="gone", is_superuser=True, is_active=False)
    sent = send(mailing, 40, today)
    bounce(sent[:10], today)
    rate_alerts_check()
    recipients = {address for m in mail.outbox for address in m.to}
    assert recipients == {admin_user.email}


def test_threshold_is_the_admin_setting(admin_user, mailing, today):
    policy = BouncePolicy.current()
    policy.bounce_rate_threshold = Decimal("10.00")
    policy.save()
    sent = send(mailing, 100, today)
    bounce(sent[:7], today)
    assert mailings_over_threshold() == []
    rate_alerts_check()
    assert mail.outbox == []
    bounce(sent[7:11], today)
    assert [m.name for m in mailings_over_threshold()] == ["Autumn offer"]
    assert [s.key for s in senders_over_threshold(window_days=30)] == ["offers@acme.test"]


def test_too_few_sends_are_not_judged(admin_user, mailing, today):
    sent = send(mailing, 3, today)
    bounce(sent[:2], today)
    rate_alerts_check()
    assert mail.outbox == []


def test_policy_can_pause_the_mailing(admin_user, mailing, today):
    BouncePolicy.objects.update_or_create(pk=1, defaults={"pause_mailing_above_threshold": True})
    sent = send(mailing, 40, today)
    bounce(sent[:10], today)
    assert rate_alerts_check().paused == 1
    assert Mailing.objects.get(pk=mailing.pk).paused_at is not None


def test_staff_see_a_banner_while_an_alert_is_open(sales_client, admin_user, mailing, today):
    sent = send(mailing, 40, today)
    bounce(sent[:10], today)
    rate_alerts_check()
    html = sales_client.get("/reports/").content.decode()
    assert "data-bounce-rate-banner" in html
    assert "Autumn offer" in html
    RateAlert.objects.update(cleared_at=timezone.now())
    assert "data-bounce-rate-banner" not in sales_client.get("/reports/").content.decode()


def test_banner_is_one_query_per_request(rf, sales_user, django_assert_num_queries):
    from django.template import Context, Template

    request = rf.get("/")
    request.user = sales_user
    template = Template("{% load report_tags %}{% bounce_rate_banner %}{% bounce_rate_banner %}")
    sales_user.has_perm("bounces.view_bounce")  # load the permission cache first
    with django_assert_num_queries(1):
        template.render(Context({"request": request}))


def test_banner_and_email_link_to_the_same_report(sales_client, admin_user, today, settings):
    settings.SITE_URL = "https://crm.example/"
    mailing = MailingFactory(name="Plus", from_address="news+eu@acme.test")
    bounce(send(mailing, 40, today)[:10], today)
    rate_alerts_check()
    alert = RateAlert.objects.get(subject_kind=RateAlert.Kind.SENDER)
    link = alert.get_absolute_url()
    assert link == "/reports/bounces/?period=30d&sender=news%2Beu%40acme.test"  # "+" survives
    assert any(f"https://crm.example{link}" in m.body for m in mail.outbox)
    html = sales_client.get("/reports/").content.decode()
    assert link.replace("&", "&amp;") in html
