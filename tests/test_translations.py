"""The Simplified Chinese catalogue is complete and its compiled form is the one committed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_service

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES"


@pytest.fixture
def msgfmt():
    path = shutil.which("msgfmt")
    if not path:
        require_service("gettext's msgfmt")
    return path


def test_every_message_is_translated(msgfmt):
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(LOCALE / "django.po")],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stderr
    # "N translated messages." alone: no "untranslated" and no "fuzzy" count.
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_compiled_catalogue_matches_the_source(msgfmt, tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run([msgfmt, "-o", str(compiled), str(LOCALE / "django.po")], check=True)
    assert compiled.read_bytes() == (LOCALE / "django.mo").read_bytes(), (
        "django.mo is stale: run `python manage.py compilemessages -l zh_Hans`"
    )
