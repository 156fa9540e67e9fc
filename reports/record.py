"""The test record: what one run of a plan on one pack established, field by field.

The recorder fills it, the store persists it as it grows, the JSON file carries it to the
MES and the certificate prints it. It is the single shape of a result everywhere, so every
consumer agrees on what was measured. JSON round-trips exactly: ``Record.from_json_bytes(
r.to_json_bytes()) == r`` and the bytes are deterministic (fixed field order, sorted
``work_order`` keys), so the SHA-256 of a written record identifies its content.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, assert_never

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 2   # 2: a Limit keeps its uncertainty and acceptance limits (1 still loads)

Outcome = Literal["PASS", "FAIL", "NOT_RUN", "ERROR"]
Verdict = Literal["PASS", "FAIL", "ABORTED", "ERROR"]
Comparison = Literal["range", "ge", "le", "eq", "regex", "in"]
Value = float | int | str | bool | None

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _utc(value: datetime | None, what: str) -> datetime | None:
    """Calendar times are UTC and timezone-aware, so two stations' records compare."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _absent(v: object) -> bool:
    """Fields added to a schema are left out of the JSON when unset, so a record written
    before them keeps its exact bytes (and its signature) when it is read and written again."""
    return v is None or v == []


def _clean(x: float) -> float:
    """A limit computed from two decimals, without the binary noise (53.6 − 0.012)."""
    return float(f"{x:.12g}")


class Limit(_Model):
    """A measurement's acceptance rule, resolved once when the run starts (work order,
    released firmware, the station's uncertainty): the very object that is judged,
    recorded, stored and printed.

    ``low``/``high`` are the spec limits (what a good pack does); a numeric limit resolved
    with its measurement's expanded uncertainty ``uncertainty`` (U, k = 2) accepts only
    inside ``accept_low``/``accept_high``, the spec limits shrunk by U (guarded acceptance,
    ISO 14253-1). Records written before U was kept have none of the three: they judge
    against the spec limits, as they were judged."""

    low: float | None = None
    high: float | None = None
    expect: str | float | int | bool | None = None  # exact expectation ("eq"), or a list for "in"
    pattern: str | None = None  # regex for strings ("regex")
    comparison: Comparison
    allowed: list[str | float | int | bool] | None = None  # the choices of "in"
    uncertainty: float | None = Field(None, ge=0, allow_inf_nan=False, exclude_if=_absent)
    accept_low: float | None = Field(None, allow_inf_nan=False, exclude_if=_absent)
    accept_high: float | None = Field(None, allow_inf_nan=False, exclude_if=_absent)

    @field_validator("expect", "low", "high", mode="before")
    @classmethod
    def _plain_expect(cls, v: Any) -> Any:
        return _plain(v)

    @field_validator("allowed", mode="before")
    @classmethod
    def _plain_allowed(cls, v: Any) -> Any:
        return [_plain(x) for x in v] if isinstance(v, (list, tuple)) else v

    @model_validator(mode="after")
    def _guard_inside_spec(self) -> Limit:
        """An acceptance limit exists only with U, on the side a spec limit has, inside it."""
        guarded = (self.accept_low, self.accept_high)
        if self.uncertainty is None:
            if guarded != (None, None):
                raise ValueError("an acceptance limit needs its uncertainty")
            return self
        if self.comparison not in ("range", "ge", "le"):
            raise ValueError(f"a {self.comparison!r} limit has no uncertainty")
        for spec, accept, side in ((self.low, self.accept_low, "low"), (self.high, self.accept_high, "high")):
            if (spec is None) != (accept is None):
                raise ValueError(f"accept_{side} goes with a spec limit {side}")
        if self.accept_low is not None and self.low is not None and self.accept_low < self.low:
            raise ValueError(f"accept_low {self.accept_low:g} is outside the spec limit {self.low:g}")
        if self.accept_high is not None and self.high is not None and self.accept_high > self.high:
            raise ValueError(f"accept_high {self.accept_high:g} is outside the spec limit {self.high:g}")
        if (self.accept_low is not None and self.accept_high is not None
                and self.accept_low > self.accept_high):
            raise ValueError("the acceptance limits leave no interval")
        return self

    def guarded(self, uncertainty: float) -> Limit:
        """This spec limit with expanded uncertainty U and its acceptance limits (spec
        limits shrunk by U on each side); ValueError when nothing is left to accept."""
        if self.comparison not in ("range", "ge", "le"):
            raise ValueError(f"a {self.comparison!r} limit takes no uncertainty")
        u = float(uncertainty)
        low = None if self.low is None else _clean(self.low + u)
        high = None if self.high is None else _clean(self.high - u)
        if low is not None and high is not None and not low < high:
            raise ValueError(f"U {u:g} leaves no acceptance interval inside {self.text()}")
        return self.model_copy(update={"uncertainty": u, "accept_low": low, "accept_high": high})

    def judge(self, value: Value, unit: str = "") -> tuple[Outcome, str]:
        """PASS or FAIL of ``value``, with a short reason when it is not PASS. A value that
        is missing, of the wrong kind or not finite is ERROR: it never reaches a comparison.
        A value inside the spec limits but outside the acceptance limits is in the guard
        band: FAIL, and the reason says so."""
        if value is None:
            return "ERROR", "no value"
        if isinstance(value, float) and not math.isfinite(value):
            return "ERROR", f"non-finite reading {value!r}"
        match self.comparison:
            case "range" | "ge" | "le":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    return "ERROR", f"expected a number, got {value!r}"
                return self._judge_number(float(value), unit)
            case "regex":
                if re.fullmatch(self.pattern or "", str(value)):
                    return "PASS", ""
                return "FAIL", f"{value!r} does not match {self.pattern!r}"
            case "in":
                allowed = self.allowed or []
                return ("PASS", "") if value in allowed else ("FAIL", f"{value!r} not in {allowed}")
        if self.expect is None:
            return "ERROR", "no expectation resolved for this limit"
        if _equal(value, self.expect):
            return "PASS", ""
        return "FAIL", f"{value!r}, expected {self.expect!r}"

    def _judge_number(self, value: float, unit: str) -> tuple[Outcome, str]:
        shown = f"{value:g} {unit}".strip()
        if self.low is not None and value < self.low:
            return "FAIL", f"{shown} below {self.low:g}"
        if self.high is not None and value > self.high:
            return "FAIL", f"{shown} above {self.high:g}"
        u = _num(self.uncertainty)
        if self.accept_low is not None and value < self.accept_low:
            return "FAIL", (f"{shown} in the guard band: spec ≥ {self.low:g}, U {u}, "
                            f"accepted ≥ {self.accept_low:g}")
        if self.accept_high is not None and value > self.accept_high:
            return "FAIL", (f"{shown} in the guard band: spec ≤ {self.high:g}, U {u}, "
                            f"accepted ≤ {self.accept_high:g}")
        return "PASS", ""

    def spec_text(self) -> str:
        """The spec limit for people, e.g. ``51.5 … 53.6`` or ``≥ 10``."""
        match self.comparison:
            case "range":
                return f"{_num(self.low)} … {_num(self.high)}"
            case "ge":
                return f"≥ {_num(self.low)}"
            case "le":
                return f"≤ {_num(self.high)}"
            case "eq":
                return f"= {_num(self.expect)}"
            case "regex":
                return f"~ /{self.pattern}/"
            case "in":
                return "∈ {" + ", ".join(_num(a) for a in (self.allowed or [])) + "}"
        assert_never(self.comparison)  # pragma: no cover - Literal covers every case

    def uncertainty_text(self) -> str:
        """U (k = 2) for people, ``—`` where there is none."""
        return "—" if self.uncertainty is None else _num(self.uncertainty)

    def acceptance_text(self) -> str:
        """The acceptance limit for people, ``—`` where there is no guard band."""
        if self.uncertainty is None:
            return "—"
        if self.accept_low is not None and self.accept_high is not None:
            return f"{_num(self.accept_low)} … {_num(self.accept_high)}"
        if self.accept_low is not None:
            return f"≥ {_num(self.accept_low)}"
        return f"≤ {_num(self.accept_high)}"

    def text(self) -> str:
        """Spec limit, U and acceptance limit in one line, e.g. ``51.5 … 53.6, U 0.0032,
        accepted 51.5032 … 53.5968``; the spec limit alone where there is no U."""
        if self.uncertainty is None:
            return self.spec_text()
        return f"{self.spec_text()}, U {self.uncertainty_text()}, accepted {self.acceptance_text()}"


def _equal(a: Value, b: Value) -> bool:
    """Equality as an operator means it: a bool is never a number, 2 equals 2.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return str(a) == str(b)


def _plain(v: Any) -> Any:
    """numpy scalars as Python values, so a numpy bool stays a bool and an int an int."""
    if type(v).__module__ == "numpy" and hasattr(v, "item"):
        return v.item()
    return v


def _num(v: object) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


class Measurement(_Model):
    """One declared measurement of the plan, with its outcome and value."""

    name: str = Field(min_length=1)
    step: str
    unit: str
    description: str = ""
    limit: Limit
    critical: bool  # a failure stops the plan
    outcome: Outcome
    value: Value = None
    message: str = ""  # why ERROR / FAIL, or the fault
    t: float | None = None  # station-clock seconds since run start when taken
    taken_at: datetime | None = None  # UTC calendar time (station clock)

    @field_validator("value", "t", mode="before")
    @classmethod
    def _plain_value(cls, v: Any) -> Any:
        return _plain(v)

    @field_validator("taken_at")
    @classmethod
    def _taken_at_utc(cls, v: datetime | None) -> datetime | None:
        return _utc(v, "taken_at")

    @model_validator(mode="after")
    def _finite(self) -> Measurement:
        """JSON has no NaN/inf: keep the record valid JSON and say what happened instead."""
        v = self.value
        if isinstance(v, float) and not math.isfinite(v):
            self.value = None
            note = f"non-finite value {v!r} recorded as null"
            self.message = f"{self.message}; {note}" if self.message else note
        return self

    def value_text(self) -> str:
        """The value for people: exact when short, else 6 significant digits."""
        v = self.value
        if v is None:
            return "—"
        if isinstance(v, float):
            text = repr(v)
            return text if len(text) <= 10 else f"{v:.6g}"
        return str(v)


class Instrument(_Model):
    """One instrument of the station as used in the run (identity and calibration)."""

    role: str
    dialect: str
    resource: str
    idn: str
    serial: str
    calibration_due: date


class StationInfo(_Model):
    id: str = Field(min_length=1)
    line: str
    file: str
    simulated: bool


class Firmware(_Model):
    main: str | None = None
    boot: str | None = None
    bms_board: str | None = None


class LimitsInfo(_Model):
    file: str
    version: str
    sha256: str = Field(pattern=_SHA256.pattern)  # of the limits file's bytes


class Signature(_Model):
    """The station's Ed25519 signature over the record's canonical bytes without this block
    (:meth:`Record.unsigned_bytes`): a hash anyone can recompute, a signature only the
    station's key can make. ``station verify`` checks it and that the key is trusted."""

    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$")   # base64 of the raw 32 bytes
    key_fingerprint: str = Field(pattern=_SHA256.pattern)      # SHA-256 of the raw public key
    value: str = Field(pattern=r"^[A-Za-z0-9+/]{86}==$")       # base64 of the 64-byte signature


class Failure(_Model):
    """Why a run did not pass."""

    kind: str  # "measurement" | "abort" | "error" | "fault"
    step: str | None = None
    measurement: str | None = None
    message: str = ""


class TimeUse(_Model):
    """Where station-clock seconds went (``stations.time_ledger``): the plan's own waits,
    instrument and pack-port exchanges, and the rest (waits inside roles, host time)."""

    dwell_s: float
    io_s: float
    other_s: float


class Software(_Model):
    """What software made the record, beyond its version (``fixtures.provenance``): the
    commit of the checkout and whether it had uncommitted changes (``unknown`` / None for a
    tree without git, an sdist or a wheel), the SHA-256 of the plan's files, the resolved
    dependency set as installed and whether it equals the repository's lock file."""

    commit: str = Field(pattern=r"^([0-9a-f]{40}|unknown)$")
    dirty: bool | None                      # None: not known (no git)
    plan_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    dependencies: list[str]                 # "name==version", sorted, as installed
    dependencies_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    lock_sha256: str | None = None          # requirements.lock beside the code, if shipped
    lock_matches: bool | None = None        # installed set == the lock's pins (None: no lock)
    note: str = ""                          # why something is unknown


class StepRecord(_Model):
    """One step of the plan as it ran: station-clock times since run start and its outcome."""

    name: str
    started_t: float
    ended_t: float | None = None
    outcome: Literal["PASS", "FAIL", "ERROR", "ABORTED", "NOT_RUN", "RUNNING"] = "RUNNING"
    message: str = ""   # the exception text of a step that raised
    time_use: TimeUse | None = Field(None, exclude_if=_absent)


