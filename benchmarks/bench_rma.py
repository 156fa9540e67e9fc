"""Every returned-pack scenario (``sim/rma_scenarios``) through the real plans: EOL on the unit
as it left the factory (its record in the store: the baseline), then ``station run rma`` on the
aged unit; the class, the rule and every contributing class against the scenario's, with the
wall and CPU time of each RMA run.

    python -m benchmarks.bench_rma [--save] [NAME ...]   (--save: keep each run's findings)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from common.clock import EPOCH_ENV
from fixtures.plugin import DEFAULT_STATION, SERVICE_STATION
from reports.record import Record
from sim.rma_scenarios import Scenario, load, names
from sim.unit import write_unit
from stations.batch import run_quietly

STORE = "station.sqlite"
#: The calendar time of the RMA runs (the returned pack's bench day).
RMA_EPOCH = "2026-01-05T08:00:00Z"


@contextmanager
def _epoch(when: str) -> Iterator[None]:
    old = os.environ.get(EPOCH_ENV)
    os.environ[EPOCH_ENV] = when
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(EPOCH_ENV, None)
        else:
            os.environ[EPOCH_ENV] = old


@dataclass
class Outcome:
    scenario: Scenario
    record: Record
    diagnosis: dict[str, Any]
    wall_s: float
    cpu_s: float
    out: Path

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m["cls"] for m in self.diagnosis["matches"]))

    @property
    def correct(self) -> bool:
        d = self.diagnosis
        return (d["primary"], d["rule"], self.classes) == (
            self.scenario.primary, self.scenario.rule, self.scenario.classes)


def run_eol(scenario: Scenario, out: Path) -> Record:
    """The factory's EOL run of the fresh unit, on its own calendar day, into ``out``'s store."""
    out.mkdir(parents=True, exist_ok=True)
    unit_file = out / "fresh.unit.toml"
    write_unit(scenario.fresh, unit_file)
    with _epoch(scenario.eol_epoch):
        code, record = run_quietly(out, scenario.fresh.identity.serial, unit_file=unit_file,
                                   station=DEFAULT_STATION)
    if record is None or record.verdict != "PASS":
        raise RuntimeError(f"{scenario.name}: the fresh unit does not pass EOL "
                           f"({record.first_failure() if record else code})")
    return record


def run_rma(scenario: Scenario, out: Path, *, store_from: Path | None = None,
            seed: int = 0) -> Outcome:
    """The RMA run of the aged unit; ``store_from`` is a store to start from (a shared EOL
    baseline), else this scenario's own EOL runs first when it has a baseline."""
    out.mkdir(parents=True, exist_ok=True)
    if scenario.baseline:
        if store_from is not None:   # the database with its write-ahead log, if any
            for part in store_from.parent.glob(store_from.name + "*"):
                shutil.copyfile(part, out / part.name.replace(store_from.name, STORE))
        else:
            run_eol(scenario, out)
    unit_file = out / "aged.unit.toml"
    write_unit(scenario.aged, unit_file)
    intake = out / "intake.toml"
    intake.write_text(tomli_w.dumps(scenario.intake), encoding="utf-8")
    wall, cpu = time.perf_counter(), time.process_time()
    with _epoch(RMA_EPOCH):
        code, record = run_quietly(out, scenario.aged.identity.serial, plan="rma",
                                   unit_file=unit_file, station=SERVICE_STATION, intake=intake,
                                   seed=seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if record is None:
        raise RuntimeError(f"{scenario.name}: the RMA run was refused (exit {code})")
    return Outcome(scenario, record, diagnosis_of(record, out), wall, cpu, out)


def diagnosis_of(record: Record, out: Path) -> dict[str, Any]:
    """The diagnosis.json the classify step kept beside the record."""
    entry = next((a for a in record.attachments if a.name == "diagnosis.json"), None)
    if entry is None:
        raise RuntimeError(f"record {record.run_id} has no diagnosis ({record.failure})")
    return json.loads((out / entry.file).read_bytes())


FINDINGS = Path(__file__).resolve().parent.parent / "sim" / "rma_scenarios" / "findings"


def save_findings(o: Outcome) -> Path:
    """The findings a real run produced, for test_scenario_findings.py (``--save``)."""
    FINDINGS.mkdir(exist_ok=True)
    path = FINDINGS / f"{o.scenario.name}.json"
    data = {"run_id": o.record.run_id, "findings": o.diagnosis["findings"]}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    save = "--save" in argv
    chosen = [a for a in argv if a != "--save"] or names()
    root = Path(os.environ.get("RMA_BENCH_OUT", "/tmp/rma-bench"))
    shutil.rmtree(root, ignore_errors=True)
    bad = 0
    print(f"{'scenario':32} {'class':15} {'rule':24} {'ok':3} {'wall s':>7} {'cpu s':>6} {'sim h':>6}")
    for name in chosen:
        o = run_rma(load(name), root / name)
        bad += not o.correct
        if save:
            save_findings(o)
        print(f"{name:32} {o.diagnosis['primary']:15} {o.diagnosis['rule']:24} "
              f"{'yes' if o.correct else 'NO':3} {o.wall_s:7.1f} {o.cpu_s:6.1f} "
              f"{(o.record.duration_s or 0) / 3600:6.1f}", flush=True)
        if not o.correct:
            print("   expected", o.scenario.primary, o.scenario.rule, o.scenario.classes,
                  "got", o.classes, [m["evidence"] for m in o.diagnosis["matches"]])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
