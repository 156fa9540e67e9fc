"""The BMS firmware model (SPEC §2-4, §7): what the firmware decides from what it measures.

The pack (``sim.pack.pack``) owns the physics and moves time; at every step boundary it
asks the firmware to ``evaluate`` and, between boundaries, to ``elapse`` its timers. The
firmware never moves time itself: its deadlines (``next_deadline``) make the pack split
its steps, so a 15.75 s trip happens at 15.75 s. The public methods (the mixin in
``sim.pack.bms_api``) implement ``BmsFirmwareApi``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

from common.models import CELLS_IN_SERIES
from sim.pack.bms_api import BmsApi
from sim.pack.debounce import EPS, Debounce
from sim.pack.derating import Derating
from sim.pack.eventlog import EventLog
from sim.pack.interface import (
    LEDS,
    BmsSnapshot,
    LogEvent,
)
from sim.pack.leds import Blinks, Display
from sim.unit import UnitDescription

if TYPE_CHECKING:
    from sim.pack.pack import SimPack

#: Protections that open the charge MOSFET, the discharge MOSFET, or both.
CHARGE_SIDE = frozenset({"cell_ov", "pack_ov", "chg_ot", "chg_ut"})
DISCHARGE_SIDE = frozenset({"cell_uv", "pack_uv", "dsg_ot", "dsg_ut"})
BOTH_SIDES = frozenset({"board_ot", "in1", "short", "oc_latched"})
CHARGE_BLOCKERS = CHARGE_SIDE | BOTH_SIDES
DISCHARGE_BLOCKERS = DISCHARGE_SIDE | BOTH_SIDES


@dataclass(frozen=True)
class Limits:
    """The active parameter set and the firmware constants in SI units, with real timing."""

    cell_ov_alarm: float
    cell_ov_prot: float
    cell_ov_rel: float
    cell_uv_alarm: float
    cell_uv_prot: float
    cell_uv_rel: float
    pack_ov_alarm: float
    pack_ov_prot: float
    pack_ov_rel: float
    pack_uv_alarm: float
    pack_uv_prot: float
    pack_uv_rel: float
    chg_ot: tuple[float, float, float]
    chg_ut: tuple[float, float, float]
    dsg_ot: tuple[float, float, float]
    dsg_ut: tuple[float, float, float]
    tier1_a: float
    tier2_a: float
    fast_a: float
    volt_delay: float
    temp_delay: float
    alarm_delay: float
    tier_delays: tuple[float, float, float, float]   # tier1, tier2, fast, short
    release: float
    soc_low_on: float
    soc_low_off: float
    heater_on: float
    heater_off: float
    ccl_max: float
    dcl_max: float

    @classmethod
    def build(cls, p: dict[str, int], unit: UnitDescription) -> Limits:
        tm, fw = unit.timing, unit.firmware
        g = tm.clock_gain

        def trio(prefix: str) -> tuple[float, float, float]:
            return (p[f"{prefix}_alarm_dc"] / 10, p[f"{prefix}_prot_dc"] / 10, p[f"{prefix}_rel_dc"] / 10)

        return cls(
            p["cell_ov_alarm_mv"] / 1000, p["cell_ov_prot_mv"] / 1000, p["cell_ov_rel_mv"] / 1000,
            p["cell_uv_alarm_mv"] / 1000, p["cell_uv_prot_mv"] / 1000, p["cell_uv_rel_mv"] / 1000,
            p["pack_ov_alarm_mv"] / 1000, p["pack_ov_prot_mv"] / 1000, p["pack_ov_rel_mv"] / 1000,
            p["pack_uv_alarm_mv"] / 1000, p["pack_uv_prot_mv"] / 1000, p["pack_uv_rel_mv"] / 1000,
            trio("chg_ot"), trio("chg_ut"), trio("dsg_ot"), trio("dsg_ut"),
            float(p["oc_tier1_a"]), float(p["oc_tier2_a"]), float(p["oc_fast_a"]),
            p["volt_prot_delay_ms"] / 1000 * tm.volt_delay_scale * g,
            fw.temp_delay_s * tm.temp_delay_scale * g,
            fw.alarm_delay_s * tm.alarm_delay_scale * g,
            (
                p["oc_tier1_ms"] / 1000 * tm.oc_tier1_scale * g,
                p["oc_tier2_ms"] / 1000 * tm.oc_tier2_scale * g,
                p["oc_fast_ms"] / 1000 * tm.oc_fast_scale * g,
                fw.short_circuit_us * 1e-6 * tm.short_scale * g,
            ),
            p["oc_release_ms"] / 1000 * tm.release_scale * g,
            float(p["soc_low_on_pct"]), float(p["soc_low_off_pct"]),
            p["heater_on_dc"] / 10, p["heater_off_dc"] / 10,
            p["ccl_max_da"] / 10, p["dcl_max_da"] / 10,
        )


class _Direction:
    """Over-current state of one direction (charge or discharge)."""

    def __init__(self, name: str) -> None:
        self.name = name                       # "chg" | "dsg"
        self.tiers = [Debounce(f"{name}_oc{k}", 0.0) for k in (1, 2, 3)]  # tier1, tier2, fast
        self.reset = Debounce(f"{name}_oc_reset", 0.0)
        self.alarm = Debounce(f"{name}_oc", 0.0)
        self.tripped_until: float | None = None
        self.both_open = False                 # a fast trip opens both MOSFETs


@dataclass
class Measured:
    """The firmware's noiseless readings at one boundary."""

    cells: np.ndarray
    vmax: float
    vmin: float
    pack: float
    current: float
    temps: tuple[float, ...]
    tmax: float
    tmin: float
    tboard: float


