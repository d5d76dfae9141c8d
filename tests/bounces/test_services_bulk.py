"""records_bulk_unblock: set-based lifting of temporary blocks over a records queryset."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from django.db import connection

from bounces.models import Block, Unblock
from bounces.services.bulk import blocks_bulk_unblock, records_bulk_unblock
from bounces.services.errors import ConfirmationRequired, UnblockNotAllowed
from bounces.services.record_blocks import records_sync_blocks
from records.models import Contact
from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _active(address: str) -> bool:
    return Block.objects.active().filter(address=address).exists()


@pytest.fixture
def records():
    both = ContactFactory(email="Both@Example.com", backup_email="both.backup@example.com")
    perm = ContactFactory(email="perm@example.com", backup_email="perm.backup@example.com")
    clean = ContactFactory(email="clean@example.com")
    BlockFactory(address="both@example.com")
    BlockFactory(address="both.backup@example.com", category="auto_reply")
    BlockFactory(address="perm@example.com", permanent=True)
    BlockFactory(address="perm.backup@example.com")
    return both, perm, clean


def test_lifts_temporary_blocks_of_primary_only(records, sales_user):
    result = records_bulk_unblock(
        queryset=Contact.objects.all(),
        fields="primary",
        actor=sales_user,
        confirmed=True,
        source="bulk",
    )
    assert result.unblocked == 1
    assert not _active("both@example.com")
    assert _active("both.backup@example.com")  # backup not chosen
    assert _active("perm@example.com")
    assert result.skipped_permanent == 1
    assert result.permanent_examples == ["perm@example.com"]
    assert result.not_blocked == 1  # clean@example.com


def test_lifts_both_fields_and_writes_one_audit_row_per_block(records, sales_user):
    both, perm, _clean = records
    result = records_bulk_unblock(
        queryset=Contact.objects.all(), fields="both", actor=sales_user, confirmed=True
    )
    assert result.unblocked == 3
    assert result.skipped_permanent == 1
    audit = {u.address: u for u in Unblock.objects.all()}
    assert set(audit) == {"both@example.com", "both.backup@example.com", "perm.backup@example.com"}
    row = audit["both.backup@example.com"]
    assert (row.record_type, row.record_id, row.field) == ("contact", both.pk, "backup")
    assert row.actor == sales_user and row.confirmed and row.source == "bulk"
    assert audit["perm.backup@example.com"].record_id == perm.pk
    assert Block.objects.get(address="both@example.com").lifted_at is not None


def test_backup_only_counts_records_without_a_backup(records, sales_user):
    result = records_bulk_unblock(
        queryset=Contact.objects.all(), fields="backup", actor=sales_user, confirmed=True
    )
    assert result.unblocked == 2
    assert result.records_without_address == 1
    assert _active("both@example.com")


def test_refused_without_confirmation_changes_nothing(records, sales_user):
    with pytest.raises(ConfirmationRequired):
        records_bulk_unblock(
            queryset=Contact.objects.all(), fields="both", actor=sales_user, confirmed=False
        )
    assert Block.objects.active().count() == 4
    assert not Unblock.objects.exists()


def test_refused_for_a_user_without_the_permission(records, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="pw-nobody-123")
    with pytest.raises(UnblockNotAllowed):
        records_bulk_unblock(
            queryset=Contact.objects.all(), fields="both", actor=nobody, confirmed=True
        )
    assert Block.objects.active().count() == 4


def test_already_lifted_block_gets_no_second_audit_row(records, sales_user):
    records_bulk_unblock(
        queryset=Contact.objects.all(), fields="primary", actor=sales_user, confirmed=True
    )
    again = records_bulk_unblock(
        queryset=Contact.objects.all(), fields="primary", actor=sales_user, confirmed=True
    )
    assert again.unblocked == 0
    assert again.not_blocked == 2
    assert Unblock.objects.count() == 1


def test_shared_address_is_lifted_once(sales_user):
    ContactFactory(email="shared@example.com")
    ContactFactory(email="SHARED@example.com")
    BlockFactory(address="shared@example.com")
    result = records_bulk_unblock(
        queryset=Contact.objects.all(), fields="primary", actor=sales_user, confirmed=True
    )
    assert result.unblocked == 1
    assert Unblock.objects.count() == 1


def test_audit_row_names_a_record_of_the_selection_primary_field_first(sales_user):
    outside = ContactFactory(email="shared@example.com")  # not selected: never named
    as_backup = ContactFactory(email="own@example.com", backup_email="Shared@example.com")
    as_primary = ContactFactory(email="shared@example.com")
    BlockFactory(address="shared@example.com")
    selected = Contact.objects.exclude(pk=outside.pk)
    # A selection shaped like "the first N of a filter" (a subquery with a LIMIT).
    queryset = selected.filter(pk__in=selected.order_by("pk").values("pk")[:2])
    result = records_bulk_unblock(
        queryset=queryset, fields="both", actor=sales_user, confirmed=True
    )
    assert result.unblocked == 1
    row = Unblock.objects.get()
    assert (row.record_type, row.record_id, row.field) == ("contact", as_primary.pk, "primary")
    assert as_backup.pk < as_primary.pk  # the backup carrier came first, the primary one wins


def test_block_list_lift_audit_row_names_no_record(sales_user):
    ContactFactory(email="listed@example.com")
    BlockFactory(address="listed@example.com")
    result = blocks_bulk_unblock(queryset=Block.objects.all(), actor=sales_user, confirmed=True)
    assert result.unblocked == 1
    row = Unblock.objects.get()
    assert (row.record_type, row.record_id, row.field) == ("", None, "")
    assert (row.block_type, row.category, row.actor) == (
        "temporary",
        row.block.category,
        sales_user,
    )


@pytest.mark.postgres
def test_ten_thousand_records_set_based_on_postgresql(django_assert_max_num_queries):
    """10,000 records in a fixed, small number of queries (timing: records/bench.py bulk)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (set DATABASE_URL)")
    from django.contrib.auth.models import Group

    actor = User.objects.create_user("bulk-sales")
    actor.groups.add(Group.objects.get(name="Sales staff"))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_contact (first_name, last_name, company, phone, email, "
            "backup_email, created_at, updated_at) SELECT 'N', 'Person ' || i, '', '', "
            "'p' || i || '@bulk.example', '', now(), now() FROM generate_series(1, 10000) i"
        )
        cursor.execute(
            "INSERT INTO bounces_block (address, type, category, status, reply_code, diagnostic,"
            " explanation, first_bounce_at, last_bounce_at, bounce_count, created_at) SELECT "
            "email_key, CASE WHEN id % 10 = 0 THEN 'permanent' ELSE 'temporary' END, "
            "'other', '', '', '', '', now(), now(), 1, now() FROM records_contact"
        )
    records_sync_blocks()  # the raw inserts bypassed the services
    started = time.perf_counter()
    # 11 before the records' block columns (the audit rows: one INSERT per 5,000 lifted
    # blocks); their sync adds one UPDATE per model and 5,000 lifted addresses (here 2 × 2).
    with django_assert_max_num_queries(15):
        result = records_bulk_unblock(
            queryset=Contact.objects.all(), fields="both", actor=actor, confirmed=True
        )
    elapsed = time.perf_counter() - started
    assert result.unblocked == 9000
    assert result.skipped_permanent == 1000
    assert Unblock.objects.count() == 9000
    assert Block.objects.active().count() == 1000
    assert Contact.objects.exclude(email_block="").count() == 1000
    print(f"bulk unblock of 10,000 records: {elapsed:.2f} s")
