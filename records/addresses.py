"""The one helper that normalises an email address, and its validation.

Every address the app stores or compares passes through `normalize_email`; block lookups use
`address_key`, the case-insensitive form, because a block belongs to the address whatever the case
a record spells it in.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from email_validator import EmailNotValidError, validate_email


def normalize_email(value: str | None) -> str:
    """Return the address trimmed, without angle brackets, its domain lower-cased ("" if empty)."""
    if not value:
        return ""
    value = value.strip().strip("<>").strip()
    local, sep, domain = value.rpartition("@")
    if not sep:
        return value
    return f"{local}@{domain.lower().rstrip('.')}"


def address_key(value: str | None) -> str:
    """Return the case-insensitive key under which an address' block is stored."""
    return normalize_email(value).lower()


def validate_address(value: str) -> str:
    """Return the normalised address, or raise ValidationError with a message a user can act on.

    Syntax only: deliverability (DNS) checks belong to list cleaning, not to saving a form.
    """
    value = normalize_email(value)
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(
            _("“%(value)s” is not a valid email address: %(reason)s"),
            code="invalid_email",
            params={"value": value, "reason": str(exc)},
        ) from exc
    return normalize_email(result.normalized)
