"""With a `reports` replica configured, the report reads from it; writes stay on default."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import rollups
from reports.routers import REPORTS_ALIAS, ReportsRouter
from reports.selectors import ReportFilters, bounce_report
from tests.factories import BlockFactory, BounceFactory


@pytest.fixture
def replica(settings):
    """The alias settings add for REPORTS_DATABASE_URL (with TEST MIRROR "default"): as the
    test runner does for a mirror, a second connection to the test database, like a replica.

    Built here, not by the runner (the alias exists only when the variable is set).
    """
    default = connections["default"].settings_dict
    mirror = {**default, "TEST": {**default["TEST"], "MIRROR": "default"}}
    settings.DATABASES = {**settings.DATABASES, REPORTS_ALIAS: mirror}
    settings.DATABASE_ROUTERS = ["reports.routers.ReportsRouter"]
    connection = load_backend(mirror["ENGINE"]).DatabaseWrapper(mirror, REPORTS_ALIAS)
    connections[REPORTS_ALIAS] = connection
    yield connection
    connection.close()
    del connections[REPORTS_ALIAS]


def tables(queries) -> str:
    return " ".join(q["sql"] for q in queries.captured_queries)


# Committed rows: the replica is another connection, it sees no open test transaction.
@pytest.mark.django_db(transaction=True)
def test_report_reads_from_the_replica_and_writes_stay_on_default(replica):
    today = timezone.localdate()
    BlockFactory()
    with (
        CaptureQueriesContext(connections["default"]) as writes,
        CaptureQueriesContext(replica) as replica_writes,
    ):
        rollups.add_bounces([BounceFactory(received_at=timezone.now()) for _ in range(3)])
        rollups.rebuild(today - dt.timedelta(days=400), today)
    assert "reports_dailybouncerollup" in tables(writes)
    assert not replica_writes.captured_queries

    for days in (29, 364):  # the daily grain, and months plus edge days
        f = ReportFilters(start=today - dt.timedelta(days=days), end=today)
        with (
            CaptureQueriesContext(connections["default"]) as main,
            CaptureQueriesContext(replica) as reads,
        ):
            report = bounce_report(filters=f)
        assert report.bounces == 3
        assert [row.count for row in report.domains] == [3]
        assert report.blocked_now == 1
        grain = "daily" if days < 62 else "monthly"
        for table in (
            f"reports_{grain}bouncerollup",
            f"reports_{grain}sentrollup",
            "bounces_block",
        ):
            assert table in tables(reads), table
        assert "reports_" not in tables(main)
        # Only the policy row (the threshold; created on first use, so a write) stays.
        assert "bounces_" not in tables(main).replace("bounces_bouncepolicy", "")


def test_router_sends_writes_and_migrations_to_default():
    from reports.models import DailyBounceRollup, RateAlert

    router = ReportsRouter()
    assert router.db_for_write(DailyBounceRollup) == "default"
    assert router.db_for_read(RateAlert) is None  # its reads decide writes
    assert router.allow_migrate(REPORTS_ALIAS, "reports") is False
    assert router.allow_migrate("default", "reports") is True
