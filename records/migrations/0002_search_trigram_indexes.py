"""Trigram indexes for the list search (PostgreSQL only; a no-op on SQLite).

The search box filters with `icontains` on names and company, which Django writes as
`UPPER(col) LIKE UPPER('%…%')`: a trigram index on the plain column is ignored, one on
`UPPER(col)` serves it (PITFALLS "Lists at a million rows"). Addresses are searched with
`contains` on the already lower-cased key columns, so those indexes are on the plain keys.
Built CONCURRENTLY so a production table stays writable; without the right to create the
pg_trgm extension the indexes are skipped (the search still works, by a scan).
"""

from django.db import migrations

TABLES = {"contact": "records_contact", "lead": "records_lead"}
EXPRESSIONS = {
    "first": "UPPER(first_name)",
    "last": "UPPER(last_name)",
    "company": "UPPER(company)",
    "email": "email_key",
    "backup": "backup_email_key",
}


def create_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception:  # noqa: BLE001 - no privilege: search falls back to a scan
                return
        for prefix, table in TABLES.items():
            for name, expression in EXPRESSIONS.items():
                cursor.execute(
                    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {prefix}_search_{name} "
                    f"ON {table} USING gin (({expression}) gin_trgm_ops)"
                )


def drop_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for prefix in TABLES:
            for name in EXPRESSIONS:
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {prefix}_search_{name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
