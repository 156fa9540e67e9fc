"""Simulated bidirectional DC supplies: one model, two dialects (ITECH IT6000C, Keysight
RP7900 with its output watchdog).

Constant voltage with separate source and sink current limits (and the frame's power
limit), an OVP that switches the output off and latches, and, on the RP7900, a watchdog
that switches the output off when no SCPI I/O arrives for its delay, on the bench clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from common.clock import EventHandle, VirtualClock
from sim.instruments.scpi import ScpiDevice, ScpiError, boolean, number
from sim.pack.interface import SimPackApi


@dataclass(frozen=True)
class SupplyRatings:
    model: str
    max_v: float
    max_a: float
    max_w: float
    r_out: float = 0.001        # regulation stiffness, Ω
    watchdog: bool = False


ITECH_IT6006C = SupplyRatings("IT6006C-80-150", 80.0, 150.0, 6_000.0)
KEYSIGHT_RP7931A = SupplyRatings("RP7931A", 80.0, 250.0, 10_000.0, watchdog=True)


@dataclass
class SimSupply:
    pack: SimPackApi
    clock: VirtualClock
    ratings: SupplyRatings
    serial: str
    vset: float = 0.0
    source_limit: float = 0.0
    sink_limit: float = 0.0
    ovp: float = 0.0
    output_on: bool = False
    protections: set[str] = field(default_factory=set)
    watchdog_on: bool = False
    watchdog_delay: float = 60.0
    watchdog_trips: int = 0
    received: list[str] = field(default_factory=list)
    network: object | None = None
    #: what stands between the output and the terminal node (a fixture that routes the
    #: supply elsewhere, sim/instruments/cert_fixture.py); None: the terminals
    node: object | None = None
    _wd_handle: EventHandle | None = None

    def __post_init__(self) -> None:
        if self.ovp == 0.0:
            self.ovp = self.ratings.max_v * 1.1

    def terminal_current(self, volts: float) -> float:
        if not self.output_on:
            return 0.0
        i = (self.vset - volts) / self.ratings.r_out
        p_lim = self.ratings.max_w / max(volts, 1.0)
        return max(-min(self.sink_limit, p_lim), min(i, self.source_limit, p_lim))

    def open_circuit(self) -> bool:
        """Output off: no current at any voltage (``terminal_current`` is 0.0)."""
        return not self.output_on

    def falls_with_voltage(self, up_to: float) -> bool:
        """``terminal_current`` never rises with the voltage up to ``up_to``: the sourcing
        side falls with it, and the sinking side is its flat limit as long as the power
        limit (lowest at ``up_to``) never cuts below it."""
        if not self.output_on:
            return True
        if not (math.isfinite(self.vset) and math.isfinite(self.source_limit)
                and self.ratings.r_out > 0):
            return False
        return self.sink_limit <= self.ratings.max_w / max(up_to, 1.0)

    def after_solve(self, volts: float) -> bool:
        if self.output_on and volts > self.ovp:
            self.protections.add("OV")
            self.output_on = False
            return True
        return False

    def changed(self) -> None:
        self.pack.inputs_changed()

    def measured(self) -> tuple[float, float]:
        self.pack.current()
        volts = getattr(self.node if self.node is not None else self.network, "volts", 0.0)
        return volts, self.terminal_current(volts)

    # -- watchdog ---------------------------------------------------------------------------
    def activity(self) -> None:
        """Any SCPI I/O restarts the watchdog's delay."""
        if self._wd_handle is not None:
            self._wd_handle.cancel()
            self._wd_handle = None
        if self.watchdog_on:
            self._wd_handle = self.clock.call_later(self.watchdog_delay, self._watchdog_expired)

    def _watchdog_expired(self, t: float) -> None:
        del t
        self._wd_handle = None
        if self.output_on:
            self.output_on = False
            self.protections.add("WDOG")
            self.watchdog_trips += 1
            self.changed()

    def inhibit(self) -> None:
        """The remote-inhibit input (INH) asserted by the fixture's watchdog relay, in the
        RP7900's latching mode: the output latches off, INH (Questionable bit 9) stays set
        until ``OUTP:PROT:CLE``, so a station that comes back must clear it on purpose."""
        self.protections.add("INH")
        if self.output_on:
            self.output_on = False
            self.changed()

    def reset(self) -> None:
        self.vset = self.source_limit = self.sink_limit = 0.0
        self.output_on = False
        self.watchdog_on = False
        self.changed()

    def close(self) -> None:
        if self._wd_handle is not None:
            self._wd_handle.cancel()


