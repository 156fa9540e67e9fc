"""The bench's wiring across the pack terminals: the load and the supply in parallel.

Given the pack's :class:`TerminalView`, the terminal voltage V is the root of Kirchhoff's
current law ``I_supply(V) − I_load(V) − I_pack(V) = 0`` (each term monotonic in V, found by
bisection); the pack current is returned (+ = charge). The pack lets current through only
in the directions whose MOSFET is closed, so when the BMS opens the discharge MOSFET the
load's current stops. The last solution is kept for the instruments' measurements.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

from sim.pack.interface import TerminalView


class TerminalDevice(Protocol):
    def terminal_current(self, volts: float) -> float:
        """Current the device pushes into the terminal node at ``volts`` (A); no side effects."""


def open_circuit(device: TerminalDevice) -> bool:
    """Whether ``device`` pushes no current (0.0 or -0.0) at any voltage now: its optional
    ``open_circuit()``; a device without one is never taken for open."""
    check = getattr(device, "open_circuit", None)
    return check is not None and bool(check())


def falls_with_voltage(device: TerminalDevice, up_to: float) -> bool:
    """Whether ``terminal_current`` as computed (in floats) never rises with the voltage on
    [0, ``up_to``] now: its optional ``falls_with_voltage(up_to)``; a device without one is
    never taken for monotonic."""
    check = getattr(device, "falls_with_voltage", None)
    return check is not None and bool(check(up_to))


def pack_current(view: TerminalView, volts: float) -> float:
    """Current into the pack at terminal voltage ``volts`` (ideal MOSFET paths)."""
    if view.r_ohm <= 0:
        return 0.0
    i = (volts - view.emf_v) / view.r_ohm
    if i > 0 and not view.charge_path:
        return 0.0
    if i < 0 and not view.discharge_path:
        return 0.0
    return i


class BenchNetwork:
    """Callable as a ``TerminalNetwork``; ``devices`` are the load and the supply."""

    V_MAX = 200.0

    def __init__(self, *devices: TerminalDevice) -> None:
        self.devices = devices
        self.volts = 0.0
        self.pack_amps = 0.0
        self.view: TerminalView | None = None

    def _balance(self, view: TerminalView, v: float) -> float:
        return sum(d.terminal_current(v) for d in self.devices) - pack_current(view, v)

    def solve(self, view: TerminalView) -> tuple[float, float]:
        """Bisection on [0, V_MAX], halving until the bracket is two adjacent floats (where
        every further halving returns the same midpoint: the same bits as 64 halvings).

        The twin's hottest loop, so it asks the balance as little as the same bits allow:
        with every device open (the pack at rest, a third of the solves) the devices' sum
        is 0.0 at every voltage and is left out; and when the balance as computed never
        rises with the voltage (each device says so, :func:`falls_with_voltage`), the sign
        at a midpoint beyond a point already evaluated is known without asking, so a few
        secant steps from the last solution first close in on the root and the halvings
        then ask only inside that bracket: about 8 evaluations instead of 55, the same
        midpoints, the same result. A device that may rise (a load in CP, a supply whose
        power limit narrows its sinking) gets the plain halving."""
        balance = self._balance_of(view)
        lo, hi = 0.0, self.V_MAX
        f_lo = balance(lo)
        if f_lo <= 0:
            v = lo
        else:
            f_hi = balance(hi)
            if f_hi >= 0:
                v = hi
            else:
                if all(falls_with_voltage(d, self.V_MAX) for d in self.devices):
                    positive = _known_signs(balance, *_close_in(balance, lo, hi, self.volts))
                else:
                    def positive(v: float) -> bool:
                        return balance(v) > 0
                for _ in range(64):
                    mid = 0.5 * (lo + hi)
                    if mid in (lo, hi):   # converged: the rest would change nothing
                        break
                    if positive(mid):
                        lo = mid
                    else:
                        hi = mid
                v = 0.5 * (lo + hi)
        return v, pack_current(view, v)

    def _balance_of(self, view: TerminalView) -> Callable[[float], float]:
        """The node's balance at ``v`` with exactly ``_balance``'s float operations in its
        order (``sum`` adds from 0 left to right); the devices left out when all are open
        (their sum is 0.0 at every voltage, so the balance is the same)."""
        emf, r, charge, discharge = view.emf_v, view.r_ohm, view.charge_path, view.discharge_path
        open_node = all(open_circuit(d) for d in self.devices)
        currents = [] if open_node else [d.terminal_current for d in self.devices]

        def balance(v: float) -> float:
            total: float = 0   # an int 0, as sum() starts: the same bits
            for current in currents:
                total += current(v)
            if r <= 0:
                return total - 0.0
            i = (v - emf) / r
            if (i > 0 and not charge) or (i < 0 and not discharge):
                return total - 0.0
            return total - i
        return balance

    def __call__(self, view: TerminalView) -> float:
        self.view = view
        self.volts, self.pack_amps = self.solve(view)
        tripped = False
        for d in self.devices:
            check = getattr(d, "after_solve", None)
            if check is not None and check(self.volts):
                tripped = True
        if tripped:  # a protection switched something off: the node settles again
            self.volts, self.pack_amps = self.solve(view)
        return self.pack_amps

    def device_current(self, device: TerminalDevice) -> float:
        """What ``device`` pushes into the node at the last solution (A)."""
        return device.terminal_current(self.volts)


#: Evaluations of the balance spent closing in before the halvings take over.
CLOSE_IN_BUDGET = 16


def _close_in(balance: Callable[[float], float], a: float, b: float,
              guess: float) -> tuple[float, float]:
    """A bracket [a, b] of the root, balance(a) > 0 >= balance(b), a few ulps wide: secant
    steps from ``guess`` (the last solution: the root moves little between solves) and a
    point just beside it; a step that would not move 2 ulps goes 2 ulps towards the root
    instead (fourfold each time again), so the bracket closes from both sides; a halving
    where a step would leave the bracket. Every point is evaluated, so the bracket is as
    true as the halving's own; the budget spent, the halvings finish the work."""
    spent = 0
    x = guess if a < guess < b else 0.5 * (a + b)
    last: tuple[float, float] | None = None
    nudge = 2.0
    while spent < CLOSE_IN_BUDGET and b - a > 4 * math.ulp(b):
        fx = balance(x)
        spent += 1
        if fx > 0:
            a = x
        else:
            b = x
        toward = 1.0 if fx > 0 else -1.0
        if last is None:   # a second point just beside the first, towards the root
            nxt = x + toward * 1e-9 * max(1.0, abs(x))
        else:
            xp, fp = last
            nxt = x - fx * (x - xp) / (fx - fp) if fx != fp else 0.5 * (a + b)
            if abs(nxt - x) < nudge * math.ulp(x):   # stalled on one side: step across
                nxt = x + toward * nudge * math.ulp(x)
                nudge *= 4.0
            else:
                nudge = 2.0
        if not a < nxt < b:
            nxt = 0.5 * (a + b)
        last, x = (x, fx), nxt
    return a, b


def _known_signs(balance: Callable[[float], float], a: float,
                 b: float) -> Callable[[float], bool]:
    """``balance(v) > 0`` for a balance that never rises with v, known at and below the
    highest point seen positive and at and above the lowest seen not: evaluated only
    between them (each evaluation narrows them)."""
    known = [a, b]

    def positive(v: float) -> bool:
        if v <= known[0]:
            return True
        if v >= known[1]:
            return False
        if balance(v) > 0:
            known[0] = v
            return True
        known[1] = v
        return False
    return positive
