"""URL wiring. Paths users bookmark are fixed by DESIGN.md: /, /contacts/, /leads/, /reports/."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from records.views import LogoutView

# The admin speaks as the product, not as "Django administration".
admin.site.site_header = _("BounceCRM administration")
admin.site.site_title = _("BounceCRM admin")
admin.site.index_title = _("Contacts, blocks and bounces")

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("reports/", include("reports.urls")),
    path("bounces/", include("bounces.urls")),
    path("", include("records.imports.urls")),
    path("", include("bounces.sending.urls")),
    path("", include("records.urls")),
]
