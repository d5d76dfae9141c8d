"""Admin of the reports app: the bounce-rate alerts, read-only (the rate check opens and closes
them; they are the history of which mailing or sender crossed the threshold, and when)."""

from __future__ import annotations

from django.contrib import admin

from bounces.admin.actions import ReadOnlyAdmin

from .models import RateAlert


@admin.register(RateAlert)
class RateAlertAdmin(ReadOnlyAdmin):
    list_display = (
        "crossed_at",
        "subject_name",
        "subject_key",
        "rate",
        "threshold",
        "sent",
        "bounced",
        "notified_at",
        "cleared_at",
    )
    list_filter = ("crossed_at", "cleared_at")
    search_fields = ("subject_key", "subject_name")
    date_hierarchy = "crossed_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
