"""``station msa type1`` on the golden unit: real EOL runs with fresh noise per repeat, the
table, the JSON and the PDF agree with the run records; refusals cost no run."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from fixtures.plugin import DEFAULT_STATION
from reports.msa.runs import RunSpec, run_one
from reports.record import Record
from stations.cli import app

SEED = 3


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("type1")
    result = CliRunner().invoke(app, ["msa", "type1", "--repeats", "2", "--reference-runs", "1",
                                      "--seed", str(SEED), "--out", str(out)])
    folder = out / "type1-001"
    data = json.loads((folder / "type1.json").read_text(encoding="utf-8"))
    runs = {p.name: Record.load(next(p.glob("PV5*.json"))) for p in (folder / "runs").iterdir()}
    return {"result": result, "folder": folder, "json": data, "runs": runs,
            "by_name": {r["name"]: r for r in data["results"]}}


def _values(records: list[Record], name: str) -> list[float]:
    return [float(r.measurement(name).value) for r in records]  # type: ignore[arg-type]


def test_each_repeat_is_a_real_run_with_its_own_noise(study: dict[str, Any]) -> None:
    runs = study["runs"]
    assert sorted(runs) == ["r001", "r002", "x001"]
    assert all(r.verdict == "PASS" and r.serial == "PV5S260100000013" for r in runs.values())
    assert study["json"]["seeds"] == [SEED, SEED + 1]
    volts = _values([runs[k] for k in ("r001", "r002", "x001")], "terminal_voltage_v")
    assert len(set(volts)) == 3, "repeats on the simulated bench must see fresh noise"


def test_the_same_seed_gives_the_same_run(study: dict[str, Any], tmp_path: Path) -> None:
    """The default run stays reproducible: the first repeat's seed again, the same values."""
    again = run_one(RunSpec("again", "PV5S260100000013", DEFAULT_STATION, tmp_path, SEED))
    first, second = study["runs"]["r001"], again.record()
    assert second is not None
    numeric = [m.name for m in first.measurements if isinstance(m.value, float)]
    assert [second.measurement(n).value for n in numeric] == \
        [first.measurement(n).value for n in numeric]


def test_cg_and_cgk_follow_from_the_recorded_values(study: dict[str, Any]) -> None:
    runs = [study["runs"][k] for k in ("r001", "r002")]
    r = study["by_name"]["terminal_voltage_v"]
    values = _values(runs, "terminal_voltage_v")
    s, mean = statistics.stdev(values), statistics.fmean(values)
    spec = runs[0].measurement("terminal_voltage_v").limit
    t = spec.high - spec.low                                          # type: ignore[operator]
    assert r["values"] == values and r["reference"] == 52.640 and r["reference_stated"]
    assert r["cg"] == pytest.approx(0.2 * t / (6 * s))
    assert r["cgk"] == pytest.approx((0.1 * t - abs(mean - 52.640)) / (3 * s))
    table = study["result"].stdout
    row = next(line for line in table.splitlines() if "terminal_voltage_v" in line)
    assert f"{r['cg']:.3g}" in row and f"{r['cgk']:.3g}" in row


def test_constant_readings_say_resolution_limited(study: dict[str, Any]) -> None:
    r = study["by_name"]["peak_tier_trip_s"]
    assert r["status"] == "no variation (resolution-limited)"
    assert r["cg"] is None and r["resolution"] == 0.001 and r["resolution_stated"]
    row = next(line for line in study["result"].stdout.splitlines() if "peak_tier_trip_s" in line)
    assert "no variation (resolution-limited), resolution 0.001" in row


def test_unstated_references_come_from_the_reference_run_and_are_flagged(
        study: dict[str, Any]) -> None:
    data, ref_run = study["json"], study["runs"]["x001"]
    assert set(data["flagged_reference"]) == {"pack_clock_error_s", "shipping_soc_pct"}
    r = study["by_name"]["shipping_soc_pct"]
    assert not r["reference_stated"]
    assert r["reference"] == ref_run.measurement("shipping_soc_pct").value
    assert "x_m from reference runs: pack_clock_error_s, shipping_soc_pct" in \
        study["result"].stdout


def test_exit_code_pdf_and_json_agree(study: dict[str, Any]) -> None:
    data, result = study["json"], study["result"]
    not_capable = [r["name"] for r in data["results"] if r["status"] == "not capable"]
    assert result.exit_code == (1 if not_capable else 0), result.output
    text = " ".join(p.extract_text() for p in PdfReader(study["folder"] / "type1.pdf").pages)
    assert "Type-1 gauge study: PV5S260100000013 (v5) on station SIM-01" in text
    assert "Cg and Cgk per measurement" in text and "Run charts" in text
    for r in data["results"]:
        assert r["name"] in text
    assert f"{study['by_name']['terminal_voltage_v']['cg']:.3g}" in text


@pytest.mark.parametrize(("args", "complaint"), [
    (["--repeats", "1"], "--repeats 1"),
    (["--serial", "PV5S260100000021"], "no reference file for PV5S260100000021"),
    (["--jobs", "0"], "--jobs 0"),
])
def test_bad_input_is_refused_before_any_run(args: list[str], complaint: str,
                                             tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["msa", "type1", "--out", str(tmp_path), *args])
    assert result.exit_code == 3, result.output
    assert "refused" in result.output and complaint in result.output
    assert not list(tmp_path.rglob("*.json"))
