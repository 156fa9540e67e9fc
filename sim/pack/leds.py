"""What the firmware shows on its LEDs (SPEC §3), as one pattern per LED.

A pure function of the firmware's display state, so the LED table of SPEC §3 reads
straight off this code. Patterns go into the pack's LED timelines, which turn them
into edges for any interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.pack.interface import LEDS
from sim.pack.timeline import OFF, ON, Pattern, blink
from sim.unit import TimingSection


@dataclass(frozen=True)
class Blinks:
    b1: Pattern
    b2: Pattern
    b3: Pattern
    b4: Pattern

    @classmethod
    def from_timing(cls, t: TimingSection) -> Blinks:
        g = t.clock_gain
        return cls(
            blink(t.blink1_on_s * g, t.blink1_off_s * g),
            blink(t.blink2_on_s * g, t.blink2_off_s * g),
            blink(t.blink3_on_s * g, t.blink3_off_s * g),
            blink(t.blink4_on_s * g, t.blink4_off_s * g),
        )


@dataclass(frozen=True)
class Display:
    """Everything the LEDs depend on."""

    state: str                # off | on | sleep | latched
    flash: bool               # power-on: all on
    test_led: int | None      # index into LEDS during `led test`
    mode: str                 # charging | discharging | standby
    protected: bool
    alarmed: bool
    soc_pct: float


def segments(soc_pct: float) -> int:
    return max(0, min(4, math.ceil(round(soc_pct, 6) / 25.0)))


def program(d: Display, b: Blinks) -> tuple[Pattern, ...]:
    """Patterns for RUN, ALM, SOC1-4, in LEDS order."""
    if d.state == "off":
        return (OFF,) * len(LEDS)
    if d.test_led is not None:
        return tuple(ON if i == d.test_led else OFF for i in range(len(LEDS)))
    if d.flash:
        return (ON,) * len(LEDS)
    if d.state == "sleep":
        return (b.b4,) + (OFF,) * (len(LEDS) - 1)
    if d.state == "latched":
        return (OFF, ON) + (OFF,) * 4
    flowing = d.mode != "standby"
    if d.protected and not flowing:
        return (OFF, ON) + (OFF,) * 4
    if d.mode == "charging":
        run: Pattern = ON
    elif d.mode == "discharging":
        run = b.b3
    else:
        run = OFF if d.alarmed else b.b1
    alm: Pattern = ON if d.protected else (b.b3 if d.alarmed else OFF)
    if not flowing:
        return (run, alm) + (OFF,) * 4
    n = segments(d.soc_pct)
    bar = [ON if i < n else OFF for i in range(4)]
    if d.mode == "charging" and n > 0:
        bar[n - 1] = b.b2
    return (run, alm, *bar)
