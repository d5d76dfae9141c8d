"""Garbage parameters answer with the page or a 400, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bounces.models import Block
from tests.factories import BlockFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fields", ["primary", "backup", "both"])
def test_bulk_all_matching_with_a_category_of_the_other_type_unblocks_nothing(sales_client, fields):
    ContactFactory(email="t@example.com", backup_email="u@example.com")
    BlockFactory(address="t@example.com")
    response = sales_client.post(
        reverse("records:contact-bulk-unblock"),
        {
            "fields": fields,
            "confirm": "on",
            "all_matching": "1",
            "query": "blocked=temporary&category=permanent:bad_mailbox",
        },
    )
    assert response.status_code == 302
    assert Block.objects.active().count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "/admin/bounces/block/?type__exact=%00",
        "/admin/bounces/inboundmessage/?state__exact=%00",
        "/admin/bounces/block/?q=%00",
        "/admin/records/contact/?q=a%00b",
        "/contacts/?q=%00",
        "/contacts/?blocked=%00&category=%00",
        "/reports/bounces/?recipient_domain=%00",
    ],
)
def test_nul_bytes_in_parameters_answer_400_or_the_page(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code in (200, 302, 400), response.status_code
