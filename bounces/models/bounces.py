"""Inbound raw messages and ESP events (the inbox) and the bounces recorded from them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..categories import BlockType, Category

if TYPE_CHECKING:
    from records.models import Record


class Channel(models.TextChoices):
    IMAP = "imap", _("IMAP mailbox")
    PIPE = "pipe", _("MTA pipe")
    HTTP = "http", _("HTTP endpoint")
    WEBHOOK = "webhook", _("ESP webhook")
    MANUAL = "manual", _("Manual")


class InboundMessage(models.Model):
    """Whatever arrived on a channel, stored first and processed after (the inbox table).

    A raw message is kept as bytes (it may hold NUL or 8-bit bytes); an ESP event as JSON.
    `dedupe_key` makes delivery idempotent: the same message or event is stored once.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        QUARANTINED = "quarantined", _("Quarantined")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    source = models.CharField(_("source"), max_length=200, blank=True)
    dedupe_key = models.CharField(_("dedupe key"), max_length=128, unique=True)
    raw = models.BinaryField(_("raw message"), null=True, blank=True)
    payload = models.JSONField(_("event payload"), null=True, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    # After a failed attempt, the row waits until then (backing off) before it is tried again.
    retry_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        ordering = ["-received_at"]
        indexes = [
            # The sweeper's scan for rows stuck in pending, and the quarantine list.
            models.Index(fields=["state", "received_at"], name="inbound_state_received"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk} ({self.get_state_display()})"


class Bounce(models.Model):
    """One delivery failure report for one recipient. Append-only."""

    inbound = models.ForeignKey(
        InboundMessage,
        verbose_name=_("raw evidence"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bounces",
    )
    dedupe_key = models.CharField(_("dedupe key"), max_length=128, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    esp = models.CharField(_("ESP"), max_length=30, blank=True)
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    status = models.CharField(_("DSN status"), max_length=16, blank=True)
    reply_code = models.CharField(_("SMTP reply code"), max_length=3, blank=True)
    diagnostic = models.TextField(_("diagnostic"), blank=True)
    explanation = models.CharField(_("why"), max_length=500, blank=True)
    # Empty type: the report blocks nothing (a success DSN, or not parsed).
    type = models.CharField(_("block type"), max_length=10, choices=BlockType.choices, blank=True)
    category = models.CharField(_("category"), max_length=30, choices=Category.choices, blank=True)
    kind = models.CharField(_("kind"), max_length=20, blank=True)
    parsed = models.BooleanField(_("parsed"), default=True)
    parse_error = models.CharField(_("parse error"), max_length=500, blank=True)
    sender_domain = models.CharField(_("sender domain"), max_length=253, blank=True)
    recipient_domain = models.CharField(_("recipient domain"), max_length=253, blank=True)
    original_message_id = models.CharField(_("original Message-ID"), max_length=998, blank=True)
    sent_email = models.ForeignKey(
        "bounces.SentEmail",
        verbose_name=_("sent email"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bounces",
    )
    received_at = models.DateTimeField(_("received"), db_index=False)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    # Not a column: set by bounces.selectors.recent_bounces for the home page.
    record: Record | None

    class Meta:
        verbose_name = _("bounce")
        verbose_name_plural = _("bounces")
        ordering = ["-received_at"]
        indexes = [
            # Recent bounces (home page) and the report's period filter.
            models.Index(fields=["-received_at"], name="bounce_received"),
            # A block's bounce history and an address' bounces.
            models.Index(fields=["recipient", "-received_at"], name="bounce_recipient"),
            models.Index(fields=["category", "type", "received_at"], name="bounce_category"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient or _('(no recipient)')} {self.status}".strip()
