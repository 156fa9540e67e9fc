"""Limits: one base document per plan and a small override per model, resolved once a run.

``testplans/limits/<plan>/base.toml`` declares every measurement of the plan (name, unit,
step, limit, whether a failure stops the plan), the method conditions and the tables the
plan compares against (released firmware, derating); ``<plan>/<model>.toml`` changes only
what that model changes. :func:`load_limits` merges the two and validates the result;
:meth:`Limits.resolve` turns each declaration, with the work order and the unit's
features, into the :class:`reports.record.Limit` that is judged, recorded, stored and
printed — one object, resolved once. No number that decides PASS/FAIL sits in test code.

``<plan>/budget.toml`` is part of the document (merged at load, under its SHA-256; a model's
override may replace an entry): every numeric measurement's uncertainty budget
(:mod:`testplans.limits.uncertainty`). The limits are spec limits; ``resolve`` evaluates
each budget for the station the run uses and the Limit accepts only inside the spec limits
shrunk by U (guarded acceptance). The document is refused at load when a numeric
measurement has no budget, a budget selects nothing, or U, for the worst registered
dialect, leaves no acceptance interval or breaks the rule of ten without a reason.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reports.record import Limit
from testplans.limits.uncertainty import (
    RULE_OF_TEN,
    Budget,
    BudgetError,
    Figures,
    Uncertainty,
    any_station_figures,
    evaluate,
    half_tolerance,
    station_figures,
)

if TYPE_CHECKING:
    from stations.schema import StationFile

LIMITS_DIR = Path(__file__).parent
#: The hashes of released documents; beside this module, never in a folder given to load.
RELEASED_FILE = Path(__file__).with_name("released.toml")
Scalar = float | int | str | bool
#: What a unit or bench has that a measurement may need: the heater and breaker options, and
#: the certification fixtures and sample kinds (``docs/cert-plan.md``).
Feature = Literal["heater", "breaker", "short_circuit", "cell_thermocouples", "prepared_sample",
                  "reversal_fixture"]
NUMERIC = ("range", "ge", "le")
C = TypeVar("C", bound=BaseModel)


class LimitsFileError(ValueError):
    """A limits document that cannot be read or does not validate; names file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Declaration(_Strict):
    """One declared measurement, as the limits document states it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    step: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    unit: str = ""
    description: str = ""
    low: float | None = None
    high: float | None = None
    expect: Scalar | None = None
    expect_from: str | None = None      # a work-order key whose value is the expectation
    pattern: str | None = None
    one_of: list[Scalar] | str | None = None   # a list, or "released_firmware.<part>"
    critical: bool = False
    requires: Feature | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Declaration:
        kinds = [
            self.low is not None or self.high is not None,
            self.expect is not None,
            self.expect_from is not None,
            self.pattern is not None,
            self.one_of is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError(
                "declare exactly one of: low/high, expect, expect_from, pattern, one_of "
                "(a model-specific expectation goes in the model's override)"
            )
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self

    @property
    def comparison(self) -> Literal["range", "ge", "le", "eq", "regex", "in"]:
        if self.low is not None and self.high is not None:
            return "range"
        if self.low is not None:
            return "ge"
        if self.high is not None:
            return "le"
        if self.pattern is not None:
            return "regex"
        if self.one_of is not None:
            return "in"
        return "eq"


class LimitsDocument(_Strict):
    """The resolved document: base merged with the model's override."""

    plan: Literal["eol", "cert", "rma"]
    model: str
    version: str = Field(min_length=1)
    description: str = ""
    released_firmware: dict[str, list[str]]
    conditions: dict[str, float | int | str | bool | list[float]] = {}
    derating: list[dict[str, float]] = []
    measurement: list[Declaration]
    #: selector (a measurement's name or a glob) → its uncertainty budget (budget.toml)
    budget: dict[str, Budget] = {}
    #: the clause rows of a certification plan (testplans/cert/clauses.py reads them)
    clause: list[dict[str, str | list[str]]] = []
    #: a plan's classification thresholds (the RMA diagnosis's ``[rma]``): values, never code
    rma: dict[str, float | int | str | bool | list[float] | dict[str, float]] = {}

    @model_validator(mode="after")
    def _unique(self) -> LimitsDocument:
        seen: set[str] = set()
        for d in self.measurement:
            if d.name in seen:
                raise ValueError(f"measurement {d.name!r} is declared twice")
            seen.add(d.name)
            if isinstance(d.one_of, str):
                part = d.one_of.removeprefix("released_firmware.")
                if not d.one_of.startswith("released_firmware.") or part not in self.released_firmware:
                    raise ValueError(
                        f"measurement {d.name!r}: one_of {d.one_of!r} names no released_firmware list"
                    )
        return self