def _fmt(x: float) -> str:
    return f"{x:.4f}"


def _set(s: SimSupply, attr: str, value: float) -> None:
    setattr(s, attr, value)
    s.changed()


def _set_output(s: SimSupply, arg: str) -> None:
    on = boolean(arg)
    if on and s.protections:
        raise ScpiError(-221, "Settings conflict; protection latched")
    s.output_on = on
    s.changed()


def supply_device(s: SimSupply, idn_vendor: str) -> ScpiDevice:
    """The common command set of the IT6000C and the RP7900 (they share SCPI here)."""
    r = s.ratings
    dev = ScpiDevice(f"{idn_vendor},{r.model},{s.serial},A.02.01")
    dev.add("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]", lambda a: _set(s, "vset", number(a, 0, r.max_v)))
    dev.add("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]?", lambda _: _fmt(s.vset))
    dev.add("[SOURce:]CURRent:LIMit[:POSitive][:IMMediate][:AMPLitude]",
            lambda a: _set(s, "source_limit", number(a, 0, r.max_a)))
    dev.add("[SOURce:]CURRent:LIMit[:POSitive][:IMMediate][:AMPLitude]?", lambda _: _fmt(s.source_limit))
    dev.add("[SOURce:]CURRent:LIMit:NEGative[:IMMediate][:AMPLitude]",
            lambda a: _set(s, "sink_limit", -number(a, -r.max_a, 0)))
    dev.add("[SOURce:]CURRent:LIMit:NEGative[:IMMediate][:AMPLitude]?", lambda _: _fmt(-s.sink_limit))
    dev.add("[SOURce:]VOLTage:PROTection[:LEVel]", lambda a: _set(s, "ovp", number(a, 0, r.max_v * 1.1)))
    dev.add("[SOURce:]VOLTage:PROTection[:LEVel]?", lambda _: _fmt(s.ovp))
    dev.add("OUTPut[:STATe]", lambda a: _set_output(s, a))
    dev.add("OUTPut[:STATe]?", lambda _: "1" if s.output_on else "0")
    dev.add("MEASure[:SCALar]:VOLTage[:DC]?", lambda _: _fmt(s.measured()[0]))
    dev.add("MEASure[:SCALar]:CURRent[:DC]?", lambda _: _fmt(s.measured()[1]))
    bits = {"OV": 0, "OC": 1, "PF": 2, "OP": 3, "OT": 4, "OP-": 5, "INH": 9, "WDOG": 11, "EDP": 12}
    dev.add("STATus:QUEStionable[:CONDition]?", lambda _: str(sum(1 << bits[p] for p in s.protections)))
    dev.on_reset = s.reset
    return dev


def it6000c_device(s: SimSupply) -> ScpiDevice:
    dev = supply_device(s, "ITECH Ltd.")
    dev.add("[SOURce:]PROTection:CLEar", lambda _: s.protections.clear())
    return dev


def rp7900_device(s: SimSupply) -> ScpiDevice:
    dev = supply_device(s, "Keysight Technologies")
    dev.add("OUTPut:PROTection:CLEar", lambda _: s.protections.clear())

    def wdog(arg: str) -> None:
        s.watchdog_on = boolean(arg)

    dev.add("OUTPut:PROTection:WDOG[:STATe]", wdog)
    dev.add("OUTPut:PROTection:WDOG[:STATe]?", lambda _: "1" if s.watchdog_on else "0")
    dev.add("OUTPut:PROTection:WDOG:DELay", lambda a: setattr(s, "watchdog_delay", number(a, 1, 3600)))
    dev.add("OUTPut:PROTection:WDOG:DELay?", lambda _: f"{s.watchdog_delay:g}")
    # activity is noted after the command ran, so arming the watchdog starts its delay
    handle = dev.handle

    def handle_and_pet(line: str) -> str | None:
        answer = handle(line)
        s.activity()
        return answer

    dev.handle = handle_and_pet  # type: ignore[method-assign]
    return dev
