from django.urls import include, path

from . import views

app_name = "bounces"

urlpatterns = [
    # Relays that forward bounces over HTTP (a per-source bearer token; see the README).
    path("inbound/raw/<slug:source>/", views.inbound_raw, name="inbound-raw"),
    # ESP tracking webhooks (anymail), e.g. /bounces/webhooks/mailgun/tracking/.
    path("webhooks/", include("bounces.webhooks")),
]
