"""The demo (the README's main job until the EOL plan exists) runs and shows a trip."""

from __future__ import annotations

import pytest

from sim.demo import run_demo


def test_demo_shows_the_trip_and_release(capsys: pytest.CaptureFixture[str]) -> None:
    run_demo()   # its wall time is no test's business: a busy machine must not fail it
    out = capsys.readouterr().out
    assert "15 s tier tripped" in out and "dsg_oc" in out
    assert "event dsg_oc_prot at t = 1045.250 s" in out
    assert "event dsg_oc_release at t = 1075.250 s" in out
