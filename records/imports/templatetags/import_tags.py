from __future__ import annotations

from django import template

from bounces.categories import BlockCategory, BlockType

register = template.Library()


@register.filter
def block_label(tag: str, category: str = "") -> str:
    """Return "Type · Category" for a block tag "type:slug" (or a type and a category slug)."""
    type_, _sep, slug = (f"{tag}:{category}" if category else tag or "").partition(":")
    if type_ not in BlockType.values:
        return tag
    info = BlockCategory.get(type_, slug)
    return f"{BlockType(type_).label} · {info.name}"
