"""Simulated high-power electronic loads: one model, two dialects (Chroma 63200A, ITECH
IT8900A).

The model enforces the frame's ratings (a setting above them is ``-222``) and trips its own
protections like the real load: over-voltage, over-current, over-power switch the input
off and latch a status bit until cleared. The current capture samples the pack's current
history, so a trip instant is seen at the capture's own resolution.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from common.clock import VirtualClock
from sim.instruments.scpi import ScpiDevice, ScpiError, boolean, number
from sim.pack.interface import SimPackApi


@dataclass(frozen=True)
class LoadRatings:
    model: str
    max_v: float
    max_a: float
    max_w: float
    min_v: float = 0.5          # below this the load cannot hold its current
    r_short: float = 0.001      # input resistance in short mode, Ω
    max_points: int = 4096      # digitizer memory, points
    min_dt: float = 1e-5        # digitizer's fastest and slowest interval, s
    max_dt: float = 0.04


#: The digitizers as the drivers' dialects state them (docs/instruments.md): the Chroma
#: 2 µs ~ 40 ms, 15000 points; the ITECH 10 µs ~ 40 ms, 4096 points.
CHROMA_63212A = LoadRatings("63212A-150-1200", 150.0, 1200.0, 12_000.0, max_points=15_000, min_dt=2e-6)
ITECH_IT8918A = LoadRatings("IT8918A-150-1200", 150.0, 1200.0, 18_000.0, max_points=4096, min_dt=1e-5)


@dataclass
class SimLoad:
    pack: SimPackApi
    clock: VirtualClock
    ratings: LoadRatings
    serial: str
    mode: str = "CC"
    levels: dict[str, float] = field(default_factory=lambda: {"CC": 0.0, "CV": 0.0, "CP": 0.0, "CR": 1e6})
    input_on: bool = False
    short_on: bool = False
    #: Remote inhibit (the fixture's watchdog relay): input off, and held off, while set.
    inhibited: bool = False
    protections: set[str] = field(default_factory=set)
    capture_dt: float = 0.01
    capture_points: int = 100
    capture_t0: float | None = None
    received: list[str] = field(default_factory=list)
    network: object | None = None

    # -- physics -------------------------------------------------------------------------
    def terminal_current(self, volts: float) -> float:
        return -self.draw(volts)

    def draw(self, volts: float) -> float:
        """Current the load sinks at terminal voltage ``volts`` (A, >= 0)."""
        if not self.input_on or volts <= 0:
            return 0.0
        r = self.ratings
        if self.short_on:
            return min(volts / r.r_short, r.max_a)
        ramp = min(1.0, volts / r.min_v)
        if self.mode == "CC":
            i = self.levels["CC"] * ramp
        elif self.mode == "CR":
            i = volts / max(self.levels["CR"], 1e-6)
        elif self.mode == "CP":
            i = self.levels["CP"] / max(volts, r.min_v) * ramp
        else:  # CV: a shunt regulator, steep above its level
            i = max(0.0, (volts - self.levels["CV"]) / 0.001)
        return min(i, r.max_a * 1.02)

    def open_circuit(self) -> bool:
        """Input off: no current at any voltage (``draw`` is 0.0)."""
        return not self.input_on

    def falls_with_voltage(self, up_to: float) -> bool:
        """``terminal_current`` (−``draw``) never rises with the voltage: every mode's draw
        grows with it (CC through its ramp, CR, CV, the short) except CP's P / V."""
        if not self.input_on or self.short_on:
            return True
        level = self.levels.get(self.mode, math.nan)
        if not math.isfinite(level):
            return False
        return self.mode in ("CR", "CV") or (self.mode == "CC" and level >= 0)

    def after_solve(self, volts: float) -> bool:
        """The load's own protections; True if one tripped (input switched off)."""
        if not self.input_on:
            return False
        i = self.draw(volts)
        r = self.ratings
        trip = None
        if volts > r.max_v * 1.02:
            trip = "OV"
        elif i > r.max_a * 1.01:
            trip = "OC"
        elif i * volts > r.max_w * 1.02 and not self.short_on:
            # in short mode the frame's power protection is slower (ms) than a pack's
            # short-circuit trip (200 µs); the simulator does not model that race
            trip = "OP"
        if trip:
            self.protections.add(trip)
            self.input_on = False
            self.short_on = False
            return True
        return False

    def changed(self) -> None:
        self.pack.inputs_changed()

    def set_inhibit(self, on: bool) -> None:
        """Remote inhibit: switches the input off; lifting it does not switch it back on."""
        self.inhibited = bool(on)
        if on and (self.input_on or self.short_on):
            self.input_on = self.short_on = False
            self.changed()

    def measured(self) -> tuple[float, float]:
        """(V, I drawn) now."""
        self.pack.current()  # brings the pack and the network to now
        net = self.network
        volts = getattr(net, "volts", 0.0) if net is not None else self.pack.terminal_voltage()
        return volts, self.draw(volts)

    # -- capture -------------------------------------------------------------------------
    def trigger_capture(self) -> None:
        self.capture_t0 = self.clock.now()

    def capture(self) -> list[float]:
        if self.capture_t0 is None:
            raise ScpiError(-230, "Data corrupt or stale; no capture triggered")
        t0, dt = self.capture_t0, self.capture_dt
        now = self.clock.now()
        n = min(self.capture_points, int((now - t0) / dt + 1e-9) + 1)
        if n <= 0:
            return []
        history = self.pack.current_history(t0, t0 + (n - 1) * dt)
        times = [t for t, _ in history]
        out = []
        for k in range(n):
            ts = t0 + k * dt
            j = bisect.bisect_right(times, ts + 1e-12) - 1
            amps = history[j][1] if j >= 0 else (history[0][1] if history else 0.0)
            out.append(max(0.0, -amps))  # the load sees the pack's discharge current
        return out

    def reset(self) -> None:
        self.mode, self.input_on, self.short_on = "CC", False, False
        self.levels.update(CC=0.0, CV=0.0, CP=0.0, CR=1e6)
        self.changed()


