"""Simulated Chroma 19032 safety analyzer: ground bond and insulation resistance of the unit.

Ratings enforced as on the instrument: ground-bond current 3-30 A (``-222`` outside),
insulation test voltage 50-1000 V; insulation readings saturate at 50 GΩ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common.clock import VirtualClock
from sim.instruments.scpi import ScpiDevice, ScpiError, number
from sim.pack.interface import SimPackApi


@dataclass
class SimSafety:
    pack: SimPackApi
    clock: VirtualClock
    serial: str
    gb_current: float = 10.0
    ir_volts: float = 500.0
    results: dict[int, float] = field(default_factory=dict)
    running: bool = False
    received: list[str] = field(default_factory=list)

    def start(self, step: int) -> None:
        if step == 1:
            self.results[1] = self.pack.ground_bond_ohm()
        elif step == 2:
            self.results[2] = min(self.pack.insulation_ohm(), 50e9)
        else:
            raise ScpiError(-222, "Data out of range; step")


def chroma19032_device(s: SimSafety) -> ScpiDevice:
    dev = ScpiDevice(f"Chroma ATE,19032,{s.serial},2.30")
    dev.add("[SOURce:]SAFEty:STEP1:GB:LEVel", lambda a: setattr(s, "gb_current", number(a, 3.0, 30.0)))
    dev.add("[SOURce:]SAFEty:STEP2:IR:LEVel", lambda a: setattr(s, "ir_volts", number(a, 50.0, 1000.0)))
    dev.add("[SOURce:]SAFEty:STARt", lambda a: s.start(int(number(a or "1", 1, 2))))
    dev.add("[SOURce:]SAFEty:STOP", lambda _: setattr(s, "running", False))

    def result(step: int) -> str:
        if step not in s.results:
            raise ScpiError(-230, "Data corrupt or stale; step not run")
        return f"{s.results[step]:.6E}"

    dev.add("[SOURce:]SAFEty:RESult:STEP1:OMETerage?", lambda _: result(1))
    dev.add("[SOURce:]SAFEty:RESult:STEP2:OMETerage?", lambda _: result(2))
    return dev
