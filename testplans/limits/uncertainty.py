"""Uncertainty budgets: what a measurement's expanded uncertainty U (k = 2) is made of.

``testplans/limits/<plan>/budget.toml`` gives each numeric measurement (by name or glob) its
contributions; the station evaluates them at run start with ITS instruments (the station
file's dialect for each role, that dialect's datasheet figure, the calibration data), so U
differs by station. Each contribution becomes one or more standard uncertainties u (in the
measurement's unit); U = 2·√Σu², rounded up to two significant digits (GUM 7.2.6).

Kinds: ``instrument`` (datasheet accuracy at the reading ``at`` (SI) as a rectangular limit,
u = a/√3, the range's resolution step/√12, and the calibration's standard uncertainty when
the station file states one; ``scale`` converts to the measurement's unit and is the
sensitivity of the measurement to that reading; ``count`` independent readings),
``resolution`` (u = step/√12 per reading), ``sampling`` (u = interval/√12 per timed edge),
``rectangular`` (half-width a, u = a/√3), ``normal`` (u as given) and ``exact`` (a count or a
digital value read as it is: u = 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drivers.instruments.datasheets import Accuracy, NoDatasheetFigure, datasheet, dialects_with

if TYPE_CHECKING:
    from stations.schema import StationFile

SQRT3 = math.sqrt(3.0)
SQRT12 = math.sqrt(12.0)
#: The rule of ten: U at most this fraction of the half tolerance of a two-sided limit.
RULE_OF_TEN = 0.10


class BudgetError(ValueError):
    """A budget that cannot be evaluated (unknown role, no datasheet figure, bad condition)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Term(_Strict):
    what: str = Field(min_length=1)   # what this contribution is, as the capability doc prints it


class InstrumentTerm(_Term):
    kind: Literal["instrument"]
    role: str = Field(min_length=1)
    function: str = Field(min_length=1)
    at: float                          # the reading (SI) where the datasheet accuracy is taken
    scale: float = 1.0                 # measurement unit per SI unit of the reading
    count: int = Field(1, ge=1)        # independent readings that enter the measurement
    #: a rectangular half-width (measurement unit) in place of calibration data the station
    #: file does not give (e.g. a PT100 probe's class tolerance when no offsets are applied)
    without_calibration: float | None = Field(None, ge=0)


class ResolutionTerm(_Term):
    kind: Literal["resolution"]
    step: float = Field(gt=0)          # measurement unit
    count: int = Field(1, ge=1)


class SamplingTerm(_Term):
    kind: Literal["sampling"]
    interval: float | None = Field(None, gt=0)   # s
    #: a condition of the limits document holding the interval (``*_s``, ``*_ms``) or the
    #: rate (``*_hz``): the budget follows the method when the method changes
    interval_from: str | None = None
    edges: Literal[1, 2] = 2
    scale: float = 1.0                 # measurement unit per second

    @model_validator(mode="after")
    def _one_interval(self) -> SamplingTerm:
        if (self.interval is None) == (self.interval_from is None):
            raise ValueError("give exactly one of interval, interval_from")
        return self


class RectangularTerm(_Term):
    kind: Literal["rectangular"]
    a: float = Field(ge=0)             # half-width, measurement unit


class NormalTerm(_Term):
    kind: Literal["normal"]
    u: float = Field(ge=0)             # standard uncertainty, measurement unit


class ExactTerm(_Term):
    kind: Literal["exact"]


Term = Annotated[InstrumentTerm | ResolutionTerm | SamplingTerm | RectangularTerm | NormalTerm
                 | ExactTerm, Field(discriminator="kind")]


class Budget(_Strict):
    """One entry of ``budget.toml``: the contributions of the measurements it selects."""

    contribution: list[Term] = Field(min_length=1)
    #: why the method cannot reach the rule of ten (required when it does not)
    reason: str = ""
    #: why this entry selects no declared measurement yet (a measurement announced, not declared)
    pending: str = ""


@dataclass(frozen=True)
class Part:
    """One standard uncertainty of an evaluated budget, with how it was obtained."""

    what: str
    u: float
    how: str
    source: str = ""


@dataclass(frozen=True)
class Uncertainty:
    """An evaluated budget: its parts, U (k = 2) and the reason the document gives."""

    parts: tuple[Part, ...]
    reason: str = ""

    @property
    def combined(self) -> float:
        return math.sqrt(sum(p.u * p.u for p in self.parts))

    @property
    def expanded(self) -> float:
        """U = 2·u_c, rounded up to two significant digits."""
        return round_up(2.0 * self.combined)


def round_up(x: float, digits: int = 2) -> float:
    """``x`` rounded up to ``digits`` significant digits (0 stays 0)."""
    if x <= 0:
        return 0.0
    q = 10.0 ** (math.floor(math.log10(x)) - (digits - 1))
    return float(f"{math.ceil(round(x / q, 6)) * q:.{digits + 1}g}")


@dataclass(frozen=True)
class Figure:
    """A dialect's datasheet figure for a function, with the station's calibration (k = 1, SI)."""

    dialect: str
    accuracy: Accuracy
    calibration_u: float | None = None


#: (role, function) → the figures to evaluate: the station's one, or every dialect's.
Figures = Callable[[str, str], list[Figure]]


