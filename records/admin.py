"""Admin for contacts and leads: block filters, block warnings and the unblock action.

Blocks belong to addresses: each record's two lower-cased key columns are matched against
active blocks in SQL (EXISTS for the filters, one scalar subquery per address for the warning
columns), so a page of 100 records costs the same two queries as a page of 1.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bounces.admin.blocks import (
    CONFIRMATION_LIST_LIMIT,
    UnblockConfirmForm,
    block_warning,
    report_unblock_outcome,
    unblock_confirmation,
)
from bounces.categories import BlockCategory, BlockType
from bounces.models import Block, Unblock
from bounces.services.records import BOTH, fields_for, record_unblock

from .addresses import validate_address
from .models import Contact, EmailField, Lead

KEY_COLUMNS = {EmailField.PRIMARY: "email_key", EmailField.BACKUP: "backup_email_key"}
TAG_ANNOTATIONS = {EmailField.PRIMARY: "primary_block", EmailField.BACKUP: "backup_block"}


def _active_blocks_of(key_column: str) -> QuerySet[Block]:
    return Block.objects.filter(lifted_at__isnull=True, address=OuterRef(key_column))


def with_block_tags(queryset: QuerySet) -> QuerySet:
    """Annotate `primary_block`/`backup_block` = "type:category" of each address' active block.

    One scalar subquery per address served by the partial unique index on active blocks.
    """
    tag = Concat("type", Value(":"), "category", output_field=CharField())
    return queryset.annotate(
        **{
            TAG_ANNOTATIONS[field]: Subquery(
                _active_blocks_of(column).annotate(tag=tag).values("tag")[:1]
            )
            for field, column in KEY_COLUMNS.items()
        }
    )


def _warning(tag: str | None) -> str:
    if not tag:
        return ""
    type_, _sep, category = tag.partition(":")
    return block_warning(type_, category)


# --- list filters -------------------------------------------------------------------------------
class _BlockFilter(admin.SimpleListFilter):
    field: str = EmailField.PRIMARY

    def blocks(self) -> QuerySet[Block]:
        return _active_blocks_of(KEY_COLUMNS[self.field])


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
            return queryset.filter(Exists(self.blocks()))
        if value == "none":
            return queryset.filter(~Exists(self.blocks()))
        if value in BlockType.values:
            return queryset.filter(Exists(self.blocks().filter(type=value)))
        return queryset if value is None else queryset.none()


class _BlockCategoryFilter(_BlockFilter):
    def lookups(self, request, model_admin):
        return BlockCategory.choices()

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        type_, _sep, slug = self.value().partition(":")
        if (type_, slug) not in {(m.value.type, m.value.slug) for m in BlockCategory}:
            return queryset.none()  # no such category: nothing can match it
        return queryset.filter(Exists(self.blocks().filter(type=type_, category=slug)))


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
        return _clean_address(self.cleaned_data.get("email"))

    def clean_backup_email(self) -> str:
        return _clean_address(self.cleaned_data.get("backup_email"))


def _clean_address(value: str | None) -> str:
    value = (value or "").strip()
    return validate_address(value) if value else ""


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
    list_display = (
        "__str__",
        "company",
        "email",
        "primary_warning",
        "backup_email",
        "backup_warning",
        "owner",
    )
    list_filter = (
        PrimaryBlockTypeFilter,
        PrimaryBlockCategoryFilter,
        BackupBlockTypeFilter,
        BackupBlockCategoryFilter,
        "owner",
    )
    search_fields = ("first_name", "last_name", "company", "email", "backup_email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("primary_warning", "backup_warning", "created_at", "updated_at")
    actions = ("unblock_addresses",)

    def get_queryset(self, request):
        return with_block_tags(super().get_queryset(request))

    @admin.display(description=_("primary email block"), ordering="primary_block")
    def primary_warning(self, obj) -> str:
        return _warning(getattr(obj, "primary_block", None))

    @admin.display(description=_("backup email block"), ordering="backup_block")
    def backup_warning(self, obj) -> str:
        return _warning(getattr(obj, "backup_block", None))

    def has_unblock_permission(self, request) -> bool:
        user = request.user
        return user.has_perm("bounces.unblock_temporary") or user.has_perm(
            "bounces.unblock_permanent"
        )

    @admin.action(description=_("Unblock email addresses"), permissions=["unblock"])
    def unblock_addresses(self, request, queryset):
        queryset = (
            with_block_tags(queryset)
            if "primary_block" not in queryset.query.annotations
            else queryset
        )
        can_lift_permanent = request.user.has_perm("bounces.unblock_permanent")
        permanent_in = {
            field: queryset.filter(**{f"{tag}__startswith": f"{BlockType.PERMANENT}:"})
            for field, tag in TAG_ANNOTATIONS.items()
        }

        def needs_reason(data: dict) -> bool:
            if not can_lift_permanent or not data.get("email_fields"):
                return False
            return any(permanent_in[f].exists() for f in fields_for(data["email_fields"]))

        posted = bool(request.POST.get("post"))
        form = RecordUnblockForm(request.POST if posted else None, needs_reason=needs_reason)
        if posted and form.is_valid():
            chosen = fields_for(form.cleaned_data["email_fields"])
            blocked = queryset.filter(_blocked_in(chosen))
            lifted, refused, records = 0, [], 0
            for record in blocked.iterator(chunk_size=500):
                records += 1
                # Only the chosen fields that are blocked: an unblocked backup address is not a
                # refusal worth reporting when the primary one was lifted.
                wanted = [f for f in chosen if getattr(record, TAG_ANNOTATIONS[f])]
                result = record_unblock(
                    record=record,
                    fields=BOTH if len(wanted) == 2 else wanted[0],
                    actor=request.user,
                    source=Unblock.Source.ADMIN,
                    confirmed=form.cleaned_data["confirmed"],
                    reason=form.cleaned_data["reason"],
                )
                lifted += len(result.unblocked)
                refused.extend(result.refused)
            report_unblock_outcome(self, request, lifted=lifted, refused=refused)
            nothing = queryset.count() - records
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

        blocked = queryset.filter(_blocked_in(list(KEY_COLUMNS)))
        shown = list(blocked[:CONFIRMATION_LIST_LIMIT])
        rows = [
            {
                "address": record.address(field),
                "warning": _warning(getattr(record, tag)),
                "record": str(record),
                "field": EmailField(field).label,
            }
            for record in shown
            for field, tag in TAG_ANNOTATIONS.items()
            if getattr(record, tag)
        ]
        more = blocked.count() - len(shown) if len(shown) == CONFIRMATION_LIST_LIMIT else 0
        return unblock_confirmation(
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


def _blocked_in(fields: list[str]) -> Q:
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{TAG_ANNOTATIONS[field]}__isnull": False})
    return condition


@admin.register(Contact)
class ContactAdmin(RecordAdmin):
    pass


@admin.register(Lead)
class LeadAdmin(RecordAdmin):
    list_display = (*RecordAdmin.list_display, "status")
    list_filter = ("status", *RecordAdmin.list_filter)
    search_fields = (*RecordAdmin.search_fields, "source")
