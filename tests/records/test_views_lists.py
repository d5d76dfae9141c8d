"""Contact and lead lists: block filters, search, owner, staleness, paging, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import BlockFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db

LIST = "/contacts/"


def names(response) -> list[str]:
    table = response.context["table"]
    return [row.record.last_name for row in table.page.object_list]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]),
        ({"blocked": "temporary"}, ["Alpha", "Charlie", "Delta"]),
        ({"blocked": "permanent"}, ["Bravo"]),
        ({"blocked": "any"}, ["Alpha", "Bravo", "Charlie", "Delta"]),
        ({"blocked": "any", "field": "primary"}, ["Alpha", "Bravo", "Delta"]),
        ({"blocked": "temporary", "field": "backup"}, ["Charlie", "Delta"]),
        ({"category": "temporary:auto_reply"}, ["Charlie", "Delta"]),
        ({"category": "temporary:auto_reply", "field": "primary"}, []),
        ({"category": "temporary:network_error"}, ["Delta"]),
        ({"category": "permanent:bad_mailbox"}, ["Bravo"]),
        ({"blocked": "temporary", "category": "permanent:bad_mailbox"}, []),
        ({"q": "echo works"}, ["Echo"]),
        ({"q": "CHARLIE@BACKUP"}, ["Charlie"]),
        ({"q": "alp"}, ["Alpha"]),
    ],
)
def test_filters(sales_client, blocked, query, expected):
    response = sales_client.get(LIST, query)
    assert response.status_code == 200
    assert names(response) == expected


def test_lifted_block_no_longer_matches(sales_client, blocked):
    from bounces.models import Block
    from bounces.services.record_blocks import records_sync_blocks

    Block.objects.filter(address="alpha@example.com").update(lifted_at=timezone.now())
    records_sync_blocks(addresses=["alpha@example.com"])  # a raw lift bypasses the services
    assert "Alpha" not in names(sales_client.get(LIST, {"blocked": "temporary"}))


def test_owner_and_not_emailed_for_six_months(sales_client, sales_user, admin_user):
    now = timezone.now()
    ContactFactory(last_name="Recent", owner=sales_user, last_emailed_at=now - timedelta(days=10))
    ContactFactory(last_name="Stale", owner=sales_user, last_emailed_at=now - timedelta(days=200))
    ContactFactory(last_name="Never", owner=admin_user, last_emailed_at=None)
    assert names(sales_client.get(LIST, {"owner": sales_user.pk})) == ["Recent", "Stale"]
    assert names(sales_client.get(LIST, {"stale": "on"})) == ["Never", "Stale"]


def test_warning_icons_differ_by_type_and_carry_the_details(sales_client, blocked):
    html = sales_client.get(LIST).content.decode()
    assert 'class="block-badge block-temporary"' in html
    assert 'class="block-badge block-permanent"' in html
    assert 'tabindex="0"' in html and 'aria-describedby="tip-contact-' in html
    assert "Mailbox full" in html and "Bad mailbox" in html
    # What it means and what to do, for a mailbox_full block.
    assert "at or near its storage limit" in html
    assert "free some space" in html
    assert "4.2.2" in html


def test_filter_survives_paging_and_sorting(sales_client):
    for n in range(30):
        ContactFactory(last_name=f"Person{n:02d}", email=f"p{n}@example.com")
        BlockFactory(address=f"p{n}@example.com")
    ContactFactory(last_name="Unblocked")
    response = sales_client.get(LIST, {"blocked": "temporary", "sort": "-name"})
    html = response.content.decode()
    assert "page=2" in html
    assert "blocked=temporary" in html.split("page=2")[0].rsplit('href="', 1)[1]
    page2 = sales_client.get(LIST, {"blocked": "temporary", "sort": "-name", "page": 2})
    assert names(page2) == [f"Person{n:02d}" for n in range(4, -1, -1)]
    assert response.context["table"].paginator.count == 30


def test_page_beyond_the_end_shows_the_last_page(sales_client, blocked):
    response = sales_client.get(LIST, {"blocked": "any", "page": 99})
    assert response.status_code == 200
    assert names(response) == ["Alpha", "Bravo", "Charlie", "Delta"]


def test_empty_states(sales_client, blocked):
    html = sales_client.get(LIST, {"q": "nobody-by-this-name"}).content.decode()
    assert "No contacts match these filters." in html
    html = sales_client.get("/leads/").content.decode()
    assert "No leads yet." in html


def test_leads_list_filters_by_block(sales_client):
    LeadFactory(last_name="Blocked", email="lead-b@example.org")
    LeadFactory(last_name="Fine", email="lead-f@example.org")
    BlockFactory(address="lead-b@example.org", permanent=True)
    response = sales_client.get("/leads/", {"blocked": "permanent"})
    assert names(response) == ["Blocked"]


def _many(n: int) -> None:
    for i in range(n):
        c = ContactFactory(email=f"m{i}@example.com", backup_email=f"m{i}@backup.example")
        if i % 2:
            BlockFactory(address=c.email)
        if i % 3 == 0:
            BlockFactory(address=c.backup_email, permanent=True)


@pytest.mark.parametrize("query", [{}, {"category": "temporary:mailbox_full"}, {"q": "m1"}])
def test_query_count_does_not_grow_with_page_size(sales_client, django_assert_num_queries, query):
    _many(120)
    sales_client.get(LIST, query)  # warm the session and permission caches
    counts = {}
    for per_page in (25, 100):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = sales_client.get(LIST, {**query, "per_page": per_page})
        assert response.status_code == 200
        counts[per_page] = len(captured)
    assert counts[25] == counts[100]
    # session, user, permissions (2), page (+ count), blocks of the page, owners, rate banner.
    with django_assert_num_queries(counts[25]):
        sales_client.get(LIST, {**query, "per_page": 50})
    assert counts[25] <= 10


def test_record_page_query_count_is_fixed(sales_client, django_assert_max_num_queries):
    from tests.factories import BounceFactory, SentEmailFactory

    contact = ContactFactory(email="many@example.com")
    BlockFactory(address="many@example.com")
    for _ in range(15):
        sent = SentEmailFactory(contact=contact, status="bounced")
        BounceFactory(sent_email=sent, recipient="many@example.com")
    url = reverse("records:contact-detail", args=[contact.pk])
    sales_client.get(url)
    with django_assert_max_num_queries(12):
        response = sales_client.get(url)
    assert response.content.decode().count('data-status="bounced"') == 15
