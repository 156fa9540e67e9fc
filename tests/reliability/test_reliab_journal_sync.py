"""The journal's durability contract (docs/reliability.md, "What the journal guarantees"):
each measurement is written to the OS before the plan goes on (a killed process loses
none), fsynced at the end of each step and of the run (a power cut loses at most the
current step); a disk that refuses the step's sync stops the plan like one that refuses a
line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cases import BY_ID
from harness import run_with_fault

import fixtures.journal as journal_mod
from fixtures.journal import JournalError, RunJournal, journal_path, read_journal
from reports.record import Limit, Measurement, Record

pytestmark = pytest.mark.timeout(120)
R1, KILLED = "1" * 32, "2" * 32



def _measurement(i: int, step: str = "s0") -> Measurement:
    from datetime import UTC, datetime

    return Measurement(name=f"m{i}", step=step, unit="V", description="", critical=False,
                       limit=Limit(low=0.0, high=10.0, comparison="range"), outcome="PASS",
                       value=float(i), message="", t=float(i),
                       taken_at=datetime(2026, 1, 1, tzinfo=UTC))


def _record(run_id: str) -> Record:
    from datetime import UTC, datetime

    from reports.record import Firmware, LimitsInfo, StationInfo

    return Record(run_id=run_id, serial="PV5S260100000013", model="v5", plan="eol",
                  verdict=None, started_at=datetime(2026, 1, 1, tzinfo=UTC), finished_at=None,
                  duration_s=None, wall_duration_s=None, operator="op", software_version="0",
                  station=StationInfo(id="st", line="l", file="f", simulated=True),
                  instruments=[], firmware=Firmware(),
                  limits=LimitsInfo(file="x", version="1", sha256="0" * 64),
                  work_order={}, measurements=[])


def test_fsync_at_begin_step_end_and_final_not_per_measurement(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(journal_mod.os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    j = RunJournal(tmp_path, R1)
    j.begin(_record(R1))
    assert len(synced) == 2          # the file and its folder entry
    for i in range(5):
        j.measurement(_measurement(i))
    assert len(synced) == 2          # written, not synced, one by one
    assert [m.name for m in read_journal(j.path).measurements] == [f"m{i}" for i in range(5)]
    j.sync()
    assert len(synced) == 3          # the step's lines in one fsync
    j.sync()
    assert len(synced) == 3          # nothing new: no fsync
    j.measurement(_measurement(5))
    j.final(tmp_path / "x.json", "ab" * 32)
    assert len(synced) == 4
    state = read_journal(j.path)
    assert len(state.measurements) == 6 and state.final_sha256 == "ab" * 32


def test_a_killed_process_loses_no_measurement_it_wrote(tmp_path: Path) -> None:
    """SIGKILL right after the writes, before any sync: the page cache keeps every line."""
    case = BY_ID["sigkill-unsynced"]
    child = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_reliab_journal_sync import _measurement, _record
        from fixtures.journal import RunJournal
        j = RunJournal(__import__("pathlib").Path({str(tmp_path)!r}), {KILLED!r})
        j.begin(_record({KILLED!r}))
        for i in range(40):
            j.measurement(_measurement(i))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == case.exit == -9, done.stderr
    state = read_journal(journal_path(tmp_path, KILLED))
    assert state.header is not None and state.header.run_id == KILLED
    assert [m.value for m in state.measurements] == [float(i) for i in range(40)]


def test_a_step_end_sync_refused_stops_the_plan_safe(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The third step's sync fails (the disk went away between its lines and its end): the
    plan stops there, ERROR naming the journal, every measurement taken still in the store
    and the bench safe."""
    case = BY_ID["journal-sync-refused"]
    calls: list[str] = []
    real_sync = RunJournal.sync

    def failing_sync(self: RunJournal) -> None:
        calls.append(self.path.name)
        if len(calls) == 3:
            raise JournalError(5, f"run journal {self.path} cannot be written: Input/output error")
        real_sync(self)

    monkeypatch.setattr(RunJournal, "sync", failing_sync)
    o = run_with_fault(monkeypatch, tmp_path / "out")
    assert o.code == case.exit == 2, o.terminal
    assert "Traceback" not in o.terminal and "INTERNALERROR" not in o.terminal
    assert o.record is not None and o.record.verdict == case.verdict
    assert o.record.failure is not None and case.says in o.record.failure.message
    steps = [s.name for s in o.record.steps]
    assert len(steps) == 3, steps    # no step after the one whose sync failed
    assert o.record.failure.step == steps[-1]
    assert o.state is not None and o.state.safe
    assert o.stored is not None
    taken = {m.name for m in o.record.measurements if m.outcome in ("PASS", "FAIL")}
    assert taken and taken <= {m.name for m in o.stored.measurements
                               if m.outcome in ("PASS", "FAIL")}


def test_the_store_hears_of_a_run_at_its_ends_and_recovery_takes_the_rest_from_the_journal(
        tmp_path: Path) -> None:
    """The store holds the run from its start but its measurements only at its end; a
    station killed mid-run leaves them in the journal only, and recovery puts every one of
    them in the store."""
    from fixtures.lock import Owner
    from fixtures.recovery import recover
    from fixtures.sinks import JournalSink, StoreSink
    from reports.store import open_store

    store = open_store(None, tmp_path)
    record = _record(KILLED)
    dead = Owner.me().as_dict() | {"pid": 2**22 + 17}   # this host, no such process
    journal = JournalSink(tmp_path, KILLED, dead)
    sink = StoreSink(store, journal, dead)
    journal.begin(record)
    sink.begin(record)
    assert store.unfinished_runs("st") == [KILLED]
    for i in range(5):
        m = _measurement(i, f"s{i // 3}")
        journal.measurement(record, m)
        sink.measurement(record, m)
        if i == 2:
            journal.step_end(record, "s0")
    assert store.load_record(KILLED).measurements == []          # then SIGKILL

    result = recover(tmp_path, store, "st")
    (back,) = result.recovered
    assert back.verdict == "ABORTED" and back.duration_s == 4.0
    stored = store.load_record(KILLED)
    assert [m.name for m in stored.measurements] == [f"m{i}" for i in range(5)]
    assert stored.verdict == "ABORTED" and store.unfinished_runs("st") == []
    assert not journal_path(tmp_path, KILLED).exists()
