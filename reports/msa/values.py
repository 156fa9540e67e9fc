"""The numeric measurements of a set of records: one series per measurement, in run order.

A measurement is numeric when its limit compares numbers (``range``, ``ge``, ``le``) and its
values are numbers (never a bool). Its spec limits are the record's ``Limit.low``/``high``.
A FAIL that measured nothing (a trip timeout recorded as its value) is no value.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from reports.analytics import NOT_MEASURED
from reports.record import Measurement, Record

NUMERIC_COMPARISONS = ("range", "ge", "le")


@dataclass
class Series:
    """One measurement across runs: its spec limits and a value (or None) per run."""

    name: str
    unit: str
    comparison: str
    low: float | None
    high: float | None
    values: list[float | None] = field(default_factory=list)

    @property
    def taken(self) -> list[float]:
        return [v for v in self.values if v is not None]


def measured_value(m: Measurement) -> float | None:
    """The number ``m`` measured, or None (not run, error, a timeout recorded as a value)."""
    if m.outcome not in ("PASS", "FAIL") or isinstance(m.value, bool):
        return None
    if not isinstance(m.value, int | float) or not math.isfinite(m.value):
        return None
    if m.outcome == "FAIL" and NOT_MEASURED.search(m.message or ""):
        return None
    return float(m.value)


def is_numeric(m: Measurement) -> bool:
    return m.limit.comparison in NUMERIC_COMPARISONS and not isinstance(m.value, bool | str)


def numeric_series(records: Sequence[Record]) -> dict[str, Series]:
    """Series of every numeric measurement, in plan order, one value per record."""
    out: dict[str, Series] = {}
    for r in records:
        for m in r.measurements:
            if m.name not in out and is_numeric(m):
                out[m.name] = Series(m.name, m.unit, m.limit.comparison, m.limit.low, m.limit.high)
    for name, s in out.items():
        for r in records:
            hit = next((x for x in r.measurements if x.name == name), None)
            s.values.append(measured_value(hit) if hit is not None else None)
    return out


def resolution_of(values: Iterable[float]) -> float | None:
    """The finest step the recorded values show: the smallest gap between distinct values,
    or, for constant values, the last decimal place of the value as recorded."""
    given = list(values)
    distinct = sorted({float(f"{v:.10g}") for v in given})
    if not distinct:
        return None
    if len(distinct) == 1 and all(isinstance(v, int) for v in given):
        return 1.0   # a count
    if len(distinct) > 1:
        return min(float(f"{b - a:.6g}") for a, b in itertools.pairwise(distinct))
    exponent = Decimal(repr(distinct[0])).as_tuple().exponent   # "1.0" → 0.1, "2" → 1
    return 10.0 ** min(int(exponent), 0) if isinstance(exponent, int) else None
