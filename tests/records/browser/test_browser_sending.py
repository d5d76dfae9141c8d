"""'Email these records' in a real browser: the list's selection reaches the new-mailing form
(static/js/sending.js posts it past the bulk-unblock form's confirmation check)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from bounces.models import Sender
from tests.factories import ContactFactory


def test_email_these_records_posts_the_ticked_rows(page, login, admin_user):
    Sender.objects.create(address="news@crm.example", max_per_minute=0)
    first = ContactFactory(last_name="Aalto", email="aalto@customer.example")
    ContactFactory(last_name="Berg", email="berg@customer.example")
    login(admin_user).goto("/contacts/")
    page.locator(f"input[name=ids][value='{first.pk}']").check()
    page.get_by_role("button", name=re.compile("Email these records")).click()
    expect(page).to_have_url(re.compile(r"/mailings/new/$"))
    expect(page.get_by_text(re.compile(r"1 selected contacts"))).to_be_visible()
    page.get_by_label("Subject").fill("Hello {{first_name}}")
    page.get_by_label("Message").fill("Hi {{first_name}}")
    page.get_by_role("button", name="Continue to the pre-send check").click()
    expect(page).to_have_url(re.compile(r"/mailings/\d+/$"))
    expect(page.locator("[data-to-send]")).to_have_text("1")
