"""Lifting the blocks of one record's addresses (record page, list view)."""

from __future__ import annotations

import pytest

from bounces.models import Unblock
from bounces.services.errors import NoAddress, NotBlocked, PermanentBlockNeedsAdmin
from bounces.services.record_unblock import fields_for, record_unblock
from tests.factories import BlockFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_fields_for_each_choice():
    assert fields_for("primary") == ["primary"]
    assert fields_for("backup") == ["backup"]
    assert fields_for("both") == ["primary", "backup"]
    with pytest.raises(ValueError):
        fields_for("third")


def test_each_field_is_decided_on_its_own(sales_user):
    contact = ContactFactory(email="Amy@Example.com", backup_email="amy.home@example.net")
    temporary = BlockFactory(address="amy@example.com")
    permanent = BlockFactory(address="amy.home@example.net", permanent=True)

    result = record_unblock(
        record=contact, fields="both", actor=sales_user, source="record", confirmed=True
    )

    assert [u.block_id for u in result.unblocked] == [temporary.pk]
    assert [type(e) for e in result.refused] == [PermanentBlockNeedsAdmin]
    temporary.refresh_from_db()
    permanent.refresh_from_db()
    assert not temporary.is_active and permanent.is_active
    audit = Unblock.objects.get()
    assert (audit.record_type, audit.record_id, audit.field) == ("contact", contact.pk, "primary")


def test_admin_lifts_both_fields_of_a_lead(admin_user):
    lead = LeadFactory(email="bo@example.com", backup_email="bo@example.org")
    BlockFactory(address="bo@example.com", permanent=True)
    BlockFactory(address="bo@example.org")

    result = record_unblock(
        record=lead,
        fields="both",
        actor=admin_user,
        source="admin",
        confirmed=True,
        reason="New mailbox confirmed by the customer",
    )

    assert not result.refused
    assert sorted(u.field for u in result.unblocked) == ["backup", "primary"]
    assert set(Unblock.objects.values_list("record_type", flat=True)) == {"lead"}


def test_the_same_address_in_both_fields_is_lifted_once(sales_user):
    contact = ContactFactory(email="cy@example.com", backup_email="CY@example.com")
    BlockFactory(address="cy@example.com")

    result = record_unblock(
        record=contact, fields="both", actor=sales_user, source="list", confirmed=True
    )

    assert len(result.unblocked) == 1 and not result.refused
    assert Unblock.objects.count() == 1


def test_an_empty_backup_field_is_refused_with_a_clear_message(sales_user):
    contact = ContactFactory(email="di@example.com", backup_email="")

    result = record_unblock(
        record=contact, fields="backup", actor=sales_user, source="record", confirmed=True
    )

    assert not result.unblocked
    [error] = result.refused
    assert isinstance(error, NoAddress) and isinstance(error, NotBlocked)
    assert str(error) == "The backup email is empty: there is no address to unblock."


def test_an_address_that_is_not_blocked_is_refused_and_nothing_changes(sales_user):
    contact = ContactFactory(email="ed@example.com")

    result = record_unblock(
        record=contact, fields="primary", actor=sales_user, source="record", confirmed=True
    )

    assert not result.unblocked
    assert [str(e) for e in result.refused] == ["ed@example.com is not blocked."]
    assert not Unblock.objects.exists()


def test_unconfirmed_unblock_changes_nothing(sales_user):
    contact = ContactFactory(email="fay@example.com")
    block = BlockFactory(address="fay@example.com")

    result = record_unblock(
        record=contact, fields="primary", actor=sales_user, source="record", confirmed=False
    )

    assert not result.unblocked and len(result.refused) == 1
    block.refresh_from_db()
    assert block.is_active
