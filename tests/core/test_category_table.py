"""The 16 categories are stated once, in core.categories: everything else agrees with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.utils import translation

from bench.record_lists import CATEGORY_WEIGHTS
from bench.report import CATEGORIES as REPORT_MIX
from bounces.categories import BlockCategory, BlockType, Category
from bounces.classifier import rules
from bounces.models import Block, Bounce
from core import categories as table
from records.demo import DIAGNOSTICS
from records.models import Contact, Lead


def test_the_table_holds_seven_temporary_and_nine_permanent_categories():
    assert len(table.TEMPORARY_CATEGORIES) == 7 and len(table.PERMANENT_CATEGORIES) == 9
    assert set(table.TEMPORARY_CATEGORIES) & set(table.PERMANENT_CATEGORIES) == {table.OTHER}
    assert len(set(table.PAIRS)) == len(table.CATEGORIES) == 16


def test_choices_and_texts_derive_from_the_table():
    assert [value for value, _label in BlockType.choices] == list(table.TYPES)
    assert [value for value, _label in Category.choices] == list(table.SLUGS)
    for field in (Block._meta.get_field("category"), Bounce._meta.get_field("category")):
        assert [value for value, _label in field.choices] == list(table.SLUGS)
    with translation.override("en"):
        infos = [member.value for member in BlockCategory]
        assert [
            (i.type, i.slug, str(i.name), str(i.definition), str(i.recommendation)) for i in infos
        ] == [(s.type, s.slug, s.name, s.definition, s.recommendation) for s in table.CATEGORIES]
    assert [key for key, _label in BlockCategory.choices()] == [s.key for s in table.CATEGORIES]


def test_texts_are_translated_from_the_core_msgids():
    with translation.override("zh-hans"):
        info = BlockCategory.get(table.PERMANENT, "bad_mailbox")
        assert str(info.name) != "Bad mailbox"  # the existing translation still matches


def test_the_classifier_derives_its_categories_from_the_table():
    assert set(table.PERMANENT_CATEGORIES) - {table.OTHER} == rules._PERMANENT_CATEGORIES
    for reason in rules.MEANING:
        for klass in "45":
            pair = (rules._type_for(reason, klass), rules._category_for(reason, klass))
            assert pair in table.PAIRS, (reason, klass)


def test_record_indexes_benches_and_demo_follow_the_table():
    for model in (Contact, Lead):
        names = {index.name for index in model._meta.indexes}
        prefix = model._meta.model_name
        for spec in table.CATEGORIES:
            assert f"{prefix}_either_{spec.type[0]}_{spec.slug}"[:30] in names
    for mix in (REPORT_MIX, CATEGORY_WEIGHTS):
        assert sorted((t, s) for t, s, _w in mix) == sorted(table.PAIRS)
    assert set(DIAGNOSTICS) <= set(table.PAIRS)


def test_core_facts_import_no_django():
    code = (
        "import sys, core.categories, core.addresses, core.rates; "
        "sys.exit(any(m == 'django' or m.startswith(('django.', 'bounces', 'records', 'reports'))"
        " for m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
