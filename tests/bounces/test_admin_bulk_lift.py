"""The admin's lift actions go through the set-based bulk service: constant queries in the
number of rows, a permanent lift with the admin's reason, a refusal without the permission, and
a background job above the synchronous limit."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bounces.models import Block, BulkUnblockJob, Unblock
from bounces.services.bulk import blocks_bulk_unblock, bulk_unblock_job_run
from bounces.services.errors import UnblockNotAllowed
from records.models import Contact
from tests.factories import BlockFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

BLOCKS = reverse("admin:bounces_block_changelist")
CONTACTS = reverse("admin:records_contact_changelist")


def staff(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_block", *codenames]))
    return user


def blocked_contacts(count: int, start: int = 0, **block) -> list[Contact]:
    contacts = []
    for i in range(start, start + count):
        contacts.append(ContactFactory(email=f"c{i}@x.example"))
        BlockFactory(address=f"c{i}@x.example", **block)
    return contacts


def queries(client, url: str, data: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, data)
    assert response.status_code == 302
    return len(ctx.captured_queries)


def test_block_admin_lift_runs_the_same_queries_for_3_or_30_blocks(admin_client):
    def lift(blocks) -> int:
        return queries(
            admin_client,
            BLOCKS,
            {
                "action": "lift_temporary",
                "_selected_action": [str(b.pk) for b in blocks],
                "post": "yes",
                "confirmed": "on",
            },
        )

    blocked_contacts(3)
    few = lift(Block.objects.active())
    blocked_contacts(30, start=100)
    many = lift(Block.objects.active())

    assert many == few
    assert not Block.objects.active().exists()
    assert Unblock.objects.count() == 33
    assert not Contact.objects.exclude(email_block="").exists()


def test_record_admin_unblock_runs_the_same_queries_for_3_or_30_records(admin_client):
    def unblock(contacts) -> int:
        return queries(
            admin_client,
            CONTACTS,
            {
                "action": "unblock_addresses",
                "_selected_action": [str(c.pk) for c in contacts],
                "post": "yes",
                "confirmed": "on",
                "email_fields": "both",
            },
        )

    few = unblock(blocked_contacts(3))
    many = unblock(blocked_contacts(30, start=100))

    assert many == few
    assert Unblock.objects.count() == 33
    assert not Contact.objects.exclude(email_block="").exists()


def test_record_admin_lifts_permanent_and_temporary_blocks_with_the_reason(
    admin_client, admin_user
):
    dead = blocked_contacts(2, permanent=True)
    full = blocked_contacts(2, start=10)

    response = admin_client.post(
        CONTACTS,
        {
            "action": "unblock_addresses",
            "_selected_action": [str(c.pk) for c in [*dead, *full]],
            "post": "yes",
            "confirmed": "on",
            "email_fields": "primary",
            "reason": "The customer re-created the mailboxes.",
        },
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == ["Lifted 4 blocks. Skipped 0."]
    audit = Unblock.objects.order_by("address")
    assert {(u.block_type, u.reason, u.actor, u.source) for u in audit} == {
        ("permanent", "The customer re-created the mailboxes.", admin_user, "admin"),
        ("temporary", "The customer re-created the mailboxes.", admin_user, "admin"),
    }
    assert {u.address: (u.record_type, u.record_id, u.field) for u in audit} == {
        c.email: ("contact", c.pk, "primary") for c in [*dead, *full]
    }
    assert not Contact.objects.exclude(email_block="").exists()


def test_block_admin_permanent_lift_writes_the_reason_on_every_audit_row(admin_client):
    blocks = [BlockFactory(address=f"p{i}@x.example", permanent=True) for i in range(3)]

    admin_client.post(
        BLOCKS,
        {
            "action": "lift_permanent",
            "_selected_action": [str(b.pk) for b in blocks],
            "post": "yes",
            "confirmed": "on",
            "reason": "Postmaster confirmed.",
        },
    )

    assert not Block.objects.active().exists()
    assert set(Unblock.objects.values_list("reason", "record_type", "field")) == {
        ("Postmaster confirmed.", "", "")
    }


def test_a_reason_does_not_let_a_user_without_the_permission_lift_permanent_blocks():
    user = staff("unblock_temporary")
    permanent = BlockFactory(address="p@x.example", permanent=True)
    temporary = BlockFactory(address="t@x.example")

    result = blocks_bulk_unblock(
        queryset=Block.objects.all(), actor=user, confirmed=True, reason="please"
    )

    assert (result.unblocked, result.skipped_permanent) == (1, 1)
    assert result.permanent_examples == ["p@x.example"]
    assert Block.objects.get(pk=permanent.pk).is_active
    assert not Block.objects.get(pk=temporary.pk).is_active


def test_a_user_without_unblock_permissions_is_refused_and_nothing_changes():
    BlockFactory(address="t@x.example")

    with pytest.raises(UnblockNotAllowed):
        blocks_bulk_unblock(queryset=Block.objects.all(), actor=staff(), confirmed=True)

    assert Block.objects.active().count() == 1
    assert not Unblock.objects.exists()


def test_record_admin_above_the_sync_limit_starts_a_job_with_the_reason(
    admin_client, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.BULK_UNBLOCK_SYNC_LIMIT = 2
    contacts = blocked_contacts(3, permanent=True)

    with django_capture_on_commit_callbacks():
        response = admin_client.post(
            CONTACTS,
            {
                "action": "unblock_addresses",
                "_selected_action": [str(c.pk) for c in contacts],
                "post": "yes",
                "confirmed": "on",
                "email_fields": "primary",
                "reason": "Mailboxes restored.",
            },
            follow=True,
        )

    job = BulkUnblockJob.objects.get()
    assert (job.actor, job.source, job.reason, job.total) == (
        admin_user,
        "admin",
        "Mailboxes restored.",
        3,
    )
    assert "being unblocked in the background" in str(list(response.context["messages"])[0])
    assert Block.objects.active().count() == 3  # nothing yet: the worker runs it

    bulk_unblock_job_run(job_id=job.pk)

    assert not Block.objects.active().exists()
    assert set(Unblock.objects.values_list("source", "reason")) == {
        ("admin", "Mailboxes restored.")
    }


def test_bulk_unblock_jobs_are_read_only_in_the_admin(admin_client, admin_user):
    job = BulkUnblockJob.objects.create(
        actor=admin_user, record_type="contact", selection={"ids": [1]}, fields="both", total=1
    )

    listing = admin_client.get(reverse("admin:bounces_bulkunblockjob_changelist"))
    assert listing.status_code == 200
    page = admin_client.get(reverse("admin:bounces_bulkunblockjob_change", args=[job.pk]))
    assert page.status_code == 200 and 'name="state"' not in page.content.decode()
    assert admin_client.get(reverse("admin:bounces_bulkunblockjob_add")).status_code == 403
    delete = reverse("admin:bounces_bulkunblockjob_delete", args=[job.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
