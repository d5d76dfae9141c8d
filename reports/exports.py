"""CSV and XLSX downloads of the bounce report, safe against spreadsheet formula injection.

`safe_cell` is the one rule for every cell written (OWASP ASVS 5.0 1.2.10): a text cell starting
with `=`, `+`, `-`, `@`, tab, carriage return or NUL gets a leading `'`, so a spreadsheet shows
it as text instead of running it. Bounce diagnostics and addresses come from remote mail servers:
they are attacker-controlled.

- Real numbers (int, Decimal, float) stay numbers and are never prefixed: `-3` written from an
  integer is a numeric literal, not a formula, and must sort and sum as a number.
- Text that merely looks numeric is still text: a phone number "+1 555 0100" becomes
  "'+1 555 0100", and a text "-5" becomes "'-5" (the apostrophe is visible in the file).
- Dates and times are written as ISO 8601 text in CSV and as date cells in XLSX.

Large downloads stream: CSV rows go out as they are read (`iterator(chunk_size=2000)`); XLSX is
written row by row by openpyxl's write-only mode into a temporary file (spooled to disk past
16 MiB), so memory stays flat at any size.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """Return `value` made safe for a spreadsheet cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value) if timezone.is_aware(value) else value
    if isinstance(value, dt.date):
        return value
    text = str(value)
    # XLSX cells cannot hold most control characters; drop them rather than fail the download.
    text = "".join(ch for ch in text if ch in "\t\r\n" or ch >= " " or ch == "\0")
    if text.startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


def _csv_value(value) -> str:
    value = safe_cell(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value.replace("\0", "") if isinstance(value, str) else value


class _Echo:
    """A file-like object whose write returns the line, for a streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(headers: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel opens UTF-8 (Chinese text) correctly
    yield writer.writerow([_csv_value(h) for h in headers])
    for row in rows:
        yield writer.writerow([_csv_value(v) for v in row])


def csv_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence]):
    """A streaming CSV download."""
    response = StreamingHttpResponse(csv_lines(headers, rows), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _xlsx_value(value):
    value = safe_cell(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)  # openpyxl refuses aware datetimes; local time
    if isinstance(value, str):
        return value.replace("\0", "")
    return value


def xlsx_response(filename: str, sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]]):
    """An XLSX download with one sheet per (title, headers, rows), written row by row."""
    workbook = Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([_xlsx_value(h) for h in headers])
        for count, row in enumerate(rows, start=1):
            if count > XLSX_MAX_ROWS:
                sheet.append(["(truncated: more rows than a sheet holds; use the CSV download)"])
                break
            sheet.append([_xlsx_value(v) for v in row])
    handle = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )
