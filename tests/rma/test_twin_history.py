"""The twin ages and remembers: the field's log preloaded with its calendar times, `stat`
counters consistent with it (and cleared with it, as the factory's EOL does), SOHCount per
cell, and the BMS faults only a diagnosis finds."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest

from common.clock import VirtualClock
from sim.pack.pack import SimPack
from sim.unit import UnitFileError, unit_from_dict
from sim.wire.console import Console

EVENTS = [{"time": "2025-05-03T14:12:09Z", "code": "short_prot", "current_a": -812.0},
          {"time": "2025-08-01T02:00:00Z", "code": "cell_uv_prot", "info": "cell08"},
          {"time": "2025-08-04T00:00:00Z", "code": "cell_uv_prot_end", "info": "cell08"}]


def _pack(**sections: object) -> SimPack:
    pack = SimPack(unit_from_dict({"model": "v5", **sections}), VirtualClock())
    pack.set_power_button(True)
    pack.set_sw(True)
    pack.clock.sleep(1.2)
    pack.set_sw(False)
    return pack


def _body(console: Console, line: str) -> list[str]:
    text = console.feed(line.encode() + b"\r").decode()
    lines = text.split("\r\n")
    return lines[lines.index("@") + 1: lines.index("$$") - 1]


def test_the_log_counters_and_soh_counts_are_the_units_history() -> None:
    pack = _pack(history={"cycles": 812, "events": EVENTS, "counters": {"SC Times": 2},
                          "soh_counts": {5: 7}})
    console = Console(pack)
    log = _body(console, "log")
    assert log[0].split() == ["Index", "Time", "Code", "Info", "Volt", "Curr", "Vhigh", "Vlow", "Tempr"]
    assert log[1].split()[1:5] == ["2025-05-03", "14:12:09", "short_prot", "-"]
    assert log[2].split()[3:5] == ["cell_uv_prot", "cell08"] and log[-1] == "Page 1/1"
    stat = dict(ln.split(":", 1) for ln in _body(console, "stat"))
    stat = {k.strip(): v.strip() for k, v in stat.items()}
    # 2 that scrolled out + 1 logged; the power-on of this start is a Reset
    assert (stat["CYCLE Times"], stat["SC Times"], stat["Bat UV Times"], stat["Reset Times"]) == \
        ("812", "3", "1", "1")
    soh = [ln.split() for ln in _body(console, "soh 1")]
    assert soh[0] == ["Battery", "Voltage", "SOHCount", "SOHStatus"]
    assert soh[5][2:] == ["7", "Abnormal"] and soh[1][2:] == ["0", "Normal"]
    event = _body(console, "data event")
    assert "Code    : power_on" in event and len(event) == 9 + 1 + 16
    _body(console, "log clear")   # what the factory's EOL does last: the counters go with it
    stat = {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in _body(console, "stat"))}
    assert (stat["SC Times"], stat["CYCLE Times"]) == ("0", "812")


def test_a_long_log_is_paged() -> None:
    events = [{"time": datetime(2025, 1, 1 + i // 24, i % 24, tzinfo=UTC).isoformat(),
               "code": "cell_uv_alarm"} for i in range(45)]
    console = Console(_pack(history={"events": events}))
    assert _body(console, "log")[-1] == "Page 1/3" and len(_body(console, "log 3")) == 1 + 6 + 1
    assert "Invalid value" in console.feed(b"log 4\r").decode()


def test_the_bms_faults_only_a_diagnosis_finds() -> None:
    pack = _pack(defects={"stuck_temperature": {"mosfet": "open"}, "discharge_fet_open": True})
    snap = pack.bms.snapshot()
    assert snap.temps_dc[5] == pytest.approx(-400, abs=3) and abs(snap.temps_dc[1] - 250) < 5
    pack.set_network(lambda v: -50.0 if v.discharge_path else 0.0)
    pack.inputs_changed()
    pack.clock.sleep(2.0)
    assert pack.bms.snapshot().discharge_fet and pack.current() == 0.0   # says on, will not conduct
    pack.set_network(lambda v: 20.0 if v.charge_path else 0.0)
    pack.inputs_changed()
    pack.clock.sleep(2.0)
    assert pack.current() == 20.0


def test_a_dead_bleed_circuit_balances_in_name_only() -> None:
    def spread_fall(dead: bool) -> float:
        pack = _pack(defects={"balancing_dead": dead},
                     cells={"initial_soc_pct": 99.3, "overrides": {3: {"initial_soc_pct": 100.0}}})
        start = pack.bms.snapshot()
        pack.clock.sleep(3600.0)
        end = pack.bms.snapshot()
        assert any(end.balancing), "the firmware balances either way"
        return (max(start.cell_mv) - min(start.cell_mv)) - (max(end.cell_mv) - min(end.cell_mv))

    assert spread_fall(dead=False) >= 3 and abs(spread_fall(dead=True)) <= 1


def test_history_is_validated_with_its_key() -> None:
    with pytest.raises(UnitFileError, match=r"history\.counters"):
        unit_from_dict({"model": "v5", "history": {"counters": {"SC times": 1}}})
    with pytest.raises(UnitFileError, match="oldest first"):
        unit_from_dict({"model": "v5", "history": {"events": EVENTS[::-1]}})
    with pytest.raises(UnitFileError, match=r"defects\.stuck_temperature"):
        unit_from_dict({"model": "v5", "defects": {"stuck_temperature": {"cell9": "open"}}})


def test_terminal_view_is_unchanged_for_a_unit_without_defects() -> None:
    pack = _pack()
    pack.set_network(lambda v: -10.0 if v.discharge_path else 0.0)
    pack.inputs_changed()
    pack.clock.sleep(1.0)
    assert pack.current() == -10.0


def _uv_cut_off(offsets: dict[str, float]) -> tuple[float, int]:
    """Discharge at 20 A from 6 % SOC to the BMS's cut-off: (pack V at the trip, RS485's
    stored pack UV protection in mV)."""
    pack = _pack(cells={"initial_soc_pct": 6.0}, defects={"protection_offsets": offsets})
    pack.set_network(lambda v: -20.0 if v.discharge_path else 0.0)
    pack.inputs_changed()
    for _ in range(120):
        pack.clock.sleep(30.0)
        if pack.current() == 0.0:
            break
    trip = [e for e in pack.firmware.log.events() if e.code == "pack_uv_prot"]
    return trip[-1].pack_mv / 1000, pack.bms.stored_parameters()["pack_uv_prot_mv"]


def test_a_drifted_protection_trips_away_from_the_threshold_rs485_reports() -> None:
    healthy, stored = _uv_cut_off({})
    drifted, stored_drifted = _uv_cut_off({"pack_uv_prot": 0.4})
    assert stored == stored_drifted == 47500   # the stored set is the released one ...
    assert 47.40 < healthy <= 47.50            # ... a healthy BMS trips there,
    assert 47.80 < drifted <= 47.90            # the drifted comparator 0.4 V early
    with pytest.raises(UnitFileError, match=r"defects\.protection_offsets"):
        unit_from_dict({"model": "v5", "defects": {"protection_offsets": {"cell_uv": 0.1}}})


def test_an_intermittent_sense_lead_glitches_every_seventh_report_only() -> None:
    pack = _pack(defects={"intermittent_cell": 6})
    reports = []
    for _ in range(21):
        pack.clock.sleep(0.5)
        reports.append(pack.bms.snapshot().cell_mv)
    low = [i for i, r in enumerate(reports) if r[5] < min(r) + 300 and r[5] < 3000]
    assert len(low) == 3 and all(b - a == 7 for a, b in pairwise(low))
    assert all(max(r[:5] + r[6:]) - min(r[:5] + r[6:]) < 20 for r in reports)   # the others steady
    assert pack.firmware.readings.vmin > 3.0   # the protections read the true lead
