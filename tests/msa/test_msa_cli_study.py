"""``station study``: in-spec units and faults of the table run through the plan and land in
the confusion matrix; a wrong expectation and an escape are detected and fail the study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from reports.msa.study import Case, CaseResult, Failing, summarize
from sim.faults import FAULTS
from stations.cli import app

EXPECTED = {f.id: f.first_failure for f in FAULTS}


def _study(out: Path, *args: str) -> tuple[object, dict, str]:
    result = CliRunner().invoke(app, ["study", "--out", str(out), *args])
    folder = out / "study-001"
    data = json.loads((folder / "study.json").read_text(encoding="utf-8"))
    text = " ".join(p.extract_text() for p in PdfReader(folder / "study.pdf").pages)
    return result, data, text


def test_good_units_pass_and_faults_are_caught_where_they_should(tmp_path: Path) -> None:
    result, data, text = _study(tmp_path, "--population", "1", "--seed", "11",
                                "--fault", "blink1", "--fault", "fw-main")
    assert result.exit_code == 0, result.output
    assert (data["good"], data["good_passed"], data["false_rejects"]) == (1, 1, 0)
    assert (data["faulty"], data["caught"], data["escapes"], data["wrong_catches"]) == (2, 2, 0, 0)
    faults = {r["case"]["id"]: r for r in data["results"] if r["case"]["kind"] == "fault"}
    for fid, r in faults.items():
        assert r["first_failure"] == EXPECTED[fid] and r["outcome"] == "ok"
        assert r["fault_named"], "the record names the fault it saw"
    out = result.stdout
    assert "good units (1)" in out and "false-reject rate 0.0 %" in out
    assert "blink1" in out and EXPECTED["blink1"] in out
    assert "Confusion matrix" in text and "false-reject rate 0.0 %" in text
    assert "2 of 2 faults caught at their covering measurement." in text


def test_a_wrong_expectation_and_an_escape_fail_the_study(tmp_path: Path) -> None:
    table = tmp_path / "faults.toml"
    table.write_text(
        '[[fault]]\nid = "blink1-wrong"\nkey = "timing.blink1_on_s"\nvalue = 0.5\n'
        'first_failure = "led_power_on_s"\ndescription = "the same fault, a wrong expectation"\n'
        '[[fault]]\nid = "harmless"\nkey = "sensors.current.offset"\nvalue = 0.05\n'
        'first_failure = "bms_current_error_rest_a"\n'
        'description = "an offset well inside the accuracy: not a fault at all"\n',
        encoding="utf-8")
    result, data, text = _study(tmp_path, "--population", "0", "--faults", str(table))
    assert result.exit_code == 1, result.output
    assert (data["wrong_catches"], data["escapes"], data["caught"]) == (1, 1, 1)
    by_id = {r["case"]["id"]: r for r in data["results"]}
    wrong = by_id["blink1-wrong"]
    assert wrong["outcome"] == "wrong catch"
    assert wrong["first_failure"] == EXPECTED["blink1"] != "led_power_on_s"
    assert by_id["harmless"]["outcome"] == "escape" and by_id["harmless"]["verdict"] == "PASS"
    assert data["escape_rate"] == pytest.approx(0.5)
    assert "wrong catch" in result.stdout and "escape rate 50.0 %" in result.stdout
    assert "not: blink1-wrong, harmless" in text


@pytest.mark.parametrize(("args", "complaint"), [
    (["--fault", "no-such-fault"], "--fault no-such-fault: no such fault"),
    (["--population", "0", "--no-faults"], "nothing to study"),
    (["--population", "-1"], "--population -1"),
])
def test_bad_input_is_refused_before_any_run(args: list[str], complaint: str,
                                             tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["study", "--out", str(tmp_path), *args])
    assert result.exit_code == 3 and complaint in result.output, result.output
    assert not list(tmp_path.rglob("*.json"))


def test_a_fault_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "faults.toml"
    table.write_text('[[fault]]\nid = "x"\nkey = "sensors.nothing"\nvalue = 1\n'
                     'first_failure = "ocv_v"\ndescription = "?"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["study", "--population", "0", "--faults", str(table),
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code == 3 and "fault x:" in result.output, result.output


def test_rates_and_what_rejected_the_good_units() -> None:
    def res(kind: str, outcome: str, failing: tuple[str, ...] = ()) -> CaseResult:
        case = Case(kind, f"{kind}{outcome}", "PV5S260100000013")   # type: ignore[arg-type]
        return CaseResult(case, outcome, "FAIL", 1, None,
                          tuple(Failing(n, "1", "≤ 0", "") for n in failing))

    s = summarize([res("good", "ok"), res("good", "false reject", ("ocv_v", "dip_setting")),
                   res("good", "false reject", ("ocv_v",)), res("good", "ok"),
                   res("fault", "ok"), res("fault", "escape"), res("fault", "wrong catch"),
                   res("fault", "error")])
    assert s.false_reject_rate == pytest.approx(0.5)
    assert s.escape_rate == pytest.approx(0.25)
    assert s.rejected_by == {"ocv_v": 2, "dip_setting": 1}
    assert (s.caught, s.wrong_catches, s.errors) == (2, 1, 1) and not s.clean
