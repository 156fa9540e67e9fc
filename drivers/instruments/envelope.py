"""The station's safe envelope, checked in the driver layer before a command is written.

Limits belong to the station (its fixture, cables and fuses), not to an instrument, so every
role object of one station shares one :class:`Envelope`. A refused command raises
:class:`EnvelopeViolation` and nothing reaches the wire. The short-circuit mode of a load is
refused unless the calling step is one the station file lists and it asked for it with
:meth:`Envelope.allow_short`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from drivers.instruments.errors import EnvelopeViolation


@dataclass
class Envelope:
    max_voltage_v: float
    max_current_a: float
    max_power_w: float
    chamber_min_c: float
    chamber_max_c: float
    short_steps: tuple[str, ...] = ()
    _short_step: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("max_voltage_v", "max_current_a", "max_power_w"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"envelope {name} must be a positive number, got {value!r}")
        if not self.chamber_min_c < self.chamber_max_c:
            raise ValueError(
                f"envelope chamber range is empty: {self.chamber_min_c} .. {self.chamber_max_c}"
            )

    # -- checks --------------------------------------------------------------------------
    def _refuse(self, who: str, command: str, text: str) -> EnvelopeViolation:
        return EnvelopeViolation(who, command, f"outside the station envelope: {text}")

    def _number(self, who: str, command: str, value: float) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise self._refuse(who, command, f"{value!r} is not a finite number")
        return float(value)

    def check_voltage(self, who: str, command: str, volts: float) -> float:
        v = self._number(who, command, volts)
        if not 0.0 <= v <= self.max_voltage_v:
            raise self._refuse(who, command, f"{v:g} V not in 0..{self.max_voltage_v:g} V")
        return v

    def check_current(self, who: str, command: str, amps: float) -> float:
        a = self._number(who, command, amps)
        if not 0.0 <= a <= self.max_current_a:
            raise self._refuse(who, command, f"{a:g} A not in 0..{self.max_current_a:g} A")
        return a

    def check_power(self, who: str, command: str, watts: float) -> float:
        w = self._number(who, command, watts)
        if not 0.0 <= w <= self.max_power_w:
            raise self._refuse(who, command, f"{w:g} W not in 0..{self.max_power_w:g} W")
        return w

    def check_resistance(self, who: str, command: str, ohms: float) -> float:
        """A CR load draws V/R: refuse any R that could exceed the current at max voltage."""
        r = self._number(who, command, ohms)
        r_min = self.max_voltage_v / self.max_current_a
        if r < r_min:
            raise self._refuse(who, command, f"{r:g} Ω below {r_min:g} Ω (max V / max I)")
        return r

    def check_chamber(self, who: str, command: str, celsius: float) -> float:
        c = self._number(who, command, celsius)
        if not self.chamber_min_c <= c <= self.chamber_max_c:
            raise self._refuse(
                who, command, f"{c:g} °C not in {self.chamber_min_c:g}..{self.chamber_max_c:g} °C"
            )
        return c

    def check_short(self, who: str, command: str) -> None:
        if self._short_step is None:
            raise self._refuse(who, command, "short mode outside a step that declared it")

    # -- the short-circuit step ----------------------------------------------------------
    @contextmanager
    def allow_short(self, step: str) -> Iterator[None]:
        """Within this block (and only for a step the station file lists) short mode is allowed."""
        if step not in self.short_steps:
            raise EnvelopeViolation(
                "envelope", None,
                f"step {step!r} may not use short mode; allowed steps: {list(self.short_steps)}",
            )
        previous, self._short_step = self._short_step, step
        try:
            yield
        finally:
            self._short_step = previous

    @property
    def short_step(self) -> str | None:
        return self._short_step
