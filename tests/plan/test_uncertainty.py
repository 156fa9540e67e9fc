"""Uncertainty budgets and guarded acceptance: the arithmetic (a case computed by hand), the
guard band at both edges and on one-sided limits, U per station, and every refusal at load
and at run start (no budget, a budget for nothing, no acceptance interval, the rule of ten
broken without a reason, a non-finite figure)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reports.record import Limit
from stations.schema import StationFile, default_station_file, load_station_file
from testplans.limits import LIMITS_DIR, LimitsFileError, load_limits
from testplans.limits.capability import DOC_PATH
from testplans.limits.uncertainty import Budget, evaluate, round_up, station_figures

STATION = load_station_file(default_station_file())
WORK_ORDER = {"serial": "PV5S260100000013", "dip": 0, "address": 2, "heater": True}


def _folder(tmp_path: Path, budget: str | None = None, override_extra: str = "") -> Path:
    """A copy of the EOL limits documents, with a budget file of our own or an override edit."""
    folder = tmp_path / "limits"
    (folder / "eol").mkdir(parents=True)
    for name in ("base.toml", "budget.toml", "v5.toml"):
        (folder / "eol" / name).write_text((LIMITS_DIR / "eol" / name).read_text("utf-8"), "utf-8")
    if budget is not None:
        (folder / "eol" / "budget.toml").write_text(budget, "utf-8")
    if override_extra:
        v5 = folder / "eol" / "v5.toml"
        v5.write_text(v5.read_text("utf-8") + override_extra, "utf-8")
    return folder


def _edited(old: str, new: str) -> str:
    text = (LIMITS_DIR / "eol" / "budget.toml").read_text("utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _uncalibrated() -> StationFile:
    """The simulated station without its DAQ's calibration certificate."""
    data = STATION.model_dump()
    data["instruments"]["daq"]["calibration"] = {}
    return StationFile.model_validate(data)


def _calibrated(**uncertainty: float) -> StationFile:
    """The simulated station with calibration data for its DAQ (standard uncertainties, SI)."""
    data = STATION.model_dump()
    data["instruments"]["daq"]["calibration"] = {"certificate": "CAL-1", "uncertainty": uncertainty}
    return StationFile.model_validate(data)


# -- arithmetic ----------------------------------------------------------------------------

def test_a_budget_computed_by_hand() -> None:
    """bms_pack_voltage_error_v on the simulated station, term by term:
    DAQ970A 100 V range at 53.6 V: ±(0.0040 % × 53.6 V + 0.0006 % × 100 V) = ±2.744 mV,
    u = 2.744/√3 = 1.5842 mV; its 6½-digit step 0.1 mV: u = 0.0289 mV; the BMS's 1 mV step:
    u = 0.2887 mV; the rest drift ±0.5 mV: u = 0.2887 mV. u_c = √(1.5842² + 0.0289² +
    2 × 0.2887²) = 1.6362 mV, 2·u_c = 3.2725 mV, rounded up to two digits: U = 3.3 mV."""
    result = load_limits("v5").uncertainty("bms_pack_voltage_error_v", STATION)
    assert [round(p.u * 1e3, 4) for p in result.parts] == [1.5842, 0.0289, 0.2887, 0.2887]
    assert result.combined == pytest.approx(1.6362e-3, rel=1e-4)
    assert result.expanded == 0.0033
    spec = load_limits("v5").resolve(WORK_ORDER, set(), station=STATION)["bms_pack_voltage_error_v"]
    assert (spec.limit.low, spec.limit.high) == (-0.25, 0.25)             # the spec limit, kept
    assert (spec.limit.accept_low, spec.limit.accept_high) == (-0.2467, 0.2467)
    assert spec.limit.uncertainty == 0.0033 and spec.budget == result


def test_each_kind_of_contribution() -> None:
    budget = Budget.model_validate({"contribution": [
        {"kind": "resolution", "step": 0.1, "count": 4, "what": "r"},        # 0.1/√12·2 = 0.057735
        {"kind": "sampling", "interval_from": "capture_rate_hz", "edges": 2, "what": "s"},  # 1 ms
        {"kind": "sampling", "interval": 0.02, "edges": 1, "scale": 1000.0, "what": "ms"},
        {"kind": "rectangular", "a": 0.3, "what": "a"},                        # 0.3/√3 = 0.173205
        {"kind": "normal", "u": 0.05, "what": "n"},
        {"kind": "exact", "what": "e"},
    ]})
    result = evaluate(budget, station_figures(STATION), {"capture_rate_hz": 1000.0})
    us = [p.u for p in result.parts]
    assert us == pytest.approx([0.057735, 0.001 / math.sqrt(6), 20 / math.sqrt(12),
                                0.173205, 0.05, 0.0], rel=1e-5)
    assert result.expanded == round_up(2 * math.sqrt(sum(u * u for u in us)))


@pytest.mark.parametrize(("x", "up"), [(0.01234, 0.013), (0.0032, 0.0032), (0.0, 0.0),
                                       (99.1, 100.0), (0.00820001, 0.0083), (14.14, 15.0)])
