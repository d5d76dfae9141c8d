"""Single unblock (record page and list) and the bulk action, through the views."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bounces.models import Block, Unblock

pytestmark = pytest.mark.django_db


def active(address: str) -> bool:
    return Block.objects.active().filter(address=address).exists()


def messages_of(response) -> str:
    return " | ".join(str(m) for m in response.context["messages"])


def test_unblock_without_the_tick_changes_nothing_and_says_why(sales_client, blocked):
    url = reverse("records:contact-unblock", args=[blocked.temp_primary.pk])
    response = sales_client.post(url, {"field": "primary"})
    assert response.status_code == 400
    assert "Tick the box to confirm that the cause of the bounce is resolved." in (
        response.content.decode()
    )
    assert active("alpha@example.com")
    assert not Unblock.objects.exists()


def test_unblock_with_the_tick_lifts_and_audits(sales_client, sales_user, blocked):
    url = reverse("records:contact-unblock", args=[blocked.temp_primary.pk])
    response = sales_client.post(url, {"field": "primary", "confirm": "on"}, follow=True)
    assert not active("alpha@example.com")
    assert "alpha@example.com is unblocked." in messages_of(response)
    unblock = Unblock.objects.get()
    assert (unblock.actor, unblock.source, unblock.field, unblock.confirmed) == (
        sales_user,
        "record",
        "primary",
        True,
    )
    assert unblock.record_id == blocked.temp_primary.pk


def test_unblock_from_the_list_returns_to_the_list(sales_client, blocked):
    url = reverse("records:contact-unblock", args=[blocked.temp_backup.pk])
    back = "/contacts/?blocked=temporary&page=1"
    response = sales_client.post(
        url, {"field": "backup", "confirm": "on", "source": "list", "next": back}
    )
    assert response["Location"] == back
    assert not active("charlie@backup.example")
    assert Unblock.objects.get().source == "list"


def test_unblock_of_an_address_that_is_not_blocked(sales_client, blocked):
    url = reverse("records:contact-unblock", args=[blocked.clean.pk])
    response = sales_client.post(url, {"field": "primary", "confirm": "on"}, follow=True)
    assert "echo@example.com is not blocked." in messages_of(response)


def bulk(client, **data):
    payload = {"fields": "both", "confirm": "on", **data}
    return client.post(reverse("records:contact-bulk-unblock"), payload, follow=True)


def test_bulk_unblock_selected_rows_primary_only(sales_client, blocked):
    ids = [blocked.temp_primary.pk, blocked.perm_primary.pk, blocked.both_temp.pk]
    response = bulk(sales_client, ids=ids, fields="primary")
    text = messages_of(response)
    assert "Unblocked 2 email addresses." in text
    assert "Skipped 1 address blocked permanently" in text and "bravo@example.com" in text
    assert not active("alpha@example.com") and not active("delta@example.com")
    assert active("delta@backup.example") and active("bravo@example.com")
    assert set(Unblock.objects.values_list("source", flat=True)) == {"bulk"}


def test_bulk_unblock_backup_and_both(sales_client, blocked):
    bulk(sales_client, ids=[blocked.both_temp.pk], fields="backup")
    assert active("delta@example.com") and not active("delta@backup.example")
    response = bulk(sales_client, ids=[blocked.both_temp.pk, blocked.clean.pk], fields="both")
    text = messages_of(response)
    assert "Unblocked 1 email address." in text
    assert "Skipped 2 addresses that are not blocked." in text


def test_bulk_unblock_all_rows_matching_the_filter(sales_client, blocked):
    response = bulk(
        sales_client, all_matching="1", query="blocked=temporary&field=backup", fields="backup"
    )
    assert "Unblocked 2 email addresses." in messages_of(response)
    assert not active("charlie@backup.example") and not active("delta@backup.example")
    assert active("alpha@example.com") and active("delta@example.com")
    assert response.redirect_chain[-1][0] == "/contacts/?blocked=temporary&field=backup"


def test_bulk_without_the_tick_does_nothing(sales_client, blocked):
    response = bulk(sales_client, ids=[blocked.temp_primary.pk], confirm="")
    text = messages_of(response)
    assert "Tick the box to confirm" in text and "Nothing was unblocked." in text
    assert Block.objects.active().count() == 5


def test_bulk_without_a_selection_does_nothing(sales_client, blocked):
    assert "Select at least one record." in messages_of(bulk(sales_client))
    assert Block.objects.active().count() == 5


def test_bulk_get_is_not_allowed(sales_client):
    assert sales_client.get(reverse("records:contact-bulk-unblock")).status_code == 405
