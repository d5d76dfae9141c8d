"""Streamed reading of an uploaded table (CSV or XLSX), with the limits that keep a hostile file
from exhausting memory or disk. Only translation comes from Django: the limits are arguments.

`open_table(path, limits=…)` checks the file before reading it (size from the file system, magic
bytes, the XLSX's declared uncompressed size) and returns a `Table`: the header row, then
`rows()` yielding `(line_number, cells)` one at a time. Anything unusable raises `TableError`
with a sentence a user can act on.

- CSV encoding: a UTF-8 BOM wins; else strict UTF-8 on the first block; else charset-normalizer
  choosing between GB18030 and Windows-1252 (the two legacy encodings spreadsheets here export).
- CSV delimiter: `csv.Sniffer` on the first block, among `,` `;` tab and `|`; a one-column file
  falls back to `,`.
- A NUL byte or a line longer than the limit stops the read with the line number.
- XLSX: openpyxl in read-only mode, after checking the zip's member count and the declared
  uncompressed sizes (zipfile never inflates a member past its declared size, so the
  declaration is an upper bound even when it lies).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"


class TableError(ValueError):
    """The file cannot be imported; the message says why."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 50 * 1024 * 1024
    max_line_chars: int = 1024 * 1024
    max_rows: int = 500_000
    max_columns: int = 200
    xlsx_max_uncompressed_bytes: int = 500 * 1024 * 1024
    xlsx_max_members: int = 1000
    xlsx_max_ratio: int = 200


@dataclass
class Table:
    format: str  # "csv" or "xlsx"
    path: Path
    headers: list[str]
    encoding: str = ""
    delimiter: str = ""
    limits: Limits = Limits()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (line number in the file, cells as text) for every non-empty data row."""
        if self.format == "csv":
            yield from _csv_rows(self)
        else:
            yield from _xlsx_rows(self)


def open_table(path: str | os.PathLike, *, limits: Limits = Limits()) -> Table:
    """Check the file at `path` and return its Table (header read); raise TableError."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise TableError(_("The file is empty."))
    if size > limits.max_file_bytes:
        raise TableError(
            _("The file is %(size).1f MB; the limit is %(limit).1f MB.")
            % {"size": size / 1048576, "limit": limits.max_file_bytes / 1048576}
        )
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if head.startswith(b"PK\x03\x04"):
        table = Table("xlsx", path, [], limits=limits)
        _check_zip(path, limits)
    elif _looks_binary(head):
        raise TableError(_("The file is neither CSV nor XLSX (it looks like a binary file)."))
    else:
        encoding = detect_encoding(head)
        if encoding == "utf-8" and head.isascii() and size > len(head):
            # An ASCII start says nothing: judge by the first block with other bytes in it.
            encoding = detect_encoding(_first_non_ascii_block(path) or head)
            if encoding == "utf-8-sig":
                encoding = "utf-8"  # the BOM can only be at the start
        table = Table("csv", path, [], encoding=encoding, limits=limits)
        table.delimiter = detect_delimiter(head, encoding)
    header = next(_raw_rows(table), None)
    if header is None or not any(cell.strip() for cell in header[1]):
        raise TableError(_("The file has no header row."))
    table.headers = [cell.strip() for cell in header[1]]
    return table


_BINARY_MAGIC = (b"%PDF", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")


def _looks_binary(head: bytes) -> bool:
    if head.startswith(_BINARY_MAGIC):
        return True
    # UTF-16 text has NULs everywhere; a CSV with one stray NUL is reported with its line later.
    return head[:4096].count(b"\0") > 16


def _first_non_ascii_block(path: Path) -> bytes:
    """Return SAMPLE_BYTES of the file from the line holding its first non-ASCII byte (b"" if
    it has none); a streamed scan, so memory stays at one block."""
    with path.open("rb") as handle:
        offset = 0
        while block := handle.read(1024 * 1024):
            if not block.isascii():
                position = next(i for i, byte in enumerate(block) if byte > 127)
                start = offset + block.rfind(b"\n", 0, position) + 1
                handle.seek(start)
                return handle.read(SAMPLE_BYTES)
            offset += len(block)
    return b""


def detect_encoding(sample: bytes) -> str:
    """Return the Python codec name of a CSV sample: utf-8-sig, utf-8, gb18030 or cp1252."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=["gb18030", "cp1252"]).best()
    if best is not None and best.encoding in ("gb18030", "gbk", "gb2312"):
        return "gb18030"
    return "cp1252"


def detect_delimiter(sample: bytes, encoding: str) -> str:
    text = sample.decode(encoding, errors="ignore")
    lines = text.splitlines()[:50]
    if len(lines) > 1 and len(sample) == SAMPLE_BYTES:
        lines = lines[:-1]  # the last line of a cut sample is partial
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _raw_rows(table: Table) -> Iterator[tuple[int, list[str]]]:
    return _csv_rows(table, header=True) if table.format == "csv" else _xlsx_rows(table, True)


def _checked_lines(handle, limits: Limits, counter: list[int]) -> Iterator[str]:
    # readline with a size bound: a 10 MB line is refused after reading the limit, not the line.
    while True:
        line = handle.readline(limits.max_line_chars + 1)
        if not line:
            return
        counter[0] += 1
        if len(line) > limits.max_line_chars and not line.endswith("\n"):
            raise TableError(
                _("Line %(line)d is longer than %(limit)d characters.")
                % {"line": counter[0], "limit": limits.max_line_chars}
            )
        if "\0" in line:
            raise TableError(
                _("Line %(line)d contains a NUL byte; the file looks damaged.")
                % {"line": counter[0]}
            )
        yield line


def _csv_rows(table: Table, header: bool = False) -> Iterator[tuple[int, list[str]]]:
    limits = table.limits
    counter = [0]
    with table.path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=table.encoding, errors="strict", newline="")
        reader = csv.reader(_checked_lines(text, limits, counter), delimiter=table.delimiter)
        first = True
        rows = 0
        while True:
            start = counter[0] + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise TableError(
                    _("Line %(line)d: the CSV is malformed (%(error)s).")
                    % {"line": start, "error": exc}
                ) from exc
            except UnicodeDecodeError as exc:
                raise TableError(
                    _("Near line %(line)d: the text is not valid %(encoding)s.")
                    % {"line": start, "encoding": table.encoding}
                ) from exc
            if first:
                first = False
                if not header:
                    continue
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > limits.max_columns:
                raise TableError(
                    _("Line %(line)d has more than %(limit)d columns.")
                    % {"line": start, "limit": limits.max_columns}
                )
            rows += 1
            if rows > limits.max_rows + 1:
                raise TableError(
                    _("The file has more than %(limit)d rows.") % {"limit": limits.max_rows}
                )
            yield start, cells
            if header:
                return


def _check_zip(path: Path, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise TableError(_("The file looks like XLSX but is damaged (not a valid zip).")) from exc
    if len(members) > limits.xlsx_max_members:
        raise TableError(_("The XLSX file has too many parts to be a spreadsheet."))
    total = sum(member.file_size for member in members)
    if total > limits.xlsx_max_uncompressed_bytes:
        raise TableError(
            _("The XLSX file unpacks to %(size)d MB; the limit is %(limit)d MB (a zip bomb?).")
            % {"size": total // 1048576, "limit": limits.xlsx_max_uncompressed_bytes // 1048576}
        )
    for member in members:
        if member.file_size > 1024 * 1024 and member.file_size > limits.xlsx_max_ratio * max(
            member.compress_size, 1
        ):
            raise TableError(_("The XLSX file is compressed suspiciously well (a zip bomb?)."))
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise TableError(_("The file is a zip archive but not an XLSX spreadsheet."))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # phone numbers typed as numbers
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _xlsx_rows(table: Table, header: bool = False) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    limits = table.limits
    try:
        workbook = load_workbook(table.path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise TableError(
            _("The XLSX file cannot be read (%(error)s).") % {"error": exc.__class__.__name__}
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = 0
        for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if index == 1 and not header:
                continue
            cells = [_cell_text(v) for v in values[: limits.max_columns + 1]]
            while cells and not cells[-1].strip():
                cells.pop()
            if not cells:
                continue
            if len(cells) > limits.max_columns:
                raise TableError(
                    _("Row %(line)d has more than %(limit)d columns.")
                    % {"line": index, "limit": limits.max_columns}
                )
            if any(len(cell) > limits.max_line_chars for cell in cells):
                raise TableError(
                    _("Row %(line)d has a cell longer than the limit.") % {"line": index}
                )
            rows += 1
            if rows > limits.max_rows + 1:
                raise TableError(
                    _("The file has more than %(limit)d rows.") % {"limit": limits.max_rows}
                )
            yield index, cells
            if header:
                return
    except TableError:
        raise
    except Exception as exc:
        raise TableError(
            _("The XLSX file cannot be read (%(error)s).") % {"error": exc.__class__.__name__}
        ) from exc
    finally:
        workbook.close()