def test_u_is_rounded_up_to_two_significant_digits(x: float, up: float) -> None:
    assert round_up(x) == up


def test_u_differs_by_station_with_its_calibration_data() -> None:
    """The PT100 with calibration data: u_cal 0.02 °C replaces the probe's class A ±0.2 °C:
    U = 2·√((0.06/√3)² + (0.001/√12)² + 0.02² + (0.1/√12)²) = 0.0987 → 0.099 °C."""
    limits = load_limits("v5")
    plain = limits.uncertainty("temp_error_mosfet_c", _uncalibrated()).expanded
    calibrated = limits.uncertainty("temp_error_mosfet_c", _calibrated(temperature_rtd=0.02))
    assert plain == 0.25 and calibrated.expanded == 0.099
    assert any("calibration (station file)" in p.what for p in calibrated.parts)


# -- guarded acceptance --------------------------------------------------------------------

@pytest.mark.parametrize(("value", "outcome", "why"), [
    (53.595, "FAIL", "53.595 V in the guard band: spec ≤ 53.6, U 0.012, accepted ≤ 53.588"),
    (53.588, "PASS", ""), (53.6, "FAIL", "in the guard band"), (53.61, "FAIL", "53.61 V above 53.6"),
    (51.511, "FAIL", "51.511 V in the guard band: spec ≥ 51.5, U 0.012, accepted ≥ 51.512"),
    (51.512, "PASS", ""), (51.49, "FAIL", "below 51.5"), (52.5, "PASS", ""),
    (float("nan"), "ERROR", "non-finite"), (float("inf"), "ERROR", "non-finite"),
])
def test_two_sided_guard_band_at_both_edges(value: float, outcome: str, why: str) -> None:
    got, message = Limit(low=51.5, high=53.6, comparison="range").guarded(0.012).judge(value, "V")
    assert got == outcome and why in message


@pytest.mark.parametrize(("limit", "value", "outcome", "why"), [
    (Limit(low=10.0, comparison="ge").guarded(0.58), 10.3, "FAIL",
     "10.3 MΩ in the guard band: spec ≥ 10, U 0.58, accepted ≥ 10.58"),
    (Limit(low=10.0, comparison="ge").guarded(0.58), 10.58, "PASS", ""),
    (Limit(low=10.0, comparison="ge").guarded(0.58), 9.0, "FAIL", "9 MΩ below 10"),
    (Limit(high=0.3, comparison="le").guarded(0.00082), 0.2995, "FAIL",
     "0.2995 MΩ in the guard band: spec ≤ 0.3, U 0.00082, accepted ≤ 0.29918"),
    (Limit(high=0.3, comparison="le").guarded(0.00082), 0.29918, "PASS", ""),
    (Limit(high=0.3, comparison="le"), 0.2995, "PASS", ""),   # a limit without U: no guard band
])
def test_one_sided_guard_band(limit: Limit, value: float, outcome: str, why: str) -> None:
    assert limit.judge(value, "MΩ") == (outcome, why)


def test_the_limit_keeps_spec_u_and_acceptance_and_prints_the_three() -> None:
    lim = Limit(low=51.5, high=53.6, comparison="range").guarded(0.012)
    assert (lim.low, lim.high, lim.uncertainty, lim.accept_low, lim.accept_high) == (
        51.5, 53.6, 0.012, 51.512, 53.588)
    assert lim.text() == "51.5 … 53.6, U 0.012, accepted 51.512 … 53.588"
    assert Limit(high=0.3, comparison="le").text() == "≤ 0.3"
    with pytest.raises(ValueError, match="no acceptance interval"):
        Limit(low=-0.1, high=0.1, comparison="range").guarded(0.1)
    with pytest.raises(ValueError, match="outside the spec limit"):
        Limit(low=1.0, high=2.0, comparison="range", uncertainty=0.1, accept_low=0.9, accept_high=1.9)
    with pytest.raises(ValueError, match="takes no uncertainty"):
        Limit(expect=True, comparison="eq").guarded(0.1)


# -- refusals ------------------------------------------------------------------------------

def test_a_numeric_measurement_without_budget_is_refused(tmp_path: Path) -> None:
    budget = _edited('[budget.ocv_v]\ncontribution = [\n  { kind = "instrument", role = "daq", '
                     'function = "dc_voltage", at = 53.6, what = "open-circuit voltage on the DAQ, '
                     'at the upper limit" },\n]\n', "")
    with pytest.raises(LimitsFileError, match=r"no uncertainty budget for ocv_v \("):
        load_limits("v5", folder=_folder(tmp_path, budget))


