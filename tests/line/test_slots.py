"""Four slots of one simulated station run a lot at once without interference; the shared
chamber is never driven by two slots at once. (8 units, a two-step development run each,
to keep the suite's time: the 40-unit lot of the full plan is `station line lot`.)"""

from __future__ import annotations

from pathlib import Path

from sim.unit import default_unit, with_change, write_unit
from stations.line_lot import run_lot
from stations.shared import overlaps
from tests.line.helpers import station_file


def test_four_slots_run_a_lot_without_interference(tmp_path: Path) -> None:
    from common.serial_number import make_serial

    station, _ = station_file(tmp_path, source="sim-line.toml")
    units = tmp_path / "units"
    units.mkdir()
    serials = [make_serial("S", 26, 2, 100 + k) for k in range(8)]
    for s in serials[:7]:
        write_unit(default_unit("v5", s), units / f"{s}.toml")
    bad = serials[7]   # one off-spec unit: its verdict must stay its own
    write_unit(with_change(default_unit("v5", bad), "identity.fw_main", "2.2.9"), units / f"{bad}.toml")
    summary = run_lot(station, units, tmp_path / "out", select=["-k", "identity or power_on"])
    assert summary.ok, summary.text()
    assert {s: v for s, v in summary.verdicts.items()} == {
        **{s: "PASS" for s in serials[:7]}, bad: "FAIL"}
    assert set(summary.slots.values()) == {"A", "B", "C", "D"}   # all four took units
    assert summary.chamber_commands >= 16 and summary.chamber_overlaps == []


def test_the_overlap_check_sees_two_slots_in_the_chamber(tmp_path: Path) -> None:
    log = tmp_path / "chamber.log"
    log.write_text('{"slot":"A","pid":1,"event":"begin","what":"set_temperature"}\n'
                   '{"slot":"B","pid":2,"event":"begin","what":"safe_state"}\n'
                   '{"slot":"A","pid":1,"event":"end","what":"set_temperature"}\n'
                   '{"slot":"B","pid":2,"event":"end","what":"safe_state"}\n')
    assert len(overlaps(log)) == 1
