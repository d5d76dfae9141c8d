"""The import pages: upload → mapping → preview → confirm → progress and result file.

Every view checks the app's permissions on the server: importing contacts needs
`records.add_contact`, leads `records.add_lead`; a job is visible to the user who started it and
to superusers only (anyone else gets a 404).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.http import (
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.downloads import csv_response
from core.http import SignedInRequest
from records.models import RecordType, record_model

from . import hygiene
from .forms import MappingForm, UploadForm
from .models import RECORD_TYPE_CHOICES, HygieneAction, ImportJob
from .reading import TableError
from .services import (
    ImportError_,
    import_confirm,
    import_job_preview,
    import_resume,
    import_rollback,
    import_upload,
    job_options,
    job_table,
    preview_rows,
    result_rows,
)

IMPORT_PERMISSIONS: dict[str, str] = {
    RecordType.CONTACT: "records.add_contact",
    RecordType.LEAD: "records.add_lead",
}


def _can_import(user: User, record_type: str | None = None) -> bool:
    if record_type:
        return user.has_perm(IMPORT_PERMISSIONS[record_type])
    return any(user.has_perm(perm) for perm in IMPORT_PERMISSIONS.values())


def _job(request: SignedInRequest, pk: int) -> ImportJob:
    jobs = ImportJob.objects.all()
    if not request.user.is_superuser:
        jobs = jobs.filter(actor=request.user)
    job = get_object_or_404(jobs, pk=pk)
    if not _can_import(request.user, job.record_type):
        raise PermissionDenied
    return job


class _LimitedUpload(FileUploadHandler):
    """Stop reading an upload body once it passes the limit (a client may send no length)."""

    def __init__(self, request=None, limit: int = 0):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _too_big(request: SignedInRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > settings.IMPORT_MAX_FILE_BYTES + 64 * 1024  # room for the form's fields


def _index(
    request: SignedInRequest, form: UploadForm | None = None, status: int = 200, error: str = ""
):
    jobs = ImportJob.objects.select_related("actor")
    if not request.user.is_superuser:
        jobs = jobs.filter(actor=request.user)
    return render(
        request,
        "imports/index.html",
        {
            "form": form or UploadForm(),
            "jobs": jobs[:20],
            "max_mb": settings.IMPORT_MAX_FILE_BYTES / 1048576,
            "error": error,
        },
        status=status,
    )


@method_decorator(csrf_exempt, name="dispatch")  # CSRF is checked in `_upload`, see below
class ImportIndexView(View):
    """The upload form and the user's recent imports.

    An oversized upload is refused from its Content-Length before Django reads the body; the
    CSRF check therefore runs inside the view (it reads the body), after the size check and
    with the limiting upload handler in place, as Django's docs advise for upload handlers.
    """

    def dispatch(self, request, *args, **kwargs):
        if not _can_import(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: SignedInRequest) -> HttpResponse:
        return _index(request)

    def post(self, request: SignedInRequest) -> HttpResponse:
        if _too_big(request):
            error = _("The file is bigger than the limit of %(limit).1f MB; nothing was read.") % {
                "limit": settings.IMPORT_MAX_FILE_BYTES / 1048576
            }
            response = _index(request, status=413, error=error)
            response["Connection"] = "close"
            return response
        request.upload_handlers = [
            _LimitedUpload(request, limit=settings.IMPORT_MAX_FILE_BYTES + 1),
            *request.upload_handlers,
        ]
        return csrf_protect(self._upload)(request)

    def _upload(self, request: SignedInRequest) -> HttpResponse:
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return _index(request, form, status=400)
        record_type = form.cleaned_data["record_type"]
        if not _can_import(request.user, record_type):
            raise PermissionDenied
        upload = form.cleaned_data["file"]
        try:
            job = import_upload(
                actor=request.user, record_type=record_type, upload=upload, file_name=upload.name
            )
        except TableError as exc:
            form.add_error("file", str(exc))
            return _index(request, form, status=400)
        return HttpResponseRedirect(reverse("imports:mapping", args=[job.pk]))


def _samples(job: ImportJob, rows: int = 3) -> list[str]:
    """Return, per column, the first few values of the file (read lazily), to help mapping."""
    values: list[list[str]] = [[] for _header in job.headers]
    try:
        for count, (_line, cells) in enumerate(job_table(job).rows()):
            if count >= rows:
                break
            for index, cell in enumerate(cells[: len(values)]):
                if cell.strip():
                    values[index].append(cell.strip()[:60])
    except (TableError, OSError):
        pass  # the preview reports the problem with its line
    return [" · ".join(column) for column in values]


class MappingView(View):
    def get(self, request: SignedInRequest, pk: int) -> HttpResponse:
        job = _job(request, pk)
        if job.state != ImportJob.State.UPLOADED:
            return HttpResponseRedirect(job.get_absolute_url())
        return self._render(request, job, MappingForm(job=job))

    def post(self, request: SignedInRequest, pk: int) -> HttpResponse:
        job = _job(request, pk)
        if job.state != ImportJob.State.UPLOADED:
            return HttpResponseRedirect(job.get_absolute_url())
        form = MappingForm(request.POST, job=job)
        if not form.is_valid():
            return self._render(request, job, form, status=400)
        job.mapping = form.cleaned_data["mapping"]
        job.on_duplicate = form.cleaned_data["on_duplicate"]
        job.fix_typos = form.cleaned_data["fix_typos"]
        job.check_dns = form.cleaned_data["check_dns"]
        job.save(update_fields=["mapping", "on_duplicate", "fix_typos", "check_dns"])
        try:
            import_job_preview(job=job)
        except TableError as exc:
            form.add_error(None, str(exc))
            return self._render(request, job, form, status=400)
        return HttpResponseRedirect(reverse("imports:preview", args=[job.pk]))

    def _render(self, request, job, form, status=200):
        return render(
            request,
            "imports/mapping.html",
            {
                "job": job,
                "form": form,
                "columns": list(zip(form.column_fields(), _samples(job), strict=True)),
            },
            status=status,
        )


class PreviewView(View):
    def get(self, request: SignedInRequest, pk: int) -> HttpResponse:
        job = _job(request, pk)
        if job.state != ImportJob.State.UPLOADED:
            return HttpResponseRedirect(job.get_absolute_url())
        if not job.preview:
            return HttpResponseRedirect(reverse("imports:mapping", args=[job.pk]))
        return render(request, "imports/preview.html", {"job": job, "p": job.preview})

    def post(self, request: SignedInRequest, pk: int) -> HttpResponse:
        job = _job(request, pk)
        if not job.preview or not import_confirm(job=job):
            messages.warning(request, _("This import was already started."))
        return HttpResponseRedirect(job.get_absolute_url())


class PreviewDownloadView(View):
    """Every line of the preview (outcome, reason, cleaning changes) as CSV, computed again."""

    def get(self, request: SignedInRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
        job = _job(request, pk)
        if job.state != ImportJob.State.UPLOADED:
            return HttpResponseRedirect(job.get_absolute_url())
        try:
            rows = preview_rows(job_table(job), job_options(job))
            headers = next(rows)
        except TableError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("imports:mapping", args=[job.pk]))
        return csv_response(f"import-{job.pk}-preview.csv", headers, rows)


class JobView(View):
    def get(self, request: SignedInRequest, pk: int) -> HttpResponse:
        job = _job(request, pk)
        if job.state == ImportJob.State.UPLOADED:
            return HttpResponseRedirect(reverse("imports:preview", args=[job.pk]))
        return render(
            request,
            "imports/job.html",
            {"job": job, "status_url": reverse("imports:status", args=[job.pk])},
        )


class JobStatusView(View):
    def get(self, request: SignedInRequest, pk: int) -> JsonResponse:
        job = _job(request, pk)
        response = JsonResponse(
            {
                "state": job.state,
                "finished": job.finished,
                "total": job.total_lines,
                "processed": job.processed,
                "percent": job.percent,
                "created": job.created,
                "updated": job.updated,
                "skipped": job.skipped,
                "rejected": job.rejected,
            }
        )
        response["Cache-Control"] = "no-store"
        return response


class JobResultView(View):
    """The result file: one row per input line, with the record's id."""

    def get(self, request: SignedInRequest, pk: int) -> StreamingHttpResponse:
        job = _job(request, pk)
        rows: Iterator[list] = result_rows(job, with_ids=True)
        headers = next(rows)
        return csv_response(f"import-{job.pk}-result.csv", headers, rows)


