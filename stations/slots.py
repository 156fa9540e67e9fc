"""Test slots: each runs its plans in its own process, through the one run engine.

A station file may declare ``[[slots]]``, each with its own fixture, instruments and pack
ports over the station's; a role listed in ``shared`` (the chamber) stays the station's
and is taken by one slot at a time (``stations.shared``). :func:`slot_files` writes each
slot's own station file (station id ``<id>-<slot>``); a station without slots is one slot.

:class:`Line` keeps one worker process per slot. A worker runs ``fixtures.engine.execute``
in its main thread, so Stop and Abort are the engine's own terminate/abort path: Stop is
one SIGINT (the step ends, safe state, ABORTED record), Abort a second signal (safe state
and record at once, bounded, then the worker exits). Outside a run a worker ignores both.
A worker that dies (abort, crash, kill) is replaced; the new one first recovers: it opens
the slot's station (its safe state) and reconciles what the dead run left (its ABORTED
record), as every start does. The other slots go on.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import os
import pickle
import signal
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from stations.schema import load_station_file, parse_station

EventCallback = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class SlotFile:
    id: str
    station_file: Path
    station_id: str


def slot_files(station_file: Path, folder: Path) -> list[SlotFile]:
    """Each slot's own station file in ``folder`` (validated); one slot without slots."""
    station_file = Path(station_file).resolve()
    config = load_station_file(station_file)
    if not config.slots:
        return [SlotFile("1", station_file, config.id)]
    raw = tomllib.loads(station_file.read_text(encoding="utf-8"))
    base_dir = station_file.parent
    bench = raw.get("bench", {})
    if bench.get("unit_file") and not Path(bench["unit_file"]).is_absolute():
        bench["unit_file"] = str(base_dir / bench["unit_file"])
    if raw.get("signing_key") and not Path(raw["signing_key"]).is_absolute():
        raw["signing_key"] = str(base_dir / raw["signing_key"])
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for slot_raw in raw.pop("slots"):
        data = {k: v for k, v in raw.items()}
        slot_id = slot_raw["id"]
        data["id"] = f"{config.id}-{slot_id}"
        data["slot_of"] = config.id
        data["instruments"] = {**raw["instruments"], **slot_raw.get("instruments", {})}
        for key in ("fixture", "pack"):
            if key in slot_raw:
                data[key] = slot_raw[key]
        parse_station(data, f"{station_file} slot {slot_id}")
        path = folder / f"{data['id']}.toml"
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
        out.append(SlotFile(slot_id, path, data["id"]))
    return out


# -- the worker process -------------------------------------------------------------------------

class _Observer:
    """What the engine shows as the run goes, sent over the worker's event pipe; the
    operator's answers to the panel's prompts kept in the record as it starts."""

    def __init__(self, emit: Callable[..., None], prompts: dict[str, Any] | None = None) -> None:
        self.emit, self.prompts = emit, prompts

    def started(self, run: Any) -> None:
        rec = run.record
        if self.prompts:
            _keep_prompts(run, self.prompts)
        self.emit("started", run_id=rec.run_id, serial=rec.serial, model=rec.model,
                  plan=rec.plan, station=rec.station.id, steps=run.recorder.steps(),
                  expected_s=_expected_cycle(run), recovered=[r.run_id for r in run.recovered])

    def step(self, run: Any, name: str) -> None:
        self.emit("step", step=name, t=round(run.recorder.elapsed(), 1))

    def measurement(self, run: Any, m: Any) -> None:
        self.emit("measurement", t=round(run.recorder.elapsed(), 1), **measurement_view(m))


def _keep_prompts(run: Any, prompts: dict[str, Any]) -> None:
    """Answers and photos as attachments of the record (their SHA-256 signed with it)."""
    import json

    rec, recorder = run.record, run.recorder
    for name, data, media_type, text in prompts.get("photos", ()):
        recorder.attach(name, data, media_type, text)
    answers = {"operator": rec.operator, "serial": rec.serial,
               "answered_before": recorder.clock.utcnow().isoformat(), **prompts["answers"]}
    recorder.attach(PROMPTS_ATTACHMENT, json.dumps(answers, indent=1, ensure_ascii=False).encode(),
                    "application/json", "the operator's answers to the panel's prompts")


#: The record attachment that keeps the operator's answers to the panel's prompts.
PROMPTS_ATTACHMENT = "operator-prompts.json"


def measurement_view(m: Any) -> dict[str, Any]:
    """A measurement as the panel shows it: name, words, value, limits, verdict."""
    value = "" if m.value is None else (f"{m.value:.6g}" if isinstance(m.value, float)
                                        else m.value_text())
    return {"name": m.name, "step": m.step, "description": m.description, "value": value,
            "unit": m.unit if m.value is not None else "", "limit": m.limit.text(),
            "outcome": m.outcome, "message": m.message}


