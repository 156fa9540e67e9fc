"""The system lock [SPEC 2.2 A; IEC 62619:2022]: a cell far beyond its limits for 5 s opens
both MOSFETs and latches them across power cycles; only the console's ``unlock`` in test
mode clears it. Its own module: it outlives everything else the firmware resets at power-on."""

from __future__ import annotations

from sim.pack.debounce import Debounce
from sim.pack.firmware.io import Readings

#: SPEC 2.2: a cell at or above 3.90 V, at or below 2.00 V, or at or above 70 °C, for 5 s.
LOCK_HIGH_V = 3.90
LOCK_LOW_V = 2.00
LOCK_HOT_C = 70.0
LOCK_DELAY_S = 5.0


class SystemLock:
    def __init__(self, clock_gain: float = 1.0, fitted: bool = True) -> None:
        self.fitted = fitted
        self.timer = Debounce("system_lock", LOCK_DELAY_S * clock_gain)
        self.locked = False   # kept in the BMS's non-volatile memory: a power cycle keeps it

    def judge(self, m: Readings) -> bool:
        """True when the lock sets now."""
        beyond = self.fitted and (m.vmax >= LOCK_HIGH_V or m.vmin <= LOCK_LOW_V or m.tmax >= LOCK_HOT_C)
        if self.locked:
            self.timer.clear()
            return False
        if self.timer.judge(beyond, True) == 1:
            self.locked = True
            self.timer.clear()
            return True
        return False
