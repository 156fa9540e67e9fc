"""The certification bench's short-circuit fixture (CERT-RMA "Bench": ≤ 20 mΩ, ≥ 2 kA,
≥ 1 MS/s capture, interlocked, one shot): a contactor across the pack terminals, a coaxial
shunt in its loop (the oscilloscope's channel 1), a guard with an interlock.

- **The contactor** is fed by the DAQ output ``short_circuit`` (``[fixture] outputs``)
  through the guard's interlock contact, and timed by the fixture's own monostable: a
  rising edge of that line fires **one pulse** of :data:`PULSE_S`; the contactor opens after
  it whatever the station does (a hung station cannot hold a short), at once when the line
  drops or the guard opens, and fires again only on a new rising edge.
- **The interlock**: the guard's second contact on the DAQ input ``sc_interlock`` (closed =
  guard shut); the coil is fed only while it is closed, so a command with the guard open
  does nothing.
- **The loop**: :data:`R_FIXTURE` (contactor, shunt, cables) and :data:`L_LOOP`. In the
  bench network (quasi-static, as every device there) the closed contactor is a resistance
  across the terminals, so the pack's current is its EMF over (its resistance + the
  fixture's) and the BMS's short-circuit detector sees it at once. The waveform the scope
  captures adds the loop's dynamics: toward E/R with τ = L/R while the path conducts; once
  a path opens (the BMS's MOSFETs or the contactor), against the clamp: L·di/dt = E −
  V_clamp − R·i, until the current reaches 0 (no reverse current through an open path).
  The fixture's current is taken as the pack's discharge current while the contactor is
  closed: the plan switches the load and the supply off before a shot.

The detector of the twin's BMS starts its delay at the contactor's closure; a real one at
500 A on the rising current, about τ·ln(I/(I − 500 A)) ≈ 10 µs later (docs/cert-plan.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from common.clock import EventHandle

#: The fixture's loop: contactor, coaxial shunt and cables, Ω; its inductance, H [A].
R_FIXTURE = 0.005
L_LOOP = 1.0e-6
#: The BMS's MOSFET clamp (TVS) voltage the loop's energy is dumped into at turn-off, V [A].
V_CLAMP = 80.0
#: The fixture's monostable: how long one shot holds the contactor closed, s.
PULSE_S = 0.010
#: The coaxial shunt on the scope's channel 1, Ω (2.5 kA → 125 mV).
SHUNT_OHM = 50e-6
RELAY = "short_circuit"
INTERLOCK = "sc_interlock"


@dataclass
class Shot:
    """One closure of the contactor: when, and the loop it closed (EMF, pack resistance)."""

    closed_at: float
    emf_v: float
    r_pack_ohm: float
    opened_at: float | None = None

    @property
    def r_loop(self) -> float:
        return self.r_pack_ohm + R_FIXTURE

    @property
    def tau_s(self) -> float:
        return L_LOOP / self.r_loop


class ShortCircuitRig:
    """The fixture: a device of the bench network (``BenchNetwork.devices``)."""

    def __init__(self, pack: Any, clock: Any, network: Any) -> None:
        self.pack, self.clock, self.network = pack, clock, network
        self.guard_closed = True     # a test opens it to see the interlock refuse
        self.pulse_s = PULSE_S
        self.line = False            # the DAQ output that fires it
        self.closed = False
        self.shots: list[Shot] = []
        self._timer: EventHandle | None = None
        network.devices = (*network.devices, self)

    # -- the terminal node ------------------------------------------------------------------
    def terminal_current(self, volts: float) -> float:
        return -volts / R_FIXTURE if self.closed else 0.0

    def open_circuit(self) -> bool:
        return not self.closed

    def falls_with_voltage(self, up_to: float) -> bool:
        return True   # −V / R, or nothing

    # -- wiring -------------------------------------------------------------------------------
    def interlock(self) -> bool:
        """The guard's contact as the DAQ reads it."""
        return self.guard_closed

    def drive(self, on: bool) -> None:
        """The DAQ's output: a rising edge fires one pulse (if the guard is shut)."""
        rising = bool(on) and not self.line
        self.line = bool(on)
        if not on:
            self._open(self.clock.now())
        elif rising and self.guard_closed and not self.closed:
            self._close()

    def set_guard(self, closed: bool) -> None:
        self.guard_closed = bool(closed)
        if not closed:
            self._open(self.clock.now())

    def _close(self) -> None:
        self.pack.sync()
        view = self.network.view
        emf = float(view.emf_v) if view is not None else 0.0
        r = float(view.r_ohm) if view is not None else 0.0
        self.closed = True
        self.shots.append(Shot(self.clock.now(), emf, r))
        self._timer = self.clock.call_later(self.pulse_s, self._open)
        self.pack.inputs_changed()

    def _open(self, t: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.closed:
            return
        self.pack.sync()
        self.closed = False
        self.shots[-1].opened_at = t
        self.pack.inputs_changed()

    # -- the current in the loop (what the shunt carries) -----------------------------------
    def windows(self, t0: float, t1: float) -> list[tuple[float, float]]:
        """Where in [t0, t1] the loop may carry current: each shot, with its fall."""
        out = []
        for s in self.shots:
            end = (s.opened_at if s.opened_at is not None else self.clock.now()) + 20 * s.tau_s
            if end >= t0 and s.closed_at <= t1:
                out.append((max(t0, s.closed_at), min(t1, end)))
        return out

    def current(self, times: Sequence[float]) -> list[float]:
        """The loop's current at each of ``times`` (ascending), A, + = out of the pack
        through the fixture."""
        out = [0.0] * len(times)
        for s in self.shots:
            opened = s.opened_at if s.opened_at is not None else math.inf
            stop = min(opened, self.clock.now())
            hist = self.pack.current_history(s.closed_at, max(s.closed_at, stop))
            # breakpoints: the quasi-static target (the pack's discharge while closed)
            points = [(t, max(0.0, -i)) for t, i in hist if t < opened]
            if opened < math.inf:
                points.append((opened, 0.0))
            self._fill(s, points, times, out)
        return out

    @staticmethod
    def _fill(s: Shot, points: list[tuple[float, float]], times: Sequence[float], out: list[float]) -> None:
        tau, r = s.tau_s, s.r_loop
        floor = (s.emf_v - V_CLAMP) / r   # the clamped fall's asymptote (negative)
        i, t, k = 0.0, s.closed_at, 0
        for n, ts in enumerate(times):
            if ts < s.closed_at:
                continue
            while True:   # advance the state to min(ts, the next breakpoint)
                nxt = points[k + 1][0] if k + 1 < len(points) else math.inf
                end = min(ts, nxt)
                i = _evolve(i, points[k][1] if points else 0.0, floor, end - t, tau)
                t = end
                if end < nxt:
                    break
                k += 1
            out[n] += i


def _evolve(i: float, target: float, floor: float, dt: float, tau: float) -> float:
    """The loop's current after ``dt``: toward ``target`` while the path conducts, else the
    clamped fall toward ``floor`` ending at 0."""
    if dt <= 0.0:
        return i
    decay = math.exp(-dt / tau)
    if target > 0.0:
        return target + (i - target) * decay
    if i <= 0.0:
        return 0.0
    return max(0.0, floor + (i - floor) * decay)


def attach_short_circuit(instruments: Any, pack: Any, outputs: dict[str, int],
                         inputs: dict[str, int]) -> ShortCircuitRig | None:
    """Wire the fixture the station file names (its output and interlock input bits) to the
    DAQ, and the scope's channel 1 to its shunt; None if the file names no such output."""
    if RELAY not in outputs:
        return None
    rig = ShortCircuitRig(pack, instruments.clock, instruments.network)
    instruments.daq.extra_outputs[outputs[RELAY]] = rig.drive
    if INTERLOCK in inputs:
        instruments.daq.extra_inputs[inputs[INTERLOCK]] = rig.interlock
    scope = getattr(instruments, "short_circuit", None)
    if scope is not None:
        scope.source = rig
    return rig
