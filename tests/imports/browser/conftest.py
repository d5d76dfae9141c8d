"""The Playwright fixtures of tests/records/browser (Debian's Chromium, a live server)."""

from __future__ import annotations

from tests.records.browser.conftest import (  # noqa: F401
    _groups,
    chromium,
    login,
    page,
    pytest_collection_modifyitems,
)