class BmsFirmware(BmsApi):
    """Decisions of the BMS; with :class:`BmsApi` it implements ``BmsFirmwareApi``."""

    def __init__(self, pack: SimPack) -> None:
        self._pack = pack
        unit = pack.unit
        self._unit = unit
        self._fw = unit.firmware
        self._gain = unit.timing.clock_gain
        self._stored = unit.stored_parameters
        self._active = dict(self._stored)
        self.lim = Limits.build(self._active, unit)
        self.blinks = Blinks.from_timing(unit.timing)
        self.state = "off"
        self.log = EventLog()
        self.derating = Derating(unit.firmware.derating, unit.firmware.derating_hyst_c)
        names = ("cell_ov", "cell_uv", "pack_ov", "pack_uv", "chg_ot", "chg_ut", "dsg_ot",
                 "dsg_ut", "board_ot", "in1")
        self.prot = {n: Debounce(n, 0.0) for n in names}
        self.alarm = {n: Debounce(n, 0.0) for n in (*names[:-1], "imbalance")}
        self.dirs = {"chg": _Direction("chg"), "dsg": _Direction("dsg")}
        self.short = Debounce("short", 0.0)
        self.short_until: float | None = None
        self.eoc = Debounce("eoc", self._fw.eoc_time_s * self._gain)
        self.charger = Debounce("charger", self._fw.charger_detect_s * self._gain)
        self._apply_delays()
        self.trips: list[float] = []
        self.latched = False
        # mode, SOC and flags
        self.mode = "standby"
        self._mode_candidate = "standby"
        self._mode_since = 0.0
        full_as = pack.cells.capacity_as.min()
        self.full_as = float(full_as)
        self.soc = float(np.clip(np.mean(pack.cells.soc), 0.0, 1.0))
        self.fully_charged = False
        self.taper = False
        self.force1 = False
        self.force2 = False
        self.no4 = False
        self.last_eoc = -unit.history.days_since_full_charge * 86400.0
        self.discharged_as = 0.0
        self.balancing = np.zeros(CELLS_IN_SERIES, dtype=bool)
        self.heater_auto = False
        self.heater_forced: bool | None = None
        self.charge_limit = 0.0
        self.discharge_limit = 0.0
        # power-on, sleep, LED test
        self.flash_until = -1.0
        self.led_test_start: float | None = None
        self.idle_since = 0.0
        # console test mode
        self.debug_on = False
        self.tmode = False
        self.forced_relays: dict[int, bool] = {}
        self.last_console = 0.0
        self._pack_time_offset = timedelta(0)
        self.last_heartbeat: float | None = None
        self.m: Measured | None = None
        self.protections: frozenset[str] = frozenset()
        self.alarms: frozenset[str] = frozenset()
        self.charge_fet = False
        self.discharge_fet = False
        self.balancing_any = False
        self.charger_present = False
        self._snap: tuple[float, int, BmsSnapshot] | None = None
        self.version = 0

    # ------------------------------------------------------------------ timing helpers
    def _apply_delays(self) -> None:
        lim = self.lim
        for n, d in self.prot.items():
            if n in ("board_ot", "chg_ot", "chg_ut", "dsg_ot", "dsg_ut"):
                d.delay = d.release_delay = lim.temp_delay
            elif n == "in1":
                d.delay = self._fw.in1_delay_s * self._gain
            else:
                d.delay = d.release_delay = lim.volt_delay
        for d in self.alarm.values():
            d.delay = lim.alarm_delay
        for dr in self.dirs.values():
            for d, delay in zip(dr.tiers, lim.tier_delays[:3], strict=True):
                d.delay = delay
            dr.reset.delay = self._fw.oc_reset_s * self._gain
            dr.alarm.delay = lim.alarm_delay
        self.short.delay = lim.tier_delays[3]
        self._level_timers = [*self.prot.values(), *self.alarm.values()]
        level = {id(d) for d in self._level_timers}
        self._other_timers = [d for d in self._all_timers if id(d) not in level]
        self._compute_band()

    def _timers(self) -> list[Debounce]:
        out = [*self.prot.values(), *self.alarm.values(), self.short, self.eoc, self.charger]
        for dr in self.dirs.values():
            out.extend(dr.tiers)
            out.append(dr.reset)
            out.append(dr.alarm)
        return out

    def _live_timers(self) -> list[Debounce]:
        """The timers that may run: the level timers only when not quiet."""
        return self._other_timers if self._quiet else self._all_timers

    def next_deadline(self, t: float) -> float | None:
        """Earliest time at which a timer or a scheduled firmware action is due."""
        best = None
        for d in self._live_timers():
            if d.running:
                when = t + max((d.release_delay if d.active else d.delay) - d.acc, 0.0)
                if best is None or when < best:
                    best = when
        for when in self._scheduled(t):
            if when is not None and when > t - EPS and (best is None or when < best):
                best = when
        return best

    def _scheduled(self, t: float) -> list[float | None]:
        out: list[float | None] = []
        if self.state in ("on", "latched"):
            for dr in self.dirs.values():
                out.append(dr.tripped_until)
            out.append(self.short_until)
            if self.flash_until > t:
                out.append(self.flash_until)
            if self.led_test_start is not None:
                step = self._unit.timing.led_test_step_s * self._gain
                k = int((t - self.led_test_start) / step + EPS) + 1
                out.append(self.led_test_start + k * step)
            if self._mode_candidate != self.mode:
                out.append(self._mode_since + self._fw.mode_delay_s * self._gain)
            if self.state == "on" and self.mode == "standby":
                out.append(self.idle_since + self._fw.sleep_idle_h * 3600.0 * self._gain)
        if self.debug_on or self.tmode:
            out.append(self.last_console + self._fw.test_mode_timeout_s * self._gain)
        return out

    def elapse(self, dt: float, current: float) -> None:
        """Let ``dt`` seconds pass at the true ``current`` (timers and coulomb count)."""
        if dt <= 0:
            return
        for d in self._live_timers():
            if d.running:
                d.acc += dt
        if self.state in ("on", "latched"):
            i = self._pack.sensors.current(current)
            self.soc = min(max(self.soc + i * dt / self.full_as, 0.0), 1.0)
            if i < 0:
                self.discharged_as -= i * dt

    # ------------------------------------------------------------------ measurement
    def measure(self, current: float) -> Measured:
        pack = self._pack
        s = pack.sensors
        true_cells = pack.cells.cell_voltages(current)
        cells = s.cells(true_cells)
        th = pack.thermal
        temps = s.temps(th.t_board, th.t_cells, th.t_mosfet)
        cell_t = temps[1:5]
        return Measured(
            cells, float(cells.max()), float(cells.min()),
            s.pack(pack.cells.emf() + current * pack.cells.r_cells),
            s.current(current), temps, max(cell_t), min(cell_t), max(temps[0], temps[5]),
        )

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, t: float, current: float, probe: float | None) -> None:
        """Judge every condition at time ``t`` with the true ``current`` flowing."""
        self._evaluate(t, current, probe)
        self.refresh()

    def refresh(self) -> None:
        """Recompute the outputs (protection and alarm sets, MOSFETs) from the decisions."""
        if self._quiet:  # no level alarm or protection is active (see _in_band)
            prot: set[str] = set()
            alarms: set[str] = set()
        else:
            prot = {n for n, d in self.prot.items() if d.active}
            alarms = {n for n, d in self.alarm.items() if d.active}
        for dr in self.dirs.values():
            if dr.tripped_until is not None:
                prot.add(f"{dr.name}_oc")
            if dr.alarm.active:
                alarms.add(f"{dr.name}_oc")
        if self.short_until is not None:
            prot.add("short")
        if self.latched:
            prot.add("oc_latched")
        self.protections = frozenset(prot)
        self.alarms = frozenset(alarms)
        on = self.state == "on"
        c, d = self.dirs["chg"], self.dirs["dsg"]
        c_both = c.tripped_until is not None and c.both_open
        d_both = d.tripped_until is not None and d.both_open
        self.charge_fet = on and not (prot & CHARGE_BLOCKERS) and c.tripped_until is None and not d_both
        self.discharge_fet = on and not (prot & DISCHARGE_BLOCKERS) and d.tripped_until is None and not c_both
        self.balancing_any = bool(self.balancing.any())

    def _evaluate(self, t: float, current: float, probe: float | None) -> None:
        self._t = t
        self._current = current
        m = self.measure(current)
        self.m = m
        fw = self._fw
        # charger presence (terminal above pack + 0.3 V for 2 s, or charge current)
        powered = self._pack.powered
        self.charger.judge(powered and probe is not None and probe > fw.charger_current_a,
                           not (probe is not None and probe > fw.charger_current_a))
        charger_present = self.charger.active or m.current > fw.charger_current_a
        self.charger_present = charger_present
        timeout = self.last_console + fw.test_mode_timeout_s * self._gain
        if (self.debug_on or self.tmode) and t + EPS >= timeout:
            self._event(t, "test_mode_timeout")
            self._leave_test_mode()
            self.debug_on = False
        if self.state in ("off", "sleep"):
            if powered and self.charger.active:
                self._event(t, "wake_by_charger")
                self.start(t)
                m = self.measure(current)
                self.m = m
            else:
                return
        if self.led_test_start is not None:
            step = self._unit.timing.led_test_step_s * self._gain
            if t + EPS >= self.led_test_start + len(LEDS) * step:
                self.led_test_start = None
        if not (self._quiet and self._in_band(m)):
            self._judge_protections(t, m)
            self._judge_alarms(t, m)
            self._quiet = not any(d.active or d.running for d in self._level_timers)
        self._judge_current(t, m)
        self._judge_mode(t, m)
        self._judge_soc(t, m, charger_present)
        if self.state == "on" and self.mode == "standby":
            if t + EPS >= self.idle_since + fw.sleep_idle_h * 3600.0 * self._gain:
                self._event(t, "sleep")
                self._to_sleep()
        elif self.mode != "standby":
            self.idle_since = t

    def _compute_band(self) -> None:
        """Where no voltage/temperature alarm or protection can start: while every reading
        is inside and nothing runs, judging them is skipped (the simulator's hot path)."""
        L, fw = self.lim, self._fw
        self._band = (
            min(L.cell_ov_alarm, L.cell_ov_prot), max(L.cell_uv_alarm, L.cell_uv_prot),
            min(L.pack_ov_alarm, L.pack_ov_prot), max(L.pack_uv_alarm, L.pack_uv_prot),
            min(L.chg_ot[0], L.chg_ot[1], L.dsg_ot[0], L.dsg_ot[1]),
            max(L.chg_ut[0], L.chg_ut[1], L.dsg_ut[0], L.dsg_ut[1]),
            min(fw.board_ot_alarm_c, fw.board_ot_prot_c), fw.imbalance_alarm_mv / 1000,
        )
        self._quiet = False

    def _in_band(self, m: Measured) -> bool:
        vh, vl, ph, pl, th, tl, bh, sp = self._band
        return (vl < m.vmin and m.vmax < vh and pl < m.pack < ph and tl < m.tmin
                and m.tmax < th and m.tboard < bh and m.vmax - m.vmin < sp
                and self._pack.in1_volts < self._fw.in1_threshold_v)

    def _judge_protections(self, t: float, m: Measured) -> None:
        L, P = self.lim, self.prot
        self._edge(t, P["cell_ov"], m.vmax >= L.cell_ov_prot, m.vmax <= L.cell_ov_rel, "prot")
        if (self._edge(t, P["cell_uv"], m.vmin <= L.cell_uv_prot, m.vmin >= L.cell_uv_rel, "prot") == 1
                and not self.tmode):
            self.soc = 0.0  # SOC recalibration; not on a protection provoked in test mode
        self._edge(t, P["pack_ov"], m.pack >= L.pack_ov_prot, m.pack <= L.pack_ov_rel, "prot")
        self._edge(t, P["pack_uv"], m.pack <= L.pack_uv_prot, m.pack >= L.pack_uv_rel, "prot")
        self._edge(t, P["chg_ot"], m.tmax >= L.chg_ot[1], m.tmax <= L.chg_ot[2], "prot")
        self._edge(t, P["chg_ut"], m.tmin <= L.chg_ut[1], m.tmin >= L.chg_ut[2], "prot")
        self._edge(t, P["dsg_ot"], m.tmax >= L.dsg_ot[1], m.tmax <= L.dsg_ot[2], "prot")
        self._edge(t, P["dsg_ut"], m.tmin <= L.dsg_ut[1], m.tmin >= L.dsg_ut[2], "prot")
        fw = self._fw
        self._edge(t, P["board_ot"], m.tboard >= fw.board_ot_prot_c, m.tboard <= fw.board_ot_rel_c, "prot")
        in1 = self._unit.contacts.in1 == "normal" and self._pack.in1_volts >= fw.in1_threshold_v
        self._edge(t, P["in1"], in1, not in1, "prot")

    def _judge_alarms(self, t: float, m: Measured) -> None:
        L, A, fw = self.lim, self.alarm, self._fw
        hc, hp, ht = fw.cell_alarm_hyst_mv / 1000, fw.pack_alarm_hyst_mv / 1000, fw.temp_alarm_hyst_c
        self._edge(t, A["cell_ov"], m.vmax >= L.cell_ov_alarm, m.vmax <= L.cell_ov_alarm - hc, "alarm")
        self._edge(t, A["cell_uv"], m.vmin <= L.cell_uv_alarm, m.vmin >= L.cell_uv_alarm + hc, "alarm")
        self._edge(t, A["pack_ov"], m.pack >= L.pack_ov_alarm, m.pack <= L.pack_ov_alarm - hp, "alarm")
        self._edge(t, A["pack_uv"], m.pack <= L.pack_uv_alarm, m.pack >= L.pack_uv_alarm + hp, "alarm")
        self._edge(t, A["chg_ot"], m.tmax >= L.chg_ot[0], m.tmax <= L.chg_ot[0] - ht, "alarm")
        self._edge(t, A["chg_ut"], m.tmin <= L.chg_ut[0], m.tmin >= L.chg_ut[0] + ht, "alarm")
        self._edge(t, A["dsg_ot"], m.tmax >= L.dsg_ot[0], m.tmax <= L.dsg_ot[0] - ht, "alarm")
        self._edge(t, A["dsg_ut"], m.tmin <= L.dsg_ut[0], m.tmin >= L.dsg_ut[0] + ht, "alarm")
        self._edge(t, A["board_ot"], m.tboard >= fw.board_ot_alarm_c,
                   m.tboard <= fw.board_ot_alarm_c - ht, "alarm")
        spread = m.vmax - m.vmin
        self._edge(t, A["imbalance"], spread >= fw.imbalance_alarm_mv / 1000,
                   spread <= fw.imbalance_rel_mv / 1000, "alarm")

    def _judge_current(self, t: float, m: Measured) -> None:
        L = self.lim
        bounds = (L.tier1_a, L.tier2_a, L.fast_a)
        for dr in self.dirs.values():
            i = m.current if dr.name == "chg" else -m.current
            self._edge(t, dr.alarm, i > L.tier1_a, i <= L.tier1_a, "alarm")
            if dr.tripped_until is not None:
                if t + EPS >= dr.tripped_until:
                    dr.tripped_until = None
                    dr.both_open = False
                    self._event(t, f"{dr.name}_oc_release")
                else:
                    for d in dr.tiers:
                        d.running = False
                    continue
            if self.latched:
                continue
            # reset of the tier timers after a while at or below tier 1
            if dr.reset.judge(i <= L.tier1_a, i > L.tier1_a) == 1:
                for d in dr.tiers:
                    d.acc = 0.0
            for k in (2, 1, 0):
                d = dr.tiers[k]
                above = i > bounds[k]
                if above and d.acc + EPS >= d.delay:
                    self._oc_trip(t, dr, k)
                    break
                d.running = above
        short_now = abs(m.current) > self._fw.short_circuit_a
        if self.short_until is not None:
            if t + EPS >= self.short_until:
                self.short_until = None
                self.short.active = False
                self._event(t, "short_release")
            self.short.running = False
        elif not self.latched and self.short.judge(short_now, not short_now) == 1:
            self.short_until = t + L.release
            self.short.active = True
            self._event(t, "short_prot")
            self._count_trip(t)

    def _oc_trip(self, t: float, dr: _Direction, tier: int) -> None:
        dr.tripped_until = t + self.lim.release
        dr.both_open = tier == 2
        for d in dr.tiers:
            d.acc = 0.0
            d.running = False
        self._event(t, f"{dr.name}_oc{'_fast' if tier == 2 else ''}_prot")
        self._count_trip(t)

    def _count_trip(self, t: float) -> None:
        fw = self._fw
        window = fw.oc_latch_window_s * self._gain
        self.trips = [x for x in self.trips if x > t - window - EPS]
        self.trips.append(t)
        if len(self.trips) >= fw.oc_latch_trips:
            self.latched = True
            self.state = "latched"
            for dr in self.dirs.values():
                dr.tripped_until = None
                dr.both_open = False
                for d in dr.tiers:
                    d.clear()
            self.short_until = None
            self.short.clear()
            self._event(t, "oc_latched")

    def _judge_mode(self, t: float, m: Measured) -> None:
        th = self._fw.mode_current_a
        cand = "charging" if m.current > th else "discharging" if m.current < -th else "standby"
        if cand != self._mode_candidate:
            self._mode_candidate = cand
            self._mode_since = t
        if cand != self.mode and t + EPS >= self._mode_since + self._fw.mode_delay_s * self._gain:
            self.mode = cand
            if cand == "standby":
                self.idle_since = t

    def _judge_soc(self, t: float, m: Measured, charger_present: bool) -> None:
        fw, L = self._fw, self.lim
        vmax_mv = round(m.vmax * 1000)
        if self.eoc.judge(vmax_mv >= fw.eoc_cell_mv and abs(m.current) < fw.eoc_current_a,
                          vmax_mv < fw.eoc_clear_mv) == 1:
            self.soc = 1.0
            self.fully_charged = True
            self.last_eoc = t
            self._event(t, "end_of_charge")
        if self.fully_charged and vmax_mv < fw.eoc_clear_mv:
            self.fully_charged = False
            self.eoc.clear()
        if vmax_mv >= fw.taper_cell_mv:
            self.taper = True
        elif vmax_mv < fw.taper_clear_mv:
            self.taper = False
        soc = self.soc * 100.0
        if soc <= fw.force_charge1_on_pct:
            self.force1 = True
        elif soc >= fw.force_charge1_off_pct:
            self.force1 = False
        if soc <= fw.force_charge2_on_pct:
            self.force2 = True
        elif soc >= fw.force_charge2_off_pct:
            self.force2 = False
        if soc <= L.soc_low_on:
            self.no4 = True
        elif soc >= L.soc_low_off:
            self.no4 = False
        # balancing
        spread = m.vmax - m.vmin
        was = self.balancing_any
        if was and spread < fw.balance_stop_spread_mv / 1000:
            self.balancing = np.zeros(CELLS_IN_SERIES, dtype=bool)
        elif was or (spread >= fw.balance_start_spread_mv / 1000
                     and m.vmax >= fw.balance_start_mv / 1000):
            self.balancing = m.cells > m.vmin + fw.balance_stop_spread_mv / 1000
        # heater
        if (charger_present and self._unit.heater.fitted and m.tmin < L.heater_on
                and m.tmin > fw.heater_min_c):
            self.heater_auto = True
        elif not charger_present or m.tmin >= L.heater_off or m.tmin <= fw.heater_min_c:
            self.heater_auto = False
        # advertised limits
        chg, dsg = self.derating.update(m.tmin, m.tmax)
        chg = min(chg, L.ccl_max)
        dsg = min(dsg, L.dcl_max)
        if self.taper:
            chg = min(chg, fw.taper_limit_a)
        if not self.charge_fet or self.fully_charged:
            chg = 0.0
        if not self.discharge_fet:
            dsg = 0.0
        self.charge_limit, self.discharge_limit = chg, dsg

    def _edge(self, t: float, d: Debounce, set_cond: bool, release_cond: bool, kind: str) -> int:
        r = d.judge(set_cond, release_cond)
        if r:
            self._event(t, f"{d.name}_{kind}" if r == 1 else f"{d.name}_{kind}_end")
        return r

    # ------------------------------------------------------------------ state changes
    def start(self, t: float) -> None:
        """Power-on sequence: LEDs all on, MOSFETs close unless a protection holds them."""
        self.state = "on"
        self.latched = False
        self.trips = []
        self.flash_until = t + self._unit.timing.power_on_flash_s * self._gain
        self.idle_since = t
        self.mode = self._mode_candidate = "standby"
        self._mode_since = t
        self._reset_judgement()
        self._event(t, "power_on")

    def _reset_judgement(self) -> None:
        self._quiet = False
        for d in self._all_timers:
            d.clear()
        for dr in self.dirs.values():
            dr.tripped_until = None
            dr.both_open = False
        self.short_until = None
        self.derating.reset()
        self.balancing[:] = False
        self.heater_auto = False

    def shut_down(self, t: float, code: str = "shutdown") -> None:
        if self.state != "off":
            self._event(t, code)
        self.state = "off"
        self.latched = False
        self.flash_until = -1.0
        self.led_test_start = None
        self._reset_judgement()
        self.mode = self._mode_candidate = "standby"

    def power_lost(self, t: float) -> None:
        """POWER off (or the breaker opened): the firmware stops; RAM state is lost."""
        self.shut_down(t, "power_off")
        self._leave_test_mode()
        self.debug_on = False
        self.charger.clear()
        self.charger_present = False

    def _to_sleep(self) -> None:
        self.state = "sleep"
        self._reset_judgement()
        self.flash_until = -1.0

    def sw_released(self, t: float, held: float) -> None:
        fw = self._fw
        if self.state in ("off", "sleep"):
            if held + EPS >= fw.sw_start_s:
                self.start(t)
        elif held + EPS >= fw.sw_shutdown_s:
            self.shut_down(t)
        elif self.state == "on" and held + EPS >= fw.sw_start_s:
            self._event(t, "sleep")
            self._to_sleep()

    # ------------------------------------------------------------------ outputs
    @property
    def heater_on(self) -> bool:
        if self.state not in ("on", "latched"):
            return False
        if self.heater_forced is not None:
            return self.heater_forced
        return self.heater_auto

    def relay_commands(self) -> dict[int, bool]:
        if self.state not in ("on", "latched"):
            return {2: False, 3: False, 4: False}
        cmd = {2: bool(self.alarms), 3: bool(self.protections), 4: self.no4}
        cmd.update(self.forced_relays)
        return cmd

    def display_key(self, t: float) -> tuple[object, ...]:
        """What the LEDs depend on, cheaply comparable (see :meth:`display`)."""
        test_led = None
        if self.led_test_start is not None:
            step = self._unit.timing.led_test_step_s * self._gain
            test_led = int((t - self.led_test_start) / step + EPS)
        return (self.state, t + EPS < self.flash_until, test_led, self.mode,
                bool(self.protections), bool(self.alarms), math.ceil(round(self.soc * 4.0, 8)))

    def display(self, t: float) -> Display:
        test_led = None
        if self.led_test_start is not None and self.state in ("on", "latched"):
            step = self._unit.timing.led_test_step_s * self._gain
            k = int((t - self.led_test_start) / step + EPS)
            test_led = k if 0 <= k < len(LEDS) else None
        return Display(
            self.state, t + EPS < self.flash_until, test_led, self.mode,
            bool(self.protections), bool(self.alarms), self.soc * 100.0,
        )

    def _event(self, t: float, code: str) -> None:
        m = self.m
        if m is None:
            m = self.measure(self._pack._i_cells)
        self.log.add(LogEvent(
            t, code, round(m.pack * 1000), round(m.current * 1000),
            round(m.vmax * 1000), round(m.vmin * 1000), round(m.tmax * 10),
        ))
        self.version += 1

    def _leave_test_mode(self) -> None:
        self.tmode = False
        self._active = dict(self._stored)
        self._params_changed()
        self.forced_relays = {}
        self.heater_forced = None
        self.led_test_start = None

    def _params_changed(self) -> None:
        self.lim = Limits.build(self._active, self._unit)
        self._apply_delays()
        self.version += 1

    # ------------------------------------------------------------------ internal
    @property
    def _all_timers(self) -> list[Debounce]:
        timers = self.__dict__.get("_timer_list")
        if timers is None:
            timers = self._timers()
            self.__dict__["_timer_list"] = timers
        return timers
