"""Fixtures of the instrument tests: a simulated bench around a stand-in pack, and drivers
opened on it through the real transports (pyvisa ``@py`` sessions, pyserial URLs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from common.clock import VirtualClock
from drivers.instruments.envelope import Envelope
from drivers.instruments.registry import get_dialect
from drivers.instruments.roles import Role
from drivers.instruments.transport import open_transport
from sim.instruments import InstrumentBench, start_instruments
from sim.instruments.daq import CHANNELS, INPUT_BITS, MODULES, OUTPUT_BITS
from tests.instruments.fakepack import FakePack

#: An envelope wider than any instrument, to reach the instruments' own limits.
WIDE = dict(max_voltage_v=1000.0, max_current_a=5000.0, max_power_w=1e6,
            chamber_min_c=-100.0, chamber_max_c=300.0)
STATION = dict(max_voltage_v=60.0, max_current_a=250.0, max_power_w=13_000.0,
               chamber_min_c=-20.0, chamber_max_c=60.0, short_steps=("short_circuit",))
FIXTURE = {"outputs": OUTPUT_BITS, "inputs": INPUT_BITS, "channels": CHANNELS, "modules": MODULES}


class Rig:
    """A bench, its clock and pack, and the drivers opened on it (closed at the end)."""

    def __init__(self, dialects: dict[str, str] | None = None) -> None:
        self.clock = VirtualClock()
        self.pack = FakePack(self.clock)
        self.bench: InstrumentBench = start_instruments(self.pack, self.clock, dialects=dialects)
        self.drivers: list[Role] = []

    def open(self, role: str, envelope: Envelope | None = None, timeout_ms: int = 1000,
             **options: Any) -> Any:
        desc = self.bench.describe()[role]
        cls = get_dialect(desc["dialect"])
        transport = open_transport(cls.transport_kind, desc["resource"], timeout_ms=timeout_ms)
        if role == "daq" and not options:
            options = FIXTURE
        driver = cls(transport, name=role, envelope=envelope or Envelope(**WIDE),
                     clock=self.clock, options=options)
        self.drivers.append(driver)
        return driver

    def close(self) -> None:
        for d in self.drivers:
            d.close()
        self.bench.close()


@pytest.fixture
def rig_factory() -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def make(dialects: dict[str, str] | None = None) -> Rig:
        rig = Rig(dialects)
        rigs.append(rig)
        return rig

    yield make
    for r in rigs:
        r.close()


@pytest.fixture
def rig(rig_factory: Callable[..., Rig]) -> Rig:
    return rig_factory()
