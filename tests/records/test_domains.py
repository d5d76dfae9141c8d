"""Typo-domain suggestions and the free-webmail test used by imports and the pre-send check."""

from __future__ import annotations

import pytest

from records.domains import is_free_webmail, suggest_domain


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("gmial.com", "gmail.com"),  # transposition
        ("gmai.com", "gmail.com"),  # deletion
        ("gmaill.com", "gmail.com"),  # insertion
        ("hotmial.com", "hotmail.com"),
        ("hotmail.con", "hotmail.com"),  # a slipped top-level domain
        ("gmail.cmo", "gmail.com"),
        ("yahooo.com", "yahoo.com"),
        ("outlok.com", "outlook.com"),
        ("GMIAL.COM.", "gmail.com"),  # case and a trailing dot do not matter
        ("protonmial.com", "protonmail.com"),
        ("googlemial.com", "googlemail.com"),
        ("comcast.nte", "comcast.net"),
        ("qq.con", "qq.com"),  # short names: only the top-level slip
    ],
)
def test_likely_typos_get_the_provider(typed, suggested):
    assert suggest_domain(typed) == suggested


@pytest.mark.parametrize(
    "domain",
    [
        "gmail.com",  # the provider itself
        "mail.com",  # a real provider that resembles gmail.com
        "gmx.net",
        "example.com",
        "acme-corp.cn",
        "love.com",  # one letter from live.com, but short names are not edit-matched
        "qa.com",
        "localhost",
        "",
    ],
)
def test_real_or_unrelated_domains_get_no_suggestion(domain):
    assert suggest_domain(domain) is None


def test_free_webmail():
    assert is_free_webmail("Gmail.com")
    assert is_free_webmail("qq.com")
    assert not is_free_webmail("acme.com")
