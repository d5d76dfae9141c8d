from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "records.imports"
    # A short label of its own: it names the tables, migrations and permissions (imports_importjob).
    label = "imports"
    verbose_name = _("Imports and list hygiene")
