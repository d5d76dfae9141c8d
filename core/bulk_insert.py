"""Insert many new rows of a plain model with COPY on PostgreSQL, `bulk_create` elsewhere.

A multi-row INSERT of 500 bounces spent most of its time composing 12,000 parameters in Python
(Django's per-field preparation, then the driver's quoting); COPY writes the rows from C. The
ids are drawn from the table's sequence first, so the instances have their primary keys after,
as after `bulk_create`.

Values go to COPY as Python holds them (text, bytes, numbers, booleans, dates, foreign keys);
JSON fields through their own preparation. Not for fields with other conversions.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def copy_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert the unsaved `objs` and set their primary keys; unique violations raise
    `IntegrityError`, as `bulk_create` does."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    meta = model._meta
    qn = connection.ops.quote_name
    fields = list(meta.concrete_fields)
    columns = ", ".join(qn(f.column) for f in fields)
    as_json = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        # The driver's cursor, so its errors are made Django's (IntegrityError) by hand.
        sql = f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN"
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for obj in objs:
                row = [f.pre_save(obj, True) for f in fields]
                for i in as_json:
                    row[i] = fields[i].get_db_prep_save(row[i], connection)
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
