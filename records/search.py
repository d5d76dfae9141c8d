"""The list search: one normalised text per record, matched word by word.

A record's `search_text` holds its names, company, both addresses and phone (also as bare
digits), case-folded and stripped of accents, so "chloe" finds "Chloé" and "ali maya" finds Maya
Ali: the search box's words must each occur in it, in any order. The column is derived from the
row's own fields by its field's `pre_save`, like `auto_now`, so every `save()` and `bulk_create()`
(forms, admin, imports, factories) keeps it; the bulk paths that bypass the ORM (the demo seed's
COPY, the benchmark's SQL) fill it themselves. On PostgreSQL a trigram index on the column serves
`LIKE '%word%'` (migration 0008); the migration's backfill uses `unaccent`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from .models import Record  # records.models imports this module

# Letters that Unicode does not decompose into a base letter plus an accent.
_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "ı": "i"}
)
_NON_DIGITS = re.compile(r"\D+")
# More words than this add nothing to a name search and only cost LIKE clauses.
MAX_WORDS = 6


def normalise(text: str) -> str:
    """Return `text` case-folded, without accents, with single spaces ("Chloé  D" -> "chloe d")."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch)).translate(_FOLD)
    return " ".join(plain.split())


def search_text_of(
    *, first_name: str, last_name: str, company: str, email: str, backup_email: str, phone: str
) -> str:
    """Return the stored search text of a record with these values."""
    digits = _NON_DIGITS.sub("", phone or "")
    parts = (first_name, last_name, company, email, backup_email, phone, digits)
    return normalise(" ".join(part for part in parts if part))


def record_search_text(record: Record) -> str:
    return search_text_of(
        first_name=record.first_name,
        last_name=record.last_name,
        company=record.company,
        email=record.email,
        backup_email=record.backup_email,
        phone=record.phone,
    )


def search_words(text: str) -> list[str]:
    """Return the distinct normalised words of a search box value (at most MAX_WORDS)."""
    words: list[str] = []
    for word in normalise(text).split():
        if word not in words:
            words.append(word)
    return words[:MAX_WORDS]


# PostgreSQL's version of `search_text_of` (as migration 0007 fills existing rows): `unaccent`,
# lower case, phone digits, single spaces. Differs from Python only for rare letters.
SEARCH_TEXT_SQL = r"""btrim(regexp_replace(lower(unaccent(concat_ws(' ',
    NULLIF(first_name, ''), NULLIF(last_name, ''), NULLIF(company, ''), NULLIF(email, ''),
    NULLIF(backup_email, ''), NULLIF(phone, ''),
    NULLIF(regexp_replace(phone, '\D', '', 'g'), '')))), '\s+', ' ', 'g'))"""


def records_fill_search_text() -> int:
    """Recompute every contact's and lead's search text; return how many rows changed.

    Saves keep the column; this is the repair path after writes that bypass `save()` and
    `bulk_create()` (raw SQL, `update()`, a restore). Set-based on PostgreSQL.
    """
    from django.db import connection

    from .models import Contact, Lead

    changed = 0
    in_sql = False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'unaccent'")
            in_sql = cursor.fetchone() is not None
    for model in (Contact, Lead):
        if in_sql:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {model._meta.db_table} SET search_text = {SEARCH_TEXT_SQL} "  # noqa: S608 - constants
                    f"WHERE search_text IS DISTINCT FROM {SEARCH_TEXT_SQL}"
                )
                changed += cursor.rowcount
            continue
        changed += _refresh_in_python(model)
    return changed


def _refresh_in_python(model: type[Record]) -> int:
    """Recompute the column row by row where SQL cannot (SQLite, no unaccent); return the count."""
    stale: list[Record] = []
    for record in model.objects.only(
        "first_name", "last_name", "company", "email", "backup_email", "phone", "search_text"
    ).iterator(chunk_size=2000):
        text = record_search_text(record)
        if text != record.search_text:
            record.search_text = text
            stale.append(record)
    model.objects.bulk_update(stale, ["search_text"], batch_size=1000)
    return len(stale)


class SearchTextField(models.TextField):
    """The record's normalised search text, recomputed from the row whenever it is saved."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = record_search_text(model_instance)
        setattr(model_instance, self.attname, value)
        return value
