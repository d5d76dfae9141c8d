"""Bounce parser-classifier: raw message bytes in, per-recipient verdicts out.

Pure Python (no Django), so it can be tested and benchmarked on its own.  Entry points:
``analyse(raw) -> Analysis`` and ``classify(raw) -> list[Verdict]``; neither ever raises.
Recipients are normalised: trimmed, unquoted, domain lower-cased, local part as written.
"""

from __future__ import annotations

from core.categories import PERMANENT, TEMPORARY

from .core import analyse, classify
from .verdicts import Analysis, Verdict

__all__ = ["PERMANENT", "TEMPORARY", "Analysis", "Verdict", "analyse", "classify"]
