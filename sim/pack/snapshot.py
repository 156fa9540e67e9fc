"""The firmware's report (``BmsSnapshot``): its readings with sensor noise, and its decisions.

Kept apart from the firmware because it changes with what the ports report (the wire
contract), not with what the firmware decides.
"""

from __future__ import annotations

import numpy as np

from common.models import CELLS_IN_SERIES
from sim.pack.firmware import Firmware, Readings
from sim.pack.interface import BmsSnapshot

_ALL_NORMAL = ("normal",) * CELLS_IN_SERIES
_NO_BALANCING = (False,) * CELLS_IN_SERIES
DESIGN_MAH = 100_000


def cell_states(fw: Firmware, m: Readings) -> tuple[str, ...]:
    """Per cell: "above" the OV alarm, "below" the UV alarm, else "normal" (RS485 0x44)."""
    L = fw.lim
    if L.cell_uv_alarm < m.vmin and m.vmax < L.cell_ov_alarm:
        return _ALL_NORMAL
    mc = m.cells
    return tuple(np.where(mc >= L.cell_ov_alarm, "above",
                          np.where(mc <= L.cell_uv_alarm, "below", "normal")).tolist())


def temp_states(fw: Firmware, m: Readings) -> tuple[str, ...]:
    """Board and MOSFET against the board OT alarm; cell groups against the charge OT/UT alarms."""
    L, board_alarm = fw.lim, fw.unit.firmware.board_ot_alarm_c
    out = []
    for k, v in enumerate(m.temps):
        if k in (0, 5):
            out.append("above" if v >= board_alarm else "normal")
        else:
            out.append("above" if v >= L.chg_ot[0] else "below" if v <= L.chg_ut[0] else "normal")
    return tuple(out)


def build_snapshot(t: float, fw: Firmware,
                   noisy: tuple[np.ndarray, float, float, np.ndarray]) -> BmsSnapshot:
    """The snapshot at ``t``; ``noisy`` = the readings with noise (cells, pack, current, temps)."""
    m = fw.readings
    if m is None:
        raise RuntimeError("a snapshot before the firmware's first readings")
    cells, pv, cur, temps = noisy
    g, out = fw.gauge, fw.outputs
    history, fw_cfg = fw.unit.history, fw.unit.firmware
    full_mah = round(g.full_as / 3.6)
    cycles = history.cycles + int(g.discharged_as / 3600.0 / 100.0)
    on = fw.running
    c_states = cell_states(fw, m)
    t_states = temp_states(fw, m)
    return BmsSnapshot(
        t=t,
        state=fw.state,
        cell_mv=tuple(np.rint(cells * 1000.0).astype(int).tolist()),
        temps_dc=tuple(np.rint(temps * 10.0).astype(int).tolist()),
        pack_mv=round(float(pv * 1000)),
        current_ma=round(float(cur * 1000)),
        soc_pct=round(g.soc * 100.0, 3),
        soh_pct=round(min(100.0, g.full_as / 3600.0), 2),
        remaining_mah=round(g.soc * full_mah),
        full_mah=full_mah,
        design_mah=DESIGN_MAH,
        cycles=cycles,
        cumulative_ah=round(history.cumulative_ah + g.discharged_as / 3600.0, 3),
        charge_fet=out.charge_fet,
        discharge_fet=out.discharge_fet,
        mode=fw.mode,
        alarms=fw.alarms,
        protections=fw.protections,
        cell_states=c_states,
        temp_states=t_states,
        charge_limit_da=round(fw.limits.charge * 10) if on else 0,
        discharge_limit_da=round(fw.limits.discharge * 10) if on else 0,
        cvl_mv=fw.params.active["cvl_mv"],
        dvl_mv=fw.params.active["dvl_mv"],
        force_charge_1=g.force1,
        force_charge_2=g.force2,
        full_charge_request=(t - g.last_eoc) >= fw_cfg.full_charge_request_days * 86400.0,
        fully_charged=g.fully_charged,
        balancing=tuple(out.balancing.tolist()) if out.balancing_any else _NO_BALANCING,
        heater_on=out.heater_on,
        test_mode=fw.console.on,
        contacts=dict(out.relays),
    )
