"""What the admin's actions share: the confirmation page, the unblock form and outcome messages,
the block warnings, and the read-only admin of history and evidence.

Actions follow `django.contrib.admin.actions.delete_selected`: permission checked on the server,
a confirmation page posting back to the changelist, the service writes (and its audit rows), a
message with the counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..categories import BlockCategory, BlockType
from ..services.bulk import BulkUnblockResult
from ..services.errors import PermanentBlockNeedsAdmin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Rows listed on a confirmation page; the action itself covers the whole selection.
CONFIRMATION_LIST_LIMIT = 100


# Distinct signs, as the sales UI's amber triangle and red octagon: a stop sign for permanent.
BLOCK_ICONS = {BlockType.TEMPORARY: "⚠", BlockType.PERMANENT: "⛔"}


def block_warning(type_: str | None, category: str | None) -> str:
    """Return "⛔ Permanent · Bad mailbox" / "⚠ Temporary · Mailbox full" ("" for none)."""
    if not type_:
        return ""
    info = BlockCategory.get(type_, category or "other")
    return f"{BLOCK_ICONS[BlockType(info.type)]} {BlockType(info.type).label} · {info.name}"


class UnblockConfirmForm(forms.Form):
    """The questions of the confirmation page; `needs_reason(cleaned_data)` says when a written
    reason is required (a permanent block is among those about to be lifted)."""

    confirmed = forms.BooleanField(
        label=_("I have checked that the cause of the bounce is resolved."),
        required=True,
        error_messages={"required": _("Confirm that the cause is resolved before unblocking.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Required when a permanent block is lifted; kept in the unblock history."),
    )

    def __init__(self, *args, needs_reason: Callable[[dict], bool], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._needs_reason = needs_reason

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["reason"] = (data.get("reason") or "").strip()
        if not data["reason"] and self._needs_reason(data):
            self.add_error(
                "reason", _("Write why the permanent block can be lifted: it is kept in history.")
            )
        return data


def action_confirmation(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: StrOrPromise,
    rows: Iterable[dict],
    form: forms.Form,
    template: str,
    more: int | None = None,
    extra: dict | None = None,
) -> TemplateResponse:
    """Render the intermediate page of an action (GET, or POST with errors).

    With "select all N matching" the posted form keeps the changelist's query string (the
    form posts back to the same URL) and `select_across`, so no id list ever hits
    DATA_UPLOAD_MAX_NUMBER_FIELDS.
    """
    opts = modeladmin.model._meta
    select_across = request.POST.get("select_across") == "1"
    rows = list(rows)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": opts,
        "app_label": opts.app_label,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "select_across": select_across,
        # The ids the changelist posted (none with "select all": the query string carries it).
        "selected_ids": [] if select_across else request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "rows": rows[:CONFIRMATION_LIST_LIMIT],
        "more": max(0, len(rows) - CONFIRMATION_LIST_LIMIT) if more is None else more,
        "form": form,
        "media": modeladmin.media,
        **(extra or {}),
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, template, context)


def report_unblock_outcome(
    modeladmin: admin.ModelAdmin, request: HttpRequest, result: BulkUnblockResult
) -> None:
    """Tell the user how many blocks a bulk lift lifted and why others were skipped."""
    skipped = result.skipped_permanent + result.skipped_changed
    lifted = result.unblocked
    modeladmin.message_user(
        request,
        ngettext("Lifted %(count)d block.", "Lifted %(count)d blocks.", lifted) % {"count": lifted}
        + " "
        + ngettext("Skipped %(count)d.", "Skipped %(count)d.", skipped) % {"count": skipped},
        messages.SUCCESS if lifted and not skipped else messages.WARNING,
    )
    # The first few permanent blocks the user may not lift, by name, so a big selection stays
    # readable.
    for address in result.permanent_examples[:5]:
        modeladmin.message_user(request, str(PermanentBlockNeedsAdmin(address)), messages.WARNING)
    if result.skipped_changed:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d block got a new bounce or was lifted by someone else meanwhile; it "
                "was left as it is.",
                "%(count)d blocks got a new bounce or were lifted by someone else meanwhile; "
                "they were left as they are.",
                result.skipped_changed,
            )
            % {"count": result.skipped_changed},
            messages.WARNING,
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """History and evidence: viewable, never added, edited or deleted from the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
