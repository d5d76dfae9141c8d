from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from records.models import Contact
from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_csv_export_follows_the_list_filter_and_is_formula_safe(sales_client):
    ContactFactory(last_name="=cmd|' /C calc'!A0", email="a@example.com", phone="+1 555 0100")
    ContactFactory(last_name="Other", email="b@example.com")
    BlockFactory(address="a@example.com")
    response = sales_client.get("/contacts/export.csv", {"blocked": "temporary"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["First name", "Last name", "Company", "Email"]
    assert len(rows) == 2
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert rows[1][5] == "'+1 555 0100"
    assert rows[1][7] == "temporary:mailbox_full"


def test_xlsx_export(sales_client):
    ContactFactory(last_name="@SUM(A1)", email="a@example.com")
    response = sales_client.get("/contacts/export.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.cell(2, 2).value == "'@SUM(A1)"


def test_export_needs_view_permission(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get("/leads/export.csv").status_code == 403


def test_bad_filter_is_a_400(sales_client):
    assert sales_client.get("/contacts/export.csv", {"owner": "abc"}).status_code == 400
    assert Contact.objects.count() == 0


def test_list_page_links_to_the_export(sales_client):
    page = sales_client.get("/leads/", {"q": "acme"}).content.decode()
    assert "/leads/export.csv?q=acme" in page
