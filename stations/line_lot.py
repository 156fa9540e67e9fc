"""A lot of simulated units through a station's slots (``station line lot``, the tests and
the benchmark): every unit once, the first free slot takes the next; then the lot checks
itself for interference between the slots, so its exit code says whether there was any:

- every unit's verdict is the one expected of it (PASS unless told otherwise), and its
  record is its own (its serial, the slot's station, a run id no other unit has);
- the bench was safe after every run;
- every record verifies (signature, attachments, certificate, store: ``station verify``;
  a development run has no certificate, so only its certificate is not asked for);
- the shared chamber's activity log has no two slots in it at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stations.shared import overlaps, shared_paths
from stations.slots import Line

VERDICTS = ("PASS", "FAIL", "ABORTED", "ERROR")


@dataclass
class LotSummary:
    verdicts: dict[str, str] = field(default_factory=dict)    # serial -> verdict
    slots: dict[str, str] = field(default_factory=dict)       # serial -> slot
    durations: dict[str, float] = field(default_factory=dict)  # serial -> station seconds
    chamber_overlaps: list[str] = field(default_factory=list)
    chamber_commands: int = 0
    verified: int = 0
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
        cycle = sorted(self.durations.values())
        lines = [f"{len(self.verdicts)} units: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())),
                 "per slot: " + ", ".join(f"{k} {n}" for k, n in sorted(per_slot.items())),
                 (f"cycle time (station clock): median {cycle[len(cycle) // 2]:.1f} s, "
                  f"max {cycle[-1]:.1f} s" if cycle else "cycle time: no run"),
                 f"records verified: {self.verified} of {len(self.verdicts)}",
                 f"chamber: {self.chamber_commands} commands, "
                 f"{len(self.chamber_overlaps)} overlapping",
                 "no interference" if self.ok else f"INTERFERENCE: {len(self.problems) + len(self.chamber_overlaps)} problems"]
        return "\n".join(lines + self.problems + self.chamber_overlaps)


def parse_expected(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``SERIAL=VERDICT`` pairs (``--expect``); a clear error naming the one at fault."""
    out: dict[str, str] = {}
    for item in items:
        serial, sep, verdict = item.partition("=")
        if not sep or not serial or verdict.upper() not in VERDICTS:
            raise ValueError(f"--expect {item!r}: give SERIAL=VERDICT, the verdict one of "
                             f"{', '.join(VERDICTS)}")
        out[serial.strip()] = verdict.upper()
    return out


def run_lot(station: Path, units: Path, out: Path, *, plan: str = "eol",
            select: list[str] | tuple[str, ...] = (), operator: str = "lot",
            expected: Mapping[str, str] | None = None, db: str | None = None) -> LotSummary:
    files = sorted(Path(units).glob("*.toml"))
    if not files:
        raise ValueError(f"{units}: no unit files <serial>.toml")
    unknown = set(expected or {}) - {f.stem for f in files}
    if unknown:
        raise ValueError(f"--expect names units that are not in {units}: {', '.join(sorted(unknown))}")
    summary = LotSummary()
    results: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if kind == "finished":
            view = data["view"]
            res = view["result"] or {}
            serial = res.get("serial") or view["run"].get("serial")
            results.setdefault(serial, []).append((view["id"], res))

    line = Line(Path(station), Path(out), db=db, on_event=on_event)
    stations = {s.id: s.station_id for s in line.slots.values()}
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
    run_ids: dict[str, str] = {}
    for f in files:
        _check_unit(f.stem, results.get(f.stem, []), (expected or {}).get(f.stem, "PASS"),
                    stations, run_ids, db, summary)
    if log is not None and log.exists():
        summary.chamber_overlaps = overlaps(log)
        summary.chamber_commands = log.read_text().count('"begin"')
    elif line.config.shared:
        summary.problems.append(f"the shared {line.config.shared[0]}'s activity log {log} "
                                "was not written")
    return summary


def _check_unit(serial: str, runs: list[tuple[str, dict[str, Any]]], want: str,
                stations: dict[str, str], run_ids: dict[str, str], db: str | None,
                summary: LotSummary) -> None:
    """One unit: run once, its verdict, its own record, safe after, its record verified."""
    if len(runs) != 1:
        summary.verdicts[serial] = "not run" if not runs else f"run {len(runs)} times"
        summary.slots[serial] = "?"
        summary.problems.append(f"{serial}: finished {len(runs)} times, not once")
        return
    slot, res = runs[0]
    verdict = res.get("verdict") or f"not run ({res.get('refused')})"
    summary.verdicts[serial], summary.slots[serial] = verdict, slot
    if res.get("duration_s") is not None:
        summary.durations[serial] = res["duration_s"]
    if verdict != want:
        summary.problems.append(f"{serial} (slot {slot}): {verdict}, expected {want}"
                                + (f": {res['failure']['message']}" if res.get("failure") else ""))
    if res.get("safe") and not res["safe"]["ok"]:
        summary.problems.append(f"{serial}: safe state not confirmed: {res['safe']['errors']}")
    run_id = res.get("run_id")
    if run_id in run_ids:
        summary.problems.append(f"{serial}: run {run_id} is also {run_ids[run_id]}'s")
    run_ids[run_id or serial] = serial
    if not res.get("record_path"):
        summary.problems.append(f"{serial}: no record written")
        return
    problems = _verify(Path(res["record_path"]), serial, stations[slot], db)
    summary.problems.extend(f"{serial}: {p}" for p in problems)
    summary.verified += not problems


def _verify(path: Path, serial: str, station_id: str, db: str | None) -> list[str]:
    """What ``station verify`` finds wrong with the record, and whether it is this unit's."""
    from reports.record import Record
    from reports.verify import verify

    record = Record.from_json_bytes(path.read_bytes())
    out = []
    if record.serial != serial or record.station.id != station_id:
        out.append(f"record {path.name} is {record.serial} on {record.station.id}, "
                   f"not {serial} on {station_id}")
    result = verify(path, db)
    # a development run has no certificate and does not count: verify says so, rightly;
    # everything else it checks (signature, attachments, store) must hold for it too
    cert = path.with_suffix(".pdf")
    out += [p for p in result.problems
            if not (record.development and (p.startswith(f"record {path.name} is a development run")
                                            or p == f"certificate {cert} not found"))]
    return out
