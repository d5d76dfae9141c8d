"""List hygiene: finding bad addresses, duplicates and stale records; audited bulk fixes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bounces.categories import BlockType, Category
from records.imports.hygiene import hygiene_records
from records.imports.models import HygieneAction
from records.models import Contact
from tests.factories import BlockFactory, ContactFactory, SentEmailFactory

pytestmark = pytest.mark.django_db
URL = reverse("imports:hygiene")


@pytest.fixture
def records():
    bad = ContactFactory(last_name="Bad", email="no-at-sign", backup_email="ok@example.com")
    dead = ContactFactory(last_name="Dead", email="dead@example.com")
    BlockFactory(
        address="dead@example.com", type=BlockType.PERMANENT, category=Category.BAD_MAILBOX
    )
    first = ContactFactory(last_name="First", email="dup@example.com", company="", phone="")
    second = ContactFactory(last_name="Second", email="DUP@example.com", company="Acme", phone="1")
    fresh = ContactFactory(
        last_name="Fresh",
        email="fresh@example.com",
        last_emailed_at=timezone.now() - timedelta(days=3),
    )
    for record in (bad, dead, first, second):
        Contact.objects.filter(pk=record.pk).update(last_emailed_at=timezone.now())
    stale = ContactFactory(
        last_name="Stale",
        email="stale@example.com",
        last_emailed_at=timezone.now() - timedelta(days=200),
    )
    dead.refresh_from_db()
    return {
        "bad": bad,
        "dead": dead,
        "first": first,
        "second": second,
        "fresh": fresh,
        "stale": stale,
    }


def test_problems_are_found(records):
    def names(problem):
        return sorted(r.last_name for r in hygiene_records(Contact, problem))

    assert names("invalid") == ["Bad"]
    assert names("blocked") == ["Dead"]
    assert names("duplicates") == ["First", "Second"]
    assert names("stale") == ["Stale"]


def test_page_lists_and_counts(sales_client, records, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        response = sales_client.get(URL, {"kind": "contact", "problem": "blocked"})
    page = response.content.decode()
    assert "dead@example.com" in page and "Permanent · " in page
    assert "no-at-sign" not in page
    # Sales staff may clear addresses but not delete.
    assert 'value="clear_address"' in page and 'value="delete"' not in page


def test_clear_bad_address_needs_confirmation_and_is_audited(sales_client, sales_user, records):
    dead = records["dead"]
    data = {"kind": "contact", "problem": "blocked", "action": "clear_address", "ids": [dead.pk]}
    sales_client.post(URL, data)
    dead.refresh_from_db()
    assert dead.email == "dead@example.com"
    sales_client.post(URL, {**data, "confirm": "1"})
    dead.refresh_from_db()
    assert (dead.email, dead.email_block) == ("", "")
    action = HygieneAction.objects.get()
    assert (action.actor, action.action, action.record_ids) == (
        sales_user,
        "clear_address",
        [dead.pk],
    )
    assert action.details[0]["email"] == "dead@example.com"


def test_clear_invalid_keeps_the_good_address(sales_client, records):
    bad = records["bad"]
    sales_client.post(
        URL,
        {
            "kind": "contact",
            "problem": "invalid",
            "action": "clear_address",
            "all_matching": "1",
            "confirm": "1",
        },
    )
    bad.refresh_from_db()
    assert (bad.email, bad.backup_email) == ("", "ok@example.com")


def test_sales_staff_cannot_delete(sales_client, records):
    response = sales_client.post(
        URL,
        {
            "kind": "contact",
            "problem": "stale",
            "action": "delete",
            "ids": [records["stale"].pk],
            "confirm": "1",
        },
    )
    assert response.status_code == 403
    assert Contact.objects.filter(pk=records["stale"].pk).exists()


def test_admin_merges_duplicates(admin_client, admin_user, records):
    first, second = records["first"], records["second"]
    Contact.objects.filter(pk=second.pk).update(owner=admin_user, backup_email="b@example.com")
    Contact.objects.filter(pk=first.pk).update(owner=None, backup_email="")
    BlockFactory(address="b@example.com")
    sent = SentEmailFactory(contact=second, lead=None)
    admin_client.post(
        URL,
        {
            "kind": "contact",
            "problem": "duplicates",
            "action": "merge",
            "ids": [second.pk],
            "confirm": "1",
        },
    )
    assert not Contact.objects.filter(pk=second.pk).exists()
    first.refresh_from_db()
    assert (first.company, first.phone, first.owner) == ("Acme", "1", admin_user)
    # The backup address it took over brings its block state along.
    assert (first.backup_email, first.backup_email_block) == (
        "b@example.com",
        "temporary:mailbox_full",
    )
    sent.refresh_from_db()
    assert sent.contact_id == first.pk
    action = HygieneAction.objects.get()
    assert action.details[0]["merged_into"] == first.pk


def test_admin_deletes_stale(admin_client, records):
    admin_client.post(
        URL,
        {
            "kind": "contact",
            "problem": "stale",
            "action": "delete",
            "ids": [records["stale"].pk, records["fresh"].pk],
            "confirm": "1",
        },
    )
    # Only records that still have the problem are touched.
    assert not Contact.objects.filter(pk=records["stale"].pk).exists()
    assert Contact.objects.filter(pk=records["fresh"].pk).exists()


def test_needs_change_permission(client, records):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403


def test_garbage_parameters_do_not_500(sales_client, records):
    assert sales_client.get(URL, {"kind": "x", "problem": "y", "page": "z"}).status_code == 200
    response = sales_client.post(
        URL, {"problem": "blocked", "action": "clear_address", "ids": ["a"], "confirm": "1"}
    )
    assert response.status_code == 302
