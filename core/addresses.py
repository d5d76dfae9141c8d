"""Email addresses as plain text: finding them in free text and taking their domain.

No Django: the classifier reads bounces with these. Normalising and validating what users type
is `records.addresses`' job.
"""

from __future__ import annotations

import re

# An address inside free text (a bounce's prose, a header): dot-atom-ish local part, LDH domain.
ADDRESS_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
)


def address_domain(address: str | None) -> str:
    """Return the lower-cased part after the last "@" ("" when there is none).

    The last, not the first: a quoted local part may itself hold an "@" ("a@b"@example.com).
    """
    local, sep, domain = (address or "").rpartition("@")
    return domain.lower() if sep else ""
