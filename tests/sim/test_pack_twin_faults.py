"""Faults the EOL plan must be able to see: a welded breaker, an open heater element, and the
mode threshold of SPEC §3 (0.5 A, above the BMS's zero error) on the LEDs and RS485 Status3."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.pack import SimPack
from sim.unit import UnitFileError, default_unit, load_unit, with_change
from sim.wire.console import Console
from sim.wire.rs485 import module_alarms
from tests.sim.conftest import Make, set_current, start
from tests.sim.test_pack_leds import BLINK1, observe_all


# --- breaker -----------------------------------------------------------------------------
def test_welded_breaker_lets_the_pack_start_with_the_breaker_open(make_pack: Make) -> None:
    welded = with_change(default_unit("v5-alpha-plus"), "breaker.welded", True)
    pack, net = make_pack(welded, model="v5-alpha-plus", started=False)
    pack.set_breaker(False)            # the fixture's breaker relay open
    start(pack)                        # POWER + SW, as breaker_blocks_start does
    assert pack.state == "on" and pack.terminal_voltage() > 45.0
    set_current(pack, net, -10.0)
    pack.set_breaker(False)            # opening it again changes nothing
    pack.clock.sleep(1.0)
    assert pack.state == "on" and pack.current() == -10.0


def test_a_good_breaker_blocks_the_same_sequence(make_pack: Make) -> None:
    pack, _ = make_pack(model="v5-alpha-plus", started=False)
    pack.set_breaker(False)
    start(pack)
    assert pack.state == "off" and pack.terminal_voltage() == 0.0


def test_welded_needs_a_breaker() -> None:
    with pytest.raises(UnitFileError, match="breaker: welded needs a fitted breaker"):
        with_change(default_unit("v5"), "breaker.welded", True)


# --- heater ------------------------------------------------------------------------------
def _pwr_heater(pack: SimPack) -> str:
    text = Console(pack).feed(b"pwr 1\r").decode()
    (line,) = [ln for ln in text.splitlines() if ln.startswith("Heater")]
    return line.split(":", 1)[1].strip()


@pytest.mark.parametrize(("open_element", "drawn_a"), [(False, -5.7), (True, 0.0)])
def test_open_heater_element_reports_on_and_draws_nothing(
        make_pack: Make, open_element: bool, drawn_a: float) -> None:
    unit = with_change(default_unit("v5"), "heater.open_element", open_element)
    pack, _ = make_pack(unit)
    pack.bms.login_debug()
    pack.bms.set_test_mode(True)
    t0 = pack.cell_temperature()
    pack.bms.force_heater(True)
    pack.clock.sleep(120.0)
    snap = pack.bms.snapshot()
    assert snap.heater_on and _pwr_heater(pack) == "On"   # the firmware's command either way
    assert pack.cell_current() == pytest.approx(drawn_a, abs=0.2)
    assert snap.current_ma / 1000 == pytest.approx(drawn_a, abs=0.3)
    rise = pack.cell_temperature() - t0
    assert (rise < 0.01) if open_element else (rise > 0.15)   # 300 W, 40 kJ/K: 0.9 K / 2 min


def test_open_element_needs_a_heater() -> None:
    unit = with_change(default_unit("v5"), "heater.fitted", False)
    with pytest.raises(UnitFileError, match="open_element needs a fitted heater"):
        with_change(unit, "heater.open_element", True)


# --- mode threshold ----------------------------------------------------------------------
@pytest.mark.parametrize(("amps", "mode", "status3", "run"), [
    (0.4, "standby", 0x00, BLINK1),
    (-0.4, "standby", 0x00, BLINK1),
    (0.6, "charging", 0x80, "on"),
    (-0.6, "discharging", 0x40, (0.5, 1.5)),
])
def test_mode_threshold_is_half_an_ampere(make_pack: Make, amps: float, mode: str,
                                          status3: int, run: object) -> None:
    pack, net = make_pack()
    set_current(pack, net, amps)
    pack.clock.sleep(3.0)                         # past the 2 s mode delay
    snap = pack.bms.snapshot()
    assert snap.mode == mode
    assert module_alarms(snap).status[2] & 0xC0 == status3
    assert observe_all(pack, 9.0)["RUN"] == run


def test_the_fault_example_of_the_schema_doc_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "unit-description.md").read_text()
    example = doc.split("Faults of the ports and options")[1].split("```toml\n")[1].split("```")[0]
    path = tmp_path / "fault.toml"
    path.write_text('model = "v5-alpha-plus"\n' + example)
    unit = load_unit(path)
    assert unit.comms.can_frames.alarms.period_s == 1.3 and unit.comms.link_port1 == "dead"
    assert unit.breaker.welded and unit.heater.open_element
    assert unit.identity.manufacturer == "PYLON   "
