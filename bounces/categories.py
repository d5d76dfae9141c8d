"""Block types and the 16 bounce categories as Django sees them: choices and translated texts.

Everything here derives from the one table in `core.categories` (plain Python, which the
classifier reads too); this module gives each (type, slug) pair its database choices and its
name, meaning and recommendation in the active language.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core import categories as table


class BlockType(models.TextChoices):
    TEMPORARY = table.TEMPORARY, _("Temporary")
    PERMANENT = table.PERMANENT, _("Permanent")


def _slug_label(slug: str) -> str:
    # A slug's label is the name of its first row (the temporary one, for `other`).
    return next(spec.name for spec in table.CATEGORIES if spec.slug == slug)


# Category slugs as stored in the database (the type is stored beside them).
# Functional API: the members come from core.categories, which mypy cannot read statically.
Category: type[models.TextChoices] = models.TextChoices(  # type: ignore[call-overload]
    "Category", [(slug.upper(), (slug, _(_slug_label(slug)))) for slug in table.SLUGS]
)


@dataclass(frozen=True)
class CategoryInfo:
    type: str
    slug: str
    name: Promise
    definition: Promise
    recommendation: Promise

    @property
    def key(self) -> str:
        """Return "type:slug", the form used in filters and URLs."""
        return f"{self.type}:{self.slug}"


class _BlockCategories(enum.Enum):
    @classmethod
    def get(cls, type: str, slug: str) -> CategoryInfo:
        """Return the info for (type, slug); unknown pairs fall back to that type's `other`."""
        info = _BY_KEY.get((type, slug))
        if info is None:
            info = _BY_KEY[(type if type in table.TYPES else table.PERMANENT, table.OTHER)]
        return info

    @classmethod
    def for_type(cls, type: str) -> list[CategoryInfo]:
        return [member.value for member in cls if member.value.type == type]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """Return ("type:slug", "Type · Name") pairs for filter forms."""
        return [(m.value.key, f"{BlockType(m.value.type).label} · {m.value.name}") for m in cls]


# The 16 categories, each with its texts translated lazily (the msgids are the core's English).
# Functional API, as for Category above.
BlockCategory: type[_BlockCategories] = _BlockCategories(  # type: ignore[call-arg, assignment]
    "BlockCategory",
    [
        (
            f"{spec.type}_{spec.slug}".upper(),
            CategoryInfo(
                spec.type, spec.slug, _(spec.name), _(spec.definition), _(spec.recommendation)
            ),
        )
        for spec in table.CATEGORIES
    ],
)

_BY_KEY: dict[tuple[str, str], CategoryInfo] = {
    (m.value.type, m.value.slug): m.value for m in BlockCategory
}
