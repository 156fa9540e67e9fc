"""Envelope, beyond tests/instruments/test_envelope.py: random sequences of role commands on
an opened station (the in-process simulated bench) that also drive the fixture relays,
short mode inside and outside the step that may use it, pulses, the supply's set points in
any order, every load mode (CV, CP, CR), the safety tester's settings and the safe state.
What reaches the wire is checked line by line, and every safe state is checked on the
models; the named envelope cases of cases.py are each tried on a fresh station."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import pytest
from cases import BY_ID
from harness import SIM_STATION
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from drivers.instruments.errors import EnvelopeViolation, InstrumentError
from drivers.instruments.roles import ElectronicLoad
from sim.instruments.daq import HEARTBEAT_BIT
from stations.open import open_station

RELAYS = ["power", "sw", "breaker", "in1", "alarm", "relay7"]   # the last two: not fitted
STEPS = ["short_circuit", "peak_tier", "fast_trip"]            # only the first may short

ACTION = st.one_of(
    st.tuples(st.just("relay"), st.sampled_from(RELAYS), st.booleans()),
    st.tuples(st.just("short"), st.sampled_from([*STEPS, None]), st.booleans()),
    st.tuples(st.just("cc"), st.one_of(st.floats(-50, 400), st.just(math.nan)), st.booleans()),
    st.tuples(st.just("pulse"), st.floats(-10, 400), st.floats(0.0, 0.5)),
    st.tuples(st.just("supply"), st.floats(-5, 80), st.floats(-10, 400)),
    st.tuples(st.just("chamber"), st.floats(-60, 120), st.booleans()),
    st.tuples(st.just("safe"), st.none(), st.none()),
    # the supply's set points one at a time, in any order (power checked whichever changes)
    st.tuples(st.just("volt"), st.floats(-5, 80), st.none()),
    st.tuples(st.just("limit"), st.floats(-10, 400), st.floats(-10, 400)),
    st.tuples(st.just("outp"), st.booleans(), st.none()),
    # every load mode: CV with or without a current cap, CP, CR
    st.tuples(st.just("cv"), st.floats(-5, 80), st.one_of(st.none(), st.floats(-10, 400))),
    st.tuples(st.just("cp"), st.floats(-100, 20_000), st.booleans()),
    st.tuples(st.just("cr"), st.floats(-1, 5), st.booleans()),
    # the safety tester's ground-bond current and insulation voltage
    st.tuples(st.just("gb"), st.floats(-5, 60), st.none()),
    st.tuples(st.just("ir"), st.floats(-50, 1500), st.none()),
)


@pytest.fixture(scope="module")
def station() -> Iterator[Any]:
    st_ = open_station(SIM_STATION)
    try:
        yield st_
    finally:
        st_.close()


def _do(station: Any, action: tuple[str, Any, Any], shorting: list[bool]) -> None:
    kind, a, b = action
    if kind == "relay":
        station.daq.set_relay(a, b)
    elif kind == "short":
        ctx = station.envelope.allow_short(a) if a is not None else contextlib.nullcontext()
        with ctx:
            shorting.append(a == "short_circuit")
            try:
                station.load.short(b)
                station.sleep(0.01)
            finally:
                station.load.short(False)
                shorting.pop()
    elif kind == "cc":
        station.load.set_cc(a)
        station.load.set_input(b)
    elif kind == "pulse":
        station.load.pulse(a, b)
    elif kind == "supply":
        station.supply.set_voltage(a)
        station.supply.set_current_limits(b, b)
        station.supply.set_output(True)
    elif kind == "chamber":
        station.chamber.set_temperature(a)
    elif kind == "volt":
        station.supply.set_voltage(a)
    elif kind == "limit":
        station.supply.set_current_limits(a, b)
    elif kind == "outp":
        station.supply.set_output(a)
    elif kind == "cv":
        station.load.set_cv(a, b)
        station.load.set_input(True)
    elif kind in ("cp", "cr"):
        (station.load.set_cp if kind == "cp" else station.load.set_cr)(a)
        station.load.set_input(b)
    elif kind == "gb":
        station.safety.ground_bond(a)
    elif kind == "ir":
        station.safety.insulation(a)
    else:
        station.safe_state()
        _assert_safe(station)


def _assert_safe(station: Any) -> None:
    ins = station.sim.instruments
    assert not ins.load.input_on and not ins.load.short_on
    assert not ins.supply.output_on
    assert ins.chamber.mode == "standby"
    assert ins.daq.out_byte & ~(1 << HEARTBEAT_BIT) == 0   # the live station's heartbeat aside


# the "envelope-random" case of cases.py
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(ACTION, min_size=1, max_size=10))
@example(actions=[("short", None, True), ("short", "peak_tier", True)])      # always tried
@example(actions=[("relay", "power", True), ("short", "short_circuit", True),
                  ("relay", "relay7", True), ("safe", None, None)])
@example(actions=[("limit", 250.0, 250.0), ("volt", 60.0, None), ("outp", True, None)])
@example(actions=[("volt", 60.0, None), ("limit", 250.0, 10.0), ("outp", True, None)])
@example(actions=[("cv", 0.0, None), ("cv", 50.0, 100.0), ("cp", 12_000.0, True),
                  ("cr", 0.25, True), ("gb", 40.0, None), ("ir", 1000.0, None)])
def test_random_role_commands_keep_the_envelope(station: Any, actions: list[Any]) -> None:
    ins = station.sim.instruments
    fitted = sum(1 << bit for bit in station.daq.output_bits.values())
    marks = {r: len(ins.servers[r].received) for r in ("load", "daq", "supply", "safety")}
    held = {"VOLT": ins.supply.vset, "CURR:LIM": ins.supply.source_limit,
            "CURR:LIM:NEG": ins.supply.sink_limit}   # what the supply holds at the start
    shorts: list[tuple[str, bool]] = []
    shorting: list[bool] = []
    real_short = type(station.load).short

    def spy(self: Any, on: bool) -> None:   # who asked for short mode, and in which step
        step = str(station.envelope.short_step)
        real_short(self, on)   # raises (nothing sent) when the envelope refuses
        shorts.append((step, on))
        # right now, on the model: shorted only inside the step allowed to short
        assert not ins.load.short_on or step == "short_circuit", step

    type(station.load).short = spy
    try:
        for action in actions:
            with contextlib.suppress(EnvelopeViolation, InstrumentError, KeyError, ValueError):
                _do(station, action, shorting)
            # short mode on the model only inside the declared step
            assert not ins.load.short_on or (shorting and shorting[-1]), action
            assert ins.daq.out_byte & ~fitted == 0, (action, ins.daq.out_byte)
            sup = ins.supply   # on the model, after every command: V × limit inside
            assert sup.vset * max(sup.source_limit, sup.sink_limit) <= _max_w(station), action
    finally:
        type(station.load).short = real_short   # type: ignore[method-assign]
        station.safe_state()
    _assert_safe(station)
    for line in ins.servers["load"].received[marks["load"]:]:
        up = line.upper()
        for x in _numbers(up):
            assert math.isfinite(x), line
        if up.startswith("CURR:STAT:L1 "):
            assert 0 <= float(up.split()[1]) <= station.envelope.max_current_a, line
    # every short-mode ON on the wire was one asked for inside short_circuit
    on_wire = [ln for ln in ins.servers["load"].received[marks["load"]:]
               if ln.upper().startswith("LOAD:SHOR") and ln.upper().split()[-1] in ("ON", "1")]
    assert len(on_wire) == sum(1 for step, on in shorts if on), (on_wire, shorts)
    assert all(step == "short_circuit" for step, on in shorts if on), shorts
    for line in ins.servers["daq"].received[marks["daq"]:]:
        if line.upper().startswith("SOUR:DIG:DATA:BYTE "):
            value = int(line.split()[1].split(",")[0])
            assert value & ~fitted == 0, line
    _check_load_modes(station, ins.servers["load"].received[marks["load"]:])
    _check_supply(station, ins.servers["supply"].received[marks["supply"]:], held)
    _check_safety(station, ins.servers["safety"].received[marks["safety"]:])


def _max_w(station: Any) -> float:
    return station.envelope.max_power_w * 1.0001   # the wire's 3 decimals


def _check_load_modes(station: Any, lines: list[str]) -> None:
    """CP and CR levels bounded by what they draw; no CV level on a load that cannot cap it."""
    env = station.envelope
    capped = type(station.load)._set_cv_current_limit is not ElectronicLoad._set_cv_current_limit
    r_min = max(env.max_voltage_v / env.max_current_a, env.max_voltage_v ** 2 / env.max_power_w)
    for line in lines:
        up = line.upper()
        if up.startswith("POW:STAT:L1 "):
            watts = float(up.split()[1])
            assert watts <= min(env.max_power_w, env.max_current_a * env.load_min_voltage_v), line
        elif up.startswith("RES:STAT:L1 "):
            assert float(up.split()[1]) >= r_min * 0.9999, line
        elif up.startswith(("VOLT:STAT:L1 ", "MODE CV")):
            assert capped, f"CV mode without a current cap on the wire: {line}"


def _check_supply(station: Any, lines: list[str], held: dict[str, float]) -> None:
    """Replay the supply's set points line by line: V × current limit inside after each."""
    for line in lines:
        up = line.upper()
        head, _, arg = up.partition(" ")
        if head in held and arg:
            held[head] = abs(float(arg))
            limit = max(held["CURR:LIM"], held["CURR:LIM:NEG"])
            assert held["VOLT"] * limit <= _max_w(station), (line, held)


