"""The loads' current capture at the limits of their digitizers, through real pyvisa
sessions: the over-current release (trip to current flowing again) on one 50 s capture at
100 Hz with the level changed and the input left on; what a digitizer cannot hold is
refused before anything is written, and the simulated loads refuse it too."""

from __future__ import annotations

import pytest

from drivers.instruments.errors import CaptureRefused, InstrumentCommandError


def test_the_release_is_seen_on_one_50_s_capture_at_100_hz(rig_factory) -> None:
    rig = rig_factory({"load": "chroma-63200a"})
    load, clock, pack = rig.open("load"), rig.clock, rig.pack
    assert load.capture_grid(100.0, 50.0) == (0.01, 5000)
    load.set_cc(150.0)
    load.start_capture(100.0, 50.0)
    load.set_input(True)
    clock.call_at(15.304, lambda t: pack.set_paths(True, False))   # the 15 s tier trips
    clock.call_at(45.317, lambda t: pack.set_paths(True, True))    # released 30.013 s later
    clock.sleep(20.0)
    load.set_cc(20.0)            # a lower level while the pack is off, the input kept on
    clock.sleep(30.0)
    cap = load.fetch_capture()
    assert (cap.dt, len(cap.samples)) == (pytest.approx(0.01), 5000)
    series = list(zip(cap.times(), cap.samples, strict=True))
    # the capture starts a few ms before the input is on (each command takes its time):
    # the tier is timed from the current reaching its set point, as SPEC §8 does
    start = next(t for t, a in series if a >= 0.95 * 150.0)
    trip = next(t for t, a in series if t > start and a < 2.0)
    flowing = next(t for t, a in series if t > trip and a > 2.0)
    assert 15.304 <= trip <= 15.304 + 0.01
    assert 45.317 <= flowing <= 45.317 + 0.01
    assert flowing - trip == pytest.approx(30.013, abs=0.01)
    assert series[-1][1] == pytest.approx(20.0, abs=1e-3)           # the new level flows


def test_a_capture_longer_than_the_memory_runs_at_the_highest_rate_that_fits(rig_factory) -> None:
    rig = rig_factory({"load": "chroma-63200a"})
    load = rig.open("load")
    load.start_capture(1000.0, 18.0)                  # 18 000 points asked, 15 000 held
    rig.clock.sleep(18.0)
    cap = load.fetch_capture()
    assert (cap.dt, len(cap.samples)) == (pytest.approx(0.0012), 15_000)
    assert rig.bench.load.capture_dt == pytest.approx(0.0012)
    with pytest.raises(CaptureRefused, match="at most 15 s at 1000 Hz"):
        load.capture_grid(1000.0, 18.0, min_rate_hz=1000.0)


def test_the_itech_cannot_hold_the_release_and_says_so_before_the_wire(rig_factory) -> None:
    rig = rig_factory({"load": "itech-it8900a"})
    load = rig.open("load")
    sent = len(rig.bench.servers["load"].received)
    with pytest.raises(CaptureRefused) as err:
        load.start_capture(100.0, 50.0)
    assert err.value.instrument == "load"
    assert "4096 points" in str(err.value) and "at most 40.96 s at 100 Hz" in str(err.value)
    assert len(rig.bench.servers["load"].received) == sent      # nothing was written
    assert load.capture_grid(100.0, 40.0) == (0.01, 4000)


@pytest.mark.parametrize(("dialect", "command"), [
    ("chroma-63200a", "DIG:SAMP:POIN 15001"), ("chroma-63200a", "DIG:SAMP:TIME 0.041"),
    ("itech-it8900a", "SENS:SWE:POIN 4097"), ("itech-it8900a", "SENS:SWE:TINT 0.000005"),
])
def test_the_simulated_digitizers_keep_the_same_limits(rig_factory, dialect: str, command: str) -> None:
    rig = rig_factory({"load": dialect})
    load = rig.open("load")
    with pytest.raises(InstrumentCommandError) as err:
        load.write(command)
    assert err.value.code == -222
