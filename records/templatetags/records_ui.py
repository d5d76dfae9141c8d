"""Template helpers of the sales UI: the block warning icon with its accessible tooltip.

The icon is built in Python (not a template include) because a list page draws up to 200 of
them: a template render per cell cost more than the page's queries (measured with cProfile).
"""

from __future__ import annotations

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from bounces.categories import BlockCategory, BlockType

register = template.Library()

# Bootstrap Icons paths (MIT), inlined: no icon font or CDN.
_TRIANGLE = (
    "M8.982 1.566a1.13 1.13 0 0 0-1.96 0L.165 13.233c-.457.778.091 1.767.98 1.767h13.713c.889 "
    "0 1.438-.99.98-1.767zM8 5c.535 0 .954.462.9.995l-.35 3.507a.552.552 0 0 1-1.1 0L7.1 "
    "5.995A.905.905 0 0 1 8 5m.002 6a1 1 0 1 1 0 2 1 1 0 0 1 0-2"
)
_OCTAGON = (
    "M4.54.146A.5.5 0 0 1 4.893 0h6.214a.5.5 0 0 1 .353.146l4.394 4.394a.5.5 0 0 1 "
    ".146.353v6.214a.5.5 0 0 1-.146.353l-4.394 4.394a.5.5 0 0 1-.353.146H4.893a.5.5 0 0 "
    "1-.353-.146L.146 11.46A.5.5 0 0 1 0 11.107V4.893a.5.5 0 0 1 .146-.353zM5 7.5a.5.5 0 0 0 0 "
    "1h6a.5.5 0 0 0 0-1z"
)


def badge_html(subject, uid: str = "", size: int = 16) -> SafeString:
    """Return the warning icon of a block or a bounce, with its details on hover and focus.

    `subject` is a `Block` (its last bounce's date and status) or a `Bounce` (its own); both
    carry `type`, `category`, `status` and `reply_code`. The icon differs by type (amber
    triangle, red octagon), is keyboard-focusable and names its tooltip (aria-describedby).
    """
    uid = uid or f"{subject._meta.model_name}-{subject.pk}"
    permanent = subject.type == BlockType.PERMANENT
    info = BlockCategory.get(subject.type, subject.category)
    when = getattr(subject, "last_bounce_at", None) or getattr(subject, "received_at", None)
    status = subject.status or ""
    if subject.reply_code:
        status = f"{status} ({subject.reply_code})".strip()
    rows = [
        (_("What it means:"), info.definition),
        (_("What to do:"), info.recommendation),
    ]
    extra = (
        format_html(
            '<span class="block-tip-row">{}</span>',
            _("Sales staff cannot lift a permanent block; an admin can, with a written reason."),
        )
        if permanent
        else ""
    )
    meta = format_html(
        "{} {}{}",
        _("Last bounce:"),
        format_html(
            '<span class="text-nowrap">{}</span>', date_filter(when, "SHORT_DATETIME_FORMAT")
        )
        if when
        else "—",
        format_html(" · {} {}", _("status"), status) if status else "",
    )
    label = _("Blocked permanently") if permanent else _("Blocked temporarily")
    return format_html(
        '<span class="block-badge {cls}" tabindex="0" role="img" aria-label="{label}: {name}" '
        'aria-describedby="tip-{uid}" data-block-type="{type}" data-block-category="{slug}">'
        '<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        'viewBox="0 0 16 16" fill="currentColor" aria-hidden="true" focusable="false">'
        '<path d="{path}"/></svg>'
        '<span class="block-tip" role="tooltip" id="tip-{uid}">'
        '<span class="block-tip-title">{title} · {name}</span>{rows}{extra}'
        '<span class="block-tip-meta">{meta}</span></span></span>',
        cls="block-permanent" if permanent else "block-temporary",
        label=label,
        name=info.name,
        uid=uid,
        type=subject.type,
        slug=info.slug,
        size=size,
        path=_OCTAGON if permanent else _TRIANGLE,
        title=_("Permanent block") if permanent else _("Temporary block"),
        rows=format_html_join(
            "",
            '<span class="block-tip-row"><span class="block-tip-label">{}</span> {}</span>',
            rows,
        ),
        extra=extra,
        meta=meta,
    )


@register.simple_tag
def block_badge(subject, uid: str = "", size: int = 16) -> SafeString:
    """`{% block_badge block %}`: the warning icon (see `badge_html`)."""
    return badge_html(subject, uid=uid, size=size)


def email_cell_html(
    *, address: str, block, uid: str, unblock_url: str, field: str, next_url: str, can_unblock
) -> SafeString:
    """Return one email cell of the record table: icon, address and the unblock action."""
    if not address:
        return format_html('<span class="text-body-secondary" aria-label="{}">—</span>', _("none"))
    parts = [badge_html(block, uid=uid)] if block is not None else []
    parts.append(
        format_html(
            '<span class="email-address{}">{}</span>', " is-blocked" if block else "", address
        )
    )
    if block is not None and can_unblock:
        href = f"{unblock_url}?{_query(field=field, next=next_url)}"
        # Buttons, not small links: solid, on their own line under a long address.
        if block.is_permanent:
            parts.append(
                format_html(
                    '<a class="btn btn-sm btn-danger unblock-link" href="{}">{}</a>',
                    href,
                    _("Lift…"),
                )
            )
        else:
            parts.append(
                format_html(
                    '<a class="btn btn-sm btn-warning unblock-link" href="{}" data-unblock-modal '
                    'data-unblock-url="{}" data-field="{}" data-address="{}">{}</a>',
                    href,
                    unblock_url,
                    field,
                    address,
                    _("Unblock"),
                )
            )
    return format_html('<span class="email-cell">{}</span>', mark_safe("".join(parts)))  # noqa: S308 - parts are escaped


def _query(**params) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


@register.filter
def category_info(subject):
    """Return the category info (name, meaning, recommendation) of a block or bounce."""
    return BlockCategory.get(subject.type, subject.category)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
