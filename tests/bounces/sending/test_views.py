"""Sending pages: permissions, the record's "Send email", the pre-send check, pause/resume/
cancel, unsubscribe (RFC 8058 one-click) and auto-pause on the bounce rate."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from bounces.models import BouncePolicy, Mailing, OptOut, SentEmail
from bounces.sending import services
from bounces.sending.unsubscribe import unsubscribe_token
from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_sales_user_sends_one_email_from_a_record_page(
    sales_client, sender, mail_settings, django_capture_on_commit_callbacks
):
    contact = ContactFactory(first_name="Li", email="li@customer.example")
    url = reverse("sending:contact-email", args=[contact.pk])
    page = sales_client.get(contact.get_absolute_url())
    assert url in page.content.decode()
    data = {"field": "primary", "sender": sender.pk, "subject": "Hi {{first_name}}", "body": "B"}
    preview = sales_client.post(url, {**data, "preview": "1"})
    assert preview.status_code == 200 and "Hi Li" in preview.content.decode()
    assert not SentEmail.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = sales_client.post(url, {**data, "send": "1"})
    assert response.status_code == 302
    page = sales_client.get(contact.get_absolute_url()).content.decode()
    assert "Hi Li" in page and 'data-status="sent"' in page
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"subject": ""}, "The subject is empty."),
        ({"body": "{{ bogus }}"}, "{{bogus}}"),
        ({"sender": 999}, "not a configured sender"),
    ],
)
def test_bad_input_is_refused_in_the_form(sales_client, sender, change, error):
    contact = ContactFactory()
    url = reverse("sending:contact-email", args=[contact.pk])
    data = {"field": "primary", "sender": sender.pk, "subject": "S", "body": "B", **change}
    response = sales_client.post(url, {**data, "send": "1"})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not SentEmail.objects.exists()


def test_mass_email_needs_its_permission(sales_user, admin_user, sender):
    sales, admin = Client(), Client()
    sales.force_login(sales_user)
    admin.force_login(admin_user)
    assert sales.get(reverse("sending:mailing-list")).status_code == 403
    assert admin.get(reverse("sending:mailing-list")).status_code == 200
    assert sales.post(reverse("sending:mailing-new")).status_code == 403
    anonymous = Client()
    assert anonymous.get(reverse("sending:mailing-list")).status_code == 302


def test_email_these_records_precheck_then_send(
    admin_client, sender, mail_settings, django_capture_on_commit_callbacks
):
    ok = ContactFactory(email="ok@customer.example", company="Acme")
    ContactFactory(email="x@gmial.com", company="Acme")
    blocked = ContactFactory(email="blocked@customer.example", company="Acme")
    BlockFactory(address="blocked@customer.example", type="permanent", category="bad_mailbox")
    ContactFactory(email="other@customer.example", company="Zeta")
    list_page = admin_client.get(reverse("records:contact-list") + "?q=acme").content.decode()
    assert "Email these records" in list_page
    start = admin_client.post(
        reverse("sending:mailing-new"),
        {"record_type": "contact", "all_matching": "1", "query": "q=acme"},
    )
    assert start.status_code == 200 and "3 selected" in start.content.decode()
    compose = {
        "compose": "1",
        "record_type": "contact",
        "all_matching": "1",
        "query": "q=acme",
        "sender": sender.pk,
        "subject": "Offer",
        "body": "Dear {{first_name}}",
    }
    created = admin_client.post(reverse("sending:mailing-new"), compose)
    mailing = Mailing.objects.get()
    assert created.status_code == 302 and mailing.state == Mailing.State.DRAFT
    page = admin_client.get(reverse("sending:mailing-detail", args=[mailing.pk])).content.decode()
    assert 'data-reason="blocked:permanent:bad_mailbox"' in page
    assert 'data-risk="typo"' in page and "gmial.com → gmail.com" in page
    excluded = admin_client.get(
        reverse("sending:mailing-detail", args=[mailing.pk]) + "?exclude=typo"
    ).content.decode()
    assert "Send to 1 recipient" in excluded
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("sending:mailing-confirm", args=[mailing.pk]), {"exclude": ["typo"]}
        )
    assert [m.to for m in mail.outbox] == [[ok.email]]
    assert SentEmail.objects.get(contact=blocked).status == "suppressed"
    progress = admin_client.get(reverse("sending:mailing-detail", args=[mailing.pk]))
    assert "data-sent>1<" in progress.content.decode()


def test_pause_resume_cancel(admin_client, sender):
    ContactFactory(email="a@customer.example")
    mailing = services.mailing_create(
        name="M",
        sender=sender,
        subject="S",
        body="B",
        record_type="contact",
        selection={"criteria": {}},
        actor=None,
    )
    services.mailing_confirm(mailing=mailing)  # queued; on_commit not run in this test
    admin_client.post(reverse("sending:mailing-pause", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.is_paused
    assert services.mailing_send_step(mailing_id=mailing.pk).sent == 0
    admin_client.post(reverse("sending:mailing-cancel", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.state == Mailing.State.CANCELLED
    assert not SentEmail.objects.filter(mailing=mailing).exists()


def test_one_click_unsubscribe_records_an_opt_out_without_login(sender):
    client = Client(enforce_csrf_checks=True)
    token = unsubscribe_token(address="Li@Customer.example", mailing_id=None)
    url = reverse("sending:unsubscribe", args=[token])
    assert client.get(url).status_code == 200
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    opt = OptOut.objects.get()
    assert (opt.address, opt.source) == ("li@customer.example", "one_click")
    assert client.post(url[:-5] + "x/").status_code == 400  # a tampered token
    ContactFactory(email="li@customer.example")
    check = services.mailing_precheck(record_type="contact", selection={"criteria": {}})
    assert [s.reason for s in check.suppressed] == ["opted_out"]


def test_bounces_pause_the_mailing_past_the_threshold(sender, settings, admin_user):
    from bounces.ingestion.process import _mark_sent  # noqa: F401 - the hook under test

    settings.SENDING_PAUSE_MIN_SENT = 2
    policy = BouncePolicy.current()
    policy.pause_mailing_above_threshold = True
    policy.save()
    mailing = Mailing.objects.create(
        name="M",
        subject="S",
        from_address=sender.address,
        sender=sender,
        state=Mailing.State.SENDING,
        recipients_sent=10,
        recipients_bounced=1,
    )
    assert services.mailings_autopause(mailing_ids=[mailing.pk]) == [mailing.pk]
    mailing.refresh_from_db()
    assert mailing.is_paused and "Paused automatically" in mailing.state_reason
    services.mailing_resume(mailing=mailing)
    assert services.mailings_autopause(mailing_ids=[mailing.pk]) == []  # once: admin decided


def test_mailing_pages_run_a_fixed_number_of_queries(
    admin_client, sender, django_assert_max_num_queries
):
    for n in range(3):
        ContactFactory(email=f"q{n}@customer.example")
    mailing = services.mailing_create(
        name="Q",
        sender=sender,
        subject="S",
        body="B",
        record_type="contact",
        selection={"criteria": {}},
        actor=None,
    )
    url = reverse("sending:mailing-detail", args=[mailing.pk])
    with django_assert_max_num_queries(14):
        assert admin_client.get(url).status_code == 200  # the pre-send check
    services.mailing_confirm(mailing=mailing)
    for n in range(3, 40):
        ContactFactory(email=f"q{n}@customer.example")
    with django_assert_max_num_queries(10):
        assert admin_client.get(url).status_code == 200  # progress
    for _ in range(30):
        Mailing.objects.create(name="old", subject="s", from_address=sender.address)
    with django_assert_max_num_queries(8):
        assert admin_client.get(reverse("sending:mailing-list")).status_code == 200
