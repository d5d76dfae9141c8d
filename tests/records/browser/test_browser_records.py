"""The sales UI in a real browser: warnings on hover, filters, single and bulk unblock, Chinese."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bounces.models import Block, Unblock
from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


def active(address: str) -> bool:
    return Block.objects.active().filter(address=address).exists()


def row(page, name: str):
    return page.locator("#record-table tbody tr", has_text=name)


def names(page) -> list[str]:
    return [
        text.split()[-1]
        for text in page.locator("#record-table tbody td:nth-child(2)").all_inner_texts()
    ]


def test_hover_and_focus_show_the_warning_details(page, login, sales_user, blocked):
    login(sales_user).goto("/contacts/")
    badge = row(page, "Alpha").locator(".block-badge")
    tip = badge.locator("[role=tooltip]")
    expect(badge).to_have_class(re.compile("block-temporary"))
    expect(row(page, "Bravo").locator(".block-badge")).to_have_class(re.compile("block-permanent"))
    expect(tip).to_be_hidden()
    badge.hover()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Temporary block · Mailbox full")
    expect(tip).to_contain_text("at or near its storage limit")  # what it means
    expect(tip).to_contain_text("free some space")  # what to do
    expect(tip).to_contain_text("Last bounce:")
    expect(tip).to_contain_text("4.2.2 (452)")
    page.mouse.move(0, 0)
    expect(tip).to_be_hidden()
    # Keyboard users reach the same text by focusing the icon.
    permanent = row(page, "Bravo").locator(".block-badge")
    permanent.focus()
    expect(permanent.locator("[role=tooltip]")).to_be_visible()
    expect(permanent.locator("[role=tooltip]")).to_contain_text("Permanent block · Bad mailbox")


def test_filter_by_type_field_and_category(page, login, sales_user, blocked):
    login(sales_user).goto("/contacts/")
    assert names(page) == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    page.select_option("#id_blocked", "temporary")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"blocked=temporary"))
    assert names(page) == ["Alpha", "Charlie", "Delta"]
    page.select_option("#id_blocked", "permanent")
    page.get_by_role("button", name="Apply").click()
    assert names(page) == ["Bravo"]
    page.select_option("#id_blocked", "")
    page.select_option("#id_category", "temporary:auto_reply")
    page.get_by_role("button", name="Apply").click()
    assert names(page) == ["Charlie", "Delta"]
    page.select_option("#id_field", "primary")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No contacts match these filters.")).to_be_visible()


def test_filter_survives_paging(page, login, sales_user):
    for n in range(30):
        ContactFactory(last_name=f"Person{n:02d}", email=f"p{n}@example.com")
        BlockFactory(address=f"p{n}@example.com")
    ContactFactory(last_name="Zed")
    login(sales_user).goto("/contacts/?blocked=temporary")
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"blocked=temporary.*page=2|page=2.*blocked=temporary"))
    assert names(page) == [f"Person{n:02d}" for n in range(25, 30)]
    expect(page.locator("#id_blocked")).to_have_value("temporary")


def test_single_unblock_needs_the_tick(page, login, sales_user, blocked):
    login(sales_user).goto(f"/contacts/{blocked.temp_primary.pk}/")
    page.get_by_role("button", name="Unblock").click()
    dialog = page.locator("#unblock-primary")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog.get_by_text("Tick the box to confirm")).to_be_visible()
    assert active("alpha@example.com")
    dialog.get_by_label("The cause of the bounce is resolved").check()
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("alpha@example.com is unblocked.")).to_be_visible()
    expect(page.locator(".address-item[data-field=primary]")).to_contain_text("Not blocked")
    assert not active("alpha@example.com")
    assert Unblock.objects.get().source == "record"


def test_unblock_from_the_list(page, login, sales_user, blocked):
    login(sales_user).goto("/contacts/?blocked=temporary")
    cell = row(page, "Charlie")
    cell.locator(".block-badge").hover()
    expect(cell.locator("[role=tooltip]")).to_contain_text("Auto-reply")
    cell.get_by_role("link", name="Unblock").click()
    dialog = page.locator("#unblock-modal")
    expect(dialog).to_contain_text("charlie@backup.example")
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog.get_by_text("Tick the box to confirm")).to_be_visible()
    dialog.get_by_label("The cause of the bounce is resolved").check()
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("charlie@backup.example is unblocked.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/contacts/\?blocked=temporary"))
    assert names(page) == ["Alpha", "Delta"]
    assert Unblock.objects.get().source == "list"


def test_bulk_unblock_with_the_backup_choice(page, login, sales_user, blocked):
    login(sales_user).goto("/contacts/?blocked=temporary")
    row(page, "Charlie").locator("[data-row-select]").check()
    row(page, "Delta").locator("[data-row-select]").check()
    expect(page.locator("[data-selection-count]")).to_have_text("Rows selected: 2")
    page.get_by_role("button", name="Unblock email addresses").click()
    dialog = page.locator("#bulk-modal")
    dialog.get_by_label("Backup email").check()
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog.get_by_text("Tick the box to confirm")).to_be_visible()
    assert Block.objects.active().count() == 5
    dialog.get_by_label("The cause of the bounces is resolved").check()
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Unblocked 2 email addresses.")).to_be_visible()
    assert not active("charlie@backup.example") and not active("delta@backup.example")
    assert active("delta@example.com")  # primary not chosen


def test_bulk_unblock_all_rows_matching_the_filter(page, login, sales_user, blocked):
    for n in range(30):
        ContactFactory(last_name=f"Person{n:02d}", email=f"p{n}@example.com")
        BlockFactory(address=f"p{n}@example.com", category="network_error")
    login(sales_user).goto("/contacts/?blocked=any&field=primary")
    page.locator("[data-select-page]").check()
    page.get_by_role("button", name=re.compile("Select all 33 rows matching")).click()
    expect(page.get_by_text("All 33 rows matching this filter are selected.").first).to_be_visible()
    page.get_by_role("button", name="Unblock email addresses").click()
    dialog = page.locator("#bulk-modal")
    dialog.get_by_label("Primary email").check()
    dialog.get_by_label("The cause of the bounces is resolved").check()
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Unblocked 32 email addresses.")).to_be_visible()
    expect(page.get_by_text("Skipped 1 address blocked permanently")).to_contain_text(
        "bravo@example.com"
    )
    assert Block.objects.active().filter(type="temporary").count() == 2  # the two backups


def test_sales_user_refused_on_a_permanent_block(page, login, sales_user, blocked):
    login(sales_user).goto(f"/contacts/{blocked.perm_primary.pk}/")
    primary = page.locator(".address-item[data-field=primary]")
    expect(primary).to_contain_text("Blocked permanently")
    expect(primary.locator("[data-permanent-note]")).to_contain_text("ask an admin")
    expect(primary.get_by_role("button", name=re.compile("Unblock|Lift"))).to_have_count(0)
    page.goto(f"/contacts/{blocked.perm_primary.pk}/unblock/?field=primary")
    expect(page.locator("[data-permanent-refusal]")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm")).to_have_count(0)
    assert active("bravo@example.com")


def test_admin_lifts_a_permanent_block_with_a_reason(page, login, admin_user, blocked):
    login(admin_user).goto(f"/contacts/{blocked.perm_primary.pk}/")
    page.get_by_role("button", name="Lift permanent block").click()
    dialog = page.locator("#unblock-primary")
    dialog.get_by_label("The cause of the bounce is resolved").check()
    dialog.get_by_label("Reason for lifting a permanent block").fill("Confirmed by phone.")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("bravo@example.com is unblocked.")).to_be_visible()
    assert Unblock.objects.get().reason == "Confirmed by phone."


def test_chinese_ui(page, login, sales_user, blocked):
    login(sales_user).goto("/contacts/")
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="联系人")).to_be_visible()
    expect(page.get_by_role("link", name="线索")).to_be_visible()
    badge = row(page, "Alpha").locator(".block-badge")
    badge.hover()
    tip = badge.locator("[role=tooltip]")
    expect(tip).to_contain_text("临时阻止 · 邮箱已满")
    expect(tip).to_contain_text("请收件人清理一些空间")
    page.goto(f"/contacts/{blocked.perm_primary.pk}/")
    expect(page.locator("[data-permanent-note]")).to_contain_text("销售人员不能解除")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Bravo", exact=False)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
