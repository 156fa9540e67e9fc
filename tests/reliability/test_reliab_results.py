"""Results that are not lost: a store that goes away, a disk that fills or turns read-only,
a station killed between its record and its store, two stations on one bench, a live run
that a later process must not "recover"."""

from __future__ import annotations

import contextlib
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cases import BY_ID
from harness import SERIAL, SIM_STATION, run_with_fault
from procs import ROOT, run_eol, served_bench

from fixtures.engine import execute
from fixtures.journal import pending_journals
from fixtures.lock import Owner
from fixtures.recovery import recover
from fixtures.session import RunRequest
from reports.exports import sha256_bytes
from reports.record import Record
from reports.store import open_store

pytestmark = pytest.mark.timeout(180)


class Proxy:
    """A TCP forwarder on 127.0.0.1 in front of PostgreSQL that can be cut (every live
    connection closed, new ones refused) and restored: a server that goes away."""

    def __init__(self, target_port: int = 5432) -> None:
        self.target = ("127.0.0.1", target_port)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.up = True
        self._conns: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.target)
            self._conns += [client, server]
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                ready, _, _ = select.select([a, b], [], [], 0.5)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.close()

    def cut(self) -> None:
        self.up = False
        for s in self._conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self._conns.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self._stop = True
        self.cut()
        self.sock.close()


@pytest.fixture
def proxied_db(pg_fresh_url: str) -> Iterator[tuple[Proxy, str]]:
    proxy = Proxy()
    try:
        yield proxy, pg_fresh_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    finally:
        proxy.close()


