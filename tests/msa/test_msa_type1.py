"""Cg and Cgk as AIAG/VDA define them, their one-sided form, constant readings, the
reference file and its fall-back, checked on numbers worked out by hand."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest

from reports.msa.reference import ReferenceFileError, load_reference
from reports.msa.type1 import (
    CAPABLE,
    NO_REFERENCE,
    NO_VARIATION,
    NOT_CAPABLE,
    OUTSIDE,
    analyse,
    study,
)
from reports.msa.values import Series, resolution_of

VALUES = [10.02, 10.05, 10.04, 10.06, 10.03, 10.05, 10.04, 10.07, 10.03, 10.05]


def test_two_sided_cg_and_cgk() -> None:
    s = statistics.stdev(VALUES)
    mean = statistics.fmean(VALUES)
    r = study("x", "mm", VALUES, reference=10.0, low=9.0, high=11.0)
    # T = 2: Cg = 0.2·2 / (6 s), Cgk = (0.1·2 − |x̄ − 10|) / (3 s)
    assert r.tolerance == 2.0 and not r.one_sided
    assert r.cg == pytest.approx(0.4 / (6 * s))
    assert r.cgk == pytest.approx((0.2 - abs(mean - 10.0)) / (3 * s))
    assert r.bias == pytest.approx(mean - 10.0)
    assert r.status == (CAPABLE if min(r.cg, r.cgk) >= 1.33 else NOT_CAPABLE)


def test_bias_makes_cgk_fail_where_cg_passes() -> None:
    shifted = [v + 0.15 for v in VALUES]     # bias 0.19 of an allowed 0.2
    r = study("x", "mm", shifted, reference=10.0, low=9.0, high=11.0)
    assert r.cg is not None and r.cg >= 1.33
    assert r.cgk is not None and r.cgk < 1.33
    assert r.status == NOT_CAPABLE


def test_one_sided_limit_takes_twice_the_distance_from_the_reference() -> None:
    times = [0.151, 0.150, 0.152, 0.149, 0.150, 0.151]
    s = statistics.stdev(times)
    r = study("t", "s", times, reference=0.150, low=None, high=0.300)
    d = 0.300 - 0.150
    assert r.one_sided and r.tolerance == pytest.approx(2 * d)
    assert r.cg == pytest.approx(0.2 * d / (3 * s))
    assert r.cgk == pytest.approx((0.2 * d - abs(statistics.fmean(times) - 0.150)) / (3 * s))
    lower = study("r", "MΩ", [500.0, 501.0, 499.0], reference=500.0, low=10.0, high=None)
    assert lower.tolerance == pytest.approx(2 * 490.0)
    outside = study("t", "s", times, reference=0.35, low=None, high=0.300)
    assert outside.status == OUTSIDE and outside.cg is None


def test_constant_readings_are_resolution_limited() -> None:
    r = study("t", "s", [15.75] * 25, reference=15.75, low=15.0, high=16.5,
              resolution=0.001, resolution_stated=True)
    assert r.status == NO_VARIATION and r.s == 0.0
    assert r.cg is None and r.cgk is None
    assert r.resolution == 0.001 and r.resolution_pct_of_t == pytest.approx(0.1 / 1.5)


def test_resolution_from_the_recorded_values() -> None:
    assert resolution_of([15.75, 15.75]) == pytest.approx(0.01)
    assert resolution_of([1.0, 1.0]) == pytest.approx(0.1)
    assert resolution_of([2, 2]) == 1.0
    assert resolution_of([-0.2, -0.1, -0.2]) == pytest.approx(0.1)
    assert resolution_of([]) is None


def _reference(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "ref.toml"
    path.write_text('serial = "PV5S260100000013"\nmodel = "v5"\nstated_by = "lab"\n' + body,
                    encoding="utf-8")
    return path


def test_unstated_measurements_fall_back_to_the_reference_runs_and_are_flagged(
        tmp_path: Path) -> None:
    ref = load_reference(_reference(tmp_path, '[reference.a]\nvalue = 1.0\nbasis = "lab"\n'))
    series = {"a": Series("a", "V", "range", 0.0, 2.0, [1.01, 0.99, 1.0]),
              "b": Series("b", "V", "range", 0.0, 2.0, [1.02, 0.98, 1.01]),
              "c": Series("c", "V", "range", 0.0, 2.0, [1.0, 1.1, 1.2])}
    fallback = {"b": Series("b", "V", "range", 0.0, 2.0, [1.2, 1.4])}
    a, b, c = analyse(series, ref, fallback)
    assert a.reference_stated and a.reference == 1.0 and a.reference_basis == "lab"
    assert not b.reference_stated and b.reference == pytest.approx(1.3)
    assert "2 separate reference runs" in b.reference_basis
    assert b.bias == pytest.approx(statistics.fmean([1.02, 0.98, 1.01]) - 1.3)
    assert c.status == NO_REFERENCE and c.cg is None and math.isnan(c.reference)


@pytest.mark.parametrize(("body", "complaint"), [
    ('[reference.a]\nvalue = 1.0\n', "reference.a needs a value and a basis"),
    ('[reference.a]\nvalue = "x"\nbasis = "b"\n', "reference.a.value must be a finite number"),
    ('[reference.a]\nvalue = 1\nbasis = "b"\nsigma = 2\n', "unknown key 'sigma'"),
    ('[reference.a]\nvalue = 1\nbasis = "b"\nresolution = 0\n', "resolution must be > 0"),
    ('', "must state at least one measurement"),
])
def test_a_bad_reference_file_names_the_key(tmp_path: Path, body: str, complaint: str) -> None:
    with pytest.raises(ReferenceFileError, match=r"ref\.toml") as err:
        load_reference(_reference(tmp_path, body))
    assert complaint in str(err.value)
