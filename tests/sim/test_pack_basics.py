"""A new pack, the power-on sequence, identity, terminals and the snapshot."""

from __future__ import annotations

import pytest

from common.clock import VirtualClock
from common.params import golden_crc
from sim.pack import SimPack
from sim.unit import default_unit, with_change
from tests.sim.conftest import Make, set_current, start


def test_new_pack_is_off_with_open_fets_at_ambient() -> None:
    pack = SimPack(default_unit("v5"), VirtualClock())
    s = pack.bms.snapshot()
    assert s.state == "off"
    assert not s.charge_fet and not s.discharge_fet
    assert s.soc_pct == pytest.approx(50.0)
    assert all(abs(t - 250) <= 3 for t in s.temps_dc)
    assert pack.terminal_voltage() == 0.0
    assert not any(pack.led_on(n) for n in ("RUN", "ALM", "SOC1", "SOC2", "SOC3", "SOC4"))


def test_sw_held_one_second_starts_with_power_on_flash(make_pack: Make) -> None:
    pack, _ = make_pack(started=False)
    clock = pack.clock
    pack.set_power_button(True)
    clock.sleep(5)
    assert pack.state == "off"  # POWER alone does not start the pack
    pack.set_sw(True)
    clock.sleep(1.0)
    pack.set_sw(False)
    t_on = clock.now()
    clock.sleep(0.5)
    assert pack.state == "on"
    assert all(pack.led_on(n) for n in ("RUN", "ALM", "SOC1", "SOC2", "SOC3", "SOC4"))
    clock.sleep(1.0)
    edges = pack.led_edges("ALM", t_on - 0.1, clock.now())
    assert edges == [(t_on, True), (pytest.approx(t_on + 1.0), False)]
    s = pack.bms.snapshot()
    assert s.charge_fet and s.discharge_fet
    assert 51.5 <= pack.terminal_voltage() <= 53.6


def test_sw_short_press_does_not_start(make_pack: Make) -> None:
    pack, _ = make_pack(started=False)
    pack.set_power_button(True)
    pack.set_sw(True)
    pack.clock.sleep(0.5)
    pack.set_sw(False)
    pack.clock.sleep(2)
    assert pack.state == "off"


def test_open_circuit_voltage_and_resistance_at_50_a(make_pack: Make) -> None:
    pack, net = make_pack()
    pack.clock.sleep(30)
    v0 = pack.terminal_voltage()
    assert 52.3 <= v0 <= 52.9  # 50 % SOC on the LFP plateau
    set_current(pack, net, -50.0)
    pack.clock.sleep(1.0)
    v1 = pack.terminal_voltage()
    r = (v0 - v1) / 50.0
    assert 0.015 <= r <= 0.020
    assert pack.current() == -50.0


def test_identity_from_unit_and_dip() -> None:
    unit = with_change(default_unit("v5-alpha"), "dip", 0b1011)
    pack = SimPack(unit, VirtualClock())
    ident = pack.identity
    assert ident.device_name == "V5A"
    assert ident.manufacturer == "PYTES"
    assert ident.address == 0x02 + 0x10 * 3
    assert ident.rs485_baud == 115200
    assert ident.serial == unit.identity.serial
    assert pack.bms.crc() == (golden_crc("v5-alpha"), golden_crc("v5-alpha"))


def test_snapshot_measures_current_with_gain_and_offset(make_pack: Make) -> None:
    unit = with_change(default_unit("v5"), "sensors.current.offset", 0.4)
    unit = with_change(unit, "sensors.current.noise", 0.0)
    pack, net = make_pack(unit)
    set_current(pack, net, 50.0)
    pack.clock.sleep(1)
    assert pack.bms.snapshot().current_ma == 50400


def test_snapshots_are_reproducible_with_the_seed(make_pack: Make) -> None:
    a, _ = make_pack(seed=7)
    b, _ = make_pack(seed=7)
    c, _ = make_pack(seed=8)
    assert a.bms.snapshot() == b.bms.snapshot()
    assert a.bms.snapshot().cell_mv != c.bms.snapshot().cell_mv or (
        a.bms.snapshot().pack_mv != c.bms.snapshot().pack_mv
    )


def test_power_button_off_opens_everything(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -20.0)
    pack.clock.sleep(5)
    pack.set_power_button(False)
    assert pack.current() == 0.0
    assert pack.state == "off"
    assert pack.terminal_voltage() == 0.0
    start(pack)
    assert pack.state == "on"


def test_bad_inputs_are_named(make_pack: Make) -> None:
    pack, _ = make_pack()
    with pytest.raises(ValueError, match="ambient temperature"):
        pack.set_ambient(float("nan"))
    with pytest.raises(ValueError, match="IN1 voltage"):
        pack.set_in1("high")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="terminal network's current must be finite"):
        pack.set_network(lambda view: float("inf"))
