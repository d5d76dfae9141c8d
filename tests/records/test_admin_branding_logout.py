"""The admin is branded; logging out says so; temporary and permanent blocks differ in the admin."""

from __future__ import annotations

import pytest

from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_admin_is_branded(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "BounceCRM administration" in html
    assert "Django administration" not in html


def test_admin_icons_differ_by_block_type(admin_client):
    ContactFactory(email="t@example.com", backup_email="p@example.com")
    BlockFactory(address="t@example.com")
    BlockFactory(address="p@example.com", permanent=True)
    from bounces.services.record_blocks import records_sync_blocks

    records_sync_blocks(addresses=["t@example.com", "p@example.com"])
    html = admin_client.get("/admin/records/contact/").content.decode()
    assert "⚠ Temporary · Mailbox full" in html
    assert "⛔ Permanent · Bad mailbox" in html


def test_logging_out_confirms_it(sales_client):
    response = sales_client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "You are logged out." in response.content.decode()
    assert sales_client.get("/contacts/").status_code == 302


def test_unblock_dialog_carries_the_reason_message_for_admins(admin_client):
    contact = ContactFactory(email="gone@example.com")
    BlockFactory(address="gone@example.com", permanent=True)
    html = admin_client.get(contact.get_absolute_url()).content.decode()
    assert 'data-required-message="Write why the permanent block can be lifted."' in html
