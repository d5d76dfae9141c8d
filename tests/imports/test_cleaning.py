from __future__ import annotations

import pytest

from records.imports.cleaning import clean_email, formula_like, match_headers, split_name


@pytest.mark.parametrize(
    ("raw", "address", "changes"),
    [
        (
            '"Li Wei" <li.wei@Example.COM>,',
            "li.wei@example.com",
            [
                "removed a trailing comma or semicolon",
                "removed the display name “Li Wei”",
                "lower-cased the domain",
            ],
        ),
        (" anna@example.com ", "anna@example.com", ["removed surrounding spaces"]),
        ("'bob@example.com'", "bob@example.com", ["removed quotes"]),
        (
            "<bob@example.com>;",
            "bob@example.com",
            ["removed a trailing comma or semicolon", "removed angle brackets"],
        ),
        (
            "mailto:Carl@Example.org",
            "Carl@example.org",
            ["removed “mailto:”", "lower-cased the domain"],
        ),
        ("dan @example.com", "dan@example.com", ["removed spaces inside the address"]),
        ("plain@example.com", "plain@example.com", []),
    ],
)
def test_clean_email_records_each_change(raw, address, changes):
    cleaned = clean_email(raw)
    assert cleaned.error == ""
    assert cleaned.address == address
    assert cleaned.changes == changes


def test_idn_domain_is_kept_and_its_ascii_form_shown():
    cleaned = clean_email("zoe@Exämple.com")
    assert cleaned.address == "zoe@exämple.com"
    assert "internationalised domain, sent as xn--exmple-cua.com" in cleaned.changes


@pytest.mark.parametrize("raw", ["not-an-email", "a@b", "two@@example.com", ",;"])
def test_invalid_addresses_have_a_reason(raw):
    cleaned = clean_email(raw)
    assert cleaned.address == ""
    assert cleaned.error


def test_typo_domain_gets_a_suggestion():
    assert clean_email("x@gmial.com").suggestion == "gmail.com"
    assert clean_email("x@gmail.com").suggestion == ""


def test_headers_match_english_and_chinese():
    headers = ["姓名", "公司名称", "电子邮件", "备用邮箱", "手机", "负责人", "Notes"]
    assert match_headers(headers) == {
        0: "name",
        1: "company",
        2: "email",
        3: "backup_email",
        4: "phone",
        5: "owner",
    }
    assert match_headers(["First Name", "last_name", "E-mail Address", "Phone Number"]) == {
        0: "first_name",
        1: "last_name",
        2: "email",
        3: "phone",
    }
    assert match_headers(["名", "姓", "邮箱"]) == {0: "first_name", 1: "last_name", 2: "email"}


def test_split_name():
    assert split_name("Li  Wei") == ("Li", "Wei")
    assert split_name("李伟") == ("", "李伟")


@pytest.mark.parametrize(
    ("value", "formula"),
    [
        ("=1+2", True),
        ("@SUM(A1)", True),
        ("+cmd|' /C calc'!A0", True),
        ("-2+3", True),
        ("+86 138 0000 0000", False),
        ("-", False),
        ("(555) 010-0100", False),
        ("Acme", False),
    ],
)
def test_formula_like(value, formula):
    assert formula_like(value) is formula
