"""Timelines of piecewise-constant signals (current, MOSFETs, contacts, LED patterns).

The pack keeps what it did, so a load capturing at any rate or an LED analyser asking
for an interval afterwards gets exact answers. Old entries are pruned beyond a horizon.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable
from typing import Generic, Literal, TypeVar

V = TypeVar("V", bound=Hashable)

#: How much simulated past a timeline keeps at least (s).
HORIZON_S = 3 * 3600.0


class Timeline(Generic[V]):
    """Change points (t, value) of a piecewise-constant signal, in time order."""

    __slots__ = ("_appends", "_t", "_v")

    def __init__(self, t0: float, value: V) -> None:
        self._t: list[float] = [t0]
        self._v: list[V] = [value]
        self._appends = 0

    @property
    def last(self) -> V:
        return self._v[-1]

    def set(self, t: float, value: V) -> None:
        """Record ``value`` from ``t`` on (nothing is recorded if it does not change)."""
        if value == self._v[-1]:
            return
        if t <= self._t[-1]:
            # a second change at the same instant replaces the first
            self._v[-1] = value
            if len(self._v) > 1 and self._v[-2] == value:
                self._t.pop()
                self._v.pop()
            return
        self._t.append(t)
        self._v.append(value)
        self._appends += 1
        if self._appends >= 4096:
            self._prune(t - HORIZON_S)

    def _prune(self, before: float) -> None:
        self._appends = 0
        i = bisect.bisect_right(self._t, before) - 1
        if i > 0:
            del self._t[:i]
            del self._v[:i]

    def at(self, t: float) -> V:
        i = bisect.bisect_right(self._t, t) - 1
        return self._v[max(i, 0)]

    def segments(self, t0: float, t1: float) -> list[tuple[float, float, V]]:
        """(start, end, value) pieces covering [t0, t1]; the first starts at t0."""
        i = max(bisect.bisect_right(self._t, t0) - 1, 0)
        out: list[tuple[float, float, V]] = []
        n = len(self._t)
        while i < n and self._t[i] <= t1:
            start = max(self._t[i], t0)
            end = min(self._t[i + 1], t1) if i + 1 < n else t1
            out.append((start, end, self._v[i]))
            i += 1
        return out

    def changes(self, t0: float, t1: float) -> list[tuple[float, V]]:
        """The value at ``t0`` and every change point in (t0, t1]."""
        return [(s, v) for s, _, v in self.segments(t0, t1)]

    @property
    def oldest(self) -> float:
        return self._t[0]


# An LED pattern: ("const", on) or ("blink", on_s, off_s) starting "on" where it begins.
Pattern = tuple[Literal["blink"], float, float] | tuple[Literal["const"], bool]

OFF: Pattern = ("const", False)
ON: Pattern = ("const", True)


def blink(on_s: float, off_s: float) -> Pattern:
    return ("blink", on_s, off_s)


def pattern_on(p: Pattern, since: float, t: float) -> bool:
    if p[0] == "const":
        return bool(p[1])
    on_s, off_s = float(p[1]), float(p[2])
    phase = (t - since) % (on_s + off_s)
    return phase < on_s - 1e-12


def pattern_edges(p: Pattern, since: float, t0: float, t1: float) -> list[tuple[float, bool]]:
    """Edges of pattern ``p`` (begun at ``since``) strictly inside (t0, t1]."""
    if p[0] == "const":
        return []
    on_s, off_s = float(p[1]), float(p[2])
    period = on_s + off_s
    k = max(int((t0 - since) // period) - 1, 0)
    out: list[tuple[float, bool]] = []
    while True:
        start = since + k * period
        if start > t1:
            break
        for t, on in ((start, True), (start + on_s, False)):
            if t0 < t <= t1:
                out.append((t, on))
        k += 1
    return out


class LedTimeline:
    """One LED: a timeline of patterns, answering its edges in any interval."""

    __slots__ = ("_tl",)

    def __init__(self, t0: float) -> None:
        self._tl: Timeline[Pattern] = Timeline(t0, OFF)

    def set(self, t: float, pattern: Pattern) -> None:
        self._tl.set(t, pattern)

    @property
    def pattern(self) -> Pattern:
        return self._tl.last

    def on_at(self, t: float) -> bool:
        tl = self._tl
        i = bisect.bisect_right(tl._t, t) - 1
        if i < 0:
            return False
        return pattern_on(tl._v[i], tl._t[i], t)

    def edges(self, t0: float, t1: float) -> list[tuple[float, bool]]:
        """Transitions (t, on) in [t0, t1] (a change exactly at t0 included)."""
        tl = self._tl
        i = max(bisect.bisect_right(tl._t, t0) - 1, 0)
        n = len(tl._t)
        state = self.on_at(t0 - 1e-9) if t0 > tl._t[0] else False
        out: list[tuple[float, bool]] = []
        while i < n and tl._t[i] <= t1:
            since = tl._t[i]
            end = tl._t[i + 1] if i + 1 < n else t1
            p = tl._v[i]
            if since >= t0:
                first = pattern_on(p, since, since)
                if first != state:
                    out.append((since, first))
                    state = first
            lo = since if since >= t0 else t0 - 1e-9
            for t, on in pattern_edges(p, since, lo, min(end, t1)):
                if t >= end and i + 1 < n:
                    break
                if on != state:
                    out.append((t, on))
                    state = on
            i += 1
        return out