def _expected_cycle(run: Any) -> float | None:
    """The median cycle time of this plan's passed runs on this station, from the store."""
    try:
        runs = run.prepared.store.runs(plan=run.record.plan, station=run.record.station.id,
                                       verdict="PASS", development=False)
        if len(runs):
            return round(float(runs.duration_s.median()), 1)
    except Exception:   # the panel's estimate only; a store away must not stop a run
        return None
    return None


def _finished(result: Any) -> dict[str, Any]:
    rec = result.record
    out: dict[str, Any] = {"exit_code": result.exit_code, "refused": result.refused
                           or result.stopped_before_start}
    if rec is not None:
        failing = next((m for m in rec.measurements if rec.failure
                        and m.name == rec.failure.measurement), None)
        out.update(
            run_id=rec.run_id, serial=rec.serial, verdict=rec.verdict,
            retest_index=rec.retest_index, development=rec.development,
            duration_s=rec.duration_s,
            failure=None if rec.failure is None else {
                "step": rec.failure.step, "measurement": rec.failure.measurement,
                "message": rec.failure.message,
                "detail": measurement_view(failing) if failing else None},
            record_path=str(result.record_path) if result.record_path else None,
            certificate_path=str(result.certificate_path) if result.certificate_path else None)
    report = result.safe_report
    out["safe"] = None if report is None else {"ok": report.ok, "errors": dict(report.errors)}
    return out


def _run_job(job: dict[str, Any], emit: Callable[..., None]) -> None:
    from fixtures.engine import execute
    from fixtures.session import RunRequest

    req = job["request"]
    result = execute(RunRequest(**req), _Observer(emit, job.get("prompts")),
                     select=job.get("select", ()))
    emit("finished", **_finished(result))


def _hand_off(config: Any, out: Path, records: list[Any], store: Any) -> None:
    """Recovered runs to the MES (their own sink never ran); never fails the slot."""
    from fixtures.mes import hand_off_recovered

    try:
        hand_off_recovered(config, out, records, store.record_sha256)
    except Exception as exc:   # the MES misses these runs; their records have them
        import logging

        logging.getLogger(__name__).error("MES hand-off of recovered runs: %s", exc)


def _recover_job(job: dict[str, Any], emit: Callable[..., None]) -> None:
    """After a worker died: the slot's station opened (safe state), the dead run's record."""
    from fixtures.recovery import recover
    from reports.store import open_store
    from stations.open import open_station

    req = job["request"]
    station = open_station(req["station_file"])
    try:
        report = station.safe_state()
        with open_store(req.get("db"), Path(req["out_dir"])) as store:
            done = recover(Path(req["out_dir"]), store, station.config.id)
            _hand_off(station.config, Path(req["out_dir"]), done.recovered, store)
            runs = [{"run_id": r.run_id, "serial": r.serial, "verdict": r.verdict}
                    for r in done.recovered]
            last = job.get("last_run")   # the run the dead worker had: what its record says
            if last and last not in {r["run_id"] for r in runs}:
                found = store.runs(run_id=last)
                if len(found):
                    row = found.iloc[0]
                    runs.insert(0, {"run_id": last, "serial": row.serial,
                                    "verdict": row.verdict if isinstance(row.verdict, str)
                                    else "ABORTED", "message": row.failure_message})
    finally:
        station.close()
    emit("recovered", safe={"ok": report.ok, "errors": dict(report.errors)}, runs=runs,
         failed=done.failed)


