"""Records' block columns (`email_block`, `backup_email_block`) always equal what a join of their
addresses on the active blocks says, after every operation that changes blocks or addresses.

The list filters read these columns instead of joining blocks, so a stale value would show a
lifted block as blocked (or hide a new one). Each test runs a real operation through its service,
view or admin, then compares every record with the join (`assert_in_sync`).
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from bench.samples import sample
from bounces.categories import BlockType, Category
from bounces.ingestion.process import inbound_process
from bounces.ingestion.store import inbound_store_raw
from bounces.models import Block, BouncePolicy, Unblock
from bounces.services.blocks import (
    BlockCause,
    BlockRequest,
    address_block,
    addresses_block,
    block_unblock,
)
from bounces.services.bulk import records_bulk_unblock
from bounces.services.record_blocks import records_sync_blocks
from bounces.services.record_unblock import record_unblock
from bounces.services.review import FixtureResolver, blocks_review_due
from records.models import Contact, Lead
from tests.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db

FULL = BlockCause(type=BlockType.TEMPORARY, category=Category.MAILBOX_FULL, status="4.2.2")
AWAY = BlockCause(type=BlockType.TEMPORARY, category=Category.AUTO_REPLY)
UNKNOWN = BlockCause(type=BlockType.PERMANENT, category=Category.BAD_MAILBOX, status="5.1.1")
DNS = BlockCause(type=BlockType.TEMPORARY, category=Category.DOMAIN_ERROR, status="4.4.3")


def expected_columns() -> dict[tuple[str, int], tuple[str, str]]:
    """Return each record's (primary, backup) block value as the join on active blocks says."""
    active = {b.address: f"{b.type}:{b.category}" for b in Block.objects.active()}
    expected = {}
    for model in (Contact, Lead):
        for pk, email, backup in model.objects.values_list("pk", "email", "backup_email"):
            # Keys computed here from the addresses, not read from the generated columns.
            expected[(model._meta.model_name, pk)] = (
                active.get(email.lower(), "") if email else "",
                active.get(backup.lower(), "") if backup else "",
            )
    return expected


def stored_columns() -> dict[tuple[str, int], tuple[str, str]]:
    stored = {}
    for model in (Contact, Lead):
        for pk, primary, backup in model.objects.values_list(
            "pk", "email_block", "backup_email_block"
        ):
            stored[(model._meta.model_name, pk)] = (primary, backup)
    return stored


def assert_in_sync() -> None:
    assert stored_columns() == expected_columns()


def columns(record) -> tuple[str, str]:
    record.refresh_from_db(fields=["email_block", "backup_email_block"])
    return record.email_block, record.backup_email_block


@pytest.fixture
def people():
    """Records sharing addresses across fields, models and letter case, and one clean record."""
    return {
        "ann": ContactFactory(email="Ann@Example.com", backup_email="ann@home.example"),
        "ann_lead": LeadFactory(email="ann.work@example.org", backup_email="ANN@example.COM"),
        "bob": ContactFactory(email="bob@example.com"),
        "bob_too": ContactFactory(email="BOB@example.com", backup_email="bob@other.example"),
        "clean": ContactFactory(email="clean@example.com"),
        "empty": ContactFactory(email="", backup_email=""),
    }


def test_a_new_block_marks_every_record_carrying_the_address_in_any_case_or_field(people):
    address_block(address="ANN@example.com", cause=FULL)

    assert columns(people["ann"]) == ("temporary:mailbox_full", "")
    assert columns(people["ann_lead"]) == ("", "temporary:mailbox_full")
    assert columns(people["clean"]) == ("", "")
    assert_in_sync()


def test_a_permanent_bounce_turns_the_columns_permanent(people):
    address_block(address="bob@example.com", cause=FULL)
    address_block(address="bob@example.com", cause=UNKNOWN)

    assert columns(people["bob"])[0] == columns(people["bob_too"])[0] == "permanent:bad_mailbox"
    assert_in_sync()


