"""Lot analytics over a population with off-spec units: numbers equal what the inputs imply."""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
import typer
from recordgen import EPOCH, make_record, make_serial
from typer.testing import CliRunner

from reports.analytics import cp_cpk, load_lot, pp_ppk, summarize
from reports.cli import register
from reports.store import Store

#: serial number -> the runs of that unit in order: None = PASS, "name" = that measurement
#: FAILs, "!name" = that measurement ERRORs (instrument fault).
POPULATION: dict[int, list[str | None]] = {i: [None] for i in range(1, 46)}
POPULATION.update({
    3: ["ocv", None],
    7: ["dc_resistance", None],
    11: ["insulation", "insulation"],       # a real defect: fails twice, never passes
    15: ["tier_15s_time"],
    19: ["ocv", "ocv", None],
    23: ["!bms_current_error_0a", None],    # instrument error, then passes
    29: ["firmware_main"],
    31: ["cell_spread", None],
    37: ["ground_continuity"],
    41: ["fast_trip_time", None],
})
ALPHA = {101: [None], 102: ["ocv"]}  # another model, filtered out by --model v5


def _fill(store: Store) -> None:
    rng = random.Random(7)
    t = EPOCH
    for population, variant, model in ((POPULATION, "S", "v5"), (ALPHA, "A", "v5-alpha")):
        for seq, runs in population.items():
            for k, outcome in enumerate(runs):
                t += timedelta(minutes=3)
                fail = outcome if outcome and not outcome.startswith("!") else None
                error = outcome[1:] if outcome and outcome.startswith("!") else None
                r = make_record(make_serial(seq, variant), fail=fail, error=error, rng=rng,
                                station=f"eol-{(seq + k) % 3 + 1}", started=t, model=model)
                store.begin_run(r)
                store.finish_run(r, None)


def _expected() -> dict[str, object]:
    runs = [r for rs in POPULATION.values() for r in rs]
    fails = Counter(r for r in runs if r and not r.startswith("!"))
    errors = Counter(r[1:] for r in runs if r and r.startswith("!"))
    return {
        "runs": len(runs),
        "units": len(POPULATION),
        "yield": sum(rs[-1] is None for rs in POPULATION.values()) / len(POPULATION),
        "fpy": sum(rs[0] is None for rs in POPULATION.values()) / len(POPULATION),
        "retest": sum(len(rs) - 1 for rs in POPULATION.values()) / len(runs),
        "pareto": {n: (fails[n], errors[n]) for n in set(fails) | set(errors)},
    }


def test_lot_numbers_equal_what_the_inputs_imply(store: Store) -> None:
    _fill(store)
    runs, meas = load_lot(store, model="v5")
    s = summarize(runs, meas)
    exp = _expected()
    assert exp["runs"] >= 40
    assert (s.n_runs, s.units) == (exp["runs"], exp["units"])
    assert s.yield_ == pytest.approx(exp["yield"])
    assert s.first_pass_yield == pytest.approx(exp["fpy"])
    assert s.retest_rate == pytest.approx(exp["retest"])
    got = {r.name: (r.fail, r.error) for r in s.pareto.itertuples()}
    assert got == exp["pareto"]
    counts = list(s.pareto["count"])
    assert counts == sorted(counts, reverse=True) and s.pareto.cumulative.iloc[-1] == pytest.approx(1)
    # Pp/Ppk (overall σ) and Cp/Cpk (moving range / 1.128) of one measurement against a
    # direct computation from the values stored, in run order
    ocv = meas[(meas.name == "ocv") & meas.outcome.isin(["PASS", "FAIL"])].value_num
    mu, sd = ocv.mean(), ocv.std(ddof=1)
    within = ocv.diff().abs().dropna().mean() / 1.128
    row = s.capability.set_index("name").loc["ocv"]
    assert row.n == len(ocv) >= 25 and row.model == "v5"
    assert row.pp == pytest.approx((53.6 - 51.5) / (6 * sd))
    assert row.ppk == pytest.approx(min(53.6 - mu, mu - 51.5) / (3 * sd))
    assert row.cp == pytest.approx((53.6 - 51.5) / (6 * within))
    assert row.cpk == pytest.approx(min(53.6 - mu, mu - 51.5) / (3 * within))
    assert row.fails == exp["pareto"]["ocv"][0]
    assert s.stations.runs.sum() == exp["runs"]


def test_pp_ppk_cp_cpk_edge_cases() -> None:
    import pandas as pd

    for f in (pp_ppk, cp_cpk):
        assert all(math.isnan(x) for x in f(pd.Series([1.0]), 0.0, 2.0))
        assert all(math.isnan(x) for x in f(pd.Series([1.0, 1.0]), 0.0, 2.0))
    pp, ppk = pp_ppk(pd.Series([1.0, 3.0]), None, 10.0)  # one-sided: Ppu only
    assert math.isnan(pp) and ppk == pytest.approx((10 - 2) / (3 * math.sqrt(2)))
    cp, cpk = cp_cpk(pd.Series([1.0, 3.0]), None, 10.0)  # moving range 2: σ = 2 / 1.128
    assert math.isnan(cp) and cpk == pytest.approx((10 - 2) / (3 * 2 / 1.128))


