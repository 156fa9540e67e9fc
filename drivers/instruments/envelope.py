"""The station's safe envelope, checked in the driver layer before a command is written.

Limits belong to the station (its fixture, cables and fuses), not to an instrument, so every
role object of one station shares one :class:`Envelope`. A refused command raises
:class:`EnvelopeViolation` and nothing reaches the wire. The short-circuit mode of a load is
refused unless the calling step is one the station file lists and it asked for it with
:meth:`Envelope.allow_short`.

Every load mode is bounded by what it can draw, not only by its set point: CV needs a
current limit, CP is judged at the lowest plausible terminal voltage, CR at the highest.
The safety tester's test voltage and current have their own bounds. A hand-built envelope
(tests) may leave those two unbounded; a station file always sets them (stations/schema.py).
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
    #: lowest terminal voltage a load is assumed to see: a CP set point P draws P / this
    load_min_voltage_v: float = 40.0
    max_insulation_v: float = math.inf
    max_ground_bond_a: float = math.inf
    _short_step: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("max_voltage_v", "max_current_a", "max_power_w"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"envelope {name} must be a positive number, got {value!r}")
        for name in ("max_insulation_v", "max_ground_bond_a"):
            if not getattr(self, name) > 0:   # inf: not bounded by this (hand-built) envelope
                raise ValueError(f"envelope {name} must be positive, got {getattr(self, name)!r}")
        if not 0 < self.load_min_voltage_v <= self.max_voltage_v:
            raise ValueError(
                f"envelope load_min_voltage_v must be in 0..max_voltage_v, got {self.load_min_voltage_v!r}"
            )
        if not self.chamber_min_c < self.chamber_max_c:
            raise ValueError(
                f"envelope chamber range is empty: {self.chamber_min_c} .. {self.chamber_max_c}"
            )

    # -- checks --------------------------------------------------------------------------
    def refuse(self, who: str, command: str, text: str) -> EnvelopeViolation:
        return EnvelopeViolation(who, command, f"outside the station envelope: {text}")

    def _number(self, who: str, command: str, value: float) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise self.refuse(who, command, f"{value!r} is not a finite number")
        return float(value)

    def check_voltage(self, who: str, command: str, volts: float) -> float:
        v = self._number(who, command, volts)
        if not 0.0 <= v <= self.max_voltage_v:
            raise self.refuse(who, command, f"{v:g} V not in 0..{self.max_voltage_v:g} V")
        return v

    def check_current(self, who: str, command: str, amps: float) -> float:
        a = self._number(who, command, amps)
        if not 0.0 <= a <= self.max_current_a:
            raise self.refuse(who, command, f"{a:g} A not in 0..{self.max_current_a:g} A")
        return a

    def check_power(self, who: str, command: str, watts: float) -> float:
        w = self._number(who, command, watts)
        if not 0.0 <= w <= self.max_power_w:
            raise self.refuse(who, command, f"{w:g} W not in 0..{self.max_power_w:g} W")
        return w

    def check_cv(self, who: str, command: str, volts: float, limit_a: float | None) -> tuple[float, float]:
        """CV draws whatever holds the voltage: only a current limit bounds it (and V·I)."""
        v = self.check_voltage(who, command, volts)
        if limit_a is None:
            raise self.refuse(who, command, "CV mode needs a current limit (its current is unbounded)")
        a = self.check_current(who, command, limit_a)
        self.check_power(who, command, v * a)
        return v, a

    def check_cp(self, who: str, command: str, watts: float) -> float:
        """CP draws P/V: bounded by max current at the lowest plausible terminal voltage."""
        w = self.check_power(who, command, watts)
        amps = w / self.load_min_voltage_v
        if amps > self.max_current_a:
            raise self.refuse(
                who, command, f"{w:g} W draws {amps:g} A at {self.load_min_voltage_v:g} V, "
                f"above {self.max_current_a:g} A"
            )
        return w

    def check_resistance(self, who: str, command: str, ohms: float) -> float:
        """A CR load draws V/R: refuse any R whose current or power at max voltage is too high."""
        r = self._number(who, command, ohms)
        v = self.max_voltage_v
        r_min = max(v / self.max_current_a, v * v / self.max_power_w)
        if r < r_min:
            raise self.refuse(who, command, f"{r:g} Ω below {r_min:g} Ω (max V / max I, max V² / max P)")
        return r

    def check_insulation(self, who: str, command: str, volts: float) -> float:
        v = self._number(who, command, volts)
        if not 0.0 <= v <= self.max_insulation_v:
            raise self.refuse(who, command, f"{v:g} V not in 0..{self.max_insulation_v:g} V (insulation)")
        return v

    def check_ground_bond(self, who: str, command: str, amps: float) -> float:
        a = self._number(who, command, amps)
        if not 0.0 <= a <= self.max_ground_bond_a:
            raise self.refuse(who, command, f"{a:g} A not in 0..{self.max_ground_bond_a:g} A (ground bond)")
        return a

    def check_chamber(self, who: str, command: str, celsius: float) -> float:
        c = self._number(who, command, celsius)
        if not self.chamber_min_c <= c <= self.chamber_max_c:
            raise self.refuse(
                who, command, f"{c:g} °C not in {self.chamber_min_c:g}..{self.chamber_max_c:g} °C"
            )
        return c

    def check_short(self, who: str, command: str) -> None:
        if self._short_step is None:
            raise self.refuse(who, command, "short mode outside a step that declared it")

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
