"""What the LEDs show, as firmware state: the power-on flash and the console's LED test.

The patterns themselves are ``sim.pack.leds`` (SPEC §3 as a pure function); this module
only knows when the flash ends and which LED the test lights.
"""

from __future__ import annotations

import math

from sim.pack.debounce import EPS
from sim.pack.interface import LEDS
from sim.pack.leds import Blinks, Display
from sim.unit import UnitDescription


class DisplayState:
    def __init__(self, unit: UnitDescription) -> None:
        g = unit.timing.clock_gain
        self.blinks = Blinks.from_timing(unit.timing)
        self._step = unit.timing.led_test_step_s * g
        self._flash_s = unit.timing.power_on_flash_s * g
        self.flash_until = -1.0
        self.led_test_start: float | None = None

    def power_on(self, t: float) -> None:
        self.flash_until = t + self._flash_s

    def end_flash(self) -> None:
        self.flash_until = -1.0

    def start_led_test(self, t: float) -> None:
        self.led_test_start = t

    def stop_led_test(self) -> None:
        self.led_test_start = None

    def deadlines(self, t: float) -> list[float]:
        out = []
        if self.flash_until > t:
            out.append(self.flash_until)
        if self.led_test_start is not None:
            k = int((t - self.led_test_start) / self._step + EPS) + 1
            out.append(self.led_test_start + k * self._step)
        return out

    def expire(self, t: float) -> None:
        """The LED test ends after every LED had its turn."""
        if self.led_test_start is not None and t + EPS >= self.led_test_start + len(LEDS) * self._step:
            self.led_test_start = None

    def key(self, t: float, state: str, mode: str, protected: bool, alarmed: bool,
            soc: float) -> tuple[object, ...]:
        """What the LEDs depend on, cheaply comparable (see :meth:`display`)."""
        test_led = None
        if self.led_test_start is not None:
            test_led = int((t - self.led_test_start) / self._step + EPS)
        return (state, t + EPS < self.flash_until, test_led, mode,
                protected, alarmed, math.ceil(round(soc * 4.0, 8)))

    def display(self, t: float, state: str, mode: str, protected: bool, alarmed: bool,
                soc: float) -> Display:
        test_led = None
        if self.led_test_start is not None and state in ("on", "latched"):
            k = int((t - self.led_test_start) / self._step + EPS)
            test_led = k if 0 <= k < len(LEDS) else None
        return Display(state, t + EPS < self.flash_until, test_led, mode, protected, alarmed,
                       soc * 100.0)
