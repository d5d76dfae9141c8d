from django.urls import path

from . import views, webhooks

app_name = "bounces"

urlpatterns = [
    # Relays that forward bounces over HTTP (a per-source bearer token; see the README).
    path("inbound/raw/<slug:source>/", views.inbound_raw, name="inbound-raw"),
    # ESP tracking webhooks (anymail), e.g. /bounces/webhooks/mailgun/tracking/.
    path(
        "webhooks/amazon_ses/tracking/",
        webhooks.SESWebhookView.as_view(),
        name="webhook-amazon-ses",
    ),
    path(
        "webhooks/sendgrid/tracking/",
        webhooks.SendGridWebhookView.as_view(),
        name="webhook-sendgrid",
    ),
    path(
        "webhooks/mailgun/tracking/",
        webhooks.MailgunWebhookView.as_view(),
        name="webhook-mailgun",
    ),
    path(
        "webhooks/postmark/tracking/",
        webhooks.PostmarkWebhookView.as_view(),
        name="webhook-postmark",
    ),
]
