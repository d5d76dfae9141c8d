"""Admin for the inbox/quarantine, bounce mailboxes and HTTP bounce sources."""

from __future__ import annotations

import io
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..ingestion.imap import mailboxes_failing
from ..ingestion.store import OVERSIZE_PREFIX, inbound_requeue
from ..models import BounceMailbox, InboundMessage, InboundSource
from .actions import action_confirmation


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "received_at",
        "channel",
        "source",
        "state",
        "size",
        "attempts",
        "short_error",
    )
    list_filter = ("state", "channel", "source")
    search_fields = ("=id", "dedupe_key", "source", "error")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    actions = ["reprocess"]
    readonly_fields = (
        "channel",
        "source",
        "state",
        "attempts",
        "error",
        "size",
        "dedupe_key",
        "received_at",
        "processed_at",
        "download_link",
        "payload",
    )
    exclude = ("raw",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # evidence of bounces: never deleted from here

    def get_queryset(self, request):
        # Never load the raw bytes for a list page.
        return super().get_queryset(request).defer("raw", "payload")

    @admin.display(description=_("error"))
    def short_error(self, obj: InboundMessage) -> str:
        return (obj.error[:120] + "…") if len(obj.error) > 120 else obj.error

    @admin.display(description=_("raw message"))
    def download_link(self, obj: InboundMessage) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:bounces_inboundmessage_download", args=[obj.pk])
        label = _("Download (.eml)") if obj.payload is None else _("Download (.json)")
        return format_html('<a href="{}">{}</a>', url, label)

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="bounces_inboundmessage_download",
            )
        ]
        return extra + super().get_urls()

    def download_view(self, request: HttpRequest, pk: int) -> FileResponse:
        """Return the raw message as an .eml attachment (an ESP event as .json)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = get_object_or_404(InboundMessage, pk=pk)
        if obj.raw is not None:
            response = FileResponse(
                io.BytesIO(bytes(obj.raw)),
                as_attachment=True,
                filename=f"inbound-{obj.pk}.eml",
                content_type="message/rfc822",
            )
        else:
            response = FileResponse(
                io.BytesIO(json.dumps(obj.payload, indent=2).encode()),
                as_attachment=True,
                filename=f"inbound-{obj.pk}.json",
                content_type="application/json",
            )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.action(description=_("Re-process the selected messages"), permissions=["change"])
    def reprocess(self, request: HttpRequest, queryset) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        oversized = queryset.filter(dedupe_key__startswith=OVERSIZE_PREFIX).count()
        count = inbound_requeue(ids=ids)
        self.message_user(
            request,
            ngettext(
                "%(count)d message queued for processing again.",
                "%(count)d messages queued for processing again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
        if oversized:
            self.message_user(
                request,
                _("%(count)d oversized messages cannot be processed: only their head was kept.")
                % {"count": oversized},
                messages.WARNING,
            )


class BounceMailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=_("password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Stored encrypted and never shown. Leave empty to keep the current one, or use an "
            "environment variable below."
        ),
    )

    class Meta:
        model = BounceMailbox
        fields = [
            "name",
            "host",
            "port",
            "use_tls",
            "username",
            "password",
            "password_env",
            "folder",
            "processed_folder",
            "enabled",
        ]

    def save(self, commit: bool = True):
        if self.cleaned_data.get("password"):
            self.instance.set_password(self.cleaned_data["password"])
        return super().save(commit=commit)


@admin.register(BounceMailbox)
class BounceMailboxAdmin(admin.ModelAdmin):
    form = BounceMailboxForm
    list_display = (
        "name",
        "host",
        "username",
        "folder",
        "enabled",
        "last_polled_at",
        "last_success_at",
        "consecutive_failures",
        "last_error",
    )
    list_filter = ("enabled",)
    readonly_fields = ("last_polled_at", "last_success_at", "consecutive_failures", "last_error")

    def changelist_view(self, request: HttpRequest, extra_context=None):
        for mailbox in mailboxes_failing():
            messages.warning(
                request,
                _("Bounce mailbox “%(name)s” failed %(count)d polls in a row: %(error)s")
                % {
                    "name": mailbox.name,
                    "count": mailbox.consecutive_failures,
                    "error": mailbox.last_error,
                },
            )
        return super().changelist_view(request, extra_context)


@admin.register(InboundSource)
class InboundSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "endpoint", "max_bytes", "enabled", "last_used_at")
    list_filter = ("enabled",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("last_used_at",)
    fields = ("name", "slug", "max_bytes", "enabled", "last_used_at")

    actions = ["rotate_token"]

    @admin.action(
        description=_("Issue a new token (the old one stops working)"), permissions=["change"]
    )
    def rotate_token(self, request: HttpRequest, queryset):
        """Like the other actions: a confirmation page first (the relays using the old token
        stop working at once), then each new token shown once and logged in the admin history.
        """
        if not request.POST.get("post"):
            return action_confirmation(
                self,
                request,
                queryset,
                action="rotate_token",
                title=_("Issue new tokens"),
                rows=[{"name": source.name, "slug": source.slug} for source in queryset],
                form=forms.Form(),
                template="admin/bounces/rotate_token_confirmation.html",
            )
        field = str(InboundSource._meta.get_field("token_hash").verbose_name)
        changed = [{"changed": {"fields": [field]}}]
        for source in queryset:
            token = source.new_token()
            source.save(update_fields=["token_hash"])
            self.log_change(request, source, changed)
            self._show_token(request, source, token)
        return None

    def _show_token(self, request: HttpRequest, source: InboundSource, token: str) -> None:
        messages.warning(
            request,
            _(
                "The token of “%(name)s” is %(token)s: copy it now into the relay's "
                "configuration (Authorization: Bearer …). It is not stored and will not be "
                "shown again."
            )
            % {"name": source.name, "token": token},
        )

    @admin.display(description=_("endpoint"))
    def endpoint(self, obj: InboundSource) -> str:
        return reverse("bounces:inbound-raw", args=[obj.slug])

    def save_model(self, request: HttpRequest, obj: InboundSource, form, change: bool) -> None:
        token = obj.new_token() if not change else None
        super().save_model(request, obj, form, change)
        if token:
            self._show_token(request, obj, token)
