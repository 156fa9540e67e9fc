"""Envelope, beyond tests/instruments/test_envelope.py: random sequences of role commands on
an opened station (the in-process simulated bench) that also drive the fixture relays,
short mode inside and outside the step that may use it, pulses and the safe state. What
reaches the wire is checked line by line, and every safe state is checked on the models."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import pytest
from harness import SIM_STATION
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from drivers.instruments.errors import EnvelopeViolation, InstrumentError
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
    else:
        station.safe_state()
        _assert_safe(station)


def _assert_safe(station: Any) -> None:
    ins = station.sim.instruments
    assert not ins.load.input_on and not ins.load.short_on
    assert not ins.supply.output_on
    assert ins.chamber.mode == "standby"
    assert ins.daq.out_byte == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(ACTION, min_size=1, max_size=10))
@example(actions=[("short", None, True), ("short", "peak_tier", True)])      # always tried
@example(actions=[("relay", "power", True), ("short", "short_circuit", True),
                  ("relay", "relay7", True), ("safe", None, None)])
def test_random_role_commands_keep_the_envelope(station: Any, actions: list[Any]) -> None:
    ins = station.sim.instruments
    fitted = sum(1 << bit for bit in station.daq.output_bits.values())
    marks = {r: len(ins.servers[r].received) for r in ("load", "daq")}
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
