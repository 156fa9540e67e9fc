"""open_station: identities, calibration refusal, wrong instrument, safe state, watchdogs."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

import pytest
import tomli_w

from drivers.instruments.errors import EnvelopeViolation
from stations.open import CalibrationExpired, StationRefused, open_station
from stations.schema import default_station_file


def _variant(tmp_path: Path, **changes: dict) -> Path:
    doc = tomllib.loads(default_station_file().read_text())
    for role, fields in changes.items():
        doc["instruments"][role].update(fields)
    path = tmp_path / "station.toml"
    path.write_text(tomli_w.dumps(doc))
    return path


def test_open_reads_identities_and_starts_safe() -> None:
    with open_station() as st:
        assert st.clock.is_virtual and st.sim is not None
        assert set(st.identities) == {"load", "supply", "chamber", "daq", "leds", "safety"}
        assert "SIM-LOAD-0001" in st.identities["load"].idn
        records = st.instrument_records()
        assert [r["role"] for r in records] == ["load", "supply", "chamber", "daq", "leds", "safety"]
        assert all(r["resource"].startswith(("TCPIP0::127.0.0.1::", "socket://127.0.0.1:")) for r in records)
        sim = st.sim.instruments
        assert not sim.load.input_on and not sim.supply.output_on and sim.chamber.mode == "standby"
        assert sim.supply.watchdog_on and sim.supply.watchdog_delay == 30.0  # armed at open
        assert st.pack_ports["can"]["interface"] == "virtual"
        assert st.envelope.max_current_a == 250.0


def test_expired_calibration_refuses_and_names_the_instrument(tmp_path: Path) -> None:
    path = _variant(tmp_path, daq={"calibration_due": "2025-12-31"})  # bench date: 2026-01-05
    before = threading.active_count()
    with pytest.raises(CalibrationExpired) as err:
        open_station(path)
    assert err.value.role == "daq"
    assert "daq" in str(err.value) and "SIM-DAQ-0001" in str(err.value) and "2025-12-31" in str(err.value)
    assert threading.active_count() <= before  # the bench it started was closed again


def test_wrong_instrument_serial_refuses(tmp_path: Path) -> None:
    path = _variant(tmp_path, supply={"serial": "MY00000000"})
    with pytest.raises(StationRefused, match=r"instruments\.supply\.serial"):
        open_station(path)


def test_other_load_dialect_on_the_simulated_bench(tmp_path: Path) -> None:
    path = _variant(tmp_path, load={"dialect": "itech-it8900a"},
                    chamber={"dialect": "watlow-f4t"}, supply={"dialect": "itech-it6000c"})
    with open_station(path) as st:
        assert st.identities["load"].idn.startswith("ITECH")
        assert not st.supply.has_watchdog
        st.load.set_cc(10.0)
        assert st.sim.instruments.load.levels["CC"] == 10.0


def test_safe_state_is_idempotent_and_runs_every_role_even_if_one_fails() -> None:
    with open_station() as st:
        sim = st.sim.instruments
        st.daq.set_relay("power", True)
        st.daq.press("sw", 1.1)
        st.supply.set_voltage(55.0)
        st.supply.set_current_limits(10.0, 10.0)
        st.supply.set_output(True)
        st.chamber.set_temperature(40.0)
        st.chamber.run()
        st.load.set_cc(5.0)
        st.load.set_input(True)
        sim.servers["load"].muted = True        # the load stops answering ...
        sim.servers["load"].drop_connections()  # ... and its link dies
        report = st.safe_state()
        assert not report.ok and set(report.errors) == {"load"}
        assert "load" in report.errors["load"] or "connection" in report.errors["load"]
        assert not sim.supply.output_on and sim.chamber.mode == "standby" and sim.daq.out_byte == 0
        again = st.safe_state()
        assert set(again.errors) == {"load"} and "supply" in again.done


def test_safe_state_reconnects_a_dropped_link_once_and_switches_the_load_off() -> None:
    with open_station() as st:
        sim = st.sim.instruments
        st.load.set_cc(5.0)
        st.load.set_input(True)
        assert sim.load.input_on
        sim.servers["load"].drop_connections()  # the cable is pulled and plugged back
        report = st.safe_state()
        assert report.ok, report.errors
        assert not sim.load.input_on


def test_every_station_wait_feeds_the_watchdog_a_dead_station_does_not() -> None:
    with open_station() as st:
        sim = st.sim.instruments
        st.supply.set_voltage(55.0)
        st.supply.set_current_limits(5.0, 5.0)
        st.supply.set_output(True)
        st.sleep(600.0)  # ten minutes of soak, watchdog 30 s
        st.clock.sleep(300.0)  # what plans call: the same feeding sleep
        st.chamber.set_temperature(30.0)
        st.chamber.run()
        assert st.chamber.wait_stable(30.0, band_c=0.2, dwell_s=120, timeout_s=900)  # a role's wait
        assert sim.supply.output_on and sim.supply.watchdog_trips == 0
        pets = sum(1 for line in sim.supply.received if line == "SYST:ERR?")
        assert pets < 200  # fed every ~10 s, not on every small sleep
        st.sim.clock.sleep(2.5)  # time passes on the bench, the station is gone (killed):
        # the fixture's dead-man (2 s) inhibits the supply before its own watchdog (30 s)
        assert not sim.supply.output_on and "INH" in sim.supply.protections
        assert sim.supply.watchdog_trips == 0


def test_envelope_is_the_station_files(tmp_path: Path) -> None:
    with open_station() as st:
        with pytest.raises(EnvelopeViolation):
            st.load.set_cc(251.0)
        with pytest.raises(EnvelopeViolation):
            st.chamber.set_temperature(61.0)
        assert not any("251" in line for line in st.sim.instruments.load.received)
        assert not any("61.0" in line for line in st.sim.instruments.chamber.received)


def test_close_leaves_no_threads_behind() -> None:
    before = threading.active_count()
    st = open_station()
    st.close()
    st.close()  # idempotent
    assert threading.active_count() <= before


def test_safe_state_takes_the_pack_out_of_test_mode() -> None:
    with open_station() as st:
        st.daq.set_relay("power", True)
        st.daq.press("sw", 1.1)
        st.console.login_debug()
        st.console.tmode(True)
        assert st.sim.pack.bms.debug
        report = st.safe_state()
        assert "console" in report.done and report.ok
        assert not st.sim.pack.bms.debug
        assert "console" not in st.safe_state().done  # nothing to undo the second time


def test_unit_file_named_by_a_simulated_station_file(tmp_path: Path) -> None:
    from common.serial_number import make_serial
    from sim.unit import default_unit, write_unit

    serial = make_serial("A", 2026, 3, 4242)
    (tmp_path / "units").mkdir()
    write_unit(default_unit("v5-alpha", serial), tmp_path / "units" / "u.toml")
    doc = tomllib.loads(default_station_file().read_text())
    doc["bench"]["unit_file"] = "units/u.toml"  # relative to the station file
    path = tmp_path / "station.toml"
    path.write_text(tomli_w.dumps(doc))
    with open_station(path) as st:
        assert st.sim.pack.identity.serial == serial
        assert st.sim.pack.identity.model_id == "v5-alpha"


def test_pack_port_answer_timeouts_come_from_the_station_file(tmp_path: Path) -> None:
    """A slow adapter (or a bench served on a busy host) gets the timeout its file names;
    a port whose file names none keeps the driver's."""
    doc = tomllib.loads(default_station_file().read_text())
    doc["pack"]["console"]["timeout_s"] = 4.5
    path = tmp_path / "slow-console.toml"
    path.write_text(tomli_w.dumps(doc))
    with open_station(path) as st:
        assert st.console.timeout == 4.5
        assert st.bms_rs485.timeout == 0.5
    doc["pack"]["rs485"]["timeout_s"] = 0.0
    path.write_text(tomli_w.dumps(doc))
    with pytest.raises(Exception, match=r"pack\.rs485\.timeout_s"):
        open_station(path)
