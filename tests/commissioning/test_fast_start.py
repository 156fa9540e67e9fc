"""A fast start: several units in one `station run` process; a run on a current store
imports neither the analytics (pandas, matplotlib) nor Alembic nor SQLAlchemy's ORM; a
serial link closes without pyserial's fixed wait, as really closed; the process ends
without the interpreter's teardown, and without losing what it owes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from common.serial_number import make_serial
from drivers.instruments.transport import close_serial_port
from reports.store import open_store

GOOD = [make_serial("S", 26, 1, 13), make_serial("S", 26, 1, 21)]
#: Run the station command, then say which of these modules the process had imported.
WRAPPER = """
import atexit, json, sys
atexit.register(lambda: print("MODULES " + json.dumps(
    sorted(m for m in ("pandas", "matplotlib", "alembic", "sqlalchemy.orm") if m in sys.modules))))
from stations.cli import main
sys.argv = ["station", *sys.argv[1:]]
main()
"""


@pytest.fixture(scope="module")
def lot(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One process: a good unit, a mistyped serial, another good unit, into a store
    whose schema is current."""
    out = tmp_path_factory.mktemp("lot")
    open_store(None, out).close()
    env = {**os.environ, "NO_COLOR": "1", "VSTATION_EPOCH": "fixed"}
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, "run", "eol", "--serial", GOOD[0], "--serial",
         "PV5S260100000014", "--serial", GOOD[1], "--out", str(out), "-q"],
        capture_output=True, text=True, timeout=300, env=env)
    return done, out


def test_several_units_run_in_one_process_each_with_its_own_record(lot) -> None:  # type: ignore[no-untyped-def]
    done, out = lot
    assert done.returncode == 3, done.stdout + done.stderr   # the worst: a unit refused
    lines = done.stdout.splitlines()
    assert lines[-5:-1] == [f"{GOOD[0]}: PASS", "PV5S260100000014: refused", f"{GOOD[1]}: PASS",
                            "2 of 3 units passed"], done.stdout
    assert "check character" in done.stderr
    for sn in GOOD:
        assert len(list(out.glob(f"{sn}_*.json"))) == len(list(out.glob(f"{sn}_*.pdf"))) == 1
    assert not list(out.glob("PV5S260100000014*"))
    with open_store(None, out) as store:
        runs = store.runs()
    assert sorted(runs.serial) == sorted(GOOD) and set(runs.verdict) == {"PASS"}


def test_a_run_on_a_current_store_imports_no_analytics_alembic_nor_orm(lot) -> None:  # type: ignore[no-untyped-def]
    done, _ = lot
    found = [line for line in done.stdout.splitlines() if line.startswith("MODULES ")]
    assert found and json.loads(found[-1].removeprefix("MODULES ")) == [], done.stdout


def test_a_socket_serial_link_is_really_closed_without_the_wait() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    try:
        port = serial.serial_for_url(f"socket://127.0.0.1:{server.getsockname()[1]}", timeout=1)
        peer, _ = server.accept()
        peer.settimeout(10)
        port.write(b"*IDN?\n")
        assert peer.recv(64) == b"*IDN?\n"
        close_serial_port(port)
        assert not port.is_open
        assert peer.recv(64) == b""   # the gateway sees the link closed
        peer.close()
        loop = serial.serial_for_url("loop://", timeout=1)   # other ports: pyserial's close
        close_serial_port(loop)
        assert not loop.is_open
    finally:
        server.close()


def test_a_lot_stops_at_a_unit_aborted_or_in_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    import stations.cli_run as cli_run
    from fixtures.session import RunRequest
    from stations.lot_run import run_units

    codes = iter([1, 3, 2, 0])   # FAIL and refused go on; an abort stops the lot
    ran: list[str] = []

    def fake_run_plan(req, console, err, *, progress=True):  # type: ignore[no-untyped-def]
        ran.append(req.serial)
        return next(codes)

    monkeypatch.setattr(cli_run, "run_plan", fake_run_plan)
    reqs = [RunRequest(plan="eol", serial=f"S{i}", station_file=Path("x")) for i in range(4)]
    out, err = Console(record=True, width=200), Console(record=True, width=200)
    assert run_units(reqs, out, err) == 3   # the worst: refused
    assert ran == ["S0", "S1", "S2"]
    text = out.export_text()
    assert "S2: aborted or error" in text and "S3: not run" in text and "0 of 4 units passed" in text
    assert "lot stopped after unit 3: 1 unit(s) not run" in err.export_text()


LEAVE = """
import atexit, sys, threading, time
from pathlib import Path
from stations.cli import leave
flag = Path(sys.argv[1])
atexit.register(lambda: flag.with_suffix(".atexit").write_text("ran"))
if sys.argv[2] == "thread":   # a worker still busy when the command is done
    threading.Thread(target=lambda: (time.sleep(0.3), flag.write_text("done"))).start()
sys.stdout.write("no newline, still in the buffer")
leave(None if sys.argv[3] == "none" else int(sys.argv[3]) if sys.argv[3].isdigit() else sys.argv[3])
"""


@pytest.mark.parametrize(("code", "status"), [("none", 0), ("5", 5), ("300", 44), ("bad serial", 1)])
def test_leaving_without_teardown_keeps_what_the_process_owes(tmp_path: Path, code: str,
                                                              status: int) -> None:
    flag = tmp_path / "flag"
    done = subprocess.run([sys.executable, "-c", LEAVE, str(flag), "-", code],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == status, done.stderr
    assert done.stdout == "no newline, still in the buffer"   # flushed before the exit
    assert flag.with_suffix(".atexit").read_text() == "ran"
    assert done.stderr == ("bad serial\n" if code == "bad serial" else "")


def test_leaving_waits_for_a_thread_still_working(tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    done = subprocess.run([sys.executable, "-c", LEAVE, str(flag), "thread", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert flag.read_text() == "done" and flag.with_suffix(".atexit").read_text() == "ran"


def test_a_later_run_freezes_the_survivors_not_the_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import weakref

    import stations.cli_run as cli_run

    class Node:
        me: object

    def cycle() -> weakref.ref[Node]:
        node = Node()
        node.me = node   # garbage only a collection finds
        return weakref.ref(node)

    monkeypatch.setattr(cli_run, "_FROZE_BEFORE", [False])
    try:
        cli_run.freeze_survivors()   # the first unit in this process
        kept, dropped = Node(), cycle()
        cli_run.freeze_survivors()   # the next
        assert dropped() is None                     # collected, not frozen
        assert gc.get_freeze_count() > 0
        assert all(o is not kept for o in gc.get_objects())   # out of the collector's sight
    finally:
        gc.unfreeze()
