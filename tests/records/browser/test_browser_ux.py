"""Everyday UX in Chromium at phone (390 px) and laptop (1366 px) widths, in both languages.

No page scrolls sideways, the rows-per-page menu works, the search finds full names and ignores
accents, Chinese dates stay on one line, validation errors are translated, and axe-core finds no
WCAG 2.1 AA violation on the main pages.
"""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from bounces.models import Mailing
from records.models import Contact, Lead
from tests.factories import BlockFactory, ContactFactory, SentEmailFactory

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = [390, 1366]


@pytest.fixture
def demo(settings, admin_user):
    """The demo data (mailings above the threshold, bounces, blocks) plus a few hard cases."""
    settings.DEBUG = True
    call_command("seed_demo", contacts=60, leads=20, bounces=40, verbosity=0)
    # The demo's random names can include these two people; the tests expect exactly one each.
    Contact.objects.filter(
        first_name__in=["Maya", "Chloé"], last_name__in=["Ali", "Dubois"]
    ).delete()
    contact = ContactFactory(
        first_name="Maya",
        last_name="Ali",
        company="Very Long Company Name International Holdings Limited",
        email="maya.ali.with.a.really.long.address@subdomain.example-corporation.com",
        backup_email="maya.personal.backup.address@another-long-domain.example.org",
        owner=admin_user,
    )
    ContactFactory(first_name="Chloé", last_name="Dubois", email="chloe@example.fr")
    BlockFactory(address="maya.ali.with.a.really.long.address@subdomain.example-corporation.com")
    BlockFactory(
        address="maya.personal.backup.address@another-long-domain.example.org", permanent=True
    )
    SentEmailFactory(contact=contact, to_address=contact.email, status="bounced")
    return contact


def pages(contact) -> list[str]:
    lead = Lead.objects.order_by("pk").first()
    mailing = Mailing.objects.order_by("pk").first()
    return [
        "/",
        "/contacts/",
        "/contacts/?blocked=any",
        "/leads/",
        f"/contacts/{contact.pk}/",
        f"/leads/{lead.pk}/",
        "/contacts/new/",
        "/reports/",
        "/reports/bounces/",
        "/reports/bounces/rows/bounces/",
        # The pages of sending, imports and list hygiene.
        "/mailings/",
        f"/mailings/{mailing.pk}/",
        f"/contacts/{contact.pk}/email/",
        "/imports/",
        "/hygiene/",
    ]


def overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(sized_page, login_as, admin_user, demo, width):
    page = login_as(sized_page(width), admin_user)
    for path in pages(demo):
        page.goto(path)
        scroll, inner = overflow(page)
        assert scroll <= inner, f"{path} is {scroll} px wide at {width} px"


@pytest.mark.parametrize("width", WIDTHS)
def test_phone_rows_are_cards_and_the_warning_opens_on_tap(
    sized_page, login_as, admin_user, demo, width
):
    page = login_as(sized_page(width), admin_user)
    page.goto("/contacts/?q=maya+ali")
    row = page.locator("#record-table tbody tr").first
    expect(row).to_contain_text("Maya Ali")
    badge = row.locator(".block-badge").first
    tip = badge.locator("[role=tooltip]")
    expect(tip).to_be_hidden()
    if width < 500:
        assert row.evaluate("r => getComputedStyle(r).display") == "grid"
        expect(row.locator("td.col-owner")).to_be_hidden()
        badge.tap()
    else:
        badge.hover()
    expect(tip).to_be_visible()
    box = tip.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert overflow(page)[0] <= width
    # Escape closes a tooltip shown on focus or hover (WCAG 1.4.13).
    badge.focus()
    expect(tip).to_be_visible()
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()
    expect(row.locator("[data-row-select]")).to_be_visible()


