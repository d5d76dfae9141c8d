"""Upload → mapping → preview → confirm → progress → result file, in Chromium, with the job run
by a real Celery worker."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from records.models import Lead

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_upload_preview_confirm(page, login, sales_user, write_csv, celery_worker):
    path = write_csv(encoding="utf-8-sig")
    login(sales_user).goto("/imports/")
    page.get_by_label("Import as").select_option("lead")
    page.get_by_label("CSV or XLSX file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/mapping/$"))
    expect(page.get_by_label("邮箱", exact=True)).to_have_value("email")
    page.get_by_label("电话").select_option("")  # the user drops the phone column
    page.get_by_role("button", name="Check the file").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/preview/$"))
    expect(page.locator("[data-count=created]")).to_have_text("2 to create")
    expect(page.locator("[data-count=rejected]")).to_have_text("2 rejected")
    rejected = page.locator("[data-preview=rejected]")
    expect(rejected).to_contain_text("not-an-email")
    expect(page.locator("[data-preview=changes]")).to_contain_text("removed the display name")
    expect(page.locator("[data-preview=typos]")).to_contain_text("anna@gmail.com")
    assert Lead.objects.count() == 0
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    expect(page.get_by_text("The import is done.")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the result file").click()
    with open(download.value.path(), encoding="utf-8-sig") as handle:
        text = handle.read()
    assert text.splitlines()[1].startswith("2,created,")
    assert Lead.objects.filter(email="li.wei@example.com", phone="").exists()


def test_a_renamed_pdf_gets_a_clear_message(page, login, sales_user, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"%PDF-1.4\n" + b"\x00\x01" * 200)
    login(sales_user).goto("/imports/")
    page.get_by_label("CSV or XLSX file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator("[data-import-error]")).to_contain_text("neither CSV nor XLSX")
