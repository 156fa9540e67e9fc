"""Keysight RP7900: every command the supply dialect sends, byte for byte (its watchdog
and the Questionable1 bits included), and the simulator answering the same script."""

from __future__ import annotations

from drivers.instruments.keysight_rp7900 import KeysightRP7900
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import NO_ERROR, drive_supply, num, q, w

IDN = "Keysight Technologies,RP7931A,SIM-SUPPLY-0001,A.02.01"
SCRIPT = [
    *q("*IDN?", IDN),
    *w("OUTP:PROT:WDOG:DEL 30"), *w("OUTP:PROT:WDOG ON"),
    *w("VOLT 52.000"), *w("CURR:LIM 10.000"), *w("CURR:LIM:NEG -5.000"), *w("VOLT:PROT 58.000"),
    *w("OUTP ON"), *q("OUTP?", "1"),
    *num("MEAS:VOLT?", "52.0000"), *num("MEAS:CURR?", "0.0000"),
    (b"SYST:ERR?\n", NO_ERROR),                       # pet: any I/O feeds the watchdog
    *w("OUTP OFF"),
    *q("STAT:QUES:COND?", "6949", rb"\d+"), *w("OUTP:PROT:CLE"),
    *w("OUTP:PROT:WDOG OFF"),
]


def drive(supply: KeysightRP7900) -> frozenset[str]:
    status = drive_supply(supply, IDN)
    supply.disarm_watchdog()
    return status


def test_wire_exchange_is_the_guides() -> None:
    # 6949 = bits 0, 2, 5, 9, 11, 12 (+ 8 = LIM-, a regulation state, not a trip)
    assert 6949 == 1 | 4 | 32 | 256 | 512 | 2048 | 4096
    assert run_script(KeysightRP7900, SCRIPT, drive) == {"OV", "PF", "OP-", "INH", "WDOG", "EDP"}


def test_watchdog_trip_is_bit_11() -> None:
    script = [*q("STAT:QUES:COND?", "2048")]
    assert run_script(KeysightRP7900, script, lambda s: s.protection_status()) == {"WDOG"}
    script = [*q("STAT:QUES:COND?", "8192")]   # bit 13 is not used on the RP7900
    assert run_script(KeysightRP7900, script, lambda s: s.protection_status()) == frozenset()


def test_simulator_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory({"supply": "keysight-rp7900"})
    server = rig.bench.servers["supply"]
    replay(server.host, server.port, SCRIPT, read_term=b"\n")
