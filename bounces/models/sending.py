"""Mailings and the individual emails sent to records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from records.models import EmailField


class Mailing(models.Model):
    """A mass email to many records; its bounce rate is bounced / sent recipients."""

    name = models.CharField(_("name"), max_length=200)
    subject = models.CharField(_("subject"), max_length=300)
    from_address = models.CharField(_("sender address"), max_length=254)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Counters kept by the services that send and record bounces (set-based F() updates).
    recipients_sent = models.PositiveIntegerField(_("recipients sent"), default=0)
    recipients_bounced = models.PositiveIntegerField(_("recipients bounced"), default=0)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def bounce_rate(self) -> float:
        """Return bounced / sent recipients as a percentage (0 when nothing was sent)."""
        if not self.recipients_sent:
            return 0.0
        return 100.0 * self.recipients_bounced / self.recipients_sent


class SentEmail(models.Model):
    """One message sent from the CRM to one record's address."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        SUPPRESSED = "suppressed", _("Suppressed")

    contact = models.ForeignKey(
        "records.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sent_emails",
    )
    lead = models.ForeignKey(
        "records.Lead",
        verbose_name=_("lead"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sent_emails",
    )
    mailing = models.ForeignKey(
        Mailing,
        verbose_name=_("mailing"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sent_emails",
    )
    field = models.CharField(
        _("email field"), max_length=10, choices=EmailField.choices, default=EmailField.PRIMARY
    )
    to_address = models.CharField(_("to"), max_length=254)
    from_address = models.CharField(_("from"), max_length=254)
    subject = models.CharField(_("subject"), max_length=300)
    message_id = models.CharField(_("Message-ID"), max_length=250, unique=True)
    # The VERP token in the return path (bounces+<token>@BOUNCE_DOMAIN).
    verp_token = models.CharField(_("VERP token"), max_length=40, unique=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SENT
    )
    status_reason = models.CharField(_("status reason"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent"))
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)

    class Meta:
        verbose_name = _("sent email")
        verbose_name_plural = _("sent emails")
        ordering = ["-sent_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False, lead__isnull=True)
                | Q(contact__isnull=True, lead__isnull=False),
                name="sent_email_one_record",
            ),
        ]
        indexes = [
            # The emails related list on record pages.
            models.Index(fields=["contact", "-sent_at"], name="sent_contact"),
            models.Index(fields=["lead", "-sent_at"], name="sent_lead"),
            # Correlating a bounce by recipient and time when no token or Message-ID survived.
            models.Index(fields=["to_address", "-sent_at"], name="sent_to_address"),
            # Bounce rates per mailing and per sender.
            models.Index(fields=["mailing", "status"], name="sent_mailing_status"),
            models.Index(fields=["from_address", "sent_at"], name="sent_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address}"

    @property
    def record(self):
        return self.contact if self.contact_id else self.lead