@dataclass(frozen=True)
class MeasurementSpec:
    """A declaration resolved for one run: what the recorder judges and keeps."""

    name: str
    step: str
    unit: str
    description: str
    critical: bool
    limit: Limit
    budget: Uncertainty | None = None   # the evaluated budget behind the limit's U


@dataclass(frozen=True)
class Limits:
    """A resolved limits document with its identity (files, SHA-256 of the resolved document)."""

    files: tuple[Path, ...]
    sha256: str
    data: LimitsDocument
    #: numeric measurement → the budget entry that selects it
    budgets: dict[str, Budget] = field(default_factory=dict)
    #: (selector, why) of the budget entries waiting for their measurement to be declared
    pending: tuple[tuple[str, str], ...] = ()

    @property
    def version(self) -> str:
        return self.data.version

    @property
    def label(self) -> str:
        """The files it came from, for the record: ``eol/base.toml + eol/budget.toml + eol/v5.toml``."""
        return " + ".join(_relative(p) for p in self.files)

    def declarations(self, features: set[str]) -> list[Declaration]:
        """The measurements that apply to a unit with ``features``, in plan order."""
        return [d for d in self.data.measurement if d.requires is None or d.requires in features]

    def resolve(self, work_order: dict[str, Any], features: set[str], *,
                station: StationFile) -> dict[str, MeasurementSpec]:
        """Every applicable declaration as the limit this run judges on ``station``: its
        spec limit, U from the budget evaluated with this station's instruments and
        calibration, and the acceptance limit. A missing work-order key, or a budget this
        station cannot meet, is an error now, before anything is switched on."""
        figures = station_figures(station)
        out: dict[str, MeasurementSpec] = {}
        for d in self.declarations(features):
            limit, budget = self._limit(d, work_order), None
            if d.name in self.budgets:
                budget = self._evaluate(d, figures, f"on station {station.id}")
                limit = limit.guarded(budget.expanded)
            out[d.name] = MeasurementSpec(
                name=d.name, step=d.step, unit=d.unit, description=d.description,
                critical=d.critical, limit=limit, budget=budget,
            )
        return out

    def uncertainty(self, name: str, station: StationFile) -> Uncertainty:
        """The evaluated budget of numeric measurement ``name`` on ``station``."""
        d = next((d for d in self.data.measurement if d.name == name), None)
        if d is None or name not in self.budgets:
            raise KeyError(f"{self.label}: {name!r} is no numeric measurement of the document")
        return self._evaluate(d, station_figures(station), f"on station {station.id}")

    def _evaluate(self, d: Declaration, figures: Figures, where: str) -> Uncertainty:
        try:
            result = evaluate(self.budgets[d.name], figures, self.data.conditions)
        except BudgetError as exc:
            raise LimitsFileError(f"{self.label}: measurement {d.name!r} {where}: {exc}") from None
        problem = capability_problem(d, result)
        if problem:
            raise LimitsFileError(f"{self.label}: measurement {d.name!r} {where}: {problem}")
        return result

    def _limit(self, d: Declaration, work_order: dict[str, Any]) -> Limit:
        expect = d.expect
        if d.expect_from is not None:
            if d.expect_from not in work_order:
                raise LimitsFileError(
                    f"{self.label}: measurement {d.name!r} expects the work order's "
                    f"{d.expect_from!r}, which this run has not got"
                )
            expect = work_order[d.expect_from]
        allowed: list[Scalar] | None = None
        if isinstance(d.one_of, str):
            allowed = list(self.data.released_firmware[d.one_of.removeprefix("released_firmware.")])
        elif d.one_of is not None:
            allowed = list(d.one_of)
        return Limit(low=d.low, high=d.high, expect=expect, pattern=d.pattern,
                     comparison=d.comparison, allowed=allowed)

    def conditions(self, model: type[C]) -> C:
        """The conditions as the plan's typed model; a missing, misspelt or mistyped key is
        an error naming the file and the key."""
        try:
            return model.model_validate(self.data.conditions)
        except ValidationError as exc:
            where = "; ".join(f"[conditions] {'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
                              for e in exc.errors())
            raise LimitsFileError(f"{self.label}: {where}") from None


