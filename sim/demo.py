"""The demo (``station demo``): a V5° through a short charge/discharge profile.

Runs on a virtual clock, so 20 simulated minutes take a moment; includes a 15 s-tier
over-current trip and its automatic release, and prints the pack's states as a table.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from common.clock import VirtualClock
from sim.pack import SimPack
from sim.pack.interface import LEDS, TerminalView
from sim.pack.networks import CcCv, ConstantCurrent
from sim.unit import default_unit


class _Bench:
    """A charger and a load in parallel across the terminals."""

    def __init__(self) -> None:
        self.charger = CcCv(volts=56.0, amps=50.0, on=False)
        self.load = ConstantCurrent(0.0)

    def __call__(self, view: TerminalView) -> float:
        return self.charger(view) + self.load(view)


def _row(table: Table, pack: SimPack, label: str) -> None:
    s = pack.bms.snapshot()
    lit = {n: pack.led_on(n) for n in LEDS}
    leds = (
        ("[green]R[/]" if lit["RUN"] else "·") + ("[red]A[/]" if lit["ALM"] else "·") + " "
        + "".join("[green]█[/]" if lit[f"SOC{k}"] else "░" for k in range(1, 5))
    )
    table.add_row(
        f"{s.t:8.2f}", label, s.state, s.mode, f"{s.pack_mv / 1000:.2f}", f"{s.current_ma / 1000:+.1f}",
        f"{s.soc_pct:.1f}", f"{min(s.cell_mv)}-{max(s.cell_mv)}", f"{max(s.temps_dc[1:5]) / 10:.1f}",
        ("C" if s.charge_fet else "-") + ("D" if s.discharge_fet else "-"),
        ",".join(sorted(s.alarms)) or "-", ",".join(sorted(s.protections)) or "-", leds,
    )


def run_demo() -> None:
    clock = VirtualClock()
    pack = SimPack(default_unit("v5"), clock, seed=1)
    bench = _Bench()
    pack.set_network(bench)
    table = Table(title=f"Simulated {pack.model.name} {pack.identity.serial} on a virtual clock")
    for col in ("t [s]", "step", "state", "mode", "V", "A", "SOC %", "cells mV", "T °C",
                "FET", "alarms", "protections", "LEDs RA 1234"):
        table.add_column(col)
    _row(table, pack, "delivered")
    pack.set_power_button(True)
    pack.set_sw(True)
    clock.sleep(1.0)
    pack.set_sw(False)
    clock.sleep(0.5)
    _row(table, pack, "SW 1 s: power-on flash")
    clock.sleep(3.0)
    _row(table, pack, "standby")

    with pack.changing():
        bench.charger.on = True
    clock.sleep(5.0)
    _row(table, pack, "charger on, 50 A")
    clock.sleep(600.0)
    _row(table, pack, "after 10 min charge")
    with pack.changing():
        bench.charger.on = False
    clock.sleep(120.0)
    _row(table, pack, "rest 2 min")

    with pack.changing():
        bench.load.amps = -75.0
    clock.sleep(300.0)
    _row(table, pack, "75 A discharge, 5 min")
    with pack.changing():
        bench.load.amps = -150.0
    clock.sleep(15.0)
    _row(table, pack, "150 A for 15 s")
    clock.sleep(1.0)
    _row(table, pack, "15 s tier tripped")
    with pack.changing():
        bench.load.amps = 0.0
    clock.sleep(29.0)
    _row(table, pack, "load off, waiting")
    clock.sleep(2.0)
    _row(table, pack, "released after 30 s")
    clock.sleep(60.0)
    _row(table, pack, "rest")
    console = Console(width=max(Console().width, 150))
    console.print(table)
    for e in pack.bms.events():
        if e.code.endswith(("_prot", "_release")):
            console.print(f"event {e.code} at t = {e.t:.3f} s")
