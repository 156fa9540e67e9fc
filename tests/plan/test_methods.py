"""The plans' measurement methods on hand-made edges and captures."""

from __future__ import annotations

import math

import pytest

from testplans.limits import load_limits
from testplans.methods import (
    all_on_duration,
    blink_timing,
    expected_current_limits,
    nearest_error,
    on_intervals,
    soc_segments,
    solo_order,
    steady,
    trip_time,
)


def _blink(on: float, off: float, start: float, n: int) -> list[tuple[float, bool]]:
    edges = []
    t = start
    for _ in range(n):
        edges += [(t, True), (t + on, False)]
        t += on + off
    return edges


def test_blink_timing_of_blink_1_and_3() -> None:
    assert blink_timing(_blink(0.3, 3.7, 0.5, 3), False, 0.0, 12.0) == pytest.approx((0.3, 4.0))
    assert blink_timing(_blink(0.5, 1.5, 0.2, 5), False, 0.0, 10.0) == pytest.approx((0.5, 2.0))
    # one complete blink is not enough to know a period
    assert blink_timing(_blink(0.3, 3.7, 0.5, 1), False, 0.0, 4.0) is None


def test_on_intervals_cut_at_window() -> None:
    edges = [(1.0, True), (2.0, False), (3.0, True)]
    assert on_intervals(edges, False, 0.0, 4.0) == [(1.0, 2.0), (3.0, 4.0)]
    assert on_intervals(edges, False, 1.5, 4.0) == [(1.5, 2.0), (3.0, 4.0)]


def test_steady() -> None:
    assert steady([(0.0, True)], False, 1.0, 5.0, True)
    assert not steady([(0.0, True), (3.0, False)], False, 1.0, 5.0, True)
    assert steady([], False, 1.0, 5.0, False)


def test_power_on_flash_and_led_test_order() -> None:
    names = ["RUN", "ALM", "SOC1", "SOC2", "SOC3", "SOC4"]
    flash = {n: [(1.0, True), (2.0, False)] for n in names}
    init = dict.fromkeys(names, False)
    assert all_on_duration(flash, init, 0.0, 5.0) == pytest.approx(1.0)
    flash["SOC3"] = [(1.0, True), (1.6, False)]
    assert all_on_duration(flash, init, 0.0, 5.0) == pytest.approx(0.6)
    test = {n: [(10 + 0.5 * i, True), (10.5 + 0.5 * i, False)] for i, n in enumerate(names)}
    assert solo_order(test, init, 9.0, 14.0) == names
    swapped = dict(test, ALM=test["SOC1"], SOC1=test["ALM"])
    assert solo_order(swapped, init, 9.0, 14.0) == ["RUN", "SOC1", "ALM", "SOC2", "SOC3", "SOC4"]
    dead = dict(test, SOC2=[])
    assert "SOC2" not in solo_order(dead, init, 9.0, 14.0)


def test_trip_time_from_a_capture() -> None:
    samples = [(i / 100, 0.0 if i < 10 else (150.0 if i < 1600 else 0.5)) for i in range(2000)]
    t0, trip = trip_time(samples, 150.0, 0.95, 2.0)
    assert (t0, trip) == pytest.approx((0.10, 16.00))
    assert trip_time([(0.0, 0.0), (1.0, 100.0)], 150.0, 0.95, 2.0) is None
    assert trip_time([(0.0, 150.0), (1.0, 150.0)], 150.0, 0.95, 2.0) is None


def test_derating_lookup_follows_spec_table() -> None:
    table = load_limits("v5").data.derating
    assert expected_current_limits(table, 25.0, 26.0) == {(100.0, 100.0)}
    assert expected_current_limits(table, 2.0, 3.0) == {(10.0, 75.0)}
    assert expected_current_limits(table, 20.0, 47.0) == {(0.0, 75.0)}
    # cold by the lowest cell, hot by the highest: the smaller of the two
    assert expected_current_limits(table, 7.0, 42.0) == {(50.0, 75.0)}
    # within 1 °C of a boundary both rows are acceptable (hysteresis)
    assert expected_current_limits(table, 9.5, 20.0) == {(50.0, 75.0), (100.0, 100.0)}
    assert nearest_error(99.9, {100.0, 50.0}) == pytest.approx(-0.1)


@pytest.mark.parametrize(("soc", "n"), [(0, 0), (1, 1), (25, 1), (25.1, 2), (50, 2), (76, 4), (100, 4)])
def test_soc_segments(soc: float, n: int) -> None:
    assert soc_segments(soc) == n


def test_a_clipped_capture_has_no_peak_wherever_the_clipped_sample_is() -> None:
    from testplans.methods import capture_peak

    assert capture_peak([0.0, 2400.0, 10.0]) == 2400.0
    for clipped in ([math.nan, 1.0, 2.0], [1.0, math.nan, 2.0], [1.0, 2.0, math.nan], []):
        assert math.isnan(capture_peak(clipped))   # max() alone gives 2.0 for the middle one


def test_short_circuit_trip_runs_from_above_the_threshold_to_the_current_gone() -> None:
    from testplans.methods import short_circuit_trip

    t = [k * 1e-6 for k in range(8)]
    amps = [0.0, 300.0, 600.0, 2400.0, 2400.0, math.nan, 30.0, 5.0]
    assert short_circuit_trip(t, amps, 500.0, 20.0) == pytest.approx(5e-6)   # 2 µs → 7 µs
    assert short_circuit_trip(t, [0.0, 400.0, 10.0], 500.0, 20.0) is None    # never a short
    assert short_circuit_trip(t, [0.0, 600.0, 600.0], 500.0, 20.0) is None   # never fell


def test_dead_and_back_times_the_terminals_gone_and_returned() -> None:
    from testplans.methods import dead_and_back

    t = [0.0, 0.05, 0.1, 30.05, 30.1]
    assert dead_and_back(t, [52.6, 0.0, 0.0, 0.0, 52.6]) == pytest.approx(30.05)
    assert dead_and_back(t, [52.6, 52.6, 52.6, 52.6, 52.6]) is None   # never gone
    assert dead_and_back(t, [52.6, 0.0, 0.0, 0.0, 0.0]) is None       # never back
    assert dead_and_back(t, [0.0, 0.0, 52.6, 52.6, 52.6]) is None     # dead before the shot