def capability_problem(d: Declaration, result: Uncertainty) -> str:
    """Why U cannot stand for this limit: no acceptance interval left, or the rule of ten
    broken without a reason ("" when it can)."""
    u, half = result.expanded, half_tolerance(d.low, d.high)
    if half is None:
        return ""
    if not u < half:
        return f"U {u:g} leaves no acceptance interval inside {d.low:g} … {d.high:g}"
    if u > RULE_OF_TEN * half and not result.reason.strip():
        return (f"U {u:g} is {100 * u / half:.0f} % of the half tolerance {half:g} (rule of ten: "
                f"at most {100 * RULE_OF_TEN:.0f} %) and its budget gives no reason")
    return ""


def _relative(p: Path) -> str:
    try:
        return str(p.relative_to(LIMITS_DIR))
    except ValueError:
        return str(p)


def limits_files(plan: str, model: str, folder: Path | None = None) -> tuple[Path, Path]:
    """Base document and model override of ``plan``."""
    root = (folder or LIMITS_DIR) / plan
    return root / "base.toml", root / f"{model}.toml"


def load_limits(model: str, plan: str = "eol", *, folder: Path | None = None) -> Limits:
    """Merge and validate the base document of ``plan``, its budgets and ``model``'s
    override; refuse a numeric measurement without a budget, a budget that selects nothing
    (unless ``pending``), and a U that, for the worst registered dialect, leaves no
    acceptance interval or breaks the rule of ten without a reason.

    The files are read every time; what they say is parsed and checked once per content in
    a process (a lot's units load the same documents; an edited file is parsed afresh)."""
    base_path, override_path = limits_files(plan, model, folder)
    budget_path = base_path.with_name(BUDGET_FILE)
    budget_raw = _read_bytes(budget_path) if budget_path.exists() else None
    return _parsed_limits(model, base_path, budget_path, override_path,
                          _read_bytes(base_path), budget_raw, _read_bytes(override_path))


@lru_cache(maxsize=16)
def _parsed_limits(model: str, base_path: Path, budget_path: Path, override_path: Path,
                   base_raw: bytes, budget_raw: bytes | None, override_raw: bytes) -> Limits:
    base, override = _toml(base_path, base_raw), _toml(override_path, override_raw)
    if override.get("model") != model:
        raise LimitsFileError(f"{override_path}: key model must be {model!r}, "
                              f"got {override.get('model')!r}")
    if "budget" in base:
        raise LimitsFileError(f"{base_path}: budgets live in {BUDGET_FILE} beside it")
    budgets = _toml(budget_path, budget_raw) if budget_raw is not None else {}
    if set(budgets) - {"budget"}:
        raise LimitsFileError(f"{budget_path}: only [budget.<measurement or glob>] tables, "
                              f"not {', '.join(sorted(set(budgets) - {'budget'}))}")
    doc = _merge({**base, "budget": budgets.get("budget", {})}, override, override_path)
    where = f"{base_path} + {budget_path.name} + {override_path.name}"
    try:
        data = LimitsDocument.model_validate(doc)
    except ValidationError as exc:
        raise LimitsFileError(f"{where}: {_describe(exc, doc)}") from None
    assigned, pending = _assign_budgets(data, where)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    limits = Limits(files=(base_path, budget_path, override_path),
                    sha256=hashlib.sha256(canonical.encode()).hexdigest(), data=data,
                    budgets=assigned, pending=pending)
    for d in data.measurement:   # the worst station the document may meet
        if d.name in assigned:
            limits._evaluate(d, any_station_figures, "for the worst registered dialect")
    return limits


BUDGET_FILE = "budget.toml"