class Attachment(_Model):
    """A file a step kept beside the record (a time series, a raw console dump, a photo),
    bound to it by its SHA-256: the record's hash and signature cover the file's hash, so
    an edited file is found by ``station verify``."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")   # unique in the record
    step: str | None = None
    media_type: str          # "application/vnd.apache.parquet", "text/plain", "image/png", ...
    sha256: str = Field(pattern=_SHA256.pattern)
    size: int = Field(ge=0)
    file: str                # relative to the record file's folder
    description: str = ""


class Record(_Model):
    """One run of one plan on one pack."""

    schema_version: int = SCHEMA_VERSION
    run_id: str = Field(pattern=_RUN_ID.pattern)  # uuid4().hex
    serial: str = Field(min_length=1)
    model: str
    plan: str  # "eol" | "cert" | "rma"
    verdict: Verdict | None  # None while running
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None  # on the station clock: the cycle time on hardware
    wall_duration_s: float | None
    retest_index: int = Field(default=0, ge=0)  # 0 first test of this serial, 1 first re-test...
    operator: str
    software_version: str
    station: StationInfo
    instruments: list[Instrument]
    firmware: Firmware
    limits: LimitsInfo
    work_order: dict[str, str | int | bool] = {}  # expectations: dip, heater, ...
    measurements: list[Measurement]  # in plan order
    failure: Failure | None = None
    #: Only some steps selected (``-k``, ``--deselect``, ``--lf``): no certificate, never in yield.
    development: bool = False
    steps: list[StepRecord] = []
    #: The cycle time's breakdown (None in records written before it was kept).
    time_use: TimeUse | None = Field(None, exclude_if=_absent)
    #: Files kept beside the record, each bound by its hash (left out of the bytes when none,
    #: so records written before attachments existed keep their hash).
    attachments: list[Attachment] = Field(default_factory=list, exclude_if=_absent)
    #: Commit, plan files' hash and dependency set (left out when absent: older records keep
    #: their bytes).
    software: Software | None = Field(None, exclude_if=_absent)
    #: Written by the station's JSON sink; None until then (and in the store, which keeps the hash).
    signature: Signature | None = None

    @field_validator("started_at", "finished_at")
    @classmethod
    def _times_utc(cls, v: datetime | None, info: Any) -> datetime | None:
        return _utc(v, info.field_name)

    @field_validator("work_order")
    @classmethod
    def _sorted(cls, v: dict[str, str | int | bool]) -> dict[str, str | int | bool]:
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _unique_names(self) -> Record:
        seen: set[str] = set()
        for m in self.measurements:
            if m.name in seen:
                raise ValueError(f"measurement {m.name!r} appears twice in record {self.run_id}")
            seen.add(m.name)
        return self

    # -- queries -----------------------------------------------------------------------
    def first_failure(self) -> Measurement | None:
        """The first FAIL or ERROR in plan order, or None."""
        return next((m for m in self.measurements if m.outcome in ("FAIL", "ERROR")), None)

    def measurement(self, name: str) -> Measurement:
        for m in self.measurements:
            if m.name == name:
                return m
        raise KeyError(f"record {self.run_id} has no measurement {name!r}")

    def counts(self) -> dict[str, int]:
        """How many measurements have each outcome (all four keys present)."""
        out = {"PASS": 0, "FAIL": 0, "NOT_RUN": 0, "ERROR": 0}
        for m in self.measurements:
            out[m.outcome] += 1
        return out

    @property
    def finished(self) -> bool:
        return self.verdict is not None

    # -- serialization -----------------------------------------------------------------
    def to_json_bytes(self) -> bytes:
        """The canonical bytes of this record (UTF-8, 2-space indent, trailing newline)."""
        data = self.model_dump(mode="json")
        return (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()

    def unsigned_bytes(self) -> bytes:
        """The canonical bytes without the ``signature`` block: what the signature signs."""
        data = self.model_dump(mode="json", exclude={"signature"})
        return (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()

    @classmethod
    def from_json_bytes(cls, data: bytes | str) -> Record:
        return cls.model_validate_json(data)

    @classmethod
    def load(cls, path: str | Path) -> Record:
        """Read a record file; a bad file raises ValueError naming it."""
        p = Path(path)
        try:
            return cls.from_json_bytes(p.read_bytes())
        except OSError as exc:
            raise ValueError(f"{p}: cannot read record: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise ValueError(f"{p}: not a valid record: {exc}") from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`Record` (what ``reports/record.schema.json`` holds)."""
    schema = Record.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://vstation.invalid/record.schema.json"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


SCHEMA_PATH = Path(__file__).with_name("record.schema.json")


if __name__ == "__main__":  # regenerate the checked-in schema: python -m reports.record
    SCHEMA_PATH.write_text(json_schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
