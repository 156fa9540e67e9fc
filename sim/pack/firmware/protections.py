"""Voltage, temperature and IN1 protections and alarms (SPEC §2.2-2.4): level conditions.

One debounce each. While every reading is inside the band where none of them can start
and no timer runs, judging is skipped: the simulator's hot path.
"""

from __future__ import annotations

from sim.pack.debounce import Debounce
from sim.pack.firmware.events import Emit, edge
from sim.pack.firmware.io import Readings
from sim.pack.firmware.limits import Limits
from sim.unit import UnitDescription

PROTECTIONS = ("cell_ov", "cell_uv", "pack_ov", "pack_uv", "chg_ot", "chg_ut", "dsg_ot",
               "dsg_ut", "board_ot", "in1")
ALARMS = (*PROTECTIONS[:-1], "imbalance")
_TEMPERATURE = frozenset({"board_ot", "chg_ot", "chg_ut", "dsg_ot", "dsg_ut"})


class LevelConditions:
    """The protections and alarms judged on levels (not the over-current tiers)."""

    def __init__(self, unit: UnitDescription, lim: Limits, emit: Emit) -> None:
        self._fw = unit.firmware
        self._in1_used = unit.contacts.in1 == "normal"
        self._in1_delay = self._fw.in1_delay_s * unit.timing.clock_gain
        self._emit = emit
        self.prot = {n: Debounce(n, 0.0) for n in PROTECTIONS}
        self.alarm = {n: Debounce(n, 0.0) for n in ALARMS}
        self.timers: list[Debounce] = [*self.prot.values(), *self.alarm.values()]
        self.quiet = False
        self.lim = lim
        self._band: tuple[float, ...] = ()
        self.configure(lim)

    def configure(self, lim: Limits) -> None:
        """New limits: new delays and a new quiet band (judging resumes)."""
        self.lim = lim
        for n, d in self.prot.items():
            if n in _TEMPERATURE:
                d.delay = d.release_delay = lim.temp_delay
            elif n == "in1":
                d.delay = self._in1_delay
            else:
                d.delay = d.release_delay = lim.volt_delay
        for d in self.alarm.values():
            d.delay = lim.alarm_delay
        L, fw = lim, self._fw
        self._band = (
            min(L.cell_ov_alarm, L.cell_ov_prot), max(L.cell_uv_alarm, L.cell_uv_prot),
            min(L.pack_ov_alarm, L.pack_ov_prot), max(L.pack_uv_alarm, L.pack_uv_prot),
            min(L.chg_ot[0], L.chg_ot[1], L.dsg_ot[0], L.dsg_ot[1]),
            max(L.chg_ut[0], L.chg_ut[1], L.dsg_ut[0], L.dsg_ut[1]),
            min(fw.board_ot_alarm_c, fw.board_ot_prot_c), fw.imbalance_alarm_mv / 1000,
        )
        self.quiet = False

    def active_protections(self) -> set[str]:
        return set() if self.quiet else {n for n, d in self.prot.items() if d.active}

    def active_alarms(self) -> set[str]:
        return set() if self.quiet else {n for n, d in self.alarm.items() if d.active}

    def judge(self, t: float, m: Readings, in1_v: float) -> bool:
        """Judge every level condition; True when the cell under-voltage protection fired."""
        if self.quiet and self._in_band(m, in1_v):
            return False
        uv_fired = self._judge_protections(t, m, in1_v)
        self._judge_alarms(t, m)
        self.quiet = not any(d.active or d.running for d in self.timers)
        return uv_fired

    def _in_band(self, m: Readings, in1_v: float) -> bool:
        vh, vl, ph, pl, th, tl, bh, sp = self._band
        return (vl < m.vmin and m.vmax < vh and pl < m.pack < ph and tl < m.tmin
                and m.tmax < th and m.tboard < bh and m.vmax - m.vmin < sp
                and in1_v < self._fw.in1_threshold_v)

    def _judge_protections(self, t: float, m: Readings, in1_v: float) -> bool:
        L, P, e = self.lim, self.prot, self._emit
        edge(e, t, P["cell_ov"], m.vmax >= L.cell_ov_prot, m.vmax <= L.cell_ov_rel, "prot")
        uv = edge(e, t, P["cell_uv"], m.vmin <= L.cell_uv_prot, m.vmin >= L.cell_uv_rel, "prot") == 1
        edge(e, t, P["pack_ov"], m.pack >= L.pack_ov_prot, m.pack <= L.pack_ov_rel, "prot")
        edge(e, t, P["pack_uv"], m.pack <= L.pack_uv_prot, m.pack >= L.pack_uv_rel, "prot")
        edge(e, t, P["chg_ot"], m.tmax >= L.chg_ot[1], m.tmax <= L.chg_ot[2], "prot")
        edge(e, t, P["chg_ut"], m.tmin <= L.chg_ut[1], m.tmin >= L.chg_ut[2], "prot")
        edge(e, t, P["dsg_ot"], m.tmax >= L.dsg_ot[1], m.tmax <= L.dsg_ot[2], "prot")
        edge(e, t, P["dsg_ut"], m.tmin <= L.dsg_ut[1], m.tmin >= L.dsg_ut[2], "prot")
        fw = self._fw
        edge(e, t, P["board_ot"], m.tboard >= fw.board_ot_prot_c, m.tboard <= fw.board_ot_rel_c, "prot")
        in1 = self._in1_used and in1_v >= fw.in1_threshold_v
        edge(e, t, P["in1"], in1, not in1, "prot")
        return uv

    def _judge_alarms(self, t: float, m: Readings) -> None:
        L, A, fw, e = self.lim, self.alarm, self._fw, self._emit
        hc, hp, ht = fw.cell_alarm_hyst_mv / 1000, fw.pack_alarm_hyst_mv / 1000, fw.temp_alarm_hyst_c
        edge(e, t, A["cell_ov"], m.vmax >= L.cell_ov_alarm, m.vmax <= L.cell_ov_alarm - hc, "alarm")
        edge(e, t, A["cell_uv"], m.vmin <= L.cell_uv_alarm, m.vmin >= L.cell_uv_alarm + hc, "alarm")
        edge(e, t, A["pack_ov"], m.pack >= L.pack_ov_alarm, m.pack <= L.pack_ov_alarm - hp, "alarm")
        edge(e, t, A["pack_uv"], m.pack <= L.pack_uv_alarm, m.pack >= L.pack_uv_alarm + hp, "alarm")
        edge(e, t, A["chg_ot"], m.tmax >= L.chg_ot[0], m.tmax <= L.chg_ot[0] - ht, "alarm")
        edge(e, t, A["chg_ut"], m.tmin <= L.chg_ut[0], m.tmin >= L.chg_ut[0] + ht, "alarm")
        edge(e, t, A["dsg_ot"], m.tmax >= L.dsg_ot[0], m.tmax <= L.dsg_ot[0] - ht, "alarm")
        edge(e, t, A["dsg_ut"], m.tmin <= L.dsg_ut[0], m.tmin >= L.dsg_ut[0] + ht, "alarm")
        edge(e, t, A["board_ot"], m.tboard >= fw.board_ot_alarm_c,
             m.tboard <= fw.board_ot_alarm_c - ht, "alarm")
        spread = m.vmax - m.vmin
        edge(e, t, A["imbalance"], spread >= fw.imbalance_alarm_mv / 1000,
             spread <= fw.imbalance_rel_mv / 1000, "alarm")
