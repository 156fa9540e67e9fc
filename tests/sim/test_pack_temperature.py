"""Temperature protections per direction, derating rows, heater and the thermal model."""

from __future__ import annotations

import pytest

from sim.pack.networks import CcCv
from sim.unit import default_unit, with_change, with_changes
from tests.sim.conftest import Make, set_current, start


def test_charge_stops_at_45_and_resumes_at_40_while_discharge_continues(make_pack: Make) -> None:
    pack, net = make_pack()
    pack.set_temperatures(44.5)
    set_current(pack, net, 20.0)
    pack.clock.sleep(3)
    assert pack.current() == 20.0
    pack.set_temperatures(45.2)
    pack.clock.sleep(1.9)
    assert pack.current() == 20.0  # 2 s delay
    pack.clock.sleep(0.2)
    s = pack.bms.snapshot()
    assert pack.current() == 0.0 and "chg_ot" in s.protections
    assert not s.charge_fet and s.discharge_fet
    set_current(pack, net, -20.0)  # discharge still works
    pack.clock.sleep(3)
    assert pack.current() == -20.0
    pack.set_temperatures(41.0)
    pack.clock.sleep(5)
    assert not pack.bms.snapshot().charge_fet  # not released above 40 °C
    pack.set_temperatures(39.9)
    pack.clock.sleep(1.9)
    assert not pack.bms.snapshot().charge_fet  # the release waits the 2 s delay too
    pack.clock.sleep(0.2)
    s = pack.bms.snapshot()
    assert s.charge_fet and "chg_ot" not in s.protections


@pytest.mark.parametrize(
    ("temp", "protection", "charge_open", "discharge_open"),
    [
        (-0.5, "chg_ut", True, False),
        (50.5, "dsg_ot", True, True),  # 50.5 °C is above the charge limit too
        (-10.5, "dsg_ut", True, True),
    ],
)
def test_temperature_protections(make_pack: Make, temp: float, protection: str,
                                 charge_open: bool, discharge_open: bool) -> None:
    pack, _ = make_pack()
    pack.set_temperatures(temp)
    pack.clock.sleep(2.1)
    s = pack.bms.snapshot()
    assert protection in s.protections
    assert s.charge_fet is not charge_open
    assert s.discharge_fet is not discharge_open


def test_discharge_over_temperature_alone_opens_discharge(make_pack: Make) -> None:
    unit = with_changes(default_unit("v5"), {"parameters.chg_ot_prot_dc": 600,
                                             "parameters.chg_ot_alarm_dc": 580})
    pack, _ = make_pack(unit)
    pack.set_temperatures(50.5)
    pack.clock.sleep(2.1)
    s = pack.bms.snapshot()
    assert s.protections == {"dsg_ot"}
    assert s.charge_fet and not s.discharge_fet


def test_board_over_temperature_opens_both(make_pack: Make) -> None:
    pack, _ = make_pack()
    pack.set_temperatures(30.0, board_c=101.0)
    pack.clock.sleep(2.1)
    s = pack.bms.snapshot()
    assert "board_ot" in s.protections
    assert not s.charge_fet and not s.discharge_fet


def test_temperature_alarm_before_protection(make_pack: Make) -> None:
    pack, _ = make_pack()
    pack.set_temperatures(43.5)
    pack.clock.sleep(2.1)
    s = pack.bms.snapshot()
    assert "chg_ot" in s.alarms and not s.protections
    pack.set_temperatures(41.5)  # hysteresis 2 °C: still on
    pack.clock.sleep(1)
    assert "chg_ot" in pack.bms.snapshot().alarms
    pack.set_temperatures(40.9)
    pack.clock.sleep(1)
    assert "chg_ot" not in pack.bms.snapshot().alarms


DERATING = [
    (-12.0, 0, 0), (-5.0, 0, 300), (2.0, 100, 750), (7.0, 500, 750),
    (25.0, 1000, 1000), (42.0, 500, 1000), (47.0, 0, 750), (52.0, 0, 0),
]


@pytest.mark.parametrize(("temp", "chg_da", "dsg_da"), DERATING)
def test_each_derating_row(make_pack: Make, temp: float, chg_da: int, dsg_da: int) -> None:
    # widen the protections so that the limits of the table are seen, not the protections
    unit = with_changes(default_unit("v5"), {
        "parameters.dsg_ut_prot_dc": -300, "parameters.dsg_ut_alarm_dc": -250,
        "parameters.dsg_ot_rel_dc": 520, "parameters.dsg_ot_alarm_dc": 580,
        "parameters.dsg_ot_prot_dc": 600, "parameters.chg_ut_prot_dc": -300,
        "parameters.chg_ut_alarm_dc": -250, "parameters.chg_ot_rel_dc": 520,
        "parameters.chg_ot_alarm_dc": 580, "parameters.chg_ot_prot_dc": 600,
    })
    pack, _ = make_pack(unit)
    pack.set_temperatures(temp)
    pack.clock.sleep(3)
    s = pack.bms.snapshot()
    assert not s.protections
    assert (s.charge_limit_da, s.discharge_limit_da) == (chg_da, dsg_da)


