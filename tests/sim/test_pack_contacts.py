"""Dry contacts NO2/NO3/NO4, IN1 emergency stop, wiring faults, the α Plus breaker."""

from __future__ import annotations

import pytest

from sim.unit import default_unit, with_change
from tests.sim.conftest import Make, set_current, start


def contacts(pack) -> tuple[bool, bool, bool]:  # type: ignore[no-untyped-def]
    return pack.contact_closed(2), pack.contact_closed(3), pack.contact_closed(4)


def test_healthy_idle_pack_has_all_contacts_open(make_pack: Make) -> None:
    pack, _ = make_pack()
    assert contacts(pack) == (False, False, False)


def test_no2_closes_on_alarm_no3_on_protection(make_pack: Make) -> None:
    pack, _ = make_pack()
    pack.set_temperatures(43.5)  # charge over-temperature alarm only
    pack.clock.sleep(2.5)
    assert contacts(pack) == (True, False, False)
    pack.set_temperatures(45.5)  # and now the protection
    pack.clock.sleep(2.5)
    assert contacts(pack) == (True, True, False)
    pack.set_temperatures(25.0)
    pack.clock.sleep(2.5)
    assert contacts(pack) == (False, False, False)


def test_no4_generator_start_with_soc_hysteresis(make_pack: Make) -> None:
    pack, net = make_pack(with_change(default_unit("v5"), "cells.initial_soc_pct", 11.0))
    assert not pack.contact_closed(4)
    set_current(pack, net, -60.0)
    pack.clock.sleep(90)  # 11 % − 1.5 % of 100 Ah
    assert pack.bms.snapshot().soc_pct <= 10.0
    assert pack.contact_closed(4)
    set_current(pack, net, 60.0)
    pack.clock.sleep(360)  # back to ~15.5 %: still closed
    assert 10.0 < pack.bms.snapshot().soc_pct < 20.0
    assert pack.contact_closed(4)
    pack.clock.sleep(300)  # above 20 %
    assert pack.bms.snapshot().soc_pct >= 20.0
    assert not pack.contact_closed(4)


def test_contacts_open_when_the_pack_is_off(make_pack: Make) -> None:
    pack, _ = make_pack(with_change(default_unit("v5"), "cells.initial_soc_pct", 5.0))
    pack.clock.sleep(1)
    assert pack.contact_closed(4)
    pack.set_power_button(False)
    assert contacts(pack) == (False, False, False)


def test_in1_24_v_for_half_a_second_opens_both_until_removed(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -30.0)
    pack.set_in1(24.0)
    pack.clock.sleep(0.45)
    assert pack.current() == -30.0
    pack.clock.sleep(0.1)
    s = pack.bms.snapshot()
    assert pack.current() == 0.0 and "in1" in s.protections
    assert not s.charge_fet and not s.discharge_fet
    assert pack.contact_closed(3)
    pack.clock.sleep(60)
    assert pack.current() == 0.0  # no auto-release
    pack.set_in1(0.0)
    pack.clock.sleep(0.01)
    assert pack.current() == -30.0


def test_in1_pulse_shorter_than_half_a_second_is_ignored(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -30.0)
    t0 = pack.clock.now()
    pack.set_in1(12.0)
    pack.clock.sleep(0.3)
    pack.set_in1(0.0)
    pack.clock.sleep(1)
    assert pack.current_history(t0, pack.clock.now()) == [(t0, -30.0)]


def test_in1_ignored_unit(make_pack: Make) -> None:
    pack, net = make_pack(with_change(default_unit("v5"), "contacts.in1", "ignored"))
    set_current(pack, net, -30.0)
    pack.set_in1(24.0)
    pack.clock.sleep(2)
    assert pack.current() == -30.0


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("contacts.no3", "stuck_open", (True, False, False)),
        ("contacts.no3", "stuck_closed", (True, True, False)),
        ("contacts.no2", "stuck_open", (False, True, False)),
        ("contacts.no4", "stuck_closed", (True, True, True)),
        ("contacts.swap", "3-4", (True, False, True)),
        ("contacts.swap", "2-4", (False, True, True)),
    ],
)
def test_wiring_faults_change_exactly_that_contact(make_pack: Make, key: str, value: str,
                                                  expected: tuple[bool, bool, bool]) -> None:
    pack, _ = make_pack(with_change(default_unit("v5"), key, value))
    pack.set_temperatures(45.5)  # alarm + protection: firmware closes NO2 and NO3
    pack.clock.sleep(2.5)
    assert pack.bms.snapshot().contacts == {2: True, 3: True, 4: False}  # the firmware's view
    assert contacts(pack) == expected


def test_contact_number_checked(make_pack: Make) -> None:
    pack, _ = make_pack()
    with pytest.raises(ValueError, match="NO2, NO3 and NO4"):
        pack.contact_closed(5)


def test_alpha_plus_breaker_open_blocks_the_bms_and_current(make_pack: Make) -> None:
    pack, net = make_pack(model="v5-alpha-plus", started=False)
    start(pack)
    assert pack.state == "off"  # breaker open: no supply for the BMS
    pack.set_breaker(True)
    start(pack)
    assert pack.state == "on"
    set_current(pack, net, -20.0)
    pack.clock.sleep(1)
    assert pack.current() == -20.0
    pack.set_breaker(False)
    assert pack.current() == 0.0 and pack.state == "off"
    assert pack.terminal_voltage() == 0.0


def test_breaker_is_absent_on_v5(make_pack: Make) -> None:
    pack, _ = make_pack(model="v5")
    pack.set_breaker(False)  # nothing to actuate
    assert pack.state == "on"


def test_safety_values_from_the_unit(make_pack: Make) -> None:
    pack, _ = make_pack(with_change(default_unit("v5"), "safety.ground_bond_ohm", 0.2))
    assert pack.ground_bond_ohm() == 0.2
    assert pack.insulation_ohm() == 500e6
