"""`manage.py import_records` as DESIGN.md pins it, on real files."""

from __future__ import annotations

import csv

import pytest
from django.core.management import CommandError, call_command

from bounces.categories import BlockType, Category
from records.imports.models import ImportJob
from records.models import Contact, Lead
from tests.factories import BlockFactory, ContactFactory
from tests.imports.conftest import HEADER

pytestmark = pytest.mark.django_db


def _report(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_dry_run_prints_the_preview_and_saves_nothing(write_csv, tmp_path, capsys):
    out = tmp_path / "report.csv"
    call_command(
        "import_records", "--contacts", str(write_csv()), "--dry-run", "--report", str(out)
    )
    printed = capsys.readouterr().out
    assert "Dry run, nothing saved. 5 lines: 2 created, 0 updated, 1 skipped, 2 rejected" in printed
    assert "removed the display name “Li Wei”" in printed
    assert "anna@gmial.com | anna@gmail.com" in printed
    assert Contact.objects.count() == 0
    assert ImportJob.objects.count() == 0
    assert _report(out) == [
        ["line", "outcome", "reason"],
        ["2", "created", ""],
        ["3", "created", "anna@gmial.com may be a typo of anna@gmail.com"],
        [
            "4",
            "rejected",
            'the Company cell starts like a spreadsheet formula (=HYPERLINK("http://x"))',
        ],
        ["5", "skipped", "same email as line 2"],
        [
            "6",
            "rejected",
            "invalid Email “not-an-email”: “not-an-email” is not a valid email address: "
            "It has no @-sign.",
        ],
    ]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_import_creates_cleaned_records(write_csv, tmp_path, capsys, encoding):
    out = tmp_path / "report.csv"
    call_command(
        "import_records", "--leads", str(write_csv(encoding=encoding)), "--report", str(out)
    )
    assert "2 created, 0 updated, 1 skipped, 2 rejected" in capsys.readouterr().out
    li = Lead.objects.get(email="li.wei@example.com")
    assert (li.first_name, li.last_name, li.company, li.phone) == (
        "",
        "李伟",
        "Acme",
        "+86 138 0000 0000",
    )
    anna = Lead.objects.get(email="anna@gmial.com")
    assert (anna.first_name, anna.last_name) == ("Anna", "Müller")
    assert [row[:2] for row in _report(out)[1:]] == [
        ["2", "created"],
        ["3", "created"],
        ["4", "rejected"],
        ["5", "skipped"],
        ["6", "rejected"],
    ]


def test_xlsx_import(write_xlsx, capsys):
    call_command("import_records", "--contacts", str(write_xlsx()))
    assert Contact.objects.filter(email="li.wei@example.com").exists()
    assert "2 created" in capsys.readouterr().out


def test_duplicates_against_existing_records(write_csv, tmp_path):
    existing = ContactFactory(email="Li.Wei@example.com", company="Old")
    rows = [["Li Wei", "New Co", "li.wei@example.com", "", "123"]]
    path = write_csv(rows)
    out = tmp_path / "r.csv"
    call_command("import_records", "--contacts", str(path), "--report", str(out))
    assert _report(out)[1] == ["2", "skipped", f"same email as contact #{existing.pk}"]
    call_command("import_records", "--contacts", str(path), "--on-duplicate", "update")
    existing.refresh_from_db()
    assert (existing.company, existing.phone, Contact.objects.count()) == ("New Co", "123", 1)
    call_command("import_records", "--contacts", str(path), "--on-duplicate", "create")
    assert Contact.objects.filter(email_key="li.wei@example.com").count() == 2


def test_blocked_addresses_are_flagged_and_block_columns_set(write_csv, tmp_path):
    BlockFactory(
        address="dead@example.com", type=BlockType.PERMANENT, category=Category.BAD_MAILBOX
    )
    out = tmp_path / "r.csv"
    path = write_csv(
        [["Dead", "", "Dead@Example.com", "", ""], ["Ok", "", "ok@example.com", "", ""]]
    )
    call_command("import_records", "--contacts", str(path), "--report", str(out))
    assert _report(out)[1] == [
        "2",
        "created",
        "dead@example.com is blocked (permanent: bad_mailbox)",
    ]
    assert Contact.objects.get(last_name="Dead").email_block == "permanent:bad_mailbox"
    assert Contact.objects.get(last_name="Ok").email_block == ""


def test_bad_file_exits_non_zero_and_saves_nothing(tmp_path, write_csv):
    pdf = tmp_path / "list.csv"
    pdf.write_bytes(b"%PDF-1.4\n" + b"x" * 2000)
    with pytest.raises(CommandError, match="neither CSV nor XLSX"):
        call_command("import_records", "--contacts", str(pdf))
    rows = [["A", "", f"a{i}@example.com", "", ""] for i in range(5)] + [
        ["B\0", "", "b@x.com", "", ""]
    ]
    with pytest.raises(CommandError, match="Line 7 contains a NUL byte"):
        call_command("import_records", "--contacts", str(write_csv(rows)))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_records", "--contacts", str(tmp_path / "missing.csv"))
    assert Contact.objects.count() == 0


def test_exits_non_zero_from_the_command_line(tmp_path):
    import subprocess
    import sys

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_records", "--contacts", str(empty), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "The file is empty." in result.stderr


def test_rolling_back_a_command_import_keeps_the_input_file(write_csv):
    from records.imports.services import import_rollback

    path = write_csv()
    call_command("import_records", "--contacts", str(path))
    import_rollback(job=ImportJob.objects.get())
    assert path.exists()
    assert Contact.objects.count() == 0


def test_owner_column_matches_users_and_unknown_owners_are_rejected(write_csv, tmp_path):
    from tests.factories import UserFactory

    owner = UserFactory(username="wang", email="wang@corp.example")
    rows = [
        ["A", "", "a@example.com", "", "", "WANG"],
        ["B", "", "b@example.com", "", "", "wang@corp.example"],
        ["C", "", "c@example.com", "", "", "nobody"],
    ]
    out = tmp_path / "r.csv"
    call_command(
        "import_records",
        "--contacts",
        str(write_csv(rows, header=[*HEADER, "负责人"])),
        "--report",
        str(out),
    )
    assert [c.owner for c in Contact.objects.order_by("last_name")] == [owner, owner]
    assert _report(out)[3] == ["4", "rejected", "unknown owner “nobody”"]


def test_optional_dns_check_uses_the_fixture_and_caches_per_domain(write_csv, settings, tmp_path):
    import json

    from records.imports.services import ImportOptions, import_open, import_preview

    fixture = tmp_path / "dns.json"
    fixture.write_text(json.dumps({"good.example": {"MX": ["10 mx.good.example."]}}))
    settings.BOUNCECRM_DNS_FIXTURE = str(fixture)
    rows = [
        ["A", "", "a@good.example", "", ""],
        ["B", "", "b@gone.example", "", ""],
        ["C", "", "c@gone.example", "", ""],
    ]
    table = import_open(write_csv(rows))
    options = ImportOptions(record_type="contact", mapping={0: "name", 2: "email"}, check_dns=True)
    preview = import_preview(table, options)
    assert preview["counts"]["created"] == 1
    assert preview["rejected"] == [
        [3, "the domain gone.example accepts no mail (no MX or A record)"],
        [4, "the domain gone.example accepts no mail (no MX or A record)"],
    ]
    # Without the option no DNS is asked.
    assert (
        import_preview(
            table, ImportOptions(record_type="contact", mapping={0: "name", 2: "email"})
        )["counts"]["created"]
        == 3
    )


def test_report_is_formula_safe(write_csv, tmp_path):
    BlockFactory(address="=cmd@example.com")
    out = tmp_path / "r.csv"
    call_command(
        "import_records",
        "--contacts",
        str(write_csv([["Eve", "", "=cmd@example.com", "", ""]])),
        "--report",
        str(out),
    )
    assert _report(out)[1] == [
        "2",
        "created",
        "'=cmd@example.com is blocked (temporary: mailbox_full)",
    ]


def test_unwritable_report_is_an_operator_error(write_csv, tmp_path):
    with pytest.raises(CommandError, match="Cannot write the report"):
        call_command(
            "import_records",
            "--contacts",
            str(write_csv()),
            "--report",
            str(tmp_path / "missing-dir" / "r.csv"),
        )
    assert Contact.objects.count() == 0


def test_update_brings_the_new_backup_address_block_state(write_csv):
    existing = ContactFactory(email="li.wei@example.com", backup_email="")
    BlockFactory(
        address="old.li@example.com", type=BlockType.PERMANENT, category=Category.BAD_DOMAIN
    )
    rows = [["Li Wei", "", "li.wei@example.com", "Old.Li@example.com", ""]]
    call_command("import_records", "--contacts", str(write_csv(rows)), "--on-duplicate", "update")
    existing.refresh_from_db()
    assert (existing.backup_email, existing.backup_email_block) == (
        "Old.Li@example.com",
        "permanent:bad_domain",
    )
