"""Simulated thermal chamber: one model, two dialects (ESPEC SCP-220 ASCII, Watlow F4T SCPI).

The air moves toward the set point at ``rate_k_per_min`` (1-3 K/min, as a real chamber of
this size) while running, and drifts toward the room at ``drift_k_per_min`` in standby. A
periodic event on the bench clock updates the air while it is moving and calls
``pack.set_ambient`` so the pack's thermal model follows the air; it stops when the air has
arrived, so idle time costs nothing.

A programmed ramp (``start_ramp``) moves the *controller's* set point from the air at
that instant toward its target at the programmed rate; the air chases that moving set
point at no more than its own rate, so a ramp faster than the chamber is the chamber's
rate and a slower one is the program's. The ESPEC dialect runs its programs (steps with
``TRAMPON``/``TRAMPOFF`` and a time, an end mode) on the bench clock; the Watlow dialect's
loop ramps its set point at ``RRATE`` when ``RACTION`` says so.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.clock import EventHandle, VirtualClock
from sim.instruments.scpi import ScpiDevice, ScpiError, boolean, number
from sim.pack.interface import SimPackApi


@dataclass(frozen=True)
class Ramp:
    """The controller's set point moving from ``start_c`` at ``t0`` toward ``target_c`` at
    ``rate_k_per_min`` (``math.inf``: a step)."""

    start_c: float
    target_c: float
    t0: float
    rate_k_per_min: float

    def at(self, t: float) -> float:
        moved = self.rate_k_per_min * max(0.0, t - self.t0) / 60.0 if self.rate_k_per_min > 0 else 0.0
        gap = self.target_c - self.start_c
        return self.target_c if moved >= abs(gap) else self.start_c + math.copysign(moved, gap)

    def done(self, t: float) -> bool:
        return self.at(t) == self.target_c


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
    #: a programmed ramp of the controller's set point (None: it controls to ``setpoint``)
    ramp: Ramp | None = None
    #: a dialect's own timers (an ESPEC program's step ends), cancelled by ``close``
    timers: list[EventHandle] = field(default_factory=list)
    _t: float = 0.0
    _tick: EventHandle | None = None

    def __post_init__(self) -> None:
        self._t = self.clock.now()
        self.air = self.pack.ambient()

    def active_setpoint(self, t: float | None = None) -> float:
        """The set point the controller controls to at ``t`` (a ramp's moving one)."""
        t = self.clock.now() if t is None else t
        return self.ramp.at(t) if self.ramp is not None else self.setpoint

    def target(self, t: float | None = None) -> float:
        return self.active_setpoint(t) if self.mode == "run" else self.room_c

    def _settled(self, t: float) -> bool:
        return self.air == self.target(t) and (self.ramp is None or self.ramp.done(t))

    def update(self, t: float | None = None) -> float:
        """Bring the air to time ``t`` (default now), tell the pack, return the air."""
        t = self.clock.now() if t is None else t
        dt = max(0.0, t - self._t)
        self._t = t
        rate = self.rate_k_per_min if self.mode == "run" else self.drift_k_per_min
        step = rate * dt / 60.0
        target = self.target(t)
        if abs(target - self.air) <= step:
            self.air = target
        else:
            self.air += step if target > self.air else -step
        self.pack.set_ambient(self.air)
        if self._settled(t) and self._tick is not None:
            self._tick.cancel()
            self._tick = None
        return self.air

    def _changed(self) -> None:
        self.update()
        if not self._settled(self.clock.now()) and self._tick is None:
            self._tick = self.clock.call_every(self.tick_s, self.update)

    def start_ramp(self, target_c: float, rate_k_per_min: float, start_c: float | None = None) -> None:
        """The controller's set point from ``start_c`` (default: the air now) toward
        ``target_c`` at ``rate_k_per_min`` (``math.inf``: at once)."""
        self.update()
        start = self.air if start_c is None else start_c
        self.ramp = Ramp(start, target_c, self.clock.now(), rate_k_per_min)
        self._changed()

    def clear_ramp(self) -> None:
        """Back to the plain set point."""
        self.update()
        self.ramp = None
        self._changed()

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
        for handle in self.timers:
            handle.cancel()
        self.timers.clear()


#: ``PRGM DATA WRITE,PGM<n>,STEP<k>,TEMP<t>[,TRAMPON|OFF],TIME<h>:<m>`` (spaces removed)
_STEP = re.compile(r"STEP(\d+),TEMP(-?\d+(?:\.\d+)?)(?:,TRAMP(ON|OFF))?,TIME(\d+):(\d+)")
#: RAM programs the SCP-220 can write (ChamberConnectLibrary ``scp220.py``: ``ramprgms = 20``)
ESPEC_RAM_PROGRAMS = 20
ESPEC_END_MODES = ("OFF", "STANDBY", "CONSTANT", "HOLD")


@dataclass
class EspecProgram:
    """A stored program: steps (temperature, ramp on, minutes) and its end mode."""

    steps: list[tuple[float, bool, int]] = field(default_factory=list)
    end: str = ""


def espec_handler(ch: SimChamber) -> Callable[[str], str]:
    """SCP-220 ASCII (as ESPEC's ChamberConnectLibrary drives it): ``TEMP?``, ``TEMP,
    S25.0``, ``MODE,CONSTANT|STANDBY|OFF|RUN<n>``, ``MODE?``, ``TYPE?``, ``ROM?``, and the
    temperature programs: ``PRGM ERASE,RAM:<n>``, ``PRGM DATA WRITE,PGM<n>,EDIT
    START|END|CANCEL``, ``...,STEP<k>,TEMP<t>,TRAMPON|OFF,TIME<h>:<m>``, ``...,END,<mode>``,
    ``PRGM,RUN,RAM:<n>,STEP<k>``, ``PRGM MON?``. A program runs on the bench clock: a
    ``TRAMPON`` step moves the set point linearly from the previous step's temperature (the
    first: the air at the start) to its own over its time, a ``TRAMPOFF`` step holds its
    temperature; at the end the end mode (``CONSTANT``: the constant set point of ``TEMP,
    S``; ``HOLD``: the last step's, still ``RUN``). Refusals ``NA:CMD ERR``, ``NA:PARA ERR``,
    ``NA:DATA OUT OF RANGE``, ``NA:DATA NOT READY``, ``NA:CONT NOT READY-2`` (no program
    running) and the ``NA:PRGM WRITE ERR-<n>`` of ``especinteract.py``'s table (which one a
    real controller gives for an edit of an existing program is not verified: ERR-6)."""
    state: dict[str, Any] = {"mode": "STANDBY"}   # what MODE? says: CONSTANT, RUN, STANDBY or OFF
    stored: dict[int, EspecProgram] = {}
    edit: dict[str, Any] = {"n": None, "program": None}
    run: dict[str, Any] = {"n": None, "step": 0, "ends": 0.0, "ended": False, "timer": None}

    def stop_program() -> None:
        ch.update()
        if run["timer"] is not None:
            run["timer"].cancel()
            ch.timers[:] = [h for h in ch.timers if h is not run["timer"]]
        run.update(n=None, step=0, ends=0.0, ended=False, timer=None)
        ch.ramp = None

    def start_step(k: int, t: float) -> None:
        program: EspecProgram = stored[run["n"]]
        temp, ramp_on, minutes = program.steps[k - 1]
        start = program.steps[k - 2][0] if k > 1 else ch.air
        rate = abs(temp - start) / minutes if ramp_on else math.inf
        ch.start_ramp(temp, rate, start_c=start)
        run.update(step=k, ends=t + minutes * 60.0)
        handle = ch.clock.call_at(run["ends"], step_end)
        run["timer"] = handle
        ch.timers.append(handle)

    def step_end(t: float) -> None:
        ch.update(t)
        ch.timers[:] = [h for h in ch.timers if h is not run["timer"]]
        program: EspecProgram = stored[run["n"]]
        if run["step"] < len(program.steps):
            start_step(run["step"] + 1, t)
            return
        run["timer"] = None
        if program.end == "HOLD":   # the last step's set point held, the program still RUN
            run["ended"] = True
            return
        stop_program()
        if program.end == "CONSTANT":
            ch.clear_ramp()
            state["mode"] = "CONSTANT"
        else:
            ch.set_mode("standby")
            state["mode"] = program.end

    def program_write(n: int, rest: str, cmd: str) -> str:
        ok = f"OK: {cmd}"
        if rest == "EDITSTART":
            if edit["n"] is not None:
                return "NA:PRGM WRITE ERR-4"
            if n == run["n"]:
                return "NA:PRGM WRITE ERR-10"
            if n in stored:
                return "NA:PRGM WRITE ERR-6"
            edit.update(n=n, program=EspecProgram())
            return ok
        if edit["n"] is None:
            return "NA:PRGM WRITE ERR-3" if rest.startswith("EDIT") else "NA:PRGM WRITE ERR-2"
        if n != edit["n"]:
            return "NA:PRGM WRITE ERR-7"
        program: EspecProgram = edit["program"]
        if rest == "EDITCANCEL":
            edit.update(n=None, program=None)
            return ok
        if rest == "EDITEND":
            if not program.steps or not program.end:
                return "NA:PRGM WRITE ERR-11"
            stored[n] = program
            edit.update(n=None, program=None)
            return ok
        if rest.startswith("END,"):
            mode = rest[len("END,"):]
            if mode not in ESPEC_END_MODES:
                return "NA:PARA ERR"
            program.end = mode
            return ok
        m = _STEP.fullmatch(rest)
        if m is None:
            return "NA:PARA ERR"
        k, temp, hours, minutes = int(m[1]), float(m[2]), int(m[4]), int(m[5])
        if k != len(program.steps) + 1:
            return "NA:PRGM WRITE ERR-8"
        if not ch.min_c <= temp <= ch.max_c:
            return "NA:DATA OUT OF RANGE"
        if minutes > 59 or hours > 99 or hours * 60 + minutes == 0:
            return "NA:PRGM WRITE ERR-13"
        program.steps.append((temp, m[3] == "ON", hours * 60 + minutes))
        return ok

    def program_command(up: str, cmd: str) -> str:
        if up.startswith("PRGMERASE,RAM:"):
            try:
                n = int(up[len("PRGMERASE,RAM:"):])
            except ValueError:
                return "NA:PARA ERR"
            if n == run["n"]:
                return "NA:PRGM WRITE ERR-10"
            if n not in stored:
                return "NA:DATA NOT READY"
            del stored[n]
            return f"OK: {cmd}"
        m = re.fullmatch(r"PRGMDATAWRITE,PGM(\d+),(.+)", up)
        if m is not None:
            n = int(m[1])
            if not 1 <= n <= ESPEC_RAM_PROGRAMS:
                return "NA:PRGM WRITE ERR-1"
            return program_write(n, m[2], cmd)
        m = re.fullmatch(r"PRGM,RUN,RAM:(\d+),STEP(\d+)", up)
        if m is not None:
            n, k = int(m[1]), int(m[2])
            if n not in stored:
                return "NA:DATA NOT READY"
            if not 1 <= k <= len(stored[n].steps):
                return "NA:DATA OUT OF RANGE"
            stop_program()
            ch.set_mode("run")
            run["n"] = n
            start_step(k, ch.clock.now())
            state["mode"] = "RUN"
            return f"OK: {cmd}"
        if up == "PRGMMON?":
            if run["n"] is None:
                return "NA:CONT NOT READY-2"
            temp = stored[run["n"]].steps[run["step"] - 1][0]
            left = 0 if run["ended"] else math.ceil(max(0.0, run["ends"] - ch.clock.now()) / 60.0)
            return f"{run['step']},{temp:.1f},{left // 60}:{left % 60:02d},0,0"
        return "NA:CMD ERR"

    def handle(line: str) -> str:
        cmd = line.strip()
        up = cmd.upper().replace(" ", "")
        if up == "TEMP?":
            return f"{ch.update():.1f},{ch.active_setpoint():.1f},{ch.max_c:.1f},{ch.min_c:.1f}"
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
            ch.set_setpoint(value)   # the constant set point (a running program keeps its own)
            return f"OK: TEMP, S{value:.1f}"
        if up.startswith("MODE,"):
            arg = up[len("MODE,"):]
            if arg.startswith("RUN") and arg[3:].isdigit() and int(arg[3:]) in stored:
                return program_command(f"PRGM,RUN,RAM:{int(arg[3:])},STEP1", cmd)
            if arg == "CONSTANT" or (arg.startswith("RUN") and arg[3:].isdigit()):
                stop_program()
                ch.set_mode("run")
                state["mode"] = "RUN" if arg.startswith("RUN") else "CONSTANT"
            elif arg in ("STANDBY", "OFF"):
                stop_program()
                ch.set_mode("standby")
                state["mode"] = arg
            else:
                return "NA:PARA ERR"
            return f"OK: MODE,{arg}"
        if up.startswith("PRGM"):
            return program_command(up, cmd)
        return "NA:CMD ERR"

    return handle


def watlow_device(ch: SimChamber, *, unit: str = "C", fahrenheit_only: bool = False) -> ScpiDevice:
    """F4T SCPI subset of the published command list: link units, loop 1 set point and
    process value, the loop's set-point ramp (``RACTION``, ``RSCALE``, ``RRATE``: a set
    point written with ramping on moves from the air at ``RRATE`` per minute or hour, in
    the link's unit; ``SPOINT?`` answers the moving one), event outputs (output 1 runs the
    chamber). ``fahrenheit_only`` is older
    firmware that keeps the link in °F. There is no error queue in the list; the sim keeps
    its own but nothing needs it."""
    dev = ScpiDevice(f"Watlow Electric,F4T,{ch.serial},4.0.1")
    state: dict[str, Any] = {"unit": "F" if fahrenheit_only else unit, "outputs": 0,
                             "raction": "OFF", "rscale": "MINUTES", "rrate": 0.0}

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
    def set_point(arg: str) -> None:
        celsius = to_c(number(arg, from_c(ch.min_c), from_c(ch.max_c)))
        ch.set_setpoint(celsius)
        if state["raction"] in ("SETPOINT", "BOTH") and state["rrate"] > 0:
            per_min = state["rrate"] / (60.0 if state["rscale"] == "HOURS" else 1.0)
            ch.start_ramp(celsius, per_min * (5 / 9 if state["unit"] == "F" else 1.0))
        elif ch.ramp is not None:
            ch.clear_ramp()

    def choice(key: str, allowed: tuple[str, ...]) -> Callable[[str], None]:
        def set_choice(arg: str) -> None:
            a = arg.strip().upper()
            if a not in allowed:
                raise ScpiError(-224, "Illegal parameter value")
            state[key] = a
            if key == "raction" and a == "OFF" and ch.ramp is not None:
                ch.clear_ramp()   # "controls instantly to set point"
        return set_choice

    def set_rate(arg: str) -> None:
        state["rrate"] = number(arg, 0.0, 9999.0)

    dev.add("[SOURce:]CLOop1:SPOint", set_point)
    # "Set Point Active Closed": a ramp's moving set point
    dev.add("[SOURce:]CLOop1:SPOint?", lambda _: f"{from_c(ch.active_setpoint()):.1f}")
    dev.add("[SOURce:]CLOop1:RACTion", choice("raction", ("OFF", "STARTUP", "SETPOINT", "BOTH")))
    dev.add("[SOURce:]CLOop1:RSCAle", choice("rscale", ("MINUTES", "HOURS")))
    dev.add("[SOURce:]CLOop1:RRATe", set_rate)
    dev.add("[SOURce:]CLOop1:RRATe?", lambda _: f"{state['rrate']:.2f}")
    dev.add("[SOURce:]CLOop1:PVALue?", lambda _: f"{from_c(ch.update()):.2f}")
    for n in range(1, 8):
        dev.add(f"OUTPut{n}:STATe", functools.partial(set_output, n))
        dev.add(f"OUTPut{n}:STATe?", functools.partial(output_state, n))
    return dev
