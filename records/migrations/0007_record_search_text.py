"""The records' normalised search text (records.search), filled for existing rows.

PostgreSQL: the unaccent and pg_trgm extensions are created here (the trigram index follows in
0008) and existing rows are filled set-based with `unaccent`; SQLite: in Python, in batches.
"""

from django.db import DatabaseError, migrations, transaction

import records.search

TABLES = {"contact": "records_contact", "lead": "records_lead"}
FILL_SQL = "UPDATE {table} SET search_text = " + records.search.SEARCH_TEXT_SQL


def _has_extension(connection, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [name])
        return cursor.fetchone() is not None


def create_extensions(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    for name in ("unaccent", "pg_trgm"):
        if _has_extension(connection, name):
            continue
        try:
            # A savepoint: without the right to create an extension the search still works (the
            # fill below runs in Python, and 0008 skips the index), it is only slower.
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
        except DatabaseError:
            pass


def fill_search_text(apps, schema_editor):
    connection = schema_editor.connection
    in_sql = connection.vendor == "postgresql" and _has_extension(connection, "unaccent")
    for model_name, table in TABLES.items():
        if in_sql:
            with connection.cursor() as cursor:
                cursor.execute(FILL_SQL.format(table=table))
            continue
        model = apps.get_model("records", model_name)
        batch = []
        for record in model.objects.only(
            "first_name", "last_name", "company", "email", "backup_email", "phone"
        ).iterator(chunk_size=2000):
            record.search_text = records.search.record_search_text(record)
            batch.append(record)
            if len(batch) >= 2000:
                model.objects.bulk_update(batch, ["search_text"])
                batch = []
        if batch:
            model.objects.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0006_partial_key_indexes'),
    ]

    operations = [
        migrations.RunPython(create_extensions, migrations.RunPython.noop, elidable=False),
        migrations.AddField(
            model_name='contact',
            name='search_text',
            field=records.search.SearchTextField(blank=True, db_default='', default='', editable=False, verbose_name='search text'),
        ),
        migrations.AddField(
            model_name='lead',
            name='search_text',
            field=records.search.SearchTextField(blank=True, db_default='', default='', editable=False, verbose_name='search text'),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=False),
    ]
