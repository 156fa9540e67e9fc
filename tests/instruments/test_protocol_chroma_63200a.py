"""Chroma 63200A: every command the load dialect sends, byte for byte, and the simulator
answering the same script."""

from __future__ import annotations

from drivers.instruments.chroma_63200a import Chroma63200A
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import drive_load, num, nums, q, w

IDN = "Chroma ATE,63212A-150-1200,SIM-LOAD-0001,1.10"
SCRIPT = [
    *q("*IDN?", IDN),
    *w("MODE CCH"), *w("CURR:STAT:L1 10.000"),
    *w("MODE CPH"), *w("POW:STAT:L1 500.00"),
    *w("MODE CRH"), *w("RES:STAT:L1 5.00000"),
    *w("MODE CCH"), *w("CURR:STAT:L1 1.000"),
    *w("LOAD ON"), *q("LOAD?", "1"),
    *num("MEAS:VOLT?", "52.5820"), *num("MEAS:CURR?", "1.0000"), *num("MEAS:POW?", "52.5820"),
    *w("DIG:SAMP:TIME 0.010000"), *w("DIG:SAMP:POIN 100"), *w("DIG:TRIG"),
    *q("DIG:SAMP:TIME?", "0.010000"), *nums("FETC:ARR:CURR?", "1.0000"),
    *w("LOAD:SHOR ON"), *w("LOAD OFF"), *w("LOAD:SHOR OFF"),   # safe state: input off first
    *q("LOAD:PROT?", "21", rb"\d+"), *w("LOAD:PROT:CLE"),
]


def drive(load: Chroma63200A) -> frozenset[str]:
    return drive_load(load, IDN)


def test_wire_exchange_is_the_manuals() -> None:
    # 21 = bits 0, 2, 4: OC, OP, OT of Table 8-1 (bit 3 is a reverse voltage)
    assert run_script(Chroma63200A, SCRIPT, drive) == {"OC", "OP", "OT"}


def test_simulator_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory({"load": "chroma-63200a"})
    server = rig.bench.servers["load"]
    replay(server.host, server.port, SCRIPT, read_term=b"\n")
