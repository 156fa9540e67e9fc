"""Runs of the EOL plan for a study, through the one engine (``fixtures.engine.execute``).

Each run has its own output folder (record, certificate, store), so runs can go in parallel
processes, each on its own in-process simulated bench. The first run goes alone: a run
refused before start (bad serial, station file, unit file, calibration) stops the study
before the rest start. A run stopped by the operator (ABORTED) stops the study.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reports.record import Record


class StudyRefused(Exception):
    """The study cannot run; the message is the one line the operator reads (exit 3)."""


class StudyStopped(Exception):
    """The operator stopped a run (or the study): the runs done so far are kept."""


@dataclass(frozen=True)
class RunSpec:
    """One run of the study: which unit, on which station, with which noise seed."""

    label: str                  # unique in the study; also the run's output folder name
    serial: str
    station: Path
    out: Path
    seed: int                   # the simulated bench's noise seed (ignored by real hardware)
    operator: str = "msa"
    model: str | None = None
    unit_file: Path | None = None


@dataclass(frozen=True)
class RunDone:
    spec: RunSpec
    exit_code: int
    record_path: Path | None = None
    refused: str | None = None   # why the run never started
    error: str | None = None     # an exception outside the engine's own handling

    def record(self) -> Record | None:
        return Record.load(self.record_path) if self.record_path is not None else None


def run_one(spec: RunSpec) -> RunDone:
    """Run the EOL plan once (never raises: a failure is in the result)."""
    from fixtures.engine import execute
    from fixtures.session import RunRequest

    try:
        req = RunRequest(plan="eol", serial=spec.serial, station_file=spec.station,
                         model=spec.model, unit_file=spec.unit_file, operator=spec.operator,
                         out_dir=spec.out, seed=spec.seed)
        result = execute(req)
    except Exception as exc:   # the engine turns station faults into records; this is a bug
        return RunDone(spec, 2, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    why = result.refused or result.stopped_before_start
    return RunDone(spec, result.exit_code, result.record_path, refused=why)


def _aborted(done: RunDone) -> bool:
    if done.refused is not None and done.record_path is None and done.exit_code == 3:
        return done.refused.startswith("operator stop")
    record = done.record() if done.record_path is not None else None
    return record is not None and record.verdict == "ABORTED"


def run_all(specs: Sequence[RunSpec], *, jobs: int = 1,
            progress: Callable[[RunDone], None] | None = None) -> list[RunDone]:
    """Every run of ``specs``, in their order. StudyRefused if the first is refused."""
    if not specs:
        return []
    first = run_one(specs[0])
    if first.refused is not None and first.record_path is None:
        raise StudyRefused(first.refused)
    done: dict[int, RunDone] = {0: first}
    _report(first, progress)
    rest = list(enumerate(specs))[1:]
    if jobs <= 1:
        for i, spec in rest:
            done[i] = run_one(spec)
            _report(done[i], progress)
    else:
        ctx = _context()
        with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = {pool.submit(run_one, spec): i for i, spec in rest}
            try:
                for fut in cf.as_completed(futures):
                    done[futures[fut]] = fut.result()
                    _report(done[futures[fut]], progress)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return [done[i] for i in sorted(done)]


def _context() -> multiprocessing.context.BaseContext:
    """Fork when this process has no other thread (cheap: the engine is imported already,
    and the first run's bench has closed its threads), else a fresh interpreter."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _report(done: RunDone, progress: Callable[[RunDone], None] | None) -> None:
    if progress is not None:
        progress(done)
    if _aborted(done):
        raise StudyStopped(f"run {done.spec.label} was stopped by the operator")


def seeds(base: int, count: int) -> list[int]:
    """Distinct noise seeds, one per run: ``base``, ``base + 1``, ..."""
    return [base + k for k in range(count)]


def run_folder(out: Path, label: str) -> Path:
    return out / "runs" / label
