"""The console test mode of SPEC §7: login, ordering rule, CRCs, forced outputs, timeout."""

from __future__ import annotations

import pytest

from common.params import default_parameters, parameter_crc
from sim.pack.interface import LEDS, InvalidValue, NotInTestMode
from tests.sim.conftest import Make, set_current


def enter(pack) -> None:  # type: ignore[no-untyped-def]
    pack.bms.console_activity()
    pack.bms.login_debug()
    pack.bms.set_test_mode(True)


def test_commands_need_login_and_test_mode(make_pack: Make) -> None:
    pack, _ = make_pack()
    with pytest.raises(NotInTestMode):
        pack.bms.set_test_mode(True)
    pack.bms.login_debug()
    assert pack.bms.debug
    with pytest.raises(NotInTestMode):
        pack.bms.force_relay(2, True)
    pack.bms.set_test_mode(True)
    pack.bms.force_relay(2, True)
    with pytest.raises(InvalidValue):
        pack.bms.force_relay(5, True)


def test_setthr_moves_release_and_changes_crc(make_pack: Make) -> None:
    pack, _ = make_pack()
    enter(pack)
    stored = parameter_crc(default_parameters("v5"))
    assert pack.bms.crc() == (stored, stored)
    pack.bms.set_threshold("cell_ov_prot_mv", 3600)
    active = pack.bms.active_parameters()
    assert active["cell_ov_prot_mv"] == 3600
    assert active["cell_ov_rel_mv"] == 3350  # moved by the stored hysteresis (250 mV)
    assert pack.bms.stored_parameters()["cell_ov_prot_mv"] == 3650
    s, a = pack.bms.crc()
    assert s == stored and a == parameter_crc(active) and a != stored
    pack.bms.clear_thresholds()
    assert pack.bms.crc() == (stored, stored)


@pytest.mark.parametrize(
    ("name", "value"),
    [("cell_ov_prot_mv", 3500), ("cell_ov_alarm_mv", 3700), ("chg_ot_rel_dc", 460),
     ("oc_tier2_a", 90), ("soc_low_on_pct", 30), ("nonsense", 1)],
)
def test_setthr_refuses_a_broken_order(make_pack: Make, name: str, value: int) -> None:
    pack, _ = make_pack()
    enter(pack)
    before = pack.bms.active_parameters()
    with pytest.raises(InvalidValue):
        pack.bms.set_threshold(name, value)
    assert pack.bms.active_parameters() == before


def test_temporary_threshold_changes_behaviour(make_pack: Make) -> None:
    pack, net = make_pack()
    enter(pack)
    pack.bms.set_threshold("oc_tier2_ms", 5000)
    t0 = pack.clock.now()
    set_current(pack, net, -150.0)
    pack.clock.sleep(6.0)
    hist = pack.current_history(t0, pack.clock.now())
    assert hist[-1][1] == 0.0 and hist[-1][0] - t0 == pytest.approx(5.0)


def test_forced_relays_and_release_on_leaving(make_pack: Make) -> None:
    pack, _ = make_pack()
    enter(pack)
    for n in (2, 3, 4):
        pack.bms.force_relay(n, True)
    assert all(pack.contact_closed(n) for n in (2, 3, 4))
    assert pack.bms.snapshot().contacts == {2: True, 3: True, 4: True}
    pack.bms.set_test_mode(False)
    assert not any(pack.contact_closed(n) for n in (2, 3, 4))


def test_forced_heater_heats_even_when_warm(make_pack: Make) -> None:
    pack, _ = make_pack()
    enter(pack)
    pack.bms.force_heater(True)
    assert pack.bms.snapshot().heater_on
    t0 = pack.cell_temperature()
    for _ in range(5):  # keep the console alive
        pack.clock.sleep(60)
        pack.bms.console_activity()
    assert pack.cell_temperature() - t0 > 0.3  # 300 W into 40 kJ/K: 0.45 K in 5 min
    pack.bms.logout()
    assert not pack.bms.snapshot().heater_on


def test_led_test_lights_each_led_alone_for_half_a_second(make_pack: Make) -> None:
    pack, _ = make_pack()
    enter(pack)
    pack.clock.sleep(0.77)  # somewhere inside RUN's Blink 1 cycle
    t0 = pack.clock.now()
    pack.bms.led_test()
    pack.clock.sleep(4.0)
    for k, led in enumerate(LEDS):
        on = [t for t, v in pack.led_edges(led, t0, t0 + 3.0) if v]
        assert pytest.approx(t0 + 0.5 * k) in on, (led, pack.led_edges(led, t0, t0 + 3.0))
        off = [t for t, v in pack.led_edges(led, t0, t0 + 3.0) if not v]
        assert pytest.approx(t0 + 0.5 * (k + 1)) in off, led
    # after the test the normal display returns (standby: RUN Blink 1)
    assert pack.led_edges("RUN", t0 + 3.0, t0 + 4.0)[0] == (pytest.approx(t0 + 3.0), True)


def test_ten_minutes_without_console_input_restores_everything(make_pack: Make) -> None:
    pack, _ = make_pack()
    enter(pack)
    pack.bms.set_threshold("cell_ov_prot_mv", 3600)
    pack.bms.force_relay(4, True)
    pack.bms.force_heater(True)
    pack.clock.sleep(599.0)
    pack.bms.console_activity()  # input restarts the timeout
    pack.clock.sleep(599.0)
    assert pack.bms.snapshot().test_mode and pack.contact_closed(4)
    pack.clock.sleep(2.0)
    s = pack.bms.snapshot()
    assert not s.test_mode and not s.heater_on and not pack.contact_closed(4)
    assert pack.bms.active_parameters() == pack.bms.stored_parameters()
    assert not pack.bms.debug
    assert "test_mode_timeout" in {e.code for e in pack.bms.events()}


@pytest.mark.parametrize("discharge_open", [False, True])
def test_forced_heater_is_fed_by_the_cells(make_pack: Make, discharge_open: bool) -> None:
    pack, net = make_pack()
    if discharge_open:  # e.g. during an over-current release wait
        set_current(pack, net, -150.0)
        pack.clock.sleep(16)
        set_current(pack, net, 0.0)
        assert not pack.bms.snapshot().discharge_fet
    enter(pack)
    before = pack.bms.snapshot()
    pack.bms.force_heater(True)
    pack.clock.sleep(3)
    after = pack.bms.snapshot()
    assert pack.current() == 0.0  # nothing flows at the terminals
    watts = (before.current_ma - after.current_ma) / 1000 * after.pack_mv / 1000
    assert watts == pytest.approx(300.0, rel=0.03)
    assert pack.cell_current() == pytest.approx(-300.0 / 52.6, rel=0.02)
    pack.bms.force_heater(False)
    pack.clock.sleep(1)
    assert pack.cell_current() == 0.0


def test_provoked_under_voltage_in_test_mode_keeps_the_soc(make_pack: Make) -> None:
    pack, _ = make_pack()
    enter(pack)
    for name, value in (("cell_uv_rel_mv", 3400), ("cell_uv_alarm_mv", 3350),
                        ("cell_uv_prot_mv", 3300)):
        pack.bms.set_threshold(name, value)
    pack.clock.sleep(1.5)
    s = pack.bms.snapshot()
    assert "cell_uv" in s.protections and not s.discharge_fet and s.charge_fet
    assert s.soc_pct == pytest.approx(50.0, abs=0.1)
    pack.bms.clear_thresholds()
    pack.clock.sleep(1.5)
    assert not pack.bms.snapshot().protections
