"""An import of a file of contacts or leads, its per-line outcomes, and the list-hygiene audit."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from records.models import RecordType, record_model

# Import menus and job pages name the lists ("Contacts", "Leads"), not one record.
RECORD_TYPE_CHOICES = [
    (t.value, capfirst(record_model(t)._meta.verbose_name_plural)) for t in RecordType
]


class OnDuplicate(models.TextChoices):
    SKIP = "skip", _("Skip the row")
    UPDATE = "update", _("Update the existing record")
    CREATE = "create", _("Create another record anyway")


class ImportJob(models.Model):
    """One uploaded file on its way in: uploaded → (mapping, preview) → queued → running → done.

    The file stays on disk (`IMPORT_UPLOAD_DIR`) until the job is done, so the worker reads the
    same bytes the preview read. Each committed chunk writes its `ImportBatch` (the lines'
    outcomes, the ids created) and advances `last_line` in the same transaction: after a failure,
    exactly the lines up to `last_line` are saved, the import resumes after it, and a rollback
    deletes the records the batches say were created.
    """

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_jobs",
    )
    record_type = models.CharField(_("record type"), max_length=10, choices=RECORD_TYPE_CHOICES)
    file_name = models.CharField(_("file name"), max_length=255)
    file_path = models.CharField(_("stored file"), max_length=500)
    file_size = models.BigIntegerField(_("file size"), default=0)
    file_format = models.CharField(_("format"), max_length=10)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=2, blank=True)
    headers = models.JSONField(_("headers"), default=list)
    # {"<column index>": "<field>"}; columns not listed are ignored.
    mapping = models.JSONField(_("mapping"), default=dict)
    on_duplicate = models.CharField(
        _("on duplicate"), max_length=10, choices=OnDuplicate.choices, default=OnDuplicate.SKIP
    )
    fix_typos = models.BooleanField(_("apply suggested domain fixes"), default=False)
    check_dns = models.BooleanField(_("check that domains accept mail"), default=False)
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.UPLOADED
    )
    total_lines = models.PositiveIntegerField(_("lines"), default=0)
    last_line = models.PositiveIntegerField(_("last line saved"), default=0)
    processed = models.PositiveIntegerField(_("lines processed"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]
        indexes = [
            # The import page lists a user's recent imports.
            models.Index(fields=["actor", "-created_at"], name="importjob_actor_created"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        return reverse("imports:job", args=[self.pk])

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.processed / self.total_lines) if self.total_lines else 0

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED, self.State.ROLLED_BACK)


class Outcome(models.TextChoices):
    """What happened to one input line."""

    CREATED = "created", _("created")
    UPDATED = "updated", _("updated")
    SKIPPED = "skipped", _("skipped")
    REJECTED = "rejected", _("rejected")


class ImportBatch(models.Model):
    """The outcome of one saved chunk of an import: its lines and the records it created.

    One row per chunk (1,000 lines), not per line: a row per line cost a fifth of a 100,000-line
    import (measured in imports/bench.py). `lines` holds [line, outcome, reason, record id] per
    input line, in file order; `created_ids` the records the chunk created (what a rollback
    deletes).
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="batches")
    first_line = models.PositiveIntegerField(_("first line"))
    last_line = models.PositiveIntegerField(_("last line"))
    lines = models.JSONField(_("lines"), default=list)
    created_ids = models.JSONField(_("records created"), default=list)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["job", "first_line"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "first_line"], name="importbatch_job_first_line_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_line}–{self.last_line}"


class HygieneAction(models.Model):
    """The audit row of one list-hygiene bulk action: who, what, on which records, when."""

    class Action(models.TextChoices):
        CLEAR_ADDRESS = "clear_address", _("Clear the bad address")
        MERGE = "merge", _("Merge duplicates")
        DELETE = "delete", _("Delete")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    record_type = models.CharField(_("record type"), max_length=10, choices=RECORD_TYPE_CHOICES)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    problem = models.CharField(_("problem"), max_length=20)
    record_ids = models.JSONField(_("records"), default=list)
    # Per record, what changed: old addresses cleared, the record merged into, the deleted data.
    details = models.JSONField(_("details"), default=list)
    count = models.PositiveIntegerField(_("records affected"), default=0)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("list hygiene action")
        verbose_name_plural = _("list hygiene actions")
        ordering = ["-created_at"]
        indexes = [
            # The hygiene page shows the latest actions.
            models.Index(fields=["-created_at"], name="hygieneaction_created"),
        ]

    def __str__(self) -> str:
        return f"{self.action} ({self.count})"
