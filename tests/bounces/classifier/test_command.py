"""classify_bounces: JSON lines per recipient, or a readable table."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def run(*args: str) -> str:
    out = StringIO()
    call_command("classify_bounces", *args, stdout=out)
    return out.getvalue()


def test_json_prints_one_object_per_recipient(tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    shutil.copy(FIXTURES / "lhost-outlook-04.eml", nested / "two.eml")
    (tmp_path / "note.txt").write_bytes(b"hello")
    lines = [json.loads(line) for line in run("--json", str(tmp_path)).splitlines()]
    # A folder's own files come before its subfolders'.
    assert [(x["recipient"], x["category"]) for x in lines] == [
        (None, None),
        ("sabineko@example.co.jp", "bad_mailbox"),
        ("mikeneko@example.co.jp", "mailbox_full"),
    ]
    assert set(lines[1]) == {"file", "recipient", "type", "category", "status", "diagnostic"}
    assert lines[1]["status"] == "5.1.1" and lines[1]["type"] == "permanent"
    assert lines[0]["file"].endswith("note.txt")


def test_table_is_readable():
    text = run(str(FIXTURES / "lhost-qmail-17.eml"))
    assert "userunknown@libsisimai.net" in text
    assert "DSN status 5.1.1" in text
    assert text.strip().endswith("1 message(s), 2 recipient(s), 0 not parsed")


def test_missing_path_is_an_operator_error():
    with pytest.raises(CommandError):
        run("/no/such/path")


def test_missing_path_does_not_lose_the_other_files(capsys):
    out = StringIO()
    with pytest.raises(CommandError, match="1 path"):
        call_command(
            "classify_bounces",
            "--json",
            "/no/such/path",
            str(FIXTURES / "lhost-qmail-17.eml"),
            stdout=out,
        )
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {row["recipient"] for row in rows} >= {"userunknown@libsisimai.net"}
