"""Lot statistics computed where the data is: memory flat in the number of runs.

The same numbers as :func:`reports.analytics.summarize` (same definitions, see there),
for a lot of any size, on SQLite and PostgreSQL alike:

- over the runs (a lot's runs are 30× fewer than its measurements): yield, first-pass
  yield, retest rate, verdicts and the per-station table as SQL aggregates, and the run
  charts with window functions (row number, rolling pass rate), at most
  :data:`RUN_CHART_POINTS` points per station (beyond, a point is a bucket of runs);
- over the measurements: one streaming pass in run order (runs by their start-time index,
  each run's rows by its key, :data:`STREAM_ROWS` at a time; a server-side cursor on
  PostgreSQL) keeps running sums per measurement name (Pareto counts, n, Welford's mean
  and M2, moving range, min, max), and a second pass counts the histogram bins.

Memory holds a row of sums per measurement name, histogram bins and the chart points,
whatever the number of runs. The PostgreSQL line store is the scale-out path: the same
queries on a server sized for millions of measurements (docs/records.md).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from reports.analytics import (
    CAPABILITY_COLUMNS,
    D2,
    MIN_N,
    NOT_MEASURED,
    LotSummary,
    RunChart,
    capability_notes,
    histogram_bins,
)
from reports.store import Store
from reports.store.statistics import ensure_statistics
from reports.store.store import MEAS, RUNS, _where
from reports.store.tables import UtcDateTime

#: Most points a run chart draws per station; beyond, a point is a bucket of runs.
RUN_CHART_POINTS = 500
#: Rows fetched at a time by a streaming pass (a server-side cursor on PostgreSQL).
STREAM_ROWS = 1_000


def lot_summary(store: Store, *, since: date | datetime | str | None = None,
                model: str | None = None, plan: str | None = "eol", title: str = "Lot",
                max_points: int = RUN_CHART_POINTS) -> LotSummary:
    """The lot's figures from SQL over the finished production runs in scope
    (ValueError when there are none)."""
    filters = {"since": since, "model": model, "plan": plan, "finished": True,
               "development": False}
    ensure_statistics(store._reader)   # PostgreSQL plans the streaming passes from them
    with store._reader.connect() as conn:
        scope = _where(filters, measurement=False)
        head = _headline(conn, scope)
        if not head["runs"]:
            raise ValueError("no finished runs match: nothing to report")
        stations, charts = _stations(conn, scope, max_points)
        pareto, sums = _measurement_pass(conn, scope)
        capability = _capability(conn, scope, sums)
        summary = LotSummary(
            runs=None, measurements=None, units=head["units"], yield_=head["yield"],
            first_pass_yield=head["fpy"], first_runs=head["first_runs"],
            retest_rate=head["retests"] / head["runs"], verdicts=_verdicts(conn, scope),
            pareto=pareto, capability=capability, stations=stations,
            title=title, n_runs=head["runs"], started_min=head["started_min"],
            started_max=head["started_max"], run_charts=charts,
        )
        conn.rollback()
    return summary


def _count_if(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _headline(conn: sa.Connection, scope: list[Any]) -> dict[str, Any]:
    r = RUNS.c
    latest = sa.select(
        r.verdict,
        sa.func.row_number().over(partition_by=r.serial,
                                  order_by=(r.retest_index.desc(), r.pk.desc())).label("rn"),
    ).where(*scope).subquery()
    latest_pass = conn.execute(sa.select(_count_if(
        sa.and_(latest.c.rn == 1, latest.c.verdict == "PASS")))).scalar_one()
    row = conn.execute(sa.select(
        sa.func.count().label("runs"), sa.func.count(sa.distinct(r.serial)).label("units"),
        _count_if(r.retest_index > 0).label("retests"),
        _count_if(r.retest_index == 0).label("first_runs"),
        _count_if(sa.and_(r.retest_index == 0, r.verdict == "PASS")).label("first_pass"),
        sa.type_coerce(sa.func.min(r.started_at), UtcDateTime()).label("started_min"),
        sa.type_coerce(sa.func.max(r.started_at), UtcDateTime()).label("started_max"),
    ).where(*scope)).one()._asdict()
    units, first = int(row["units"]), int(row["first_runs"])
    return {**row, "runs": int(row["runs"]), "units": units, "first_runs": first,
            "retests": int(row["retests"]),
            "yield": int(latest_pass) / units if units else math.nan,
            "fpy": int(row["first_pass"]) / first if first else math.nan}


def _verdicts(conn: sa.Connection, scope: list[Any]) -> dict[str, int]:
    rows = conn.execute(sa.select(RUNS.c.verdict, sa.func.count())
                        .where(*scope).group_by(RUNS.c.verdict)).all()
    return {v: int(n) for v, n in sorted(rows)}


def _stations(conn: sa.Connection, scope: list[Any],
              max_points: int) -> tuple[Any, list[RunChart]]:
    """Runs, passes, pass rate and mean cycle time per station; each station's run chart
    (cycle time and pass rate in run order, bucketed above ``max_points`` runs)."""
    import pandas as pd

    r = RUNS.c
    passed = sa.case((r.verdict == "PASS", 1.0), else_=0.0)
    rows = conn.execute(sa.select(r.station_id, sa.func.count(), _count_if(r.verdict == "PASS"),
                                  sa.func.avg(r.duration_s))
                        .where(*scope).group_by(r.station_id)).all()
    rows = sorted(rows, key=lambda x: x[0])
    stations = pd.DataFrame([(s, int(n), int(p), float(c) if c is not None else math.nan)
                             for s, n, p, c in rows], columns=["station", "runs", "passed", "cycle_s"])
    stations["pass_rate"] = stations["passed"] / stations["runs"]
    stations = stations[["station", "runs", "passed", "cycle_s", "pass_rate"]]

    order = (r.started_at, r.pk)
    ranked = sa.select(
        r.station_id, r.duration_s, r.verdict, passed.label("passed"),
        sa.func.row_number().over(partition_by=r.station_id, order_by=order).label("rn"),
        sa.func.count().over(partition_by=r.station_id).label("n"),
        sa.func.avg(passed).over(partition_by=r.station_id, order_by=order,
                                 rows=(-9, 0)).label("rolling"),
    ).where(*scope).subquery()
    c = ranked.c
    bucket = sa.case((c.n <= max_points, c.rn),
                     else_=(c.rn - 1) * max_points // c.n + 1).label("bucket")
    points = sa.select(
        c.station_id, bucket, sa.func.count(), sa.func.min(c.rn), sa.func.avg(c.duration_s),
        sa.func.max(c.verdict), sa.func.avg(c.passed), sa.func.max(c.rolling),
    ).group_by(c.station_id, bucket).order_by(c.station_id, bucket)
    sizes = {st: int(n) for st, n, _p, _c in rows}
    charts: dict[str, RunChart] = {}
    for station, _b, count, first, cycle, verdict, rate, rolling in conn.execute(points):
        one = sizes[station] <= max_points   # a point per run, else a bucket of runs
        chart = charts.setdefault(station, RunChart(station, per_point=1 if one else
                                                    -(-sizes[station] // max_points)))
        chart.x.append(float(first) + (0.0 if one else (int(count) - 1) / 2))
        chart.cycle_s.append(float(cycle) if cycle is not None else math.nan)
        chart.verdicts.append(sys.intern(verdict) if one and verdict else None)
        chart.pass_rate.append(float(rolling if one else rate))
    return stations, [charts[s] for s in sorted(charts)]


class _Series:
    """Running sums of one (model, measurement) in run order: n, Welford's mean and M2
    (the overall σ without catastrophic cancellation), the moving range, min and max."""

    __slots__ = ("fails", "last", "m2", "max", "mean", "min", "mr", "n", "prev")

    def __init__(self) -> None:
        self.n = self.fails = 0
        self.mean = self.m2 = self.mr = 0.0
        self.prev: float | None = None
        self.min, self.max = math.inf, -math.inf
        self.last: tuple[Any, ...] = ("", "", None, None)

    def add(self, v: float, failed: bool, last: tuple[Any, ...]) -> None:
        n = self.n = self.n + 1
        d = v - self.mean
        self.mean += d / n
        self.m2 += d * (v - self.mean)
        if self.prev is not None:
            self.mr += abs(v - self.prev)
        self.prev = v
        if v < self.min:
            self.min = v
        if v > self.max:
            self.max = v
        if failed:
            self.fails += 1
        self.last = last   # step, unit, low, high: the latest run's


def _measurement_pass(conn: sa.Connection, scope: list[Any]) -> tuple[Any, Any]:
    """Pareto and capability sums in one streaming pass over the measurements in run order
    (runs by their start-time index, each run's rows by its key): bounded memory."""

    m, r = MEAS.c, RUNS.c
    q = (sa.select(r.model, m.name, m.step, m.unit, m.outcome, m.value_num, m.low, m.high,
                   sa.case((m.outcome == "FAIL", m.message), else_=None))
         .join(RUNS, r.pk == m.run_pk).where(*scope)
         .order_by(r.started_at, r.pk, m.seq))
    series: dict[tuple[str, str], _Series] = {}
    excluded: dict[tuple[str, str], int] = {}
    bad: dict[str, list[Any]] = {}   # name -> [first step, FAIL, ERROR]
    for model, name, step, unit, outcome, v, low, high, message in _stream(conn, q):
        if outcome == "FAIL" or outcome == "ERROR":
            b = bad.setdefault(name, [step, 0, 0])
            b[1 if outcome == "FAIL" else 2] += 1
        if outcome != "PASS" and outcome != "FAIL":
            continue
        if message is not None and NOT_MEASURED.search(message):
            excluded[(model, name)] = excluded.get((model, name), 0) + 1
            continue
        if v is None or (low is None and high is None):
            continue
        key = (model, name)
        s = series.get(key)
        if s is None:
            s = series[key] = _Series()
        s.add(v, outcome == "FAIL", (step, unit, low, high))
    return _pareto_frame(bad), (series, excluded)


def _stream(conn: sa.Connection, query: Any) -> Iterator[Any]:
    """Rows in chunks of :data:`STREAM_ROWS` (bounded memory: SQLite's cursor steps
    through the result; on PostgreSQL a server-side cursor, which would otherwise fetch it
    all), one chunk a time."""
    if conn.dialect.name != "sqlite":
        conn = conn.execution_options(stream_results=True, max_row_buffer=STREAM_ROWS)
    for chunk in conn.execute(query).partitions(STREAM_ROWS):
        yield from chunk


def _pareto_frame(bad: dict[str, list[Any]]) -> Any:
    import pandas as pd

    cols = ["name", "step", "fail", "error", "count", "share", "cumulative"]
    if not bad:
        return pd.DataFrame(columns=cols)
    table = pd.DataFrame([(n, s, f, e) for n, (s, f, e) in bad.items()],
                         columns=["name", "step", "fail", "error"])
    table["count"] = table.fail + table.error
    table = table.sort_values(["count", "name"], ascending=[False, True]).reset_index(drop=True)
    table["share"] = table["count"] / table["count"].sum()
    table["cumulative"] = table["share"].cumsum()
    return table[cols]


def _capability(conn: sa.Connection, scope: list[Any], sums: tuple[Any, Any]) -> Any:
    """Capability rows from the running sums (first appearance in run order), then their
    histogram bins in a second streaming pass."""
    import pandas as pd

    series, excluded = sums
    out: list[dict[str, Any]] = []
    for (model, name), s in series.items():
        n, (step, unit, low, high) = s.n, s.last
        s_all = math.sqrt(s.m2 / (n - 1)) if n >= 2 else math.nan
        s_in = s.mr / (n - 1) / D2 if n >= 2 else math.nan
        row = {"model": model, "name": name, "step": step, "unit": unit, "n": n,
               "mean": s.mean, "std": s_all, "std_within": s_in,
               "low": low if low is not None else math.nan,
               "high": high if high is not None else math.nan,
               "fails": s.fails, "excluded": excluded.get((model, name), 0), "values": [],
               "hist": histogram_bins(n, s.min, s.max)}
        row.update(capability_notes(n, s.mean, s_all, s_in, low, high, MIN_N))
        out.append(row)
    _fill_histograms(conn, scope, out)
    return pd.DataFrame(out, columns=CAPABILITY_COLUMNS)


def _fill_histograms(conn: sa.Connection, scope: list[Any], rows: list[dict[str, Any]]) -> None:
    """Bin counts as numpy.histogram gives them (equal bins from min to max, the last
    closed): a pass over the capability values in any order, whatever their number."""
    if not rows:
        return
    bins = {(row["model"], row["name"]): (*row["hist"], len(row["hist"][0]) /
                                          (row["hist"][1][-1] - row["hist"][1][0]))
            for row in rows}
    m, r = MEAS.c, RUNS.c
    q = (sa.select(r.model, m.name, m.value_num, sa.case((m.outcome == "FAIL", m.message),
                                                          else_=None))
         .join(RUNS, r.pk == m.run_pk)
         .where(*scope, m.outcome.in_(["PASS", "FAIL"]), m.value_num.is_not(None),
                sa.or_(m.low.is_not(None), m.high.is_not(None))))
    for model, name, v, message in _stream(conn, q):
        if message is not None and NOT_MEASURED.search(message):
            continue
        counts, edges, norm = bins[(model, name)]
        last = len(counts) - 1
        i = min(int((v - edges[0]) * norm), last)   # numpy's index, then its edge checks
        if v < edges[i]:
            i -= 1
        elif v >= edges[i + 1] and i != last:
            i += 1
        counts[i] += 1