class JobResumeView(View):
    def post(self, request: SignedInRequest, pk: int) -> HttpResponse:
        job = _job(request, pk)
        if import_resume(job=job):
            messages.success(
                request, _("The import continues after line %(line)d.") % {"line": job.last_line}
            )
        else:
            messages.warning(request, _("Only a failed import can be resumed."))
        return HttpResponseRedirect(job.get_absolute_url())


class JobRollbackView(View):
    def post(self, request: SignedInRequest, pk: int) -> HttpResponse:
        job = _job(request, pk)
        if not request.POST.get("confirm"):
            messages.error(request, _("Tick the box to confirm the rollback."))
            return HttpResponseRedirect(job.get_absolute_url())
        try:
            deleted = import_rollback(job=job)
        except ImportError_ as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Rolled back: %(count)d records created by this import were deleted.")
                % {"count": deleted},
            )
        return HttpResponseRedirect(job.get_absolute_url())


# --- list hygiene ----------------------------------------------------------------------------
HYGIENE_PAGE = 100


def _hygiene_record_type(request: SignedInRequest) -> str:
    # "kind" in the query string: bookmarked hygiene pages keep working.
    record_type = request.GET.get("kind") or request.POST.get("kind") or RecordType.CONTACT
    return record_type if record_type in RecordType.values else RecordType.CONTACT


