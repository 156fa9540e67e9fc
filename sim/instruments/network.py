"""The bench's wiring across the pack terminals: the load and the supply in parallel.

Given the pack's :class:`TerminalView`, the terminal voltage V is the root of Kirchhoff's
current law ``I_supply(V) − I_load(V) − I_pack(V) = 0`` (each term monotonic in V, found by
bisection); the pack current is returned (+ = charge). The pack lets current through only
in the directions whose MOSFET is closed, so when the BMS opens the discharge MOSFET the
load's current stops. The last solution is kept for the instruments' measurements.
"""

from __future__ import annotations

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
        """Bisection on [0, V_MAX]. The twin's hottest loop: the balance is computed inline
        with exactly ``_balance``'s float operations in its order (``sum`` adds from 0 left
        to right), and the loop ends once the bracket is two adjacent floats, where every
        further halving returns the same midpoint: the same bits as 64 halvings.

        With every device open (the pack at rest between steps, a third of the solves) the
        devices' sum is 0.0 at every voltage, so the balance leaves them out: the same
        values, without asking each device at each of the ~55 midpoints."""
        emf, r, charge, discharge = view.emf_v, view.r_ohm, view.charge_path, view.discharge_path
        if all(open_circuit(d) for d in self.devices):
            def balance(v: float) -> float:
                if r <= 0:
                    return 0.0
                i = (v - emf) / r
                if (i > 0 and not charge) or (i < 0 and not discharge):
                    return 0.0
                return 0.0 - i
        else:
            currents = [d.terminal_current for d in self.devices]

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

        lo, hi = 0.0, self.V_MAX
        if balance(lo) <= 0:
            v = lo
        elif balance(hi) >= 0:
            v = hi
        else:
            for _ in range(64):
                mid = 0.5 * (lo + hi)
                if mid in (lo, hi):   # converged: the rest would change nothing
                    break
                if balance(mid) > 0:
                    lo = mid
                else:
                    hi = mid
            v = 0.5 * (lo + hi)
        return v, pack_current(view, v)

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
