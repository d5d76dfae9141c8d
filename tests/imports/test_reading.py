from __future__ import annotations

import zipfile

import pytest

from records.imports.reading import Limits, TableError, open_table
from tests.imports.conftest import HEADER, ROWS


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")],
)
def test_chinese_csv_encodings_are_detected(write_csv, encoding, expected):
    table = open_table(write_csv(encoding=encoding))
    assert table.encoding == expected
    assert table.headers == HEADER
    rows = list(table.rows())
    assert rows[0] == (2, ROWS[0])
    assert rows[1][1][0] == "Anna Müller"


def test_windows_1252_csv_with_semicolons(write_csv):
    rows = [["José Ñúñez", "Café Olé", "jose@example.com"], ["Zoë", "Müller", "zoe@example.com"]]
    path = write_csv(rows, header=["Name", "Company", "Email"], encoding="cp1252", delimiter=";")
    table = open_table(path)
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert [cells for _line, cells in table.rows()] == rows


def test_tab_delimiter(write_csv):
    table = open_table(write_csv(delimiter="\t"))
    assert table.delimiter == "\t"
    assert len(list(table.rows())) == len(ROWS)


def test_line_numbers_count_physical_lines(write_csv):
    rows = [["A", "", "multi\nline", "", ""], ["B", "", "b@example.com", "", ""]]
    table = open_table(write_csv(rows))
    assert [line for line, _cells in table.rows()] == [2, 4]


def test_xlsx_written_by_openpyxl(write_xlsx):
    table = open_table(write_xlsx([["Li", "Acme", "li@example.com", "", 8613800000000]]))
    assert table.format == "xlsx"
    assert list(table.rows()) == [(2, ["Li", "Acme", "li@example.com", "", "8613800000000"])]


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(TableError, match="empty"):
        open_table(path)


def test_renamed_pdf(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" * 50)
    with pytest.raises(TableError, match="neither CSV nor XLSX"):
        open_table(path)


def test_oversized_file_is_refused_from_its_size(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:  # sparse: 200 MB that were never written
        handle.truncate(200 * 1024 * 1024)
    with pytest.raises(TableError, match="limit is 50.0 MB"):
        open_table(path, limits=Limits(max_file_bytes=50 * 1024 * 1024))


def test_nul_byte_names_its_line(write_csv):
    path = write_csv([["A", "", "a@example.com", "", ""], ["B\0", "", "b@example.com", "", ""]])
    table = open_table(path)
    with pytest.raises(TableError, match="Line 3 contains a NUL byte"):
        list(table.rows())


def test_ten_megabyte_line_is_refused(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(b"name,email\n" + b"x" * (10 * 1024 * 1024) + b",a@example.com\n")
    table = open_table(path, limits=Limits(max_line_chars=1024 * 1024))
    with pytest.raises(TableError, match="Line 2 is longer than"):
        list(table.rows())


def test_too_many_rows(write_csv):
    table = open_table(write_csv(), limits=Limits(max_rows=3))
    with pytest.raises(TableError, match="more than 3 rows"):
        list(table.rows())


def test_xlsx_zip_bomb_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(64):
                member.write(block)
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(TableError, match="zip bomb"):
        open_table(path, limits=Limits(xlsx_max_uncompressed_bytes=32 * 1024 * 1024))
    with pytest.raises(TableError, match="zip bomb"):
        open_table(path)  # under the size limit, but compressed ~1000:1


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(TableError, match="not an XLSX"):
        open_table(path)


@pytest.mark.parametrize("encoding", ["gb18030", "cp1252"])
def test_encoding_is_judged_past_an_ascii_start(write_csv, encoding):
    rows = [[f"Person {n}", "Acme", f"p{n}@example.com", "", ""] for n in range(3000)]
    rows.append(["Zoë Müller" if encoding == "cp1252" else "李伟", "", "z@example.com", "", ""])
    header = ["Name", "Company", "Email", "Backup email", "Phone"]
    path = write_csv(rows, header=header, encoding=encoding)
    assert path.read_bytes()[:65536].isascii()
    table = open_table(path)
    assert table.encoding == encoding
    assert list(table.rows())[-1][1][0] == rows[-1][0]
