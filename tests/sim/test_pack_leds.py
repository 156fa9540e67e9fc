"""Every LED state of SPEC §3, with the blink timing measured from the edge timeline."""

from __future__ import annotations

import itertools

import pytest

from sim.pack import SimPack
from sim.pack.interface import LEDS
from sim.unit import default_unit, with_change
from tests.sim.conftest import Make, set_current, start

BLINK1, BLINK2, BLINK3, BLINK4 = (0.3, 3.7), (0.5, 0.5), (0.5, 1.5), (0.7, 9.3)


def _observe(pack: SimPack, led: str, t0: float, t1: float) -> tuple[float, float] | str:
    if pack.clock.now() < t1:
        pack.clock.sleep(t1 - pack.clock.now())
    edges = pack.led_edges(led, t0, t1)
    if not edges:
        return "on" if pack.led_on(led) else "off"
    ons = [b[0] - a[0] for a, b in itertools.pairwise(edges) if a[1] and not b[1]]
    offs = [b[0] - a[0] for a, b in itertools.pairwise(edges) if not a[1] and b[1]]
    assert ons and offs, (led, edges)
    assert max(ons) - min(ons) < 1e-6 and max(offs) - min(offs) < 1e-6, (led, edges)
    return round(ons[0], 6), round(offs[0], 6)


def observe_all(pack: SimPack, seconds: float = 21.0) -> dict[str, tuple[float, float] | str]:
    t0 = pack.clock.now()
    pack.clock.sleep(seconds)
    return {led: _observe(pack, led, t0, t0 + seconds) for led in LEDS}


def test_shut_down_all_off(make_pack: Make) -> None:
    pack, _ = make_pack(started=False)
    assert set(observe_all(pack).values()) == {"off"}


def test_power_on_all_on_for_one_second(make_pack: Make) -> None:
    pack, _ = make_pack(started=False)
    pack.set_power_button(True)
    pack.set_sw(True)
    pack.clock.sleep(1.0)
    t_on = pack.clock.now()
    pack.set_sw(False)
    pack.clock.sleep(5.0)
    for led in LEDS:
        edges = pack.led_edges(led, t_on - 1, t_on + 5)
        assert edges[0] == (t_on, True), led
        assert edges[1] == (pytest.approx(t_on + 1.0), False) or led == "RUN", led
    # RUN goes from the flash straight into Blink 1 (on 0.3 s more)
    assert pack.led_edges("RUN", t_on, t_on + 5)[1] == (pytest.approx(t_on + 1.3), False)


def test_standby_normal_run_blink1(make_pack: Make) -> None:
    pack, _ = make_pack()
    assert observe_all(pack) == {"RUN": BLINK1, "ALM": "off", "SOC1": "off", "SOC2": "off",
                                 "SOC3": "off", "SOC4": "off"}


def test_standby_alarm_alm_blink3(make_pack: Make) -> None:
    pack, _ = make_pack(with_change(default_unit("v5"), "cells.initial_soc_pct", 2.6))
    pack.clock.sleep(3)
    s = pack.bms.snapshot()
    assert "cell_uv" in s.alarms and not s.protections
    assert observe_all(pack) == {"RUN": "off", "ALM": BLINK3, "SOC1": "off", "SOC2": "off",
                                 "SOC3": "off", "SOC4": "off"}


def test_charging_normal_run_on_soc_bar_top_blinks(make_pack: Make) -> None:
    pack, net = make_pack(with_change(default_unit("v5"), "cells.initial_soc_pct", 40.0))
    set_current(pack, net, 20.0)  # 40 % → 2 segments, the second blinks
    pack.clock.sleep(3)
    assert observe_all(pack) == {"RUN": "on", "ALM": "off", "SOC1": "on", "SOC2": BLINK2,
                                 "SOC3": "off", "SOC4": "off"}


def test_charging_alarm(make_pack: Make) -> None:
    pack, net = make_pack(with_change(default_unit("v5"), "cells.initial_soc_pct", 2.6))
    set_current(pack, net, 20.0)
    pack.clock.sleep(3)
    assert "cell_uv" in pack.bms.snapshot().alarms
    assert observe_all(pack, 10.0) == {"RUN": "on", "ALM": BLINK3, "SOC1": BLINK2, "SOC2": "off",
                                       "SOC3": "off", "SOC4": "off"}


