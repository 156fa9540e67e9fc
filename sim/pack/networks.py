"""Simple terminal networks for tests, the demo and benchmarks (the real instruments live
in ``sim.instruments``): a constant-current source/sink and a CC-CV charger."""

from __future__ import annotations

from dataclasses import dataclass

from sim.pack.interface import TerminalView


@dataclass
class ConstantCurrent:
    """``amps`` into the pack (+ charge, − discharge) whenever that path is closed."""

    amps: float = 0.0

    def __call__(self, view: TerminalView) -> float:
        if self.amps > 0 and view.charge_path:
            return self.amps
        if self.amps < 0 and view.discharge_path:
            return self.amps
        return 0.0


@dataclass
class CcCv:
    """A charger: at most ``amps`` into the pack, at most ``volts`` at the terminals;
    ``on=False`` disconnects it. It never sinks current (a diode-isolated charger)."""

    volts: float = 56.0
    amps: float = 50.0
    on: bool = True

    def __call__(self, view: TerminalView) -> float:
        if not self.on or not view.charge_path:
            return 0.0
        i = (self.volts - view.emf_v) / view.r_ohm
        return max(0.0, min(self.amps, i))
