"""Blocks (the state of one address) and the audit of every lift."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..categories import BlockCategory, BlockType, Category, CategoryInfo


class BlockQuerySet(models.QuerySet):
    def active(self) -> BlockQuerySet:
        return self.filter(lifted_at__isnull=True)


class Block(models.Model):
    """One episode of an address being blocked, from the first bounce until it is lifted.

    At most one block per address is active (`lifted_at` is null); a lifted block stays as
    history, and a later bounce opens a new one. Addresses are stored lower-cased
    (`records.addresses.address_key`).
    """

    address = models.CharField(_("address"), max_length=254)
    type = models.CharField(_("block type"), max_length=10, choices=BlockType.choices)
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    status = models.CharField(_("DSN status"), max_length=16, blank=True)
    reply_code = models.CharField(_("SMTP reply code"), max_length=3, blank=True)
    diagnostic = models.TextField(_("diagnostic"), blank=True)
    explanation = models.CharField(_("why"), max_length=500, blank=True)
    first_bounce_at = models.DateTimeField(_("first bounce"))
    last_bounce_at = models.DateTimeField(_("last bounce"))
    # When a bounce was last recorded against this block, by our clock (`last_bounce_at` is the
    # bounce's own date, which may lie in the past): a bulk lift confirmed before this moment
    # leaves the block alone, since the user never saw that bounce.
    last_recorded_at = models.DateTimeField(_("last bounce recorded"), null=True, blank=True)
    bounce_count = models.PositiveIntegerField(_("bounces"), default=1)
    cause = models.ForeignKey(
        "bounces.Bounce",
        verbose_name=_("latest bounce"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    # When the periodic review looks at this block next (set on creation, moved after each look).
    review_due_at = models.DateTimeField(_("next review"), null=True, blank=True)
    created_at = models.DateTimeField(_("blocked"), auto_now_add=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)

    objects = BlockQuerySet.as_manager()

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        ordering = ["-last_bounce_at"]
        permissions = [
            ("unblock_temporary", _("Can lift temporary blocks")),
            ("unblock_permanent", _("Can lift permanent blocks")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["address"],
                condition=Q(lifted_at__isnull=True),
                name="block_one_active_per_address",
            ),
        ]
        indexes = [
            # Record list filters: active blocks by type and category, joined on address.
            models.Index(
                fields=["category", "type", "address"],
                condition=Q(lifted_at__isnull=True),
                name="block_active_category",
            ),
            models.Index(
                fields=["type", "address"],
                condition=Q(lifted_at__isnull=True),
                name="block_active_type",
            ),
            # Block history of one address (record pages, admin search).
            models.Index(fields=["address", "-created_at"], name="block_address_history"),
            # The periodic review's scan for due blocks.
            models.Index(
                fields=["review_due_at"],
                condition=Q(lifted_at__isnull=True),
                name="block_review_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_type_display()}: {self.info.name})"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None

    @property
    def is_permanent(self) -> bool:
        return self.type == BlockType.PERMANENT

    @property
    def info(self) -> CategoryInfo:
        """Return the category's name, meaning and recommendation."""
        return BlockCategory.get(self.type, self.category)


class Unblock(models.Model):
    """The audit row of one lifted block: who, when, from which field, why."""

    class Source(models.TextChoices):
        RECORD = "record", _("Record page")
        LIST = "list", _("List view")
        BULK = "bulk", _("Bulk action")
        ADMIN = "admin", _("Admin")
        REVIEW = "review", _("System review")

    block = models.OneToOneField(
        Block, verbose_name=_("block lifted"), on_delete=models.PROTECT, related_name="unblock"
    )
    address = models.CharField(_("address"), max_length=254)
    block_type = models.CharField(_("block type"), max_length=10, choices=BlockType.choices)
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lifted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the system review lifted the block."),
    )
    source = models.CharField(_("from"), max_length=10, choices=Source.choices)
    record_type = models.CharField(_("record type"), max_length=20, blank=True)
    record_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    field = models.CharField(_("email field"), max_length=10, blank=True)
    confirmed = models.BooleanField(_("cause confirmed resolved"), default=False)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("lifted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("unblock")
        verbose_name_plural = _("unblock history")
        ordering = ["-created_at"]
        indexes = [
            # "Unblocked in period" in the bounce report.
            models.Index(fields=["created_at"], name="unblock_created"),
            models.Index(fields=["address"], name="unblock_address"),
        ]

    def __str__(self) -> str:
        return f"{self.address} lifted {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def actor_name(self) -> str:
        if self.actor is None:  # no query: Django knows the key is empty
            return str(_("system review"))
        return self.actor.get_username()
