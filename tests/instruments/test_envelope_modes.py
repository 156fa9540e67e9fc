"""Envelope holes of issue 11: every load mode bounded by what it draws, the supply's power
in either set-point order, the safety tester's settings, and station files checked against
the instruments' ratings."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.instruments import registry
from drivers.instruments.chroma_63200a import Chroma63200A
from drivers.instruments.envelope import Envelope
from drivers.instruments.errors import EnvelopeViolation, InstrumentCommandError
from drivers.instruments.transport import open_transport
from stations.schema import StationFileError, parse_station, station_envelope
from tests.instruments.conftest import STATION

SIM_TOML = Path(__file__).resolve().parents[2] / "stations" / "sim.toml"
SAFETY = dict(STATION, max_insulation_v=500.0, max_ground_bond_a=10.0)


def test_envelope_refuses_a_lowest_load_voltage_above_its_max() -> None:
    with pytest.raises(ValueError, match="load_min_voltage_v"):
        Envelope(30.0, 100.0, 1000.0, -20.0, 60.0)   # default 40 V above 30 V
    with pytest.raises(ValueError, match="max_ground_bond_a"):
        Envelope(60.0, 100.0, 1000.0, -20.0, 60.0, max_ground_bond_a=0.0)


@pytest.mark.parametrize("dialect", ["chroma-63200a", "itech-it8900a"])
@pytest.mark.parametrize(("call", "says"), [
    (lambda d: d.set_cv(0.0), "needs a current limit"),
    (lambda d: d.set_cv(50.0, 251.0), "251 A not in"),
    (lambda d: d.set_cv(60.0, 250.0), "15000 W not in"),
    (lambda d: d.set_cv(50.0, 100.0), "cannot cap CV current"),   # neither dialect can
    (lambda d: d.set_cp(10_001.0), "at 40 V"),                    # 250 A at 40 V
    (lambda d: d.set_cr(0.25), "below 0.27"),                     # 60² / 13 kW
])
def test_load_modes_bounded_by_what_they_draw(rig_factory, dialect: str, call: Any, says: str) -> None:
    rig = rig_factory({"load": dialect})
    load = rig.open("load", envelope=Envelope(**STATION))
    before = list(rig.bench.load.received)
    with pytest.raises(EnvelopeViolation, match=says):
        call(load)
    assert rig.bench.load.received == before


class CappedCv(Chroma63200A):
    """A load whose dialect caps CV current (recorded here, not sent: the sim has no cap)."""

    def _set_cv_current_limit(self, amps: float) -> None:
        self.caps = (amps, len(self.sent))   # the cap, and how much was on the wire by then


def test_cv_on_a_load_that_can_cap_it(rig) -> None:
    desc = rig.bench.describe()["load"]
    load = CappedCv(open_transport("visa", desc["resource"], timeout_ms=1000), name="load",
                    envelope=Envelope(**STATION), clock=rig.clock)
    rig.drivers.append(load)
    load.sent = rig.bench.load.received
    mark = len(load.sent)
    load.set_cv(50.0, 100.0)
    assert load.caps == (100.0, mark)   # capped before the level was written
    assert [ln for ln in load.sent[mark:] if not ln.endswith("?")] == ["MODE CV", "VOLT:STAT:L1 50.000"]


@pytest.mark.parametrize("dialect", ["keysight-rp7900", "itech-it6000c"])
def test_supply_power_checked_in_either_order(rig_factory, dialect: str) -> None:
    rig = rig_factory({"supply": dialect})
    supply = rig.open("supply", envelope=Envelope(**dict(STATION, max_power_w=5000.0)))
    sim = rig.bench.supply
    with pytest.raises(EnvelopeViolation, match="not both set"):
        supply.set_output(True)        # nothing this session programmed yet
    supply.set_current_limits(100.0, 10.0)
    mark = len(sim.received)
    with pytest.raises(EnvelopeViolation, match="6000 W not in"):
        supply.set_voltage(60.0)       # the voltage raised after the limits
    supply.set_voltage(45.0)
    with pytest.raises(EnvelopeViolation, match="5400 W not in"):
        supply.set_current_limits(10.0, 120.0)   # the sink limit counts as well
    supply.set_output(True)
    assert sim.vset * max(sim.source_limit, sim.sink_limit) <= 5000.0
    assert [ln.split()[0] for ln in sim.received[mark:] if not ln.endswith("?")] == ["VOLT", "OUTP"]


def test_safety_tester_settings_inside_the_envelope(rig) -> None:
    safety = rig.open("safety", envelope=Envelope(**SAFETY))
    before = list(rig.bench.safety.received)
    for call, says in ((lambda: safety.ground_bond(10.5), "10.5 A not in 0..10 A"),
                       (lambda: safety.insulation(501.0), "501 V not in 0..500 V"),
                       (lambda: safety.insulation(float("nan")), "not a finite number")):
        with pytest.raises(EnvelopeViolation, match=says):
            call()
    assert rig.bench.safety.received == before
    assert safety.ground_bond(10.0) > 0 and safety.insulation(500.0) > 0


# -- property: random supply set-point orders and safety settings on the wire --------------
SUPPLY_STEPS = st.lists(st.one_of(
    st.tuples(st.just("set_voltage"), st.floats(-5, 80)),
    st.tuples(st.just("set_current_limits"), st.tuples(st.floats(-10, 300), st.floats(-10, 300))),
    st.tuples(st.just("set_output"), st.booleans()),
    st.tuples(st.just("ground_bond"), st.floats(-5, 40)),
    st.tuples(st.just("insulation"), st.floats(-50, 1200)),
), min_size=1, max_size=12)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=SUPPLY_STEPS)
def test_random_set_point_orders_never_hold_more_than_the_power_envelope(rig, steps) -> None:
    env = Envelope(**dict(SAFETY, max_power_w=5000.0))
    if not hasattr(rig, "pair"):
        rig.pair = (rig.open("supply", envelope=env), rig.open("safety", envelope=env))
    supply, safety = rig.pair
    sim = rig.bench.supply
    for method, arg in steps:
        target = safety if method in ("ground_bond", "insulation") else supply
        try:
            fn = getattr(target, method)
            fn(*arg) if isinstance(arg, tuple) else fn(arg)
        except (EnvelopeViolation, InstrumentCommandError):
            pass
        held = sim.vset * max(sim.source_limit, sim.sink_limit)
        assert held <= env.max_power_w * 1.0001, (method, arg, sim.vset, sim.source_limit, sim.sink_limit)
        assert sim.vset <= env.max_voltage_v
    gb = rig.bench.safety
    assert gb.gb_current <= env.max_ground_bond_a and gb.ir_volts <= env.max_insulation_v
    supply.safe_state()


# -- station files against the instruments' ratings -----------------------------------------
def _sim_doc(**envelope: Any) -> dict[str, Any]:
    doc = copy.deepcopy(tomllib.loads(SIM_TOML.read_text(encoding="utf-8")))
    doc["envelope"].update(envelope)
    return doc


@pytest.mark.parametrize(("change", "key", "values"), [
    ({"max_current_a": 5000.0}, "envelope.max_current_a", ("5000 A", "1200 A", "250 A")),
    ({"max_power_w": 13_000.0}, "envelope.max_power_w", ("13000 W", "12000 W", "10000 W")),
    ({"max_voltage_v": 200.0}, "envelope.max_voltage_v", ("200 V", "150 V", "80 V")),
    ({"max_insulation_v": 1500.0}, "envelope.max_insulation_v", ("1500 V", "1000 V")),
    ({"max_ground_bond_a": 31.0}, "envelope.max_ground_bond_a", ("31 A", "30 A")),
])
def test_envelope_above_every_carrying_instrument_is_refused(change, key, values) -> None:
    with pytest.raises(StationFileError) as err:
        parse_station(_sim_doc(**change), "stations/x.toml")
    text = str(err.value)
    assert text.startswith(f"stations/x.toml: key {key}: ") and all(v in text for v in values), text


def test_envelope_within_the_largest_rating_is_accepted() -> None:
    # 250 A: above the IT6006C supply's 150 A, within the load's 1200 A (the supply refuses
    # a limit above its own rating itself)
    doc = _sim_doc()
    doc["instruments"]["supply"]["dialect"] = "itech-it6000c"
    env = station_envelope(parse_station(doc))
    assert (env.max_current_a, env.max_insulation_v, env.max_ground_bond_a) == (250.0, 500.0, 10.0)
    assert env.load_min_voltage_v == 40.0


def test_a_dialect_without_a_rating_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class Unrated(Chroma63200A):
        dialect = "unrated-load"
        RATING_A = None   # type: ignore[assignment]

    monkeypatch.setitem(registry.DIALECTS, "unrated-load", ("load", "x:Unrated"))
    monkeypatch.setattr("stations.schema.get_dialect", lambda d: Unrated if d == "unrated-load"
                        else registry.get_dialect(d))
    doc = _sim_doc()
    doc["instruments"]["load"]["dialect"] = "unrated-load"
    with pytest.raises(StationFileError, match=r"instruments\.load\.dialect: 'unrated-load' declares no rating RATING_A"):
        parse_station(doc, "x.toml")


def test_every_registered_dialect_that_carries_an_envelope_key_declares_its_rating() -> None:
    for dialect, (role, _) in registry.DIALECTS.items():
        cls = registry.get_dialect(dialect)
        attrs = {"load": ("RATING_V", "RATING_A", "RATING_W"), "supply": ("RATING_V", "RATING_A", "RATING_W"),
                 "safety": ("RATING_INSULATION_V", "RATING_GROUND_BOND_A")}.get(role, ())
        for attr in attrs:
            assert float(getattr(cls, attr)) > 0, (dialect, attr)
