"""Fixture relays on a relay card in the DAQ (a DAQM903A actuator, ``ROUT:CLOS``/``ROUT:OPEN``)
instead of the digital output: the byte-level exchange, the simulated DAQ with the module in
its slot, and a whole simulated station wired that way."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import tomli_w

from drivers.instruments.keysight_daq970a import KeysightDAQ970A
from sim.instruments.daq import CHANNELS, INPUT_BITS
from stations.open import open_station
from stations.schema import StationFileError, default_station_file
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import q, w

CARD = {"power": 201, "sw": 202, "breaker": 203, "in1": 204}
MODULES = {1: "DAQM900A", 2: "DAQM903A", 3: "DAQM907A"}
OPTIONS = {"outputs": {"heartbeat": 4}, "relay_card": CARD, "inputs": INPUT_BITS,
           "channels": CHANNELS, "modules": MODULES}
SCRIPT = [
    *w("ROUT:CLOS (@201)"), *q("ROUT:CLOS? (@201,202,203,204)", "1,0,0,0"),
    *w("SOUR:DIG:DATA:BYTE 16,(@302)"),                  # the heartbeat stays a DO bit
    *w("ROUT:OPEN (@201)"),
    *w("SOUR:DIG:DATA:BYTE 0,(@302)"), *w("ROUT:OPEN (@201,202,203,204)"),   # release_all
]


def drive(daq: KeysightDAQ970A) -> dict[str, bool]:
    daq.set_relay("power", True)
    assert daq.read_relays() == {"power": True, "sw": False, "breaker": False, "in1": False}
    daq.set_relay("heartbeat", True)
    daq.set_relay("power", False)
    daq.release_all()
    return daq.relays()


def test_wire_exchange_is_the_guides() -> None:
    assert run_script(KeysightDAQ970A, SCRIPT, drive, options=OPTIONS) == {
        "heartbeat": False, "power": False, "sw": False, "breaker": False, "in1": False}


def test_simulated_daq_with_the_card_in_slot_2_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory()
    daq = rig.bench.daq
    daq.modules = dict(MODULES)
    daq.relay_card = dict(CARD)
    server = rig.bench.servers["daq"]
    replay(server.host, server.port, SCRIPT, read_term=b"\n")
    assert daq.closed == set() and not daq.relay("power")


def test_a_card_channel_on_a_multiplexer_is_refused_at_open() -> None:
    from tests.instruments.protocol import ScriptedTransport

    with pytest.raises(ValueError, match=r"relay power on channel 101.*DAQM903A.*DAQM900A"):
        KeysightDAQ970A(ScriptedTransport([]), name="daq", envelope=None, clock=None,
                        options={**OPTIONS, "relay_card": {**CARD, "power": 101}})


def _card_station(tmp_path: Path, **fixture: object) -> Path:
    doc = tomllib.loads(default_station_file().read_text())
    doc["fixture"].update(relays="card", outputs={**CARD, "link_port0": 205, "link_port1": 206},
                          **fixture)
    doc["instruments"]["daq"]["options"] = {"modules": {"1": "DAQM900A", "2": "DAQM903A",
                                                        "3": "DAQM907A"}}
    path = tmp_path / "card.toml"
    path.write_text(tomli_w.dumps(doc))
    return path


def test_station_with_a_relay_card_switches_the_fixture_through_it(tmp_path: Path) -> None:
    with open_station(_card_station(tmp_path)) as st:
        sim = st.sim.instruments.daq
        st.daq.set_relay("breaker", True)
        st.daq.set_relay("power", True)
        assert sim.closed == {201, 203} and sim.power_closed()
        assert st.daq.read_relays()["power"] and not st.daq.read_relays()["sw"]
        st.daq.set_relay("link_port0", True)
        assert st.sim.link_relays.closed["link_port0"]
        assert sim.out_byte & ~(1 << 4) == 0     # the digital output carries the heartbeat only
        report = st.safe_state()
        assert report.ok and sim.closed == set() and not sim.power_closed()


def test_card_outputs_must_be_channels(tmp_path: Path) -> None:
    doc = tomllib.loads(_card_station(tmp_path).read_text())
    doc["fixture"]["outputs"]["sw"] = 1
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps(doc))
    with pytest.raises(StationFileError, match=r"key fixture: .*relay-card channel"):
        open_station(bad)


def test_station_check_exercises_every_relay_on_the_card(tmp_path: Path) -> None:
    from stations.check import run_check

    report = run_check(_card_station(tmp_path))
    results = {i.item: (i.result, i.detail) for i in report.items if i.item.startswith("relay ")}
    assert set(results) == {"relay power", "relay sw", "relay breaker", "relay in1",
                            "relay link_port0", "relay link_port1"}
    assert all(r == "OK" for r, _ in results.values()), results
    assert "channel 201" in results["relay power"][1]
