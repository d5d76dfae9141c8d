"""VERP return paths: make, parse, find."""

from __future__ import annotations

import pytest

from bounces.verp import verp_find, verp_make, verp_parse, verp_token_new


def test_round_trip(settings):
    settings.BOUNCE_DOMAIN = "bounces.crm.example.com"
    token = verp_token_new()
    address = verp_make(token)
    assert address == f"bounces+{token}@bounces.crm.example.com"
    assert verp_parse(address) == token
    assert verp_parse(f"<{address}>") == token


def test_parse_is_case_insensitive_on_the_domain_and_refuses_others(settings):
    settings.BOUNCE_DOMAIN = "bounces.crm.example.com"
    assert verp_parse("<bounces+abcDEF12_-@Bounces.CRM.example.com>") == "abcDEF12_-"
    assert verp_parse("bounces+abcDEF12@evil.example.com") is None
    assert verp_parse("sales@bounces.crm.example.com") is None
    assert verp_parse(None) is None


def test_find_in_headers(settings):
    settings.BOUNCE_DOMAIN = "bounces.crm.example.com"
    headers = "Delivered-To: bounces+tok12345678@bounces.crm.example.com\nSubject: x"
    assert verp_find(headers) == "tok12345678"
    assert verp_find("bounces+tok12345678@bounces.crm.example.com.evil.org") is None


def test_make_refuses_a_bad_token():
    with pytest.raises(ValueError):
        verp_make("bad token@")
