"""The safe envelope: a command outside it is refused before anything reaches the wire."""

from __future__ import annotations

import contextlib
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.instruments.envelope import Envelope
from drivers.instruments.errors import EnvelopeViolation, InstrumentCommandError
from tests.instruments.conftest import STATION


def test_envelope_rejects_nonsense_at_construction() -> None:
    with pytest.raises(ValueError, match="max_current_a"):
        Envelope(60, 0, 1000, -20, 60)
    with pytest.raises(ValueError, match="chamber range"):
        Envelope(60, 10, 1000, 60, -20)


@pytest.mark.parametrize(
    ("role", "call"),
    [
        ("load", lambda d: d.set_cc(250.5)),
        ("load", lambda d: d.set_cc(-1.0)),
        ("load", lambda d: d.set_cc(float("nan"))),
        ("load", lambda d: d.set_cv(61.0)),
        ("load", lambda d: d.set_cp(13_001.0)),
        ("load", lambda d: d.set_cr(0.1)),          # 60 V / 0.1 Ω = 600 A
        ("load", lambda d: d.short(True)),
        ("supply", lambda d: d.set_voltage(60.5)),
        ("supply", lambda d: d.set_current_limits(251.0, 10.0)),
        ("supply", lambda d: d.set_ovp(70.0)),
        ("chamber", lambda d: d.set_temperature(-25.0)),
        ("chamber", lambda d: d.set_temperature(True)),
    ],
)
def test_outside_the_envelope_nothing_is_written(rig, role: str, call) -> None:
    driver = rig.open(role, envelope=Envelope(**STATION))
    received = getattr(rig.bench, role).received
    before = list(received)
    with pytest.raises(EnvelopeViolation) as err:
        call(driver)
    assert err.value.instrument == role and "envelope" in str(err.value)
    assert received == before


def test_supply_power_is_checked_against_the_set_voltage(rig) -> None:
    supply = rig.open("supply", envelope=Envelope(**STATION))
    supply.set_voltage(56.0)
    with pytest.raises(EnvelopeViolation, match="W"):
        supply.set_current_limits(240.0, 10.0)  # 56 V × 240 A = 13.4 kW > 13 kW
    assert rig.bench.supply.source_limit == 0.0
    supply.set_current_limits(200.0, 10.0)
    assert rig.bench.supply.source_limit == 200.0


# -- property: random role-command sequences never put anything outside on the wire ----------
_NUM = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")

# (role, method, argument strategy)
ACTIONS = st.one_of(
    st.tuples(st.just("load"), st.sampled_from(["set_cc", "set_cv", "set_cp", "set_cr"]),
              st.one_of(st.floats(-100, 20_000), st.just(math.nan))),
    st.tuples(st.just("load"), st.just("set_input"), st.booleans()),
    st.tuples(st.just("load"), st.just("short"), st.booleans()),
    st.tuples(st.just("supply"), st.sampled_from(["set_voltage", "set_ovp"]),
              st.one_of(st.floats(-10, 200), st.just(math.nan))),
    st.tuples(st.just("supply"), st.just("set_current_limits"),
              st.tuples(st.floats(-10, 400), st.floats(-10, 400))),
    st.tuples(st.just("supply"), st.just("set_output"), st.booleans()),
    st.tuples(st.just("chamber"), st.just("set_temperature"), st.one_of(st.floats(-80, 200), st.just(math.inf))),
)


def _wire_values(line: str) -> list[float]:
    """Numbers a setting line carries (its arguments, not mnemonics like L1)."""
    up = line.upper()
    args = up.split("S", 1)[1] if up.startswith("TEMP,") else up.partition(" ")[2]
    return [float(x) for x in _NUM.findall(args)]


def _check_line(role: str, line: str, env: Envelope, supply: dict[str, float]) -> None:
    up = line.upper()
    if up.endswith("?") or (" " not in up and "," not in up):
        return
    values = _wire_values(line)
    assert values or up.startswith(("LOAD", "OUTP", "MODE")), f"no number in {line!r}"
    if role == "load":
        if up.startswith("CURR:STAT:L1"):
            assert 0 <= values[0] <= env.max_current_a, line
        elif up.startswith("VOLT:STAT:L1"):
            assert 0 <= values[0] <= env.max_voltage_v, line
        elif up.startswith("POW:STAT:L1"):
            assert 0 <= values[0] <= env.max_power_w, line
        elif up.startswith("RES:STAT:L1"):
            assert values[0] >= env.max_voltage_v / env.max_current_a * 0.999, line
        elif up.startswith("LOAD:SHOR"):
            assert "ON" not in up, line  # the property runs outside any short step
    elif role == "supply":
        if up.startswith(("VOLT ", "VOLT:PROT ")):
            assert 0 <= values[0] <= env.max_voltage_v, line
            if up.startswith("VOLT "):
                supply["VOLT"] = values[0]
        elif up.startswith("CURR:LIM"):
            assert 0 <= abs(values[0]) <= env.max_current_a, line
            supply[up.split()[0]] = abs(values[0])
        # what the supply holds after each line, in whatever order the set points came
        limit = max(supply.get("CURR:LIM", 0.0), supply.get("CURR:LIM:NEG", 0.0))
        assert supply.get("VOLT", 0.0) * limit <= env.max_power_w * 1.0001, (line, supply)
    elif role == "chamber" and up.startswith("TEMP,"):
        assert env.chamber_min_c <= values[0] <= env.chamber_max_c, line


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(ACTIONS, min_size=1, max_size=12))
def test_random_command_sequences_never_leave_the_envelope_on_the_wire(rig, actions) -> None:
    env = Envelope(**STATION)
    if not hasattr(rig, "roles"):
        rig.roles = {r: rig.open(r, envelope=env) for r in ("load", "supply", "chamber")}
    roles = rig.roles
    marks = {r: len(getattr(rig.bench, r).received) for r in roles}
    for role, method, arg in actions:
        fn = getattr(roles[role], method)
        # refused by the station, or by the instrument's own limits: both are fine here
        with contextlib.suppress(EnvelopeViolation, InstrumentCommandError):
            fn(*arg) if isinstance(arg, tuple) else fn(arg)
    held = rig.held = getattr(rig, "held", {})   # the supply's set points, across examples
    for role in roles:
        for line in getattr(rig.bench, role).received[marks[role]:]:
            _check_line(role, line, env, held)
    assert all(math.isfinite(v) for r in roles for line in getattr(rig.bench, r).received[marks[r]:]
               for v in _wire_values(line))
