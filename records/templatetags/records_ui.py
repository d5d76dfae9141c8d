"""Template helpers of the sales UI: the block warning icon with its accessible tooltip.

The icon is built in Python (not a template include) because a list page draws up to 200 of
them: a template render per cell cost more than the page's queries (measured with cProfile).
A list page goes further (`PageBadges`): each category's explanation is rendered once per page
and every icon of that category refers to it.
"""

from __future__ import annotations

from functools import cached_property

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.html import escape, format_html, format_html_join
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


def _info_rows(info) -> list[tuple[str, str]]:
    return [
        (_("What it means:"), info.definition),
        (_("What to do:"), info.recommendation),
    ]


def _permanent_note() -> SafeString:
    return format_html(
        '<span class="block-tip-row">{}</span>',
        _("Sales staff cannot lift a permanent block; an admin can, with a written reason."),
    )


def _rows_html(rows: list[tuple[str, str]]) -> SafeString:
    return format_html_join(
        "",
        '<span class="block-tip-row"><span class="block-tip-label">{}</span> {}</span>',
        rows,
    )


def _meta_text(subject, last_bounce_word: str, status_word: str) -> str:
    """Return the tooltip's last line as escaped HTML: when the address last bounced, with the
    status code. The two words come in escaped (a list page translates them once)."""
    when = getattr(subject, "last_bounce_at", None) or getattr(subject, "received_at", None)
    when_html = (
        f'<span class="text-nowrap">{escape(date_filter(when, "SHORT_DATETIME_FORMAT"))}</span>'
        if when
        else "—"
    )
    status = subject.status or ""
    if subject.reply_code:
        status = f"{status} ({subject.reply_code})".strip()
    status_html = f" · {status_word} {escape(status)}" if status else ""
    return f"{last_bounce_word} {when_html}{status_html}"


def _meta_html(subject) -> SafeString:
    """Return the tooltip's last line (see `_meta_text`)."""
    return mark_safe(_meta_text(subject, escape(_("Last bounce:")), escape(_("status"))))  # noqa: S308 - escaped


def badge_html(subject, uid: str = "", size: int = 16) -> SafeString:
    """Return the warning icon of a block or a bounce, with its details on hover and focus.

    `subject` is a `Block` (its last bounce's date and status) or a `Bounce` (its own); both
    carry `type`, `category`, `status` and `reply_code`. The icon differs by type (amber
    triangle, red octagon), is keyboard-focusable and names its tooltip (aria-describedby).
    """
    uid = uid or f"{subject._meta.model_name}-{subject.pk}"
    permanent = subject.type == BlockType.PERMANENT
    info = BlockCategory.get(subject.type, subject.category)
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
        rows=_rows_html(_info_rows(info)),
        extra=_permanent_note() if permanent else "",
        meta=_meta_html(subject),
    )


class PageBadges:
    """The warning icons of one list page, each category's explanation rendered once.

    An icon's tooltip carries only what is its own (the title and the last bounce); the
    category's meaning and advice sit once per page in a hidden element (`infos_html`) that the
    icon names in `aria-describedby`, and app.js copies them into the tooltip (aria-hidden, so
    a screen reader does not hear them twice). At 100 rows this was most of the page's HTML.
    """

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._parts: dict[tuple[str, str], tuple[str, str, str]] = {}

    @staticmethod
    def info_id(type_: str, slug: str) -> str:
        return f"block-info-{type_}-{slug}"

    def _markup(self, type_: str, slug: str) -> tuple[str, str, str]:
        """Return the icon's markup around its two uids, built once per category."""
        key = (type_, slug)
        if key not in self._parts:
            permanent = type_ == BlockType.PERMANENT
            info = BlockCategory.get(type_, slug)
            name = escape(info.name)
            label = _("Blocked permanently") if permanent else _("Blocked temporarily")
            title = _("Permanent block") if permanent else _("Temporary block")
            path = _OCTAGON if permanent else _TRIANGLE
            cls = "block-permanent" if permanent else "block-temporary"
            info_id = self.info_id(type_, info.slug)
            before = (
                f'<span class="block-badge {cls}" tabindex="0" role="img" '
                f'aria-label="{escape(label)}: {name}" aria-describedby="tip-'
            )
            middle = (
                f' {info_id}" data-block-type="{escape(type_)}" '
                f'data-block-category="{escape(info.slug)}">'
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.size}" '
                f'height="{self.size}" viewBox="0 0 16 16" fill="currentColor" '
                f'aria-hidden="true" focusable="false"><path d="{path}"/></svg>'
                f'<span class="block-tip" role="tooltip" data-info="{info_id}" id="tip-'
            )
            after = f'"><span class="block-tip-title">{escape(title)} · {name}</span>'
            self._parts[key] = (before, middle, after)
        return self._parts[key]

    @cached_property
    def _meta_words(self) -> tuple[str, str]:
        return escape(_("Last bounce:")), escape(_("status"))

    def _meta(self, block) -> str:
        """Return `_meta_html(block)`, with its words translated once per page."""
        return _meta_text(block, *self._meta_words)

    def badge(self, block, uid: str) -> str:
        """Return the icon of `block` (escaped HTML, as a plain str for joining)."""
        before, middle, after = self._markup(block.type, block.category)
        uid = escape(uid)
        return (
            f"{before}{uid}{middle}{uid}{after}"
            f'<span class="block-tip-meta">{self._meta(block)}</span></span></span>'
        )

    def infos_html(self) -> SafeString:
        """Return the hidden explanations of the categories drawn on the page, once each."""
        parts = []
        for type_, slug in sorted(self._parts):
            info = BlockCategory.get(type_, slug)
            permanent = type_ == BlockType.PERMANENT
            parts.append(
                format_html(
                    '<div hidden id="{}">{}{}</div>',
                    self.info_id(type_, info.slug),
                    _rows_html(_info_rows(info)),
                    _permanent_note() if permanent else "",
                )
            )
        return mark_safe("".join(parts))  # noqa: S308 - parts are escaped


@register.simple_tag
def block_badge(subject, uid: str = "", size: int = 16) -> SafeString:
    """`{% block_badge block %}`: the warning icon (see `badge_html`)."""
    return badge_html(subject, uid=uid, size=size)


@register.filter
def category_info(subject):
    """Return the category info (name, meaning, recommendation) of a block or bounce."""
    return BlockCategory.get(subject.type, subject.category)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
