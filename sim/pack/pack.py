"""The simulated pack: cells, heat, terminals, buttons, contacts and LEDs around the firmware.

The pack is the physics and the host of the firmware: at each step boundary it measures
(``Sensors.readings``), hands the readings and inputs to the firmware's decision machine
(``sim.pack.firmware``) and applies the outputs it returns (MOSFETs, heater, balancing,
relays, LEDs). The firmware holds no reference back to the pack.

Lazy and event-driven: every public method first brings the model up to
``clock.now()``. Under current the step is at most 1 s; idle time is crossed in long
steps (thermal and polarisation relax analytically); firmware deadlines split steps, so
a trip lands at its exact instant. What happened is kept as timelines (current, LEDs,
MOSFETs, contacts) so instruments can ask about any recent interval exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

from common.clock import VirtualClock
from common.models import get_model
from sim.pack.bms_api import BmsApi
from sim.pack.cells import CellString
from sim.pack.firmware import Firmware, Inputs, Readings
from sim.pack.history import field_events
from sim.pack.interface import LEDS, Identity, TerminalNetwork, TerminalView
from sim.pack.leds import program
from sim.pack.sensors import Sensors
from sim.pack.thermal import Thermal
from sim.pack.timeline import LedTimeline, Timeline
from sim.unit import UnitDescription

#: Step limits (s): under current, while polarisation relaxes, and idle.
STEP_LOADED = 1.0
#: ... while only a prepared sample's tap source drives one cell (no terminal current).
STEP_TAPPING = 10.0
STEP_RELAXING = 2.0
STEP_IDLE_MAX = 600.0
#: Largest temperature change allowed in one idle step (K).
STEP_MAX_DK = 0.1

DEFAULT_AMBIENT_C = 25.0

T = TypeVar("T")


def _finite(value: object, what: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    """``value`` as a float, or a ValueError naming ``what`` and the allowed range."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise ValueError(f"{what} must be finite and within [{lo:g}, {hi:g}], got {value!r}")
    return x