def test_store_away_for_a_moment_mid_run_loses_nothing(
        proxied_db: tuple[Proxy, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server goes away 30 s into the run and is back 2 s of the run's time later: the
    run goes on, the store is caught up at its end with every measurement, no duplicate."""
    proxy, url = proxied_db
    case = BY_ID["store-away-2s"]

    def away(bench: object) -> None:
        proxy.cut()
        clock = bench.clock   # type: ignore[attr-defined]
        clock.call_at(clock.now() + 2.0, lambda t: proxy.restore())

    o = run_with_fault(monkeypatch, tmp_path / "out", 30.0, away, db=url)
    assert o.code == case.exit == 0, o.terminal
    assert o.record is not None and o.record.verdict == case.verdict
    assert "store unavailable" not in o.terminal or "not written" not in o.terminal
    assert pending_journals(tmp_path / "out") == []   # caught up: nothing left to sync
    _store_equals_record(url, tmp_path / "out", o.record)


def test_store_away_to_the_end_is_caught_up_by_sync(
        proxied_db: tuple[Proxy, str], tmp_path: Path) -> None:
    proxy, url = proxied_db
    out = tmp_path / "out"
    case = BY_ID["store-away"]
    request = RunRequest(plan="eol", serial=SERIAL, station_file=SIM_STATION, out_dir=out, db=url)
    from fixtures import engine

    real_open = engine.PlanRun.open

    def open_then_cut(self: engine.PlanRun) -> None:
        real_open(self)
        proxy.cut()   # the store was there at the start, then went away for good

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine.PlanRun, "open", open_then_cut)
        result = execute(request)
    assert result.exit_code == case.exit, result.output_errors
    assert result.record is not None and result.record.verdict == case.verdict
    assert any(case.says in e for e in result.output_errors), result.output_errors
    assert result.record_path is not None and result.record_path.exists()
    assert len(pending_journals(out)) == 1   # the journal keeps it for the sync
    proxy.restore()
    sync = subprocess.run([str(ROOT / ".venv/bin/station"), "store", "sync", "--out", str(out),
                           "--db", url], capture_output=True, text=True, timeout=60)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert f"synced run {result.record.run_id}" in sync.stdout
    assert pending_journals(out) == []
    _store_equals_record(url, out, Record.load(result.record_path))


def _store_equals_record(url: str, out: Path, record: Record) -> None:
    files = [p for p in out.glob("*.json")]
    assert len(files) == 1, files   # one run, one record
    with open_store(url, out) as store:
        stored = store.load_record(record.run_id)
        assert store.record_sha256(record.run_id) == sha256_bytes(files[0].read_bytes())
        assert len(store.runs()) == 1
    assert stored.verdict == record.verdict
    assert [(m.name, m.outcome, m.value) for m in stored.measurements] == \
        [(m.name, m.outcome, m.value) for m in record.measurements]


@contextlib.contextmanager
def small_filesystem(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.parametrize("case_id", ["disk-full", "disk-read-only"])
def test_a_disk_that_fails_mid_run_stops_safe_with_one_line(
        case_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The output folder fills up (a small filesystem) or turns read-only mid-run: the
    plan stops in the safe state, exit 2, one clear line, no traceback; the store (on
    another disk) keeps every measurement taken."""
    case = BY_ID[case_id]
    db = f"sqlite:///{tmp_path / 'station.sqlite'}"
    size = "24k" if case_id == "disk-full" else "4m"
    with small_filesystem(tmp_path / "out", size) as out:
        def read_only(bench: object) -> None:
            subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)

        inject = read_only if case_id == "disk-read-only" else None
        o = run_with_fault(monkeypatch, out, 30.0 if inject else None, inject, db=db)
        assert o.code == case.exit == 2, o.terminal
        assert "Traceback" not in o.terminal and "INTERNALERROR" not in o.terminal
        lines = [ln for ln in o.terminal.splitlines() if "not written" in ln]
        assert lines and all(case.says in ln for ln in lines), o.terminal
        assert o.state is not None and o.state.safe
        with open_store(db, tmp_path) as store:
            (run_id,) = store.runs().run_id
            stored = store.load_record(run_id)
        assert stored.verdict in ("ERROR", "ABORTED") and stored.failure is not None
        assert stored.measurement("insulation_mohm").outcome == "PASS"


def test_killed_between_its_record_and_the_store_keeps_one_record(tmp_path: Path) -> None:
    """SIGKILL right after the JSON record is written, before the store hears of it: the
    next start brings the store up to that record (PASS stays PASS): one run, one record."""
    out = tmp_path / "out"
    script = (
        "import os, signal\n"
        "from fixtures import sinks\n"
        "sinks.StoreSink.finish = lambda self, record, outputs: os.kill(os.getpid(), signal.SIGKILL)\n"
        "from fixtures.engine import execute\n"
        "from fixtures.session import RunRequest\n"
        f"execute(RunRequest(plan='eol', serial='{SERIAL}', station_file=__import__('pathlib').Path("
        f"'{SIM_STATION}'), out_dir=__import__('pathlib').Path('{out}')))\n"
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (first,) = out.glob("*.json")
    record = Record.load(first)
    assert record.verdict == "PASS"
    again = execute(RunRequest(plan="eol", serial=SERIAL, station_file=SIM_STATION, out_dir=out))
    assert again.synced == [record.run_id] and again.recovered == []
    with open_store(None, out) as store:
        stored = store.load_record(record.run_id)
        assert stored.verdict == "PASS"
        assert store.record_sha256(record.run_id) == sha256_bytes(first.read_bytes())
    assert len(list(out.glob("*.json"))) == 2   # the killed run's and the new run's
    assert BY_ID["kill-after-record"].verdict == "PASS"


def test_recovery_asks_whether_the_owner_is_gone(tmp_path: Path) -> None:
    case = BY_ID["recover-live-run"]
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with open_store(None, tmp_path) as store:
        for run_id, owner in (("a" * 32, Owner.me().as_dict()),
                              ("b" * 32, {**Owner.me().as_dict(), "pid": dead.pid})):
            rec = _unfinished(run_id)
            store.begin_run(rec, owner=owner)
        done = recover(tmp_path, store, "S1")
        assert [r.run_id for r in done.recovered] == ["b" * 32]
        assert store.unfinished_runs("S1") == ["a" * 32], case.says


def _unfinished(run_id: str) -> Record:
    from datetime import UTC, datetime

    from reports.record import Firmware, LimitsInfo, StationInfo

    return Record(run_id=run_id, serial=SERIAL, model="v5", plan="eol", verdict=None,
                  started_at=datetime(2026, 1, 5, tzinfo=UTC), finished_at=None, duration_s=None,
                  wall_duration_s=None, operator="t", software_version="0",
                  station=StationInfo(id="S1", line="l", file="f", simulated=False),
                  instruments=[], firmware=Firmware(),
                  limits=LimitsInfo(file="x", version="1", sha256="0" * 64), measurements=[])


def test_a_second_station_process_on_a_live_bench_is_refused(tmp_path: Path) -> None:
    case = BY_ID["two-processes"]
    with served_bench(tmp_path / "bench") as desc:
        first = run_eol(desc["station_file"], desc["serial"], tmp_path / "out1")
        try:
            first.wait_line("── identity", 60)
            second = run_eol(desc["station_file"], desc["serial"], tmp_path / "out2")
            code = second.wait(60)
            assert code == case.exit == 3, second.terminal
            refusals = [ln for ln in second.err if ln.startswith("refused:")]
            assert len(refusals) == 1 and case.says in refusals[0]
            assert f"pid {first.p.pid}" in refusals[0], refusals
            assert not list((tmp_path / "out2").glob("*.json"))
            first.wait_line("── rest", 60)    # the first run went on undisturbed
            assert not [ln for ln in first.out if " FAIL " in ln or " ERROR " in ln], first.terminal
            first.signal(signal.SIGINT)
            first.wait(30)
        finally:
            first.stop()
    (only,) = (tmp_path / "out1").glob("*.json")
    rec = Record.load(only)
    assert rec.verdict == "ABORTED" and rec.failure is not None and "SIGINT" in rec.failure.message
