"""Fixtures shared by the test folders: databases of their own on the real PostgreSQL server.

Each xdist worker gets its own PostgreSQL database with a random name, dropped at the end,
so concurrent test runs on one server never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

# A simulated bench's calendar starts at the present time; the tests pin it (here and in
# every process they start) so dates, file names and calibration windows are reproducible.
# Tests of the present-time default remove it (tests/commissioning/test_sim_epoch.py).
os.environ.setdefault("VSTATION_EPOCH", "2026-01-05T08:00:00Z")

PG_SERVER = "postgresql://{user}@127.0.0.1:5432/{db}"


def _admin() -> tuple[psycopg.Connection, str] | tuple[None, str]:
    last = ""
    for user in ("postgres", "root"):
        try:
            conn = psycopg.connect(PG_SERVER.format(user=user, db="test"), autocommit=True,
                                   connect_timeout=3)
            return conn, user
        except psycopg.Error as exc:
            last = str(exc).strip().splitlines()[0]
    return None, last


def _database(user: str, admin: psycopg.Connection) -> Iterator[str]:
    """A database with a random name for the caller, dropped afterwards."""
    name = f"vst_reports_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_SERVER.format(user=user, db=name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh database on 127.0.0.1:5432, dropped after the session."""
    admin, user = _admin()
    if admin is None:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 does not answer: {user}")
    yield from _database(user, admin)


@pytest.fixture
def pg_fresh_url(pg_url: str) -> Iterator[str]:
    """A database of its own for one test (for tests that count every row)."""
    admin, user = _admin()
    assert admin is not None
    yield from _database(user, admin)