def _assign_budgets(data: LimitsDocument, where: str
                    ) -> tuple[dict[str, Budget], tuple[tuple[str, str], ...]]:
    """Each numeric measurement's budget: the entry of its name, else the one glob that
    matches it. Errors name every measurement and entry at fault."""
    problems: list[str] = []
    out: dict[str, Budget] = {}
    used: set[str] = set()
    missing: list[str] = []
    globs = [k for k in data.budget if any(c in k for c in "*?[")]
    for d in data.measurement:
        if d.comparison not in NUMERIC:
            if d.name in data.budget:
                problems.append(f"budget {d.name!r}: a {d.comparison!r} measurement needs no budget")
            continue
        keys = [d.name] if d.name in data.budget else [k for k in globs if fnmatchcase(d.name, k)]
        if len(keys) > 1:
            problems.append(f"measurement {d.name!r} is selected by several budgets: {', '.join(keys)}")
        elif keys:
            out[d.name] = data.budget[keys[0]]
            used.add(keys[0])
        else:
            missing.append(d.name)
    if missing:
        problems.append(f"no uncertainty budget for {', '.join(missing)} (add them to {BUDGET_FILE})")
    pending: list[tuple[str, str]] = []
    names = {d.name for d in data.measurement}
    for key, entry in data.budget.items():
        if key in used or key in names:
            continue
        if entry.pending.strip():
            pending.append((key, entry.pending.strip()))
        else:
            problems.append(f"budget {key!r} selects no numeric measurement (a typo? an announced "
                            "measurement not yet declared says so in `pending`)")
    if problems:
        raise LimitsFileError(f"{where}: " + "; ".join(problems))
    return out, tuple(pending)


def _read(path: Path) -> dict[str, Any]:
    return _toml(path, _read_bytes(path))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LimitsFileError(f"{path}: cannot read limits file ({exc.strerror})") from None


def _toml(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LimitsFileError(f"{path}: not valid TOML: {exc}") from None


#: What an override may change: conditions and tables key by key, measurements field by field.
_OVERRIDABLE = {"model", "version", "description", "conditions", "released_firmware",
                "derating", "measurement", "budget", "rma"}


def _merge(base: dict[str, Any], override: dict[str, Any], path: Path) -> dict[str, Any]:
    unknown = set(override) - _OVERRIDABLE
    if unknown:
        raise LimitsFileError(f"{path}: an override may not set {', '.join(sorted(unknown))}")
    doc = {k: v for k, v in base.items()}
    doc["model"] = override["model"]
    for key in ("version", "description", "derating"):
        if key in override:
            doc[key] = override[key]
    for key in ("conditions", "released_firmware", "budget"):   # budget: an entry replaced whole
        doc[key] = {**base.get(key, {}), **override.get(key, {})}
    if "rma" in base or "rma" in override:
        doc["rma"] = {**base.get("rma", {}), **override.get("rma", {})}
    changes = override.get("measurement", {})
    if not isinstance(changes, dict):
        raise LimitsFileError(f"{path}: measurement overrides are tables [measurement.<name>]")
    measurements = [dict(m) for m in base.get("measurement", [])]
    by_name = {m.get("name"): m for m in measurements}
    for name, fields in changes.items():
        if name not in by_name:
            raise LimitsFileError(f"{path}: [measurement.{name}] overrides no measurement of the base")
        by_name[name].update(fields)
    doc["measurement"] = measurements
    return doc


def _describe(exc: ValidationError, doc: dict[str, Any]) -> str:
    parts = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(x) for x in loc)
        if len(loc) >= 2 and loc[0] == "measurement" and isinstance(loc[1], int):
            try:
                name = doc["measurement"][loc[1]].get("name", "?")
                where = f"measurement {name!r} ({where})"
            except (IndexError, AttributeError, KeyError):
                pass
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def released_hashes(path: Path | None = None) -> dict[str, dict[str, list[str]]]:
    """``{plan: {model: [sha256, ...]}}`` of the released limits documents."""
    file = path or RELEASED_FILE
    data = _read(file)
    for plan, models in data.items():
        if not isinstance(models, dict) or not all(
                isinstance(v, list) and all(isinstance(h, str) for h in v) for v in models.values()):
            raise LimitsFileError(f"{file}: [{plan}] maps each model to a list of SHA-256 strings")
    return data


def is_released(limits: Limits, path: Path | None = None) -> bool:
    """Whether this resolved document is one that was released (its SHA-256 is listed for
    its plan and model): an edited document keeps its version label but not its hash."""
    listed = released_hashes(path).get(limits.data.plan, {}).get(limits.data.model, [])
    return limits.sha256 in listed
