"""`station run rma` on returned packs made from EOL-tested units: the class, the rule that
fires first and every contributing class, with the baseline from the store (one real EOL run
for the module, its store copied to each scenario) or without it (NOT RUN, said so); the
report read back from its PDF and re-rendered by `station report rma`. Full runs cost about
7-8 s CPU each, so seven run here (the seventh for R11's suspicion path and its twin defect);
every scenario runs in `python -m benchmarks.bench_rma`, and the findings those real runs
produced are classified again in test_scenario_findings.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest
from typer.testing import CliRunner

from benchmarks.bench_rma import STORE, Outcome, run_eol, run_rma
from sim.rma_scenarios import load

FULL = ["nff_golden", "nff_no_eol_record", "unsafe_swelling", "bms_discharge_mosfet",
        "wiring_busbar", "mixed_deep_discharge_weak_cell", "mixed_sense_lead_series"]


@pytest.fixture(scope="module")
def baseline_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real EOL run of the factory-fresh unit the scenarios share: its store."""
    out = tmp_path_factory.mktemp("eol")
    run_eol(load("nff_golden"), out)
    return out / STORE


@pytest.fixture(scope="module")
def outcomes(baseline_store: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Callable[[str], Outcome]:
    done: dict[str, Outcome] = {}

    def get(name: str) -> Outcome:
        if name not in done:
            done[name] = run_rma(load(name), tmp_path_factory.mktemp(name),
                                 store_from=baseline_store)
        return done[name]

    return get


@pytest.mark.parametrize("name", FULL)
def test_the_scenario_gets_its_class_and_rule_and_nothing_else(name: str, outcomes) -> None:
    o = outcomes(name)
    d = o.diagnosis
    assert (d["primary"], d["rule"]) == (o.scenario.primary, o.scenario.rule), d["matches"]
    assert o.classes == o.scenario.classes, d["matches"]
    rec = o.record
    assert rec.measurement("rma_class").value == o.scenario.primary
    assert rec.measurement("rma_rule").value == o.scenario.rule
    # a pack that left the factory good and was read only: history and clock untouched
    if rec.measurement("history_untouched").outcome != "NOT_RUN":
        assert rec.measurement("history_untouched").outcome == "PASS"
        assert rec.measurement("pack_clock_error_s").outcome == "PASS"
        assert rec.measurement("test_mode_off").value is True
    assert (o.record.verdict == "PASS") == (o.scenario.primary == "NO FAULT FOUND")


def test_a_full_diagnosis_simulates_a_day_and_a_half_and_ends_safe(outcomes) -> None:
    o = outcomes("nff_golden")
    rec = o.record
    assert 20 * 3600 < (rec.duration_s or 0) < 48 * 3600   # 14-20 h of tests + the 24 h rest
    finish = rec.measurement("finish_soc_pct")
    assert finish.outcome == "PASS" and 40 <= finish.value <= 60
    assert rec.measurement("dcr_rise_ratio").outcome == "PASS"
    assert 0.9 < rec.measurement("dcr_rise_ratio").value < 1.1   # the same pack as at EOL
    assert rec.measurement("capacity_ah").value > 90
    kept = [a.name for a in rec.attachments]
    for cmd in ("info", "pwr", "pwr_1", "bat_1", "soh_1", "stat", "log", "data_event", "time"):
        assert any(re.fullmatch(rf"dump_\d\d_{cmd}\.txt", n) for n in kept), cmd


R11 = ("cut_off_pack_uv_error_v", "cell_reading_jump_max_mv", "link_port0_modules",
       "link_port1_modules", "tier_trip_s", "tier_release_s")


def test_every_targeted_check_the_claim_points_at_runs_and_finds_nothing_on_a_healthy_pack(
        outcomes) -> None:
    rec = outcomes("nff_golden").record   # its claim points at all four checks
    assert all(rec.measurement(n).outcome == "PASS" for n in R11), \
        [(n, rec.measurement(n).outcome, rec.measurement(n).message) for n in R11]
    assert rec.measurement("cut_off_cell_uv_error_v").outcome == "NOT_RUN"   # the pack UV cut off
    assert abs(rec.measurement("cut_off_pack_uv_error_v").value) < 0.05
    assert 15.0 <= rec.measurement("tier_trip_s").value <= 16.5
    assert rec.measurement("link_port1_modules").value == 2


def test_a_check_the_claim_does_not_point_at_is_not_run_unless_a_finding_suspects_it(
        outcomes) -> None:
    rec = outcomes("mixed_sense_lead_series").record   # the default claim: capacity drops
    pointed = rec.measurement("targeted_checks").value
    assert "cut_off: the claim says 'capacity'" in pointed
    assert "cell_readings: at R05 cell 11 read" in pointed and "ports" not in pointed
    jump = rec.measurement("cell_reading_jump_max_mv")
    assert jump.outcome == "FAIL" and 350 < jump.value < 450 and "cell 11" in jump.message
    for name in ("link_port0_modules", "tier_trip_s"):
        m = rec.measurement(name)
        assert m.outcome == "NOT_RUN" and "neither the claim nor a finding" in m.message
    # one report in seven off by 0.4 V moves no median: no cell finding, the spread is true
    assert rec.measurement("rest_spread_20_80_mv").value < 10   # mV
    assert rec.measurement("cell_dcir_ratio_max").outcome == "PASS"


def test_without_an_eol_record_the_comparisons_are_not_run_and_say_so(outcomes) -> None:
    rec = outcomes("nff_no_eol_record").record
    for name in ("dcr_rise_ratio", "cell_dcir_rise_max"):
        m = rec.measurement(name)
        assert m.outcome == "NOT_RUN" and "no PASS EOL record" in m.message
    assert rec.measurement("dcr_mohm").outcome == "PASS"   # measured, only not compared
    assert rec.verdict == "PASS"   # a declined comparison is no error of the run
    d = outcomes("nff_no_eol_record").diagnosis
    assert {"dcr_rise_path", "cell_dcir_baseline"} <= {r["rule"] for r in d["not_run"]}


def test_a_red_flag_ends_the_diagnosis_before_anything_is_switched_on(outcomes) -> None:
    rec = outcomes("unsafe_swelling").record
    assert rec.measurement("intake_red_flags").value == "swelling"
    assert rec.measurement("insulation_mohm").outcome == "NOT_RUN"
    assert (rec.duration_s or 0) < 60


def test_the_report_carries_the_class_rule_evidence_hashes_and_re_renders(outcomes) -> None:
    o = outcomes("mixed_deep_discharge_weak_cell")
    pdf = next(o.out.glob(f"{o.record.serial}_20260105*.pdf"))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages))
    assert "Class: CELL" in text and "rule: soh_below_min" in text
    assert "MISUSE" in text and "uv_span" in text and "cell module replacement" in text
    dump = next(a for a in o.record.attachments if a.name.endswith("_stat.txt"))
    assert dump.sha256 in text.replace(" ", "")
    assert "limiting" in text and "Warranty view" in text and "NOT RUN" in text
    assert "Targeted checks (R11)" in text and "cut_off_cell_uv_error_v" in text
    from stations.cli import app

    again = o.out / "again.pdf"
    result = CliRunner().invoke(app, ["report", "rma", o.record.serial, "--results", str(o.out),
                                      "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert again.read_bytes() == pdf.read_bytes()
    from reports.verify import verify

    checked = verify(pdf.with_suffix(".json"))
    assert any("RMA report" in line and "identical" in line for line in checked.checked)
    assert any(line.startswith("attachment dump_") for line in checked.checked)
    # the store keeps no attachments yet (main's store schema): the only disagreement allowed
    assert all("at attachments" in p for p in checked.problems), checked.problems
