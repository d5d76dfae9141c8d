"""Contacts and leads: the records whose addresses bounces are about."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.categories import CATEGORIES

from .addresses import validate_address
from .search import SearchTextField


def _validate_email_field(value: str) -> None:
    validate_address(value)


class EmailField(models.TextChoices):
    """Which of a record's two addresses an action is about."""

    PRIMARY = "primary", _("Primary email")
    BACKUP = "backup", _("Backup email")


# Which addresses a bulk action is about: one email field, or both.
BOTH = "both"
EMAIL_FIELDS_CHOICES = [*EmailField.choices, (BOTH, _("Both"))]


@dataclass(frozen=True)
class AddressColumns:
    """The columns that hold one of a record's addresses."""

    address: str  # the address as typed
    key: str  # its lower-cased copy, the key of blocks
    block: str  # "type:slug" of its active block, or ""


# The one map from an email field to its columns: services, forms, admin and jobs all read it.
ADDRESS_COLUMNS: dict[str, AddressColumns] = {
    EmailField.PRIMARY: AddressColumns("email", "email_key", "email_block"),
    EmailField.BACKUP: AddressColumns("backup_email", "backup_email_key", "backup_email_block"),
}


class Record(models.Model):
    """What contacts and leads share: a person, their company and two email addresses.

    `email_key`/`backup_email_key` are generated, lower-cased copies of the addresses: blocks are
    keyed case-insensitively.

    `email_block`/`backup_email_block` hold "type:slug" of each address' active block ("" when it
    has none), a copy the block services keep in sync inside their transactions
    (`bounces.services.record_blocks`). They exist for the list filters: "records in category X
    ordered by name" is then an index range instead of a join of every match at query time
    (measured in records/bench.py). `manage.py sync_record_blocks` rebuilds them. The database
    default "" serves rows written by raw SQL or COPY (the seeds), which then sync set-based.
    """

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    company = models.CharField(_("company"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        # The (owner, last name) index serves the owner lookups; a second one on the key alone
        # only cost every row write one more index entry (see `_record_indexes`).
        db_index=False,
    )
    email = models.CharField(
        _("primary email"), max_length=254, blank=True, validators=[_validate_email_field]
    )
    backup_email = models.CharField(
        _("backup email"), max_length=254, blank=True, validators=[_validate_email_field]
    )
    email_key = models.GeneratedField(
        expression=Lower("email"),
        output_field=models.CharField(max_length=254),
        db_persist=True,
    )
    backup_email_key = models.GeneratedField(
        expression=Lower("backup_email"),
        output_field=models.CharField(max_length=254),
        db_persist=True,
    )
    email_block = models.CharField(
        _("primary email block"),
        max_length=41,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    backup_email_block = models.CharField(
        _("backup email block"),
        max_length=41,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    # Names, company, addresses and phone, case-folded and without accents (records.search).
    search_text = SearchTextField(_("search text"), db_default="")
    last_emailed_at = models.DateTimeField(_("last emailed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Django's default, stated so code that takes any record model can query it.
    objects = models.Manager()

    class Meta:
        abstract = True
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return self.full_name or self.email or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse(f"records:{self.record_type()}-detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def address(self, field: str) -> str:
        """Return the address held in `field` ("primary" or "backup")."""
        return self.email if field == EmailField.PRIMARY else self.backup_email

    @classmethod
    def record_type(cls) -> str:
        return cls._meta.model_name or ""


def _record_indexes(prefix: str) -> list[models.Index]:
    return [
        # The block-column sync looks records up by address (bounces.services.record_blocks).
        # Partial, and the sync says `<> ''`: many records have no backup address, and with
        # every key empty PostgreSQL's statistics made each probe look like a full-table match
        # (a sequential scan per ingestion batch; 0.1 ms with these).
        models.Index(
            fields=["email_key"], condition=~Q(email_key=""), name=f"{prefix}_email_key_set"
        ),
        models.Index(
            fields=["backup_email_key"],
            condition=~Q(backup_email_key=""),
            name=f"{prefix}_backup_key_set",
        ),
        # Default ordering of the list views, so page N is an index walk.
        models.Index(fields=["last_name", "first_name", "id"], name=f"{prefix}_name_order"),
        # "Owner" filter and "not emailed for 6 months".
        models.Index(fields=["owner", "last_name"], name=f"{prefix}_owner"),
        models.Index(fields=["last_emailed_at"], name=f"{prefix}_last_emailed"),
        # Block filters: one category is an equality, a type an IN list of its categories, and
        # the rows come out in list order. Partial: most records are not blocked, so these stay
        # small (and a query uses them only when its WHERE implies `<> ''`, which those do).
        models.Index(
            fields=["email_block", "last_name", "first_name", "id"],
            condition=~Q(email_block=""),
            name=f"{prefix}_email_block",
        ),
        models.Index(
            fields=["backup_email_block", "last_name", "first_name", "id"],
            condition=~Q(backup_email_block=""),
            name=f"{prefix}_backup_block",
        ),
        # "Category X in either field" (the list's default) is an OR of the two columns, which
        # no single-column index returns in list order: PostgreSQL then sorts every match, or,
        # misled by LIMIT, walks the whole name index (1 s at 1M contacts). One small partial
        # index per category, whose condition is exactly the filter's OR, is that list in order.
        *[
            models.Index(
                fields=["last_name", "first_name", "id"],
                condition=Q(email_block=spec.key) | Q(backup_email_block=spec.key),
                name=f"{prefix}_either_{spec.type[0]}_{spec.slug}"[:30],
            )
            for spec in CATEGORIES
        ],
    ]


class Contact(Record):
    class Meta(Record.Meta):
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = _record_indexes("contact")


class Lead(Record):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        QUALIFIED = "qualified", _("Qualified")
        LOST = "lost", _("Lost")

    status = models.CharField(
        _("lead status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    source = models.CharField(_("lead source"), max_length=100, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = _record_indexes("lead")


class RecordType(models.TextChoices):
    """The two types of record, as named in URLs, jobs and imports."""

    CONTACT = "contact", _("contact")
    LEAD = "lead", _("lead")


# The one record-type dispatch.
RECORD_MODELS: dict[str, type[Record]] = {RecordType.CONTACT: Contact, RecordType.LEAD: Lead}


def record_model(record_type: str) -> type[Record]:
    """Return the model of a record type ("contact" or "lead"); KeyError for anything else."""
    return RECORD_MODELS[record_type]
