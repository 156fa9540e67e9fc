"""Simulated thermal chamber: one model, two dialects (ESPEC SCP-220 ASCII, Watlow F4T SCPI).

The air moves toward the set point at ``rate_k_per_min`` (1-3 K/min, as a real chamber of
this size) while running, and drifts toward the room at ``drift_k_per_min`` in standby. A
periodic event on the bench clock updates the air while it is moving and calls
``pack.set_ambient`` so the pack's thermal model follows the air; it stops when the air has
arrived, so idle time costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from common.clock import EventHandle, VirtualClock
from sim.instruments.scpi import ScpiDevice, ScpiError, number
from sim.pack.interface import SimPackApi


@dataclass
class SimChamber:
    pack: SimPackApi
    clock: VirtualClock
    serial: str
    model: str = "SH-662"
    min_c: float = -40.0
    max_c: float = 150.0
    rate_k_per_min: float = 2.0
    drift_k_per_min: float = 0.2
    room_c: float = 25.0
    tick_s: float = 5.0
    air: float = 25.0
    setpoint: float = 25.0
    mode: str = "standby"            # "run" | "standby"
    received: list[str] = field(default_factory=list)
    _t: float = 0.0
    _tick: EventHandle | None = None

    def __post_init__(self) -> None:
        self._t = self.clock.now()
        self.air = self.pack.ambient()

    def target(self) -> float:
        return self.setpoint if self.mode == "run" else self.room_c

    def update(self, t: float | None = None) -> float:
        """Bring the air to time ``t`` (default now), tell the pack, return the air."""
        t = self.clock.now() if t is None else t
        dt = max(0.0, t - self._t)
        self._t = t
        rate = self.rate_k_per_min if self.mode == "run" else self.drift_k_per_min
        step = rate * dt / 60.0
        target = self.target()
        if abs(target - self.air) <= step:
            self.air = target
        else:
            self.air += step if target > self.air else -step
        self.pack.set_ambient(self.air)
        if self.air == target and self._tick is not None:
            self._tick.cancel()
            self._tick = None
        return self.air

    def _changed(self) -> None:
        self.update()
        if self.air != self.target() and self._tick is None:
            self._tick = self.clock.call_every(self.tick_s, self.update)

    def set_setpoint(self, celsius: float) -> None:
        self.update()
        self.setpoint = celsius
        self._changed()

    def set_mode(self, mode: str) -> None:
        self.update()
        self.mode = mode
        self._changed()

    def close(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None


def espec_handler(ch: SimChamber) -> Callable[[str], str]:
    """SCP-220 ASCII: ``TEMP?``, ``TEMP, S25.0``, ``MODE, CONSTANT|STANDBY``, ``MODE?``."""

    def handle(line: str) -> str:
        cmd = line.strip()
        up = cmd.upper().replace(" ", "")
        if up == "TEMP?":
            return f"{ch.update():.1f},{ch.setpoint:.1f},{ch.max_c:.1f},{ch.min_c:.1f}"
        if up == "MODE?":
            return "CONSTANT" if ch.mode == "run" else "STANDBY"
        if up == "TYPE?":
            return f"SCP-220,{ch.model},{ch.serial}"
        if up == "ROM?":
            return "SCP220 Ver 2.10"
        if up.startswith("TEMP,S"):
            try:
                value = float(up[len("TEMP,S"):])
            except ValueError:
                return "NA:PARAMETER ERR"
            if not ch.min_c <= value <= ch.max_c:
                return "NA:DATA OUT OF RANGE"
            ch.set_setpoint(value)
            return f"OK: TEMP, S{value:.1f}"
        if up.startswith("MODE,"):
            arg = up[len("MODE,"):]
            if arg == "CONSTANT":
                ch.set_mode("run")
            elif arg in ("STANDBY", "OFF"):
                ch.set_mode("standby")
            else:
                return "NA:PARAMETER ERR"
            return f"OK: MODE, {arg}"
        return "NA:COMMAND ERR"

    return handle


def watlow_device(ch: SimChamber) -> ScpiDevice:
    """F4T SCPI subset: loop 1 set point, process value, control mode."""
    dev = ScpiDevice(f"Watlow,F4T,{ch.serial},4.0.1")

    def cmode(arg: str) -> None:
        a = arg.upper()
        if a not in ("AUTO", "OFF"):
            raise ScpiError(-224, "Illegal parameter value")
        ch.set_mode("run" if a == "AUTO" else "standby")

    dev.add("[SOURce:]CLOop1:SPOint", lambda a: ch.set_setpoint(number(a, ch.min_c, ch.max_c)))
    dev.add("[SOURce:]CLOop1:SPOint?", lambda _: f"{ch.setpoint:.1f}")
    dev.add("[SOURce:]CLOop1:PVALue?", lambda _: f"{ch.update():.2f}")
    dev.add("[SOURce:]CLOop1:CMODe", cmode)
    dev.add("[SOURce:]CLOop1:CMODe?", lambda _: "AUTO" if ch.mode == "run" else "OFF")
    return dev
