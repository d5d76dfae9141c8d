"""Every page needs the app's permission (not only a login); the team sees every record;
pages carry a Content-Security-Policy and authenticated ones are not cached."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from bounces.models import Block, BulkUnblockJob, Unblock
from tests.factories import BlockFactory, ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def nobody_client():
    """A logged-in user in no group, with no permission (its own client: `sales_client` is
    the shared `client`)."""
    client = Client()
    client.force_login(UserFactory(username="nobody"))
    return client


def _pages() -> list[str]:
    contact = ContactFactory(email="seen@example.com")
    lead = LeadFactory()
    BlockFactory(address="seen@example.com")
    job = BulkUnblockJob.objects.create(
        actor=UserFactory(), record_type="contact", selection={"ids": [contact.pk]}, fields="both"
    )
    return [
        reverse("records:home"),
        reverse("records:contact-list"),
        reverse("records:lead-list"),
        reverse("records:contact-detail", args=[contact.pk]),
        reverse("records:lead-detail", args=[lead.pk]),
        reverse("records:contact-create"),
        reverse("records:contact-update", args=[contact.pk]),
        reverse("records:contact-unblock", args=[contact.pk]) + "?field=primary",
        reverse("records:bulk-unblock-job", args=[job.pk]),
        reverse("records:bulk-unblock-job-status", args=[job.pk]),
        "/reports/",
        "/reports/bounces/",
    ]


def test_a_user_in_no_group_sees_no_page(nobody_client):
    for url in _pages():
        response = nobody_client.get(url)
        assert response.status_code == 403, url
        assert b"seen@example.com" not in response.content, url


def test_home_shows_recent_bounce_recipients_only_with_permission(nobody_client, sales_client):
    assert nobody_client.get("/").status_code == 403
    assert sales_client.get("/").status_code == 200


def test_the_team_sees_and_unblocks_records_owned_by_someone_else(sales_client, sales_user):
    other = UserFactory(username="owner2")
    contact = ContactFactory(email="theirs@example.com", owner=other)
    BlockFactory(address="theirs@example.com")
    assert sales_client.get(reverse("records:contact-detail", args=[contact.pk])).status_code == 200
    listed = sales_client.get(reverse("records:contact-list") + "?owner=" + str(other.pk))
    assert b"theirs@example.com" in listed.content
    response = sales_client.post(
        reverse("records:contact-unblock", args=[contact.pk]),
        {"field": "primary", "confirm": "on"},
    )
    assert response.status_code == 302
    assert not Block.objects.active().exists()
    assert Unblock.objects.get().actor == sales_user


def test_pages_carry_a_strict_script_policy_and_no_inline_scripts(sales_client):
    for url in _pages()[:5] + ["/reports/bounces/"]:
        response = sales_client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "object-src 'none'" in csp, url
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0], url
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert not re.search(r"\son[a-z]+\s*=", re.sub(r"<svg.*?</svg>", "", html, flags=re.S))


def test_authenticated_pages_are_not_stored_by_caches(sales_client, client):
    response = sales_client.get(reverse("records:contact-list"))
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    sales_client.logout()
    login = client.get("/accounts/login/")
    assert "Content-Security-Policy" in login
