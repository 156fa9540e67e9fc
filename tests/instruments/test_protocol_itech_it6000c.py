"""ITECH IT6000C: every command the supply dialect sends, byte for byte, and the simulator
answering the same script."""

from __future__ import annotations

from drivers.instruments.itech_it6000c import ItechIT6000C
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import drive_supply, num, q, w

IDN = "ITECH Ltd.,IT6006C-80-150,SIM-SUPPLY-0001,A.02.01"
SCRIPT = [
    *q("*IDN?", IDN),
    *w("VOLT 52.000"), *w("CURR:LIM 10.000"), *w("CURR:LIM:NEG -5.000"), *w("VOLT:PROT 58.000"),
    *w("OUTP ON"), *q("OUTP?", "1"),
    *num("MEAS:VOLT?", "52.0000"), *num("MEAS:CURR?", "0.0000"),
    *w("OUTP OFF"),
    *q("STAT:QUES:COND?", "27", rb"\d+"), *w("PROT:CLE"),
]


def drive(supply: ItechIT6000C) -> frozenset[str]:
    status = drive_supply(supply, IDN)
    return status


def test_wire_exchange_is_the_guides() -> None:
    assert run_script(ItechIT6000C, SCRIPT, drive) == {"OV", "OC", "OP", "OT"}


def test_simulator_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory({"supply": "itech-it6000c"})
    server = rig.bench.servers["supply"]
    replay(server.host, server.port, SCRIPT, read_term=b"\n")
