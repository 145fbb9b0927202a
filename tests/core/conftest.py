"""Fixtures of the core tests that read real data."""

from __future__ import annotations

from pathlib import Path

import pytest
from _ircadb import Ircadb, load_ircadb


@pytest.fixture(scope="session")
def ircadb(shared_data: Path) -> Ircadb:
    """IRCADb patient 1 read once per session (six modules measure on it and its variants)."""
    return load_ircadb(shared_data)
