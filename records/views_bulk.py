"""Sales UI views of the bulk unblock: the list's bulk action and the background job's pages.

The view only reads the form and shows the outcome: `bounces.services.bulk.bulk_unblock` decides
whether the selection is lifted now or by a background job.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView, View

from bounces.models import BulkUnblockJob, Unblock
from bounces.services.bulk import BulkUnblockResult, bulk_unblock, bulk_unblock_job_result
from bounces.services.errors import UnblockError
from core.http import SignedInRequest

from .filters import criteria_for_query
from .forms import BulkUnblockForm
from .selectors import InvalidSelection
from .views import CONTACTS, LEADS, RecordPagesMixin


def bulk_summary(result: BulkUnblockResult) -> list[tuple[int, str]]:
    """Return the (message level, text) lines that tell the user what a bulk unblock did."""
    lines = []
    level = messages.SUCCESS if result.unblocked else messages.INFO
    lines.append(
        (
            level,
            ngettext(
                "Unblocked %(count)d email address.",
                "Unblocked %(count)d email addresses.",
                result.unblocked,
            )
            % {"count": result.unblocked},
        )
    )
    if result.skipped_permanent:
        examples = ", ".join(result.permanent_examples)
        more = "…" if result.skipped_permanent > len(result.permanent_examples) else ""
        lines.append(
            (
                messages.WARNING,
                ngettext(
                    "Skipped %(count)d address blocked permanently (only an admin can lift "
                    "it, from the record page): %(examples)s%(more)s",
                    "Skipped %(count)d addresses blocked permanently (only an admin can lift "
                    "them, from the record page): %(examples)s%(more)s",
                    result.skipped_permanent,
                )
                % {"count": result.skipped_permanent, "examples": examples, "more": more},
            )
        )
    if result.skipped_changed:
        lines.append(
            (
                messages.WARNING,
                ngettext(
                    "Left %(count)d address blocked: it bounced again after you confirmed (or "
                    "its block changed meanwhile). Check it and unblock it again if the cause "
                    "is resolved.",
                    "Left %(count)d addresses blocked: they bounced again after you confirmed "
                    "(or their blocks changed meanwhile). Check them and unblock them again if "
                    "the cause is resolved.",
                    result.skipped_changed,
                )
                % {"count": result.skipped_changed},
            )
        )
    if result.not_blocked:
        lines.append(
            (
                messages.INFO,
                ngettext(
                    "Skipped %(count)d address that is not blocked.",
                    "Skipped %(count)d addresses that are not blocked.",
                    result.not_blocked,
                )
                % {"count": result.not_blocked},
            )
        )
    if result.records_without_address:
        lines.append(
            (
                messages.INFO,
                ngettext(
                    "%(count)d selected record has no address in the chosen field.",
                    "%(count)d selected records have no address in the chosen fields.",
                    result.records_without_address,
                )
                % {"count": result.records_without_address},
            )
        )
    return lines


class RecordBulkUnblockView(RecordPagesMixin, View):
    """The list's bulk action "Unblock email addresses" (POST only)."""

    http_method_names = ["post"]

    def post(self, request: SignedInRequest, *args, **kwargs) -> HttpResponse:
        form = BulkUnblockForm(request.POST)
        query = request.POST.get("query", "")
        back = self.pages.url("list") + (f"?{query}" if query else "")
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            messages.error(request, _("Nothing was unblocked."))
            return HttpResponseRedirect(back)
        data = form.cleaned_data
        try:
            if data["all_matching"]:
                criteria = criteria_for_query(self.pages.record_type, data["query"])
                selection = {"criteria": criteria.as_dict()}
            else:
                selection = {"ids": data["ids"]}
            outcome = bulk_unblock(
                actor=request.user,
                record_type=self.pages.record_type,
                selection=selection,
                fields=data["fields"],
                confirmed=data["confirm"],
                confirmed_at=data["shown"],
                source=Unblock.Source.BULK,
            )
        except InvalidSelection:
            messages.error(request, _("The list's filter is not valid. Nothing was unblocked."))
            return HttpResponseRedirect(back)
        except UnblockError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(back)
        if isinstance(outcome, BulkUnblockJob):
            return HttpResponseRedirect(reverse("records:bulk-unblock-job", args=[outcome.pk]))
        for level, text in bulk_summary(outcome):
            messages.add_message(request, level, text)
        return HttpResponseRedirect(back)


class BulkUnblockJobMixin(PermissionRequiredMixin):
    """One background bulk unblock, visible to the user who started it and to admins only."""

    request: HttpRequest
    kwargs: dict[str, Any]

    permission_required = "bounces.view_block"
    raise_exception = True

    def get_job(self) -> BulkUnblockJob:
        jobs = BulkUnblockJob.objects.all()
        user = self.request.user
        # Admins (who may lift permanent blocks) oversee every unblock; anyone else sees only
        # their own jobs, and someone else's job is "not found", not "forbidden".
        if not (user.is_superuser or user.has_perm("bounces.unblock_permanent")):
            jobs = jobs.filter(actor_id=user.pk)
        return get_object_or_404(jobs, pk=self.kwargs["pk"])


def job_status(job: BulkUnblockJob) -> dict:
    return {
        "state": job.state,
        "finished": job.finished,
        "total": job.total,
        "processed": job.processed,
        "percent": job.percent,
        "unblocked": job.unblocked,
        "skipped_permanent": job.skipped_permanent,
        "skipped_not_blocked": job.skipped_not_blocked,
    }


class BulkUnblockJobView(BulkUnblockJobMixin, TemplateView):
    """The progress page of a background bulk unblock; the summary once it is done."""

    template_name = "records/bulk_unblock_job.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.get_job()
        pages = CONTACTS if job.record_type == CONTACTS.record_type else LEADS
        query = urlencode(job.selection.get("criteria", {}))
        context.update(
            job=job,
            pages=pages,
            record_type=pages.record_type,
            verbose_name_plural=pages.model._meta.verbose_name_plural,
            back_url=pages.url_list + (f"?{query}" if query else ""),
            status_url=reverse("records:bulk-unblock-job-status", args=[job.pk]),
            summary=[
                (MESSAGE_CLASSES.get(level, "info"), text)
                for level, text in (
                    bulk_summary(bulk_unblock_job_result(job))
                    if job.state == BulkUnblockJob.State.DONE
                    else []
                )
            ],
        )
        return context


class BulkUnblockJobStatusView(BulkUnblockJobMixin, View):
    """The progress page's polling endpoint."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args, **kwargs) -> JsonResponse:
        response = JsonResponse(job_status(self.get_job()))
        response["Cache-Control"] = "no-store"
        return response


MESSAGE_CLASSES = {
    messages.SUCCESS: "success",
    messages.INFO: "info",
    messages.WARNING: "warning",
    messages.ERROR: "danger",
}
