"""The BMS's stored parameter set (SPEC §7): names, order, units, defaults and its CRC.

The simulated BMS and the station both need this table (the firmware stores it; the
station knows the golden CRC of each model), so it is written once, here.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from common.models import get_model


@dataclass(frozen=True)
class ParamDef:
    name: str
    unit: str
    default: int
    description: str


def _p(name: str, unit: str, default: int, description: str) -> ParamDef:
    return ParamDef(name, unit, default, description)


#: The table in its order. ``oc_fast_a``'s default is the model's peak maximum.
PARAMETERS: tuple[ParamDef, ...] = (
    _p("cell_ov_alarm_mv", "mV", 3550, "cell over-voltage alarm"),
    _p("cell_ov_prot_mv", "mV", 3650, "cell over-voltage protection"),
    _p("cell_ov_rel_mv", "mV", 3400, "cell over-voltage release"),
    _p("cell_uv_alarm_mv", "mV", 3000, "cell under-voltage alarm"),
    _p("cell_uv_prot_mv", "mV", 2800, "cell under-voltage protection"),
    _p("cell_uv_rel_mv", "mV", 3100, "cell under-voltage release"),
    _p("pack_ov_alarm_mv", "mV", 57000, "pack over-voltage alarm"),
    _p("pack_ov_prot_mv", "mV", 57600, "pack over-voltage protection"),
    _p("pack_ov_rel_mv", "mV", 54400, "pack over-voltage release"),
    _p("pack_uv_alarm_mv", "mV", 48000, "pack under-voltage alarm"),
    _p("pack_uv_prot_mv", "mV", 47500, "pack under-voltage protection"),
    _p("pack_uv_rel_mv", "mV", 49600, "pack under-voltage release"),
    _p("volt_prot_delay_ms", "ms", 1000, "delay of every voltage protection"),
    _p("oc_tier1_a", "A", 100, "lower bound of the 3-minute over-current tier"),
    _p("oc_tier1_ms", "ms", 189000, "trip time of the 3-minute tier"),
    _p("oc_tier2_a", "A", 120, "lower bound of the 15-second tier"),
    _p("oc_tier2_ms", "ms", 15750, "trip time of the 15-second tier"),
    _p("oc_fast_a", "A", 180, "lower bound of the fast trip (the model's peak maximum)"),
    _p("oc_fast_ms", "ms", 150, "fast-trip time"),
    _p("oc_release_ms", "ms", 30000, "MOSFET reclose time after an over-current trip"),
    _p("chg_ot_alarm_dc", "0.1 °C", 430, "charge over-temperature alarm"),
    _p("chg_ot_prot_dc", "0.1 °C", 450, "charge over-temperature protection"),
    _p("chg_ot_rel_dc", "0.1 °C", 400, "charge over-temperature release"),
    _p("chg_ut_alarm_dc", "0.1 °C", 20, "charge under-temperature alarm"),
    _p("chg_ut_prot_dc", "0.1 °C", 0, "charge under-temperature protection"),
    _p("chg_ut_rel_dc", "0.1 °C", 30, "charge under-temperature release"),
    _p("dsg_ot_alarm_dc", "0.1 °C", 480, "discharge over-temperature alarm"),
    _p("dsg_ot_prot_dc", "0.1 °C", 500, "discharge over-temperature protection"),
    _p("dsg_ot_rel_dc", "0.1 °C", 450, "discharge over-temperature release"),
    _p("dsg_ut_alarm_dc", "0.1 °C", -80, "discharge under-temperature alarm"),
    _p("dsg_ut_prot_dc", "0.1 °C", -100, "discharge under-temperature protection"),
    _p("dsg_ut_rel_dc", "0.1 °C", -70, "discharge under-temperature release"),
    _p("cvl_mv", "mV", 56000, "advertised charge voltage limit"),
    _p("dvl_mv", "mV", 48500, "advertised discharge voltage limit"),
    _p("ccl_max_da", "0.1 A", 1000, "maximum advertised charge current"),
    _p("dcl_max_da", "0.1 A", 1000, "maximum advertised discharge current"),
    _p("soc_low_on_pct", "%", 10, "SOC at which NO4 (generator start) closes"),
    _p("soc_low_off_pct", "%", 20, "SOC at which NO4 opens again"),
    _p("heater_on_dc", "0.1 °C", 50, "lowest cell temperature below which the heater runs"),
    _p("heater_off_dc", "0.1 °C", 100, "temperature at which the heater stops"),
)

PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
_BY_NAME = {p.name: p for p in PARAMETERS}

#: (alarm, protection, release, direction) triples whose order the firmware enforces:
#: "over": release < alarm < protection; "under": protection < alarm < release.
THRESHOLD_GROUPS: tuple[tuple[str, str, str, str], ...] = (
    ("cell_ov_alarm_mv", "cell_ov_prot_mv", "cell_ov_rel_mv", "over"),
    ("cell_uv_alarm_mv", "cell_uv_prot_mv", "cell_uv_rel_mv", "under"),
    ("pack_ov_alarm_mv", "pack_ov_prot_mv", "pack_ov_rel_mv", "over"),
    ("pack_uv_alarm_mv", "pack_uv_prot_mv", "pack_uv_rel_mv", "under"),
    ("chg_ot_alarm_dc", "chg_ot_prot_dc", "chg_ot_rel_dc", "over"),
    ("chg_ut_alarm_dc", "chg_ut_prot_dc", "chg_ut_rel_dc", "under"),
    ("dsg_ot_alarm_dc", "dsg_ot_prot_dc", "dsg_ot_rel_dc", "over"),
    ("dsg_ut_alarm_dc", "dsg_ut_prot_dc", "dsg_ut_rel_dc", "under"),
)


def param_def(name: str) -> ParamDef:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown parameter {name!r}") from None


def default_parameters(model_id: str) -> dict[str, int]:
    """The stored set of a new unit of ``model_id``, in table order."""
    values = {p.name: p.default for p in PARAMETERS}
    values["oc_fast_a"] = int(get_model(model_id).peak_max_a)
    return values


def serialize(values: Mapping[str, int]) -> bytes:
    """``NAME=VALUE\\n`` in table order, as the firmware hashes it."""
    missing = [n for n in PARAMETER_NAMES if n not in values]
    if missing:
        raise KeyError(f"parameter set lacks {', '.join(missing)}")
    return "".join(f"{n}={int(values[n])}\n" for n in PARAMETER_NAMES).encode("ascii")


def parameter_crc(values: Mapping[str, int]) -> int:
    """CRC-32 (zlib) of the serialized table."""
    return zlib.crc32(serialize(values)) & 0xFFFFFFFF


def golden_crc(model_id: str) -> int:
    return parameter_crc(default_parameters(model_id))


def order_violation(values: Mapping[str, int]) -> str | None:
    """Name the broken alarm/protection/release order, or None when every group is ordered."""
    for alarm, prot, rel, direction in THRESHOLD_GROUPS:
        a, p, r = values[alarm], values[prot], values[rel]
        ok = (r < a < p) if direction == "over" else (p < a < r)
        if not ok:
            return f"{alarm}={a}, {prot}={p}, {rel}={r} break the {direction} order"
    if not values["soc_low_on_pct"] < values["soc_low_off_pct"]:
        return "soc_low_on_pct must be below soc_low_off_pct"
    if not values["heater_on_dc"] < values["heater_off_dc"]:
        return "heater_on_dc must be below heater_off_dc"
    return None
