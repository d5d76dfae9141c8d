"""Sending URLs: /mailings/ (DESIGN.md), the record pages' "Send email", the unsubscribe link."""

from __future__ import annotations

from django.urls import path

from records.models import RecordType

from . import views

app_name = "sending"

urlpatterns = [
    path("mailings/", views.MailingListView.as_view(), name="mailing-list"),
    path("mailings/new/", views.MailingNewView.as_view(), name="mailing-new"),
    path("mailings/<int:pk>/", views.MailingDetailView.as_view(), name="mailing-detail"),
    path("mailings/<int:pk>/confirm/", views.MailingConfirmView.as_view(), name="mailing-confirm"),
    path(
        "mailings/<int:pk>/pause/",
        views.MailingActionView.as_view(action="pause"),
        name="mailing-pause",
    ),
    path(
        "mailings/<int:pk>/resume/",
        views.MailingActionView.as_view(action="resume"),
        name="mailing-resume",
    ),
    path(
        "mailings/<int:pk>/cancel/",
        views.MailingActionView.as_view(action="cancel"),
        name="mailing-cancel",
    ),
    path(
        "contacts/<int:pk>/email/",
        views.RecordEmailView.as_view(record_type=RecordType.CONTACT),
        name="contact-email",
    ),
    path(
        "leads/<int:pk>/email/",
        views.RecordEmailView.as_view(record_type=RecordType.LEAD),
        name="lead-email",
    ),
    path("unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
]
