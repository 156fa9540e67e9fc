"""The DAQ's timed scan through real pyvisa sessions, in virtual time: a contact and a
voltage step on the stand-in pack, timed on the DAQ's own timestamps; a DAQ slower than
the station file says is caught; an opened station (stations/sim.toml, the real pack)
keeps the dead-man fed through a long scan and reads its calibrated PT100."""

from __future__ import annotations

import pytest

from drivers.instruments.errors import InstrumentCommandError, InstrumentResponseError
from stations.open import open_station

BOTH = ["pack_voltage", "inputs"]


def test_a_contact_and_a_voltage_step_on_one_scan(rig) -> None:
    load, daq, clock, pack = rig.open("load"), rig.open("daq"), rig.clock, rig.pack
    load.set_cc(50.0)
    load.set_input(True)                         # 52.6 V - 50 A × 18 mΩ = 51.7 V
    daq.start_capture(BOTH, 0.010, 1.0)
    t0 = clock.now()                             # the scan started now (virtual time)
    clock.call_at(t0 + 0.3037, lambda t: pack.contacts.update({3: True}))
    clock.call_at(t0 + 0.5551, lambda t: pack.set_paths(True, False))   # the pack lets go
    cap = daq.fetch_capture()
    assert len(cap.times_s) == 101 and cap.times_s == pytest.approx([k * 0.01 for k in range(101)], abs=1e-9)
    closed = cap.first("no3", bool)
    step = cap.first("pack_voltage", lambda v: v > 52.15)
    assert closed is not None and step is not None
    assert 0.3037 <= closed <= 0.3037 + 0.010 + 0.001     # one interval (+ the 1 ms stamp)
    assert 0.5551 <= step <= 0.5551 + 0.010 + 0.001
    assert step - closed == pytest.approx(0.2514, abs=0.011)
    assert cap.values["pack_voltage"][0] == pytest.approx(51.70, abs=0.011)   # 10 mV steps at 0.02 PLC
    assert cap.values["pack_voltage"][-1] == pytest.approx(52.60, abs=0.011)
    assert not any(cap.values["no2"]) and not any(cap.values["no4"])
    assert cap.max_gap_s == pytest.approx(0.010, abs=1e-9)


def test_the_simulated_daq_refuses_a_measurement_during_its_scan(rig) -> None:
    daq = rig.open("daq", timeout_ms=200)         # a refused query has no answer: the timeout
    daq.start_capture(["inputs"], 0.002, 0.5)
    with pytest.raises(InstrumentCommandError) as err:
        daq.measure_dc(101)                       # the raw primitive: it reaches the wire
    assert err.value.code == -221 and "scan in progress" in str(err.value)
    cap = daq.fetch_capture()
    assert len(cap.times_s) == 251 and cap.times_s[-1] == pytest.approx(0.5)
    assert daq.pack_voltage() == pytest.approx(52.6, abs=0.005)   # the meter is free again


def test_a_daq_slower_than_the_station_file_says_is_caught(rig) -> None:
    daq = rig.open("daq")
    rig.bench.daq.modules[1] = "DAQM901A"        # an armature multiplexer: 12.5 ms a channel
    daq.start_capture(BOTH, 0.010, 1.0)          # the driver believes the DAQM900A
    with pytest.raises(InstrumentResponseError, match=r"scanned every 13\.\d+ ms, not every 10 ms"):
        daq.fetch_capture()


def test_a_station_keeps_its_dead_man_fed_through_a_scan_of_the_real_pack() -> None:
    with open_station() as st:
        bench = st.sim.instruments
        st.daq.set_relay("power", True)
        st.daq.press("sw", 1.1)                   # the pack starts (SPEC §4)
        st.sleep(2.0)
        mark = len(bench.servers["daq"].received)
        st.daq.start_capture(BOTH, 0.010, 5.0)
        with pytest.raises(InstrumentCommandError, match="owns the meter"):
            st.daq.ambient_temperature()
        st.sleep(1.5)
        st.load.set_cc(100.0)
        on_at = st.clock.now()
        st.load.set_input(True)
        cap = st.daq.fetch_capture()              # 3.5 s more of station sleep
        st.load.set_input(False)
        during = bench.servers["daq"].received[mark:]
        beats = [ln for ln in during if ln.startswith("SOUR:DIG:DATA:BYTE")]
        assert len(beats) >= 5 / (2.0 / 3) - 1    # a heartbeat every third of the 2 s timeout
        assert bench.daq.deadman_trips == 0 and bench.daq.power_closed()
        assert len(cap.times_s) == 501
        v0 = cap.values["pack_voltage"][0]
        sag = cap.first("pack_voltage", lambda v: v < v0 - 0.5)
        assert sag is not None
        assert 0 <= sag - (on_at - cap.started_at) <= 0.010 + 0.001
        # the PT100, corrected by its certificate, against the true air
        assert st.daq.ambient_temperature() == pytest.approx(st.sim.pack.ambient(), abs=0.0015)


def test_a_fixture_without_a_current_shunt_is_refused_naming_the_key(rig) -> None:
    """No [fixture.shunt]: reading the pack current, or capturing it, says what is missing
    before the DAQ is asked anything."""
    from drivers.instruments.errors import CaptureRefused

    daq = rig.open("daq")
    with pytest.raises(InstrumentCommandError, match=r"no current shunt \(\[fixture\.shunt\]"):
        daq.pack_current()
    with pytest.raises(CaptureRefused, match=r"pack_current capture: .*\[fixture\.shunt\]"):
        daq.start_capture(["pack_current"], 0.010, 0.1)
    assert daq.measure_dc(101) == pytest.approx(daq.pack_voltage(), abs=0.05)   # still usable
