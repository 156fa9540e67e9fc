"""A slot whose worker died mid-run: its run, closed ABORTED by the recovery, still reaches
the MES once (the dead run's own sink never ran), with the broker up and with the broker
down during the run and back later."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fixtures.mes import OUTBOX, UNITS_TESTED, Outbox, Publisher
from tests.line.helpers import station_file
from tests.line.mqtt_sub import Subscriber
from tests.line.test_mes import SERIAL, _closed_port


def _killed_run(station: Path, out: Path) -> tuple[str, dict[str, Any]]:
    """One run in a one-slot line, its worker killed (SIGKILL) at the first measurement; the
    run id and the slot's view once the new worker recovered it."""
    from stations.slots import Line

    measured = threading.Event()
    line = Line(station, out, on_event=lambda kind, _: kind == "measurement" and measured.set())
    with line:
        assert line.wait_idle(timeout=60)
        line.run("A", plan="eol", serial=SERIAL, operator="olga")
        assert measured.wait(60), "no measurement"
        slot = line.slots["A"]
        run_id = slot.run["run_id"]
        os.kill(slot.pid, signal.SIGKILL)   # a crash: no signal handler, no sink runs
        deadline = time.monotonic() + 60
        while "recovered" not in slot.note and time.monotonic() < deadline:
            line.wait_idle("A", timeout=1)
        view = next(v for v in line.views() if v["id"] == "A")
    return run_id, view


@pytest.mark.parametrize("broker", ["up", "down"])
def test_a_recovered_run_is_one_units_tested_message(tmp_path: Path, broker: str) -> None:
    address = "127.0.0.1:1883" if broker == "up" else f"127.0.0.1:{_closed_port()}"
    station, prefix = station_file(tmp_path, source="sim-line.toml", slots=1, broker=address)
    out = tmp_path / "out"
    with Subscriber(prefix) as mes:
        run_id, view = _killed_run(station, out)
        assert "recovered" in view["note"] and view["result"]["verdict"] == "ABORTED", view
        outbox = Outbox(out / OUTBOX)
        if broker == "down":   # nothing went out; the broker comes back: the outbox drains
            assert not mes.named(UNITS_TESTED)
            waiting = [p for p in outbox.pending() if UNITS_TESTED in p.topic]
            assert len(waiting) == 1 and run_id in waiting[0].payload.decode()
            assert Publisher(outbox, "127.0.0.1:1883").drain() >= 1
        got = mes.wait_for(UNITS_TESTED, 1)
        time.sleep(0.5)   # a duplicate would arrive now
        assert len(mes.named(UNITS_TESTED)) == 1
    body = got[0]["MessageBody"]
    assert body["TransactionID"] == run_id
    unit = body["TestedUnits"][0]
    assert unit["UnitIdentifier"] == SERIAL and unit["OverallResult"] == "Aborted"
    assert body["RecordSHA256"] and len(body["RecordSHA256"]) == 64
    assert any(m["Result"] == "Passed" for t in unit["Tests"] for m in t["Measurements"])
    assert not [p for p in outbox.pending() if UNITS_TESTED in p.topic]


def test_a_station_run_recovered_by_the_next_one_is_one_units_tested_message(tmp_path: Path) -> None:
    """`station run` killed mid-plan: the next `station run` on the same results folder closes
    it ABORTED and hands it to the MES (its own sink never ran): one message for it, one for
    the new run, no more."""
    import subprocess
    import sys

    station, prefix = station_file(tmp_path)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "stations", "run", "eol", "--serial", SERIAL,
           "--station", str(station), "--out", str(out)]
    with Subscriber(prefix) as mes:
        first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert first.stdout is not None
        for line in first.stdout:   # the plan has measured: a record is being kept
            if "ground_bond_ohm" in line:
                break
        first.kill()
        first.wait(30)
        journals = list(out.rglob("*.jsonl"))
        assert journals, "the killed run left no journal"
        killed = journals[0].stem
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
        mes.wait_for(UNITS_TESTED, 2)
        time.sleep(0.5)   # a duplicate would arrive now
        bodies = {m["MessageBody"]["TransactionID"]: m["MessageBody"] for m in mes.named(UNITS_TESTED)}
        assert len(mes.named(UNITS_TESTED)) == 2, list(bodies)
    assert killed in bodies, (killed, list(bodies))
    unit = bodies[killed]["TestedUnits"][0]
    assert unit["UnitIdentifier"] == SERIAL and unit["OverallResult"] == "Aborted"
    assert len(bodies[killed]["RecordSHA256"]) == 64
    (new_run,) = (b for run_id, b in bodies.items() if run_id != killed)
    assert new_run["TestedUnits"][0]["OverallResult"] == "Passed"
