"""Keysight DAQ970A: every command the DAQ dialect sends, byte for byte, and the
simulator answering the same script."""

from __future__ import annotations

from drivers.instruments.keysight_daq970a import KeysightDAQ970A
from sim.instruments.daq import CHANNELS, INPUT_BITS, OUTPUT_BITS
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import num, q, w

FIXTURE = {"outputs": OUTPUT_BITS, "inputs": INPUT_BITS, "channels": CHANNELS}
IDN = "Keysight Technologies,DAQ970A,SIM-DAQ-0001,A.03.02-01.00-03.02-00.02"
SCRIPT = [
    *q("*IDN?", IDN),
    *num("MEAS:VOLT:DC? (@101)", "+5.260105200E+01"),
    *num("MEAS:TEMP? TC,K,(@102)", "+2.520000E+01"),
    *q("MEAS:DIG:BYTE? (@301)", "5", rb"\d+"),
    *w("SOUR:DIG:DATA:BYTE 2,(@302)"), *w("SOUR:DIG:DATA:BYTE 0,(@302)"),
    *w("SOUR:DIG:DATA:BYTE 0,(@302)"),
]


def drive(daq: KeysightDAQ970A) -> dict[str, bool]:
    assert daq.identify() == IDN
    assert daq.pack_voltage() == 52.601052
    assert daq.ambient_temperature() == 25.2
    inputs = daq.inputs()
    daq.set_relay("sw", True)
    daq.set_relay("sw", False)
    daq.safe_state()
    return inputs


def test_wire_exchange_is_the_guides() -> None:
    assert run_script(KeysightDAQ970A, SCRIPT, drive, options=FIXTURE) == {
        "no2": True, "no3": False, "no4": True}


def test_simulator_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory()
    server = rig.bench.servers["daq"]
    replay(server.host, server.port, SCRIPT, read_term=b"\n")
