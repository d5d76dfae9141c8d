"""Admin for blocks, unblocks, bounces, sent emails, mailings and the policy.

Block history is evidence: blocks, unblocks and bounces can be looked at but never added,
edited or deleted here; a block changes only through the services (a bounce, an unblock).
Lifting is one set-based call (`bounces.services.bulk.blocks_bulk_unblock`) behind the shared
confirmation page (actions.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import BooleanField, ExpressionWrapper, QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..categories import BlockType
from ..models import Block, Bounce, BouncePolicy, BulkUnblockJob, Mailing, SentEmail, Unblock
from ..rates import rate_above_threshold
from ..services.bulk import blocks_bulk_unblock
from ..services.errors import UnblockError
from .actions import (
    CONFIRMATION_LIST_LIMIT,
    ReadOnlyAdmin,
    UnblockConfirmForm,
    action_confirmation,
    block_warning,
    report_unblock_outcome,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The raw message shown on a bounce's page: enough to read the DSN, never megabytes of HTML.
RAW_PREVIEW_BYTES = 64 * 1024


# --- blocks ------------------------------------------------------------------------------------
class ActiveFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("lifted", _("Lifted"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(lifted_at__isnull=True)
        if self.value() == "lifted":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = (
        "address",
        "warning",
        "bounce_count",
        "last_bounce_at",
        "state",
        "review_due_at",
    )
    list_filter = (ActiveFilter, "type", "category", "last_bounce_at")
    search_fields = ("address",)
    date_hierarchy = "last_bounce_at"
    readonly_fields = (
        "address",
        "type",
        "category",
        "meaning",
        "status",
        "reply_code",
        "diagnostic",
        "explanation",
        "first_bounce_at",
        "last_bounce_at",
        "bounce_count",
        "cause",
        "escalated_at",
        "review_due_at",
        "created_at",
        "lifted_at",
    )
    actions = ("lift_temporary", "lift_permanent")

    @admin.display(description=_("block"))
    def warning(self, obj: Block) -> str:
        return block_warning(obj.type, obj.category)

    @admin.display(description=_("state"), ordering="lifted_at")
    def state(self, obj: Block) -> StrOrPromise:
        return _("Active") if obj.is_active else _("Lifted")

    @admin.display(description=_("meaning and recommendation"))
    def meaning(self, obj: Block) -> str:
        return format_html("{}<br>{}", obj.info.definition, obj.info.recommendation)

    def has_unblock_temporary_permission(self, request) -> bool:
        return request.user.has_perm("bounces.unblock_temporary")

    def has_unblock_permanent_permission(self, request) -> bool:
        return request.user.has_perm("bounces.unblock_permanent")

    @admin.action(description=_("Lift temporary blocks"), permissions=["unblock_temporary"])
    def lift_temporary(self, request, queryset):
        return self._lift(request, queryset, BlockType.TEMPORARY, "lift_temporary")

    @admin.action(description=_("Lift permanent blocks"), permissions=["unblock_permanent"])
    def lift_permanent(self, request, queryset):
        return self._lift(request, queryset, BlockType.PERMANENT, "lift_permanent")

    def _lift(self, request, queryset: QuerySet, block_type: str, action: str):
        # Only active blocks of the action's type are touched; the rest are reported as skipped.
        blocks = queryset.filter(lifted_at__isnull=True, type=block_type)
        count = blocks.count()
        other = queryset.count() - count
        permanent = block_type == BlockType.PERMANENT
        form = UnblockConfirmForm(
            request.POST if request.POST.get("post") else None,
            needs_reason=lambda data: permanent,
        )
        if request.POST.get("post") and form.is_valid():
            try:
                result = blocks_bulk_unblock(
                    queryset=blocks,
                    actor=request.user,
                    confirmed=form.cleaned_data["confirmed"],
                    reason=form.cleaned_data["reason"],
                    source=Unblock.Source.ADMIN,
                )
            except UnblockError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            report_unblock_outcome(self, request, result)
            if other:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d selected block was not an active %(type)s block and was left "
                        "alone.",
                        "%(count)d selected blocks were not active %(type)s blocks and were left "
                        "alone.",
                        other,
                    )
                    % {"count": other, "type": BlockType(block_type).label.lower()},
                    messages.WARNING,
                )
            return None
        rows = [
            {"address": b.address, "warning": block_warning(b.type, b.category), "record": ""}
            for b in blocks[:CONFIRMATION_LIST_LIMIT]
        ]
        return action_confirmation(
            self,
            request,
            queryset,
            action=action,
            title=_("Lift permanent blocks") if permanent else _("Lift temporary blocks"),
            rows=rows,
            form=form,
            template="admin/bounces/unblock_confirmation.html",
            more=max(0, count - len(rows)),
            extra={"skipped_count": other, "permanent": permanent},
        )


@admin.register(Unblock)
class UnblockAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "address",
        "lifted_block",
        "lifted_by",
        "source",
        "record",
        "field",
        "confirmed",
    )
    list_filter = ("source", "block_type", "category", "created_at")
    search_fields = ("address", "reason")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "block",
        "address",
        "block_type",
        "category",
        "lifted_by",
        "source",
        "record_type",
        "record_id",
        "field",
        "confirmed",
        "reason",
        "created_at",
    )

    @admin.display(description=_("block"))
    def lifted_block(self, obj: Unblock) -> str:
        return block_warning(obj.block_type, obj.category)[2:]

    @admin.display(description=_("lifted by"), ordering="actor__username")
    def lifted_by(self, obj: Unblock) -> str:
        return obj.actor_name

    @admin.display(description=_("record"))
    def record(self, obj: Unblock) -> str:
        if not obj.record_type or obj.record_id is None:
            return ""
        url = reverse(f"admin:records_{obj.record_type}_change", args=[obj.record_id])
        return format_html('<a href="{}">{} #{}</a>', url, obj.record_type, obj.record_id)


@admin.register(BulkUnblockJob)
class BulkUnblockJobAdmin(ReadOnlyAdmin):
    """Background bulk unblocks: who started which, how far it got, what it skipped."""

    list_display = (
        "created_at",
        "actor",
        "record_type",
        "fields",
        "source",
        "state",
        "total",
        "processed",
        "unblocked",
        "skipped_permanent",
    )
    list_filter = ("state", "source", "record_type", "created_at")
    search_fields = ("actor__username", "reason")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


# --- bounces -----------------------------------------------------------------------------------
# The bounce detail page shows every field read-only, in these groups.
_BOUNCE_DETAIL_FIELDS = (
    "recipient",
    "received_at",
    "type",
    "category",
    "status",
    "reply_code",
    "diagnostic",
    "explanation",
    "kind",
    "channel",
    "esp",
    "parsed",
    "parse_error",
)
_BOUNCE_CORRELATION_FIELDS = (
    "sender_domain",
    "recipient_domain",
    "original_message_id",
    "sent_email",
    "dedupe_key",
    "created_at",
)
_BOUNCE_EVIDENCE_FIELDS = ("inbound", "raw_message")


@admin.register(Bounce)
class BounceAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "recipient",
        "status",
        "warning",
        "channel",
        "kind",
        "parsed",
    )
    list_filter = ("type", "category", "channel", "parsed", "kind", "received_at")
    search_fields = ("recipient", "original_message_id", "dedupe_key")
    date_hierarchy = "received_at"
    fieldsets = (
        (None, {"fields": _BOUNCE_DETAIL_FIELDS}),
        (_("Correlation"), {"fields": _BOUNCE_CORRELATION_FIELDS}),
        (_("Raw evidence"), {"fields": _BOUNCE_EVIDENCE_FIELDS}),
    )
    readonly_fields = _BOUNCE_DETAIL_FIELDS + _BOUNCE_CORRELATION_FIELDS + _BOUNCE_EVIDENCE_FIELDS

    @admin.display(description=_("block"))
    def warning(self, obj: Bounce) -> str:
        return block_warning(obj.type, obj.category) or "—"

    @admin.display(description=_("raw message"))
    def raw_message(self, obj: Bounce) -> StrOrPromise:
        """Show the start of the raw message as escaped text (never rendered as HTML)."""
        inbound = obj.inbound
        if inbound is None:
            return _("(no raw message: recorded from an event or by hand)")
        if inbound.raw is None:
            return format_html("<pre>{}</pre>", str(inbound.payload)[:RAW_PREVIEW_BYTES])
        raw = bytes(inbound.raw)
        text = raw[:RAW_PREVIEW_BYTES].decode("utf-8", errors="replace")
        note = ""
        if len(raw) > RAW_PREVIEW_BYTES:
            note = _("Showing the first %(shown)d of %(total)d bytes.") % {
                "shown": RAW_PREVIEW_BYTES,
                "total": len(raw),
            }
        # format_html escapes the text: a bounce quoting HTML shows it as source, inert.
        return format_html(
            '<pre style="white-space: pre-wrap; max-height: 40em; overflow: auto">{}</pre>{}',
            text,
            note,
        )


# --- sending -----------------------------------------------------------------------------------
@admin.register(SentEmail)
class SentEmailAdmin(admin.ModelAdmin):
    list_display = ("sent_at", "to_address", "subject", "status", "mailing", "bounced_at")
    list_filter = ("status", "field", "sent_at")
    search_fields = ("to_address", "subject", "message_id", "verp_token")
    list_select_related = ("mailing",)
    raw_id_fields = ("contact", "lead", "mailing")
    date_hierarchy = "sent_at"

    def has_add_permission(self, request) -> bool:
        return False  # sent emails are written by the sending service, not typed in

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # bounces point at them: keep the trail


class BounceRateFilter(admin.SimpleListFilter):
    title = _("bounce rate")
    parameter_name = "rate"

    def lookups(self, request, model_admin):
        return [("above", _("Above the threshold")), ("below", _("At or below the threshold"))]

    def queryset(self, request, queryset):
        if self.value() == "above":
            return queryset.filter(above_threshold=True)
        if self.value() == "below":
            return queryset.filter(above_threshold=False)
        return queryset


@admin.register(Mailing)
class MailingAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "subject",
        "from_address",
        "sent_at",
        "recipients_sent",
        "recipients_bounced",
        "rate",
        "state",
        "paused_at",
    )
    list_filter = (BounceRateFilter, "state", "sent_at")
    search_fields = ("name", "subject", "from_address")
    readonly_fields = ("recipients_sent", "recipients_bounced", "created_at", "created_by")
    date_hierarchy = "sent_at"

    def get_queryset(self, request):
        # The threshold is read once per page and compared in SQL, not once per row.
        threshold = BouncePolicy.current().bounce_rate_threshold
        return (
            super()
            .get_queryset(request)
            .annotate(
                above_threshold=ExpressionWrapper(
                    rate_above_threshold(threshold), output_field=BooleanField()
                )
            )
        )

    @admin.display(description=_("bounce rate"), ordering="recipients_bounced")
    def rate(self, obj: Mailing) -> str:
        text = f"{obj.bounce_rate:.1f} %"
        return f"⚠ {text}" if getattr(obj, "above_threshold", False) else text

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


# --- policy (one row) --------------------------------------------------------------------------
@admin.register(BouncePolicy)
class BouncePolicyAdmin(admin.ModelAdmin):
    """A singleton: the list opens the one row; no second row, no delete."""

    readonly_fields = ("updated_at",)

    def has_add_permission(self, request) -> bool:
        # BouncePolicy.current() creates the row on first use; never a second one.
        return not BouncePolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        policy = BouncePolicy.current()
        url = reverse(
            "admin:bounces_bouncepolicy_change", args=[policy.pk], current_app=self.admin_site.name
        )
        return HttpResponseRedirect(url)
