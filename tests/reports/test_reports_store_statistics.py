"""The lot report refreshes PostgreSQL's planner statistics where they are missing or
stale (autovacuum off, a bulk import, a restore): without them a streaming pass over a
large lot is planned as if the tables were empty (every run compared with every
measurement). On the real server."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from benchmarks.lotgen import fill_lot
from reports.lot_sql import lot_summary
from reports.store import Store, open_store
from reports.store.statistics import ensure_statistics, stale_tables

pytestmark = pytest.mark.xdist_group("postgres")


def _stale(store: Store) -> list[str]:
    with store._reader.connect() as conn:
        return stale_tables(conn)


def _reltuples(store: Store, table: str) -> float:
    with store._reader.connect() as conn:
        return float(conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = :t"),
                                  {"t": table}).scalar_one())


def _without_autovacuum(store: Store) -> None:
    """This test decides when the tables are analyzed, whatever the server's setting."""
    with store._engine.begin() as conn:
        for table in ("runs", "measurements"):
            conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")


def _fill(store: Store, runs: int, first_serial: int, seed: int = 1) -> None:
    """Add runs and wait until the statistics views count them: a server process reports
    its row counts when it ends or idles, so without the wait they could arrive after an
    ANALYZE and make the table look changed since (harmless in use: the next report
    analyzes again; here it would decide the assertions)."""
    before = _inserted(store)
    fill_lot(store, runs, meas_per_run=30, first_serial=first_serial, seed=seed)
    store._engine.dispose()   # the writer's server processes end and report
    want = {"runs": before["runs"] + runs, "measurements": before["measurements"] + 30 * runs}
    deadline = time.monotonic() + 20.0
    while (got := _inserted(store)) != want and time.monotonic() < deadline:
        time.sleep(0.1)
    assert got == want, "the statistics views did not count the rows written"


def _inserted(store: Store) -> dict[str, int]:
    with store._reader.connect() as conn:
        rows = conn.execute(sa.text("SELECT relname, n_tup_ins FROM pg_stat_user_tables "
                                    "WHERE relname IN ('runs', 'measurements')")).all()
    return {"runs": 0, "measurements": 0} | {str(name): int(n) for name, n in rows}


@pytest.fixture
def pg_store(pg_fresh_url: str, tmp_path: Path):
    with open_store(pg_fresh_url, tmp_path) as store:
        _without_autovacuum(store)
        yield store


def test_a_lot_report_analyzes_tables_never_analyzed_and_then_leaves_them(pg_store: Store) -> None:
    _fill(pg_store, 200, first_serial=100)
    assert _stale(pg_store) == ["measurements", "runs"]
    assert _reltuples(pg_store, "measurements") < 0      # never analyzed: the planner guesses
    summary = lot_summary(pg_store)
    assert summary.n_runs == 200
    assert _stale(pg_store) == []
    assert _reltuples(pg_store, "measurements") == 6000
    assert ensure_statistics(pg_store._reader) == []      # fresh: nothing to do


def test_tables_changed_by_more_than_a_fifth_since_their_analysis_are_analyzed_again(
        pg_store: Store) -> None:
    _fill(pg_store, 200, first_serial=100)
    assert ensure_statistics(pg_store._reader) == ["measurements", "runs"]
    _fill(pg_store, 20, first_serial=400, seed=2)    # 600 rows since, of 6,600: within a fifth
    assert _stale(pg_store) == []
    _fill(pg_store, 60, first_serial=500, seed=3)    # 2,400 since, of 8,400: stale
    assert _stale(pg_store) == ["measurements"]
    assert ensure_statistics(pg_store._reader) == ["measurements"]
    assert _reltuples(pg_store, "measurements") == 8400


def test_a_role_that_may_not_analyze_is_told_and_the_report_goes_on(
        pg_store: Store, pg_fresh_url: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    _fill(pg_store, 50, first_serial=100)
    role = f"vst_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_fresh_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
        try:
            engine = sa.create_engine(sa.make_url(pg_store.url).set(username=role))
            try:
                with caplog.at_level(logging.WARNING, "reports.store.statistics"):
                    assert ensure_statistics(engine) == []
                assert "measurements, runs" in caplog.text and "owner" in caplog.text
            finally:
                engine.dispose()
            assert _stale(pg_store) == ["measurements", "runs"]    # nothing was changed
        finally:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