def station_figures(station: StationFile) -> Figures:
    """The figures of ``station``: each role's dialect from the station file, its datasheet
    figure, and the calibration's standard uncertainty of that function when stated."""

    def figures(role: str, function: str) -> list[Figure]:
        cfg = station.instruments.get(role)
        if cfg is None:
            raise BudgetError(f"station {station.id} has no {role!r} instrument")
        try:
            acc = datasheet(cfg.dialect, function)
        except NoDatasheetFigure as exc:
            raise BudgetError(str(exc.args[0])) from None
        return [Figure(cfg.dialect, acc, cfg.calibration.uncertainty.get(function))]

    return figures


def any_station_figures(role: str, function: str) -> list[Figure]:
    """Every registered dialect of ``role`` that states ``function``, without calibration:
    the document is checked at load for the worst station it may meet."""
    from drivers.instruments.registry import dialects_for

    names = dialects_with(function, dialects_for(role))
    if not names:
        raise BudgetError(f"no {role} dialect states a datasheet figure for {function!r} "
                          "(drivers/instruments/datasheets.py)")
    return [Figure(d, datasheet(d, function)) for d in names]


def evaluate(budget: Budget, figures: Figures, conditions: Mapping[str, Any]) -> Uncertainty:
    """The budget's parts with these instruments and the document's conditions; an
    instrument contribution takes the largest u among the figures offered."""
    parts: list[Part] = []
    for term in budget.contribution:
        parts.extend(_parts(term, figures, conditions))
    return Uncertainty(tuple(parts), budget.reason)


def _parts(term: Any, figures: Figures, conditions: Mapping[str, Any]) -> list[Part]:
    match term:
        case InstrumentTerm():
            options = [_instrument(term, f) for f in figures(term.role, term.function)]
            return max(options, key=lambda ps: sum(p.u * p.u for p in ps))
        case ResolutionTerm():
            n = f", {term.count} readings" if term.count > 1 else ""
            return [Part(term.what, term.step / SQRT12 * math.sqrt(term.count),
                         f"step {term.step:g}/√12{n}")]
        case SamplingTerm():
            dt = term.interval if term.interval is not None else _interval(term.interval_from, conditions)
            edge = "edge" if term.edges == 1 else "edges"
            return [Part(term.what, dt * abs(term.scale) / SQRT12 * math.sqrt(term.edges),
                         f"interval {dt:g} s/√12, {term.edges} timed {edge}")]
        case RectangularTerm():
            return [Part(term.what, term.a / SQRT3, f"±{term.a:g} rectangular")]
        case NormalTerm():
            return [Part(term.what, term.u, f"u = {term.u:g}")]
        case ExactTerm():
            return [Part(term.what, 0.0, "read exactly")]
    raise BudgetError(f"unknown contribution {term!r}")  # pragma: no cover - the union is closed


def _instrument(term: InstrumentTerm, fig: Figure) -> list[Part]:
    acc, k = fig.accuracy, abs(term.scale) * math.sqrt(term.count)
    rng = acc.range_for(term.at)
    a = rng.limit(term.at)
    n = f", {term.count} readings" if term.count > 1 else ""
    q = lambda x: quantity(x, acc.unit)  # noqa: E731
    which = f"{fig.dialect} {term.function}"
    parts = [Part(f"{term.what} ({which})", a / SQRT3 * k,
                  f"±{q(a)} at {q(term.at)} ({q(rng.upper)} range), rectangular{n}", acc.source)]
    if rng.resolution > 0:
        parts.append(Part(f"{which}: resolution", rng.resolution / SQRT12 * k,
                          f"step {q(rng.resolution)}/√12{n}", acc.source))
    if fig.calibration_u is not None:
        parts.append(Part(f"{which}: calibration (station file)", fig.calibration_u * k,
                          f"u = {q(fig.calibration_u)} (k = 1){n}"))
    elif term.without_calibration is not None:
        parts.append(Part(f"{which}: no calibration data in the station file",
                          term.without_calibration / SQRT3,
                          f"±{term.without_calibration:g} rectangular"))
    return parts


_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"))


def quantity(x: float, unit: str) -> str:
    """``x`` (SI) for people: an SI prefix for Ω, V, A and s (5e5 Ω → 500 kΩ)."""
    if unit not in ("Ω", "V", "A", "s") or x == 0:
        return f"{x:.3g} {unit}"
    for factor, prefix in _PREFIXES:
        if abs(x) >= factor:
            return f"{x / factor:.3g} {prefix}{unit}"
    return f"{x / 1e-6:.3g} µ{unit}"


def _interval(key: str | None, conditions: Mapping[str, Any]) -> float:
    value = conditions.get(key or "")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise BudgetError(f"interval_from {key!r}: no positive number among the conditions")
    if key and key.endswith("_hz"):
        return 1.0 / float(value)
    if key and key.endswith("_ms"):
        return float(value) * 1e-3
    if key and key.endswith("_s"):
        return float(value)
    raise BudgetError(f"interval_from {key!r}: a condition ending in _hz, _ms or _s")


def half_tolerance(low: float | None, high: float | None) -> float | None:
    """Half the tolerance of a two-sided limit (None for one-sided ones)."""
    if low is None or high is None:
        return None
    return (high - low) / 2.0