class HygieneView(View):
    """Records with bad addresses, duplicates, or no mail for six months, and bulk fixes.

    Looking needs `records.change_<type>`; clearing an address the same; merging and deleting
    also `records.delete_<type>`. A bulk action needs its confirmation box ticked (checked here).
    """

    def dispatch(self, request, *args, **kwargs):
        self.record_type = _hygiene_record_type(request)
        self.model = record_model(self.record_type)
        if not request.user.has_perm(f"records.change_{self.record_type}"):
            raise PermissionDenied
        problem = request.GET.get("problem") or request.POST.get("problem") or "invalid"
        self.problem = problem if problem in hygiene.PROBLEMS else "invalid"
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: SignedInRequest) -> HttpResponse:
        records = hygiene.hygiene_records(self.model, self.problem).select_related("owner")
        paginator = Paginator(records, HYGIENE_PAGE)
        page = paginator.get_page(request.GET.get("page"))
        can_delete = request.user.has_perm(f"records.delete_{self.record_type}")
        actions = [
            (action, HygieneAction.Action(action).label)
            for action in hygiene.ACTIONS[self.problem]
            if action == HygieneAction.Action.CLEAR_ADDRESS or can_delete
        ]
        return render(
            request,
            "imports/hygiene.html",
            {
                "record_type": self.record_type,
                "record_types": RECORD_TYPE_CHOICES,
                "problem": self.problem,
                "problems": [
                    (key, label, hygiene.hygiene_records(self.model, key).count())
                    for key, label in hygiene.PROBLEMS.items()
                ],
                "page": page,
                "actions": actions,
                "history": HygieneAction.objects.select_related("actor")[:10],
            },
        )

    def post(self, request: SignedInRequest) -> HttpResponse:
        action = request.POST.get("action", "")
        back = f"{reverse('imports:hygiene')}?kind={self.record_type}&problem={self.problem}"
        if action not in hygiene.ACTIONS[self.problem]:
            messages.error(request, _("Choose an action."))
            return HttpResponseRedirect(back)
        if action != HygieneAction.Action.CLEAR_ADDRESS and not request.user.has_perm(
            f"records.delete_{self.record_type}"
        ):
            raise PermissionDenied
        if not request.POST.get("confirm"):
            messages.error(request, _("Tick the box to confirm the action."))
            return HttpResponseRedirect(back)
        if request.POST.get("all_matching"):
            ids = list(
                hygiene.hygiene_records(self.model, self.problem).values_list("pk", flat=True)
            )
        else:
            try:
                ids = [int(value) for value in request.POST.getlist("ids")]
            except ValueError:
                ids = []
        if not ids:
            messages.error(request, _("Select at least one record."))
            return HttpResponseRedirect(back)
        actor, model = request.user, self.model
        if action == HygieneAction.Action.CLEAR_ADDRESS:
            done = hygiene.hygiene_clear_addresses(
                actor=actor, model=model, problem=self.problem, ids=ids
            )
        elif action == HygieneAction.Action.MERGE:
            done = hygiene.hygiene_merge(actor=actor, model=model, ids=ids)
        else:
            done = hygiene.hygiene_delete(actor=actor, model=model, problem=self.problem, ids=ids)
        messages.success(
            request,
            _("%(action)s: %(count)d records.")
            % {"action": done.get_action_display(), "count": done.count},
        )
        return HttpResponseRedirect(back)
