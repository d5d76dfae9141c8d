"""File downloads over HTTP: a streaming CSV and an XLSX attachment, every cell formula-safe.

The cells and files are written by `core.spreadsheets`; this adds the responses and the site's
time zone for aware times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from .spreadsheets import Sheet, csv_lines, xlsx_file

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_response(
    filename: str, headers: Sequence[str], rows: Iterable[Sequence]
) -> StreamingHttpResponse:
    """Return a streaming CSV download."""
    lines = csv_lines(headers, rows, tz=timezone.get_current_timezone())
    response = StreamingHttpResponse(lines, content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(filename: str, sheets: Iterable[Sheet]) -> FileResponse:
    """Return an XLSX download with one sheet per (title, headers, rows)."""
    handle = xlsx_file(sheets, tz=timezone.get_current_timezone())
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )
