"""Limits files: one per model, versioned, hashed into every record.

A limits file declares every measurement of every plan: name, unit, limits (a range, an
exact expectation, a regex or a set), the step it belongs to and whether its failure
stops the plan. It also carries the *conditions* of the methods (test currents, dwells)
and the tables the plans compare against (released firmware, derating), so no number
that decides PASS/FAIL sits in test code.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

LIMITS_DIR = Path(__file__).parent
Outcome = Literal["PASS", "FAIL", "NOT_RUN", "ERROR"]
Scalar = float | int | str | bool


class LimitsFileError(ValueError):
    """A limits file that cannot be read or does not validate; names file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Declaration(_Strict):
    """One declared measurement."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    plan: Literal["eol", "cert", "rma"]
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
    requires: Literal["heater", "breaker"] | None = None

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
                "declare exactly one of: low/high, expect, expect_from, pattern, one_of"
            )
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self

    @property
    def comparison(self) -> str:
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


class LimitsFile(_Strict):
    model: str
    version: str
    description: str = ""
    released_firmware: dict[str, list[str]]
    conditions: dict[str, float | int | str | bool | list[float]] = {}
    derating: list[dict[str, float]] = []
    measurement: list[Declaration]

    @model_validator(mode="after")
    def _unique(self) -> LimitsFile:
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
class Limits:
    """A loaded limits file with its identity (path, SHA-256 of the exact bytes)."""

    path: Path
    sha256: str
    data: LimitsFile

    @property
    def version(self) -> str:
        return self.data.version

    def declarations(self, plan: str, features: set[str]) -> list[Declaration]:
        """The measurements of ``plan`` that apply to a unit with ``features``."""
        return [
            d for d in self.data.measurement
            if d.plan == plan and (d.requires is None or d.requires in features)
        ]

    def condition(self, key: str) -> Any:
        try:
            return self.data.conditions[key]
        except KeyError:
            raise LimitsFileError(f"{self.path}: [conditions] has no key {key!r}") from None

    def resolve_set(self, d: Declaration) -> list[Scalar]:
        if isinstance(d.one_of, str):
            return list(self.data.released_firmware[d.one_of.removeprefix("released_firmware.")])
        return list(d.one_of or [])


def limits_path(model: str) -> Path:
    return LIMITS_DIR / f"{model}.toml"


def load_limits(path_or_model: str | Path) -> Limits:
    """Load a limits file by model id (``v5``) or by path."""
    path = Path(path_or_model)
    if not path.suffix:
        path = limits_path(str(path_or_model))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LimitsFileError(f"{path}: cannot read limits file ({exc.strerror})") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LimitsFileError(f"{path}: not valid TOML: {exc}") from None
    try:
        data = LimitsFile.model_validate(doc)
    except ValidationError as exc:
        raise LimitsFileError(f"{path}: {_describe(exc, doc)}") from None
    return Limits(path=path, sha256=hashlib.sha256(raw).hexdigest(), data=data)


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


def judge(d: Declaration, value: Scalar | None, limits: Limits,
          work_order: dict[str, Any]) -> tuple[Outcome, str]:
    """PASS or FAIL of ``value`` against ``d``, with a short reason when it fails."""
    if value is None:
        return "ERROR", "no value"
    kind = d.comparison
    if kind in ("range", "ge", "le"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "ERROR", f"expected a number, got {value!r}"
        if d.low is not None and value < d.low:
            return "FAIL", f"{value:g} {d.unit} below {d.low:g}".replace("  ", " ")
        if d.high is not None and value > d.high:
            return "FAIL", f"{value:g} {d.unit} above {d.high:g}".replace("  ", " ")
        return "PASS", ""
    if kind == "regex":
        return ("PASS", "") if re.fullmatch(d.pattern or "", str(value)) else (
            "FAIL", f"{value!r} does not match {d.pattern!r}")
    if kind == "in":
        allowed = limits.resolve_set(d)
        return ("PASS", "") if value in allowed else ("FAIL", f"{value!r} not in {allowed}")
    expected = work_order.get(d.expect_from) if d.expect_from else d.expect
    if d.expect_from and d.expect_from not in work_order:
        return "ERROR", f"work order has no {d.expect_from!r}"
    if _equal(value, expected):
        return "PASS", ""
    return "FAIL", f"{value!r}, expected {expected!r}"


def _equal(a: Scalar, b: Scalar | None) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return str(a) == str(b)
