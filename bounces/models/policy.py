"""Admin-editable settings of the bounce rules (one row)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class BouncePolicy(models.Model):
    """The thresholds admins tune; `BouncePolicy.current()` always returns the single row."""

    bounce_rate_threshold = models.DecimalField(
        _("bounce rate threshold (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text=_("Above this share of bounced recipients a mailing or sender is flagged."),
    )
    pause_mailing_above_threshold = models.BooleanField(
        _("pause mailings above the threshold"),
        default=False,
        help_text=_("Stop a mailing's remaining sends once its bounce rate passes the threshold."),
    )
    escalate_after_bounces = models.PositiveSmallIntegerField(
        _("escalate after N temporary bounces"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2)],
        help_text=_(
            "Turn a temporary block permanent after this many temporary bounces within the "
            "window below. Empty: never escalate."
        ),
    )
    escalate_within_days = models.PositiveSmallIntegerField(
        _("escalation window (days)"), default=30, validators=[MinValueValidator(1)]
    )
    review_interval_days = models.PositiveSmallIntegerField(
        _("review blocks every (days)"),
        default=182,
        validators=[MinValueValidator(1)],
        help_text=_("How often each block is re-checked and lifted if its cause is gone."),
    )

    class BackupFallback(models.TextChoices):
        SKIP = "skip", _("Skip the record")
        BACKUP = "backup", _("Send to the backup address")

    backup_fallback = models.CharField(
        _("when the primary address is blocked"),
        max_length=10,
        choices=BackupFallback.choices,
        default=BackupFallback.SKIP,
        help_text=_(
            "For mailings: when a record's primary address is blocked or opted out and its "
            "backup address is not, skip the record or send to the backup address."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bounce policy")
        verbose_name_plural = _("bounce policy")

    def __str__(self) -> str:
        return str(_("Bounce policy"))

    @classmethod
    def current(cls) -> BouncePolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy
