"""Helpers that write real import files (CSV in several encodings, XLSX by openpyxl)."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

HEADER = ["姓名", "公司", "邮箱", "备用邮箱", "电话"]
ROWS = [
    ["李伟", "Acme", '"Li Wei" <li.wei@Example.COM>,', "", "+86 138 0000 0000"],
    ["Anna Müller", "Beispiel GmbH", " mailto:anna@gmial.com;", "", ""],
    ["Bob", '=HYPERLINK("http://x")', "bob@example.com", "", ""],
    ["Li Again", "", "LI.WEI@example.com", "", ""],
    ["Bad", "", "not-an-email", "", ""],
]


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, settings, monkeypatch):
    """Uploads go to a folder of the test (also for a worker started by the test)."""
    folder = tmp_path / "uploads"
    settings.IMPORT_UPLOAD_DIR = folder
    monkeypatch.setenv("IMPORT_UPLOAD_DIR", str(folder))
    return folder


def _csv_text(rows, delimiter=",") -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.fixture
def write_csv(tmp_path):
    def _write(rows=None, *, header=HEADER, encoding="utf-8", delimiter=",", name="in.csv"):
        path = tmp_path / name
        path.write_bytes(_csv_text([header, *(rows or ROWS)], delimiter).encode(encoding))
        return path

    return _write


@pytest.fixture
def write_xlsx(tmp_path):
    def _write(rows=None, *, header=HEADER, name="in.xlsx"):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(header)
        for row in rows or ROWS:
            sheet.append(row)
        path = tmp_path / name
        workbook.save(path)
        return path

    return _write
