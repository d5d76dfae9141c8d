"""The benches' category mix: every category of the core table, weighted like real traffic."""

from __future__ import annotations

from core.categories import PAIRS


def category_mix(weights: dict[tuple[str, str], int]) -> list[tuple[str, str, int]]:
    """Return (type, slug, weight) for every category of the table, in `weights`' order.

    A category `weights` does not name (a new one) gets weight 1, so the benches cover it.
    """
    unknown = set(weights) - set(PAIRS)
    if unknown:
        raise ValueError(f"not categories of core.categories: {sorted(unknown)}")
    missing = [(type_, slug, 1) for type_, slug in PAIRS if (type_, slug) not in weights]
    return [(type_, slug, weight) for (type_, slug), weight in weights.items()] + missing
