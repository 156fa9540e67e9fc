"""Random operation sequences never break the pack's invariants (hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.clock import VirtualClock
from sim.pack import SimPack
from sim.pack.interface import CONDITIONS, LEDS, STATES
from sim.pack.networks import ConstantCurrent
from sim.unit import default_unit

UNIT = default_unit("v5")

ops = st.one_of(
    st.tuples(st.just("amps"), st.floats(-700.0, 250.0)),
    st.tuples(st.just("sleep"), st.floats(1e-4, 400.0)),
    st.tuples(st.just("temp"), st.floats(-25.0, 70.0)),
    st.tuples(st.just("power"), st.booleans()),
    st.tuples(st.just("sw"), st.floats(0.1, 4.0)),
    st.tuples(st.just("in1"), st.sampled_from([0.0, 24.0])),
    st.tuples(st.just("tmode"), st.booleans()),
    st.tuples(st.just("relay"), st.integers(2, 4)),
)


def check(pack: SimPack) -> None:
    s = pack.bms.snapshot()
    i = pack.current()
    assert s.state in STATES
    assert s.alarms <= set(CONDITIONS) and s.protections <= set(CONDITIONS)
    assert 0.0 <= s.soc_pct <= 100.0
    if not s.charge_fet:
        assert i <= 0.0
    if not s.discharge_fet:
        assert i >= 0.0
    if s.state != "on":
        assert not s.charge_fet and not s.discharge_fet and i == 0.0
    if s.state == "off":
        assert not any(pack.led_on(n) for n in LEDS)
        assert not any(pack.contact_closed(n) for n in (2, 3, 4))
    assert s.charge_limit_da >= 0 and s.discharge_limit_da >= 0
    if "chg_oc" in s.protections or "cell_ov" in s.protections:
        assert not s.charge_fet
    hist = pack.current_history(0.0, pack.clock.now())
    assert all(a[0] < b[0] for a, b in itertools.pairwise(hist))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=25))
def test_random_operations_keep_invariants(sequence: list[tuple[str, object]]) -> None:
    clock = VirtualClock()
    pack = SimPack(UNIT, clock)
    net = ConstantCurrent(0.0)
    pack.set_network(net)
    pack.set_power_button(True)
    pack.set_sw(True)
    clock.sleep(1.0)
    pack.set_sw(False)
    for op, arg in sequence:
        if op == "amps":
            with pack.changing():
                net.amps = float(arg)  # type: ignore[arg-type]
        elif op == "sleep":
            clock.sleep(float(arg))  # type: ignore[arg-type]
        elif op == "temp":
            pack.set_temperatures(float(arg))  # type: ignore[arg-type]
        elif op == "power":
            pack.set_power_button(bool(arg))
        elif op == "sw":
            pack.set_sw(True)
            clock.sleep(float(arg))  # type: ignore[arg-type]
            pack.set_sw(False)
        elif op == "in1":
            pack.set_in1(float(arg))  # type: ignore[arg-type]
        elif op == "tmode":
            pack.bms.login_debug()
            pack.bms.set_test_mode(bool(arg))
        elif op == "relay" and pack.bms.snapshot().test_mode:
            pack.bms.force_relay(int(arg), True)  # type: ignore[call-overload]
        check(pack)