class SimPack:
    """One simulated V-series pack. Implements :class:`sim.pack.interface.SimPackApi`."""

    def __init__(self, unit: UnitDescription, clock: VirtualClock, *, seed: int = 0) -> None:
        self.unit = unit
        self.clock = clock
        self.model = get_model(unit.model)
        with clock.lock:
            t = clock.now()
            self._t = t
            self._version = 0
            self.cells = CellString(unit)
            self.thermal = Thermal(unit.thermal, DEFAULT_AMBIENT_C)
            self.sensors = Sensors(unit, seed)
            self._network: TerminalNetwork | None = None
            self._i = 0.0          # at the terminals (what instruments see), + = charge
            self._i_cells = 0.0    # through the cells and the BMS shunt (heater included)
            self._probe: float | None = None
            self._tap: tuple[int, Callable[[float, float], float]] | None = None
            self._hold = False
            self.power_button = False
            self.breaker_closed = unit.breaker.closed_at_start or unit.breaker.welded
            self.in1_volts = 0.0
            self._sw_pressed_at: float | None = None
            self.r_path = (unit.path.r_mosfet_mohm + unit.path.r_busbar_mohm) * 1e-3
            self.r_mosfet = unit.path.r_mosfet_mohm * 1e-3
            h = unit.history
            learned = h.learned_capacity_ah
            self.firmware = Firmware(
                unit, full_capacity_as=(float(self.cells.capacity_as.min()) if learned is None
                                        else learned * 3600.0),
                initial_soc=(float(np.clip(np.mean(self.cells.soc), 0.0, 1.0))
                             if h.bms_soc_pct is None else h.bms_soc_pct / 100.0),
            )
            self.firmware.log.preload(field_events(h, clock.utcnow(), t), h.counters)
            self.bms = BmsApi(self, self.firmware, self.sensors)
            self.identity = self._identity()
            self._current_tl: Timeline[float] = Timeline(t, 0.0)
            self._fet_tl: Timeline[tuple[bool, bool]] = Timeline(t, (False, False))
            self._relay_tl: Timeline[tuple[bool, bool, bool]] = Timeline(t, (False, False, False))
            self._leds = {name: LedTimeline(t) for name in LEDS}
            self._display_key: object = None
            self._zero_steps = 0
            self._settle()

    # ------------------------------------------------------------------ identity
    def _identity(self) -> Identity:
        u = self.unit
        dip = u.dip
        group = dip & 0b111
        baud = u.comms.rs485_baud or (115200 if dip & 0b1000 else 9600)
        return Identity(
            serial=u.identity.serial,
            model_id=u.model,
            device_name=u.identity.device_name or self.model.device_name,
            manufacturer=u.identity.manufacturer,
            fw_main=u.identity.fw_main,
            fw_boot=u.identity.fw_boot,
            fw_bms_board=u.identity.fw_bms_board,
            dip=dip,
            address=0x02 + 0x10 * group,
            rs485_baud=baud,
            can_bitrate=u.comms.can_bitrate,
            console_baud=u.comms.console_baud,
        )

    # ------------------------------------------------------------------ integration
    @property
    def powered(self) -> bool:
        """The BMS has supply: POWER on and (on an α Plus) the breaker closed."""
        return self.power_button and (self.breaker_closed or not self.unit.breaker.fitted)

    @property
    def running_since(self) -> float | None:
        """When the BMS last started (power-on or wake), while it runs ("on" or "latched");
        None while it is off or asleep. The link ports need a running BMS (sim.wire.link)."""
        with self.clock.lock:
            self._sync()
            fw = self.firmware
            return fw.started_at if fw.running else None

    @property
    def version(self) -> int:
        """Bumped whenever an input changes (cached snapshots are per time and version)."""
        return self._version

    def at_now(self, fn: Callable[[float], T]) -> T:
        """Under ``clock.lock``: bring the pack to now, then ``fn(t)`` at the pack's time
        (for the BMS face, ``sim.pack.bms_api``)."""
        with self.clock.lock:
            self._sync()
            return fn(self._t)

    def command(self, fn: Callable[[float], T]) -> T:
        """As :meth:`at_now` for a call that changes the firmware: afterwards (unless ``fn``
        raised) the firmware re-judges and the pack applies its outputs."""
        with self.clock.lock:
            self._sync()
            result = fn(self._t)
            self._changed()
            return result

    def _sync(self) -> None:
        """Bring the model up to the clock's now (caller holds ``clock.lock``)."""
        target = self.clock.now()
        if target > self._t:
            self._advance(target)

    def _advance(self, target: float) -> None:
        while self._t < target:
            self._step(self._step_end(target))

    def _advance_boundaries(self, target: float) -> None:
        """Take the steps the pack takes by itself up to ``target``, none ending later:
        its own step boundaries only (the step cap, the firmware's deadlines)."""
        while True:
            zero_steps = self._zero_steps
            end = self._step_end(float("inf"))
            if end > target:   # not taken: as if this step had not been looked at
                self._zero_steps = zero_steps
                return
            self._step(end)

    def _step_end(self, target: float) -> float:
        """Where the step from the pack's time ends: at ``target``, its step cap or the
        firmware's next deadline, whichever is first (a deadline that does not move is
        stepped over after a few zero steps)."""
        t = self._t
        end = t + min(target - t, self._step_cap())
        deadline = self.firmware.next_deadline(t)
        if deadline is not None and deadline < end:
            end = max(deadline, t)
        if end <= t:
            self._zero_steps += 1
            if self._zero_steps > 5:  # a deadline that does not move: step over it
                return min(target, t + 1e-6)
        else:
            self._zero_steps = 0
        return end

    def _step(self, end: float) -> None:
        dt = end - self._t
        if dt > 0.0:
            self._physics(dt)
            self.firmware.elapse(dt, self.sensors.current(self._i_cells))
        self._t = end
        self._settle()

    def _step_cap(self) -> float:
        if self._i_cells != 0.0 or self.firmware.outputs.balancing_any:
            return STEP_LOADED
        if self.cells.tapping:
            return STEP_TAPPING
        if not self.cells.rc_settled():
            return STEP_RELAXING
        rate = self.thermal.rate(self._heater_power(), 0.0)
        if rate <= 0.0:
            return STEP_IDLE_MAX
        return min(STEP_IDLE_MAX, max(STEP_LOADED, STEP_MAX_DK / rate))

    def _heater_power(self) -> float:
        """What the element dissipates: nothing when it is not fitted or open (the
        firmware's command, and what the console reports, stay as they are)."""
        h = self.unit.heater
        if not h.fitted or h.open_element:
            return 0.0
        return h.power_w if self.firmware.outputs.heater_on else 0.0

    def _heater_current(self) -> float:
        """The heater hangs on the cell side of the MOSFETs, behind the BMS shunt: it draws
        from the cells, and a charger's current (when the charge MOSFET lets it in) covers
        it, so the cells see the terminal current less the heater's."""
        p = self._heater_power()
        return p / max(self.cells.emf(), 1.0) if p else 0.0

    def _physics(self, dt: float) -> None:
        i = self._i_cells
        cells = self.cells
        out = self.firmware.outputs
        if out.balancing_any and not self.unit.defects.balancing_dead:
            cells.bleed_a = out.balancing * (self.unit.firmware.balance_current_ma / 1000.0)
            cells.bleeding = True
        elif cells.bleeding:
            cells.bleed_a = cells.bleed_a * 0.0
            cells.bleeding = False
        p_cells = i * i * (cells.r_cells + self.unit.path.r_busbar_mohm * 1e-3)
        if i != 0.0:
            p_cells += abs(i * cells.v_rc_sum)
        p_cells += self._heater_power()
        p_board = i * i * self.r_mosfet
        cells.step(i, dt)
        self.thermal.step(dt, p_cells, p_board)

    def _settle(self) -> None:
        """At a boundary: firmware decisions, current through the network, outputs."""
        fw = self.firmware
        t = self._t
        for _ in range(4):
            before = fw.outputs.power_key
            self._solve_current((before[0], before[1]))
            if fw.evaluate(t, self._inputs()).power_key == before:
                break
        self._record(t)

    def _readings(self) -> Readings:
        i, cells, th = self._i_cells, self.cells, self.thermal
        return self.sensors.readings(cells.cell_voltages(i), cells.emf() + i * cells.r_cells, i,
                                     th.t_board, th.t_cells, th.t_mosfet)

    def _inputs(self) -> Inputs:
        return Inputs(self._readings(), self.powered, self._probe, self.in1_volts)

    def _view(self, charge: bool, discharge: bool, emf_extra: float = 0.0) -> TerminalView:
        return TerminalView(self.cells.emf() + emf_extra, self.cells.r_cells + self.r_path,
                            charge, discharge)

    def _solve_current(self, fets: tuple[bool, bool]) -> None:
        charge, discharge = fets
        defects = self.unit.defects   # a MOSFET that will not conduct, whatever it is told
        charge, discharge = charge and not defects.charge_fet_open, discharge and not defects.discharge_fet_open
        net = self._network
        i = 0.0
        probe = None
        if net is not None and self.powered:
            if self._hold:
                # catching up after an un-synced setting change: the past keeps the
                # current it had, except where the pack itself opened a path
                i = self._i if (self._i > 0 and charge) or (self._i < 0 and discharge) else 0.0
                probe = self._probe
            else:
                if not charge:  # charger detection first: the last call is the real one
                    probe = _finite(net(self._view(True, False, self.unit.firmware.charger_detect_v)),
                                    "the terminal network's current")
                if charge or discharge:
                    i = _finite(net(self._view(charge, discharge)), "the terminal network's current")
                    if (i > 0 and not charge) or (i < 0 and not discharge):
                        i = 0.0
        self._i = i
        self._i_cells = i - self._heater_current()
        self._probe = probe
        if self._tap is not None:
            k, tap = self._tap
            amps = _finite(tap(self.cells.open_voltage(k), float(self.cells.r_ohm[k])), "the tap current")
            self.cells.tap_a[k] = amps
            self.cells.tapping = amps != 0.0

    def _record(self, t: float) -> None:
        fw = self.firmware
        out = fw.outputs
        self._current_tl.set(t, self._i)
        self._fet_tl.set(t, (out.charge_fet, out.discharge_fet))
        cmd = out.relays
        self._relay_tl.set(t, (cmd[2], cmd[3], cmd[4]))
        key = fw.display_key(t)
        if key != self._display_key:
            self._display_key = key
            blinks = fw.display_state.blinks
            for name, pattern in zip(LEDS, program(fw.display(t), blinks), strict=True):
                self._leds[name].set(t, pattern)

    def _changed(self) -> None:
        """An input changed at now: re-judge, re-solve, and invalidate cached snapshots."""
        self._version += 1
        self._settle()

    # ------------------------------------------------------------------ terminals
    def sync(self) -> None:
        """Bring the pack to ``clock.now()`` using the network as it is now.

        An instrument calls this *before* it changes a setting its network reads (and
        :meth:`inputs_changed` after), so the time before the change is integrated
        with the old setting. :meth:`changing` does both.
        """
        with self.clock.lock:
            self._sync()

    @contextmanager
    def changing(self) -> Iterator[None]:
        """``with pack.changing(): load.current = 50`` — sync, change, re-solve."""
        with self.clock.lock:
            self._sync()
            yield
            self._changed()

    def set_tap_network(self, cell: int, network: Callable[[float, float], float] | None) -> None:
        """A source on cell ``cell``'s taps (1..16; a prepared sample): ``network(v_open, r)``
        is the current it pushes into the cell (+ = charge), solved at every step boundary
        like the terminal network; outside the BMS's shunt and MOSFETs. None: disconnected."""
        if not 1 <= cell <= len(self.cells.soc):
            raise ValueError(f"cell {cell}: the pack has cells 1..{len(self.cells.soc)}")
        with self.clock.lock:
            self._sync()
            self._tap = None if network is None else (cell - 1, network)
            self.cells.tap_a = self.cells.tap_a * 0.0
            self.cells.tapping = False
            self._changed()

    def set_network(self, network: TerminalNetwork | None) -> None:
        with self.clock.lock:
            self._sync()
            self._network = network
            self._changed()

    def inputs_changed(self) -> None:
        with self.clock.lock:
            if self._network is not None and self.clock.now() > self._t and self._unsynced_change():
                # the instrument changed its setting without sync(): assume it changed
                # now, and integrate the time before with the current as it was
                self._hold = True
                try:
                    self._sync()
                finally:
                    self._hold = False
            else:
                self._sync()
            self._changed()

    def _unsynced_change(self) -> bool:
        """Would the network answer differently now, at the pack's last state?"""
        out = self.firmware.outputs
        charge, discharge = out.charge_fet, out.discharge_fet
        if not self.powered or not (charge or discharge):
            return False
        i = float(self._network(self._view(charge, discharge)))  # type: ignore[misc]
        if (i > 0 and not charge) or (i < 0 and not discharge):
            i = 0.0
        return i != self._i

    def terminal_voltage(self) -> float:
        with self.clock.lock:
            self._sync()
            out = self.firmware.outputs
            if not self.powered or not (out.charge_fet or out.discharge_fet):
                return 0.0
            return self.cells.emf() + self._i_cells * (self.cells.r_cells + self.r_path)

    def current(self) -> float:
        with self.clock.lock:
            self._sync()
            return self._i

    def current_observed(self) -> float:
        """The terminal current now, as a meter's reading sees it, without making now a step
        boundary: the model solves the current at its boundaries and holds it between them,
        so the pack is taken only through its own boundaries up to now. A scan's readings
        (the DAQ's shunt, every 10 ms) then leave the pack's steps as they would be unwatched."""
        with self.clock.lock:
            t = self._t
            self._advance_boundaries(self.clock.now())
            if self._t != t:
                self._version += 1
            return self._i

    def cell_current(self) -> float:
        """True current through the cells and the BMS shunt, A: the terminal current less
        what a heater fed by the cells draws."""
        with self.clock.lock:
            self._sync()
            return self._i_cells

    def current_history(self, t0: float, t1: float) -> list[tuple[float, float]]:
        with self.clock.lock:
            self._sync()
            if t1 < t0:
                raise ValueError(f"current_history: t1 ({t1}) is before t0 ({t0})")
            return self._current_tl.changes(t0, min(t1, self._t))

    def fet_history(self, t0: float, t1: float) -> list[tuple[float, tuple[bool, bool]]]:
        """(t, (charge, discharge)) change points of the MOSFETs in [t0, t1]."""
        with self.clock.lock:
            self._sync()
            return self._fet_tl.changes(t0, min(t1, self._t))

    # ------------------------------------------------------------------ environment
    def set_ambient(self, temp_c: float) -> None:
        with self.clock.lock:
            self._sync()
            self.thermal.ambient = _finite(temp_c, "ambient temperature", -80.0, 200.0)
            self._changed()

    def ambient(self) -> float:
        with self.clock.lock:
            return self.thermal.ambient

    def cell_temperature(self) -> float:
        with self.clock.lock:
            self._sync()
            return self.thermal.t_cells

    def board_temperature(self) -> float:
        with self.clock.lock:
            self._sync()
            return self.thermal.t_board

    def set_temperatures(self, cells_c: float, board_c: float | None = None) -> None:
        """Place the pack as if soaked at ``cells_c`` (tests and benchmarks; no chamber)."""
        with self.clock.lock:
            self._sync()
            self.thermal.t_cells = _finite(cells_c, "cell temperature", -80.0, 200.0)
            self.thermal.t_board = _finite(cells_c if board_c is None else board_c,
                                           "board temperature", -80.0, 200.0)
            self._changed()

    def true_soc(self) -> list[float]:
        """True state of charge of each cell, % (not what the BMS believes)."""
        with self.clock.lock:
            self._sync()
            return [float(x) * 100.0 for x in self.cells.soc]

    # ------------------------------------------------------------------ buttons, IN1
    def set_power_button(self, on: bool) -> None:
        with self.clock.lock:
            self._sync()
            was = self.powered
            self.power_button = bool(on)
            if was and not self.powered:
                self.firmware.power_lost(self._t)
            self._changed()

    def set_breaker(self, closed: bool) -> None:
        with self.clock.lock:
            self._sync()
            if not self.unit.breaker.fitted or self.unit.breaker.welded:
                return   # no breaker, or welded contacts: the actuator moves nothing
            was = self.powered
            self.breaker_closed = bool(closed)
            if was and not self.powered:
                self.firmware.power_lost(self._t)
            self._changed()

    def set_sw(self, pressed: bool) -> None:
        with self.clock.lock:
            self._sync()
            if pressed:
                if self._sw_pressed_at is None:
                    self._sw_pressed_at = self._t
            elif self._sw_pressed_at is not None:
                held = self._t - self._sw_pressed_at
                self._sw_pressed_at = None
                if self.powered:
                    self.firmware.sw_released(self._t, held)
            self._changed()

    def set_in1(self, volts: float) -> None:
        with self.clock.lock:
            self._sync()
            self.in1_volts = _finite(volts, "IN1 voltage", -100.0, 100.0)
            self._changed()

    # ------------------------------------------------------------------ outputs
    def contact_closed(self, n: int) -> bool:
        if n not in (2, 3, 4):
            raise ValueError(f"contact {n}: the pack has NO2, NO3 and NO4 only")
        with self.clock.lock:
            self._sync()
            return self._physical_contacts(self._relay_tl.last)[n]

    def contact_history(self, n: int, t0: float, t1: float) -> list[tuple[float, bool]]:
        """(t, closed) change points of contact NO``n`` in [t0, t1], wiring faults included."""
        with self.clock.lock:
            self._sync()
            out: list[tuple[float, bool]] = []
            for t, cmd in self._relay_tl.changes(t0, min(t1, self._t)):
                v = self._physical_contacts(cmd)[n]
                if not out or out[-1][1] != v:
                    out.append((t, v))
            return out

    def _physical_contacts(self, cmd: tuple[bool, bool, bool]) -> dict[int, bool]:
        c = self.unit.contacts
        relay = {2: cmd[0], 3: cmd[1], 4: cmd[2]}
        if c.swap != "none":
            a, b = (int(x) for x in c.swap.split("-"))
            relay[a], relay[b] = relay[b], relay[a]
        out = {}
        for n, wiring in ((2, c.no2), (3, c.no3), (4, c.no4)):
            out[n] = True if wiring == "stuck_closed" else False if wiring == "stuck_open" else relay[n]
        return out

    def _led(self, led: str) -> LedTimeline:
        try:
            return self._leds[led]
        except KeyError:
            raise ValueError(f"unknown LED {led!r}; LEDs: {', '.join(LEDS)}") from None

    def led_on(self, led: str) -> bool:
        with self.clock.lock:
            self._sync()
            tl = self._led(led)
            if getattr(self.unit.leds, led).dead:
                return False
            return tl.on_at(self._t)

    def led_edges(self, led: str, t0: float, t1: float) -> list[tuple[float, bool]]:
        with self.clock.lock:
            self._sync()
            tl = self._led(led)
            if getattr(self.unit.leds, led).dead:
                return []
            return tl.edges(t0, min(t1, self._t))

    def led_colour(self, led: str) -> tuple[int, int, int]:
        self._led(led)
        return tuple(getattr(self.unit.leds, led).colour)

    def led_intensity(self, led: str) -> float:
        self._led(led)
        cfg = getattr(self.unit.leds, led)
        return 0.0 if cfg.dead else float(cfg.intensity)

    def ground_bond_ohm(self) -> float:
        return self.unit.safety.ground_bond_ohm

    def insulation_ohm(self) -> float:
        return self.unit.safety.insulation_ohm

    @property
    def state(self) -> str:
        with self.clock.lock:
            self._sync()
            return self.firmware.state
