"""Simulator speed: simulated hours per wall second under load, and the cost of idle time.

Under load the pack steps at most 1 s, so 24 simulated hours are ≥ 86,400 steps; the
target (DESIGN.md) is 24 h in < 5 wall s. Idle time is crossed analytically, so an idle
hour must cost next to nothing.
"""

from __future__ import annotations

import time

from benchmarks.figure import Figure
from benchmarks.ratio import ratio
from common.clock import VirtualClock
from sim.pack import SimPack
from sim.pack.networks import ConstantCurrent
from sim.unit import default_unit


def _started(model: str = "v5") -> tuple[SimPack, ConstantCurrent, VirtualClock]:
    clock = VirtualClock()
    pack = SimPack(default_unit(model), clock, seed=1)
    net = ConstantCurrent(0.0)
    pack.set_network(net)
    pack.set_power_button(True)
    pack.set_sw(True)
    clock.sleep(1.0)
    pack.set_sw(False)
    clock.sleep(2.0)
    return pack, net, clock


def _loaded_day(snapshot_every_s: float | None) -> tuple[float, float]:
    """(wall s, CPU s) for 24 h of ±50 A half-hour cycling (the CPU time shows how much of
    the wall time other processes on the machine took)."""
    pack, net, clock = _started()
    started = time.perf_counter()
    cpu = time.process_time()
    for k in range(48):
        with pack.changing():
            net.amps = 50.0 if k % 2 == 0 else -50.0
        if snapshot_every_s is None:
            clock.sleep(1800.0)
        else:
            n = int(1800.0 / snapshot_every_s)
            for _ in range(n):
                clock.sleep(snapshot_every_s)
                pack.bms.snapshot()
        pack.sync()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    assert not pack.bms.snapshot().protections, "the benchmark profile must not trip"
    return wall, cpu


def _idle_hour() -> float:
    pack, _, clock = _started()
    pack.sync()
    started = time.perf_counter()
    clock.sleep(3600.0)
    pack.sync()
    return time.perf_counter() - started


def run() -> list[Figure]:
    wall, cpu = _loaded_day(None)
    wall_snap, cpu_snap = _loaded_day(1.0)
    idle = min(_idle_hour() for _ in range(3))
    return [
        Figure(
            "pack: simulated hours per wall second (1 s steps, ±50 A)",
            24.0 / wall, "h/s", target=None,
            detail=f"24 simulated hours in {wall:.2f} wall s ({86400 / wall:,.0f} simulated s per "
            f"wall s; CPU {cpu:.2f} s)",
        ),
        Figure(
            "pack: same, with a BMS snapshot every simulated second",
            24.0 / wall_snap, "h/s", target=None,
            detail=f"24 simulated hours in {wall_snap:.2f} wall s (CPU {cpu_snap:.2f} s)",
        ),
        Figure(
            "pack: wall cost of one idle simulated hour",
            idle * 1000.0, "ms", target=None, higher_is_better=False,
            detail="pack on, no current, at ambient",
        ),
        ratio("pack: an idle simulated hour ÷ a loaded one (1 s steps)", idle, wall / 24.0,
              "a loaded hour", 0.05, unit_s="ms", scale=1e3),
    ]
