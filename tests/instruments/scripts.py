"""Small builders for protocol scripts (see :mod:`tests.instruments.protocol`)."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.instruments.errors import EnvelopeViolation
from tests.instruments.protocol import NUM, Step

NO_ERROR = b'+0,"No error"\n'


def w(command: str, *, checked: bool = True) -> list[Step]:
    """A SCPI write (no answer), followed by its error-queue check when ``checked``."""
    steps: list[Step] = [((command + "\n").encode(), b"")]
    if checked:
        steps.append((b"SYST:ERR?\n", NO_ERROR))
    return steps


def q(command: str, reply: str, sim: bytes | None = None, *, term: str = "\n") -> list[Step]:
    """A query and its answer; ``sim`` is the regex the simulator's answer must match."""
    sent, answer = (command + term).encode(), (reply + term).encode()
    return [(sent, answer) if sim is None else (sent, answer, sim + term.encode())]


def num(command: str, reply: str, *, term: str = "\n") -> list[Step]:
    """A query answered by a live number."""
    return q(command, reply, NUM, term=term)


def nums(command: str, reply: str, *, term: str = "\n") -> list[Step]:
    """A query answered by a comma-separated list of live numbers (a capture so far: the
    simulator has sampled as many points as its commands' time allowed)."""
    return q(command, reply, NUM + rb"(," + NUM + rb")*", term=term)


def drive_load(load: Any, idn: str) -> frozenset[str]:
    """Every command of the ElectronicLoad role once, in the order the load scripts pin."""
    assert load.identify() == idn
    load.set_cc(10.0)
    with pytest.raises(EnvelopeViolation):   # CV without a current cap: nothing is sent
        load.set_cv(40.0)
    load.set_cp(500.0)
    load.set_cr(5.0)
    load.set_cc(1.0)
    load.set_input(True)
    assert load.input_on()
    assert load.measure_voltage() == 52.582
    assert load.measure_current() == 1.0
    assert load.measure_power() == 52.582
    load.start_capture(100.0, 1.0)
    assert load.fetch_capture().samples == (1.0,)
    load._set_short(True)
    load.safe_state()
    status = load.protection_status()
    load.clear_protection()
    return frozenset(status)


def drive_supply(supply: Any, idn: str) -> frozenset[str]:
    """Every command of the DcSupply role once, in the order the supply scripts pin (a
    supply without a watchdog sends nothing for arm/pet)."""
    assert supply.identify() == idn
    supply.arm_watchdog(30.0)
    supply.set_voltage(52.0)
    supply.set_current_limits(10.0, 5.0)
    supply.set_ovp(58.0)
    supply.set_output(True)
    assert supply.output_on()
    assert supply.measure_voltage() == 52.0 and supply.measure_current() == 0.0
    supply.pet()
    supply.safe_state()
    status = supply.protection_status()
    supply.clear_protection()
    return frozenset(status)
