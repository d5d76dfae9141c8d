"""CSV/XLSX export of the contact or lead list as filtered on its page (same query string).

Cells go through `core.spreadsheets` (the one formula-injection rule of the app).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.downloads import csv_response, xlsx_response
from records.filters import ContactFilter, LeadFilter
from records.models import RecordType, record_model

_FILTERS = {RecordType.CONTACT: ContactFilter, RecordType.LEAD: LeadFilter}
_COLUMNS = (
    ("first_name", gettext_lazy("First name")),
    ("last_name", gettext_lazy("Last name")),
    ("company", gettext_lazy("Company")),
    ("email", gettext_lazy("Email")),
    ("backup_email", gettext_lazy("Backup email")),
    ("phone", gettext_lazy("Phone")),
    ("owner__username", gettext_lazy("Owner")),
    ("email_block", gettext_lazy("Email block")),
    ("backup_email_block", gettext_lazy("Backup email block")),
    ("last_emailed_at", gettext_lazy("Last emailed")),
)
_LEAD_COLUMNS = (("status", gettext_lazy("Lead status")), ("source", gettext_lazy("Lead source")))


def export_rows(queryset, columns) -> Iterator[tuple[Any, ...]]:
    return queryset.values_list(*[name for name, _label in columns]).iterator(chunk_size=2000)


class RecordExportView(View):
    record_type = RecordType.CONTACT
    fmt = "csv"

    def get(self, request: HttpRequest) -> HttpResponseBase:
        model, filterset_class = record_model(self.record_type), _FILTERS[self.record_type]
        if not request.user.has_perm(f"records.view_{self.record_type}"):
            raise PermissionDenied
        filterset = filterset_class(
            request.GET,
            queryset=model.objects.order_by("last_name", "first_name", "id"),
            request=request,
        )
        if not filterset.is_valid():
            return HttpResponseBadRequest(_("The filter is not valid."))
        columns = _COLUMNS + (_LEAD_COLUMNS if self.record_type == RecordType.LEAD else ())
        headers = [str(label) for _name, label in columns]
        rows = export_rows(filterset.qs, columns)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        name = f"{model._meta.model_name}s-{stamp}.{self.fmt}"
        if self.fmt == "csv":
            return csv_response(name, headers, rows)
        return xlsx_response(name, [(str(model._meta.verbose_name_plural), headers, rows)])
