"""Fixtures of the reports tests: a store on SQLite and one on the real PostgreSQL server
(``pg_url`` and ``pg_fresh_url`` come from ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reports.store import Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store on each backend."""
    if request.param == "sqlite":
        s = open_store(None, tmp_path)
    else:
        s = open_store(request.getfixturevalue("pg_fresh_url"), tmp_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """An empty store on SQLite only (for tests whose subject is not the backend)."""
    s = open_store(None, tmp_path)
    try:
        yield s
    finally:
        s.close()
