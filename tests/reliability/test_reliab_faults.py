"""Faults injected while the EOL plan runs in-process: whatever breaks, the bench ends safe
(checked on the simulated instruments' own state), every measurement taken is in the
store, the record names the step and the fault, and the terminal says it in one line."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cases import BY_ID, Case
from harness import Outcome, fast_station, run_with_fault


def _mute(role: str) -> Callable[[Any], None]:
    return lambda b: setattr(b.instruments.servers[role], "muted", True)


def _scpi_errors(role: str) -> Callable[[Any], None]:
    def rewrite(line: str, answer: str | None) -> str | None:
        return '-222,"Data out of range"' if line.upper().startswith("SYST:ERR") else answer

    return lambda b: setattr(b.instruments.servers[role], "rewrite", rewrite)


def _drop(role: str) -> Callable[[Any], None]:
    return lambda b: b.instruments.servers[role].drop_connections()


def _corrupt_rs485(b: Any) -> None:
    def flip(reply: bytes) -> bytes:
        return reply[:5] + bytes([reply[5] ^ 0x01]) + reply[6:] if len(reply) > 6 else reply

    b.ports["rs485"]._link.tamper = flip


def _surge(b: Any) -> None:
    """300 A out of the pack for 1 s, behind the station's back: the BMS trips."""
    pack, network = b.pack, b.instruments.network
    pack.set_network(lambda view: -300.0 if view.discharge_path else 0.0)
    b.clock.call_later(1.0, lambda t: pack.set_network(network))


def _sigint(b: Any) -> None:
    os.kill(os.getpid(), signal.SIGINT)   # handled in the main thread, like Ctrl-C


INJECT: dict[str, tuple[float, Callable[[Any], None]]] = {
    "load-silent": (31.0, _mute("load")),
    "load-scpi-error": (31.0, _scpi_errors("load")),
    "supply-link-drop": (17.7, _drop("supply")),
    "load-link-drop": (31.0, _drop("load")),
    "rs485-corrupt": (18.9, _corrupt_rs485),
    "can-silent": (11.0, lambda b: b.broadcaster.stop()),
    "unexpected-protection": (15.9, _surge),   # before the charge pulse: the supply's model is out of the faked network meanwhile
    "pack-off": (12.0, lambda b: b.pack.set_power_button(False)),
    "operator-stop": (61.0, _sigint),
}


def _taken(rec: Any) -> dict[str, Any]:
    return {m.name: (m.outcome, m.value) for m in rec.measurements if m.outcome != "NOT_RUN"}


def check(o: Outcome, case: Case) -> None:
    rec = o.record
    assert rec is not None, o.terminal
    assert o.injected_at is not None, "the fault was never injected (plan ended first)"
    assert (o.code, rec.verdict) == (case.exit, case.verdict), (o.code, rec.failure, o.terminal)
    assert rec.failure is not None
    step = rec.failure.step
    if case.step != "(current)":
        assert step == case.step, rec.failure
    said = f"{rec.failure.measurement or ''} {rec.failure.message}"
    assert case.says in said, rec.failure
    # the safe state reached, on the instruments' own state
    assert o.state is not None and o.state.safe, o.state
    # every measurement taken is in the store, with the same outcome and value
    assert o.stored is not None and o.stored.verdict == rec.verdict
    assert _taken(o.stored) == _taken(rec)
    assert sum(1 for m in rec.measurements if m.outcome in ("PASS", "FAIL")) > 0
    # one terminal line: verdict, serial, step and the fault
    lines = [ln for ln in o.terminal.splitlines() if ln.startswith(rec.verdict)]
    assert len(lines) == 1, o.terminal
    assert f"step {step}" in lines[0] and case.says in lines[0], lines[0]
    unconfirmed = [ln for ln in o.terminal.splitlines() if ln.startswith("safe state NOT confirmed")]
    expected = [f"by the {case.unconfirmed}:"] if case.unconfirmed else []
    assert [ln.split(":")[0].removeprefix("safe state NOT confirmed ") + ":" for ln in unconfirmed] \
        == expected, o.terminal


