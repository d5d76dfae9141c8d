"""One domain helper: the part after the last "@", the same in Python and in SQL."""

from __future__ import annotations

import pytest

from bounces.models import SentEmail
from core.addresses import ADDRESS_RE, address_domain
from reports.rollups import domain_sql
from tests.factories import SentEmailFactory

CASES = [
    ('"ann@home"@Example.ORG', "example.org"),  # a quoted local part holding an "@"
    ("bo@Mail.Example.com", "mail.example.com"),
    ("no-at-sign", ""),
    ("trailing@", ""),
    ("", ""),
]


@pytest.mark.parametrize(("address", "domain"), CASES)
def test_domain_is_the_part_after_the_last_at(address, domain):
    assert address_domain(address) == domain


@pytest.mark.django_db
def test_the_sql_mirror_agrees():
    for address, _domain in CASES:
        SentEmailFactory(from_address=address)
    rows = SentEmail.objects.annotate(domain=domain_sql("from_address"))
    assert {(r.from_address, r.domain) for r in rows} == set(CASES)


def test_the_extraction_regex_finds_addresses_in_prose():
    text = "Delivery to <jane.doe+x@Example.net> failed; contact postmaster@mx.example.org."
    assert ADDRESS_RE.findall(text) == ["jane.doe+x@Example.net", "postmaster@mx.example.org"]
