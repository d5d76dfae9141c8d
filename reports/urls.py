"""Reports: /reports/ (index) and /reports/bounces/ (the bounce report), fixed by DESIGN.md."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.ReportsIndexView.as_view(), name="index"),
    path("bounces/", views.BounceReportView.as_view(), name="bounces"),
    path("bounces/export.<str:fmt>", views.ReportExportView.as_view(), name="export"),
    path("bounces/rows.<str:fmt>", views.RowsExportView.as_view(), name="rows-export"),
    path("bounces/rows/<slug:listing>/", views.RowsView.as_view(), name="rows"),
]
