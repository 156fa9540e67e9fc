"""Lot capability: Pp/Ppk from the overall σ, Cp/Cpk from the within σ (moving range /
1.128), each with n; refused below n = 25 or with σ ≈ 0; per model; a trip timeout is no
measured value; no empty histogram."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from reports.analytics import MIN_N, capability, summarize
from reports.lot_report import capability_rows, distribution_figures, html_text, write_lot_report

T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)


def _frames(series: dict[tuple[str, str], list[tuple[float | None, str, str]]],
            low: float = 51.5, high: float = 53.6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """runs and measurements: (model, name) → [(value, outcome, message)], one run per value."""
    runs, meas = [], []
    k = 0
    for (model, name), values in series.items():
        for value, outcome, message in values:
            k += 1
            run_id = f"r{k}"
            started = T0 + timedelta(minutes=k)
            runs.append({"run_id": run_id, "serial": f"S{k}", "model": model, "retest_index": 0,
                         "verdict": "PASS" if outcome == "PASS" else "FAIL", "station_id": "eol-1",
                         "duration_s": 600.0, "started_at": started})
            meas.append({"run_id": run_id, "serial": f"S{k}", "model": model, "name": name,
                         "step": "test_x", "unit": "V", "outcome": outcome, "value_num": value,
                         "value": value, "low": low, "high": high, "message": message,
                         "started_at": started, "retest_index": 0})
    return pd.DataFrame(runs), pd.DataFrame(meas)


def _normal(n: int, mu: float = 52.5, sd: float = 0.2, seed: int = 1) -> list[tuple[float, str, str]]:
    rng = random.Random(seed)
    return [(rng.gauss(mu, sd), "PASS", "") for _ in range(n)]


def test_pp_from_overall_and_cp_from_moving_range_with_n() -> None:
    # a drift: the overall σ is much larger than the within σ, so Pp < Cp
    values = [(52.0 + 0.02 * i + (0.01 if i % 2 else -0.01), "PASS", "") for i in range(40)]
    _, meas = _frames({("v5", "ocv"): values})
    row = capability(meas).iloc[0]
    v = pd.Series([x for x, _, _ in values])
    sd, within = v.std(ddof=1), v.diff().abs().dropna().mean() / 1.128
    assert row.n == 40
    assert row.pp == pytest.approx(2.1 / (6 * sd))
    assert row.cp == pytest.approx(2.1 / (6 * within))
    assert row.ppk == pytest.approx(min(53.6 - v.mean(), v.mean() - 51.5) / (3 * sd))
    assert row.cp > 3 * row.pp
    header, first = capability_rows(summarize(*_frames({("v5", "ocv"): values})))[:2]
    assert header[9:13] == ["Pp", "Ppk", "Cp", "Cpk"] and "n" in header
    assert first[3] == "40"


def test_below_the_minimum_n_no_index_is_given(tmp_path: Path) -> None:
    runs, meas = _frames({("v5", "ocv"): _normal(MIN_N - 1)})
    row = capability(meas).iloc[0]
    assert all(math.isnan(row[k]) for k in ("pp", "ppk", "cp", "cpk"))
    assert row.note_p == row.note_c == f"n < {MIN_N}"
    cells = capability_rows(summarize(runs, meas))[1]
    assert cells[9:13] == [f"n < {MIN_N}"] * 4
    page = html_text(summarize(runs, meas))
    assert f"<td>n &lt; {MIN_N}</td>" in page
    _, meas = _frames({("v5", "ocv"): _normal(MIN_N)})
    assert not math.isnan(capability(meas).iloc[0].cpk)


def test_a_near_zero_sigma_gives_no_huge_index() -> None:
    values = [(52.5 + (1e-13 if i % 3 == 0 else 0.0), "PASS", "") for i in range(30)]
    runs, meas = _frames({("v5", "ocv"): values})
    row = capability(meas).iloc[0]
    assert all(math.isnan(row[k]) for k in ("pp", "ppk", "cp", "cpk"))
    assert row.note_p == row.note_c == "σ ≈ 0"
    cells = capability_rows(summarize(runs, meas))[1]
    assert cells[9:13] == ["σ ≈ 0"] * 4
    assert not any("e+" in c for c in cells)


def test_models_are_not_pooled() -> None:
    _, meas = _frames({("v5", "ocv"): _normal(30, mu=52.5, seed=1),
                       ("v5-alpha", "ocv"): _normal(30, mu=52.0, seed=2)})
    cap = capability(meas).set_index("model")
    assert set(cap.index) == {"v5", "v5-alpha"}
    assert cap.loc["v5"].n == cap.loc["v5-alpha"].n == 30
    assert cap.loc["v5"]["mean"] == pytest.approx(52.5, abs=0.1)
    assert cap.loc["v5-alpha"]["mean"] == pytest.approx(52.0, abs=0.1)


def test_a_trip_timeout_is_not_a_measured_value() -> None:
    good = [(rng_v, "PASS", "") for rng_v, _, _ in _normal(30, mu=0.5, sd=0.05)]
    timeouts = [(2.0, "FAIL", "no trip within 2 s")] * 3
    real_fail = [(1.9, "FAIL", "outside limits")]
    _, meas = _frames({("v5", "fast_trip_s"): good + timeouts + real_fail}, low=0.1, high=1.0)
    row = capability(meas).iloc[0]
    assert row.n == 31 and row.excluded == 3 and row.fails == 1
    assert 2.0 not in row["values"]
    assert row["mean"] == pytest.approx((sum(v for v, _, _ in good) + 1.9) / 31)


def test_no_empty_histogram(tmp_path: Path) -> None:
    series = {("v5", f"m{i}"): _normal(30, seed=i) for i in range(4)}
    series[("v5", "firmware")] = [(None, "PASS", "")] * 30          # text: no numeric value
    series[("v5", "only_errors")] = [(None, "ERROR", "no answer")] * 30
    series[("v5", "only_timeouts")] = [(2.0, "FAIL", "no trip within 2 s")] * 30
    runs, meas = _frames(series)
    s = summarize(runs, meas)
    assert sorted(s.capability.name) == ["m0", "m1", "m2", "m3"]
    figs = list(distribution_figures(s))
    assert len(figs) == 1
    drawn = [ax for ax in figs[0].axes if ax.axison]
    assert len(drawn) == 4 and all(len(ax.patches) > 0 for ax in drawn)
    write_lot_report(s, tmp_path / "lot.pdf")
    assert (tmp_path / "lot.pdf").stat().st_size > 1000
