"""Lot analytics from the store: yield, first-pass yield, retest rate, the Pareto of
failing measurements and each measurement's capability (Cp, Cpk) against its limits.

Pure pandas on the store's frames, so the numbers can be checked against the runs that
produced them; drawing and documents live in ``reports.lot_report``.

Definitions (per serial, over the runs in scope, i.e. finished runs of the plan after
``since``, of ``model``):
- yield: units whose latest run passed ÷ units;
- first-pass yield: units whose first run (retest index 0) passed ÷ units whose first
  run is in scope;
- retest rate: runs with retest index ≥ 1 ÷ runs;
- Pareto: per measurement, how many runs it FAILed or ERRORed in, most first;
- Cp = (high − low) / 6σ, Cpk = min(high − µ, µ − low) / 3σ over the values of runs
  that took the measurement (PASS or FAIL); with one limit only Cpk (Cpu or Cpl).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from reports.store import Store


@dataclass
class LotSummary:
    runs: pd.DataFrame
    measurements: pd.DataFrame
    units: int
    yield_: float
    first_pass_yield: float
    first_runs: int
    retest_rate: float
    verdicts: dict[str, int]
    pareto: pd.DataFrame
    capability: pd.DataFrame
    stations: pd.DataFrame
    title: str

    @property
    def n_runs(self) -> int:
        return len(self.runs)


def load_lot(store: Store, *, since: date | datetime | str | None = None,
             model: str | None = None, plan: str | None = "eol") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The finished runs in scope and their measurements."""
    # a development run (some steps only) is never in yield: production runs only
    runs = store.runs(since=since, model=model, plan=plan, finished=True, development=False)
    meas = store.measurements(since=since, model=model, plan=plan, finished=True,
                              development=False)
    return runs, meas


def summarize(runs: pd.DataFrame, meas: pd.DataFrame, title: str = "Lot") -> LotSummary:
    if runs.empty:
        raise ValueError("no finished runs match: nothing to report")
    runs = runs.sort_values(["serial", "retest_index"]).reset_index(drop=True)
    latest = runs.groupby("serial").tail(1)
    first = runs[runs.retest_index == 0]
    units = runs.serial.nunique()
    return LotSummary(
        runs=runs, measurements=meas, units=units,
        yield_=float((latest.verdict == "PASS").sum()) / units,
        first_pass_yield=float((first.verdict == "PASS").sum()) / len(first) if len(first) else math.nan,
        first_runs=len(first),
        retest_rate=float((runs.retest_index > 0).sum()) / len(runs),
        verdicts={v: int(n) for v, n in runs.verdict.value_counts().sort_index().items()},
        pareto=pareto(meas), capability=capability(meas), stations=by_station(runs),
        title=title,
    )


def pareto(meas: pd.DataFrame) -> pd.DataFrame:
    """Failing measurements, most frequent first, with cumulative share."""
    bad = meas[meas.outcome.isin(["FAIL", "ERROR"])]
    cols = ["name", "step", "fail", "error", "count", "share", "cumulative"]
    if bad.empty:
        return pd.DataFrame(columns=cols)
    table = (bad.assign(fail=bad.outcome.eq("FAIL").astype(int), error=bad.outcome.eq("ERROR").astype(int))
             .groupby("name", sort=False).agg(step=("step", "first"), fail=("fail", "sum"),
                                                error=("error", "sum")).reset_index())
    table["count"] = table.fail + table.error
    table = table.sort_values(["count", "name"], ascending=[False, True]).reset_index(drop=True)
    table["share"] = table["count"] / table["count"].sum()
    table["cumulative"] = table["share"].cumsum()
    return table[cols]


def cp_cpk(values: pd.Series, low: float | None, high: float | None) -> tuple[float, float]:
    """(Cp, Cpk) of ``values`` against the limits; NaN where undefined."""
    n = values.count()
    if n < 2:
        return math.nan, math.nan
    mu, sigma = float(values.mean()), float(values.std(ddof=1))
    if not sigma > 0:
        return math.nan, math.nan
    lo = None if low is None or pd.isna(low) else float(low)
    hi = None if high is None or pd.isna(high) else float(high)
    cp = (hi - lo) / (6 * sigma) if lo is not None and hi is not None else math.nan
    sides = [(hi - mu) / (3 * sigma)] if hi is not None else []
    sides += [(mu - lo) / (3 * sigma)] if lo is not None else []
    return cp, (min(sides) if sides else math.nan)


def capability(meas: pd.DataFrame) -> pd.DataFrame:
    """Per numeric measurement with limits: n, mean, σ, limits, Cp, Cpk, failures.

    Limits are those of the latest run (a new limits version moves them)."""
    cols = ["name", "step", "unit", "n", "mean", "std", "low", "high", "cp", "cpk", "fails"]
    taken = meas[meas.outcome.isin(["PASS", "FAIL"]) & meas.value_num.notna()
                 & (meas.low.notna() | meas.high.notna())]
    rows = []
    for name, g in taken.groupby("name", sort=False):
        last = g.iloc[-1]
        cp, cpk = cp_cpk(g.value_num, last.low, last.high)
        rows.append({"name": name, "step": last.step, "unit": last.unit, "n": len(g),
                     "mean": g.value_num.mean(), "std": g.value_num.std(ddof=1),
                     "low": last.low, "high": last.high, "cp": cp, "cpk": cpk,
                     "fails": int((g.outcome == "FAIL").sum())})
    return pd.DataFrame(rows, columns=cols)


def by_station(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs, passes, pass rate and mean cycle time per station."""
    g = runs.groupby("station_id")
    out = pd.DataFrame({
        "runs": g.size(),
        "passed": g.verdict.apply(lambda v: int((v == "PASS").sum())),
        "cycle_s": g.duration_s.mean(),
    })
    out["pass_rate"] = out["passed"] / out["runs"]
    return out.reset_index().rename(columns={"station_id": "station"})
