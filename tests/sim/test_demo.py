"""The demo (the README's main job until the EOL plan exists) runs and shows a trip."""

from __future__ import annotations

import time

import pytest

from sim.demo import run_demo


def test_demo_runs_quickly_and_shows_the_trip_and_release(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    run_demo()
    assert time.perf_counter() - started < 5.0
    out = capsys.readouterr().out
    assert "15 s tier tripped" in out and "dsg_oc" in out
    assert "event dsg_oc_prot at t = 1045.250 s" in out
    assert "event dsg_oc_release at t = 1075.250 s" in out
