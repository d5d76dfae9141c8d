"""Who may see and do what in the sales UI: anonymous, sales staff, admins, and CSRF."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from bounces.models import Block, Unblock

pytestmark = pytest.mark.django_db


def _pages(blocked) -> list[str]:
    pk = blocked.temp_primary.pk
    return [
        reverse("records:home"),
        reverse("records:contact-list"),
        reverse("records:lead-list"),
        reverse("records:contact-detail", args=[pk]),
        reverse("records:contact-create"),
        reverse("records:contact-update", args=[pk]),
        reverse("records:contact-unblock", args=[pk]) + "?field=primary",
    ]


def test_anonymous_is_sent_to_the_login_page(client, blocked):
    for url in _pages(blocked):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_anonymous_post_changes_nothing(client, blocked):
    url = reverse("records:contact-unblock", args=[blocked.temp_primary.pk])
    response = client.post(url, {"field": "primary", "confirm": "on"})
    assert response.status_code == 302
    assert Block.objects.active().filter(address="alpha@example.com").exists()


@pytest.mark.parametrize("persona", ["sales_client", "admin_client"])
def test_sales_and_admin_see_every_page(request, persona, blocked):
    client = request.getfixturevalue(persona)
    for url in _pages(blocked):
        assert client.get(url).status_code == 200, url


def test_user_without_records_permissions_gets_403(client, django_user_model, blocked):
    client.force_login(django_user_model.objects.create_user("visitor", password="pw-v-12345"))
    assert client.get(reverse("records:contact-list")).status_code == 403
    detail = reverse("records:contact-detail", args=[blocked.temp_primary.pk])
    assert client.get(detail).status_code == 403
    bulk = reverse("records:contact-bulk-unblock")
    assert client.post(bulk, {"ids": [1], "fields": "both", "confirm": "on"}).status_code == 403


def test_sales_user_cannot_unblock_permanent(sales_client, blocked):
    url = reverse("records:contact-unblock", args=[blocked.perm_primary.pk])
    page = sales_client.get(url + "?field=primary")
    assert b"data-permanent-refusal" in page.content
    assert b'name="confirm"' not in page.content
    response = sales_client.post(url, {"field": "primary", "confirm": "on"}, follow=True)
    assert Block.objects.active().filter(address="bravo@example.com").exists()
    assert not Unblock.objects.exists()
    text = " ".join(str(m) for m in response.context["messages"])
    assert "Only an admin can lift a permanent block" in text


def test_record_page_explains_permanent_block_to_sales(sales_client, blocked):
    page = sales_client.get(reverse("records:contact-detail", args=[blocked.perm_primary.pk]))
    assert b"data-permanent-note" in page.content
    assert b'data-unblock-open="primary"' not in page.content


def test_admin_lifts_permanent_block_with_a_reason(admin_client, admin_user, blocked):
    url = reverse("records:contact-unblock", args=[blocked.perm_primary.pk])
    refused = admin_client.post(url, {"field": "primary", "confirm": "on"})
    assert refused.status_code == 400
    assert "Write why the permanent block can be lifted." in refused.content.decode()
    assert Block.objects.active().filter(address="bravo@example.com").exists()
    admin_client.post(
        url, {"field": "primary", "confirm": "on", "reason": "Customer confirmed by phone."}
    )
    unblock = Unblock.objects.get()
    assert unblock.actor == admin_user and unblock.reason == "Customer confirmed by phone."
    assert not Block.objects.active().filter(address="bravo@example.com").exists()


def test_reason_field_shown_to_admins_only(sales_user, admin_user, blocked):
    detail = reverse("records:contact-detail", args=[blocked.perm_primary.pk])
    admin, sales = Client(), Client()
    admin.force_login(admin_user)
    sales.force_login(sales_user)
    assert b'name="reason"' in admin.get(detail).content
    assert b'name="reason"' not in sales.get(detail).content


@pytest.mark.parametrize(
    "url_name, data",
    [
        ("records:contact-unblock", {"field": "primary", "confirm": "on"}),
        ("records:contact-bulk-unblock", {"ids": ["1"], "fields": "both", "confirm": "on"}),
    ],
)
def test_posts_without_csrf_token_are_refused(sales_user, blocked, url_name, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)
    args = [] if "bulk" in url_name else [blocked.temp_primary.pk]
    response = client.post(reverse(url_name, args=args), data)
    assert response.status_code == 403
    assert Block.objects.active().count() == 5


def test_create_without_csrf_token_is_refused(sales_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)
    response = client.post(reverse("records:contact-create"), {"last_name": "X"})
    assert response.status_code == 403


def test_next_parameter_cannot_redirect_off_site(sales_client, blocked):
    url = reverse("records:contact-unblock", args=[blocked.temp_primary.pk])
    response = sales_client.post(
        url, {"field": "primary", "confirm": "on", "next": "https://evil.example/"}
    )
    assert response["Location"] == blocked.temp_primary.get_absolute_url()
