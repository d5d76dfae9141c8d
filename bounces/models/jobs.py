"""Background bulk unblocks: one row per job, its selection, progress and outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from records.models import EMAIL_FIELDS_CHOICES

from .blocks import Unblock


class BulkUnblockJob(models.Model):
    """A bulk unblock too big to run inside a request (see `bulk_unblock_job_start`).

    The selection is stored as the user made it (ids, or the list's filter query string) and
    rebuilt on the server when the job runs. The counters grow after every chunk, so the progress
    page can show how far it got; `last_pk` lets a redelivered task resume after the last chunk.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class RecordType(models.TextChoices):
        CONTACT = "contact", _("Contact")
        LEAD = "lead", _("Lead")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="bulk_unblock_jobs",
    )
    record_type = models.CharField(_("record type"), max_length=10, choices=RecordType.choices)
    # {"ids": [1, 2, …]} or {"criteria": RecordCriteria.as_dict()} (records.selectors)
    selection = models.JSONField(_("selection"))
    fields = models.CharField(_("fields"), max_length=10, choices=EMAIL_FIELDS_CHOICES)
    # Where it was started (the list's bulk action, the admin) and, for an admin's lift of
    # permanent blocks, the written reason: both go on every audit row the job writes.
    source = models.CharField(
        _("from"), max_length=10, choices=Unblock.Source.choices, default=Unblock.Source.BULK
    )
    reason = models.TextField(_("reason"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(_("records selected"), default=0)
    processed = models.PositiveIntegerField(_("records processed"), default=0)
    unblocked = models.PositiveIntegerField(_("addresses unblocked"), default=0)
    skipped_permanent = models.PositiveIntegerField(_("skipped: permanent"), default=0)
    skipped_not_blocked = models.PositiveIntegerField(_("skipped: not blocked"), default=0)
    skipped_changed = models.PositiveIntegerField(_("skipped: new bounce since"), default=0)
    records_without_address = models.PositiveIntegerField(
        _("records without an address"), default=0
    )
    # A few of the permanently blocked addresses skipped, for the summary (as in the sync path).
    permanent_examples = models.JSONField(_("permanent examples"), default=list, blank=True)
    # When the user confirmed: blocks that got a new bounce after it are left in place.
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    last_pk = models.BigIntegerField(_("last record processed"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Set when a worker claims the job and moved forward after every chunk: a heartbeat, so a
    # job whose worker died can be claimed again after a few minutes (JOB_STALE_AFTER).
    started_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk unblock job")
        verbose_name_plural = _("bulk unblock jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["actor", "-created_at"], name="bulkjob_actor_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} bulk unblock #{self.pk} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.processed * 100 / self.total))