def test_discharging_normal_run_blink3_soc_bar(make_pack: Make) -> None:
    unit = with_change(default_unit("v5"), "cells.initial_soc_pct", 70.0)
    pack, net = make_pack(unit)
    set_current(pack, net, -20.0)
    pack.clock.sleep(3)
    assert observe_all(pack) == {"RUN": BLINK3, "ALM": "off", "SOC1": "on", "SOC2": "on",
                                 "SOC3": "on", "SOC4": "off"}


def test_discharging_alarm_both_blink3(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -105.0)  # over-current alarm above 100 A, trip only after 189 s
    pack.clock.sleep(3)
    assert "dsg_oc" in pack.bms.snapshot().alarms
    got = observe_all(pack)
    assert got["RUN"] == BLINK3 and got["ALM"] == BLINK3
    assert (got["SOC1"], got["SOC2"], got["SOC3"]) == ("on", "on", "off")


def test_protection_no_current_alm_on_rest_off(make_pack: Make) -> None:
    pack, _ = make_pack()
    pack.set_temperatures(60.0)
    pack.clock.sleep(5)
    assert observe_all(pack) == {"RUN": "off", "ALM": "on", "SOC1": "off", "SOC2": "off",
                                 "SOC3": "off", "SOC4": "off"}


def test_protection_one_direction_other_flowing(make_pack: Make) -> None:
    pack, net = make_pack()
    pack.set_temperatures(45.5)  # charge over-temperature, discharge allowed
    pack.clock.sleep(3)
    set_current(pack, net, -20.0)
    pack.clock.sleep(3)
    got = observe_all(pack)
    assert got == {"RUN": BLINK3, "ALM": "on", "SOC1": "on", "SOC2": "on", "SOC3": "off",
                   "SOC4": "off"}


def test_sleep_after_24_h_idle_run_blink4(make_pack: Make) -> None:
    pack, _ = make_pack()
    pack.clock.sleep(24 * 3600 - 10)
    assert pack.state == "on"
    pack.clock.sleep(20)
    assert pack.state == "sleep"
    assert not pack.bms.snapshot().discharge_fet
    assert observe_all(pack, 31.0) == {"RUN": BLINK4, "ALM": "off", "SOC1": "off", "SOC2": "off",
                                       "SOC3": "off", "SOC4": "off"}
    start(pack)  # SW wakes it
    assert pack.state == "on"


def test_activity_keeps_the_pack_awake(make_pack: Make) -> None:
    pack, _ = make_pack()
    for _ in range(30):
        pack.clock.sleep(3600)
        pack.bms.inverter_heartbeat(pack.clock.now())
    assert pack.state == "on"


def test_unit_blink_timing_changes_only_that_pattern(make_pack: Make) -> None:
    pack, _ = make_pack(with_change(default_unit("v5"), "timing.blink1_off_s", 4.2))
    assert observe_all(pack)["RUN"] == (0.3, 4.2)
    slow, _ = make_pack(with_change(default_unit("v5"), "timing.clock_gain", 1.1))
    assert observe_all(slow, 30.0)["RUN"] == (pytest.approx(0.33), pytest.approx(4.07))


def test_dead_led_never_lights(make_pack: Make) -> None:
    pack, _ = make_pack(with_change(default_unit("v5"), "leds.ALM.dead", True), started=False)
    start(pack)
    pack.set_temperatures(60.0)
    pack.clock.sleep(5)
    assert not pack.led_on("ALM") and pack.led_intensity("ALM") == 0.0
    assert pack.led_edges("ALM", 0, pack.clock.now()) == []
    assert pack.led_colour("ALM") == (255, 0, 0) and pack.led_colour("RUN") == (0, 255, 0)


def test_led_edges_answer_past_intervals_exactly(make_pack: Make) -> None:
    pack, _ = make_pack()
    t0 = pack.clock.now()
    pack.clock.sleep(100)
    first = pack.led_edges("RUN", t0, t0 + 50)
    pack.clock.sleep(3600)
    assert pack.led_edges("RUN", t0, t0 + 50) == first
    assert all(t0 <= t <= t0 + 50 for t, _ in first)
    with pytest.raises(ValueError, match="unknown LED"):
        pack.led_edges("RED", t0, t0 + 1)
