"""Station files: the shipped ones validate; every kind of bad file names the file and key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from common.clock import VirtualClock
from sim.instruments import start_instruments
from sim.instruments.daq import HEARTBEAT_BIT
from sim.instruments.station_file import write_station_file
from stations.schema import StationFileError, default_station_file, load_station_file, parse_station
from tests.instruments.fakepack import FakePack

STATIONS = Path(__file__).resolve().parents[2] / "stations"


def _sim_doc() -> dict[str, Any]:
    return tomllib.loads(default_station_file().read_text())


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "st.toml") -> Path:
    p = tmp_path / name
    p.write_text(tomli_w.dumps(doc))
    return p


def test_shipped_station_files_validate() -> None:
    sim = load_station_file(STATIONS / "sim.toml")
    assert sim.bench.simulated and sim.instruments["load"].address == "sim"
    line = load_station_file(STATIONS / "example-line1.toml")
    assert not line.bench.simulated and line.pack is not None
    assert line.pack.can.interface == "socketcan"
    assert set(line.instruments) == {"load", "supply", "chamber", "daq", "leds", "safety"}
    for sf in (sim, line):   # both fixtures have the dead-man on bit 4, 2 s
        assert sf.fixture.deadman is not None
        assert (sf.fixture.deadman.output, sf.fixture.deadman.timeout_s) == (4, 2.0)
    doc = _sim_doc()
    del doc["fixture"]["deadman"]   # a fixture without a watchdog relay: still valid
    assert parse_station(doc).fixture.deadman is None


@pytest.mark.parametrize(
    ("mutate", "key", "words"),
    [
        (lambda d: d["instruments"]["load"].update(dialect="acme-9000"), "instruments.load.dialect", "unknown dialect"),
        (lambda d: d["instruments"]["load"].update(dialect="espec-scp220"), "instruments.load.dialect", "is a chamber"),
        (lambda d: d["instruments"].update(scope=d["instruments"]["daq"]), "instruments.scope", "unknown role"),
        (lambda d: d["instruments"]["supply"].update(calibration_due="soon"), "instruments.supply.calibration_due", "date"),
        (lambda d: d["instruments"]["chamber"].update(colour="red"), "instruments.chamber.colour", "unknown key"),
        (lambda d: d["envelope"].update(max_current_a=-5), "envelope.max_current_a", "greater than 0"),
        (lambda d: d["envelope"].update(chamber_min_c=70), "envelope", "chamber_min_c"),
        (lambda d: d["fixture"]["outputs"].pop("sw"), "fixture", "missing ['sw']"),
        (lambda d: d["fixture"]["inputs"].update(no3=0), "fixture", "share one bit"),
        (lambda d: d.pop("id"), "id", "Field required"),
        (lambda d: d["fixture"]["deadman"].update(output=0), "fixture", "already a relay output"),
        (lambda d: d["fixture"]["deadman"].update(output=9), "fixture.deadman.output", "less than or equal to 7"),
        (lambda d: d["fixture"]["deadman"].update(timeout_s=0.1), "fixture.deadman.timeout_s", "greater than or equal"),
        (lambda d: d["fixture"]["deadman"].pop("output"), "fixture.deadman.output", "Field required"),
    ],
)
def test_bad_station_file_names_file_and_key(tmp_path: Path, mutate, key: str, words: str) -> None:
    doc = _sim_doc()
    mutate(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(StationFileError) as err:
        load_station_file(path)
    text = str(err.value)
    assert str(path) in text and f"key {key}" in text and words in text


def test_bad_address_and_sim_address_on_hardware(tmp_path: Path) -> None:
    doc = tomllib.loads((STATIONS / "example-line1.toml").read_text())
    doc["instruments"]["load"]["address"] = "192.168.1.5:5025"
    doc["instruments"]["leds"]["address"] = "TCPIP0::10.0.0.1::5025::SOCKET"
    doc["instruments"]["daq"]["address"] = "sim"
    with pytest.raises(StationFileError) as err:
        load_station_file(_write(tmp_path, doc))
    text = str(err.value)
    assert "key instruments.load.address" in text and "VISA resource" in text
    assert "key instruments.leds.address" in text and "serial port" in text
    assert "key instruments.daq.address" in text and "simulated = true" in text


def test_hardware_station_needs_pack_ports(tmp_path: Path) -> None:
    doc = tomllib.loads((STATIONS / "example-line1.toml").read_text())
    del doc["pack"]
    with pytest.raises(StationFileError, match="key pack"):
        load_station_file(_write(tmp_path, doc))


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(StationFileError, match="cannot read"):
        load_station_file(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("id = \n")
    with pytest.raises(StationFileError, match="not valid TOML"):
        load_station_file(bad)


def test_generated_station_file_points_at_the_bench(tmp_path: Path) -> None:
    clock = VirtualClock()
    with start_instruments(FakePack(clock), clock) as bench:
        description = {
            "schema_version": 1, "rs485": "/dev/pts/7", "rs485_tcp": "socket://127.0.0.1:4001",
            "console": "/dev/pts/8", "console_tcp": "socket://127.0.0.1:4002",
            "can": {"interface": "socketcand", "host": "127.0.0.1", "port": 29536, "channel": "can0"},
            "model": "v5", "serial": "PV5S260100000013", "rs485_address": 2, "rs485_baud": 9600,
            "instruments": bench.describe(),
        }
        path = tmp_path / "sub" / "station.toml"
        write_station_file(description, path)
        sf = load_station_file(path)
    assert not sf.bench.simulated  # another process: wall clock, real transports
    assert sf.pack is not None and sf.pack.rs485.port == "socket://127.0.0.1:4001"
    # the twin answers from another process on this host: its answers may lag a busy host
    assert (sf.pack.rs485.timeout_s, sf.pack.console.timeout_s) == (1.5, 5.0)
    assert sf.pack.can.interface == "socketcand" and sf.pack.can.port == 29536
    for role, entry in description["instruments"].items():
        assert sf.instruments[role].address == entry["resource"]
        assert sf.instruments[role].dialect == entry["dialect"]
        assert sf.instruments[role].serial == entry["serial"]
    assert sf.instruments["leds"].address.startswith("socket://127.0.0.1:")
    assert sf.fixture.deadman is not None and sf.fixture.deadman.output == HEARTBEAT_BIT
