"""Merge fields: `{{ first_name }}` placeholders in a subject or body, filled with plain text.

Deliberately tiny and not the Django template language: user-typed text can only name one of
`FIELDS`; anything else that looks like a placeholder is refused with the reason, before
anything is queued. Values are inserted as they are (the messages are plain text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "company",
    "email",
    "owner_name",
    "owner_signature",
)
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


class MergeError(ValueError):
    """The text names an unknown field or has a broken placeholder."""

    def __init__(self, message: str, *, unknown: list[str] | None = None) -> None:
        super().__init__(message)
        self.unknown = unknown or []


def merge_check(text: str) -> list[str]:
    """Return the fields `text` uses; raise MergeError for unknown fields or stray braces."""
    used = []
    unknown = []
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name in FIELDS:
            used.append(name)
        else:
            unknown.append(name or "")
    if unknown:
        shown = ", ".join(f"{{{{{name}}}}}" for name in unknown)
        raise MergeError(f"unknown merge field: {shown}", unknown=unknown)
    rest = _PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        raise MergeError("a placeholder is not closed: write {{field}}")
    return used


def merge_render(text: str, values: Mapping[str, str]) -> str:
    """Return `text` with every placeholder replaced by its value ("" when the record has none).

    Call `merge_check` first: here an unknown name raises MergeError too.
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in FIELDS:
            raise MergeError(f"unknown merge field: {{{{{name}}}}}", unknown=[name])
        return str(values.get(name) or "")

    return _PLACEHOLDER.sub(fill, text)
