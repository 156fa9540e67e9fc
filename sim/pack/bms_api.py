"""The BMS's public face (``BmsFirmwareApi``): snapshot, parameter set, console test
mode, event log and calendar.

A mixin of :class:`sim.pack.firmware.BmsFirmware`, kept apart because it changes with
the contract of the wire side, not with the firmware's decisions. Every method takes the
clock's lock and first brings the pack up to ``clock.now()``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from common.models import CELLS_IN_SERIES
from common.params import PARAMETER_NAMES, THRESHOLD_GROUPS, order_violation, parameter_crc
from sim.pack.interface import BmsSnapshot, InvalidValue, LogEvent, NotInTestMode

_ALL_NORMAL = ("normal",) * CELLS_IN_SERIES
_NO_BALANCING = (False,) * CELLS_IN_SERIES


class BmsApi:
    """Methods of ``BmsFirmwareApi``; the state they use lives in ``BmsFirmware``."""

    _pack: Any
    _snap: Any

    def snapshot(self) -> BmsSnapshot:
        pack = self._pack
        with pack.clock.lock:
            pack._sync()
            key = (pack._t, pack._version)
            if self._snap is not None and self._snap[:2] == key:
                return self._snap[2]
            snap = self._build_snapshot(pack._t)
            self._snap = (key[0], key[1], snap)
            return snap

    def _build_snapshot(self, t: float) -> BmsSnapshot:
        pack = self._pack
        m = self.m if self.m is not None else self.measure(pack._i_cells)
        s = pack.sensors
        cells, pv, cur, temps = s.noisy(m.cells, m.pack, m.current, m.temps)
        L = self.lim
        mc = m.cells
        if L.cell_uv_alarm < m.vmin and m.vmax < L.cell_ov_alarm:
            cell_states = _ALL_NORMAL
        else:
            cell_states = tuple(np.where(mc >= L.cell_ov_alarm, "above",
                                         np.where(mc <= L.cell_uv_alarm, "below", "normal")).tolist())
        t_states = []
        for k, v in enumerate(m.temps):
            if k in (0, 5):
                t_states.append("above" if v >= self._fw.board_ot_alarm_c else "normal")
            else:
                t_states.append("above" if v >= L.chg_ot[0] else "below" if v <= L.chg_ut[0] else "normal")
        full_mah = round(self.full_as / 3.6)
        design = 100_000
        cycles = self._unit.history.cycles + int(self.discharged_as / 3600.0 / 100.0)
        on = self.state in ("on", "latched")
        return BmsSnapshot(
            t=t,
            state=self.state,
            cell_mv=tuple(np.rint(cells * 1000.0).astype(int).tolist()),
            temps_dc=tuple(np.rint(temps * 10.0).astype(int).tolist()),
            pack_mv=round(float(pv * 1000)),
            current_ma=round(float(cur * 1000)),
            soc_pct=round(self.soc * 100.0, 3),
            soh_pct=round(min(100.0, self.full_as / 3600.0), 2),
            remaining_mah=round(self.soc * full_mah),
            full_mah=full_mah,
            design_mah=design,
            cycles=cycles,
            cumulative_ah=round(self._unit.history.cumulative_ah + self.discharged_as / 3600.0, 3),
            charge_fet=self.charge_fet,
            discharge_fet=self.discharge_fet,
            mode=self.mode,
            alarms=self.alarms,
            protections=self.protections,
            cell_states=cell_states,
            temp_states=tuple(t_states),
            charge_limit_da=round(self.charge_limit * 10) if on else 0,
            discharge_limit_da=round(self.discharge_limit * 10) if on else 0,
            cvl_mv=self._active["cvl_mv"],
            dvl_mv=self._active["dvl_mv"],
            force_charge_1=self.force1,
            force_charge_2=self.force2,
            full_charge_request=(t - self.last_eoc) >= self._fw.full_charge_request_days * 86400.0,
            fully_charged=self.fully_charged,
            balancing=tuple(self.balancing.tolist()) if self.balancing_any else _NO_BALANCING,
            heater_on=self.heater_on,
            test_mode=self.tmode,
            contacts=self.relay_commands(),
        )

    # parameter set -------------------------------------------------------------------
    def stored_parameters(self) -> dict[str, int]:
        return dict(self._stored)

    def active_parameters(self) -> dict[str, int]:
        with self._pack.clock.lock:
            self._pack._sync()
            return dict(self._active)

    def crc(self) -> tuple[int, int]:
        with self._pack.clock.lock:
            self._pack._sync()
            return parameter_crc(self._stored), parameter_crc(self._active)

    # console test mode -----------------------------------------------------------------
    def console_activity(self) -> None:
        with self._pack.clock.lock:
            self._pack._sync()
            self.last_console = self._pack._t
            if self.state == "on":
                self.idle_since = self._pack._t

    def login_debug(self) -> None:
        with self._pack.clock.lock:
            self._pack._sync()
            self.debug_on = True
            self.last_console = self._pack._t
            self._pack._changed()

    def logout(self) -> None:
        with self._pack.clock.lock:
            self._pack._sync()
            self._leave_test_mode()
            self.debug_on = False
            self._pack._changed()

    @property
    def debug(self) -> bool:
        with self._pack.clock.lock:
            self._pack._sync()
            return self.debug_on

    def _require(self, tmode: bool = True) -> None:
        self._pack._sync()
        if not self.debug_on:
            raise NotInTestMode("log in first: login debug")
        if tmode and not self.tmode:
            raise NotInTestMode("test mode is off: tmode on")

    def set_test_mode(self, on: bool) -> None:
        with self._pack.clock.lock:
            self._require(tmode=False)
            if on:
                self.tmode = True
                self._event(self._pack._t, "test_mode_on")
            elif self.tmode:
                self._leave_test_mode()
                self._event(self._pack._t, "test_mode_off")
            self._pack._changed()

    def force_relay(self, n: int, on: bool) -> None:
        with self._pack.clock.lock:
            self._require()
            if n not in (2, 3, 4):
                raise InvalidValue(f"relay {n}: only 2, 3, 4")
            self.forced_relays[n] = bool(on)
            self._pack._changed()

    def led_test(self) -> None:
        with self._pack.clock.lock:
            self._require()
            self.led_test_start = self._pack._t
            self._pack._changed()

    def force_heater(self, on: bool) -> None:
        with self._pack.clock.lock:
            self._require()
            self.heater_forced = bool(on)
            self._pack._changed()

    def set_threshold(self, name: str, value: int) -> None:
        with self._pack.clock.lock:
            self._require()
            if name not in PARAMETER_NAMES:
                raise InvalidValue(f"unknown parameter {name!r}")
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidValue(f"{name}: value must be an integer, got {value!r}")
            new = dict(self._active)
            new[name] = value
            for _alarm, prot, rel, _dir in THRESHOLD_GROUPS:
                if name == prot:  # the release follows the protection by the stored hysteresis
                    new[rel] = value - (self._stored[prot] - self._stored[rel])
            problem = order_violation(new)
            if problem is None and not new["oc_tier1_a"] < new["oc_tier2_a"] < new["oc_fast_a"]:
                problem = "oc_tier1_a < oc_tier2_a < oc_fast_a is required"
            if problem is None and value < 0 and not name.endswith("_dc"):
                problem = f"{name} must not be negative"
            if problem:
                raise InvalidValue(f"Invalid value: {problem}")
            self._active = new
            self._params_changed()
            self._pack._changed()

    def clear_thresholds(self) -> None:
        with self._pack.clock.lock:
            self._require()
            self._active = dict(self._stored)
            self._params_changed()
            self._pack._changed()

    # log, statistics, calendar ---------------------------------------------------------
    def events(self) -> list[LogEvent]:
        with self._pack.clock.lock:
            self._pack._sync()
            return self.log.events()

    def clear_events(self) -> None:
        with self._pack.clock.lock:
            self._pack._sync()
            t = self._pack._t
            m = self.measure(self._pack._i_cells)
            self.log.clear(LogEvent(t, "log_cleared", round(m.pack * 1000), round(m.current * 1000),
                                    round(m.vmax * 1000), round(m.vmin * 1000), round(m.tmax * 10)))

    def pack_time(self) -> datetime:
        with self._pack.clock.lock:
            return self._pack.clock.utcnow() + self._pack_time_offset

    def set_pack_time(self, when: datetime) -> None:
        with self._pack.clock.lock:
            if when.tzinfo is None:
                raise ValueError("set_pack_time needs a timezone-aware datetime")
            self._pack_time_offset = when - self._pack.clock.utcnow()

    def event_counts(self) -> dict[str, int]:
        with self._pack.clock.lock:
            self._pack._sync()
            return self.log.counts()

    def inverter_heartbeat(self, t: float) -> None:
        with self._pack.clock.lock:
            self._pack._sync()
            self.last_heartbeat = t
            if self.state == "on":
                self.idle_since = max(self.idle_since, min(t, self._pack._t))
