"""Admin for contacts and leads: block filters, block warnings and the unblock action.

Blocks belong to addresses; each record carries a copy of its addresses' active block state
(`email_block`, `backup_email_block`: "type:slug" or "", kept in sync by the block services), so
the filters and warning columns read the record row itself: a page of 100 records costs the same
queries as a page of 1.
"""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bounces.admin.actions import (
    CONFIRMATION_LIST_LIMIT,
    UnblockConfirmForm,
    action_confirmation,
    block_warning,
    report_unblock_outcome,
)
from bounces.categories import BlockCategory, BlockType
from bounces.models import BulkUnblockJob, Unblock
from bounces.services.bulk import bulk_unblock
from bounces.services.errors import UnblockError
from bounces.services.record_blocks import record_refresh_blocks
from bounces.services.record_unblock import BOTH, fields_for

from .addresses import clean_optional_address
from .models import ADDRESS_COLUMNS, Contact, EmailField, Lead
from .selectors import block_tags, records_blocked_in, records_search

BLOCK_COLUMNS = {field: columns.block for field, columns in ADDRESS_COLUMNS.items()}


def _warning(tag: str) -> str:
    if not tag:
        return ""
    type_, _sep, category = tag.partition(":")
    return block_warning(type_, category)


# --- list filters -------------------------------------------------------------------------------
class _BlockFilter(admin.SimpleListFilter):
    field: str = EmailField.PRIMARY

    @property
    def column(self) -> str:
        return BLOCK_COLUMNS[self.field]


