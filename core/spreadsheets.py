"""Spreadsheet cells that cannot run as formulas, as CSV lines or an XLSX workbook (no Django).

`safe_cell` is the one rule for every cell the app writes (OWASP ASVS 5.0 1.2.10): a text cell
starting with `=`, `+`, `-`, `@`, tab, carriage return or NUL gets a leading `'`, so a
spreadsheet shows it as text instead of running it. Bounce diagnostics, addresses and imported
files come from outside: they are attacker-controlled.

- Real numbers (int, Decimal, float) stay numbers and are never prefixed: `-3` written from an
  integer is a numeric literal, not a formula, and must sort and sum as a number.
- Text that merely looks numeric is still text: a phone number "+1 555 0100" becomes
  "'+1 555 0100", and a text "-5" becomes "'-5" (the apostrophe is visible in the file).
- Dates and times are written as ISO 8601 text in CSV and as date cells in XLSX; aware times
  in the zone `tz` when one is given (the HTTP downloads give the site's).

Both writers stream: CSV lines are yielded as rows are read; XLSX is written row by row by
openpyxl's write-only mode into a temporary file (spooled to disk past 16 MiB), so memory stays
flat at any size. The HTTP responses around them are in `core.downloads`.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO

from openpyxl import Workbook

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row

Sheet = tuple[str, Sequence[str], Iterable[Sequence]]  # (title, headers, rows)


def safe_cell(value, tz: dt.tzinfo | None = None):
    """Return `value` made safe for a spreadsheet cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(tz) if tz is not None and value.tzinfo is not None else value
    if isinstance(value, dt.date):
        return value
    text = str(value)
    # XLSX cells cannot hold most control characters; drop them rather than fail the download.
    text = "".join(ch for ch in text if ch in "\t\r\n" or ch >= " " or ch == "\0")
    if text.startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


def _csv_value(value, tz: dt.tzinfo | None) -> str:
    value = safe_cell(value, tz)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value.replace("\0", "") if isinstance(value, str) else value


class _Echo:
    """A file-like object whose write returns the line, for a streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    headers: Sequence[str], rows: Iterable[Sequence], *, tz: dt.tzinfo | None = None
) -> Iterator[str]:
    """Yield the CSV file line by line, starting with a BOM and the header row."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel opens UTF-8 (Chinese text) correctly
    yield writer.writerow([_csv_value(h, tz) for h in headers])
    for row in rows:
        yield writer.writerow([_csv_value(v, tz) for v in row])


def _xlsx_value(value, tz: dt.tzinfo | None):
    value = safe_cell(value, tz)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)  # openpyxl refuses aware datetimes; local time
    if isinstance(value, str):
        return value.replace("\0", "")
    return value


def xlsx_file(sheets: Iterable[Sheet], *, tz: dt.tzinfo | None = None) -> IO[bytes]:
    """Return an XLSX workbook with one sheet per (title, headers, rows), rewound to its start."""
    workbook = Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([_xlsx_value(h, tz) for h in headers])
        for count, row in enumerate(rows, start=1):
            if count > XLSX_MAX_ROWS:
                sheet.append(["(truncated: more rows than a sheet holds; use the CSV download)"])
                break
            sheet.append([_xlsx_value(v, tz) for v in row])
    handle = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    workbook.save(handle)
    handle.seek(0)
    return handle
