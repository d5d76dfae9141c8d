"""VERP return paths: every sent email gets `bounces+<token>@BOUNCE_DOMAIN` as its envelope sender,
so a bounce coming back names the exact sent email even when the DSN hides the recipient.
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from django.conf import settings

LOCAL_PREFIX = "bounces"
TOKEN_BYTES = 15  # 20 URL-safe characters: unguessable, and short enough for any local part.
_TOKEN = r"[A-Za-z0-9_-]{8,40}"  # noqa: S105 - a pattern, not a secret


def verp_token_new() -> str:
    """Return a fresh random token for one sent email."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def verp_make(token: str, *, domain: str | None = None) -> str:
    """Return the return-path address carrying `token`."""
    if not re.fullmatch(_TOKEN, token):
        raise ValueError(f"not a VERP token: {token!r}")
    return f"{LOCAL_PREFIX}+{token}@{domain or settings.BOUNCE_DOMAIN}"


@lru_cache(maxsize=8)
def _pattern(domain: str) -> re.Pattern[str]:
    return re.compile(
        rf"\b{LOCAL_PREFIX}\+({_TOKEN})@{re.escape(domain)}(?![A-Za-z0-9.-])", re.IGNORECASE
    )


def verp_parse(address: str | None, *, domain: str | None = None) -> str | None:
    """Return the token of a VERP return-path address, or None when it is not one of ours."""
    if not address:
        return None
    address = address.strip().strip("<>").strip()
    match = _pattern((domain or settings.BOUNCE_DOMAIN).lower()).fullmatch(address)
    return match.group(1) if match else None


def verp_find(text: str | None, *, domain: str | None = None) -> str | None:
    """Return the first VERP token found anywhere in `text` (headers of a bounce), or None."""
    if not text:
        return None
    match = _pattern((domain or settings.BOUNCE_DOMAIN).lower()).search(text)
    return match.group(1) if match else None
