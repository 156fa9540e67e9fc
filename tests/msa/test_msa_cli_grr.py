"""``station msa grr`` on a tiny crossed study (2 population units × 2 operators × 2 trials,
in two processes): every cell run once per trial, and the table, JSON and PDF agree with
an independent ANOVA of the run records."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from reports.record import Record
from stations.cli import app


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("grr")
    result = CliRunner().invoke(app, ["msa", "grr", "--parts", "2", "--operator", "A",
                                      "--operator", "B", "--repeats", "2", "--jobs", "2",
                                      "--plots", "2", "--out", str(out)])
    folder = out / "grr-001"
    data = json.loads((folder / "grr.json").read_text(encoding="utf-8"))
    runs = {p.name: Record.load(next(p.glob("PV5*.json"))) for p in (folder / "runs").iterdir()}
    return {"result": result, "folder": folder, "json": data, "runs": runs,
            "by_name": {r["name"]: r for r in data["results"]}}


def test_the_study_is_crossed(study: dict[str, Any]) -> None:
    data, runs = study["json"], study["runs"]
    assert len(data["parts"]) == 2 and data["appraisers"] == ["A", "B"] and data["trials"] == 2
    cells = Counter((r.serial, r.operator) for r in runs.values())
    assert cells == {(p, a): 2 for p in data["parts"] for a in ("A", "B")}
    assert all(r.verdict == "PASS" for r in runs.values())


def test_figures_match_an_independent_anova_of_the_records(study: dict[str, Any]) -> None:
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    df = pd.DataFrame([(r.serial, r.operator, float(r.measurement("ocv_v").value))  # type: ignore[arg-type]
                       for r in study["runs"].values()], columns=["part", "appraiser", "value"])
    table = anova_lm(smf.ols("value ~ C(part) * C(appraiser)", data=df).fit(), typ=1)
    ms = table.sum_sq / table.df
    r = study["by_name"]["ocv_v"]
    o = p = n = 2
    if r["pooled"]:
        ms_e = (table.sum_sq.iloc[2] + table.sum_sq.iloc[3]) / (table.df.iloc[2] + table.df.iloc[3])
        pv2 = (ms.iloc[0] - ms_e) / (o * n)
        av2 = max(0.0, (ms.iloc[1] - ms_e) / (p * n))
        int2 = 0.0
    else:
        ms_e = ms.iloc[3]
        pv2 = (ms.iloc[0] - ms.iloc[2]) / (o * n)
        av2 = max(0.0, (ms.iloc[1] - ms.iloc[2]) / (p * n))
        int2 = max(0.0, (ms.iloc[2] - ms.iloc[3]) / n)
    grr = math.sqrt(ms_e + av2 + int2)
    assert r["ev"] == pytest.approx(math.sqrt(ms_e), rel=1e-6)
    assert r["pv"] == pytest.approx(math.sqrt(pv2), rel=1e-6)
    assert r["grr"] == pytest.approx(grr, rel=1e-6)
    assert r["pct_tv"] == pytest.approx(100 * grr / math.sqrt(grr ** 2 + pv2), rel=1e-6)
    assert r["ndc"] == pytest.approx(1.41 * math.sqrt(pv2) / grr, rel=1e-6)
    assert r["pct_tolerance"] == pytest.approx(100 * 6 * grr / (53.6 - 51.5), rel=1e-6)
    assert r["pv"] > r["grr"] > 0, "units of the population differ in their OCV"


def test_table_pdf_and_exit_code(study: dict[str, Any]) -> None:
    data, result = study["json"], study["result"]
    missing = [r["name"] for r in data["results"] if r["status"] not in (
        "acceptable", "no variation (resolution-limited)",
        "no gauge variation (resolution-limited)")]
    assert result.exit_code == (1 if missing else 0), result.output
    row = next(line for line in result.stdout.splitlines() if " ocv_v " in line)
    assert study["by_name"]["ocv_v"]["status"] in row
    # each unit's release timer is its own (the population draws it), and each reads the same
    # on every trial to within one sample of the load's 100 Hz capture (a trial's own noise
    # moves its timeline by a few ms of wire time, so a release near a sample can read one
    # sample later): the parts differ, the gauge at most by its resolution
    release = study["by_name"]["peak_tier_release_s"]
    assert release["status"] in ("no gauge variation (resolution-limited)", "acceptable"), release
    per_part: dict[str, list[float]] = {}
    for r in study["runs"].values():
        per_part.setdefault(r.serial, []).append(float(r.measurement("peak_tier_release_s").value))
    assert all(max(v) - min(v) <= 0.01 + 1e-9 for v in per_part.values()), per_part
    assert len({round(min(v), 2) for v in per_part.values()}) == len(per_part), per_part
    text = " ".join(p.extract_text() for p in PdfReader(study["folder"] / "grr.pdf").pages)
    assert "Gauge R&R (crossed, ANOVA): 2 parts × 2 appraisers × 2 trials" in text
    assert "%GRR TV" in text and "ocv_v" in text
    if missing:   # the worst two are drawn, each with its ANOVA table
        assert text.count("repeatability") >= min(2, len(missing))


def test_one_appraiser_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["msa", "grr", "--operator", "A", "--out", str(tmp_path)])
    assert result.exit_code == 3 and "at least 2 appraisers" in result.output
    assert not list(tmp_path.rglob("*.json"))
