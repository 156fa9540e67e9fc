"""Over-current tiers (SPEC §2.3): trip times per model, timer rules, release, latch."""

from __future__ import annotations

import pytest

from sim.pack import SimPack
from sim.pack.networks import CcCv, ConstantCurrent
from sim.unit import default_unit
from tests.sim.conftest import Make, set_current, start


def trip_time(pack: SimPack, net: ConstantCurrent, amps: float, horizon: float) -> float | None:
    """Apply ``amps`` now; return seconds until the current fell to 0 (None: no trip)."""
    t0 = pack.clock.now()
    set_current(pack, net, amps)
    pack.clock.sleep(horizon)
    for t, a in pack.current_history(t0, pack.clock.now()):
        if t > t0 and a == 0.0:
            return t - t0
    return None


def test_v5_110_a_discharge_trips_between_180_and_198_s(make_pack: Make) -> None:
    pack, net = make_pack()
    t0 = pack.clock.now()
    set_current(pack, net, -110.0)
    pack.clock.sleep(179.9)
    assert pack.current() == -110.0  # not before 180 s
    pack.clock.sleep(20)
    hist = pack.current_history(t0, pack.clock.now())
    assert hist[-1][1] == 0.0
    assert 180.0 <= hist[-1][0] - t0 <= 198.0
    assert hist[-1][0] - t0 == pytest.approx(189.0, abs=1e-6)
    s = pack.bms.snapshot()
    assert "dsg_oc" in s.protections
    assert s.charge_fet and not s.discharge_fet  # the other direction stays available


@pytest.mark.parametrize("model", ["v5", "v5-alpha"])
def test_150_a_trips_on_the_15_s_tier(make_pack: Make, model: str) -> None:
    pack, net = make_pack(model=model)
    t = trip_time(pack, net, -150.0, 20.0)
    assert t is not None and 15.0 <= t <= 16.5
    assert t == pytest.approx(15.75, abs=1e-6)


def test_v5_190_a_fast_trip_within_300_ms_but_alpha_follows_15_s_tier(make_pack: Make) -> None:
    v5, net5 = make_pack(model="v5")
    t = trip_time(v5, net5, -190.0, 1.0)
    assert t is not None and t <= 0.3
    assert t == pytest.approx(0.150, abs=1e-9)
    s = v5.bms.snapshot()
    assert not s.charge_fet and not s.discharge_fet  # fast trip opens both
    alpha, net_a = make_pack(model="v5-alpha")
    t = trip_time(alpha, net_a, -190.0, 20.0)
    assert t == pytest.approx(15.75, abs=1e-6)


def test_alpha_fast_trip_above_200_a(make_pack: Make) -> None:
    pack, net = make_pack(model="v5-alpha-plus", started=False)
    pack.set_breaker(True)
    start(pack)
    assert trip_time(pack, net, -220.0, 1.0) == pytest.approx(0.150, abs=1e-9)


def test_charge_direction_tiers_open_only_the_charge_fet(make_pack: Make) -> None:
    pack, net = make_pack()
    assert trip_time(pack, net, 150.0, 20.0) == pytest.approx(15.75, abs=1e-6)
    s = pack.bms.snapshot()
    assert "chg_oc" in s.protections
    assert not s.charge_fet and s.discharge_fet


def test_short_circuit_trips_in_200_us(make_pack: Make) -> None:
    pack, net = make_pack()
    t = trip_time(pack, net, -2000.0, 0.01)
    assert t is not None and t <= 0.001
    assert t == pytest.approx(200e-6, rel=1e-6)
    s = pack.bms.snapshot()
    assert "short" in s.protections
    assert not s.charge_fet and not s.discharge_fet


