"""The production gate: no production run while the station cannot be trusted today.

A station refuses production runs (panel and ``station run``) while any instrument's
calibration has expired, or — when its file has ``[gate]`` — while today's golden-unit
check has not passed: the short plan on the known-good unit must PASS and on the
known-bad unit must FAIL (a station that passes everything is broken too). The check is
run through the engine like any run (development runs: no certificate, not in yield) and
its result kept in ``<out>/gate/<station id>-<date>.json`` with both run ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from reports.exports import atomic_write


@dataclass
class GateStatus:
    ok: bool
    reasons: list[str] = field(default_factory=list)   # why production is refused
    actions: list[str] = field(default_factory=list)   # what to do about it


def station_today(config: Any) -> date:
    """Today on the station's calendar: the pinned epoch of a simulated bench, else the
    station's wall clock (common.clock, the clock of a real station)."""
    from common.clock import WallClock, epoch_from_env

    pinned = epoch_from_env() if config.bench.simulated else None
    return (pinned or WallClock().utcnow()).date()


def gate_file(out: Path, station_id: str, day: date) -> Path:
    return Path(out) / "gate" / f"{station_id}-{day.isoformat()}.json"


def status(config: Any, out: Path, day: date | None = None) -> GateStatus:
    """Whether production runs may start on this station today, and if not why."""
    day = day or station_today(config)
    st = GateStatus(ok=True)
    for role, cfg in sorted(config.instruments.items()):
        if cfg.calibration_due < day:
            st.reasons.append(f"calibration of the {role} (serial {cfg.serial}) expired on "
                              f"{cfg.calibration_due.isoformat()}")
            st.actions.append(f"have the {role} calibrated and its new due date entered in "
                              "the station file (engineer)")
    if config.gate is not None:
        check = read_check(out, config.id, day)
        if check is None:
            st.reasons.append("today's golden-unit check has not been run")
            st.actions.append(f"run the golden-unit check: the good unit {config.gate.good.serial} "
                              f"and the bad unit {config.gate.bad.serial} (engineer)")
        elif not check["passed"]:
            st.reasons.append(f"today's golden-unit check failed: {check['why']}")
            st.actions.append("call the test engineer: the station itself is suspect")
    st.ok = not st.reasons
    return st


def production_refusal(station_file: Path, out: Path) -> str | None:
    """Why ``station run`` must refuse a production run here, or None. Only the golden
    check: an expired calibration is refused by the station as it opens (exit 3 too)."""
    from stations.schema import StationFileError, load_station_file

    try:
        config = load_station_file(station_file)
    except StationFileError:
        return None   # the run's own checks say what is wrong with the file
    if config.gate is None:
        return None
    st = status(config, out)
    return None if st.ok else "station blocked: " + "; ".join(
        f"{r} ({a})" for r, a in zip(st.reasons, st.actions, strict=True))


def read_check(out: Path, station_id: str, day: date) -> dict[str, Any] | None:
    path = gate_file(out, station_id, day)
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def judge_check(config: Any, good: Any, bad: Any) -> tuple[bool, str]:
    """Good must PASS, bad must FAIL (at the named measurement, if the gate names one)."""
    g, b = good.record, bad.record
    if g is None or g.verdict != "PASS":
        return False, (f"the good unit {config.gate.good.serial} did not pass "
                       f"({g.verdict if g else good.refused})")
    if b is None or b.verdict != "FAIL":
        return False, (f"the bad unit {config.gate.bad.serial} did not fail "
                       f"({b.verdict if b else bad.refused}): the station may pass bad packs")
    want = config.gate.bad_must_fail
    if want and (b.failure is None or b.failure.measurement != want):
        got = b.failure.measurement if b.failure else None
        return False, f"the bad unit failed at {got}, not at {want}"
    return True, "good unit PASS, bad unit FAIL"


def run_check(station_file: Path, out: Path, operator: str, db: str | None = None,
              run: Any = None) -> dict[str, Any]:
    """Run today's golden-unit check through the engine and keep its result.

    ``run(request_kwargs, select)`` runs one plan (the panel: in a slot); by default the
    engine in this process."""
    from stations.schema import load_station_file

    station_file = Path(station_file)
    config = load_station_file(station_file)
    if config.gate is None:
        raise ValueError(f"{station_file} has no [gate]: nothing to check")
    gate = config.gate
    results = []
    for unit in (gate.good, gate.bad):
        unit_file = None
        if unit.unit_file:
            p = Path(unit.unit_file)
            unit_file = p if p.is_absolute() else station_file.parent / p
        req = {"plan": gate.plan, "serial": unit.serial, "station_file": station_file,
               "out_dir": Path(out), "db": db, "operator": operator, "unit_file": unit_file}
        results.append(run(req, gate.select) if run else _execute(req, gate.select))
    passed, why = judge_check(config, *results)
    day = station_today(config)
    data = {"station": config.id, "date": day.isoformat(), "passed": passed, "why": why,
            "good": {"serial": gate.good.serial, "run_id": _run_id(results[0]),
                     "verdict": _verdict(results[0])},
            "bad": {"serial": gate.bad.serial, "run_id": _run_id(results[1]),
                    "verdict": _verdict(results[1])}}
    path = gate_file(Path(out), config.id, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, indent=2).encode())
    return data


def _execute(req: dict[str, Any], select: list[str]) -> Any:
    from fixtures.engine import execute
    from fixtures.session import RunRequest

    return execute(RunRequest(**req), select=select)


def _run_id(result: Any) -> str | None:
    return result.record.run_id if result.record is not None else None


def _verdict(result: Any) -> str | None:
    return result.record.verdict if result.record is not None else "REFUSED"
