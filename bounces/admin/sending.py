"""Admin for the senders (From addresses and their rate limits) and the opt-outs."""

from __future__ import annotations

from django.contrib import admin

from ..models import OptOut, Sender


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    list_display = ("address", "name", "max_per_minute", "active")
    list_filter = ("active",)
    search_fields = ("address", "name")


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ("address", "source", "mailing", "created_at")
    list_filter = ("source",)
    search_fields = ("address",)
    raw_id_fields = ("mailing",)
    date_hierarchy = "created_at"