def worker_main(slot_id: str, jobs: Any, pipe: Any) -> None:
    """A slot's process: jobs in, events out. Signals mean something only inside a run.

    Events go over the worker's own pipe, one message per send under a lock (the abort
    path sends from the handler's thread): a worker killed mid-send breaks only its own
    pipe, never the other slots' events (a shared ``multiprocessing.Queue`` keeps a lock
    that a killed writer never gives back)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    lock = threading.Lock()

    class _Events:
        def put(self, event: dict[str, Any]) -> None:
            with lock:
                pipe.send(event)

    events = _Events()
    events.put({"slot": slot_id, "job": None, "kind": "ready", "pid": os.getpid()})
    while True:
        job = jobs.get()
        if job is None:
            return
        job_id = job["id"]

        def emit(kind: str, job_id: str = job_id, **data: Any) -> None:
            events.put({"slot": slot_id, "job": job_id, "kind": kind, **data})

        try:
            (_run_job if job["kind"] == "run" else _recover_job)(job, emit)
        except BaseException as exc:   # a worker reports, it never dies of a job
            emit("failed", error=f"{type(exc).__name__}: {exc}")


# -- the line: slots and their workers -----------------------------------------------------------

class SlotBusy(RuntimeError):
    """The slot is running a plan or recovering."""


@dataclass
class Slot:
    """The panel's view of one slot, updated from its worker's events."""

    id: str
    station_file: Path
    station_id: str
    status: str = "starting"         # starting idle testing stopping recovering fault
    job: str | None = None
    run: dict[str, Any] = field(default_factory=dict)
    step: str | None = None
    measurements: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    note: str = ""
    pending: str | None = None       # "stop"/"abort" pressed before the run had started
    proc: Any = None
    jobs: Any = None
    pid: int | None = None

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "station": self.station_id, "status": self.status,
                "run": self.run, "step": self.step, "measurements": self.measurements,
                "result": self.result, "note": self.note}


class Line:
    """The slots of one station, each with its worker process."""

    def __init__(self, station_file: Path, out_dir: Path, *, db: str | None = None,
                 on_event: EventCallback | None = None) -> None:
        self.station_file, self.out_dir, self.db = Path(station_file), Path(out_dir), db
        self.config = load_station_file(station_file)
        self.on_event = on_event
        self._ctx = mp.get_context("spawn")   # the panel has threads: never fork them
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._closing = False
        self._idle = threading.Condition(self._lock)
        files = slot_files(self.station_file, self.out_dir / "slots")
        self.slots = {f.id: Slot(f.id, f.station_file, f.station_id) for f in files}

    # -- life --------------------------------------------------------------------------------
    def start(self) -> Line:
        for slot in self.slots.values():
            self._spawn(slot)
        return self

    def _spawn(self, slot: Slot) -> None:
        slot.jobs = self._ctx.Queue()
        events, pipe = self._ctx.Pipe(duplex=False)
        slot.proc = self._ctx.Process(target=worker_main, args=(slot.id, slot.jobs, pipe),
                                      name=f"slot-{slot.id}", daemon=True)
        slot.proc.start()
        pipe.close()   # the worker's end only: its death ends the reader at EOF
        slot.pid = slot.proc.pid
        reader = threading.Thread(target=self._read, args=(events,), daemon=True,
                                  name=f"events-{slot.id}")
        reader.start()
        threading.Thread(target=self._watch, args=(slot, slot.proc, reader), daemon=True,
                         name=f"watch-{slot.id}").start()

    def _watch(self, slot: Slot, proc: Any, reader: threading.Thread) -> None:
        proc.join()
        reader.join()   # every event the worker sent before it ended, applied first
        with self._lock:
            if self._closing or slot.proc is not proc:
                return
            slot.status, slot.note = "recovering", (
                f"slot process {proc.pid} ended (exit {proc.exitcode}): making the slot safe")
            self._notify(slot, "status")
            self._spawn(slot)
            self._submit(slot, "recover", {"station_file": str(slot.station_file),
                                           "out_dir": str(self.out_dir), "db": self.db},
                         last_run=slot.run.get("run_id"))

    def close(self) -> None:
        with self._lock:
            self._closing = True
            procs = [(s.proc, s.jobs) for s in self.slots.values()]
        for _proc, jobs in procs:
            with contextlib.suppress(Exception):
                jobs.put(None)
        for proc, _ in procs:
            proc.join(30)
            if proc.is_alive():   # a worker stuck in a run: the engine's stop, not a kill
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGINT)
                proc.join(30)

    def __enter__(self) -> Line:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- jobs --------------------------------------------------------------------------------
    def free_slot(self) -> str | None:
        with self._lock:
            return next((s.id for s in self.slots.values() if s.status == "idle"), None)

    def run(self, slot_id: str, *, plan: str, serial: str, operator: str,
            unit_file: Path | None = None, select: list[str] | tuple[str, ...] = (),
            prompts: dict[str, Any] | None = None, **request: Any) -> str:
        """Start ``plan`` on ``serial`` in the slot; the job id (SlotBusy: not idle).
        ``prompts``: the operator's answers (``answers``) and photos (``photos``: name,
        bytes, media type, text), kept in the record as it starts."""
        slot = self.slots[slot_id]
        req = {"plan": plan, "serial": serial, "operator": operator,
               "station_file": slot.station_file, "out_dir": self.out_dir, "db": self.db,
               "unit_file": unit_file, **request}
        with self._lock:
            if slot.status != "idle":
                raise SlotBusy(f"slot {slot_id} is {slot.status}")
            slot.status, slot.run, slot.step, slot.result, slot.note, slot.pending = (
                "testing", {"serial": serial, "plan": plan}, None, None, "", None)
            slot.measurements = []
            job = self._submit(slot, "run", req, select=list(select), prompts=prompts)
            self._notify(slot, "status")
            return job

    def _submit(self, slot: Slot, kind: str, request: dict[str, Any], **extra: Any) -> str:
        job = f"{slot.id}-{next(self._ids)}"
        slot.job = job
        slot.jobs.put({"id": job, "kind": kind, "request": request, **extra})
        return job

    def stop(self, slot_id: str) -> bool:
        """Terminate: the engine's first signal (the step ends, safe state, ABORTED record).

        Pressed while the worker still opens the station (no ``started`` yet, its handler
        maybe not installed: a signal then would be ignored), the stop is kept and sent
        when the run has started; a run refused before it starts has nothing to stop."""
        slot = self.slots[slot_id]
        with self._lock:
            if slot.status != "testing":
                return False
            self._stop_or_keep(slot, "stop")
            return True

    def abort(self, slot_id: str) -> bool:
        """Abort: a second signal after the first (the engine closes the run at once, in a
        bounded time, and the worker exits; a new one recovers the slot). Before the run
        has started, kept as :meth:`stop` keeps a stop."""
        slot = self.slots[slot_id]
        with self._lock:
            if slot.status not in ("testing", "stopping"):
                return False
            self._stop_or_keep(slot, "abort")
            return True

    def _stop_or_keep(self, slot: Slot, what: str) -> None:
        """Signal a run that has started; keep ``what`` for one still opening its station."""
        slot.status = "stopping"
        if slot.run.get("run_id"):
            self._signal(slot, what)
        else:
            slot.pending = what
        self._notify(slot, "status")

    def _signal(self, slot: Slot, what: str) -> None:
        os.kill(slot.pid, signal.SIGINT)   # type: ignore[arg-type]
        if what == "abort":
            os.kill(slot.pid, signal.SIGTERM)  # type: ignore[arg-type]

    def wait_idle(self, slot_id: str | None = None, timeout: float | None = None) -> bool:
        """Wait until the slot (every slot) is idle again."""
        def idle() -> bool:
            slots = [self.slots[slot_id]] if slot_id else list(self.slots.values())
            return all(s.status == "idle" for s in slots)

        with self._idle:
            return self._idle.wait_for(idle, timeout)

    def wait_idle_any(self, timeout: float | None = None) -> bool:
        """Wait until some slot is idle (the next unit of a lot may go)."""
        with self._idle:
            return self._idle.wait_for(
                lambda: any(s.status == "idle" for s in self.slots.values()), timeout)

    def views(self) -> list[dict[str, Any]]:
        with self._lock:
            return [s.view() for s in self.slots.values()]

    # -- events from the workers -------------------------------------------------------------
    def _read(self, events: Any) -> None:
        """One worker's events, until it has ended (EOF) or its pipe broke."""
        with events:
            while True:
                try:
                    event = events.recv()
                except (EOFError, OSError, ValueError, pickle.UnpicklingError):
                    return
                with self._lock:
                    self._apply(event)

    def _apply(self, ev: dict[str, Any]) -> None:
        slot = self.slots[ev["slot"]]
        kind = ev["kind"]
        if kind == "ready":
            slot.pid = ev["pid"]
            if slot.status == "starting":
                slot.status = "idle"
        elif ev["job"] != slot.job:
            return   # from a job this slot no longer waits for
        elif kind == "started":
            slot.run = {k: ev[k] for k in ("run_id", "serial", "model", "plan", "station",
                                           "steps", "expected_s")}
            if slot.pending:   # pressed while the station opened: the engine's handler is in
                what, slot.pending = slot.pending, None
                self._signal(slot, what)
        elif kind == "step":
            slot.step = ev["step"]
        elif kind == "measurement":
            slot.measurements.append({k: v for k, v in ev.items()
                                      if k not in ("slot", "job", "kind")})
        elif kind == "finished":
            slot.result = {k: v for k, v in ev.items() if k not in ("slot", "job", "kind")}
            slot.status, slot.job, slot.pending = "idle", None, None
        elif kind == "recovered":
            runs = ", ".join(f"{r['serial']} {r['verdict']}" for r in ev["runs"]) or "nothing"
            safe = "bench safe" if ev["safe"]["ok"] else f"safe state NOT confirmed: {ev['safe']['errors']}"
            slot.note = f"slot recovered ({safe}; recovered: {runs})"
            if slot.result is None and ev["runs"]:
                first = ev["runs"][0]
                slot.result = {"verdict": first["verdict"], "run_id": first["run_id"],
                               "serial": first["serial"], "recovered": True, "safe": ev["safe"],
                               "failure": {"message": first.get("message") or "run ended at once"}}
            slot.status, slot.job = "idle", None
        elif kind == "failed":
            slot.status, slot.note, slot.job, slot.pending = "fault", ev["error"], None, None
        self._notify(slot, kind, ev)
        self._idle.notify_all()

    def _notify(self, slot: Slot, kind: str, ev: dict[str, Any] | None = None) -> None:
        if self.on_event is not None:
            with contextlib.suppress(Exception):
                self.on_event(kind, {"slot": slot.id, "view": slot.view() if kind != "measurement"
                                     else None, "event": ev})
