"""The MES hand-off on the real Mosquitto (127.0.0.1:1883): one UnitsTested per run, also
when the broker was down during the run and came back later (the outbox catches up)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from fixtures.engine import execute
from fixtures.mes import OUTBOX, STATE_CHANGED, UNITS_TESTED, Outbox, Publisher
from fixtures.session import RunRequest
from tests.line.helpers import station_file
from tests.line.mqtt_sub import Subscriber

SERIAL = "PV5S260100000013"
SHORT = ["-k", "identity or power_on"]   # a development run of two steps: cheap, still a run


def _closed_port() -> int:
    """A loopback port nobody listens on: the broker is "down"."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_each_run_is_one_units_tested_message_with_its_measurements(tmp_path: Path) -> None:
    station, prefix = station_file(tmp_path)
    with Subscriber(prefix) as mes:
        result = execute(RunRequest(plan="eol", serial=SERIAL, station_file=station,
                                    out_dir=tmp_path / "out"), select=SHORT)
        got = mes.wait_for(UNITS_TESTED, 1)
        states = mes.wait_for(STATE_CHANGED, 2)
        time.sleep(0.3)   # a duplicate would arrive now
    rec = result.record
    assert result.exit_code == 0 and rec is not None
    assert len(mes.named(UNITS_TESTED)) == 1
    msg = got[0]
    assert msg["topic"] == f"{prefix}/sim/{rec.station.id}/{UNITS_TESTED}"
    body = msg["MessageBody"]
    assert body["TransactionID"] == rec.run_id
    unit = body["TestedUnits"][0]
    assert unit["UnitIdentifier"] == SERIAL and unit["OverallResult"] == "Passed"
    sent = {m["MeasurementName"]: m for t in unit["Tests"] for m in t["Measurements"]}
    assert len(sent) == len(rec.measurements)
    taken = next(m for m in rec.measurements if m.outcome == "PASS" and m.limit.low is not None)
    assert sent[taken.name]["MeasuredValue"]["Value"] == taken.value
    assert sent[taken.name]["MeasurementUnits"] == taken.unit
    assert sent[taken.name]["SpecLowerLimit"] == taken.limit.low
    assert sent[taken.name]["Result"] == "Passed"
    assert [s["MessageBody"]["NewState"] for s in states] == ["testing", "idle"]
    assert not Outbox(tmp_path / "out" / OUTBOX).pending()


def test_broker_down_costs_the_run_nothing_and_the_outbox_catches_up(tmp_path: Path) -> None:
    down = f"127.0.0.1:{_closed_port()}"
    station, prefix = station_file(tmp_path, broker=down)
    out = tmp_path / "out"
    with Subscriber(prefix) as mes:
        result = execute(RunRequest(plan="eol", serial=SERIAL, station_file=station,
                                    out_dir=out), select=SHORT)
        assert result.exit_code == 0, result.output_errors
        outbox = Outbox(out / OUTBOX)
        pending = outbox.pending()
        assert len([p for p in pending if UNITS_TESTED in p.topic]) == 1
        # the broker "comes back": the same outbox, the real broker
        up = Publisher(outbox, "127.0.0.1:1883")
        assert up.drain() == len(pending)
        got = mes.wait_for(UNITS_TESTED, 1)
        assert up.drain() == 0   # nothing left: nothing sent twice
        time.sleep(0.3)
        assert len(mes.named(UNITS_TESTED)) == 1
        # at least once: a message whose PUBACK was lost goes again, with the same id
        retry = json.loads(pending[1].payload)
        assert retry["MessageName"] == UNITS_TESTED
        outbox.put(got[0]["topic"], retry)
        assert up.drain() == 1
        again = mes.wait_for(UNITS_TESTED, 2)
    assert len(again) == 2 and len(mes.unique(UNITS_TESTED)) == 1   # one, to a consumer by id
    assert got[0]["MessageBody"]["TransactionID"] == result.record.run_id
    assert not outbox.pending()
