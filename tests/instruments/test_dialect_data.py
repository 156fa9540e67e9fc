"""Line endings and the error queue are data each dialect declares itself (its manual's),
and each simulated instrument ends its answers as its driver expects them."""

from __future__ import annotations

import pytest

from drivers.instruments.registry import DIALECTS, get_dialect
from sim.instruments import ANSWER_EOL

DATA = ("write_termination", "read_termination", "has_error_queue")
#: What each dialect's manual says (docs/instruments.md): (write, read, error queue).
EXPECTED = {
    "chroma-63200a": ("\n", "\n", True), "itech-it8900a": ("\n", "\n", True),
    "itech-it6000c": ("\n", "\n", True), "keysight-rp7900": ("\n", "\n", True),
    "espec-scp220": ("\r\n", "\r\n", False), "watlow-f4t": ("\n", "\n", False),
    "keysight-daq970a": ("\n", "\n", True), "feasa-led": ("\r\n", "\r\n", False),
    "chroma-19032": ("\n", "\n", True), "keysight-infiniivision": ("\n", "\n", True),
}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_each_dialect_declares_its_line_endings_and_error_queue(dialect: str) -> None:
    cls = get_dialect(dialect)
    inherited = [k for k in DATA if k not in vars(cls)]
    assert not inherited, f"{dialect} inherits {inherited} instead of declaring them"
    assert tuple(getattr(cls, k) for k in DATA) == EXPECTED[dialect]


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_the_simulated_instrument_answers_with_the_drivers_ending(rig_factory, dialect: str) -> None:
    assert ANSWER_EOL.get(dialect, "\n") == get_dialect(dialect).read_termination
    role = DIALECTS[dialect][0]
    rig = rig_factory({role: dialect})
    driver = rig.open(role)
    assert driver.identify()       # a wrong ending on either side would time out here
