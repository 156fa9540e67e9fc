"""The short-circuit fixture (C08) on the opened simulated cert bench, through its real
transports (pyvisa sessions to the DAQ and the scope on 127.0.0.1): interlocked, one shot,
inside the envelope, opened by the safe state; the twin's short circuit as the scope sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.cert_fixtures import InterlockOpen, ShortCircuit
from drivers.instruments.errors import EnvelopeViolation
from sim.instruments.short_circuit import R_FIXTURE
from stations.open import open_station

ROOT = Path(__file__).resolve().parents[2]
STATION = ROOT / "stations" / "sim-cert.toml"
SHOT = dict(window_s=0.01, pre_trigger_s=0.001, rate_hz=2e6, trigger_a=250.0, full_scale_a=4000.0,
            watch_s=40.0, scan_interval_s=0.05, trigger_timeout_s=1.0)


@pytest.fixture
def bench():
    with open_station(STATION) as st:
        st.daq.set_relay("power", True)
        st.daq.press("sw", 1.2)
        st.clock.sleep(3.0)
        yield st, st.sim.short_circuit


def test_without_the_guard_shut_the_shot_is_refused_and_nothing_is_fired(bench) -> None:
    st, rig = bench
    rig.set_guard(False)
    daq_sent, scope_sent = len(st.sim.instruments.daq.received), len(st.sim.instruments.short_circuit.received)
    with st.envelope.allow_short("short_circuit"), pytest.raises(InterlockOpen, match="sc_interlock"):
        ShortCircuit(st).shot(**SHOT)
    assert rig.shots == [] and not rig.line
    assert not any(c.startswith("SOUR:DIG") for c in st.sim.instruments.daq.received[daq_sent:])
    assert len(st.sim.instruments.short_circuit.received) == scope_sent   # the scope not armed


def test_outside_a_step_declared_for_it_the_shot_is_refused(bench) -> None:
    st, rig = bench
    with pytest.raises(EnvelopeViolation, match="short mode outside a step"):
        ShortCircuit(st).shot(**SHOT)
    assert rig.shots == []


def test_one_shot_opens_after_its_pulse_and_needs_a_new_edge(bench) -> None:
    st, rig = bench
    st.daq.set_relay("short_circuit", True)    # the line held high: a hung station
    assert rig.closed
    st.clock.sleep(1.0)
    assert not rig.closed and rig.line
    shot = rig.shots[0]
    assert shot.opened_at - shot.closed_at == pytest.approx(0.010)
    st.daq.set_relay("short_circuit", True)    # still high: no new edge, no second shot
    st.clock.sleep(1.0)
    assert len(rig.shots) == 1
    st.daq.set_relay("short_circuit", False)


def test_the_safe_state_opens_a_closed_contactor_first(bench) -> None:
    st, rig = bench
    rig.pulse_s = 10.0                          # a fixture whose timer would hold it 10 s
    st.daq.set_relay("short_circuit", True)
    assert rig.closed
    report = st.safe_state()
    assert not rig.closed and not rig.line and report.ok
    assert report.done[0] == "contactor" and "short_circuit" in report.done
    assert rig.shots[0].opened_at - rig.shots[0].closed_at < 0.1


def test_a_shot_is_the_twins_short_circuit_on_the_capture(bench) -> None:
    st, rig = bench
    with st.envelope.allow_short("short_circuit"):
        result = ShortCircuit(st).shot(**SHOT)
    cap = result.capture
    assert cap is not None and cap.dt == pytest.approx(5e-7) and len(cap.samples) == 20_000
    s = rig.shots[0]
    prospective = s.emf_v / s.r_loop
    assert s.r_pack_ohm > 0 and 2000.0 < prospective < 3000.0 and s.r_loop > R_FIXTURE
    assert 0.95 * prospective < max(cap.samples) < prospective       # the RL rise, tripped at 200 µs
    times = cap.times()
    over = next(k for k, a in enumerate(cap.samples) if a > 500.0)
    off = next(k for k in range(over, len(cap.samples)) if cap.samples[k] < 20.0)
    assert 200e-6 < times[off] - times[over] < 300e-6                # 200 µs delay + the clamped fall
    assert max(abs(a) for t, a in zip(times, cap.samples, strict=True) if t < -1e-5) < 25.0   # noise only
    assert s.opened_at - s.closed_at == pytest.approx(0.010)          # the fixture's pulse
    volts = result.scan.values["pack_voltage"]
    assert volts[0] > 50.0 and min(volts) == pytest.approx(0.0, abs=0.05) and volts[-1] > 50.0


def test_station_check_identifies_the_capture_and_never_fires_the_contactor(monkeypatch) -> None:
    from sim.instruments.short_circuit import ShortCircuitRig
    from stations.check import run_check

    fired: list[float] = []
    monkeypatch.setattr(ShortCircuitRig, "_close", lambda self: fired.append(self.clock.now()))
    report = run_check(STATION)
    items = {i.item: i for i in report.items}
    assert items["instrument short_circuit"].result == "OK", items["instrument short_circuit"]
    assert items["relay short_circuit"].result == "SKIP" and "never toggled" in items["relay short_circuit"].detail
    assert items["relay reversal"].result == "OK" and fired == []


def test_a_current_beyond_the_screen_is_clipped_and_gives_no_peak(bench) -> None:
    import math

    from testplans.methods import capture_peak

    st, _rig = bench
    with st.envelope.allow_short("short_circuit"):
        result = ShortCircuit(st).shot(**{**SHOT, "full_scale_a": 1000.0})   # screen to 900 A
    assert result.capture is not None and any(math.isnan(a) for a in result.capture.samples)
    assert math.isnan(capture_peak(result.capture.samples))
