"""`manage.py rebuild_report_rollups [--since DATE] [--until DATE]`."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from reports.models import DailyBounceRollup
from tests.reports.report_data import build_march

pytestmark = pytest.mark.django_db


def test_rebuild_command_restores_the_rollups():
    build_march()
    before = DailyBounceRollup.objects.count()
    DailyBounceRollup.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_report_rollups", "--since", "2025-03-01", stdout=out)
    assert DailyBounceRollup.objects.count() == before
    assert "Rebuilt report roll-ups" in out.getvalue()


@pytest.mark.parametrize(
    "args", [["--since", "yesterday"], ["--since", "2025-03-02", "--until", "2025-03-01"]]
)
def test_rebuild_command_refuses_bad_dates(args):
    with pytest.raises(CommandError):
        call_command("rebuild_report_rollups", *args)
