"""Mailings and the individual emails sent to records; the senders and the opt-outs."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.rates import bounce_rate
from records.models import EmailField

if TYPE_CHECKING:
    from records.models import Record

    from .bounces import Bounce


class Sender(models.Model):
    """A From address an admin allows the CRM to send from, with its rate limit."""

    address = models.CharField(_("address"), max_length=254, unique=True)
    name = models.CharField(_("display name"), max_length=200, blank=True)
    max_per_minute = models.PositiveIntegerField(
        _("maximum messages per minute"),
        default=120,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Mail from this address leaves at most this fast, whatever sends it (0: no limit). "
            "A slow start protects the sending domain's reputation."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    # The throttle's schedule: the moment the next message may leave (see sending.throttle).
    next_slot_at = models.DateTimeField(_("next free slot"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("sender")
        verbose_name_plural = _("senders")
        ordering = ["address"]

    def __str__(self) -> str:
        return self.formatted

    @property
    def formatted(self) -> str:
        """Return the From header value ("Name <address>" or the bare address)."""
        from email.utils import formataddr

        return formataddr((self.name, self.address)) if self.name else self.address


class OptOut(models.Model):
    """An address whose owner asked for no more mass email; it suppresses like a block."""

    class Source(models.TextChoices):
        LINK = "link", _("Unsubscribe link")
        ONE_CLICK = "one_click", _("One-click unsubscribe (mail client)")
        ADMIN = "admin", _("Admin")

    # Lower-cased, like Block.address (records.addresses.address_key).
    address = models.CharField(_("address"), max_length=254, unique=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    mailing = models.ForeignKey(
        "Mailing",
        verbose_name=_("mailing"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("opted out"), default=timezone.now)

    class Meta:
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.address


class Mailing(models.Model):
    """A mass email to many records; its bounce rate is bounced / sent recipients."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft (pre-send check)")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Sent")

    name = models.CharField(_("name"), max_length=200)
    subject = models.CharField(_("subject"), max_length=300)
    from_address = models.CharField(_("sender address"), max_length=254)
    sender = models.ForeignKey(
        Sender,
        verbose_name=_("sender"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mailings",
    )
    body = models.TextField(_("body"), blank=True)
    record_type = models.CharField(_("records"), max_length=10, blank=True)
    # {"ids": [...]} or {"criteria": RecordCriteria.as_dict()}: rebuilt on the server.
    selection = models.JSONField(_("selection"), default=dict, blank=True)
    # The risky groups the user chose to leave out at the pre-send check.
    excluded = models.JSONField(_("excluded groups"), default=list, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DONE)
    state_reason = models.CharField(_("why"), max_length=500, blank=True)
    recipients_total = models.PositiveIntegerField(_("recipients queued"), default=0)
    recipients_suppressed = models.PositiveIntegerField(_("recipients suppressed"), default=0)
    recipients_failed = models.PositiveIntegerField(_("recipients failed"), default=0)
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
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # When its rows were written (at confirmation, or by the worker for a big mailing).
    prepared_at = models.DateTimeField(_("prepared"), null=True, blank=True)
    # Set when the bounce rate paused it; kept after a resume, so it pauses automatically once.
    auto_paused_at = models.DateTimeField(_("paused automatically"), null=True, blank=True)

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-created_at"]
        permissions = [("send_mass_email", _("Can send mass email"))]

    def __str__(self) -> str:
        return self.name

    @property
    def bounce_rate(self) -> Decimal:
        """Return bounced / sent recipients in percent (`core.rates`; 0 when nothing was sent)."""
        return bounce_rate(self.recipients_bounced, self.recipients_sent)

    @property
    def is_paused(self) -> bool:
        # The reports' rate check pauses by setting paused_at alone: honour it too.
        return self.state == self.State.PAUSED or (
            self.paused_at is not None and self.state == self.State.SENDING
        )

    @property
    def display_state(self) -> str:
        return str(self.State.PAUSED.label if self.is_paused else self.get_state_display())


class SentEmail(models.Model):
    """One message sent from the CRM to one record's address."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        RETRYING = "retrying", _("Retrying")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        SUPPRESSED = "suppressed", _("Suppressed")

    # Rows that never reached the mail server: not "sent" in any bounce rate.
    UNSENT = ("queued", "sending", "retrying", "failed", "suppressed")

    # Not a column: set by bounces.selectors.record_sent_emails for the record page.
    last_bounce: Bounce | None

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
    # When queued, then when the mail server accepted it.
    sent_at = models.DateTimeField(_("sent"))
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    # One-to-one emails keep their rendered body; a mailing's rows render from the mailing.
    body = models.TextField(_("body"), blank=True)
    sender = models.ForeignKey(
        Sender,
        verbose_name=_("sender"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)

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
            # The sender's claim of the next batch: a mailing's rows still to send, in order.
            models.Index(
                fields=["mailing", "id"],
                condition=Q(status__in=["queued", "retrying"]),
                name="sent_mailing_pending",
            ),
            # The sweep of rows left claimed by a worker that died mid-send.
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="sent_claimed"),
        ]
        permissions = [("send_email", _("Can send email to a record"))]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address}"

    @property
    def record(self) -> Record | None:
        return self.contact if self.contact_id else self.lead
