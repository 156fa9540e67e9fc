"""Over-current tiers, the fast trip, short circuit, release and the latch (SPEC §2.3).

Its own module because the tier rules (timers that accumulate, reset after a quiet
second, the third trip latching) change independently of the level protections.
"""

from __future__ import annotations

from sim.pack.debounce import EPS, Debounce
from sim.pack.firmware.events import Emit, edge
from sim.pack.firmware.limits import Limits
from sim.unit import UnitDescription


class Direction:
    """Over-current state of one direction (charge or discharge)."""

    def __init__(self, name: str) -> None:
        self.name = name                       # "chg" | "dsg"
        self.tiers = [Debounce(f"{name}_oc{k}", 0.0) for k in (1, 2, 3)]  # tier1, tier2, fast
        self.reset = Debounce(f"{name}_oc_reset", 0.0)
        self.alarm = Debounce(f"{name}_oc", 0.0)
        self.tripped_until: float | None = None
        self.both_open = False                 # a fast trip opens both MOSFETs

    @property
    def opens_both(self) -> bool:
        return self.tripped_until is not None and self.both_open


class OverCurrent:
    """Both directions' tiers, the short-circuit detector and the trip counter."""

    def __init__(self, unit: UnitDescription, lim: Limits, emit: Emit) -> None:
        fw, g = unit.firmware, unit.timing.clock_gain
        self._reset_delay = fw.oc_reset_s * g
        self._short_a = fw.short_circuit_a
        self._window = fw.oc_latch_window_s * g
        self._latch_trips = fw.oc_latch_trips
        self._emit = emit
        self.dirs = {"chg": Direction("chg"), "dsg": Direction("dsg")}
        self.short = Debounce("short", 0.0)
        self.short_until: float | None = None
        self.trips: list[float] = []
        self.latched = False
        self.timers: list[Debounce] = [self.short]
        for dr in self.dirs.values():
            self.timers.extend([*dr.tiers, dr.reset, dr.alarm])
        self.lim = lim
        self.configure(lim)

    def configure(self, lim: Limits) -> None:
        self.lim = lim
        for dr in self.dirs.values():
            for d, delay in zip(dr.tiers, lim.tier_delays[:3], strict=True):
                d.delay = delay
            dr.reset.delay = self._reset_delay
            dr.alarm.delay = lim.alarm_delay
        self.short.delay = lim.tier_delays[3]

    # -- outputs ----------------------------------------------------------------------------
    def add_conditions(self, prot: set[str], alarms: set[str]) -> None:
        for dr in self.dirs.values():
            if dr.tripped_until is not None:
                prot.add(f"{dr.name}_oc")
            if dr.alarm.active:
                alarms.add(f"{dr.name}_oc")
        if self.short_until is not None:
            prot.add("short")
        if self.latched:
            prot.add("oc_latched")

    def blocks(self) -> tuple[bool, bool]:
        """(charge blocked, discharge blocked) by a tripped tier; a fast trip blocks both."""
        c, d = self.dirs["chg"], self.dirs["dsg"]
        return (c.tripped_until is not None or d.opens_both,
                d.tripped_until is not None or c.opens_both)

    def deadlines(self) -> list[float | None]:
        return [*(dr.tripped_until for dr in self.dirs.values()), self.short_until]

    # -- state changes ----------------------------------------------------------------------
    def restart(self) -> None:
        """Power-on: the latch and the trip count start afresh."""
        self.latched = False
        self.trips = []

    def reset(self) -> None:
        """Trips forgotten (the caller clears the timers)."""
        for dr in self.dirs.values():
            dr.tripped_until = None
            dr.both_open = False
        self.short_until = None

    def judge(self, t: float, current: float) -> None:
        """Judge the measured ``current`` (+ = charge) against the tiers at ``t``."""
        L = self.lim
        bounds = (L.tier1_a, L.tier2_a, L.fast_a)
        for dr in self.dirs.values():
            i = current if dr.name == "chg" else -current
            edge(self._emit, t, dr.alarm, i > L.tier1_a, i <= L.tier1_a, "alarm")
            if dr.tripped_until is not None:
                if t + EPS >= dr.tripped_until:
                    dr.tripped_until = None
                    dr.both_open = False
                    self._emit(t, f"{dr.name}_oc_release")
                else:
                    for d in dr.tiers:
                        d.running = False
                    continue
            if self.latched:
                continue
            # reset of the tier timers after a while at or below tier 1
            if dr.reset.judge(i <= L.tier1_a, i > L.tier1_a) == 1:
                for d in dr.tiers:
                    d.acc = 0.0
            for k in (2, 1, 0):
                d = dr.tiers[k]
                above = i > bounds[k]
                if above and d.acc + EPS >= d.delay:
                    self._trip(t, dr, k)
                    break
                d.running = above
        short_now = abs(current) > self._short_a
        if self.short_until is not None:
            if t + EPS >= self.short_until:
                self.short_until = None
                self.short.active = False
                self._emit(t, "short_release")
            self.short.running = False
        elif not self.latched and self.short.judge(short_now, not short_now) == 1:
            self.short_until = t + L.release
            self.short.active = True
            self._emit(t, "short_prot")
            self._count_trip(t)

    def _trip(self, t: float, dr: Direction, tier: int) -> None:
        dr.tripped_until = t + self.lim.release
        dr.both_open = tier == 2
        for d in dr.tiers:
            d.acc = 0.0
            d.running = False
        self._emit(t, f"{dr.name}_oc{'_fast' if tier == 2 else ''}_prot")
        self._count_trip(t)

    def _count_trip(self, t: float) -> None:
        self.trips = [x for x in self.trips if x > t - self._window - EPS]
        self.trips.append(t)
        if len(self.trips) >= self._latch_trips:
            self.latched = True
            for dr in self.dirs.values():
                dr.tripped_until = None
                dr.both_open = False
                for d in dr.tiers:
                    d.clear()
            self.short_until = None
            self.short.clear()
            self._emit(t, "oc_latched")
