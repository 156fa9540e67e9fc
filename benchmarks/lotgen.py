"""A large lot written straight into a real store (bulk inserts in chunks): the population
the lot-report scale benchmarks and their small-scale tests read.

Shaped like a line's EOL data: ``meas_per_run`` numeric measurements with two-sided
limits per run, about one unit in ten failing one of them (a few as a trip timeout, which
capability excludes), one in twenty re-tested, runs spread over three stations. Rows are
generated as dictionaries (no Record per run), so 100,000 runs cost seconds, not minutes.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from common.serial_number import make_serial
from reports.store import Store
from reports.store.store import MEAS, RUNS, STATIONS, UNITS

EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
CHUNK = 20_000
NO_TRIP = "no trip within 20 s"


def _run_rows(n_runs: int, rng: random.Random, first_pk: int,
              first_serial: int) -> Iterator[dict[str, Any]]:
    """Runs in start order; every 20th unit fails once and is re-tested."""
    pk, unit = first_pk, first_serial
    t = EPOCH + timedelta(minutes=first_pk)
    while pk < first_pk + n_runs:
        serial = make_serial("S", 26, 1, unit)
        for retest in range(2 if unit % 20 == 0 else 1):
            if pk >= first_pk + n_runs:
                break
            fails = (unit % 10 == 3) or (unit % 20 == 0 and retest == 0)
            t += timedelta(seconds=rng.randint(100, 140))
            yield {"pk": pk, "run_id": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                   "schema_version": 1, "serial": serial, "model": "v5", "plan": "eol",
                   "verdict": "FAIL" if fails else "PASS", "started_at": t,
                   "finished_at": t + timedelta(seconds=95), "duration_s": 95.0 + rng.random(),
                   "wall_duration_s": 1.5, "retest_index": retest, "operator": "bench",
                   "software_version": "0.1.0", "station_id": f"eol-{unit % 3 + 1}",
                   "station_line": "line-A", "station_file": "stations/sim.toml",
                   "station_simulated": True, "limits_file": "eol/v5", "limits_version": "1",
                   "limits_sha256": "0" * 64, "work_order": {}, "development": False,
                   "record_sha256": "0" * 64, "steps": []}
            pk += 1
        unit += 1


def _measurement_rows(run: dict[str, Any], meas_per_run: int,
                      rng: random.Random) -> Iterator[dict[str, Any]]:
    bad = rng.randrange(meas_per_run) if run["verdict"] == "FAIL" else -1
    for i in range(meas_per_run):
        fail = i == bad
        value = 70.0 if fail else round(rng.gauss(50.0 + i, 1.0), 4)
        message = (NO_TRIP if fail and run["pk"] % 7 == 0 else "") if fail else ""
        yield {"run_pk": run["pk"], "seq": i, "name": f"m{i:02d}", "step": f"step_{i // 6}",
               "unit": "V", "description": "", "comparison": "range", "low": 44.0 + i,
               "high": 56.0 + i, "critical": False, "outcome": "FAIL" if fail else "PASS",
               "value": value, "value_num": value, "message": message, "t": 2.0 * i,
               "taken_at": run["started_at"] + timedelta(seconds=2 * i)}


def fill_lot(store: Store, n_runs: int, *, meas_per_run: int = 30, seed: int = 1,
             first_serial: int | None = None) -> int:
    """Add ``n_runs`` finished runs (and their measurements) to ``store``, after what it
    holds (units numbered from ``first_serial``, default after the units it holds); the
    number of measurements written."""
    rng = random.Random(seed)
    engine = store._engine
    with engine.begin() as conn:
        first_pk = (conn.execute(sa_max(RUNS.c.pk)).scalar() or 0) + 1
        if first_serial is None:
            first_serial = (conn.execute(sa_count(UNITS)).scalar() or 0) + 1
        for s in range(1, 4):
            if conn.execute(STATIONS.select().where(STATIONS.c.id == f"eol-{s}")).first() is None:
                conn.execute(STATIONS.insert().values(
                    id=f"eol-{s}", line="line-A", file="stations/sim.toml", simulated=True,
                    first_seen=EPOCH, last_seen=EPOCH))
    written = 0
    runs: list[dict[str, Any]] = []
    meas: list[dict[str, Any]] = []

    def flush() -> None:
        with engine.begin() as conn:
            units = {r["serial"]: r["started_at"] for r in runs if r["retest_index"] == 0}
            if units:
                conn.execute(UNITS.insert(), [{"serial": s, "model": "v5", "first_seen": t}
                                              for s, t in units.items()])
            conn.execute(RUNS.insert(), runs)
            if meas:
                conn.execute(MEAS.insert(), meas)
        runs.clear()
        meas.clear()

    for run in _run_rows(n_runs, rng, first_pk, first_serial):
        runs.append(run)
        meas.extend(_measurement_rows(run, meas_per_run, rng))
        written += meas_per_run
        if len(meas) >= CHUNK:
            flush()
    if runs:
        flush()
    if engine.dialect.name == "postgresql":   # explicit keys: the run sequence moves on
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('runs', 'pk'), "
                                 "(SELECT max(pk) FROM runs))")
    return written


def sa_max(col: Any) -> Any:
    import sqlalchemy as sa

    return sa.select(sa.func.max(col))


def sa_count(table: Any) -> Any:
    import sqlalchemy as sa

    return sa.select(sa.func.count()).select_from(table)