def test_a_later_bounce_of_another_temporary_category_moves_the_columns(people):
    now = timezone.now()
    address_block(address="bob@example.com", cause=FULL, at=now - timedelta(hours=1))
    address_block(address="bob@example.com", cause=AWAY, at=now)

    assert columns(people["bob"])[0] == "temporary:auto_reply"
    assert_in_sync()


def test_escalation_to_permanent_other(people):
    policy = BouncePolicy.current()
    policy.escalate_after_bounces = 2
    policy.escalate_within_days = 7
    policy.save()
    now = timezone.now()
    address_block(address="bob@example.com", cause=FULL, at=now - timedelta(days=1), policy=policy)
    assert columns(people["bob"])[0] == "temporary:mailbox_full"
    address_block(address="bob@example.com", cause=FULL, at=now, policy=policy)

    assert columns(people["bob"])[0] == columns(people["bob_too"])[0] == "permanent:other"
    assert_in_sync()


def test_a_single_lift_clears_every_record_carrying_the_address(people, sales_user):
    block = address_block(address="ann@example.com", cause=FULL)
    address_block(address="bob@example.com", cause=FULL)

    block_unblock(block=block, actor=sales_user, source=Unblock.Source.ADMIN, confirmed=True)

    assert columns(people["ann"]) == ("", "")
    assert columns(people["ann_lead"]) == ("", "")
    assert columns(people["bob"])[0] == "temporary:mailbox_full"  # untouched
    assert_in_sync()


def test_a_lift_from_the_record_page(people, sales_user):
    address_block(address="ann@example.com", cause=FULL)
    address_block(address="ann@home.example", cause=AWAY)

    result = record_unblock(
        record=people["ann"], fields="both", actor=sales_user, source="record", confirmed=True
    )

    assert len(result.unblocked) == 2
    assert columns(people["ann"]) == ("", "")
    assert_in_sync()


def test_a_bulk_lift_clears_temporary_and_keeps_permanent(people, sales_user):
    address_block(address="ann@example.com", cause=FULL)
    address_block(address="bob@example.com", cause=AWAY)
    address_block(address="bob@other.example", cause=UNKNOWN)

    result = records_bulk_unblock(
        queryset=Contact.objects.all(), fields="both", actor=sales_user, confirmed=True
    )

    assert result.unblocked == 2 and result.skipped_permanent == 1
    assert columns(people["ann_lead"]) == ("", "")  # a lead carrying a lifted address, too
    assert columns(people["bob_too"]) == ("", "permanent:bad_mailbox")
    assert_in_sync()


def test_the_system_review_lift(people):
    now = timezone.now()
    address_block(address="bob@example.com", cause=DNS, at=now - timedelta(days=200))
    resolver = FixtureResolver({"example.com": {"MX": ["10 mx.example.com."]}})

    result = blocks_review_due(now=now, resolver=resolver)

    assert result.lifted == 1
    assert columns(people["bob"]) == ("", "")
    assert_in_sync()


def test_an_ingestion_batch(people):
    raws = [
        sample(1, shape="postfix", token=None, rcpt="ann@example.com", failure=0).raw,
        sample(2, shape="postfix", token=None, rcpt="Bob@Example.com", failure=0).raw,
    ]
    ids = [
        inbound_store_raw(raw=raw, channel="pipe", source="test", queue=False).id for raw in raws
    ]

    inbound_process(ids=ids)

    assert Block.objects.active().count() == 2
    assert columns(people["ann"])[0] != ""
    assert columns(people["bob_too"])[0] == columns(people["bob"])[0] != ""
    assert_in_sync()


