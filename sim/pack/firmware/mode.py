"""The operating mode (charging, discharging, standby) from the measured current.

A mode changes only after its current has held for the mode delay, so a short pulse does
not flip the LEDs or the sleep timer.
"""

from __future__ import annotations

from sim.pack.debounce import EPS
from sim.unit import UnitDescription


class ModeDetector:
    def __init__(self, unit: UnitDescription) -> None:
        self._threshold = unit.firmware.mode_current_a
        self._delay = unit.firmware.mode_delay_s * unit.timing.clock_gain
        self.mode = "standby"
        self._candidate = "standby"
        self._since = 0.0

    def restart(self, t: float | None = None) -> None:
        """Back to standby (at power-on ``t`` restarts the candidate's clock too)."""
        self.mode = self._candidate = "standby"
        if t is not None:
            self._since = t

    def deadline(self) -> float | None:
        """When a pending candidate becomes the mode."""
        return self._since + self._delay if self._candidate != self.mode else None

    def judge(self, t: float, current: float) -> bool:
        """One evaluation; True when the mode has just become standby."""
        th = self._threshold
        cand = "charging" if current > th else "discharging" if current < -th else "standby"
        if cand != self._candidate:
            self._candidate = cand
            self._since = t
        if cand != self.mode and t + EPS >= self._since + self._delay:
            self.mode = cand
            return cand == "standby"
        return False
