"""Keysight DAQ970A: every command the DAQ dialect sends, byte for byte, and the
simulator answering the same script: measurements (the PT100 reference with its
calibration offset, the thermocouple when the fixture has no PT100), the timed scan."""

from __future__ import annotations

import pytest

from drivers.instruments.errors import CaptureRefused, InstrumentCommandError
from drivers.instruments.keysight_daq970a import KeysightDAQ970A
from sim.instruments.daq import CHANNELS, INPUT_BITS, MODULES, OUTPUT_BITS
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import num, q, w

FIXTURE = {"outputs": OUTPUT_BITS, "inputs": INPUT_BITS, "channels": CHANNELS, "modules": MODULES,
           "calibration_offsets": {"temperature_rtd": -0.08, "dc_voltage": 0.0005}}
TC_ONLY = {**FIXTURE, "channels": {k: v for k, v in CHANNELS.items() if k != "ambient_rtd"}}
IDN = "Keysight Technologies,DAQ970A,SIM-DAQ-0001,A.03.02-01.00-03.02-00.02"
SCRIPT = [
    *q("*IDN?", IDN),
    *num("MEAS:VOLT:DC? (@101)", "+5.260105200E+01"),
    *q("MEAS:TEMP? FRTD,85,(@103)", "+2.508000000E+01"),    # the sim's probe: +0.080 °C
    *q("MEAS:DIG:BYTE? (@301)", "5", rb"\d+"),
    *w("SOUR:DIG:DATA:BYTE 2,(@302)"), *w("SOUR:DIG:DATA:BYTE 0,(@302)"),
    *w("SOUR:DIG:DATA:BYTE 0,(@302)"),
]
TC_SCRIPT = [*num("MEAS:TEMP? TC,K,(@102)", "+2.520000E+01")]
#: A 10 ms scan of the terminals and the contacts for 20 ms: three sweeps.
SCAN_SETUP = [
    *w("CONF:VOLT:DC 100,(@101)"), *w("VOLT:DC:NPLC 0.02,(@101)"), *w("CONF:DIG:BYTE (@301)"),
    *w("ROUT:SCAN (@101,301)"), *w("TRIG:SOUR TIM"), *w("TRIG:TIM 0.010"), *w("TRIG:COUN 3"),
    *w("FORM:READ:TIME ON"), *w("FORM:READ:TIME:TYPE REL"), *w("FORM:READ:CHAN ON"), *w("INIT"),
]
READINGS = ",".join(f"{v},{t},{ch}" for v, t, ch in (
    ("+5.26000000E+01", "000000000.000", 101), ("+5.00000000E+00", "000000000.002", 301),
    ("+5.26000000E+01", "000000000.010", 101), ("+5.00000000E+00", "000000000.012", 301),
    ("+5.26100000E+01", "000000000.020", 101), ("+1.00000000E+00", "000000000.022", 301)))
#: what the simulated DAQ (DAQM900A in slot 1) must answer: the same grid, its own values
SIM_READINGS = (rb"[-+]\d\.\d{8}E[-+]\d\d,000000000\.000,101,\+[0-7]\.0{8}E\+00,000000000\.002,301,"
                rb"[-+]\d\.\d{8}E[-+]\d\d,000000000\.010,101,\+[0-7]\.0{8}E\+00,000000000\.012,301,"
                rb"[-+]\d\.\d{8}E[-+]\d\d,000000000\.020,101,\+[0-7]\.0{8}E\+00,000000000\.022,301\n")


def drive(daq: KeysightDAQ970A) -> dict[str, bool]:
    assert daq.identify() == IDN
    assert daq.pack_voltage() == pytest.approx(52.601552, abs=1e-9)   # + the certificate's offset
    assert daq.ambient_temperature() == pytest.approx(25.0, abs=1e-9)  # 25.08 - 0.08
    inputs = daq.inputs()
    daq.set_relay("sw", True)
    daq.set_relay("sw", False)
    daq.safe_state()
    return inputs


def test_wire_exchange_is_the_guides() -> None:
    assert run_script(KeysightDAQ970A, SCRIPT, drive, options=FIXTURE) == {
        "no2": True, "no3": False, "no4": True}


def test_without_a_pt100_the_thermocouple_is_the_reference() -> None:
    assert run_script(KeysightDAQ970A, TC_SCRIPT, lambda d: d.ambient_temperature(),
                      options=TC_ONLY) == 25.2


def scan(daq: KeysightDAQ970A) -> object:
    daq.start_capture(["pack_voltage", "inputs"], 0.010, 0.020)
    with pytest.raises(InstrumentCommandError, match="owns the meter"):
        daq.pack_voltage()                   # refused: nothing reaches the wire
    daq.set_relay("sw", True)                # the outputs stay writable during a scan
    return daq.fetch_capture()


SCAN_SCRIPT = [*SCAN_SETUP, *w("SOUR:DIG:DATA:BYTE 2,(@302)"), *q("DATA:POIN?", "+6"),
               *q("FETC?", READINGS)]


def test_timed_scan_wire_exchange() -> None:
    capture = run_script(KeysightDAQ970A, SCAN_SCRIPT, scan, options=FIXTURE)
    assert capture.times_s == pytest.approx((0.0, 0.010, 0.020))
    assert capture.values["pack_voltage"] == pytest.approx((52.6005, 52.6005, 52.6105))
    assert capture.values["no2"] == (True, True, True)
    assert capture.values["no4"] == (True, True, False)
    assert capture.times("no4") == pytest.approx((0.002, 0.012, 0.022))   # the byte's own stamps
    assert capture.first("no4", lambda closed: not closed) == pytest.approx(0.022)
    assert capture.first("pack_voltage", lambda v: v > 52.605) == pytest.approx(0.020)
    assert capture.first("no2", lambda closed: not closed) is None


