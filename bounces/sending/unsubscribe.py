"""Signed unsubscribe links: the token names the address (and the mailing), needs no login and
cannot be forged or pointed at another address."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "bouncecrm.sending.unsubscribe"


def unsubscribe_token(*, address: str, mailing_id: int | None) -> str:
    """Return the signed token of one recipient's unsubscribe link."""
    return signing.dumps({"a": address.lower(), "m": mailing_id}, salt=SALT)


def unsubscribe_parse(token: str) -> tuple[str, int | None] | None:
    """Return (address, mailing id) of a valid token, or None (forged, truncated, garbage)."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), str) or "@" not in data["a"]:
        return None
    mailing = data.get("m")
    return data["a"], mailing if isinstance(mailing, int) else None


def unsubscribe_url(*, address: str, mailing_id: int | None) -> str:
    """Return the absolute unsubscribe URL (on SITE_URL) for one recipient."""
    token = unsubscribe_token(address=address, mailing_id=mailing_id)
    return _url_prefix() + token + "/"


@lru_cache(maxsize=4)
def _prefix_for(site: str) -> str:
    # reverse() once per site, not once per message: the path up to the token never changes.
    return site.rstrip("/") + reverse("sending:unsubscribe", args=["T"])[:-2]


def _url_prefix() -> str:
    return _prefix_for(settings.SITE_URL)
