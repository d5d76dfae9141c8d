"""An XLSX written by LibreOffice (shared strings, its own styles and dimension records), when
LibreOffice is installed (`apt-get install libreoffice-calc-nogui`); optional, so it skips
without it even in CI."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from records.imports.reading import open_table
from tests.imports.conftest import HEADER, ROWS

SOFFICE = shutil.which("soffice")


@pytest.mark.skipif(not SOFFICE, reason="LibreOffice (soffice) is not installed")
def test_xlsx_written_by_libreoffice(write_csv, tmp_path):
    source = write_csv(encoding="utf-8")
    profile = tmp_path / "lo-profile"
    subprocess.run(  # noqa: S603 - a fixed command line
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--infilter=CSV:44,34,76,1",  # comma, double quote, UTF-8, from line 1
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    table = open_table(tmp_path / "out" / "in.xlsx")
    assert table.format == "xlsx"
    assert table.headers == HEADER
    rows = [cells for _line, cells in table.rows()]
    assert rows[0][:3] == ROWS[0][:3]
    assert rows[1][0] == "Anna Müller"
    assert len(rows) == len(ROWS)
    # LibreOffice turned the cell into a real formula; it is read as its text, which the
    # import then refuses (see cleaning.formula_like).
    assert rows[2][1].startswith("=HYPERLINK(")
