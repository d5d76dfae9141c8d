"""The one helper that normalises, keys and validates an email address."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from records.addresses import address_key, normalize_email, validate_address


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("Ann@Example.COM", "Ann@example.com"),
        ("  <ann@example.com>  ", "ann@example.com"),
        ("ann@example.com.", "ann@example.com"),
        ("", ""),
        (None, ""),
        ("no-at-sign", "no-at-sign"),
        ('"a@b"@Example.org', '"a@b"@example.org'),
    ],
)
def test_normalize_email(raw, normalised):
    assert normalize_email(raw) == normalised


def test_address_key_is_case_insensitive():
    assert address_key(" <Ann.Lee@Example.COM> ") == "ann.lee@example.com"
    assert address_key(None) == ""


@pytest.mark.parametrize("good", ["ann@example.com", "Ann.Lee+crm@Sub.Example.co.uk"])
def test_validate_address_accepts_and_normalises(good):
    assert validate_address(f" {good} ") == normalize_email(good)


@pytest.mark.parametrize(
    "bad", ["ann", "ann@", "@example.com", "ann@@example.com", "ann@exa mple.com", "a b@x.com"]
)
def test_validate_address_refuses_with_a_message_naming_the_value(bad):
    with pytest.raises(ValidationError) as exc:
        validate_address(bad)
    message = exc.value.messages[0]
    assert "is not a valid email address" in message
    assert normalize_email(bad) in message
    assert exc.value.code == "invalid_email"


@given(st.text(max_size=80))
def test_normalize_and_key_never_crash_on_any_text(text):
    assert isinstance(normalize_email(text), str)
    assert address_key(text) == address_key(text).lower()


@given(st.emails())
def test_normalising_a_valid_address_is_idempotent(email):
    once = normalize_email(email)
    assert normalize_email(once) == once
    assert address_key(once) == address_key(email.upper())


@pytest.mark.parametrize(
    "value, english, chinese",
    [
        ("a..b@example.com", "It cannot have two periods in a row.", "不能有两个连续的句点。"),
        ("nobody", "It has no @-sign.", "缺少 @ 符号。"),
        (".a@example.com", "It cannot start with a period.", "不能以句点开头。"),
        ("a@example", "needs a period", "需要包含句点"),
    ],
)
def test_email_validator_reasons_are_translated(value, english, chinese):
    from django.core.exceptions import ValidationError
    from django.utils import translation

    from records.addresses import validate_address

    for language, expected in (("en", english), ("zh-hans", chinese)):
        with translation.override(language):
            with pytest.raises(ValidationError) as info:
                validate_address(value)
            message = info.value.messages[0]
        assert expected in message
    # Nothing English is left in the Chinese message but the address itself.
    assert not re.search(r"[A-Za-z]{4,}", message.replace(value, "").replace("example.com", ""))
