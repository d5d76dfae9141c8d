"""Contacts and leads in the Django admin: block filters, warnings, the unblock action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bounces.models import Block, Unblock
from tests.factories import BlockFactory, ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTACTS = reverse("admin:records_contact_changelist")
LEADS = reverse("admin:records_lead_changelist")


@pytest.fixture
def records():
    """Four contacts: permanent primary, temporary backup, both blocked, nothing blocked."""
    perm = ContactFactory(last_name="Perm", email="perm@dead.example")
    temp = ContactFactory(
        last_name="Temp", email="temp@ok.example", backup_email="Temp@Full.example"
    )
    both = ContactFactory(
        last_name="Both", email="both@ok.example", backup_email="both@home.example"
    )
    clean = ContactFactory(last_name="Clean", email="clean@ok.example")
    BlockFactory(address="perm@dead.example", permanent=True)
    BlockFactory(address="temp@full.example")
    BlockFactory(address="both@ok.example", category="network_error")
    BlockFactory(address="both@home.example", permanent=True, category="bad_domain")
    # A lifted block is history, not a warning.
    BlockFactory(address="clean@ok.example", lifted_at="2025-01-01T00:00:00Z")
    return {"perm": perm, "temp": temp, "both": both, "clean": clean}


def names(response) -> set[str]:
    return {str(obj) for obj in response.context["cl"].result_list}


def staff(*codenames: str):
    user = UserFactory(is_staff=True)
    perms = Permission.objects.filter(
        codename__in=["view_contact", "change_contact", "view_lead", *codenames]
    )
    user.user_permissions.add(*perms)
    return user


# --- list ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query, expected",
    [
        ("primary_block=permanent", {"Perm"}),
        ("primary_block=temporary", {"Both"}),
        ("primary_block=any", {"Perm", "Both"}),
        ("primary_block=none", {"Temp", "Clean"}),
        ("backup_block=temporary", {"Temp"}),
        ("backup_block=permanent", {"Both"}),
        ("backup_block=none", {"Perm", "Clean"}),
        ("primary_category=permanent:bad_mailbox", {"Perm"}),
        ("primary_category=temporary:network_error", {"Both"}),
        ("backup_category=permanent:bad_domain", {"Both"}),
        ("backup_category=temporary:mailbox_full", {"Temp"}),
        ("primary_category=temporary:bad_domain", set()),
        ("primary_block=permanent&backup_block=none", {"Perm"}),
    ],
)
def test_changelist_filters_by_block_type_and_category_of_each_address(
    admin_client, records, query, expected
):
    response = admin_client.get(f"{CONTACTS}?{query}")
    assert response.status_code == 200
    assert {n.split()[-1] for n in names(response)} == expected


def test_changelist_shows_a_readable_warning_for_each_address(admin_client, records):
    response = admin_client.get(CONTACTS)
    html = response.content.decode()
    assert "⛔ Permanent · Bad mailbox" in html
    assert "⚠ Temporary · Mailbox full" in html
    assert "⚠ Temporary · Temporary network error" in html
    assert "⛔ Permanent · Bad domain" in html
    rows = {obj.last_name: obj for obj in response.context["cl"].result_list}
    assert rows["Temp"].email_block == ""
    assert rows["Temp"].backup_email_block == "temporary:mailbox_full"
    assert rows["Clean"].email_block == ""  # lifted blocks are not warnings


def test_changelist_runs_the_same_queries_for_3_or_60_records(admin_client):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(f"{CONTACTS}?primary_block=any").status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        ContactFactory(email=f"a{i}@x.example", backup_email=f"b{i}@x.example")
        BlockFactory(address=f"a{i}@x.example")
    few = page_queries()
    for i in range(3, 60):
        ContactFactory(email=f"a{i}@x.example", backup_email=f"b{i}@x.example")
        BlockFactory(address=f"a{i}@x.example", permanent=True)
        BlockFactory(address=f"b{i}@x.example")
    assert page_queries() == few
    # Session, user, then the filtered count, the total count and the page itself.
    assert few <= 8


def test_search_finds_records_by_company_and_address(admin_client, records):
    ContactFactory(last_name="Zed", company="Acme Tooling Ltd", email="zed@acme.example")
    assert names(admin_client.get(f"{CONTACTS}?q=tooling")) == {
        str(ContactFactory._meta.model.objects.get(last_name="Zed"))
    }
    found = names(admin_client.get(f"{CONTACTS}?q=home.example"))
    assert len(found) == 1 and found.pop().endswith("Both")


def test_lead_changelist_has_the_same_filters(admin_client):
    LeadFactory(last_name="Lost", email="lost@gone.example", status="lost")
    LeadFactory(last_name="Fine", email="fine@ok.example")
    BlockFactory(address="lost@gone.example", permanent=True)
    response = admin_client.get(f"{LEADS}?primary_block=permanent&status=lost")
    assert {o.last_name for o in response.context["cl"].result_list} == {"Lost"}
    assert "⛔ Permanent · Bad mailbox" in response.content.decode()


def test_sales_staff_cannot_open_the_admin(sales_client):
    response = sales_client.get(CONTACTS)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- form ---------------------------------------------------------------------------------------
def test_admin_form_refuses_an_invalid_address_with_a_clear_message(admin_client):
    response = admin_client.post(
        reverse("admin:records_contact_add"),
        {"first_name": "Ann", "last_name": "Lee", "email": "ann@@example", "backup_email": ""},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "is not a valid email address" in errors["email"][0]
    assert "ann@@example" in errors["email"][0]


def test_admin_form_normalises_addresses(admin_client):
    response = admin_client.post(
        reverse("admin:records_contact_add"),
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "email": "  <Ann.Lee@Example.COM> ",
            "backup_email": "ANN@Home.Example.",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    contact = ContactFactory._meta.model.objects.get(last_name="Lee")
    assert contact.email == "Ann.Lee@example.com"
    assert contact.backup_email == "ANN@home.example"
    assert contact.email_key == "ann.lee@example.com"


# --- the unblock action -------------------------------------------------------------------------
def action(client, ids, url=CONTACTS, **data):
    return client.post(
        url,
        {"action": "unblock_addresses", "_selected_action": [str(i) for i in ids], **data},
        follow=bool(data.get("post")),
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_unblock_action_shows_a_confirmation_page_first(admin_client, records):
    ids = [records["temp"].pk, records["both"].pk, records["clean"].pk]

    response = action(admin_client, ids)

    assert response.status_code == 200
    assert "admin/records/unblock_confirmation.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "Temp@Full.example" in html and "⚠ Temporary · Mailbox full" in html
    assert "both@home.example" in html and "⛔ Permanent · Bad domain" in html
    assert 'name="post" value="yes"' in html
    assert Block.objects.active().count() == 4  # nothing changed yet


def test_admin_unblocks_temporary_addresses_with_audit_rows(admin_client, admin_user, records):
    response = action(
        admin_client, [records["temp"].pk], post="yes", confirmed="on", email_fields="both"
    )

    assert messages_of(response) == ["Lifted 1 block. Skipped 0."]
    audit = Unblock.objects.get()
    assert audit.address == "temp@full.example"
    assert (audit.actor, audit.source, audit.confirmed) == (admin_user, "admin", True)
    assert (audit.record_type, audit.record_id, audit.field) == (
        "contact",
        records["temp"].pk,
        "backup",
    )


def test_permanent_blocks_need_a_written_reason(admin_client, records):
    response = action(
        admin_client, [records["perm"].pk], post="yes", confirmed="on", email_fields="primary"
    )
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not Unblock.objects.exists()

    response = action(
        admin_client,
        [records["perm"].pk],
        post="yes",
        confirmed="on",
        email_fields="primary",
        reason="Customer confirmed the mailbox was re-created.",
    )
    assert messages_of(response) == ["Lifted 1 block. Skipped 0."]
    assert Unblock.objects.get().reason == "Customer confirmed the mailbox was re-created."


def test_unblock_needs_the_confirmation_box(admin_client, records):
    response = action(admin_client, [records["temp"].pk], post="yes", email_fields="both")
    assert response.status_code == 200
    assert "confirmed" in response.context["form"].errors
    assert not Unblock.objects.exists()


def test_only_the_chosen_field_is_unblocked(admin_client, records):
    action(
        admin_client,
        [records["both"].pk],
        post="yes",
        confirmed="on",
        email_fields="primary",
    )
    assert list(Unblock.objects.values_list("address", flat=True)) == ["both@ok.example"]
    assert Block.objects.active().filter(address="both@home.example").exists()


def test_staff_without_permanent_permission_has_permanent_blocks_skipped(client, records):
    client.force_login(staff("unblock_temporary"))

    response = action(
        client,
        [records["perm"].pk, records["both"].pk],
        post="yes",
        confirmed="on",
        email_fields="both",
    )

    msgs = messages_of(response)
    assert msgs[0] == "Lifted 1 block. Skipped 2."
    assert sorted(m.split()[0] for m in msgs[1:]) == ["both@home.example", "perm@dead.example"]
    assert all("Only an admin can lift a permanent block" in m for m in msgs[1:])
    assert list(Unblock.objects.values_list("address", flat=True)) == ["both@ok.example"]


def test_staff_without_unblock_permission_cannot_run_the_action(client, records):
    client.force_login(staff())
    changelist = client.get(CONTACTS)
    assert "unblock_addresses" not in changelist.content.decode()

    response = action(client, [records["temp"].pk], post="yes", confirmed="on", email_fields="both")

    # The action is not offered, and posting it anyway runs nothing (no confirmation page).
    assert "admin/records/unblock_confirmation.html" not in [t.name for t in response.templates]
    assert not Unblock.objects.exists()
    assert Block.objects.active().count() == 4


def test_unblocking_records_that_are_not_blocked_changes_nothing(admin_client, records):
    response = action(
        admin_client, [records["clean"].pk], post="yes", confirmed="on", email_fields="both"
    )
    msgs = messages_of(response)
    assert msgs[0] == "Lifted 0 blocks. Skipped 0."
    assert "1 selected record has no blocked address in the chosen fields" in msgs[1]
    assert not Unblock.objects.exists()


def test_select_all_matching_lifts_every_filtered_record(admin_client):
    for i in range(5):
        ContactFactory(email=f"m{i}@x.example")
        BlockFactory(address=f"m{i}@x.example")
    ContactFactory(email="keep@x.example")
    BlockFactory(address="keep@x.example", permanent=True)

    response = admin_client.post(
        f"{CONTACTS}?primary_block=temporary",
        {
            "action": "unblock_addresses",
            "select_across": "1",
            "index": "0",
            "_selected_action": ["0"],
            "post": "yes",
            "confirmed": "on",
            "email_fields": "primary",
        },
        follow=True,
    )

    assert messages_of(response)[0] == "Lifted 5 blocks. Skipped 0."
    assert list(Block.objects.active().values_list("address", flat=True)) == ["keep@x.example"]
