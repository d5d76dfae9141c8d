from __future__ import annotations

from django.urls import path

from . import views
from .exports import RecordExportView

app_name = "imports"

urlpatterns = [
    path("imports/", views.ImportIndexView.as_view(), name="index"),
    path("imports/<int:pk>/", views.JobView.as_view(), name="job"),
    path("imports/<int:pk>/mapping/", views.MappingView.as_view(), name="mapping"),
    path("imports/<int:pk>/preview/", views.PreviewView.as_view(), name="preview"),
    path("imports/<int:pk>/preview.csv", views.PreviewDownloadView.as_view(), name="preview-csv"),
    path("imports/<int:pk>/status.json", views.JobStatusView.as_view(), name="status"),
    path("imports/<int:pk>/result.csv", views.JobResultView.as_view(), name="result"),
    path("imports/<int:pk>/resume/", views.JobResumeView.as_view(), name="resume"),
    path("imports/<int:pk>/rollback/", views.JobRollbackView.as_view(), name="rollback"),
    path("hygiene/", views.HygieneView.as_view(), name="hygiene"),
    *[
        path(
            f"{record_type}s/export.{fmt}",
            RecordExportView.as_view(record_type=record_type, fmt=fmt),
            name=f"{record_type}-export-{fmt}",
        )
        for record_type in ("contact", "lead")
        for fmt in ("csv", "xlsx")
    ],
]
