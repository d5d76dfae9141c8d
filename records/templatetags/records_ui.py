"""Template helpers of the sales UI: the block warning icon with its accessible tooltip."""

from __future__ import annotations

from django import template

from bounces.categories import BlockCategory, BlockType

register = template.Library()


@register.inclusion_tag("includes/block_badge.html")
def block_badge(subject, uid: str = "", when=None, size: int = 16) -> dict:
    """Render the warning icon of a block or of a bounce, with the details on hover and focus.

    `subject` is a `Block` (last bounce date and status of the block) or a `Bounce` (its own
    date and status); both carry `type` and `category`.
    """
    uid = uid or f"{subject._meta.model_name}-{subject.pk}"
    type_ = subject.type
    info = BlockCategory.get(type_, subject.category)
    when = when or getattr(subject, "last_bounce_at", None) or getattr(subject, "received_at", None)
    return {
        "uid": uid,
        "type": type_,
        "type_label": BlockType(type_).label if type_ in BlockType.values else type_,
        "permanent": type_ == BlockType.PERMANENT,
        "info": info,
        "when": when,
        "status": subject.status,
        "reply_code": subject.reply_code,
        "size": size,
    }


@register.filter
def category_info(subject):
    """Return the category info (name, meaning, recommendation) of a block or bounce."""
    return BlockCategory.get(subject.type, subject.category)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
