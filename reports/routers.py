"""Send the bounce report's reads to a replica when one is configured.

With `REPORTS_DATABASE_URL` set, settings add the database alias `reports` (a streaming replica
of the main database) and this router: reads of the roll-up tables go there, and the report's
selectors read their other rows (bounces, sent emails, blocks, mailings) there through
`read_alias()`. Writes — roll-up upserts, rebuilds, alerts — always go to the main database:
a replica is read-only. Without the setting, everything stays on `default`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, models

REPORTS_ALIAS = "reports"
# The derived tables behind the report (not RateAlert: its reads decide writes).
REPLICA_MODELS = frozenset(
    {
        "dailybouncerollup",
        "dailydomainrollup",
        "dailysentrollup",
        "monthlybouncerollup",
        "monthlydomainrollup",
        "monthlysentrollup",
        "closedmonthtopdomain",
    }
)


def read_alias() -> str:
    """The alias the report reads from: the replica when configured, else the main one."""
    return REPORTS_ALIAS if REPORTS_ALIAS in settings.DATABASES else DEFAULT_DB_ALIAS


class ReportsRouter:
    """Roll-up reads to the `reports` replica; every write and migration to `default`."""

    def db_for_read(self, model: type[models.Model], **hints) -> str | None:
        if model._meta.app_label == "reports" and model._meta.model_name in REPLICA_MODELS:
            return read_alias()
        return None

    def db_for_write(self, model: type[models.Model], **hints) -> str | None:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        # The replica follows the main database; it is never migrated on its own.
        return db != REPORTS_ALIAS
