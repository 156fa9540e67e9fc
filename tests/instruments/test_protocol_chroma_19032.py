"""Chroma 19032: every command the safety dialect sends, byte for byte (start without a
step number, wait for STOPPED, the measure meter), and the simulator on the same script."""

from __future__ import annotations

from drivers.instruments.chroma_19032 import Chroma19032
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import num, q, w

IDN = "Chroma ATE,19032,SIM-SAFETY-0001,2.30"


def script(gb_runs=(), ir_runs=()) -> list:
    """The exchange; ``*_runs`` are steps the replay takes while a test runs."""
    return [
        *q("*IDN?", IDN),
        *w("SOUR:SAFE:STEP1:GB:LEV 10"), *w("SOUR:SAFE:STEP1:GB:TIME:TEST 3"),
        *w("SOUR:SAFE:STAR"), *gb_runs, *q("SOUR:SAFE:STAT?", "STOPPED"),
        *num("SOUR:SAFE:RES:ALL:MMET?", "2.100000E-02"),
        *w("SOUR:SAFE:STEP1:IR:LEV 500"), *w("SOUR:SAFE:STEP1:IR:TIME:RAMP 1"),
        *w("SOUR:SAFE:STEP1:IR:TIME:TEST 2"), *w("SOUR:SAFE:STAR"), *ir_runs,
        *q("SOUR:SAFE:STAT?", "STOPPED"),
        *num("SOUR:SAFE:RES:ALL:MMET?", "4.700000E+08"),
        *w("SOUR:SAFE:STOP"),
    ]


SCRIPT = script()


def drive(safety: Chroma19032) -> tuple[float, float]:
    assert safety.identify() == IDN
    result = safety.ground_bond(10.0), safety.insulation(500.0)
    safety.safe_state()
    return result


def test_wire_exchange_is_the_safety_subsystems() -> None:
    assert run_script(Chroma19032, SCRIPT, drive) == (0.021, 4.7e8)


def test_a_running_test_is_waited_for() -> None:
    script = [*w("SOUR:SAFE:STEP1:GB:LEV 10"), *w("SOUR:SAFE:STEP1:GB:TIME:TEST 3"),
              *w("SOUR:SAFE:STAR"),
              *q("SOUR:SAFE:STAT?", "RUNNING"), *q("SOUR:SAFE:STAT?", "STOPPED"),
              *q("SOUR:SAFE:RES:ALL:MMET?", "2.100000E-02,4.700000E+08")]
    assert run_script(Chroma19032, script, lambda s: s.ground_bond(10.0)) == 0.021


def test_simulator_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory()
    server = rig.bench.servers["safety"]
    # the simulated tester runs each test for its programmed time: running until it is over
    gb = [*q("SOUR:SAFE:STAT?", "RUNNING"), lambda: rig.clock.sleep(2.9),
          *q("SOUR:SAFE:STAT?", "RUNNING"), lambda: rig.clock.sleep(0.1)]
    ir = [lambda: rig.clock.sleep(2.9), *q("SOUR:SAFE:STAT?", "RUNNING"),
          lambda: rig.clock.sleep(0.1)]
    replay(server.host, server.port, script(gb, ir), read_term=b"\n")
