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


# -- order for the parallel suite ------------------------------------------------------------
# The long tests start first, so that a worker busy with one never leaves the others idle at
# the end (a long tail). Most of them are real-time runs that mostly wait, so they overlap
# with the CPU-bound tests. Figures: seconds per test on a 2-core CI machine; an entry
# matches node ids by prefix; order only, nothing is left out.
WORKERS_AT_START = 4   # make test's -n
LONG_FIRST: tuple[str, ...] = (
    "tests/reliability/test_reliab_random_kills.py::test_sigkill_at_20_random_moments_stops_the_current_and_recovers_one_record[1]",
    "tests/cert/test_cert_golden.py",
    "tests/plan/test_eol_served.py",
    "tests/reliability/test_reliab_random_kills.py",
    "tests/reliability/test_reliab_deadman.py",
    "tests/plan/test_lot_of_real_runs.py",
    "tests/plan/test_eol_golden.py::test_in_spec_population_passes",
    "tests/reliability/test_reliab_signals.py",
    "tests/reliability/test_reliab_results.py",
    "tests/msa/test_msa_cli_grr.py",
    "tests/msa/test_msa_cli_type1.py",
    "tests/instruments/test_open_station.py::test_safe_state_is_idempotent",
    "tests/msa/test_msa_cli_study.py",
    "tests/rma/test_scenarios.py",
    "tests/reports/test_reports_signing.py::test_edited_limits",
    "tests/reliability/test_reliab_faults.py",
    "tests/line/test_slots.py",
    "tests/cert/test_cert_aborts.py",
)


def _module_fixture_group(item: pytest.Item) -> str | None:
    """A module whose tests share a module-scoped fixture runs on one worker: split, each
    worker would build the fixture again (a full plan run, a served bench)."""
    module = item.nodeid.split("::", 1)[0]
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        if any(d.scope == "module" and (d.baseid or "").startswith(module) for d in defs):
            return module
    return None


def _rank(item: pytest.Item) -> int:
    return next((i for i, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)),
                len(LONG_FIRST))


@pytest.hookimpl(tryfirst=True)   # before xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    units: dict[str, list[pytest.Item]] = {}   # what xdist hands out whole: a group, or a test
    for item in items:
        group = _module_fixture_group(item)
        if group and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
        units.setdefault(group or item.nodeid, []).append(item)
    # long ones first, in LONG_FIRST's order; after the first few, each long one is
    # followed by a short one, so a worker's next unit (xdist hands out two) is short
    ranked = sorted(units.values(), key=lambda unit: _rank(unit[0]))
    long_units = [u for u in ranked if _rank(u[0]) < len(LONG_FIRST)]
    short = [u for u in ranked if _rank(u[0]) == len(LONG_FIRST)]
    order = long_units[:WORKERS_AT_START] + short[:WORKERS_AT_START]
    short = short[WORKERS_AT_START:]
    for unit in long_units[WORKERS_AT_START:]:
        order.append(unit)
        if short:
            order.append(short.pop(0))
    items[:] = [item for unit in order + short for item in unit]


def pytest_collection_finish(session: pytest.Session) -> None:
    """On an xdist worker with ``--dist loadgroup``: a grouped test whose node id lacks its
    group means xdist could not apply the group (pytest 9.2 moved node ids where xdist 3.8
    writes it), so every worker would build the group's module fixture again."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [i.nodeid for i in session.items
            if i.get_closest_marker("xdist_group") is not None and "@" not in i.nodeid]
    if lost:
        raise pytest.UsageError(f"pytest-xdist did not apply the xdist_group of {lost[0]} "
                                f"(and {len(lost) - 1} more): pytest {pytest.__version__} with "
                                "this pytest-xdist splits groups; install requirements.lock")
