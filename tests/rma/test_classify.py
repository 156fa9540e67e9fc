"""The classification rules on their own (pure): order, evidence, NOT RUN, and the
thresholds from the limits document's [rma] (not from the code)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from testplans.limits import load_limits
from testplans.rma.classify import CLASSES, Findings, classify

TH: dict[str, Any] = dict(load_limits("v5", "rma").data.rma)


def healthy(**change: Any) -> Findings:
    """A pack that measured fine everywhere, with ``change`` applied."""
    f = Findings(red_flags=[], gate_failures=[], fw_not_released=[], parameters_differ=[],
                 soc_error_pct=3.0, accuracy_failures=[], stuck_sensors=[], balancing="working",
                 mosfet_failures=[], bond_ohm=0.02, dcr_ohm=0.0166, dcr_eol_ohm=0.0167,
                 cells_dcir_sum_ohm=0.0146, cell_dcir_ratio_max=(3, 1.02),
                 cell_dcir_rise_max=(3, 1.01), measured_soh_pct=96.4, limiting_cell=5,
                 rest_spread_v=0.002, drift_max_v_day=(2, 0.0003), sc_times=0, coc_doc_times=0,
                 charge_below_0c=0, input_ov_times=0, rv_times=0, uv_span_max_h=0.0,
                 cycles=420, age_years=1.8, cut_off_error_v={"pack": -0.008}, tier_trip_s=15.75,
                 tier_release_s=30.0, in1_problem="", link_modules={"port0": 2, "port1": 2},
                 cell_reading_jump=(4, 0.002))
    return replace(f, **change)


def test_a_healthy_pack_is_no_fault_found_with_system_side_causes() -> None:
    d = classify(healthy(), TH)
    assert (d.primary, d.rule, d.not_run) == ("NO FAULT FOUND", "no_fault_found", ())
    assert d.as_dict()["system_side_causes"] and d.disposition == "return to customer"


@pytest.mark.parametrize(("change", "cls", "rule"), [
    ({"red_flags": ["swelling"]}, "UNSAFE", "intake_red_flag"),
    ({"gate_failures": ["insulation_mohm: 2 below 10"]}, "UNSAFE", "gate_failed"),
    ({"fw_not_released": ["fw_main 2.2.7"]}, "FIRMWARE", "firmware_not_released"),
    ({"parameters_differ": ["cell_uv_alarm_v 2.9"]}, "FIRMWARE", "parameters_not_released"),
    ({"soc_error_pct": 10.5}, "FIRMWARE", "soc_error"),
    ({"stuck_sensors": ["mosfet -40.0 °C"]}, "BMS", "sensor_stuck"),
    ({"accuracy_failures": ["bms_current_error_charge_a 2.0 A"]}, "BMS", "bms_accuracy"),
    ({"balancing": "inert"}, "BMS", "balancing_inert"),
    ({"mosfet_failures": ["the discharge path does not conduct"]}, "BMS", "mosfet_stuck"),
    ({"cut_off_error_v": {"pack": 0.151}}, "BMS", "protection_wrong"),
    ({"cut_off_error_v": {"cell": -0.051}}, "BMS", "protection_wrong"),
    ({"tier_trip_s": 16.51}, "BMS", "protection_wrong"),
    ({"tier_trip_s": 14.99}, "BMS", "protection_wrong"),
    ({"tier_release_s": 31.01}, "BMS", "protection_wrong"),
    ({"tier_trip_s": None, "tier_release_s": None, "tier_no_trip": "no trip within 18 s"},
     "BMS", "protection_wrong"),
    ({"in1_problem": "IN1 applied: the paths did not both open"}, "BMS", "in1_ignored"),
    ({"in1_problem": "IN1 removed: the paths did not conduct again"}, "BMS", "in1_ignored"),
    ({"link_modules": {"port0": 2, "port1": 1}}, "BMS", "port_dead"),
    ({"link_modules": {"port0": 1, "port1": 1}}, "BMS", "port_dead"),
    ({"dcr_ohm": 0.0260, "cells_dcir_sum_ohm": 0.0146}, "WIRING", "dcr_rise_path"),
    ({"bond_ohm": 0.15}, "WIRING", "bond_high"),
    ({"cell_reading_jump": (6, 0.051)}, "WIRING", "cell_reading_intermittent"),
    ({"cell_dcir_ratio_max": (7, 1.6)}, "CELL", "cell_dcir_median"),
    ({"cell_dcir_rise_max": (7, 1.6)}, "CELL", "cell_dcir_baseline"),
    ({"measured_soh_pct": 69.0}, "CELL", "soh_below_min"),
    ({"rest_spread_v": 0.051}, "CELL", "rest_spread"),
    ({"drift_max_v_day": (4, -0.0021)}, "CELL", "self_discharge_drift"),
    ({"sc_times": 1}, "MISUSE", "short_circuit"),
    ({"coc_doc_times": 2}, "MISUSE", "over_current"),
    ({"uv_span_max_h": 12.5}, "MISUSE", "uv_span"),
    ({"charge_below_0c": 1}, "MISUSE", "charge_below_0c"),
    ({"input_ov_times": 1}, "MISUSE", "input_ov"),
    ({"rv_times": 1}, "MISUSE", "reversal"),
    ({"measured_soh_pct": 75.0, "cycles": 6000}, "WEAR-OUT", "wear_out"),
    ({"measured_soh_pct": 79.9, "age_years": 10.0}, "WEAR-OUT", "wear_out"),
])
def test_each_rule_fires_alone_at_its_threshold(change: dict[str, Any], cls: str, rule: str) -> None:
    d = classify(healthy(**change), TH)
    assert (d.primary, d.rule, d.classes) == (cls, rule, (cls,)), d.matches


@pytest.mark.parametrize("change", [
    {"soc_error_pct": 10.0}, {"uv_span_max_h": 12.0}, {"measured_soh_pct": 70.0},
    {"measured_soh_pct": 80.0, "cycles": 7000}, {"measured_soh_pct": 75.0, "cycles": 5999},
    {"rest_spread_v": 0.050}, {"drift_max_v_day": (4, 0.002)}, {"cell_dcir_ratio_max": (1, 1.5)},
    {"bond_ohm": 0.1}, {"cut_off_error_v": {"pack": 0.15, "cell": -0.05}},
    {"tier_trip_s": 16.5}, {"tier_trip_s": 15.0}, {"tier_release_s": 29.0},
    {"cell_reading_jump": (6, 0.050)},
    # pack DCR up 1.6 × with the cells themselves above the EOL pack value: not the path
    {"dcr_ohm": 0.0267, "cells_dcir_sum_ohm": 0.0250},
])
def test_at_the_threshold_or_on_the_healthy_side_nothing_fires(change: dict[str, Any]) -> None:
    assert classify(healthy(**change), TH).primary == "NO FAULT FOUND"


def test_the_first_match_in_the_table_order_is_primary_and_every_match_is_listed() -> None:
    d = classify(healthy(sc_times=1, measured_soh_pct=60.0, limiting_cell=9, bond_ohm=0.3,
                         fw_not_released=["fw_main 2.2.7"]), TH)
    assert d.primary == "FIRMWARE" and d.classes == ("FIRMWARE", "WIRING", "CELL", "MISUSE")
    cell = next(m for m in d.matches if m.cls == "CELL")
    assert "limited by cell 09" in cell.evidence and "60.0 %" in cell.evidence


def test_a_soc_error_counts_as_firmware_only_on_healthy_cells() -> None:
    d = classify(healthy(soc_error_pct=25.0, measured_soh_pct=62.0), TH)
    assert d.classes == ("CELL",)


def test_without_a_baseline_the_comparisons_are_not_run_never_guessed() -> None:
    d = classify(healthy(dcr_eol_ohm=None, cell_dcir_rise_max=None, dcr_ohm=0.05), TH)
    assert d.primary == "NO FAULT FOUND"
    lacking = dict(d.not_run)
    assert set(lacking) == {"dcr_rise_path", "cell_dcir_baseline"}
    assert "EOL baseline" in lacking["dcr_rise_path"]


def test_targeted_checks_that_did_not_run_are_not_run_never_guessed() -> None:
    d = classify(healthy(cut_off_error_v=None, tier_trip_s=None, tier_release_s=None,
                         in1_problem=None, link_modules=None, cell_reading_jump=None), TH)
    assert d.primary == "NO FAULT FOUND"
    assert set(dict(d.not_run)) == {"protection_wrong", "in1_ignored", "port_dead",
                                    "cell_reading_intermittent"}
    # only the tier ran (the claim spoke of trips): the protections are judged on it alone
    d = classify(healthy(cut_off_error_v=None, tier_trip_s=17.3), TH)
    assert d.rule == "protection_wrong" and "17.30 s" in d.matches[0].evidence


def test_the_protection_evidence_names_each_fault() -> None:
    d = classify(healthy(cut_off_error_v={"pack": 0.394}, tier_release_s=33.0), TH)
    assert d.matches[0].evidence == ("pack under-voltage protection +394 mV from its stored "
                                     "threshold (> ±150 mV); 15 s tier release after 33.00 s "
                                     "(station limits 29-31 s)")
    assert classify(healthy(link_modules={"port0": 1, "port1": 2}), TH).matches[0].evidence == \
        "no link through Link Port 0 (1 of 2 modules)"


def test_an_ended_diagnosis_lists_what_it_could_not_judge() -> None:
    d = classify(Findings(red_flags=["burns"]), TH)
    assert d.primary == "UNSAFE" and d.disposition == "scrap"
    assert {"bms_accuracy", "soh_below_min", "short_circuit", "wear_out"} <= dict(d.not_run).keys()


def test_thresholds_come_from_the_limits_document() -> None:
    lenient = {**TH, "uv_span_max_h": 100.0, "soh_min_pct": 50.0, "wear_soh_max_pct": 55.0}
    f = healthy(uv_span_max_h=70.0, measured_soh_pct=60.0)
    assert classify(f, TH).classes == ("CELL", "MISUSE")
    assert classify(f, lenient).primary == "NO FAULT FOUND"


def test_the_classes_are_the_table_of_cert_rma() -> None:
    assert CLASSES == ("UNSAFE", "FIRMWARE", "BMS", "WIRING", "CELL", "MISUSE", "WEAR-OUT",
                       "NO FAULT FOUND")
    limits = load_limits("v5", "rma")
    declared = next(d for d in limits.data.measurement if d.name == "rma_class")
    assert tuple(declared.one_of) == CLASSES   # type: ignore[arg-type]


#: Measurement limits that must equal the [rma] threshold of the same rule.
PAIRS = [("cell_dcir_ratio_max", "high", "cell_dcir_median_max", 1.0),
         ("cell_dcir_rise_max", "high", "cell_dcir_rise_max", 1.0),
         ("dcr_rise_ratio", "high", "dcr_rise_max", 1.0),
         ("measured_soh_pct", "low", "soh_min_pct", 1.0),
         ("uv_span_max_h", "high", "uv_span_max_h", 1.0),
         ("bms_soc_error_pct", "high", "soc_error_max_pct", 1.0),
         ("ground_bond_ohm", "high", "bond_max_ohm", 1.0),
         ("terminal_voltage_v", "low", "deeply_discharged_v", 1.0),
         ("rest_spread_20_80_mv", "high", "rest_spread_max_v", 1e3),
         ("cell_drift_max_mv_day", "high", "drift_max_v_per_day", 1e3),
         ("cut_off_pack_uv_error_v", "high", "cut_off_pack_tol_v", 1.0),
         ("cut_off_cell_uv_error_v", "high", "cut_off_cell_tol_v", 1.0),
         ("cell_reading_jump_max_mv", "high", "cell_reading_jump_v", 1e3),
         ("link_port0_modules", "expect", "link_modules", 1.0),
         ("link_port1_modules", "expect", "link_modules", 1.0)]


def test_the_tier_limits_and_their_rule_thresholds_agree() -> None:
    for model in ("v5", "v5-alpha", "v5-alpha-plus"):
        limits = load_limits(model, "rma")
        for name in ("tier_trip_s", "tier_release_s"):
            d = next(d for d in limits.data.measurement if d.name == name)
            assert [d.low, d.high] == limits.data.rma[name], (model, name)
        for kind in ("pack", "cell"):
            d = next(d for d in limits.data.measurement if d.name == f"cut_off_{kind}_uv_error_v")
            assert d.low == -limits.data.rma[f"cut_off_{kind}_tol_v"], (model, kind)


@pytest.mark.parametrize(("name", "side", "key", "scale"), PAIRS, ids=[p[0] for p in PAIRS])
def test_a_measurement_limit_and_its_rule_threshold_agree(name: str, side: str, key: str,
                                                          scale: float) -> None:
    for model in ("v5", "v5-alpha", "v5-alpha-plus"):
        limits = load_limits(model, "rma")
        d = next(d for d in limits.data.measurement if d.name == name)
        assert getattr(d, side) == pytest.approx(limits.data.rma[key] * scale), (model, name)


def test_an_unreadable_intake_file_refuses_the_run_before_anything_is_switched_on(tmp_path) -> None:
    from fixtures.engine import REFUSED, execute
    from fixtures.plugin import SERVICE_STATION
    from fixtures.session import RunRequest

    bad = tmp_path / "intake.toml"
    bad.write_text("claim = [unclosed\n", encoding="utf-8")
    result = execute(RunRequest(plan="rma", serial="PV5S24030000013E", station_file=SERVICE_STATION,
                                out_dir=tmp_path / "out", intake=bad))
    assert result.exit_code == REFUSED and result.record is None
    assert "--intake" in (result.refused or "")
