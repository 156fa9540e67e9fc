"""The cert bench's fixtures beyond EOL's: a prepared sample's cell taps (C05b, C12, C13), the
polarity reversal (C15) and the short-circuit fixture (C08). Without their declaration the
rows are NOT RUN (test_cert_plan, test_cert_golden); declared, they are judged. One short run
of the golden V5° with the three declared, asserted by several tests; the fixture roles'
safety on a real opened station (the short circuit's: test_short_circuit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.cert_fixtures import CellTaps, Reversal
from fixtures.engine import execute
from fixtures.session import RunRequest
from reports.cert_report import clause_rows
from stations.open import open_station

ROOT = Path(__file__).resolve().parents[2]
STATION = ROOT / "stations" / "sim-cert.toml"
SERIAL = "PV5S260100000013"


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("cert-fixtures")
    result = execute(RunRequest(plan="cert", serial=SERIAL, station_file=STATION, out_dir=out,
                                fixtures=("prepared_sample", "reversal_fixture", "short_circuit")),
                     select=["-k", "c01 or c02 or c05b or c08 or c12 or c13 or c15"])
    assert result.record is not None, result.refused
    return result.record


def test_each_declared_row_gets_a_verdict_and_the_golden_unit_passes_it(declared) -> None:
    rows = {r.id: r for r in clause_rows(declared)}
    assert {k: rows[k].verdict for k in ("C05b", "C08", "C12", "C13", "C15")} == dict.fromkeys(
        ("C05b", "C08", "C12", "C13", "C15"), "PASS")


def test_the_evidence_behind_the_fixture_rows_is_physical(declared) -> None:
    m = {x.name: x.value for x in declared.measurements}
    assert 3.65 <= m["c05b_max_cell_v"] < 3.70 and m["c05b_stop_cause"] == "cell_ov"   # the group ahead
    assert "system_lock" in m["c12_lock_flag"] and m["c12_locked_after_power_cycle"] is True
    assert m["c12_cleared_by_unlock"] is True
    assert m["c13_balancing_at_rest"] is True and m["c13_max_cell_v"] < 3.70
    assert m["c15_reverse_current_a"] < 0.05 and m["c15_works_after"] is True
    assert 2000.0 < m["c08_peak_current_a"] < 2600.0 and 200e-6 < m["c08_trip_s"] < 300e-6
    assert m["c08_reclose_s"] == pytest.approx(30.0, abs=0.1)
    traces = {a.name for a in declared.attachments}
    assert {"c05b_overcharge.parquet", "c12_drawn_group.parquet", "c13_charge.parquet"} <= traces


def test_a_tap_set_point_beyond_the_hard_abort_is_refused_before_anything_is_written() -> None:
    with open_station(STATION) as st:
        supply = st.sim.instruments.supply
        sent = len(supply.received)
        with pytest.raises(ValueError, match=r"cell taps: 3\.9 V"):
            CellTaps(st, 3.811).drive(3.9, 5.0, 5.0)
        assert len(supply.received) == sent


def test_a_route_that_ends_in_an_error_leaves_the_supply_off_and_the_relay_open() -> None:
    with open_station(STATION) as st:
        fixture, supply = st.sim.cert_fixture, st.sim.instruments.supply
        taps = CellTaps(st, 3.811)
        with pytest.raises(RuntimeError, match="mid-route"), taps.routed():
            taps.drive(3.3, 5.0, 5.0)
            assert fixture.closed["cell_taps"] and supply.output_on
            raise RuntimeError("mid-route")
        assert not fixture.closed["cell_taps"] and not supply.output_on
        with Reversal(st).routed():   # the interlock: one route at a time
            st.daq.set_relay("cell_taps", True)
            assert fixture.closed == {"cell_taps": False, "reversal": True}
        assert fixture.closed == {"cell_taps": True, "reversal": False}   # still commanded
        st.daq.set_relay("cell_taps", False)