def _set_level(load: SimLoad, mode: str, arg: str, hi: float, lo: float = 0.0) -> None:
    load.levels[mode] = number(arg, lo, hi, what=f"{mode} level")
    load.changed()


def _set_input(load: SimLoad, arg: str) -> None:
    on = boolean(arg)
    if on and load.protections:
        raise ScpiError(-221, "Settings conflict; protection latched")
    if on and load.inhibited:
        raise ScpiError(-221, "Settings conflict; remote inhibit")
    load.input_on = on
    if not on:
        load.short_on = False
    load.changed()


def _set_short(load: SimLoad, arg: str) -> None:
    load.short_on = boolean(arg)
    load.changed()


def _fmt(x: float) -> str:
    return f"{x:.4f}"


def chroma_device(load: SimLoad) -> ScpiDevice:
    """The 63200A's command set (see drivers.instruments.chroma_63200a)."""
    r = load.ratings
    dev = ScpiDevice(f"Chroma ATE,{r.model},{load.serial},1.10")
    modes = {"CCL": "CC", "CCM": "CC", "CCH": "CC", "CV": "CV", "CPL": "CP", "CPH": "CP",
             "CRL": "CR", "CRM": "CR", "CRH": "CR"}

    def set_mode(arg: str) -> None:
        if arg.upper() not in modes:
            raise ScpiError(-224, "Illegal parameter value")
        load.mode = modes[arg.upper()]
        load.changed()

    dev.add("MODE", set_mode)
    dev.add("MODE?", lambda _: {"CC": "CCH", "CV": "CV", "CP": "CPH", "CR": "CRH"}[load.mode])
    dev.add("CURRent:STATic:L1", lambda a: _set_level(load, "CC", a, r.max_a))
    dev.add("CURRent:STATic:L1?", lambda _: _fmt(load.levels["CC"]))
    dev.add("VOLTage:STATic:L1", lambda a: _set_level(load, "CV", a, r.max_v))
    dev.add("VOLTage:STATic:L1?", lambda _: _fmt(load.levels["CV"]))
    dev.add("POWer:STATic:L1", lambda a: _set_level(load, "CP", a, r.max_w))
    dev.add("POWer:STATic:L1?", lambda _: _fmt(load.levels["CP"]))
    dev.add("RESistance:STATic:L1", lambda a: _set_level(load, "CR", a, 10_000.0, 0.001))
    dev.add("RESistance:STATic:L1?", lambda _: f"{load.levels['CR']:.5f}")
    dev.add("LOAD[:STATe]", lambda a: _set_input(load, a))
    dev.add("LOAD[:STATe]?", lambda _: "1" if load.input_on else "0")
    dev.add("LOAD:SHORt[:STATe]", lambda a: _set_short(load, a))
    dev.add("LOAD:SHORt[:STATe]?", lambda _: "1" if load.short_on else "0")
    bits = {"OC": 0, "OV": 1, "OP": 2, "RV": 3, "OT": 4}   # 63200A Table 8-1
    dev.add("LOAD:PROTection?", lambda _: str(sum(1 << bits[p] for p in load.protections)))
    dev.add("LOAD:PROTection:CLEar", lambda _: load.protections.clear())
    _measurements(dev, load)
    dev.add("DIGitizing:SAMPle:TIME", lambda a: setattr(load, "capture_dt", number(a, r.min_dt, r.max_dt)))
    dev.add("DIGitizing:SAMPle:TIME?", lambda _: f"{load.capture_dt:.6f}")
    dev.add("DIGitizing:SAMPle:POINt", lambda a: setattr(load, "capture_points", int(number(a, 1, r.max_points))))
    dev.add("DIGitizing:TRIGger", lambda _: load.trigger_capture())
    dev.add("FETCh:ARRay:CURRent?", lambda _: ",".join(_fmt(x) for x in load.capture()))
    dev.on_reset = load.reset
    return dev


