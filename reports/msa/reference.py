"""The master unit's reference values: what a calibration lab states for the golden unit.

A TOML file, one entry per measurement of the plan::

    serial = "PV5S260100000013"
    model = "v5"
    stated_by = "who stated the values, and how"
    [reference.ocv_v]
    value = 52.640                # x_m, in the measurement's unit
    basis = "16 × OCV(50 %) ..."  # where the value comes from (printed in the report)
    resolution = 0.001            # optional: the method's resolution for this measurand

A measurement the file does not state gets no stated x_m: the study falls back to the mean
of separate reference runs and flags it (docs/msa.md).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ReferenceFileError(ValueError):
    """A reference file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ReferenceValue:
    value: float
    basis: str
    resolution: float | None = None


@dataclass(frozen=True)
class Reference:
    path: Path
    serial: str
    model: str
    stated_by: str
    values: dict[str, ReferenceValue]


def _number(data: Any, where: str) -> float:
    if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
        raise ReferenceFileError(f"{where} must be a finite number, got {data!r}")
    return float(data)


def _entry(name: str, data: Any, file: Path) -> ReferenceValue:
    where = f"{file}: reference.{name}"
    if not isinstance(data, dict):
        raise ReferenceFileError(f"{where} must be a table with value and basis")
    unknown = set(data) - {"value", "basis", "resolution"}
    if unknown:
        raise ReferenceFileError(f"{where}: unknown key {sorted(unknown)[0]!r} "
                                 "(allowed: value, basis, resolution)")
    if "value" not in data or not str(data.get("basis", "")).strip():
        raise ReferenceFileError(f"{where} needs a value and a basis (where the value comes from)")
    resolution = data.get("resolution")
    if resolution is not None and _number(resolution, f"{where}.resolution") <= 0:
        raise ReferenceFileError(f"{where}.resolution must be > 0")
    return ReferenceValue(_number(data["value"], f"{where}.value"), str(data["basis"]).strip(),
                          None if resolution is None else float(resolution))


def load_reference(path: str | Path) -> Reference:
    """Read and check a reference file (ReferenceFileError names what is wrong)."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReferenceFileError(f"reference file {file}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceFileError(f"reference file {file} is not valid TOML: {exc}") from None
    for key in ("serial", "model", "stated_by"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ReferenceFileError(f"{file}: {key} must be a non-empty string")
    table = data.get("reference", {})
    if not isinstance(table, dict) or not table:
        raise ReferenceFileError(f"{file}: [reference] must state at least one measurement")
    values = {name: _entry(name, entry, file) for name, entry in table.items()}
    return Reference(file, data["serial"], data["model"], data["stated_by"], values)
