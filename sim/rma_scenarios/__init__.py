"""Returned-pack scenarios for the RMA diagnosis: each file is a unit as it left the factory
(``[unit]``, EOL-tested), what the field did to it (``[aged]``, merged over it), the
operator's intake and the class and rule the diagnosis must give (``[expect]``).

``[expect] classes`` lists every class that must match, primary first (no other may);
``baseline = false`` runs no EOL first (the diagnosis then says the comparisons are NOT
RUN); ``eol_epoch`` is the calendar time of the factory's EOL run.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.unit import UnitDescription, unit_from_dict

HERE = Path(__file__).parent
#: The intake of a pack that looks fine: every checklist item answered, no red flag.
CLEAN_INTAKE: dict[str, Any] = {
    "rma_number": "RMA-0000", "claim": "capacity drops, inverter reports a battery fault",
    "install_date": "2024-06-01", "inverter": "hybrid inverter (Pylon CAN)",
    "checklist": {"swelling": False, "burns": False, "leak_or_corrosion": False,
                  "port_residue": False, "seals_intact": True, "breaker_ok": True},
}


@dataclass(frozen=True)
class Scenario:
    name: str
    fresh: UnitDescription
    aged: UnitDescription
    primary: str
    rule: str
    classes: tuple[str, ...]
    baseline: bool
    eol_epoch: str
    intake: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load(name: str) -> Scenario:
    path = HERE / f"{name}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unit = data["unit"]
    aged = _merge(unit, data.get("aged", {}))
    exp = data["expect"]
    intake = _merge(CLEAN_INTAKE, data.get("intake", {}))
    epoch = data.get("eol_epoch", "2024-03-20T08:00:00Z")
    if isinstance(epoch, datetime):
        epoch = epoch.isoformat()
    return Scenario(name, unit_from_dict(unit, f"{path} [unit]"),
                    unit_from_dict(aged, f"{path} [aged]"), exp["class"], exp["rule"],
                    tuple(exp.get("classes", [exp["class"]])), bool(data.get("baseline", True)),
                    str(epoch), intake, data.get("note", ""))


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.toml"))