def itech_device(load: SimLoad) -> ScpiDevice:
    """The IT8900A's command set (see drivers.instruments.itech_it8900a)."""
    r = load.ratings
    dev = ScpiDevice(f"ITECH Ltd.,{r.model},{load.serial},1.23-1.08")
    funcs = {"CURR": "CC", "CURRENT": "CC", "VOLT": "CV", "VOLTAGE": "CV", "POW": "CP",
             "POWER": "CP", "RES": "CR", "RESISTANCE": "CR"}

    def set_func(arg: str) -> None:
        if arg.upper() not in funcs:
            raise ScpiError(-224, "Illegal parameter value")
        load.mode = funcs[arg.upper()]
        load.changed()

    dev.add("[SOURce:]FUNCtion", set_func)
    dev.add("[SOURce:]FUNCtion?", lambda _: {"CC": "CURR", "CV": "VOLT", "CP": "POW", "CR": "RES"}[load.mode])
    dev.add("[SOURce:]CURRent[:LEVel][:IMMediate]", lambda a: _set_level(load, "CC", a, r.max_a))
    dev.add("[SOURce:]CURRent[:LEVel][:IMMediate]?", lambda _: _fmt(load.levels["CC"]))
    dev.add("[SOURce:]VOLTage[:LEVel][:IMMediate]", lambda a: _set_level(load, "CV", a, r.max_v))
    dev.add("[SOURce:]VOLTage[:LEVel][:IMMediate]?", lambda _: _fmt(load.levels["CV"]))
    dev.add("[SOURce:]POWer[:LEVel][:IMMediate]", lambda a: _set_level(load, "CP", a, r.max_w))
    dev.add("[SOURce:]POWer[:LEVel][:IMMediate]?", lambda _: _fmt(load.levels["CP"]))
    dev.add("[SOURce:]RESistance[:LEVel][:IMMediate]", lambda a: _set_level(load, "CR", a, 10_000.0, 0.001))
    dev.add("[SOURce:]RESistance[:LEVel][:IMMediate]?", lambda _: f"{load.levels['CR']:.5f}")
    dev.add("[SOURce:]INPut[:STATe]", lambda a: _set_input(load, a))
    dev.add("[SOURce:]INPut[:STATe]?", lambda _: "1" if load.input_on else "0")
    dev.add("[SOURce:]INPut:SHORt[:STATe]", lambda a: _set_short(load, a))
    dev.add("[SOURce:]INPut:SHORt[:STATe]?", lambda _: "1" if load.short_on else "0")
    # ITECH's SCPI questionable register (IT8500+ Programming Guide, ch. 2): VF 0 (an over-
    # or a reverse voltage), OC 1, OP 3, OT 4, OV 13 (set together with VF)
    bits = {"OV": 1 << 0 | 1 << 13, "RV": 1 << 0, "OC": 1 << 1, "OP": 1 << 3, "OT": 1 << 4}
    dev.add("STATus:QUEStionable:CONDition?",
            lambda _: str(_register(bits, load.protections)))
    dev.add("[SOURce:]PROTection:CLEar", lambda _: load.protections.clear())
    _measurements(dev, load)
    dev.add("SENSe:SWEep:TINTerval", lambda a: setattr(load, "capture_dt", number(a, r.min_dt, r.max_dt)))
    dev.add("SENSe:SWEep:TINTerval?", lambda _: f"{load.capture_dt:.6f}")
    dev.add("SENSe:SWEep:POINts", lambda a: setattr(load, "capture_points", int(number(a, 1, r.max_points))))
    dev.add("TRIGger:ACQuire", lambda _: load.trigger_capture())
    dev.add("FETCh:ARRay:CURRent?", lambda _: ",".join(_fmt(x) for x in load.capture()))
    dev.on_reset = load.reset
    return dev


def _register(bits: dict[str, int], tripped: set[str]) -> int:
    """A status register's value: the OR of the tripped protections' bits."""
    value = 0
    for name in tripped:
        value |= bits[name]
    return value


def _measurements(dev: ScpiDevice, load: SimLoad) -> None:
    dev.add("MEASure:VOLTage[:DC]?", lambda _: _fmt(load.measured()[0]))
    dev.add("MEASure:CURRent[:DC]?", lambda _: _fmt(load.measured()[1]))
    dev.add("MEASure:POWer[:DC]?", lambda _: _fmt(load.measured()[0] * load.measured()[1]))
