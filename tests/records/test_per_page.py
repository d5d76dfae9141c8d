"""`?per_page=` takes only the menu's sizes; anything else is the default, never a 500."""

from __future__ import annotations

import pytest

from records.tables import PER_PAGE_CHOICES, allowed_per_page
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

GARBAGE = [
    "-5",
    "-1",
    "0",
    "1",
    "24",
    "5000",
    "100000",
    "99999999999999999999999",
    "abc",
    "",
    "25.0",
    "1e3",
    "nan",
    "%00",
    "25abc",
]


@pytest.mark.parametrize("value", [*GARBAGE, None])
def test_allowed_per_page_falls_back_to_the_default(value):
    assert allowed_per_page(value) == PER_PAGE_CHOICES[0]


@pytest.mark.parametrize("value", PER_PAGE_CHOICES)
def test_allowed_per_page_keeps_a_menu_size(value):
    assert allowed_per_page(str(value)) == value


@pytest.mark.parametrize("path", ["/contacts/", "/leads/"])
@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_per_page_renders_the_default_page(sales_client, path, value):
    for n in range(30):
        ContactFactory(last_name=f"P{n:02d}")
    response = sales_client.get(path, {"per_page": value})
    assert response.status_code == 200
    table = response.context["table"]
    assert table.paginator.per_page == PER_PAGE_CHOICES[0]
    if path == "/contacts/":
        assert len(table.page.object_list) == 25


@pytest.mark.parametrize("value", ["-5", "0", "abc", "", "1.5", "99999999999999999999999"])
def test_garbage_page_number_is_page_one_or_the_last(sales_client, value):
    for n in range(30):
        ContactFactory(last_name=f"P{n:02d}")
    response = sales_client.get("/contacts/", {"page": value, "blocked": ""})
    assert response.status_code == 200
    assert response.context["table"].page.number in (1, 2)
    response = sales_client.get("/contacts/", {"page": value, "q": "p"})
    assert response.status_code == 200


def test_a_common_search_word_counts_up_to_the_cap(sales_client, settings, monkeypatch):
    monkeypatch.setattr("records.views.SEARCH_COUNT_CAP", 26)
    for n in range(30):
        ContactFactory(last_name=f"Common{n:02d}")
    html = sales_client.get("/contacts/", {"q": "common"}).content.decode()
    assert "1–25 of more than 26" in html
    assert "Select all rows matching this filter" in html
    assert sales_client.get("/contacts/", {"q": "common07"}).context["table"].paginator.count == 1


def test_the_menu_lists_the_sizes_and_marks_the_current_one(sales_client):
    ContactFactory()
    html = sales_client.get("/contacts/", {"per_page": "50"}).content.decode()
    menu = html.split('id="per-page"', 1)[1].split("</select>", 1)[0]
    assert '<option value="25">25</option>' in menu
    assert '<option value="50" selected>50</option>' in menu
    assert '<option value="100">100</option>' in menu
