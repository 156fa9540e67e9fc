"""Lot statistics computed in the database (reports.lot_sql) equal the frames' (reports.
analytics) on SQLite and PostgreSQL, and their memory does not grow with the runs."""

from __future__ import annotations

import gc
import math
import tracemalloc
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from test_reports_lot import _fill

from benchmarks.lotgen import fill_lot
from reports.analytics import LotSummary, load_lot, run_charts, summarize
from reports.lot_sql import lot_summary
from reports.store import Store, open_store
from reports.store.engine import MIGRATIONS_DIR, script_head

NUMBERS = ("n", "mean", "std", "std_within", "low", "high", "pp", "ppk", "cp", "cpk")
EXACT = ("model", "name", "step", "unit", "note_p", "note_c", "fails", "excluded", "hist")


def _same(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    return x == y


def _assert_equal(a: LotSummary, b: LotSummary) -> None:
    for f in ("n_runs", "units", "yield_", "first_pass_yield", "first_runs", "retest_rate",
              "verdicts", "started_min", "started_max"):
        assert _same(getattr(a, f), getattr(b, f)), f
    assert a.pareto.to_dict("records") == b.pareto.to_dict("records")
    assert list(a.stations.station) == list(b.stations.station)
    for x, y in zip(a.stations.to_dict("records"), b.stations.to_dict("records"), strict=True):
        assert all(_same(x[k], y[k]) for k in x), (x, y)
    assert len(a.capability) == len(b.capability) > 0
    for x, y in zip(a.capability.to_dict("records"), b.capability.to_dict("records"), strict=True):
        for k in NUMBERS:
            assert _same(float(x[k]), float(y[k])), (x["name"], k, x[k], y[k])
        for k in EXACT:
            assert x[k] == y[k], (x["name"], k, x[k], y[k])
        assert sum(y["hist"][0]) == y["n"]


def _charts_equal(a: list, b: list) -> None:
    assert [c.station for c in a] == [c.station for c in b]
    for x, y in zip(a, b, strict=True):
        assert (x.per_point, x.x, x.verdicts) == (y.per_point, y.x, y.verdicts)
        assert all(_same(p, q) for p, q in zip([*x.cycle_s, *x.pass_rate],
                                                 [*y.cycle_s, *y.pass_rate], strict=True))


def test_lot_statistics_in_the_database_equal_the_frames(store: Store) -> None:
    _fill(store)    # EOL-like records: strings, booleans, one-sided limits, ERRORs, two models
    fill_lot(store, 150, meas_per_run=6, first_serial=5000)   # re-tests and trip timeouts
    runs, meas = load_lot(store)
    frames = summarize(runs, meas)
    sql = lot_summary(store)
    _assert_equal(frames, sql)
    assert sum(frames.capability.excluded) > 0 and frames.first_runs < frames.n_runs
    _charts_equal(frames.run_charts, sql.run_charts)
    # a long lot: each point of a station's run chart is a bucket of runs
    bucketed = lot_summary(store, max_points=7)
    assert all(c.per_point > 1 and len(c.x) == 7 for c in bucketed.run_charts)
    _charts_equal(run_charts(runs, max_points=7), bucketed.run_charts)
    # the filters mean the same on both sides
    v5 = lot_summary(store, model="v5-alpha")
    assert v5.n_runs == summarize(*load_lot(store, model="v5-alpha")).n_runs == 2
    with pytest.raises(ValueError, match="no finished runs"):
        lot_summary(store, since="2030-01-01")


def _peak(fn) -> int:  # type: ignore[no-untyped-def]
    """Peak traced memory of ``fn()``, the collector held off meanwhile: whether a collection
    of what earlier tests in this process left falls inside the call or not must not decide
    the peak (under xdist it did, either way)."""
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        gc.enable()


def test_lot_statistics_memory_is_flat_in_the_number_of_runs(tmp_path: Path) -> None:
    stores = {}
    for n in (200, 2000):
        stores[n] = open_store(None, tmp_path / str(n))
        fill_lot(stores[n], n)   # 30 measurements a run
    try:
        for s in stores.values():   # an engine's first connection, compiled statements and
            lot_summary(s)          # imports are paid once, whatever the lot
        small = _peak(lambda: lot_summary(stores[200]))
        large = _peak(lambda: lot_summary(stores[2000]))
        assert large <= 1.3 * small, (small, large)
        # the same probe sees what holds the lot grow with it (the frame of its runs)
        assert _peak(lambda: stores[2000].runs()) > 3 * _peak(lambda: stores[200].runs())
    finally:
        for s in stores.values():
            s.close()


def test_schema_head_is_read_from_the_scripts_as_alembic_reads_it() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert script_head() == ScriptDirectory.from_config(cfg).get_current_head() is not None