def test_lot_report_cli_pdf_and_html(sqlite_store: Store, tmp_path: Path) -> None:
    store = sqlite_store
    _fill(store)
    exp = _expected()
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    pdf = tmp_path / "lot.pdf"
    res = runner.invoke(app, ["report", "lot", "--db", store.url, "--model", "v5", "--out", str(pdf)])
    assert res.exit_code == 0, res.output
    text = " ".join("\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())
    assert f"Yield {100 * exp['yield']:.1f} %" in text
    assert f"First-pass yield {100 * exp['fpy']:.1f} %" in text
    assert f"Retest rate {100 * exp['retest']:.1f} %" in text
    assert f"Runs {exp['runs']} Units {exp['units']}" in text
    for name, (fail, error) in exp["pareto"].items():
        assert re.search(rf"{name} \S+ {fail} {error} {fail + error} ", text), name
    assert "Cpk" in text and "Run chart" not in text  # charts are images, not text
    html = tmp_path / "lot.html"
    res = runner.invoke(app, ["report", "lot", "--db", store.url, "--out", str(html)])
    assert res.exit_code == 0, res.output
    page = html.read_text(encoding="utf-8")
    all_runs = exp["runs"] + sum(len(r) for r in ALPHA.values())
    assert f"<td>Runs</td><td>{all_runs}</td>" in page
    assert page.count("<img") >= 1 + 2 + 3  # Pareto, distributions, one run chart per station
    # --since after every run: nothing to report
    res = runner.invoke(app, ["report", "lot", "--db", store.url, "--since", "2027-01-01",
                              "--out", str(tmp_path / "none.pdf")])
    assert res.exit_code == 1 and "no finished runs" in res.output


def test_report_cli_refuses_unreachable_database(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    res = CliRunner().invoke(app, ["report", "lot", "--db", "postgresql://postgres@127.0.0.1:1/x",
                                   "--out", str(tmp_path / "x.pdf")])
    assert res.exit_code == 3 and "cannot be used" in res.output
    res = CliRunner().invoke(app, ["report", "unit", make_serial(1), "--db",
                                   "postgresql://postgres@127.0.0.1:1/x"])
    assert res.exit_code == 3


def test_unit_report_lists_every_run(sqlite_store: Store) -> None:
    store = sqlite_store
    _fill(store)
    app = typer.Typer()
    register(app)
    res = CliRunner().invoke(app, ["report", "unit", make_serial(19), "--db", store.url])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if " eol " in ln]
    assert len(lines) == 3
    assert [("FAIL" in ln, "PASS" in ln) for ln in lines] == [(True, False), (True, False),
                                                                (False, True)]
    assert "ocv" in lines[0]
    bad = CliRunner().invoke(app, ["report", "unit", "PV5S26010000001X", "--db", store.url])
    assert bad.exit_code == 2 and "check character" in bad.output


def _lot_pages(folder: Path, simulated: list[bool], out: Path) -> list[str]:
    """A lot report over one run per flag (a station file that declared a simulated bench
    or not), each page's text."""
    from reports.store import open_store

    folder.mkdir()
    with open_store(None, folder) as store:
        for seq, sim in enumerate(simulated, start=1):
            r = make_record(make_serial(seq), station="eol-sim" if sim else "eol-real",
                            started=EPOCH + timedelta(minutes=3 * seq))
            r.station.simulated = sim
            store.begin_run(r)
            store.finish_run(r, None)
        url = store.url
    app = typer.Typer()
    register(app)
    res = CliRunner().invoke(app, ["report", "lot", "--db", url, "--out", str(out)])
    assert res.exit_code == 0, res.output
    if out.suffix == ".html":
        return [out.read_text(encoding="utf-8")]
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(out).pages]


def test_lot_report_says_simulated_when_its_runs_are(tmp_path: Path) -> None:
    """Runs whose station file declared a simulated bench mark the whole report, on every
    page; a lot of real stations only carries no such mark."""
    flags = [False] * 4 + [True] * 2
    pages = _lot_pages(tmp_path / "mixed", flags, tmp_path / "lot.pdf")
    assert "SIMULATED: 2 of 6 runs in this lot come from a simulated bench" in pages[0]
    assert all("· SIMULATED" in p for p in pages), [p[-120:] for p in pages]
    html = _lot_pages(tmp_path / "mixed-html", flags, tmp_path / "lot.html")[0]
    assert "SIMULATED: 2 of 6 runs" in html
    real = _lot_pages(tmp_path / "real", [False] * 4, tmp_path / "real.pdf")
    assert not any("SIMULATED" in p for p in real)