def test_100_a_never_trips_across_full_charge_and_full_discharge() -> None:
    from common.clock import VirtualClock

    clock = VirtualClock()
    unit = default_unit("v5")
    pack = SimPack(unit.model_copy(update={"cells": unit.cells.model_copy(update={"initial_soc_pct": 3.0})}), clock)
    charger = CcCv(volts=56.0, amps=100.0)
    pack.set_network(charger)
    start(pack)
    clock.sleep(3 * 3600)
    s = pack.bms.snapshot()
    assert s.fully_charged and s.soc_pct == 100.0
    load = ConstantCurrent(-100.0)
    with pack.changing():
        pack.set_network(load)
    clock.sleep(2 * 3600)
    s = pack.bms.snapshot()
    assert not s.discharge_fet  # ended by under-voltage, not over-current
    codes = {e.code for e in pack.bms.events()}
    assert not any("oc" in c and c.endswith("_prot") for c in codes), codes
    assert {"cell_uv_prot", "pack_uv_prot"} & codes


def test_tier_timer_resets_after_1_s_at_or_below_100_a(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -150.0)
    pack.clock.sleep(10.0)
    set_current(pack, net, -50.0)
    pack.clock.sleep(1.0)  # ≤ 100 A for 1 s: the timers reset
    assert trip_time(pack, net, -150.0, 20.0) == pytest.approx(15.75, abs=1e-6)


def test_tier_timer_holds_when_below_100_a_for_less_than_1_s(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -150.0)
    pack.clock.sleep(10.0)
    set_current(pack, net, -50.0)
    pack.clock.sleep(0.5)
    assert trip_time(pack, net, -150.0, 20.0) == pytest.approx(5.75, abs=1e-6)


def test_higher_tier_current_advances_the_lower_tier(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -150.0)
    pack.clock.sleep(10.0)
    # between 100 and 120 A the 15 s tier holds, the 3-minute tier has already run 10 s
    assert trip_time(pack, net, -110.0, 200.0) == pytest.approx(179.0, abs=1e-6)


def test_release_after_30_s_retrip_and_third_trip_latches(make_pack: Make) -> None:
    pack, net = make_pack()
    t0 = pack.clock.now()
    set_current(pack, net, -150.0)  # left applied: trips, recloses, trips again
    pack.clock.sleep(200.0)
    hist = pack.current_history(t0, pack.clock.now())
    times = [round(t - t0, 6) for t, _ in hist]
    assert times == [0.0, 15.75, 45.75, 61.5, 91.5, 107.25]
    s = pack.bms.snapshot()
    assert s.state == "latched"
    assert "oc_latched" in s.protections
    assert not s.charge_fet and not s.discharge_fet
    codes = [e.code for e in pack.bms.events()]
    assert codes.count("dsg_oc_prot") == 3 and codes.count("dsg_oc_release") == 2
    set_current(pack, net, 0.0)
    pack.clock.sleep(3600.0)
    assert pack.state == "latched"  # no auto-release
    pack.set_power_button(False)
    pack.clock.sleep(1.0)
    start(pack)
    s = pack.bms.snapshot()
    assert s.state == "on" and s.discharge_fet and not s.protections


def test_latch_cleared_by_sw_shutdown_and_start(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -190.0)
    pack.clock.sleep(100.0)
    assert pack.state == "latched"
    set_current(pack, net, 0.0)
    pack.set_sw(True)
    pack.clock.sleep(1.0)
    pack.set_sw(False)
    assert pack.state == "latched"  # a 1 s press does not clear the latch
    pack.set_sw(True)
    pack.clock.sleep(3.0)
    pack.set_sw(False)
    assert pack.state == "off"
    start(pack)
    assert pack.state == "on"


def test_two_trips_more_than_10_min_apart_do_not_latch(make_pack: Make) -> None:
    pack, net = make_pack()
    for _ in range(3):
        assert trip_time(pack, net, -150.0, 16.0) is not None
        set_current(pack, net, 0.0)
        pack.clock.sleep(320.0)
    assert pack.state == "on"


def test_over_current_alarm_above_tier_1(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -105.0)
    pack.clock.sleep(1.9)
    assert "dsg_oc" not in pack.bms.snapshot().alarms
    pack.clock.sleep(0.2)
    assert "dsg_oc" in pack.bms.snapshot().alarms


def test_exactly_100_a_never_trips(make_pack: Make) -> None:
    pack, net = make_pack()
    assert trip_time(pack, net, -100.0, 1200.0) is None  # 20 min from 50 %: no trip at all
    assert "dsg_oc" not in pack.bms.snapshot().alarms
