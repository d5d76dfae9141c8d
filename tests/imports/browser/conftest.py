"""The Playwright fixtures of tests/records/browser (Debian's Chromium, a live server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.records.browser.conftest import _groups, login, page  # noqa: F401


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)
