"""Fixtures for the classifier tests: real bounce messages copied from the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def load_fixture():
    """Return a function reading one fixture message's raw bytes by file name."""

    def load(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    return load
