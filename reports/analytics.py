"""Lot analytics from the store: yield, first-pass yield, retest rate, the Pareto of
failing measurements and each measurement's capability against its limits (Pp/Ppk and
Cp/Cpk, per model).

Pure pandas on the store's frames, so the numbers can be checked against the runs that
produced them; drawing and documents live in ``reports.lot_report``.

Definitions (per serial, over the runs in scope, i.e. finished runs of the plan after
``since``, of ``model``):
- yield: units whose latest run passed ÷ units;
- first-pass yield: units whose first run (retest index 0) passed ÷ units whose first
  run is in scope;
- retest rate: runs with retest index ≥ 1 ÷ runs;
- Pareto: per measurement, how many runs it FAILed or ERRORed in, most first;
- capability, per model and measurement, over the values of runs that took it (PASS or
  FAIL; a FAIL that measured nothing, such as a trip timeout "no trip within 20 s", is
  left out and counted as excluded), in run order, against the latest run's limits:
  Pp = (high − low) / 6s, Ppk = min(high − µ, µ − low) / 3s with s the overall sample σ
  (ddof 1); Cp and Cpk the same with the within σ̂ = mean moving range / d2 (d2 = 1.128,
  consecutive values: the individuals-chart estimate). One limit only: Ppk / Cpk alone
  (Ppu/Ppl, Cpu/Cpl). Below :data:`MIN_N` values no index is given ("n < 25"), nor with a
  σ that is zero next to the values ("σ ≈ 0").
"""

from __future__ import annotations

import math
import re
from array import array
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from reports.store import Store


@dataclass
class RunChart:
    """One station's run chart: cycle time and pass rate in run order. Up to
    ``reports.lot_sql.RUN_CHART_POINTS`` runs a point is a run (its verdict, the pass rate
    of the last 10 runs); beyond, a point is a bucket of about ``per_point`` consecutive
    runs (their mean cycle time and pass rate), so the chart stays the same size."""

    station: str
    per_point: int = 1
    # compact arrays: a lot's charts cost the same few kilobytes whatever its size
    x: array[float] = field(default_factory=lambda: array("d"))  # run number (bucket centre)
    cycle_s: array[float] = field(default_factory=lambda: array("d"))
    verdicts: list[str | None] = field(default_factory=list)   # None: a bucket of runs
    pass_rate: array[float] = field(default_factory=lambda: array("d"))  # 0..1


@dataclass
class LotSummary:
    """A lot's figures. ``runs`` / ``measurements`` are the frames it was computed from
    (None when computed in the database: ``reports.lot_sql``)."""

    runs: pd.DataFrame | None
    measurements: pd.DataFrame | None
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
    n_runs: int = 0
    started_min: Any = None
    started_max: Any = None
    run_charts: list[RunChart] = field(default_factory=list)
    simulated_runs: int = 0     # runs in scope from a simulated bench: the report says SIMULATED


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
        verdicts={str(v): int(n) for v, n in runs.verdict.value_counts().sort_index().items()},
        pareto=pareto(meas), capability=capability(meas), stations=by_station(runs),
        title=title, n_runs=len(runs), started_min=runs.started_at.min(),
        started_max=runs.started_at.max(), run_charts=run_charts(runs),
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


#: Fewest values a capability index is computed from.
MIN_N = 25
#: d2 of a moving range of two consecutive values (σ̂ = mean MR / d2).
D2 = 1.128
#: A σ below this fraction of the values' magnitude is rounding noise: no index.
SIGMA_REL_EPS = 1e-9
#: A FAIL whose message says nothing was measured (a protection that did not trip within
#: the timeout records the timeout as its value): not a measured value.
NOT_MEASURED = re.compile(r"\bno trip\b|\bdid not trip\b|\bnot tripped\b", re.IGNORECASE)


def _limit(x: float | None) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def indices(mu: float, sigma: float, low: float | None, high: float | None) -> tuple[float, float]:
    """(spread index, centred index) for one σ: (high − low) / 6σ and the smaller of
    (high − µ) / 3σ, (µ − low) / 3σ; NaN where a limit is missing or σ is not > 0."""
    if not sigma > 0:
        return math.nan, math.nan
    lo, hi = _limit(low), _limit(high)
    spread = (hi - lo) / (6 * sigma) if lo is not None and hi is not None else math.nan
    sides = [(hi - mu) / (3 * sigma)] if hi is not None else []
    sides += [(mu - lo) / (3 * sigma)] if lo is not None else []
    return spread, (min(sides) if sides else math.nan)


def sigma_within(values: pd.Series) -> float:
    """Mean moving range of consecutive values / d2 (NaN below two values)."""
    v = pd.Series(values, dtype=float).dropna()
    if len(v) < 2:
        return math.nan
    return float(v.diff().abs().iloc[1:].mean()) / D2


def _near_zero(sigma: float, mu: float, low: float | None, high: float | None) -> bool:
    scale = max(abs(mu), abs(low or 0.0), abs(high or 0.0))
    return not sigma > SIGMA_REL_EPS * scale if scale > 0 else not sigma > 0


def pp_ppk(values: pd.Series, low: float | None, high: float | None) -> tuple[float, float]:
    """(Pp, Ppk): the overall sample σ; NaN below two values or with σ = 0."""
    v = pd.Series(values, dtype=float).dropna()
    if len(v) < 2:
        return math.nan, math.nan
    return indices(float(v.mean()), float(v.std(ddof=1)), low, high)


