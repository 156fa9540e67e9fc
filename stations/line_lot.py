"""A lot of simulated units through a station's slots (``station line lot``, the tests and
the benchmark): every unit once, the first free slot takes the next, then the chamber's
activity log checked for two slots at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stations.shared import overlaps, shared_paths
from stations.slots import Line


@dataclass
class LotSummary:
    verdicts: dict[str, str] = field(default_factory=dict)    # serial -> verdict
    slots: dict[str, str] = field(default_factory=dict)       # serial -> slot
    chamber_overlaps: list[str] = field(default_factory=list)
    chamber_commands: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.chamber_overlaps

    def text(self) -> str:
        counts: dict[str, int] = {}
        for v in self.verdicts.values():
            counts[v] = counts.get(v, 0) + 1
        per_slot: dict[str, int] = {}
        for s in self.slots.values():
            per_slot[s] = per_slot.get(s, 0) + 1
        lines = [f"{len(self.verdicts)} units: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())),
                 "per slot: " + ", ".join(f"{k} {n}" for k, n in sorted(per_slot.items())),
                 f"chamber: {self.chamber_commands} commands, "
                 f"{len(self.chamber_overlaps)} overlapping"]
        return "\n".join(lines + self.problems + self.chamber_overlaps)


def run_lot(station: Path, units: Path, out: Path, *, plan: str = "eol",
            select: list[str] | tuple[str, ...] = (), operator: str = "lot") -> LotSummary:
    files = sorted(Path(units).glob("*.toml"))
    summary = LotSummary()
    results: dict[str, Any] = {}

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if kind == "finished":
            view = data["view"]
            res = view["result"] or {}
            results[res.get("serial") or view["run"].get("serial")] = (view["id"], res)

    line = Line(Path(station), Path(out), on_event=on_event)
    log = None
    if line.config.shared:
        log = shared_paths(line.config.id, line.config.shared[0])[1]
        log.unlink(missing_ok=True)
    with line:
        line.wait_idle(timeout=300)
        for f in files:
            while (slot := line.free_slot()) is None:
                line.wait_idle_any()
            line.run(slot, plan=plan, serial=f.stem, operator=operator, unit_file=f,
                     select=select)
        line.wait_idle(timeout=None)
    for f in files:
        slot, res = results.get(f.stem, (None, {}))
        summary.verdicts[f.stem] = res.get("verdict") or f"not run ({res.get('refused')})"
        summary.slots[f.stem] = slot or "?"
        if res.get("safe") and not res["safe"]["ok"]:
            summary.problems.append(f"{f.stem}: safe state not confirmed: {res['safe']['errors']}")
    if log is not None and log.exists():
        summary.chamber_overlaps = overlaps(log)
        summary.chamber_commands = log.read_text().count('"begin"')
    return summary