class _BlockTypeFilter(_BlockFilter):
    def lookups(self, request, model_admin):
        return [
            ("any", _("Blocked (any type)")),
            (BlockType.TEMPORARY, _("Temporary block")),
            (BlockType.PERMANENT, _("Permanent block")),
            ("none", _("Not blocked")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any":
            return queryset.filter(records_blocked_in(self.column, None))
        if value == "none":
            return queryset.filter(**{self.column: ""})
        if value in BlockType.values:
            return queryset.filter(records_blocked_in(self.column, block_tags(type=value)))
        return queryset if value is None else queryset.none()


class _BlockCategoryFilter(_BlockFilter):
    def lookups(self, request, model_admin):
        return BlockCategory.choices()

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if self.value() not in {m.value.key for m in BlockCategory}:
            return queryset.none()  # no such category: nothing can match it
        return queryset.filter(**{self.column: self.value()})


class PrimaryBlockTypeFilter(_BlockTypeFilter):
    title = _("primary email: block")
    parameter_name = "primary_block"
    field = EmailField.PRIMARY


class BackupBlockTypeFilter(_BlockTypeFilter):
    title = _("backup email: block")
    parameter_name = "backup_block"
    field = EmailField.BACKUP


class PrimaryBlockCategoryFilter(_BlockCategoryFilter):
    title = _("primary email: block category")
    parameter_name = "primary_category"
    field = EmailField.PRIMARY


class BackupBlockCategoryFilter(_BlockCategoryFilter):
    title = _("backup email: block category")
    parameter_name = "backup_category"
    field = EmailField.BACKUP


# --- forms ------------------------------------------------------------------------------------
class RecordAdminForm(forms.ModelForm):
    """Normalise both addresses with the one shared helper; its message explains a refusal."""

    def clean_email(self) -> str:
        return clean_optional_address(self.cleaned_data.get("email"))

    def clean_backup_email(self) -> str:
        return clean_optional_address(self.cleaned_data.get("backup_email"))


class RecordUnblockForm(UnblockConfirmForm):
    email_fields = forms.ChoiceField(
        label=_("Email fields to unblock"),
        choices=[
            (BOTH, _("Both addresses")),
            (EmailField.PRIMARY, _("Primary email only")),
            (EmailField.BACKUP, _("Backup email only")),
        ],
        initial=BOTH,
    )
    field_order = ["email_fields", "confirmed", "reason"]


# --- the record admins ------------------------------------------------------------------------
class RecordAdmin(admin.ModelAdmin):
    form = RecordAdminForm
    list_display: tuple[str, ...] = (
        "__str__",
        "company",
        "email",
        "primary_warning",
        "backup_email",
        "backup_warning",
        "owner",
    )
    list_filter: ClassVar[tuple[str | type[admin.ListFilter], ...]] = (
        PrimaryBlockTypeFilter,
        PrimaryBlockCategoryFilter,
        BackupBlockTypeFilter,
        BackupBlockCategoryFilter,
        "owner",
    )
    search_fields: ClassVar[tuple[str, ...]] = (
        "first_name",
        "last_name",
        "company",
        "email",
        "backup_email",
    )
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("primary_warning", "backup_warning", "created_at", "updated_at")
    actions = ("unblock_addresses",)

    def get_search_results(self, request, queryset, search_term):
        # The lists' search: every word in any order, ignoring case and accents.
        return records_search(queryset, search_term), False

    @admin.display(description=_("primary email block"), ordering="email_block")
    def primary_warning(self, obj) -> str:
        return _warning(obj.email_block)

    @admin.display(description=_("backup email block"), ordering="backup_email_block")
    def backup_warning(self, obj) -> str:
        return _warning(obj.backup_email_block)

    def save_model(self, request, obj, form, change):
        # In the admin's transaction: a new or changed address shows its own block state.
        super().save_model(request, obj, form, change)
        record_refresh_blocks(record=obj)

    def has_unblock_permission(self, request) -> bool:
        user = request.user
        return user.has_perm("bounces.unblock_temporary") or user.has_perm(
            "bounces.unblock_permanent"
        )

    @admin.action(description=_("Unblock email addresses"), permissions=["unblock"])
    def unblock_addresses(self, request, queryset):
        can_lift_permanent = request.user.has_perm("bounces.unblock_permanent")
        permanent_in = {
            field: queryset.filter(
                records_blocked_in(columns.block, block_tags(type=BlockType.PERMANENT))
            )
            for field, columns in ADDRESS_COLUMNS.items()
        }

        def needs_reason(data: dict) -> bool:
            if not can_lift_permanent or not data.get("email_fields"):
                return False
            return any(permanent_in[f].exists() for f in fields_for(data["email_fields"]))

        posted = bool(request.POST.get("post"))
        form = RecordUnblockForm(request.POST if posted else None, needs_reason=needs_reason)
        if posted and form.is_valid():
            return self._unblock(request, queryset, form.cleaned_data)

        blocked = queryset.filter(_blocked_in(list(ADDRESS_COLUMNS)))
        shown = list(blocked[:CONFIRMATION_LIST_LIMIT])
        rows = [
            {
                "address": record.address(field),
                "warning": _warning(getattr(record, columns.block)),
                "record": str(record),
                "field": EmailField(field).label,
            }
            for record in shown
            for field, columns in ADDRESS_COLUMNS.items()
            if getattr(record, columns.block)
        ]
        more = blocked.count() - len(shown) if len(shown) == CONFIRMATION_LIST_LIMIT else 0
        return action_confirmation(
            self,
            request,
            queryset,
            action="unblock_addresses",
            title=_("Unblock email addresses"),
            rows=rows,
            form=form,
            template="admin/records/unblock_confirmation.html",
            more=more,
            extra={
                "can_lift_permanent": can_lift_permanent,
                "has_permanent": any(qs.exists() for qs in permanent_in.values()),
            },
        )

    def _unblock(self, request, queryset, data: dict) -> None:
        """Lift the selection's blocks through the sales list's set-based service: now, or in a
        background job when the selection is big."""
        chosen = data["email_fields"]
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        nothing = len(ids) - queryset.filter(_blocked_in(fields_for(chosen))).count()
        try:
            outcome = bulk_unblock(
                actor=request.user,
                record_type=self.model._meta.model_name,
                selection={"ids": ids},
                fields=chosen,
                confirmed=data["confirmed"],
                reason=data["reason"],
                source=Unblock.Source.ADMIN,
            )
        except UnblockError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        if isinstance(outcome, BulkUnblockJob):
            url = reverse("admin:bounces_bulkunblockjob_change", args=[outcome.pk])
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    ngettext(
                        "The addresses of %(count)d record are being unblocked in the background.",
                        "The addresses of %(count)d records are being unblocked in the background.",
                        outcome.total,
                    )
                    % {"count": outcome.total},
                    url,
                    _("Follow the job"),
                ),
                messages.INFO,
            )
            return None
        report_unblock_outcome(self, request, outcome)
        if nothing:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected record has no blocked address in the chosen fields; "
                    "nothing was changed for it.",
                    "%(count)d selected records have no blocked address in the chosen "
                    "fields; nothing was changed for them.",
                    nothing,
                )
                % {"count": nothing},
                messages.WARNING,
            )
        return None


def _blocked_in(fields: list[str]) -> Q:
    condition = Q()
    for field in fields:
        condition |= records_blocked_in(ADDRESS_COLUMNS[field].block, None)
    return condition


@admin.register(Contact)
class ContactAdmin(RecordAdmin):
    pass


@admin.register(Lead)
class LeadAdmin(RecordAdmin):
    list_display = (*RecordAdmin.list_display, "status")
    list_filter = ("status", *RecordAdmin.list_filter)
    search_fields = (*RecordAdmin.search_fields, "source")
