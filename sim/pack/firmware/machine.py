"""The BMS firmware as a decision machine (SPEC §2-4, §7).

The pack gives it readings and inputs at each step boundary (:meth:`Firmware.evaluate`),
lets time pass between boundaries (:meth:`Firmware.elapse`), and applies the
:class:`Outputs` it returns. The firmware never moves time and knows nothing of the pack:
its deadlines (:meth:`Firmware.next_deadline`) make the pack split its steps, so a
15.75 s trip happens at 15.75 s. This module is the power state machine and the wiring of
the parts; each part (protections, over-current, fuel gauge, test mode, ...) has its own.
"""

from __future__ import annotations

from datetime import timedelta

from sim.pack.debounce import EPS, Debounce
from sim.pack.eventlog import EventLog
from sim.pack.firmware.advertised import AdvertisedLimits
from sim.pack.firmware.balancing import Balancer
from sim.pack.firmware.display import DisplayState
from sim.pack.firmware.heater import HeaterControl
from sim.pack.firmware.io import Inputs, Outputs, Readings
from sim.pack.firmware.limits import Limits
from sim.pack.firmware.lock import SystemLock
from sim.pack.firmware.mode import ModeDetector
from sim.pack.firmware.overcurrent import OverCurrent
from sim.pack.firmware.parameters import ParameterSet
from sim.pack.firmware.protections import LevelConditions
from sim.pack.firmware.soc import FuelGauge
from sim.pack.firmware.testmode import TestMode
from sim.pack.interface import LogEvent
from sim.pack.leds import Display
from sim.unit import UnitDescription

#: Protections that open the charge MOSFET, the discharge MOSFET, or both.
CHARGE_SIDE = frozenset({"cell_ov", "pack_ov", "chg_ot", "chg_ut"})
DISCHARGE_SIDE = frozenset({"cell_uv", "pack_uv", "dsg_ot", "dsg_ut"})
BOTH_SIDES = frozenset({"board_ot", "in1", "short", "oc_latched", "system_lock"})
CHARGE_BLOCKERS = CHARGE_SIDE | BOTH_SIDES
DISCHARGE_BLOCKERS = DISCHARGE_SIDE | BOTH_SIDES
_RUNNING = ("on", "latched")


