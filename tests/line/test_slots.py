"""Four slots of one simulated station run a lot at once without interference; the shared
chamber is never driven by two slots at once. (A few units, a two-step development run
each, to keep the suite's time: the 40-unit lot of the full plan is `station line lot`,
which checks the same conditions itself.)"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sim.unit import default_unit, with_change, write_unit
from stations.line_lot import _verify, parse_expected, run_lot
from stations.shared import overlaps
from tests.line.helpers import station_file

SHORT = ["-k", "identity or power_on"]


def _units(folder: Path, n: int, series: int) -> tuple[list[str], str]:
    """``n`` good units and one off-spec (its firmware): the serials, the bad one's."""
    from common.serial_number import make_serial

    folder.mkdir()
    serials = [make_serial("S", 26, series, 100 + k) for k in range(n + 1)]
    for s in serials[:n]:
        write_unit(default_unit("v5", s), folder / f"{s}.toml")
    bad = serials[n]
    write_unit(with_change(default_unit("v5", bad), "identity.fw_main", "2.2.9"),
               folder / f"{bad}.toml")
    return serials[:n], bad


def test_four_slots_run_a_lot_without_interference(tmp_path: Path) -> None:
    station, _ = station_file(tmp_path, source="sim-line.toml")
    good, bad = _units(tmp_path / "units", 5, 2)
    out = tmp_path / "out"
    summary = run_lot(station, tmp_path / "units", out, select=SHORT, expected={bad: "FAIL"})
    assert summary.ok, summary.text()
    assert summary.verdicts == {**{s: "PASS" for s in good}, bad: "FAIL"}
    assert set(summary.slots.values()) == {"A", "B", "C", "D"}   # all four took units
    assert summary.verified == 6
    assert summary.chamber_commands >= 12 and summary.chamber_overlaps == []
    assert "no interference" in summary.text()
    # the lot's own verification finds a record edited after the run
    record = next(out.glob(f"{good[0]}*.json"))
    data = json.loads(record.read_bytes())
    data["measurements"][0]["value"] = "edited"
    record.write_text(json.dumps(data))
    assert _verify(record, good[0], data["station"]["id"], None)


def test_the_lot_command_exits_1_on_a_verdict_not_expected(tmp_path: Path) -> None:
    from stations.cli import app

    station, _ = station_file(tmp_path, source="sim-line.toml", slots=2)
    good, bad = _units(tmp_path / "units", 1, 3)
    result = CliRunner().invoke(app, ["line", "lot", "--units", str(tmp_path / "units"),
                                      "--station", str(station), "--out", str(tmp_path / "out"),
                                      "--plan", "eol", "--expect", f"{good[0]}=FAIL",
                                      "--expect", f"{bad}=fail"])
    assert result.exit_code == 1, result.output
    assert f"{good[0]} (slot " in result.output and "PASS, expected FAIL" in result.output
    assert "records verified: 2 of 2" in result.output and "INTERFERENCE: 1 problems" in result.output


def test_an_expectation_is_checked_before_anything_runs() -> None:
    import pytest

    with pytest.raises(ValueError, match=r"'PV5S=GOOD'.*SERIAL=VERDICT"):
        parse_expected(["PV5S=GOOD"])


def test_the_overlap_check_sees_two_slots_in_the_chamber(tmp_path: Path) -> None:
    log = tmp_path / "chamber.log"
    log.write_text('{"slot":"A","pid":1,"event":"begin","what":"set_temperature"}\n'
                   '{"slot":"B","pid":2,"event":"begin","what":"safe_state"}\n'
                   '{"slot":"A","pid":1,"event":"end","what":"set_temperature"}\n'
                   '{"slot":"B","pid":2,"event":"end","what":"safe_state"}\n')
    assert len(overlaps(log)) == 1
