"""Imports and hygiene actions in the admin: read-only history (the pages do the work)."""

from __future__ import annotations

from django.contrib import admin

from .models import HygieneAction, ImportJob


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(_ReadOnly):
    list_display = [
        "file_name",
        "record_type",
        "state",
        "actor",
        "created",
        "updated",
        "rejected",
        "created_at",
    ]
    list_filter = ["state", "record_type"]
    exclude = ["preview"]


@admin.register(HygieneAction)
class HygieneActionAdmin(_ReadOnly):
    list_display = ["created_at", "actor", "record_type", "action", "problem", "count"]
    list_filter = ["action", "record_type"]
