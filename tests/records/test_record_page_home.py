"""Record page: "Last emailed" agrees with the emails list; home bounces open their record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import (
    BounceFactory,
    ContactFactory,
    LeadFactory,
    MailingFactory,
    SentEmailFactory,
)

pytestmark = pytest.mark.django_db


def test_last_emailed_is_the_newest_email_that_left(sales_client):
    contact = ContactFactory(last_emailed_at=None)
    newest = timezone.now() - timedelta(days=2)
    SentEmailFactory(contact=contact, sent_at=newest - timedelta(days=5))
    SentEmailFactory(contact=contact, sent_at=newest)
    SentEmailFactory(contact=contact, sent_at=timezone.now(), status="suppressed")
    response = sales_client.get(contact.get_absolute_url())
    assert response.context["last_emailed"] == newest
    assert "never" not in response.content.decode()


def test_never_emailed_says_never(sales_client):
    contact = ContactFactory(last_emailed_at=None)
    assert ">never<" in sales_client.get(contact.get_absolute_url()).content.decode()


def test_subject_and_mailing_name_are_not_printed_twice(sales_client):
    contact = ContactFactory()
    same = MailingFactory(name="Spring offer", subject="Spring offer")
    other = MailingFactory(name="Autumn list", subject="Autumn news")
    SentEmailFactory(contact=contact, mailing=same, subject="Spring offer")
    SentEmailFactory(contact=contact, mailing=other, subject="Autumn news")
    html = sales_client.get(contact.get_absolute_url()).content.decode()
    assert html.count("Spring offer") == 1
    assert "Mailing: Autumn list" in html


def test_recent_bounces_link_to_the_record(sales_client):
    lead = LeadFactory(email="lead-bounce@example.com")
    contact = ContactFactory(email="contact-bounce@example.com")
    BounceFactory(recipient="lead-bounce@example.com")
    BounceFactory(
        recipient="Contact-Bounce@example.com",
        sent_email=SentEmailFactory(contact=contact),
    )
    BounceFactory(recipient="stranger@example.com")
    html = sales_client.get("/").content.decode()
    assert f'href="/leads/{lead.pk}/">lead-bounce@example.com</a>' in html
    assert f'href="/contacts/{contact.pk}/">Contact-Bounce@example.com</a>' in html
    assert "stranger@example.com" in html
    assert "?q=" not in html.split("data-recent-bounces", 1)[1]
