"""Fixtures of the pack tests: a virtual clock, a started pack, a constant-current network."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from common.clock import VirtualClock
from sim.pack import SimPack
from sim.pack.networks import ConstantCurrent
from sim.unit import UnitDescription, default_unit


def start(pack: SimPack) -> None:
    """Fixture relays: POWER on, SW held 1 s, then 2 s for the power-on flash to end."""
    pack.set_power_button(True)
    pack.set_sw(True)
    pack.clock.sleep(1.0)
    pack.set_sw(False)
    pack.clock.sleep(2.0)


def set_current(pack: SimPack, net: ConstantCurrent, amps: float) -> None:
    with pack.changing():
        net.amps = amps


Make = Callable[..., tuple[SimPack, ConstantCurrent]]


@pytest.fixture
def make_pack() -> Make:
    """make_pack(unit=None, model="v5", started=True) -> (pack, constant-current network)."""

    def make(unit: UnitDescription | None = None, model: str = "v5", started: bool = True,
             seed: int = 0) -> tuple[SimPack, ConstantCurrent]:
        clock = VirtualClock()
        pack = SimPack(unit or default_unit(model), clock, seed=seed)
        net = ConstantCurrent(0.0)
        pack.set_network(net)
        if started:
            start(pack)
        return pack, net

    return make
