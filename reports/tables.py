"""Tables of the rows behind the report's numbers (no query per row: see the views' querysets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from bounces.categories import BlockCategory
from bounces.models import Block, Bounce, SentEmail, Unblock
from records.tables import MenuPagedTable

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _FirstBounce(TypedDict):
    """What the sent-email list annotates each row with: its first bounce's type and category."""

    first_type: str | None
    first_category: str | None


# The lists' look: same classes, template (pagination labels, rows-per-page menu) and dates.
TABLE_ATTRS = {"class": "table table-hover align-middle record-table report-rows"}


def _category_name(record_type: str, slug: str) -> str:
    if not slug:
        return ""
    return str(BlockCategory.get(record_type, slug).name)


class BounceTable(MenuPagedTable):
    received_at = tables.DateTimeColumn(verbose_name=_("Received"))
    category = tables.Column(verbose_name=_("Category"), order_by=("type", "category"))
    sender = tables.Column(verbose_name=_("Sender"), empty_values=(), orderable=False)
    mailing = tables.Column(
        verbose_name=_("Mailing"), accessor="sent_email__mailing__name", orderable=False
    )

    class Meta:
        model = Bounce
        fields = (
            "received_at",
            "recipient",
            "type",
            "category",
            "status",
            "channel",
            "sender",
            "mailing",
            "explanation",
        )
        attrs = TABLE_ATTRS
        template_name = "records/table.html"

    def render_category(self, record: Bounce) -> str:
        return _category_name(record.type, record.category)

    def render_sender(self, record: Bounce) -> str:
        if record.sent_email_id and record.sent_email:
            return record.sent_email.from_address
        return record.sender_domain


class SentTable(MenuPagedTable):
    sent_at = tables.DateTimeColumn(verbose_name=_("Sent"))
    mailing = tables.Column(verbose_name=_("Mailing"), accessor="mailing__name")
    first_category = tables.Column(verbose_name=_("Bounced as"), empty_values=(), orderable=False)

    class Meta:
        model = SentEmail
        fields = ("sent_at", "to_address", "from_address", "mailing", "subject", "status")
        attrs = TABLE_ATTRS
        template_name = "records/table.html"

    def render_first_category(self, record: WithAnnotations[SentEmail, _FirstBounce]) -> str:
        return _category_name(record.first_type or "", record.first_category or "")


class BlockTable(MenuPagedTable):
    category = tables.Column(verbose_name=_("Category"), order_by=("type", "category"))
    last_bounce_at = tables.DateTimeColumn(verbose_name=_("Last bounce"))

    class Meta:
        model = Block
        fields = (
            "address",
            "type",
            "category",
            "bounce_count",
            "first_bounce_at",
            "last_bounce_at",
        )
        attrs = TABLE_ATTRS
        template_name = "records/table.html"

    def render_category(self, record: Block) -> str:
        return _category_name(record.type, record.category)


class UnblockTable(MenuPagedTable):
    created_at = tables.DateTimeColumn(verbose_name=_("Lifted at"))
    category = tables.Column(verbose_name=_("Category"), order_by=("block_type", "category"))
    actor = tables.Column(verbose_name=_("Lifted by"), empty_values=(), orderable=False)

    class Meta:
        model = Unblock
        fields = ("created_at", "address", "block_type", "category", "actor", "source", "reason")
        attrs = TABLE_ATTRS
        template_name = "records/table.html"

    def render_category(self, record: Unblock) -> str:
        return _category_name(record.block_type, record.category)

    def render_actor(self, record: Unblock) -> str:
        return record.actor_name
