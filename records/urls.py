"""Sales UI URLs. Paths users bookmark are fixed by DESIGN.md: /, /contacts/, /leads/ and the
record pages /contacts/<id>/, /leads/<id>/."""

from __future__ import annotations

from django.urls import path

from .views import CONTACTS, LEADS, HomeView, RecordPages, record_views
from .views_bulk import BulkUnblockJobStatusView, BulkUnblockJobView, RecordBulkUnblockView

app_name = "records"


def _record_urls(prefix: str, pages: RecordPages) -> list:
    views = record_views(pages)
    name = pages.record_type
    return [
        path(f"{prefix}/", views["list"], name=f"{name}-list"),
        path(f"{prefix}/new/", views["create"], name=f"{name}-create"),
        path(
            f"{prefix}/bulk-unblock/",
            RecordBulkUnblockView.as_view(pages=pages, action="change"),
            name=f"{name}-bulk-unblock",
        ),
        path(f"{prefix}/<int:pk>/", views["detail"], name=f"{name}-detail"),
        path(f"{prefix}/<int:pk>/edit/", views["update"], name=f"{name}-update"),
        path(f"{prefix}/<int:pk>/unblock/", views["unblock"], name=f"{name}-unblock"),
    ]


urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    *_record_urls("contacts", CONTACTS),
    *_record_urls("leads", LEADS),
    path("bulk-unblock/jobs/<int:pk>/", BulkUnblockJobView.as_view(), name="bulk-unblock-job"),
    path(
        "bulk-unblock/jobs/<int:pk>/status.json",
        BulkUnblockJobStatusView.as_view(),
        name="bulk-unblock-job-status",
    ),
]