def test_a_batch_that_moves_an_existing_block_to_another_category(people):
    now = timezone.now()
    address_block(address="bob@example.com", cause=FULL, at=now - timedelta(hours=1))

    addresses_block(
        requests=[
            BlockRequest("BOB@example.com", UNKNOWN, now),
            BlockRequest("clean@example.com", AWAY, now),
        ]
    )

    assert columns(people["bob"])[0] == "permanent:bad_mailbox"
    assert columns(people["clean"])[0] == "temporary:auto_reply"
    assert_in_sync()


def test_an_edited_address_shows_the_new_address_state_never_the_old(people, sales_client):
    address_block(address="ann@example.com", cause=UNKNOWN)
    address_block(address="new@example.com", cause=AWAY)
    ann = people["ann"]

    sales_client.post(
        reverse("records:contact-update", args=[ann.pk]),
        {"last_name": ann.last_name, "email": "New@Example.com", "backup_email": ""},
    )
    assert columns(ann) == ("temporary:auto_reply", "")
    sales_client.post(
        reverse("records:contact-update", args=[ann.pk]),
        {"last_name": ann.last_name, "email": "fresh@example.com"},
    )
    assert columns(ann) == ("", "")
    # The old address keeps its block for the lead still carrying it.
    assert columns(people["ann_lead"]) == ("", "permanent:bad_mailbox")
    assert_in_sync()


def test_a_record_created_with_an_already_blocked_address(sales_client, admin_client):
    address_block(address="taken@example.com", cause=UNKNOWN)
    address_block(address="away@example.com", cause=AWAY)

    sales_client.post(
        reverse("records:lead-create"),
        {"last_name": "Viewmade", "email": "Taken@Example.com", "status": "new"},
    )
    response = admin_client.post(
        reverse("admin:records_contact_add"),
        {"last_name": "Adminmade", "email": "other@example.com", "backup_email": "AWAY@x.example"},
    )
    assert response.status_code == 302
    admin_client.post(
        reverse("admin:records_contact_add"),
        {"last_name": "Adminmade2", "email": "", "backup_email": "away@example.com"},
    )

    assert columns(Lead.objects.get(last_name="Viewmade")) == ("permanent:bad_mailbox", "")
    assert columns(Contact.objects.get(last_name="Adminmade2")) == ("", "temporary:auto_reply")
    assert_in_sync()


def test_an_admin_edit_moves_the_state_with_the_address(admin_client):
    address_block(address="taken@example.com", cause=UNKNOWN)
    contact = ContactFactory(email="taken@example.com")
    assert columns(contact) == ("permanent:bad_mailbox", "")

    response = admin_client.post(
        reverse("admin:records_contact_change", args=[contact.pk]),
        {"last_name": contact.last_name, "email": "free@example.com", "backup_email": ""},
    )

    assert response.status_code == 302
    assert columns(contact) == ("", "")
    assert_in_sync()


def test_the_repair_command_rebuilds_columns_written_behind_the_services_back(people):
    address_block(address="ann@example.com", cause=FULL)
    Contact.objects.filter(pk=people["clean"].pk).update(email_block="permanent:other")
    Block.objects.filter(address="ann@example.com").update(lifted_at=timezone.now())

    call_command("sync_record_blocks", stdout=io.StringIO())

    assert_in_sync()


def test_sync_writes_only_values_that_change(people):
    address_block(address="ann@example.com", cause=FULL)

    assert records_sync_blocks(addresses=["ann@example.com", "clean@example.com"]) == 0
    assert records_sync_blocks(addresses=None) == 0


def test_the_demo_seed_writes_columns_equal_to_the_blocks(settings):
    """seed_demo writes blocks behind the per-bounce services (bounces.services.seeding)."""
    settings.DEBUG = True  # seed_demo runs only with it on
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    call_command(
        "seed_demo",
        *["--contacts", "60", "--leads", "30", "--bounces", "120", "--seed", "3"],
        stdout=io.StringIO(),
    )

    assert Block.objects.active().exists() and Block.objects.filter(lifted_at__isnull=False)
    assert Contact.objects.exclude(email_block="").exists()
    assert_in_sync()
