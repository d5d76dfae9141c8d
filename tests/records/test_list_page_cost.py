"""What a list page costs: its queries (constant in the number of rows, at most five with a
block filter) and its markup (each category's explanation once, every icon pointing to it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db

LIST = "/contacts/"


def _contacts_in_one_category(n: int) -> None:
    for i in range(n):
        contact = ContactFactory(email=f"c{i}@example.com", backup_email=f"c{i}@backup.example")
        BlockFactory(address=contact.email)
        if i % 3 == 0:
            BlockFactory(address=contact.backup_email, permanent=True)


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST, params)
    assert response.status_code == 200
    return len(captured)


def test_a_filtered_page_costs_five_queries_at_25_and_100_rows(sales_client):
    _contacts_in_one_category(110)
    query = {"category": "temporary:mailbox_full", "field": "either"}
    sales_client.get(LIST, query)  # the session's first use
    counts = {
        per_page: _queries(sales_client, {**query, "per_page": per_page}) for per_page in (25, 100)
    }
    # The session, the user, the user's permissions, the page (rows, owners, blocks and total)
    # and the bounce-rate banner.
    assert counts[25] == counts[100] <= 5
    assert _queries(sales_client, {**query, "per_page": 25, "page": 5}) == counts[25]


def test_each_category_is_explained_once_and_every_icon_refers_to_it(sales_client):
    when = timezone.now() - timedelta(days=3)
    for i in range(4):
        ContactFactory(last_name=f"Full{i}", email=f"full{i}@example.com")
        BlockFactory(address=f"full{i}@example.com", last_bounce_at=when, status="4.2.2")
    ContactFactory(last_name="Gone", email="gone@example.com")
    BlockFactory(address="gone@example.com", permanent=True)
    html = sales_client.get(LIST, {"blocked": "any"}).content.decode()
    assert html.count("at or near its storage limit") == 1  # mailbox_full's meaning
    assert html.count("free some space") == 1  # and what to do
    assert html.count("Sales staff cannot lift a permanent block") == 1
    assert html.count('<div hidden id="block-info-temporary-mailbox_full">') == 1
    assert html.count('block-info-temporary-mailbox_full" data-block-type="temporary"') == 4
    assert html.count('data-info="block-info-temporary-mailbox_full"') == 4
    # Each icon keeps its own facts: the title and the last bounce with its status.
    assert html.count("Temporary block · Mailbox full") == 4
    assert html.count("status 4.2.2 (452)") == 4


def test_a_users_permissions_are_read_in_one_query(sales_user):
    from django.contrib.auth.models import Permission

    sales_user.user_permissions.add(Permission.objects.get(codename="add_lead"))
    user = type(sales_user).objects.get(pk=sales_user.pk)
    with CaptureQueriesContext(connection) as captured:
        assert user.has_perm("records.add_lead")  # a permission of the user's own
        assert user.has_perm("records.view_contact")  # one of the Sales staff group's
        assert not user.has_perm("bounces.unblock_permanent")  # one only admins have
    assert len(captured) == 1
