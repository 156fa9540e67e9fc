"""ITECH IT8900A: every command the load dialect sends, byte for byte, and the simulator
answering the same script."""

from __future__ import annotations

from drivers.instruments.itech_it8900a import ItechIT8900A
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import drive_load, num, nums, q, w

IDN = "ITECH Ltd.,IT8918A-150-1200,SIM-LOAD-0001,1.23-1.08"
SCRIPT = [
    *q("*IDN?", IDN),
    *w("FUNC CURR"), *w("CURR 10.000"),
    *w("FUNC POW"), *w("POW 500.00"),
    *w("FUNC RES"), *w("RES 5.00000"),
    *w("FUNC CURR"), *w("CURR 1.000"),
    *w("INP ON"), *q("INP?", "1"),
    *num("MEAS:VOLT?", "52.5820"), *num("MEAS:CURR?", "1.0000"), *num("MEAS:POW?", "52.5820"),
    *w("SENS:SWE:TINT 0.010000"), *w("SENS:SWE:POIN 100"), *w("TRIG:ACQ"),
    *q("SENS:SWE:TINT?", "0.010000"), *nums("FETC:ARR:CURR?", "1.0000"),
    *w("INP:SHOR ON"), *w("INP OFF"), *w("INP:SHOR OFF"),   # safe state: input off first
    *q("STAT:QUES:COND?", "8219", rb"\d+"), *w("PROT:CLE"),
]


def drive(load: ItechIT8900A) -> frozenset[str]:
    return drive_load(load, IDN)


def test_wire_exchange_is_the_manuals() -> None:
    # 8219 = bits 0, 1, 3, 4, 13 of ITECH's questionable register: VF, OC, OP, OT, OV
    assert run_script(ItechIT8900A, SCRIPT, drive) == {"VF", "OC", "OP", "OT", "OV"}


def test_over_voltage_is_bit_13_with_the_voltage_fault_bit(rig_factory) -> None:
    """The simulated load trips on over-voltage as the guide says: OV (13) and VF (0) set;
    bit 0 alone (the former decoding's OV) is only the voltage fault."""
    rig = rig_factory({"load": "itech-it8900a"})
    load = rig.open("load")
    rig.bench.load.input_on = True
    rig.bench.load.protections.add("OV")
    assert load.query("STAT:QUES:COND?") == str(1 << 0 | 1 << 13)
    assert load.protection_status() == {"OV", "VF"}
    load.clear_protection()
    assert load.protection_status() == frozenset()


def test_simulator_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory({"load": "itech-it8900a"})
    server = rig.bench.servers["load"]
    replay(server.host, server.port, SCRIPT, read_term=b"\n")