def test_derating_row_hysteresis_on_leaving(make_pack: Make) -> None:
    pack, _ = make_pack()
    pack.set_temperatures(40.5)  # leaving [10, 40) takes 41 °C
    pack.clock.sleep(1)
    assert pack.bms.snapshot().charge_limit_da == 1000
    pack.set_temperatures(41.2)
    pack.clock.sleep(1)
    assert pack.bms.snapshot().charge_limit_da == 500
    pack.set_temperatures(39.5)  # inside the 1 °C hysteresis: row kept
    pack.clock.sleep(1)
    assert pack.bms.snapshot().charge_limit_da == 500
    pack.set_temperatures(38.9)
    pack.clock.sleep(1)
    assert pack.bms.snapshot().charge_limit_da == 1000


def test_limits_are_zero_in_the_protected_direction(make_pack: Make) -> None:
    pack, _ = make_pack()
    pack.set_temperatures(45.5)
    pack.clock.sleep(2.5)
    s = pack.bms.snapshot()
    assert s.charge_limit_da == 0 and s.discharge_limit_da == 750  # row [45, 50)


def test_heater_warms_at_least_10_c_per_hour_from_minus_10(make_pack: Make) -> None:
    pack, _ = make_pack()
    charger = CcCv(volts=56.0, amps=20.0)
    pack.set_ambient(-10.0)
    pack.set_temperatures(-10.0)
    pack.set_network(charger)
    pack.clock.sleep(5)
    s = pack.bms.snapshot()
    assert s.heater_on and "chg_ut" in s.protections  # too cold to charge: heat instead
    t0 = pack.cell_temperature()
    pack.clock.sleep(3600)
    assert pack.cell_temperature() - t0 >= 10.0
    pack.clock.sleep(3600)
    assert not pack.bms.snapshot().heater_on  # off at 10 °C
    assert pack.cell_temperature() == pytest.approx(10.0, abs=0.5)


def test_no_heater_no_rise(make_pack: Make) -> None:
    pack, _ = make_pack(with_change(default_unit("v5"), "heater.fitted", False))
    pack.set_ambient(-10.0)
    pack.set_temperatures(-10.0)
    pack.set_network(CcCv(volts=56.0, amps=20.0))
    pack.clock.sleep(3600)
    assert pack.cell_temperature() == pytest.approx(-10.0, abs=0.2)


def test_heater_needs_a_charger(make_pack: Make) -> None:
    pack, _ = make_pack()
    pack.set_ambient(-10.0)
    pack.set_temperatures(-10.0)
    pack.clock.sleep(600)
    assert not pack.bms.snapshot().heater_on


def test_pack_follows_the_air_with_its_heat_capacity(make_pack: Make) -> None:
    pack, _ = make_pack()
    pack.set_ambient(50.0)
    pack.clock.sleep(3600)
    rise = pack.cell_temperature() - 25.0
    # 4 W/K to a 40 kJ/K pack: tau = 10,000 s, so 1 h gives 25 K × (1 − e^−0.36)
    assert rise == pytest.approx(25.0 * (1 - 2.718281828 ** -0.36), rel=0.05)


def test_i2r_heating_under_load(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -100.0)
    pack.clock.sleep(1800)
    assert pack.cell_temperature() > 27.0
    assert pack.bms.snapshot().temps_dc[5] > pack.bms.snapshot().temps_dc[1]  # MOSFET warmer


def test_start_in_the_cold_does_not_allow_charge(make_pack: Make) -> None:
    pack, net = make_pack(started=False)
    pack.set_temperatures(-5.0)
    start(pack)
    set_current(pack, net, 10.0)
    pack.clock.sleep(1)
    assert pack.current() == 0.0


def test_delay_timer_resets_when_the_condition_clears(make_pack: Make) -> None:
    pack, _ = make_pack()
    t0 = pack.clock.now()
    pack.set_temperatures(45.5)
    pack.clock.sleep(1.5)
    pack.set_temperatures(44.0)  # condition clears: the 2 s timer starts over
    pack.clock.sleep(1.0)
    t1 = pack.clock.now()
    pack.set_temperatures(45.5)
    pack.clock.sleep(3.0)
    opened = [t for t, (c, _d) in pack.fet_history(t0, pack.clock.now()) if not c]
    assert opened == [pytest.approx(t1 + 2.0)]


def test_a_charger_smaller_than_the_heater_keeps_it_on_until_10_c(make_pack: Make) -> None:
    """A 3 A charger under a 300 W (5.7 A) heater: once the charge MOSFET closes (3 °C) the
    BMS's shunt reads a net discharge, yet the charger is still there: the heater stays on to
    10 °C without cycling (the firmware adds its own element's draw back)."""
    pack, _ = make_pack()
    pack.set_ambient(-10.0)
    pack.set_temperatures(-10.0)
    pack.set_network(CcCv(volts=56.0, amps=3.0))
    pack.clock.sleep(30)   # chg_ut trips, the charger is found on the probe (2 s)
    states = []
    for _ in range(int(3600 / 10)):
        pack.clock.sleep(10)
        pack.sync()
        states.append((pack.firmware.outputs.heater_on, pack.cell_temperature()))
    on = [s for s, _ in states]
    first_off = on.index(False)
    assert all(on[:first_off])
    assert states[first_off - 1][1] > 9.0   # on past the charge MOSFET closing at 3 °C
    assert states[first_off][1] == pytest.approx(10.0, abs=0.3)   # off at 10 °C, not before
