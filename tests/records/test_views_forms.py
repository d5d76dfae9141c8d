"""Creating and editing records: validated addresses, and blocks that stay with their address."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bounces.models import Block
from records.models import Contact, Lead
from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_create_contact_normalises_the_address(sales_client):
    response = sales_client.post(
        reverse("records:contact-create"),
        {"first_name": "Ana", "last_name": "Lima", "email": "  Ana.Lima@Example.COM "},
    )
    contact = Contact.objects.get()
    assert response["Location"] == contact.get_absolute_url()
    assert contact.email == "Ana.Lima@example.com"
    assert contact.email_key == "ana.lima@example.com"


def test_invalid_addresses_are_refused_with_a_reason(sales_client):
    response = sales_client.post(
        reverse("records:contact-create"),
        {"last_name": "Lima", "email": "not-an-address", "backup_email": "x@@y"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "is not a valid email address" in form.errors["email"][0]
    assert "backup_email" in form.errors
    assert not Contact.objects.exists()


def test_backup_must_differ_from_primary(sales_client):
    response = sales_client.post(
        reverse("records:contact-create"),
        {"last_name": "Lima", "email": "a@example.com", "backup_email": "A@example.com"},
    )
    assert "same as the primary" in response.context["form"].errors["backup_email"][0]


def test_create_lead_with_status(sales_client):
    sales_client.post(
        reverse("records:lead-create"),
        {"last_name": "Lead", "email": "l@example.org", "status": "contacted", "source": "fair"},
    )
    assert Lead.objects.get().status == "contacted"


def test_changed_address_does_not_inherit_the_old_block(sales_client):
    contact = ContactFactory(email="old@example.com")
    other = ContactFactory(email="old@example.com")
    BlockFactory(address="old@example.com")
    url = reverse("records:contact-update", args=[contact.pk])
    sales_client.post(
        url, {"last_name": contact.last_name, "email": "new@example.com", "owner": ""}
    )
    contact.refresh_from_db()
    assert contact.email == "new@example.com"
    page = sales_client.get(contact.get_absolute_url()).content.decode()
    assert "block-badge" not in page
    assert "Not blocked" in page
    # The old address keeps its block, for every record still carrying it.
    assert Block.objects.active().filter(address="old@example.com").exists()
    assert "block-badge" in sales_client.get(other.get_absolute_url()).content.decode()
    blocked_list = sales_client.get("/contacts/", {"blocked": "any"})
    assert [r.record.pk for r in blocked_list.context["table"].page.object_list] == [other.pk]


def test_changing_to_a_blocked_address_warns(sales_client):
    contact = ContactFactory(email="fine@example.com")
    BlockFactory(address="taken@example.com", permanent=True)
    response = sales_client.post(
        reverse("records:contact-update", args=[contact.pk]),
        {"last_name": contact.last_name, "email": "taken@example.com"},
        follow=True,
    )
    text = " ".join(str(m) for m in response.context["messages"])
    assert "taken@example.com is blocked (Permanent: Bad mailbox)." in text


def test_new_record_defaults_to_the_current_user_as_owner(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("owen", first_name="Owen", last_name="Ng")
    user.user_permissions.add(Permission.objects.get(codename="add_contact"))
    client.force_login(user)
    form = client.get("/contacts/new/").context["form"]
    assert form.initial["owner"] == user.pk
    # The menu names people as the table does: full name, else username.
    assert ("Owen Ng") in [label for _value, label in form.fields["owner"].choices]


def test_saving_an_address_another_record_has_warns_with_a_link(admin_client):
    from tests.factories import ContactFactory, LeadFactory

    lead = LeadFactory(first_name="Lena", last_name="Lead", backup_email="dup@example.com")
    other = ContactFactory(first_name="Carl", last_name="Contact", email="x@example.com")
    response = admin_client.post(
        "/contacts/new/", {"last_name": "New", "email": "DUP@example.com"}, follow=True
    )
    html = response.content.decode()
    assert "dup@example.com is also the address of lead" in html
    assert f'<a href="/leads/{lead.pk}/">Lena Lead</a>' in html
    response = admin_client.post(
        f"/contacts/{other.pk}/edit/",
        {"last_name": "Contact", "email": "x@example.com"},
        follow=True,
    )
    assert "is also the address of" not in response.content.decode()
