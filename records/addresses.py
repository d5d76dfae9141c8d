"""The one helper that normalises an email address, and its validation.

Every address the app stores or compares passes through `normalize_email`; block lookups use
`address_key`, the case-insensitive form, because a block belongs to the address whatever the case
a record spells it in.
"""

from __future__ import annotations

import re

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


# email-validator's reasons are English only: each one we know, as a translatable sentence. The
# pattern's groups ("chars", "thing") fill the sentence; an unknown reason gets the generic one.
_PERIOD_OR_HYPHEN = {"period": _("period"), "hyphen": _("hyphen")}
_REASONS = [
    (r"An email address must have an @-sign\.", _("It has no @-sign.")),
    (r"There must be something before the @-sign\.", _("There is nothing before the @-sign.")),
    (r"There must be something after the @-sign\.", _("There is nothing after the @-sign.")),
    (
        r"An email address cannot have two periods in a row\.",
        _("It cannot have two periods in a row."),
    ),
    (
        r"An email address cannot start with a (?P<thing>period|hyphen)\.",
        _("It cannot start with a %(thing)s."),
    ),
    (
        r"An email address cannot end with a (?P<thing>period|hyphen)\.",
        _("It cannot end with a %(thing)s."),
    ),
    (
        r"An email address cannot have a (?P<thing>period|hyphen) immediately before the @-sign\.",
        _("It cannot have a %(thing)s right before the @-sign."),
    ),
    (
        r"An email address cannot have a (?P<thing>period|hyphen) immediately after the @-sign\.",
        _("It cannot have a %(thing)s right after the @-sign."),
    ),
    (
        r"The email address contains invalid characters before the @-sign: (?P<chars>.*)\.",
        _("These characters are not allowed before the @-sign: %(chars)s."),
    ),
    (
        r"The part after the @-sign contains invalid characters: (?P<chars>.*)\.",
        _("These characters are not allowed after the @-sign: %(chars)s."),
    ),
    (
        r"The part after the @-sign is not valid\. It should have a period\.",
        _("The part after the @-sign needs a period (example.com)."),
    ),
    (
        r"The part after the @-sign is not valid\. It is not within a valid top-level domain\.",
        _("The part after the @-sign does not end in a valid top-level domain."),
    ),
    (
        r"The part after the @-sign is a special-use or reserved name .*",
        _("The part after the @-sign is a reserved name that cannot receive email."),
    ),
    (r"The email address is too long.*", _("It is too long.")),
    (r"There can't be anything after the email address\.", _("There is text after the address.")),
    (
        r"Internationalized characters before the @-sign are not supported.*",
        _("Accented or non-Latin characters before the @-sign are not supported."),
    ),
]
_REASON_PATTERNS = [(re.compile(pattern), message) for pattern, message in _REASONS]


def address_error_reason(reason: str) -> str:
    """Return email-validator's English `reason` in the active language."""
    for pattern, message in _REASON_PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            params = match.groupdict()
            if "thing" in params:
                params["thing"] = _PERIOD_OR_HYPHEN[params["thing"]]
            return str(message) % params if params else str(message)
    return str(_("It is not a valid email address."))


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
            params={"value": value, "reason": address_error_reason(str(exc))},
        ) from exc
    return normalize_email(result.normalized)


def clean_optional_address(value: str | None) -> str:
    """Return a form's optional address field validated and normalised ("" when left empty)."""
    value = (value or "").strip()
    return validate_address(value) if value else ""