def _check_safety(station: Any, lines: list[str]) -> None:
    env = station.envelope
    for line in lines:
        up = line.upper()
        if ":GB:LEV " in up:
            assert 0 <= float(up.split()[-1]) <= env.max_ground_bond_a, line
        elif ":IR:LEV " in up:
            assert 0 <= float(up.split()[-1]) <= env.max_insulation_v, line


def _numbers(line: str) -> list[float]:
    out = []
    for tok in line.replace(",", " ").split()[1:]:
        with contextlib.suppress(ValueError):
            out.append(float(tok))
    return out


def test_short_outside_its_step_never_reaches_the_wire(station: Any) -> None:
    ins = station.sim.instruments
    mark = len(ins.servers["load"].received)
    for step in (None, "peak_tier"):
        ctx = station.envelope.allow_short(step) if step else contextlib.nullcontext()
        with pytest.raises(EnvelopeViolation), ctx:
            station.load.short(True)
    assert not any("SHOR" in ln.upper() and "ON" in ln.upper()
                   for ln in ins.servers["load"].received[mark:])
    assert not ins.load.short_on


# -- the named cases of cases.py: refused, and nothing of the refused command on the wire -----
#: case id → (role whose wire is watched, set-up allowed on the wire, the refused command)
NAMED: dict[str, tuple[str, Any, Any]] = {
    "cv-uncapped": ("load", None, lambda s: s.load.set_cv(0.0)),
    "cv-no-cap-on-dialect": ("load", None, lambda s: s.load.set_cv(50.0, 100.0)),
    "cv-over-power": ("load", None, lambda s: s.load.set_cv(60.0, 250.0)),
    "cp-low-voltage": ("load", None, lambda s: s.load.set_cp(12_000.0)),
    "cr-over-power": ("load", None, lambda s: s.load.set_cr(0.25)),
    "supply-volt-after-limit": ("supply", lambda s: s.supply.set_current_limits(250.0, 250.0),
                                lambda s: s.supply.set_voltage(60.0)),
    "supply-on-unset": ("supply", None, lambda s: s.supply.set_output(True)),
    "safety-gb-over": ("safety", None, lambda s: s.safety.ground_bond(40.0)),
    "safety-ir-over": ("safety", None, lambda s: s.safety.insulation(1000.0)),
}


@pytest.mark.parametrize("case_id", list(NAMED))
def test_named_envelope_case(case_id: str) -> None:
    role, setup, refused = NAMED[case_id]
    with open_station(SIM_STATION) as fresh:   # a fresh session: no set point known yet
        received = fresh.sim.instruments.servers[role].received
        if setup is not None:
            setup(fresh)
        mark = len(received)
        with pytest.raises(EnvelopeViolation) as err:
            refused(fresh)
        assert BY_ID[case_id].says in str(err.value) and err.value.instrument == role
        assert received[mark:] == [], received[mark:]
