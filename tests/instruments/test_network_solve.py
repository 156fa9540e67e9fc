"""The bench network's fast solve returns the very bits of the plain 64-halving bisection
(the golden EOL record's values rest on it), over random load, supply and pack states,
with the devices pushing current and with all of them open (the pack alone on the node)."""

from __future__ import annotations

import itertools
import math
import random

from sim.instruments.network import BenchNetwork, falls_with_voltage, pack_current
from sim.pack.interface import TerminalView
from tests.instruments.conftest import Rig


def reference_solve(net: BenchNetwork, view: TerminalView) -> tuple[float, float]:
    """The bisection as first written: 64 halvings of [0, V_MAX] with ``_balance``."""
    lo, hi = 0.0, net.V_MAX
    if net._balance(view, lo) <= 0:
        v = lo
    elif net._balance(view, hi) >= 0:
        v = hi
    else:
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            if net._balance(view, mid) > 0:
                lo = mid
            else:
                hi = mid
        v = 0.5 * (lo + hi)
    return v, pack_current(view, v)


def _bits(pair: tuple[float, float]) -> tuple[tuple[str, float], ...]:
    return tuple((float(x).hex(), math.copysign(1.0, x)) for x in pair)


def test_fast_solve_is_bit_identical_to_the_plain_bisection() -> None:
    rig = Rig()
    try:
        net, load, supply = rig.bench.network, rig.bench.load, rig.bench.supply
        rng = random.Random(14)
        regimes = set()
        for _ in range(3000):
            load.input_on, load.short_on = rng.random() < 0.7, rng.random() < 0.1
            load.mode = rng.choice(["CC", "CR", "CP", "CV"])
            load.levels = {"CC": rng.uniform(0, 300), "CR": rng.choice([0.0, rng.uniform(0, 5)]),
                           "CP": rng.uniform(0, 12_000), "CV": rng.uniform(0, 70)}
            supply.output_on = rng.random() < 0.6
            supply.vset, supply.source_limit = rng.uniform(0, 80), rng.uniform(0, 250)
            supply.sink_limit = rng.uniform(0, 50)
            view = TerminalView(emf_v=rng.choice([rng.uniform(0, 70), 0.0, 51.2]),
                                r_ohm=rng.choice([rng.uniform(-0.01, 0.2), 0.0, 0.01]),
                                charge_path=rng.random() < 0.8,
                                discharge_path=rng.random() < 0.8)
            want = reference_solve(net, view)
            # the last solution, where the solve starts looking: anywhere, or near this root
            net.volts = rng.choice([0.0, rng.uniform(-1, 201), want[0],
                                    want[0] * (1 + rng.uniform(-1e-6, 1e-6))])
            assert _bits(net.solve(view)) == _bits(want), (view, net.volts)
            regime = "low" if want[0] == 0.0 else "high" if want[0] == net.V_MAX else "root"
            alone = not (load.input_on or supply.output_on)   # the balance without the devices
            if alone:
                regime += ", pack alone"
            elif regime == "root":
                falls = all(falls_with_voltage(d, net.V_MAX) for d in net.devices)
                regime += ", known signs" if falls else ", every halving asked"
            regimes.add(regime)
        # every branch of the solve was tried with the pack alone, and with the devices
        # where they can reach it (pulling the node to 200 V takes a supply that sinks nothing)
        assert regimes == {"low", "root, known signs", "root, every halving asked",
                           "low, pack alone", "high, pack alone", "root, pack alone"}
    finally:
        rig.close()


def test_a_device_that_says_its_current_falls_with_the_voltage_is_right() -> None:
    """The known-signs solve rests on each device's claim: checked on a dense grid."""
    rig = Rig()
    try:
        net, load, supply = rig.bench.network, rig.bench.load, rig.bench.supply
        rng = random.Random(15)
        claimed = 0
        for _ in range(400):
            load.input_on, load.short_on = rng.random() < 0.8, rng.random() < 0.1
            load.mode = rng.choice(["CC", "CR", "CP", "CV"])
            load.levels = {"CC": rng.uniform(0, 300), "CR": rng.uniform(0, 5),
                           "CP": rng.uniform(0, 12_000), "CV": rng.uniform(0, 70)}
            supply.output_on = True
            supply.vset, supply.source_limit = rng.uniform(0, 80), rng.uniform(0, 250)
            supply.sink_limit = rng.uniform(0, 60)
            grid = sorted({0.0, net.V_MAX, *(rng.uniform(0, net.V_MAX) for _ in range(300)),
                           *(rng.uniform(0, 2) for _ in range(100))})
            for device in (load, supply):
                if falls_with_voltage(device, net.V_MAX):
                    claimed += 1
                    currents = [device.terminal_current(v) for v in grid]
                    assert all(b <= a for a, b in itertools.pairwise(currents)), device
        assert 200 < claimed < 800   # some claimed, some not (CP, a power-limited sink)
    finally:
        rig.close()
