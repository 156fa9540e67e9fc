"""Simulated thermal chamber: one model, two dialects (ESPEC SCP-220 ASCII, Watlow F4T SCPI).

The air moves toward the set point at ``rate_k_per_min`` (1-3 K/min, as a real chamber of
this size) while running, and drifts toward the room at ``drift_k_per_min`` in standby. A
periodic event on the bench clock updates the air while it is moving and calls
``pack.set_ambient`` so the pack's thermal model follows the air; it stops when the air has
arrived, so idle time costs nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.clock import EventHandle, VirtualClock
from sim.instruments.scpi import ScpiDevice, ScpiError, boolean, number
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
    """SCP-220 ASCII (as ESPEC's ChamberConnectLibrary drives it): ``TEMP?``, ``TEMP,
    S25.0``, ``MODE,CONSTANT|STANDBY|OFF|RUN<n>``, ``MODE?``, ``TYPE?``, ``ROM?``; refusals
    ``NA:CMD ERR``, ``NA:PARA ERR``, ``NA:DATA OUT OF RANGE``."""
    state = {"mode": "STANDBY"}   # what MODE? says: CONSTANT, RUN, STANDBY or OFF

    def handle(line: str) -> str:
        cmd = line.strip()
        up = cmd.upper().replace(" ", "")
        if up == "TEMP?":
            return f"{ch.update():.1f},{ch.setpoint:.1f},{ch.max_c:.1f},{ch.min_c:.1f}"
        if up == "MODE?":
            return state["mode"] if ch.mode == "run" or state["mode"] == "OFF" else "STANDBY"
        if up == "TYPE?":
            return f"SCP-220,{ch.model},{ch.serial}"
        if up == "ROM?":
            return "SCP220 Ver 2.10"
        if up.startswith("TEMP,S"):
            try:
                value = float(up[len("TEMP,S"):])
            except ValueError:
                return "NA:PARA ERR"
            if not ch.min_c <= value <= ch.max_c:
                return "NA:DATA OUT OF RANGE"
            ch.set_setpoint(value)
            return f"OK: TEMP, S{value:.1f}"
        if up.startswith("MODE,"):
            arg = up[len("MODE,"):]
            if arg == "CONSTANT" or (arg.startswith("RUN") and arg[3:].isdigit()):
                ch.set_mode("run")
                state["mode"] = "RUN" if arg.startswith("RUN") else "CONSTANT"
            elif arg in ("STANDBY", "OFF"):
                ch.set_mode("standby")
                state["mode"] = arg
            else:
                return "NA:PARA ERR"
            return f"OK: MODE,{arg}"
        return "NA:CMD ERR"

    return handle


def watlow_device(ch: SimChamber, *, unit: str = "C", fahrenheit_only: bool = False) -> ScpiDevice:
    """F4T SCPI subset of the published command list: link units, loop 1 set point and
    process value, event outputs (output 1 runs the chamber). ``fahrenheit_only`` is older
    firmware that keeps the link in °F. There is no error queue in the list; the sim keeps
    its own but nothing needs it."""
    dev = ScpiDevice(f"Watlow Electric,F4T,{ch.serial},4.0.1")
    state: dict[str, Any] = {"unit": "F" if fahrenheit_only else unit, "outputs": 0}

    def to_c(value: float) -> float:
        return (value - 32) * 5 / 9 if state["unit"] == "F" else value

    def from_c(celsius: float) -> float:
        return celsius * 9 / 5 + 32 if state["unit"] == "F" else celsius

    def set_unit(arg: str) -> None:
        a = arg.strip().upper()
        if a not in ("C", "F"):
            raise ScpiError(-224, "Illegal parameter value")
        if not fahrenheit_only:
            state["unit"] = a

    def set_output(n: int, arg: str) -> None:
        on = boolean(arg)
        state["outputs"] = state["outputs"] | 1 << n if on else state["outputs"] & ~(1 << n)
        if n == 1:
            ch.set_mode("run" if on else "standby")

    def output_on(n: int) -> bool:
        return ch.mode == "run" if n == 1 else bool(state["outputs"] >> n & 1)

    def output_state(n: int, _: str) -> str:
        return "ON" if output_on(n) else "OFF"

    dev.add("UNIT:TEMPerature", set_unit)
    dev.add("UNIT:TEMPerature?", lambda _: str(state["unit"]))
    dev.add("[SOURce:]CLOop1:SPOint",
            lambda a: ch.set_setpoint(to_c(number(a, from_c(ch.min_c), from_c(ch.max_c)))))
    dev.add("[SOURce:]CLOop1:SPOint?", lambda _: f"{from_c(ch.setpoint):.1f}")
    dev.add("[SOURce:]CLOop1:PVALue?", lambda _: f"{from_c(ch.update()):.2f}")
    for n in range(1, 8):
        dev.add(f"OUTPut{n}:STATe", functools.partial(set_output, n))
        dev.add(f"OUTPut{n}:STATe?", functools.partial(output_state, n))
    return dev
