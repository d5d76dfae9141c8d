"""Template helpers of sending: an address' opt-out on the record page."""

from __future__ import annotations

from django import template

from records.addresses import address_key

from ..models import OptOut

register = template.Library()


@register.simple_tag
def optout_for(address: str) -> OptOut | None:
    """Return the opt-out of `address`, or None (one indexed query; two per record page)."""
    if not address:
        return None
    return OptOut.objects.filter(address=address_key(address)).first()
