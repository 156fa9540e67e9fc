"""Pure analysis of the RMA plan: under-voltage spans, age, drifts, the history kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from testplans.rma.analysis import (
    age_years,
    cells_median,
    counters_kept,
    cut_off_errors,
    drifts_per_day,
    log_kept,
    reading_jump,
    uv_spans_h,
)

T0 = datetime(2025, 8, 1, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class E:
    time: datetime
    code: str
    info: str = "-"


def test_uv_spans_pair_protections_with_their_releases_and_run_to_the_dump() -> None:
    log = [E(T0, "cell_uv_prot"), E(T0 + timedelta(hours=1), "cell_uv_alarm"),
           E(T0 + timedelta(hours=30), "cell_uv_prot_end"),
           E(T0 + timedelta(days=3), "pack_uv_prot")]
    spans = uv_spans_h(log, T0 + timedelta(days=3, hours=5))
    assert spans == pytest.approx([30.0, 5.0])
    assert uv_spans_h([E(T0, "cell_uv_alarm")], T0) == []


def test_age_from_the_production_month() -> None:
    assert age_years(2015, 11, datetime(2026, 1, 5, tzinfo=UTC)) == pytest.approx(10.17, abs=0.01)
    assert age_years(2026, 1, datetime(2026, 1, 1, tzinfo=UTC)) == 0.0


def test_drift_is_against_the_median_cell_per_day() -> None:
    before = [3.25] * 16
    after = [3.2497] * 16
    after[3] = 3.2430
    d = drifts_per_day(before, after, 2 * 86400.0)
    assert d[3] == pytest.approx(-0.00335) and d[0] == pytest.approx(0.0)


def test_the_history_kept_means_only_this_runs_entries_were_added() -> None:
    before = [E(T0, "short_prot"), E(T0 + timedelta(hours=1), "power_on")]
    run = T0 + timedelta(days=100)
    assert log_kept(before, [*before, E(run, "power_on")], run) == ""
    assert "gone" in log_kept(before, before[1:], run)
    assert "before this run" in log_kept(before, [*before, E(T0, "x")], run)
    assert counters_kept({"SC Times": 2}, {"SC Times": 2, "Bat UV Times": 1}) == []
    assert counters_kept({"SC Times": 2}, {"SC Times": 0}) == ["SC Times"]


@dataclass(frozen=True)
class L:
    time: datetime
    code: str
    pack_v: float = 51.2
    cell_low_v: float = 3.2


def test_the_cut_off_is_judged_against_the_stored_threshold_of_this_runs_protection() -> None:
    stored = {"pack_uv_prot_v": 47.5, "cell_uv_prot_v": 2.8}
    log = [L(T0 - timedelta(days=90), "pack_uv_prot", pack_v=46.0),   # the field's: not this run
           L(T0 + timedelta(hours=9), "pack_uv_prot", pack_v=47.892),
           L(T0 + timedelta(hours=9, seconds=2), "pack_uv_prot_end")]
    assert cut_off_errors(log, T0, stored) == {"pack": pytest.approx(0.392)}
    weak = [L(T0 + timedelta(hours=9), "cell_uv_prot", cell_low_v=2.786)]
    assert cut_off_errors(weak, T0, stored) == {"cell": pytest.approx(-0.014)}
    assert cut_off_errors(log[:1], T0, stored) == {}


def test_one_glitching_report_is_a_jump_and_moves_no_median() -> None:
    steady = [3.300, 3.301, 3.299]
    readings = [[v, 3.290 + k * 0.001] for k, v in enumerate(steady * 3)]
    readings[4][1] -= 0.4   # cell 2's lead open on one report
    assert reading_jump(readings) == (2, pytest.approx(0.4, abs=0.002))
    assert cells_median(readings)[1] == pytest.approx(3.295, abs=0.002)
    assert reading_jump([r[:1] for r in readings])[1] <= 0.0011