def test_rows_per_page_menu(page, login, admin_user, demo):
    login(admin_user).goto("/contacts/")
    menu = page.get_by_label("Rows per page")
    assert menu.locator("option").all_inner_texts() == ["25", "50", "100"]
    expect(page.locator("#record-table tbody tr")).to_have_count(25)
    menu.select_option("50")
    expect(page).to_have_url(re.compile(r"per_page=50"))
    expect(page.locator("#record-table tbody tr")).to_have_count(50)
    expect(page.get_by_label("Rows per page")).to_have_value("50")
    page.goto("/contacts/?per_page=-5")
    expect(page.locator("#record-table tbody tr")).to_have_count(25)
    page.goto("/contacts/?per_page=100000")
    expect(page.locator("#record-table tbody tr")).to_have_count(25)


def test_search_finds_full_names_in_either_order_and_ignores_accents(page, login, admin_user, demo):
    login(admin_user).goto("/contacts/")
    for query, expected in [
        ("Maya Ali", "Maya Ali"),
        ("ali maya", "Maya Ali"),
        ("Chloe", "Chloé Dubois"),
    ]:
        page.get_by_label("Search").fill(query)
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_role("link", name=expected, exact=True)).to_be_visible()
        for name in page.locator("#record-table tbody td.col-name").all_inner_texts():
            assert all(
                word in name.lower()
                for word in ("maya ali" if "ali" in query.lower() else "chloé").split()
            ), name


def test_chinese_dates_and_translated_validation(sized_page, login_as, admin_user, demo):
    page = login_as(sized_page(390, locale="zh-CN"), admin_user)
    page.goto("/contacts/")  # the browser asks for zh-CN (Accept-Language)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.goto(f"/contacts/{demo.pk}/")
    sent = page.locator("[data-emails-table] tbody td").first
    expect(sent).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日"))
    # One line: the date does not break in the middle ("2026年11月25 / 日").
    assert (
        sent.evaluate(
            "td => { const r = document.createRange(); r.selectNodeContents(td);"
            " return r.getClientRects().length; }"
        )
        == 1
    )
    page.goto("/contacts/new/")
    page.get_by_label("姓").fill("测试")
    page.locator("#id_email").fill("a..b@example.com")
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    expect(page.locator(".invalid-feedback")).to_contain_text("不能有两个连续的句点")


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_no_wcag_aa_violation(sized_page, login_as, admin_user, demo, axe, width):
    page = login_as(sized_page(width), admin_user)
    found = {}
    for path in pages(demo):
        page.goto(path)
        violations = axe(page)
        if violations:
            found[path] = violations
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)


def test_lifting_a_permanent_block_without_a_reason_says_why(page, login, admin_user):
    contact = ContactFactory(last_name="Gone", email="gone@example.com")
    BlockFactory(address="gone@example.com", permanent=True)
    login(admin_user).goto(f"/contacts/{contact.pk}/")
    page.get_by_role("button", name="Lift permanent block").click()
    dialog = page.locator("#unblock-primary")
    dialog.get_by_label("The cause of the bounce is resolved").check()
    dialog.get_by_role("button", name="Confirm").click()
    reason = dialog.get_by_label("Reason for lifting a permanent block")
    expect(dialog.get_by_text("Write why the permanent block can be lifted.")).to_be_visible()
    expect(reason).to_have_attribute("aria-invalid", "true")
    reason.fill("Confirmed by phone.")
    expect(dialog.get_by_text("Write why the permanent block can be lifted.")).to_have_count(0)


def test_axe_in_chinese_and_on_the_login_page(sized_page, login_as, admin_user, demo, axe):
    page = sized_page(1366, locale="zh-CN")
    found = {}
    page.goto("/accounts/login/")
    found["/accounts/login/"] = axe(page)
    login_as(page, admin_user)
    for path in ("/", "/contacts/?blocked=any", f"/contacts/{demo.pk}/", "/reports/bounces/"):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        found[path] = axe(page)
    found = {path: violations for path, violations in found.items() if violations}
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)
