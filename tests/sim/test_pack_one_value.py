"""An off-spec unit differs in one value: that value changes exactly its behaviour."""

from __future__ import annotations

from typing import Any

import pytest

from common.clock import VirtualClock
from common.params import parameter_crc
from sim.pack import SimPack
from sim.pack.networks import ConstantCurrent
from sim.unit import UnitDescription, default_unit, with_change
from tests.sim.conftest import set_current, start


def _pack(unit: UnitDescription) -> tuple[SimPack, ConstantCurrent]:
    pack = SimPack(unit, VirtualClock())
    net = ConstantCurrent(0.0)
    pack.set_network(net)
    start(pack)
    return pack, net


def _trip(unit: UnitDescription, amps: float, horizon: float) -> tuple[float | None, float | None]:
    """(time to trip, time from trip to reclose) with ``amps`` applied."""
    pack, net = _pack(unit)
    t0 = pack.clock.now()
    set_current(pack, net, amps)
    pack.clock.sleep(horizon)
    hist = [(round(t - t0, 6), a) for t, a in pack.current_history(t0, pack.clock.now())]
    trip = next((t for t, a in hist if a == 0.0), None)
    back = next((t for t, a in hist if trip is not None and t > trip and a != 0.0), None)
    return trip, None if back is None or trip is None else round(back - trip, 6)


def fingerprint(unit: UnitDescription) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pack, net = _pack(unit)
    pack.clock.sleep(30)
    v0 = pack.terminal_voltage()
    out["ocv"] = round(v0, 4)
    set_current(pack, net, -50.0)
    pack.clock.sleep(1.0)
    out["r"] = round((v0 - pack.terminal_voltage()) / 50.0, 6)
    out["tier2"], out["release"] = _trip(unit, -150.0, 50.0)
    out["fast"], _ = _trip(unit, -(pack.model.peak_max_a + 20.0), 1.0)
    out["tier1"], _ = _trip(unit, -110.0, 250.0)
    pack, _ = _pack(unit)
    t0 = pack.clock.now()
    pack.clock.sleep(12)
    edges = pack.led_edges("RUN", t0, pack.clock.now())
    out["blink1"] = tuple(round(edges[k + 1][0] - edges[k][0], 6) for k in range(2))
    pack.set_temperatures(45.5)
    t1 = pack.clock.now()
    pack.clock.sleep(5)
    fets = pack.fet_history(t1, pack.clock.now())
    out["temp_delay"] = next((round(t - t1, 6) for t, (c, _d) in fets if not c), None)
    out["contacts"] = tuple(pack.contact_closed(n) for n in (2, 3, 4))
    out["crc"] = parameter_crc(unit.stored_parameters)
    out["identity"] = pack.identity
    return out


BASE = default_unit("v5")


@pytest.fixture(scope="module")
def baseline() -> dict[str, Any]:
    return fingerprint(BASE)


def test_baseline_is_the_spec(baseline: dict[str, Any]) -> None:
    assert baseline["tier2"] == 15.75 and baseline["release"] == 30.0
    assert baseline["fast"] == 0.15 and baseline["tier1"] == 189.0
    assert baseline["blink1"] == (0.3, 3.7)
    assert baseline["temp_delay"] == 2.0
    assert baseline["contacts"] == (True, True, False)
    assert 0.015 <= baseline["r"] <= 0.020


@pytest.mark.parametrize(("key", "value", "changed"), [
    ("parameters.oc_tier2_ms", 16200, {"tier2", "crc"}),
    ("timing.oc_tier2_scale", 1.08, {"tier2"}),
    ("timing.oc_fast_scale", 1.5, {"fast"}),
    ("timing.release_scale", 1.1, {"release"}),
    ("parameters.oc_tier1_ms", 200000, {"tier1", "crc"}),
    ("timing.oc_tier1_scale", 0.9, {"tier1"}),
    ("timing.blink1_on_s", 0.36, {"blink1"}),
    ("timing.temp_delay_scale", 1.5, {"temp_delay"}),
    ("contacts.no3", "stuck_open", {"contacts"}),
    ("identity.fw_main", "2.4.0", {"identity"}),
    ("cells.overrides.5.r_ohmic_mohm", 3.0, {"r"}),
    ("cells.initial_soc_pct", 60.0, {"ocv"}),
    ("dip", 1, {"identity"}),
])
def test_one_value_changes_exactly_its_behaviour(baseline: dict[str, Any], key: str,
                                                 value: Any, changed: set[str]) -> None:
    got = fingerprint(with_change(BASE, key, value))
    differs = {k for k in baseline if got[k] != baseline[k]}
    assert differs == changed, {k: (baseline[k], got[k]) for k in differs | changed}