def test_a_budget_leaving_no_acceptance_interval_is_refused(tmp_path: Path) -> None:
    budget = _edited('a = 0.0005, what = "pack at rest between the DAQ and the BMS reading '
                     '(estimate: < 0.5 mV within a second)" },\n]\n\n[budget.bms_cell_sum_error_v]',
                     'a = 0.3, what = "a drift as large as the tolerance" },\n]\n\n'
                     '[budget.bms_cell_sum_error_v]')
    with pytest.raises(LimitsFileError,
                       match=r"'bms_pack_voltage_error_v' for the worst registered dialect: U 0\.35 "
                             r"leaves no acceptance interval inside -0\.25 … 0\.25"):
        load_limits("v5", folder=_folder(tmp_path, budget))


def test_the_rule_of_ten_broken_without_a_reason_is_refused(tmp_path: Path) -> None:
    text = (LIMITS_DIR / "eol" / "budget.toml").read_text("utf-8")
    without = re.sub(r'(\[budget\.pack_clock_error_s\]\n)reason = """.*?"""\n', r"\1", text,
                     count=1, flags=re.S)
    assert without != text
    with pytest.raises(LimitsFileError, match=r"'pack_clock_error_s' .*U 0\.58 is 29 % of the "
                                              r"half tolerance 2 .* gives no reason"):
        load_limits("v5", folder=_folder(tmp_path, without))


def test_a_station_whose_u_breaks_the_rule_is_refused_at_run_start() -> None:
    """The document is fine; a DAQ with a poor calibration (u 0.2 V) gives U = 2·0.20006 V,
    rounded up to 0.41 V: 6 % of the terminal voltage's ±6.5 V, but 39 % of the open-circuit
    voltage's ±1.05 V, whose budget gives no reason."""
    noisy = _calibrated(dc_voltage=0.2)
    with pytest.raises(LimitsFileError, match=r"'ocv_v' on station SIM-01: U 0\.41 is 39 % "
                                              r".*gives no reason"):
        load_limits("v5").resolve(WORK_ORDER, set(), station=noisy)


def test_a_budget_selecting_nothing_is_refused_unless_pending(tmp_path: Path) -> None:
    text = (LIMITS_DIR / "eol" / "budget.toml").read_text("utf-8")
    typo = text + '\n[budget."ocv_*_typo"]\ncontribution = [{ kind = "exact", what = "x" }]\n'
    with pytest.raises(LimitsFileError, match=r"budget 'ocv_\*_typo' selects no numeric measurement"):
        load_limits("v5", folder=_folder(tmp_path / "a", typo))
    announced = text + ('\n[budget."ocv_*_later"]\npending = "announced"\n'
                        'contribution = [{ kind = "exact", what = "x" }]\n')
    limits = load_limits("v5", folder=_folder(tmp_path / "b", announced))
    assert ("ocv_*_later", "announced") in limits.pending


def test_a_budget_for_a_comparison_that_needs_none_is_refused(tmp_path: Path) -> None:
    text = (LIMITS_DIR / "eol" / "budget.toml").read_text("utf-8")
    extra = '\n[budget.device_name]\ncontribution = [{ kind = "exact", what = "x" }]\n'
    with pytest.raises(LimitsFileError, match=r"budget 'device_name': a 'eq' measurement needs no budget"):
        load_limits("v5", folder=_folder(tmp_path, text + extra))


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_a_non_finite_figure_is_refused(bad: str, tmp_path: Path) -> None:
    budget = _edited("at = 53.6, what = \"open-circuit", f"at = {bad}, what = \"open-circuit")
    with pytest.raises(LimitsFileError, match=r"budget\.ocv_v\.contribution\.0.*at"):
        load_limits("v5", folder=_folder(tmp_path, budget))


def test_a_model_override_replaces_a_budget_entry_under_the_documents_hash(tmp_path: Path) -> None:
    extra = '\n[budget.ocv_v]\ncontribution = [{ kind = "rectangular", a = 0.01, what = "x" }]\n'
    changed = load_limits("v5", folder=_folder(tmp_path, override_extra=extra))
    genuine = load_limits("v5")
    assert changed.uncertainty("ocv_v", STATION).expanded == round_up(2 * 0.01 / math.sqrt(3))
    assert genuine.uncertainty("ocv_v", STATION).expanded == 0.0032
    assert changed.sha256 != genuine.sha256


# -- the capability document ------------------------------------------------------------------

def test_the_capability_doc_is_the_commands_output_for_the_simulated_station() -> None:
    from stations.cli import app

    result = CliRunner().invoke(app, ["limits", "capability", "--plan", "eol",
                                      "--station-file", str(default_station_file())])
    assert result.exit_code == 0, result.output
    assert result.output == DOC_PATH.read_text("utf-8"), (
        "docs/measurement-capability.md is stale: station limits capability --out "
        "docs/measurement-capability.md")
    assert "| `led_standby_run_on_s` | s | 0.25 … 0.35 | 0.0083 | 0.2583 … 0.3417 | 16.6 % **>10 %** |" \
        in result.output
    above = result.output.split("Above the rule of ten, and why:")[1].split("## Budgets")[0]
    assert "`pack_clock_error_s`: U 0.58 s, 29.0 %" in above and "`ocv_v`" not in above
