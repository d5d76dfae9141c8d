from __future__ import annotations

import pytest

from bounces.sending.merge import MergeError, merge_check, merge_render


def test_known_fields_are_filled_and_missing_values_are_empty():
    text = "Hi {{first_name}} {{ last_name }} of {{company}}"
    assert merge_check(text) == ["first_name", "last_name", "company"]
    assert merge_render(text, {"first_name": "Li", "last_name": "Wei"}) == "Hi Li Wei of "


@pytest.mark.parametrize("text", ["{{ nickname }}", "{{ first_name.upper }}", "{{}}"])
def test_unknown_field_is_refused_with_its_name(text):
    with pytest.raises(MergeError) as info:
        merge_check(text)
    assert info.value.unknown


@pytest.mark.parametrize("text", ["Hi {{first_name", "Hi first_name}}", "{{ {{x}} }}"])
def test_broken_placeholder_is_refused(text):
    with pytest.raises(MergeError):
        merge_check(text)


def test_values_are_not_templates():
    # A record's data is inserted as text, never evaluated.
    assert merge_render("{{company}}", {"company": "{{owner_name}} {% load x %}"}) == (
        "{{owner_name}} {% load x %}"
    )
