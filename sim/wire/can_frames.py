"""From the BMS's snapshot to the six Pylon CAN frames (SPEC §5): pure functions.

Which alarm or protection sets which bit is decided here, once; docs/protocols.md lists it.
The name frame carries the unit's manufacturer text (``identity.manufacturer``, its first
8 ASCII bytes, DLC = their number); the unit description's per-frame faults (period,
missing, wrong DLC) are applied by the broadcaster with :func:`frame_schedule` and
:func:`with_dlc`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from common import pylon_can as pc
from common.models import MANUFACTURER
from sim.pack.interface import BmsSnapshot

#: The name a snapshot's frames carry when the caller gives none (SPEC §1: PYTES).
MANUFACTURER_CAN_NAME = MANUFACTURER

# condition names of the snapshot -> 0x359 signals
_PROT_BITS: dict[str, tuple[str, ...]] = {
    "ProtOverVoltage": ("cell_ov", "pack_ov"),
    "ProtUnderVoltage": ("cell_uv", "pack_uv"),
    "ProtOverTemperature": ("chg_ot", "dsg_ot", "board_ot"),
    "ProtUnderTemperature": ("chg_ut", "dsg_ut"),
    "ProtDischargeOverCurrent": ("dsg_oc", "short"),
    "ProtChargeOverCurrent": ("chg_oc",),
    "ProtSystemError": ("oc_latched",),
}
_WARN_BITS: dict[str, tuple[str, ...]] = {
    "WarnHighVoltage": ("cell_ov", "pack_ov"),
    "WarnLowVoltage": ("cell_uv", "pack_uv"),
    "WarnHighTemperature": ("chg_ot", "dsg_ot", "board_ot"),
    "WarnLowTemperature": ("chg_ut", "dsg_ut"),
    "WarnDischargeHighCurrent": ("dsg_oc",),
    "WarnChargeHighCurrent": ("chg_oc",),
}


def highest_cell_temp_dc(s: BmsSnapshot) -> int:
    """The highest of the four cell-group sensors (board and MOSFET excluded)."""
    groups = s.temps_dc[1:5] or s.temps_dc
    return max(groups)


def frame_signals(s: BmsSnapshot, module_count: int = 1,
                  name: str = MANUFACTURER_CAN_NAME) -> dict[int, dict[str, float]]:
    """Physical signal values of each BMS frame, keyed by CAN ID (the name frame: one
    ``CharN`` per byte of ``name``, at most 8)."""
    alarms: dict[str, float] = {
        name: int(any(c in s.protections for c in conds)) for name, conds in _PROT_BITS.items()
    }
    alarms |= {
        name: int(any(c in s.alarms for c in conds)) for name, conds in _WARN_BITS.items()
    }
    alarms |= {"WarnInternalCommFail": 0, "ModuleCount": module_count,
               "Letter1": ord("P"), "Letter2": ord("N")}
    text = pc.encode_name(name)
    return {
        pc.LIMITS_ID: {
            "ChargeVoltageLimit": round(s.cvl_mv / 100) / 10,
            "ChargeCurrentLimit": s.charge_limit_da / 10,
            "DischargeCurrentLimit": s.discharge_limit_da / 10,
            "DischargeVoltageLimit": round(s.dvl_mv / 100) / 10,
        },
        pc.SOC_SOH_ID: {"SOC": round(s.soc_pct), "SOH": round(s.soh_pct)},
        pc.MEASUREMENTS_ID: {
            "PackVoltage": round(s.pack_mv / 10) / 100,
            "PackCurrent": round(s.current_ma / 100) / 10,
            "Temperature": highest_cell_temp_dc(s) / 10,
        },
        pc.ALARMS_ID: alarms,
        pc.REQUESTS_ID: {
            "ChargeEnable": int(s.charge_fet), "DischargeEnable": int(s.discharge_fet),
            "ForceCharge1": int(s.force_charge_1), "ForceCharge2": int(s.force_charge_2),
            "FullChargeRequest": int(s.full_charge_request), "Reserved": 0,
        },
        pc.NAME_ID: {f"Char{i}": b for i, b in enumerate(text)},
    }


def encode_frames(s: BmsSnapshot, module_count: int = 1,
                  memo: dict[int, tuple[dict[str, float], bytes]] | None = None,
                  *, name: str = MANUFACTURER_CAN_NAME,
                  ids: Iterable[int] = pc.BMS_FRAME_IDS) -> list[tuple[int, bytes]]:
    """(CAN ID, data) of the frames ``ids`` (default all six) in sending order. ``memo`` (one
    per sender) reuses the bytes of a frame whose signals did not change since the last
    call: most of them."""
    signals = frame_signals(s, module_count, name)
    out = []
    for fid in ids:
        sig = signals[fid]
        last = memo.get(fid) if memo is not None else None
        if last is not None and last[0] == sig:
            data = last[1]
        else:
            data = pc.encode_name(name) if fid == pc.NAME_ID else pc.encode(fid, sig)
            if memo is not None:
                memo[fid] = (sig, data)
        out.append((fid, data))
    return out


def with_dlc(data: bytes, dlc: int | None) -> bytes:
    """``data`` sent with a wrong DLC: cut to ``dlc`` bytes, or padded with 0x00 up to it
    (None: as it is)."""
    if dlc is None:
        return data
    return data[:dlc].ljust(dlc, b"\0")


def frame_schedule(unit: Any) -> tuple[list[tuple[float, tuple[int, ...]]], dict[int, int]]:
    """From a unit description (None: SPEC defaults): the send groups as (period s, IDs in
    sending order), frames of one period sharing one timer, and the DLC faults by ID.
    A frame's period is ``comms.can_frames.<name>.period_s`` × ``timing.clock_gain`` (the
    firmware's clock runs every timer); a ``missing`` frame is in no group."""
    if unit is None:
        return [(pc.PERIOD_S, pc.BMS_FRAME_IDS)], {}
    gain = unit.timing.clock_gain
    groups: dict[float, list[int]] = {}
    dlc: dict[int, int] = {}
    for name, fid in pc.FRAME_NAMES.items():
        cfg = getattr(unit.comms.can_frames, name)
        if cfg.dlc is not None:
            dlc[fid] = cfg.dlc
        if not cfg.missing:
            groups.setdefault(cfg.period_s * gain, []).append(fid)
    return [(period, tuple(ids)) for period, ids in groups.items()], dlc
