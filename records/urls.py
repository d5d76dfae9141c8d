"""Sales UI URLs. Paths users bookmark are fixed by DESIGN.md: /, /contacts/, /leads/ and the
record pages /contacts/<id>/, /leads/<id>/."""

from __future__ import annotations

from django.urls import path

from .views import CONTACTS, LEADS, HomeView, kind_views
from .views_bulk import BulkUnblockJobStatusView, BulkUnblockJobView, RecordBulkUnblockView

app_name = "records"


def _kind_urls(prefix: str, kind) -> list:
    views = kind_views(kind)
    name = kind.name
    return [
        path(f"{prefix}/", views["list"], name=f"{name}-list"),
        path(f"{prefix}/new/", views["create"], name=f"{name}-create"),
        path(
            f"{prefix}/bulk-unblock/",
            RecordBulkUnblockView.as_view(kind=kind, action="change"),
            name=f"{name}-bulk-unblock",
        ),
        path(f"{prefix}/<int:pk>/", views["detail"], name=f"{name}-detail"),
        path(f"{prefix}/<int:pk>/edit/", views["update"], name=f"{name}-update"),
        path(f"{prefix}/<int:pk>/unblock/", views["unblock"], name=f"{name}-unblock"),
    ]


urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    *_kind_urls("contacts", CONTACTS),
    *_kind_urls("leads", LEADS),
    path("bulk-unblock/jobs/<int:pk>/", BulkUnblockJobView.as_view(), name="bulk-unblock-job"),
    path(
        "bulk-unblock/jobs/<int:pk>/status.json",
        BulkUnblockJobStatusView.as_view(),
        name="bulk-unblock-job-status",
    ),
]
