from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BouncesConfig(AppConfig):
    name = "bounces"
    verbose_name = _("Bounces and blocks")
