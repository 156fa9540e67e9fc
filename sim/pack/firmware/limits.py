"""The active parameter set and firmware constants in SI units, with the unit's real timing.

Rebuilt whenever the active set changes (``setthr``, ``clrthr``, leaving test mode).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.unit import UnitDescription


@dataclass(frozen=True)
class Limits:
    """Thresholds (V, °C, A) and delays (s, scaled by the unit's timing and clock gain)."""

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

        off = unit.defects.protection_offsets   # a drifted comparator (a defect), else none
        return cls(
            p["cell_ov_alarm_mv"] / 1000, p["cell_ov_prot_mv"] / 1000 + off.get("cell_ov_prot", 0.0),
            p["cell_ov_rel_mv"] / 1000,
            p["cell_uv_alarm_mv"] / 1000, p["cell_uv_prot_mv"] / 1000 + off.get("cell_uv_prot", 0.0),
            p["cell_uv_rel_mv"] / 1000,
            p["pack_ov_alarm_mv"] / 1000, p["pack_ov_prot_mv"] / 1000 + off.get("pack_ov_prot", 0.0),
            p["pack_ov_rel_mv"] / 1000,
            p["pack_uv_alarm_mv"] / 1000, p["pack_uv_prot_mv"] / 1000 + off.get("pack_uv_prot", 0.0),
            p["pack_uv_rel_mv"] / 1000,
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
