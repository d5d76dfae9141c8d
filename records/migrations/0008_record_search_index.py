"""A trigram index on the records' search text; the per-column search indexes of 0002 go.

The search is now `search_text LIKE '%word%'` per word (records.selectors.records_search), which
one GIN trigram index on the column serves; the five per-column indexes are no longer read and
only slowed writes. PostgreSQL only, built CONCURRENTLY so the table stays writable.
"""

import importlib

from django.db import migrations

TABLES = {"contact": "records_contact", "lead": "records_lead"}
OLD = ("first", "last", "company", "email", "backup")


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return  # no right to create it (0007): the search scans, the old indexes stay
        for prefix, table in TABLES.items():
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {prefix}_search_text "
                f"ON {table} USING gin (search_text gin_trgm_ops)"
            )
            for name in OLD:
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {prefix}_search_{name}")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for prefix in TABLES:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {prefix}_search_text")
    # Back to 0002's per-column indexes, which the search before 0007 reads.
    importlib.import_module("records.migrations.0002_search_trigram_indexes").create_indexes(
        apps, schema_editor
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("records", "0007_record_search_text")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