def test_a_current_capture_reads_the_shunt_on_its_own_range_as_amperes() -> None:
    """The shunt's channel gets the range its millivolts need at the envelope's current
    (5000 A × 0.5 mΩ = 2.5 V here: the 10 V range), not the terminals' 100 V one; the
    readings come back as amperes."""
    def drive_(daq: KeysightDAQ970A) -> object:
        daq.start_capture(["pack_voltage", "pack_current"], 0.010, 0.010)
        return daq.fetch_capture()

    readings = "+5.26E+01,0.000,101,+2.500E-02,0.003,104,+5.26E+01,0.010,101,+5.0E-04,0.013,104"
    capture = run_script(KeysightDAQ970A, [
        *w("CONF:VOLT:DC 100,(@101)"), *w("VOLT:DC:NPLC 0.02,(@101)"),
        *w("CONF:VOLT:DC 10,(@104)"), *w("VOLT:DC:NPLC 0.02,(@104)"),
        *w("ROUT:SCAN (@101,104)"), *w("TRIG:SOUR TIM"), *w("TRIG:TIM 0.010"), *w("TRIG:COUN 2"),
        *w("FORM:READ:TIME ON"), *w("FORM:READ:TIME:TYPE REL"), *w("FORM:READ:CHAN ON"),
        *w("INIT"), *q("DATA:POIN?", "+4"), *q("FETC?", readings)],
        drive_, options={**FIXTURE, "shunt": {"channel": 104, "ohm": 0.0005}})
    assert capture.values["pack_current"] == pytest.approx((50.0, 1.0))   # type: ignore[attr-defined]
    assert capture.first("pack_current", lambda a: a < 2.0) == pytest.approx(0.013)  # type: ignore[attr-defined]


def test_a_current_capture_without_a_shunt_is_refused_before_the_wire() -> None:
    def drive_(daq: KeysightDAQ970A) -> None:
        with pytest.raises(CaptureRefused, match=r"\[fixture.shunt\]"):
            daq.start_capture(["pack_current"], 0.010, 1.0)

    run_script(KeysightDAQ970A, [], drive_, options=FIXTURE)


def test_safe_state_stops_a_running_scan() -> None:
    def drive_(daq: KeysightDAQ970A) -> None:
        daq.start_capture(["inputs"], 0.005, 1.0)
        daq.safe_state()
        with pytest.raises(RuntimeError, match="without start_capture"):
            daq.fetch_capture()

    run_script(KeysightDAQ970A, [
        *w("CONF:DIG:BYTE (@301)"), *w("ROUT:SCAN (@301)"), *w("TRIG:SOUR TIM"),
        *w("TRIG:TIM 0.005"), *w("TRIG:COUN 201"), *w("FORM:READ:TIME ON"),
        *w("FORM:READ:TIME:TYPE REL"), *w("FORM:READ:CHAN ON"), *w("INIT"),
        *w("ABOR"), *w("SOUR:DIG:DATA:BYTE 0,(@302)")], drive_, options=FIXTURE)


@pytest.mark.parametrize(("modules", "interval", "why"), [
    (MODULES, 0.003, "4 ms at the fastest"),                       # 2.2 ms DCV + 1 ms digital
    ({1: "DAQM901A", 3: "DAQM907A"}, 0.010, "14 ms at the fastest"),  # an armature relay: 12.5 ms
    (MODULES, 0.0125, "steps of 1 ms"),
])
def test_a_scan_faster_than_the_modules_is_refused_before_the_wire(modules, interval, why) -> None:
    def drive_(daq: KeysightDAQ970A) -> None:
        with pytest.raises(CaptureRefused, match=why):
            daq.start_capture(["pack_voltage", "inputs"], interval, 1.0)

    run_script(KeysightDAQ970A, [], drive_, options={**FIXTURE, "modules": modules})


def test_a_scan_longer_than_the_memory_is_refused() -> None:
    def drive_(daq: KeysightDAQ970A) -> None:
        with pytest.raises(CaptureRefused, match="100000 readings"):
            daq.start_capture(["pack_voltage", "inputs"], 0.004, 200.0)   # 50 001 sweeps × 2

    run_script(KeysightDAQ970A, [], drive_, options=FIXTURE)


def test_a_pt100_off_the_four_wire_bank_is_refused_at_open() -> None:
    with pytest.raises(ValueError, match="ambient_rtd 113"):
        run_script(KeysightDAQ970A, [], lambda d: None,
                   options={**FIXTURE, "channels": {**CHANNELS, "ambient_rtd": 113}})
    with pytest.raises(ValueError, match="calibration offsets for \\['temperature_rdt'\\]"):
        run_script(KeysightDAQ970A, [], lambda d: None,
                   options={**FIXTURE, "calibration_offsets": {"temperature_rdt": 0.1}})


def test_simulator_answers_the_same_scripts(rig_factory) -> None:
    rig = rig_factory()
    server = rig.bench.servers["daq"]
    replay(server.host, server.port, SCRIPT, read_term=b"\n")
    replay(server.host, server.port, TC_SCRIPT, read_term=b"\n")
    rig.pack.contacts.update({2: True, 4: True})
    sim_scan = [*SCAN_SETUP, *w("SOUR:DIG:DATA:BYTE 2,(@302)"),
                lambda: rig.clock.sleep(0.0225), *q("DATA:POIN?", "+6"),
                (b"FETC?\n", READINGS.encode() + b"\n", SIM_READINGS)]
    replay(server.host, server.port, sim_scan, read_term=b"\n")
    assert rig.bench.daq.out_byte == 2        # written while the scan ran