def cp_cpk(values: pd.Series, low: float | None, high: float | None) -> tuple[float, float]:
    """(Cp, Cpk): the within σ (moving range / d2) of the values in run order."""
    v = pd.Series(values, dtype=float).dropna()
    if len(v) < 2:
        return math.nan, math.nan
    return indices(float(v.mean()), sigma_within(v), low, high)


def not_measured(meas: pd.DataFrame) -> pd.Series:
    """Rows that hold no measured value: a FAIL whose message says it did not trip."""
    message = meas.message.fillna("").astype(str) if "message" in meas else pd.Series("", meas.index)
    return meas.outcome.eq("FAIL") & message.str.contains(NOT_MEASURED)


def capability_values(meas: pd.DataFrame) -> pd.DataFrame:
    """The measured numeric values that enter capability (PASS or FAIL, limits known)."""
    if meas.empty:
        return meas
    return meas[meas.outcome.isin(["PASS", "FAIL"]) & meas.value_num.notna()
                & (meas.low.notna() | meas.high.notna()) & ~not_measured(meas)]


CAPABILITY_COLUMNS = ["model", "name", "step", "unit", "n", "mean", "std", "std_within", "low",
                      "high", "pp", "ppk", "cp", "cpk", "note_p", "note_c", "fails", "excluded",
                      "values", "hist"]


def histogram_bins(n: int, lo: float, hi: float) -> tuple[list[int], list[float]]:
    """Empty counts and the edges of a distribution's histogram: min(20, max(5, n / 4))
    equal bins from the smallest value to the largest (numpy's rule for equal values:
    a range of ±0.5 around them)."""
    import numpy as np

    bins = min(20, max(5, n // 4))
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return [0] * bins, [float(e) for e in np.linspace(lo, hi, bins + 1)]


def capability_notes(n: int, mu: float, s_all: float, s_in: float, lo: float | None,
                     hi: float | None, min_n: int = MIN_N) -> dict[str, Any]:
    """Pp/Ppk and Cp/Cpk from n, µ and the two σ, or the note that says why not."""
    pp = ppk = cp = cpk = math.nan
    note_p = note_c = ""
    if n < min_n:
        note_p = note_c = f"n < {min_n}"
    else:
        if _near_zero(s_all, mu, lo, hi):
            note_p = "σ ≈ 0"
        else:
            pp, ppk = indices(mu, s_all, lo, hi)
        if _near_zero(s_in, mu, lo, hi):
            note_c = "σ ≈ 0"
        else:
            cp, cpk = indices(mu, s_in, lo, hi)
    return {"pp": pp, "ppk": ppk, "cp": cp, "cpk": cpk, "note_p": note_p, "note_c": note_c}


def capability(meas: pd.DataFrame, min_n: int = MIN_N) -> pd.DataFrame:
    """Per model and numeric measurement with limits: n, mean, overall and within σ, limits,
    Pp/Ppk and Cp/Cpk (NaN with a note in ``note_p`` / ``note_c`` where refused), failures,
    excluded (not measured) and the values in run order.

    Limits are those of the latest run (a new limits version moves them)."""
    rows: list[dict[str, object]] = []
    if meas.empty:
        return pd.DataFrame(rows, columns=CAPABILITY_COLUMNS)
    taken = capability_values(meas)
    skipped = meas[not_measured(meas)]
    for (model, name), g in taken.groupby(["model", "name"], sort=False):
        last = g.iloc[-1]
        values = g.value_num.astype(float).reset_index(drop=True)
        lo, hi = _limit(last.low), _limit(last.high)
        n, mu = len(values), float(values.mean())
        s_all = float(values.std(ddof=1)) if n >= 2 else math.nan
        s_in = sigma_within(values)
        excluded = int(((skipped.model == model) & (skipped.name == name)).sum())
        counts, edges = histogram_bins(n, float(values.min()), float(values.max()))
        counts = [int(c) for c in np.histogram(values, bins=np.asarray(edges))[0]]
        rows.append({"model": model, "name": name, "step": last.step, "unit": last.unit,
                     "n": n, "mean": mu, "std": s_all, "std_within": s_in, "low": last.low,
                     "high": last.high, **capability_notes(n, mu, s_all, s_in, lo, hi, min_n),
                     "fails": int((g.outcome == "FAIL").sum()), "excluded": excluded,
                     "values": list(values), "hist": (counts, edges)})
    return pd.DataFrame(rows, columns=CAPABILITY_COLUMNS)


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


def run_charts(runs: pd.DataFrame, max_points: int = 500) -> list[RunChart]:
    """Each station's run chart from the runs frame, by the rule of :class:`RunChart`."""
    charts = []
    for station, g in runs.sort_values("started_at").groupby("station_id"):
        n = len(g)
        passed = (g.verdict == "PASS").astype(float).reset_index(drop=True)
        cycle = g.duration_s.astype(float).reset_index(drop=True)
        if n <= max_points:
            charts.append(RunChart(str(station), 1, array("d", range(1, n + 1)),
                                   array("d", cycle), list(g.verdict),
                                   array("d", passed.rolling(10, min_periods=1).mean())))
            continue
        chart = RunChart(str(station), -(-n // max_points))
        bucket = pd.Series([i * max_points // n for i in range(n)])
        for idx in bucket.groupby(bucket).groups.values():
            chart.x.append(1.0 + idx[0] + (len(idx) - 1) / 2)
            chart.cycle_s.append(float(cycle[idx].mean()))
            chart.verdicts.append(None)
            chart.pass_rate.append(float(passed[idx].mean()))
        charts.append(chart)
    return charts
