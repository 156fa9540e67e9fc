"""Where a run's time goes on the station clock: the plan's own waits (dwell), the exchanges
with instruments and the pack's ports (I/O: transfers, instrument processing, apertures),
and the rest (waits inside a role for an instrument or the pack to finish — a safety test
running, a pack's answer — and host time). What a shorter plan can win is in the rest and
in overlapping dwell.

Time is given to the innermost activity: a dead-man heartbeat written during a plan's wait
is I/O, not dwell. Only the thread that opened the station is counted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from common.clock import Clock

Activity = Literal["dwell", "io"]


class TimeLedger:
    """Running totals of station-clock seconds by activity."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._owner = threading.get_ident()
        self._stack: list[str] = []
        self._mark = clock.now()
        self._totals = {"dwell": 0.0, "io": 0.0, "other": 0.0}

    def _settle(self) -> None:
        now = self._clock.now()
        self._totals[self._stack[-1] if self._stack else "other"] += now - self._mark
        self._mark = now

    @contextmanager
    def spent_on(self, activity: Activity) -> Iterator[None]:
        """The time that passes inside is ``activity``'s (unless something inside is
        itself another activity)."""
        if threading.get_ident() != self._owner:
            yield
            return
        self._settle()
        self._stack.append(activity)
        try:
            yield
        finally:
            self._settle()
            self._stack.pop()

    def totals(self) -> dict[str, float]:
        """Seconds of dwell, io and other since the station opened."""
        if threading.get_ident() == self._owner:
            self._settle()
        return dict(self._totals)

