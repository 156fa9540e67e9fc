"""Simulated Chroma 19032 safety analyzer: ground bond and insulation resistance of the unit.

Ratings enforced as on the instrument: ground-bond current 3-30 A (``-222`` outside),
insulation test voltage 50-1000 V; insulation readings saturate at 50 GΩ. Step 1 is the
whole list; ``SAFE:STAR`` runs it for its programmed ramp and test time on the bench clock
(``SAFE:STAT?`` says ``RUNNING`` until then; the result is taken at the end of the test).
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

    mode: str = "GB"    # what step 1 tests: GB or IR (set by its level command)
    #: Programmed times, s (the instrument's defaults until set): test, and the IR ramp.
    test_s: dict[str, float] = field(default_factory=lambda: {"GB": 3.0, "IR": 1.0})
    ramp_s: float = 0.1
    ends_at: float | None = None

    def start(self) -> None:
        """Run the step list (one step here) for its ramp and test time."""
        ramp = self.ramp_s if self.mode == "IR" else 0.0
        self.ends_at = self.clock.now() + ramp + self.test_s[self.mode]
        self.results.clear()
        self.running = True

    def status(self) -> str:
        if self.running and self.ends_at is not None and self.clock.now() >= self.ends_at - 1e-9:
            self.running = False
            if self.mode == "GB":
                self.results[1] = self.pack.ground_bond_ohm()
            else:
                self.results[1] = min(self.pack.insulation_ohm(), 50e9)
        return "RUNNING" if self.running else "STOPPED"


def chroma19032_device(s: SimSafety) -> ScpiDevice:
    dev = ScpiDevice(f"Chroma ATE,19032,{s.serial},2.30")

    def level(mode: str, arg: str, lo: float, hi: float) -> None:
        value = number(arg, lo, hi)
        s.mode = mode
        if mode == "GB":
            s.gb_current = value
        else:
            s.ir_volts = value
        s.results.clear()

    def start(arg: str) -> None:
        if arg:
            raise ScpiError(-108, "Parameter not allowed")
        s.start()

    def results(_: str) -> str:
        if not s.results:
            raise ScpiError(-230, "Data corrupt or stale; no test run")
        return ",".join(f"{s.results[k]:.6E}" for k in sorted(s.results))

    dev.add("[SOURce:]SAFEty:STEP1:GB[:LEVel]", lambda a: level("GB", a, 3.0, 30.0))
    dev.add("[SOURce:]SAFEty:STEP1:IR[:LEVel]", lambda a: level("IR", a, 50.0, 1000.0))

    def test_time(mode: str, arg: str) -> None:
        s.test_s[mode] = number(arg, 0.3, 999.9)

    def ramp_time(arg: str) -> None:
        s.ramp_s = number(arg, 0.1, 999.9)

    dev.add("[SOURce:]SAFEty:STEP1:GB:TIME:TEST", lambda a: test_time("GB", a))
    dev.add("[SOURce:]SAFEty:STEP1:IR:TIME[:TEST]", lambda a: test_time("IR", a))
    dev.add("[SOURce:]SAFEty:STEP1:IR:TIME:RAMP", ramp_time)
    dev.add("[SOURce:]SAFEty:STARt[:ONCE]", start)
    dev.add("[SOURce:]SAFEty:STOP", lambda _: setattr(s, "running", False))
    dev.add("[SOURce:]SAFEty:STATus?", lambda _: s.status())
    dev.add("[SOURce:]SAFEty:RESult:ALL:MMETerage[:NORMal]?", results)
    return dev