@pytest.mark.parametrize("case_id", list(INJECT))
def test_fault_during_plan(case_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at, inject = INJECT[case_id]
    o = run_with_fault(monkeypatch, tmp_path / "out", at, inject,
                       station_file=fast_station(tmp_path / "station"))
    check(o, BY_ID[case_id])


def test_every_fault_case_is_injected() -> None:
    faults = {c.id for c in BY_ID.values() if c.area == "fault"} | {"operator-stop"}
    assert faults == set(INJECT)


def test_without_the_reconnect_a_dropped_supply_would_stay_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reconnect in the final safe state is what switches the supply off: with it
    disabled the same fault leaves the supply on and the terminal says so."""
    from stations.open import Station

    monkeypatch.setattr(Station, "_reconnect", lambda self, role: False)
    at, inject = INJECT["supply-link-drop"]
    o = run_with_fault(monkeypatch, tmp_path / "out", at, inject,
                       station_file=fast_station(tmp_path / "station"))
    assert o.state is not None and o.state.supply_output_on
    assert "safe state NOT confirmed by the supply" in o.terminal


def test_abort_while_the_main_thread_is_inside_close_still_writes_the_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second signal's abort path calls close() on a worker thread while the main
    thread waits in the signal handler, possibly stopped inside close() itself: the
    worker must then finish the job (safe state, record), or os._exit would lose it."""
    from fixtures.session import PlanRun

    real = PlanRun._safe_state
    done: list[bool] = []
    started: list[bool] = []

    def safe_state_then_abort(self: PlanRun) -> Any:
        report = real(self)
        if not started:   # first call: main thread is inside close(); the abort path runs now
            started.append(True)
            self.aborted = self.aborted or "operator abort (second signal: at once)"
            worker = threading.Thread(target=self.close)
            worker.start()
            worker.join(10)
            done.append(self._written)
        return report

    monkeypatch.setattr(PlanRun, "_safe_state", safe_state_then_abort)
    o = run_with_fault(monkeypatch, tmp_path / "out", None, None,
                       station_file=fast_station(tmp_path / "station"))
    case = BY_ID["abort-inside-close"]
    assert done == [True], "the abort path did not write the record"
    assert o.code == case.exit
    assert o.record is not None and o.record.failure is not None
    assert case.says in o.record.failure.message
    assert len(list((tmp_path / "out").glob("*.json"))) == 1
    assert o.record is not None and o.record.verdict == "ABORTED"
    assert o.stored is not None and o.stored.verdict == "ABORTED"
    assert o.state is not None and o.state.safe


def test_an_abort_whose_safe_state_hangs_still_writes_the_record_in_its_bound(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread the second signal stopped may hold a port mid-exchange, so the abort
    path's own safe state can hang on it: the record is written after the safe state's
    budget anyway, well inside the 10 s the process has left (the dead-man stops the
    current once it is gone)."""
    import time

    from fixtures import session
    from fixtures.session import PlanRun

    real = PlanRun._safe_state
    took: list[float] = []
    written: list[bool] = []

    def first_real_then_abort_hangs(self: PlanRun) -> Any:
        if threading.current_thread() is not threading.main_thread():
            time.sleep(60)   # a port the stopped main thread holds: never answers
        report = real(self)
        if not took:   # the main thread is inside close(): the abort path runs now
            self.aborted = self.aborted or "operator abort (second signal: at once)"
            t0 = time.monotonic()
            worker = threading.Thread(target=self.close)
            worker.start()
            worker.join(10)
            took.append(time.monotonic() - t0)
            written.append(self._written)
        return report

    monkeypatch.setattr(session, "ABORT_SAFE_STATE_BUDGET_S", 1.0)
    monkeypatch.setattr(PlanRun, "_safe_state", first_real_then_abort_hangs)
    o = run_with_fault(monkeypatch, tmp_path / "out", None, None,
                       station_file=fast_station(tmp_path / "station"))
    assert written == [True], "the abort path lost the record behind a hanging safe state"
    assert took[0] < 5.0, took
    assert len(list((tmp_path / "out").glob("*.json"))) == 1
    assert o.record is not None and o.record.verdict == "ABORTED"


def test_an_abort_before_the_main_thread_closes_bounds_its_safe_state_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second signal can land while the main thread is still ending its step (not yet
    in close()): the abort path closes the run itself, and a safe state that hangs there
    (a port the stopped thread holds) must not cost the record either."""
    import time

    from fixtures import session
    from fixtures.engine import abort_at_once, start_run
    from fixtures.session import PlanRun, RunRequest

    run = start_run(RunRequest(plan="eol", serial="PV5S260100000013",
                               station_file=fast_station(tmp_path / "station"),
                               out_dir=tmp_path / "out"))
    real = PlanRun._safe_state

    def hangs_off_the_main_thread(self: PlanRun) -> Any:
        if threading.current_thread() is not threading.main_thread():
            time.sleep(60)
        return real(self)

    monkeypatch.setattr(session, "ABORT_SAFE_STATE_BUDGET_S", 1.0)
    monkeypatch.setattr(PlanRun, "_safe_state", hangs_off_the_main_thread)
    t0 = time.monotonic()
    worker = threading.Thread(target=abort_at_once, args=(run,))
    worker.start()
    worker.join(10)
    took = time.monotonic() - t0
    try:
        assert not worker.is_alive() and took < 5.0, took
        assert [p.name for p in (tmp_path / "out").glob("*.json")], "the record was lost"
        assert run.record is not None and run.record.verdict == "ABORTED"
    finally:
        monkeypatch.setattr(PlanRun, "_safe_state", real)
        if run.station is not None:
            run.station.close()   # the bench this test opened, safe


def test_an_abort_writes_the_record_while_the_store_is_locked(tmp_path: Path) -> None:
    """The second signal can freeze the main thread inside a store transaction, which holds
    the database's write lock until the process is gone (here another connection holds
    it). The abort path must not queue behind it before the record is on the disk: the
    record file is written at once, and the store catches up once the lock is free."""
    import sqlite3
    import time

    from fixtures.engine import abort_at_once, start_run
    from fixtures.session import RunRequest
    from reports.store import open_store

    out = tmp_path / "out"
    run = start_run(RunRequest(plan="eol", serial="PV5S260100000013",
                               station_file=fast_station(tmp_path / "station"), out_dir=out))
    worker = None
    try:
        run.begin()                     # as the plan's collection does: the store has the run
        holder = sqlite3.connect(out / "station.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")   # the frozen transaction
        worker = threading.Thread(target=abort_at_once, args=(run,), daemon=True)
        t0 = time.monotonic()
        worker.start()
        while not list(out.glob("*.json")) and time.monotonic() - t0 < 8.0:
            time.sleep(0.05)
        took = time.monotonic() - t0
        assert list(out.glob("*.json")), "the record waited on the store's lock"
        assert took < 5.0, took
        holder.execute("ROLLBACK")
        holder.close()
        worker.join(30)
        assert not worker.is_alive()
        assert run.record is not None
        with open_store(None, out) as store:
            assert store.load_record(run.record.run_id).verdict == "ABORTED"
    finally:
        if run.station is not None:
            run.station.close()


def test_an_abort_while_the_record_is_being_written_writes_it_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second signal can land after the record file is written and before the other
    sinks have it: the abort path goes on from the sink that does not have it yet, with the
    same final record, so there is one record file and the store holds that file's hash."""
    import time

    from fixtures.engine import abort_at_once
    from fixtures.sinks import CertificateSink
    from reports.exports import sha256_file

    real = CertificateSink.finish
    took: list[float] = []

    def abort_now(self: CertificateSink, record: Any, outputs: Any) -> None:
        if not took and threading.current_thread() is threading.main_thread():
            run = _RUNS[-1]
            run.aborted = run.aborted or "operator abort (second signal: at once)"
            t0 = time.monotonic()
            worker = threading.Thread(target=abort_at_once, args=(run,))
            worker.start()
            worker.join(10)
            took.append(time.monotonic() - t0)
        real(self, record, outputs)

    _RUNS.clear()
    from fixtures.session import PlanRun

    real_open = PlanRun.open

    def remember(self: PlanRun) -> None:
        _RUNS.append(self)
        real_open(self)

    monkeypatch.setattr(PlanRun, "open", remember)
    monkeypatch.setattr(CertificateSink, "finish", abort_now)
    o = run_with_fault(monkeypatch, tmp_path / "out", None, None,
                       station_file=fast_station(tmp_path / "station"))
    files = list((tmp_path / "out").glob("*.json"))
    assert took and took[0] < 5.0, took
    assert len(files) == 1, files
    assert o.stored is not None and o.stored.verdict == o.record.verdict  # type: ignore[union-attr]
    from reports.store import open_store

    with open_store(None, tmp_path / "out") as store:
        assert store.record_sha256(o.record.run_id) == sha256_file(files[0])  # type: ignore[union-attr]


_RUNS: list[Any] = []