class Firmware:
    """Decisions of the BMS from what it measures; no reference to the pack."""

    def __init__(self, unit: UnitDescription, *, full_capacity_as: float, initial_soc: float) -> None:
        self.unit = unit
        fw = self._fw = unit.firmware
        g = unit.timing.clock_gain
        self._sleep_after = fw.sleep_idle_h * 3600.0 * g
        self.params = ParameterSet(unit.stored_parameters)
        self.lim = Limits.build(self.params.active, unit)
        self.state = "off"
        self.log = EventLog()
        self.readings: Readings | None = None
        self.levels = LevelConditions(unit, self.lim, self._event)
        self.oc = OverCurrent(unit, self.lim, self._event)
        self.charger = Debounce("charger", fw.charger_detect_s * g)
        self.modes = ModeDetector(unit)
        self.gauge = FuelGauge(unit, full_capacity_as, initial_soc, self._event)
        self.balancer = Balancer(unit)
        self.heater = HeaterControl(unit)
        self.limits = AdvertisedLimits(unit)
        self.display_state = DisplayState(unit)
        self.console = TestMode(unit)
        self.lock = SystemLock(g, fw.system_lock)
        self.idle_since = 0.0
        self.started_at: float | None = None   # the last start (power-on, wake)
        self.last_heartbeat: float | None = None
        self.calendar_offset = timedelta(0)   # the pack's calendar clock = bench clock + this
        self.protections: frozenset[str] = frozenset()
        self.alarms: frozenset[str] = frozenset()
        self.charger_present = False
        self._charge_fet = False
        self._discharge_fet = False
        self._other_timers = [*self.oc.timers, self.gauge.eoc, self.charger, self.lock.timer]
        self._all_timers = [*self.levels.timers, *self._other_timers]
        self.outputs = self._publish()

    # ------------------------------------------------------------------ what others read
    @property
    def mode(self) -> str:
        return self.modes.mode

    @property
    def running(self) -> bool:
        """The firmware runs (it may be latched): relays and heater can be on."""
        return self.state in _RUNNING

    def display_key(self, t: float) -> tuple[object, ...]:
        """What the LEDs depend on at ``t``, cheaply comparable."""
        return self.display_state.key(t, self.state, self.mode, bool(self.protections),
                                      bool(self.alarms), self.gauge.soc)

    def display(self, t: float) -> Display:
        """The display state at ``t`` (``sim.pack.leds.program`` turns it into patterns)."""
        return self.display_state.display(t, self.state, self.mode, bool(self.protections),
                                          bool(self.alarms), self.gauge.soc)

    # ------------------------------------------------------------------ time
    def _live_timers(self) -> list[Debounce]:
        """The timers that may run: the level timers only when not quiet."""
        return self._other_timers if self.levels.quiet else self._all_timers

    def next_deadline(self, t: float) -> float | None:
        """Earliest time at which a timer or a scheduled firmware action is due."""
        best = None
        for d in self._live_timers():
            if d.running:
                when = t + max((d.release_delay if d.active else d.delay) - d.acc, 0.0)
                if best is None or when < best:
                    best = when
        for due in self._scheduled(t):
            if due is not None and due > t - EPS and (best is None or due < best):
                best = due
        return best

    def _scheduled(self, t: float) -> list[float | None]:
        out: list[float | None] = []
        if self.state in _RUNNING:
            out.extend(self.oc.deadlines())
            out.extend(self.display_state.deadlines(t))
            out.append(self.modes.deadline())
            if self.state == "on" and self.mode == "standby":
                out.append(self.idle_since + self._sleep_after)
        if self.console.session:
            out.append(self.console.deadline())
        return out

    def elapse(self, dt: float, current: float) -> None:
        """Let ``dt`` seconds pass at the measured ``current`` (timers and coulomb count)."""
        if dt <= 0:
            return
        for d in self._live_timers():
            if d.running:
                d.acc += dt
        if self.state in _RUNNING:
            self.gauge.count(dt, current)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, t: float, inputs: Inputs) -> Outputs:
        """Judge every condition at time ``t`` on ``inputs``; the outputs to apply."""
        self._evaluate(t, inputs)
        self._refresh()
        return self._published()

    def _evaluate(self, t: float, inputs: Inputs) -> None:
        m = inputs.readings
        self.readings = m
        fw = self._fw
        # charger presence (terminal above pack + 0.3 V for 2 s, or charge current)
        probe = inputs.charger_probe_a
        powered = inputs.powered
        self.charger.judge(powered and probe is not None and probe > fw.charger_current_a,
                           not (probe is not None and probe > fw.charger_current_a))
        charger_present = self.charger.active or m.current > fw.charger_current_a
        self.charger_present = charger_present
        if self.console.session and t + EPS >= self.console.deadline():
            self._event(t, "test_mode_timeout")
            self._leave_test_mode()
            self.console.debug = False
        if self.state in ("off", "sleep"):
            if powered and self.charger.active:
                self._event(t, "wake_by_charger")
                self._start(t)
            else:
                return
        self.display_state.expire(t)
        if self.levels.judge(t, m, inputs.in1_v) and not self.console.on:
            self.gauge.soc = 0.0  # SOC recalibration; not on a protection provoked in test mode
        if self.lock.judge(m):
            self._event(t, "system_lock")
        self.oc.judge(t, m.current)
        if self.oc.latched:
            self.state = "latched"
        if self.modes.judge(t, m.current):
            self.idle_since = t
        self.gauge.judge(t, m, self.lim)
        self.balancer.judge(m)
        self.heater.judge(m, charger_present or self._heater_charger(m), self.lim)
        self.limits.update(m, self.lim, taper=self.gauge.taper, fully_charged=self.gauge.fully_charged,
                           charge_fet=self._charge_fet, discharge_fet=self._discharge_fet)
        if self.state == "on" and self.mode == "standby":
            if t + EPS >= self.idle_since + self._sleep_after:
                self._event(t, "sleep")
                self._to_sleep()
        elif self.mode != "standby":
            self.idle_since = t

    def _refresh(self) -> None:
        """Protection and alarm sets and the MOSFETs from the decisions."""
        prot = self.levels.active_protections()
        alarms = self.levels.active_alarms()
        self.oc.add_conditions(prot, alarms)
        if self.lock.locked:
            prot.add("system_lock")
        self.protections = frozenset(prot)
        self.alarms = frozenset(alarms)
        on = self.state == "on"
        chg_blocked, dsg_blocked = self.oc.blocks()
        self._charge_fet = on and not (prot & CHARGE_BLOCKERS) and not chg_blocked
        self._discharge_fet = on and not (prot & DISCHARGE_BLOCKERS) and not dsg_blocked
        self.balancer.refresh()

    def _published(self) -> Outputs:
        self.outputs = self._publish()
        return self.outputs

    def _publish(self) -> Outputs:
        return Outputs(self._charge_fet, self._discharge_fet, self._heater_on(),
                       self.charger_present, self.balancer.mask, self.balancer.any,
                       self._relays())

    def _heater_charger(self, m: Readings) -> bool:
        """A charger smaller than the heater's draw, seen while the heater runs: the shunt
        reads the charger's current less the element's, so the firmware adds its element's
        nominal draw back (P / pack voltage). Without it the heater would switch off, the
        shunt then see the charger, the heater come on again: a cycle at every step."""
        if not self.heater.auto or m.pack <= 1.0:
            return False
        return m.current + self.unit.heater.power_w / m.pack > self._fw.charger_current_a

    def _heater_on(self) -> bool:
        if self.state not in _RUNNING:
            return False
        if self.console.heater_forced is not None:
            return self.console.heater_forced
        return self.heater.auto

    def _relays(self) -> dict[int, bool]:
        if self.state not in _RUNNING:
            return {2: False, 3: False, 4: False}
        cmd = {2: bool(self.alarms), 3: bool(self.protections), 4: self.gauge.no4}
        cmd.update(self.console.forced_relays)
        return cmd

    # ------------------------------------------------------------------ inputs: buttons, power
    def sw_released(self, t: float, held: float) -> Outputs:
        """SW released after ``held`` seconds (the BMS has supply)."""
        fw = self._fw
        if self.state in ("off", "sleep"):
            if held + EPS >= fw.sw_start_s:
                self._start(t)
        elif held + EPS >= fw.sw_shutdown_s:
            self._shut_down(t)
        elif self.state == "on" and held + EPS >= fw.sw_start_s:
            self._event(t, "sleep")
            self._to_sleep()
        return self._published()

    def power_lost(self, t: float) -> Outputs:
        """POWER off (or the breaker opened): the firmware stops; RAM state is lost."""
        self._shut_down(t, "power_off")
        self._leave_test_mode()
        self.console.debug = False
        self.charger.clear()
        self.charger_present = False
        return self._published()

    def _start(self, t: float) -> None:
        """Power-on sequence: LEDs all on, MOSFETs close unless a protection holds them."""
        self.state = "on"
        self.started_at = t
        self.oc.restart()
        self.display_state.power_on(t)
        self.idle_since = t
        self.modes.restart(t)
        self._reset_judgement()
        self._event(t, "power_on")

    def _reset_judgement(self) -> None:
        self.levels.quiet = False
        for d in self._all_timers:
            d.clear()
        self.oc.reset()
        self.limits.reset()
        self.balancer.reset()
        self.heater.auto = False

    def _shut_down(self, t: float, code: str = "shutdown") -> None:
        if self.state != "off":
            self._event(t, code)
        self.state = "off"
        self.oc.latched = False
        self.display_state.end_flash()
        self.display_state.stop_led_test()
        self._reset_judgement()
        self.modes.restart()

    def _to_sleep(self) -> None:
        self.state = "sleep"
        self._reset_judgement()
        self.display_state.end_flash()

    # ------------------------------------------------------------------ inputs: console, CAN
    def console_input(self, t: float) -> None:
        """Input seen on the console: restarts the test-mode timeout and the sleep timer."""
        self.console.last_input = t
        if self.state == "on":
            self.idle_since = t

    def inverter_heartbeat(self, t: float, now: float) -> None:
        """CAN 0x305 received at ``t`` (the firmware's time is ``now``)."""
        self.last_heartbeat = t
        if self.state == "on":
            self.idle_since = max(self.idle_since, min(t, now))

    def login_debug(self, t: float) -> Outputs:
        self.console.debug = True
        self.console.last_input = t
        return self._published()

    def logout(self) -> Outputs:
        self._leave_test_mode()
        self.console.debug = False
        return self._published()

    def set_test_mode(self, t: float, on: bool) -> Outputs:
        self.console.require(tmode=False)
        if on:
            self.console.on = True
            self._event(t, "test_mode_on")
        elif self.console.on:
            self._leave_test_mode()
            self._event(t, "test_mode_off")
        return self._published()

    def force_relay(self, n: int, on: bool) -> Outputs:
        self.console.force_relay(n, on)
        return self._published()

    def force_heater(self, on: bool) -> Outputs:
        self.console.force_heater(on)
        return self._published()

    def led_test(self, t: float) -> Outputs:
        self.console.require()
        self.display_state.start_led_test(t)
        return self._published()

    def set_threshold(self, name: str, value: int) -> Outputs:
        self.console.require()
        self.params.set_threshold(name, value)
        self._params_changed()
        return self._published()

    def unlock(self, t: float) -> Outputs:
        """``unlock`` (test mode): clears a system lock, the only way to."""
        self.console.require()
        if self.lock.locked:
            self.lock.locked = False
            self._event(t, "system_unlock")
        return self._published()

    def clear_thresholds(self) -> Outputs:
        self.console.require()
        self.params.restore()
        self._params_changed()
        return self._published()

    def clear_log(self, t: float) -> None:
        self.log.clear(self._log_event(t, "log_cleared"))

    def _leave_test_mode(self) -> None:
        self.console.leave()
        self.params.restore()
        self._params_changed()
        self.display_state.stop_led_test()

    def _params_changed(self) -> None:
        self.lim = Limits.build(self.params.active, self.unit)
        self.levels.configure(self.lim)
        self.oc.configure(self.lim)

    # ------------------------------------------------------------------ event log
    def _log_event(self, t: float, code: str) -> LogEvent:
        m = self.readings
        if m is None:
            raise RuntimeError("the firmware logs an event before its first readings")
        return LogEvent(t, code, round(m.pack * 1000), round(m.current * 1000),
                        round(m.vmax * 1000), round(m.vmin * 1000), round(m.tmax * 10),
                        cells_mv=tuple(round(v * 1000) for v in m.cells))

    def _event(self, t: float, code: str) -> None:
        self.log.add(self._log_event(t, code))
