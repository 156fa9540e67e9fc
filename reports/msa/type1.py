"""Type-1 gauge study (AIAG/VDA, Bosch booklet 10): repeatability and bias of the station on
one master unit, per measurement, against the measurement's spec tolerance.

    Cg  = (K · T) / (L · s)
    Cgk = (K/2 · T − |x̄ − x_m|) / (L/2 · s)        K = 20 %, L = 6, target ≥ 1.33

T = high − low of the spec limit. A one-sided limit has no tolerance width: it is taken as
twice the distance from the reference to its one limit, T = 2 · |limit − x_m| (the width a
two-sided limit symmetric about x_m would have), so Cgk is the one-sided form
(K · d − |bias|) / (L/2 · s) with d = |limit − x_m|. A measurement whose values do not vary
has no s: it is reported as resolution-limited with its resolution, never divided by zero.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

K = 0.20
L = 6.0
TARGET = 1.33
#: A standard deviation below this fraction of the values' magnitude is float rounding.
REL_EPS = 1e-12

CAPABLE = "capable"
NOT_CAPABLE = "not capable"
NO_VARIATION = "no variation (resolution-limited)"
TOO_FEW = "too few values"
OUTSIDE = "reference outside the limits"


@dataclass(frozen=True)
class Type1Result:
    """One measurement's type-1 figures (``cg``/``cgk`` None when they cannot be given)."""

    name: str
    unit: str
    n: int
    mean: float | None
    s: float | None
    reference: float
    reference_basis: str
    reference_stated: bool          # False: x_m is the mean of the reference runs (flagged)
    low: float | None
    high: float | None
    tolerance: float                # T (one-sided: 2 · |limit − x_m|)
    one_sided: bool
    bias: float | None
    cg: float | None
    cgk: float | None
    resolution: float | None
    resolution_stated: bool
    status: str
    values: tuple[float, ...]

    @property
    def capable(self) -> bool:
        return self.status == CAPABLE

    @property
    def resolution_pct_of_t(self) -> float | None:
        """Resolution as a percentage of T (VDA 5 asks for at most 5 %)."""
        if self.resolution is None or self.tolerance <= 0:
            return None
        return 100.0 * self.resolution / self.tolerance

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["values"] = list(self.values)
        d["resolution_pct_of_t"] = self.resolution_pct_of_t
        return d


def tolerance(low: float | None, high: float | None, reference: float) -> tuple[float, bool]:
    """T and whether the limit is one-sided."""
    if low is not None and high is not None:
        return high - low, False
    limit = low if low is not None else high
    if limit is None:
        raise ValueError("a type-1 study needs at least one spec limit")
    inside = reference >= limit if low is not None else reference <= limit
    return (2.0 * abs(limit - reference) if inside else 0.0), True


def indices(mean: float, s: float, reference: float, t: float) -> tuple[float, float]:
    """(Cg, Cgk) for mean, standard deviation, reference value and tolerance."""
    cg = (K * t) / (L * s)
    cgk = (K / 2.0 * t - abs(mean - reference)) / (L / 2.0 * s)
    return cg, cgk


def study(name: str, unit: str, values: Sequence[float], *, reference: float,
          low: float | None, high: float | None, basis: str = "",
          reference_stated: bool = True, resolution: float | None = None,
          resolution_stated: bool = False) -> Type1Result:
    """The type-1 figures of ``values`` (one master, repeated runs) against the spec limits."""
    xs = tuple(float(v) for v in values)
    t, one_sided = tolerance(low, high, reference)
    n = len(xs)
    mean = statistics.fmean(xs) if xs else None
    s = statistics.stdev(xs) if n >= 2 else None
    bias = None if mean is None else mean - reference
    if bias is not None and abs(bias) <= 1e-9 * max(1.0, abs(reference)):
        bias = 0.0   # the mean of equal values differs from one of them only by rounding
    cg = cgk = None
    if n < 2 or mean is None or s is None:
        status = TOO_FEW
    elif s <= REL_EPS * max(1.0, abs(mean)):
        status, s = NO_VARIATION, 0.0
    elif t <= 0:
        status = OUTSIDE
    else:
        cg, cgk = indices(mean, s, reference, t)
        status = CAPABLE if cg >= TARGET and cgk >= TARGET else NOT_CAPABLE
    return Type1Result(name, unit, n, mean, s, reference, basis, reference_stated, low, high,
                       t, one_sided, bias, _finite(cg), _finite(cgk), resolution,
                       resolution_stated, status, xs)


def _finite(x: float | None) -> float | None:
    return x if x is None or math.isfinite(x) else None


NO_REFERENCE = "no reference value"


def analyse(series: dict[str, Any], reference: Any,
            fallback: dict[str, Any] | None = None) -> list[Type1Result]:
    """Type-1 figures of every numeric series (``reports.msa.values.Series``) against the
    reference file (``reports.msa.reference.Reference``); a measurement the file does not
    state takes the mean of the ``fallback`` series (separate reference runs), flagged."""
    from reports.msa.values import resolution_of

    out = []
    for name, s in series.items():
        stated = reference.values.get(name) if reference is not None else None
        taken = s.taken
        if stated is not None:
            x_m, basis, is_stated = stated.value, stated.basis, True
        else:
            ref_values = fallback[name].taken if fallback and name in fallback else []
            if not ref_values:
                out.append(Type1Result(name, s.unit, len(taken), None, None, math.nan, "",
                                       False, s.low, s.high, 0.0, s.low is None or s.high is None,
                                       None, None, None, None, False, NO_REFERENCE,
                                       tuple(taken)))
                continue
            x_m = statistics.fmean(ref_values)
            basis = (f"not stated by the reference file: mean of {len(ref_values)} separate "
                     "reference runs (bias against the true value not assessed)")
            is_stated = False
        res_stated = stated is not None and stated.resolution is not None
        resolution = stated.resolution if res_stated else resolution_of(taken)  # type: ignore[union-attr]
        out.append(study(name, s.unit, taken, reference=x_m, low=s.low, high=s.high, basis=basis,
                         reference_stated=is_stated, resolution=resolution,
                         resolution_stated=res_stated))
    return out
