from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        # bounces ranks below reports and cannot call it: the report follows it through hooks.
        from bounces import signals

        from . import receivers

        signals.bounces_recorded.connect(receivers.rollups_add_bounces, dispatch_uid="reports")
        signals.emails_sent.connect(receivers.rollups_add_sent, dispatch_uid="reports")
        signals.mailings_autopaused.connect(receivers.rate_check_queue, dispatch_uid="reports")
