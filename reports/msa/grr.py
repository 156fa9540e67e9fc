"""Crossed gauge R&R by the ANOVA method (AIAG MSA 4th ed., chapter III-B and appendix A):
p parts × o appraisers (operators or stations) × r trials, balanced, random effects.

The two-way ANOVA with interaction (numpy, balanced layout) gives the mean squares; the interaction
is tested against repeatability, and pooled into repeatability when its p-value exceeds
``alpha_interaction`` (default 0.25). Variance components (negative estimates are zero):

    EV² = MS_E                      INT² = (MS_PO − MS_E) / r
    AV² = (MS_O − MS_PO) / (p · r)  PV²  = (MS_P − MS_PO) / (o · r)
    (pooled: MS_E' = (SS_PO + SS_E) / (df_PO + df_E) replaces MS_PO and MS_E, INT = 0)
    GRR = √(EV² + AV² + INT²)       TV = √(GRR² + PV²)
    %GRR = 100 · GRR / TV           %GRR of tolerance = 100 · 6 · GRR / T
    ndc = 1.41 · PV / GRR (the whole number of categories is its integer part)

Values that never vary are resolution-limited (no ANOVA); parts that differ but each read
the same every time have GRR = 0 at the recorded resolution (no ndc).

Targets: %GRR < 10 % (of tolerance and of total variation) and ndc ≥ 5. A one-sided limit
has no width: its %GRR of tolerance is 100 · 3 · GRR / |limit − x̄| (x̄ the grand mean).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

ALPHA_INTERACTION = 0.25
SIGMAS = 6.0
NDC_FACTOR = 1.41
TARGET_PCT = 10.0
TARGET_NDC = 5
REL_EPS = 1e-12

ACCEPTABLE = "acceptable"
MARGINAL = "conditionally acceptable"
UNACCEPTABLE = "not acceptable"
NO_VARIATION = "no variation (resolution-limited)"
#: The parts differ but every part reads the same every time: no gauge variation at the
#: recorded resolution (no ndc: it would be infinite).
NO_GAUGE_VARIATION = "no gauge variation (resolution-limited)"


@dataclass(frozen=True)
class AnovaRow:
    source: str
    df: int
    ss: float
    ms: float | None
    f: float | None
    p: float | None


@dataclass(frozen=True)
class GrrResult:
    """The figures of one measurement (standard deviations, not 6σ spreads)."""

    name: str
    unit: str
    parts: int
    appraisers: int
    trials: int
    anova: tuple[AnovaRow, ...]
    interaction_p: float | None
    pooled: bool
    ev: float
    av: float
    interaction: float
    grr: float
    pv: float
    tv: float
    pct_tv: float | None
    pct_tolerance: float | None
    ndc: float | None          # 1.41 · PV / GRR (None: GRR = 0)
    tolerance: float | None
    status: str
    mean: float

    @property
    def ndc_whole(self) -> int | None:
        return None if self.ndc is None else math.floor(self.ndc)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ndc_whole"] = self.ndc_whole
        return d


def _frame(data: pd.DataFrame) -> tuple[pd.DataFrame, int, int, int]:
    """Check the design is crossed and balanced; (frame, parts, appraisers, trials)."""
    need = {"part", "appraiser", "value"}
    if not need <= set(data.columns):
        raise ValueError(f"columns {sorted(need)} are needed, got {sorted(data.columns)}")
    df = data[["part", "appraiser", "value"]].dropna().copy()
    df["part"], df["appraiser"] = df.part.astype(str), df.appraiser.astype(str)
    cells = df.groupby(["part", "appraiser"]).size()
    p, o = df.part.nunique(), df.appraiser.nunique()
    if p < 2 or o < 2:
        raise ValueError(f"a crossed study needs at least 2 parts and 2 appraisers (got {p}, {o})")
    if len(cells) != p * o or cells.nunique() != 1 or int(cells.iloc[0]) < 2:
        raise ValueError("the study is not crossed and balanced: every appraiser must measure "
                         "every part the same number (≥ 2) of times")
    return df, p, o, int(cells.iloc[0])


def anova_table(df: pd.DataFrame) -> dict[str, tuple[int, float]]:
    """Degrees of freedom and sums of squares of the balanced two-way layout (AIAG MSA
    appendix A): part, appraiser, interaction, error (checked against statsmodels' OLS
    ANOVA in tests/msa)."""
    cube = df.pivot_table(index="part", columns="appraiser", values="value",
                          aggfunc=list).map(np.asarray)  # type: ignore[arg-type]  # valid pandas; not in its stubs
    y = np.stack([np.stack(list(row)) for row in cube.to_numpy()])   # part × appraiser × trial
    p, o, r = y.shape
    grand = y.mean()
    part_means, appr_means, cell_means = y.mean(axis=(1, 2)), y.mean(axis=(0, 2)), y.mean(axis=2)
    ss_p = o * r * float(((part_means - grand) ** 2).sum())
    ss_o = p * r * float(((appr_means - grand) ** 2).sum())
    ss_cells = r * float(((cell_means - grand) ** 2).sum())
    ss_e = float(((y - cell_means[:, :, None]) ** 2).sum())
    return {"part": (p - 1, ss_p), "appraiser": (o - 1, ss_o),
            "interaction": ((p - 1) * (o - 1), max(0.0, ss_cells - ss_p - ss_o)),
            "error": (p * o * (r - 1), ss_e)}


def _p(f: float | None, df1: int, df2: int) -> float | None:
    from scipy.stats import f as fdist

    return None if f is None or df2 <= 0 else float(fdist.sf(f, df1, df2))


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _status(pct_tv: float | None, pct_tol: float | None, ndc: float | None) -> str:
    worst = max(x for x in (pct_tv, pct_tol, 0.0) if x is not None)
    if worst < TARGET_PCT and (ndc is None or ndc >= TARGET_NDC):
        return ACCEPTABLE
    return MARGINAL if worst <= 30.0 else UNACCEPTABLE


def grr(data: pd.DataFrame, *, name: str = "", unit: str = "", low: float | None = None,
        high: float | None = None, alpha_interaction: float = ALPHA_INTERACTION) -> GrrResult:
    """Gauge R&R of a long frame with columns part, appraiser, value (one row per trial)."""
    df, p, o, r = _frame(data)
    mean = float(df.value.mean())
    spread = float(df.value.std(ddof=0))
    tol = (high - low) if low is not None and high is not None else None
    if spread <= REL_EPS * max(1.0, abs(mean)):
        return GrrResult(name, unit, p, o, r, (), None, True, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                         None, None, None, tol, NO_VARIATION, mean)
    t = anova_table(df)
    (df_p, ss_p), (df_o, ss_o) = t["part"], t["appraiser"]
    (df_po, ss_po), (df_e, ss_e) = t["interaction"], t["error"]
    ms = {k: ss / d for k, (d, ss) in t.items()}
    # a mean square at the level of float rounding (values exactly repeated) is zero
    eps = 1e-9 * max(ms.values())
    ms = {k: (v if v > eps else 0.0) for k, v in ms.items()}
    # no repeatability at all: the interaction cannot be tested, and is kept
    f_po = _ratio(ms["interaction"], ms["error"])
    p_po = _p(f_po, df_po, df_e) if f_po is not None else None
    pooled = ms["error"] > 0 and (p_po is None or p_po > alpha_interaction)
    rows = [AnovaRow("part", df_p, ss_p, ms["part"], None, None),
            AnovaRow("appraiser", df_o, ss_o, ms["appraiser"], None, None)]
    if pooled:
        ms_e = (ss_po + ss_e) / (df_po + df_e)
        f_pa, f_oa = _ratio(ms["part"], ms_e), _ratio(ms["appraiser"], ms_e)
        rows[0] = AnovaRow("part", df_p, ss_p, ms["part"], f_pa, _p(f_pa, df_p, df_po + df_e))
        rows[1] = AnovaRow("appraiser", df_o, ss_o, ms["appraiser"], f_oa,
                           _p(f_oa, df_o, df_po + df_e))
        rows.append(AnovaRow("repeatability", df_po + df_e, ss_po + ss_e, ms_e, None, None))
        ev2, int2 = ms_e, 0.0
        av2 = (ms["appraiser"] - ms_e) / (p * r)
        pv2 = (ms["part"] - ms_e) / (o * r)
    else:
        f_pa = _ratio(ms["part"], ms["interaction"])
        f_oa = _ratio(ms["appraiser"], ms["interaction"])
        rows[0] = AnovaRow("part", df_p, ss_p, ms["part"], f_pa, _p(f_pa, df_p, df_po))
        rows[1] = AnovaRow("appraiser", df_o, ss_o, ms["appraiser"], f_oa, _p(f_oa, df_o, df_po))
        rows += [AnovaRow("part × appraiser", df_po, ss_po, ms["interaction"], f_po, p_po),
                 AnovaRow("repeatability", df_e, ss_e, ms["error"], None, None)]
        ev2 = ms["error"]
        int2 = (ms["interaction"] - ms["error"]) / r
        av2 = (ms["appraiser"] - ms["interaction"]) / (p * r)
        pv2 = (ms["part"] - ms["interaction"]) / (o * r)
    rows.append(AnovaRow("total", df_p + df_o + df_po + df_e, ss_p + ss_o + ss_po + ss_e,
                         None, None, None))
    ev, av, inter, pv = (math.sqrt(x) if x > eps else 0.0 for x in (ev2, av2, int2, pv2))
    g = math.sqrt(ev * ev + av * av + inter * inter)
    tv = math.sqrt(g * g + pv * pv)
    pct_tv = 100.0 * g / tv if tv > 0 else None
    if tol is not None:
        pct_tol = 100.0 * SIGMAS * g / tol if tol > 0 else None
    else:
        limit = low if low is not None else high
        d = abs(limit - mean) if limit is not None else 0.0
        pct_tol = 100.0 * SIGMAS / 2.0 * g / d if d > 0 else None
    ndc = NDC_FACTOR * pv / g if g > 0 else None
    status = NO_GAUGE_VARIATION if g == 0 else _status(pct_tv, pct_tol, ndc)
    return GrrResult(name, unit, p, o, r, tuple(rows), p_po, pooled, ev, av, inter, g, pv, tv,
                     pct_tv, pct_tol, ndc, tol, status, mean)


def long_frame(values: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """(part, appraiser) → trials as the long frame :func:`grr` takes."""
    rows = [(part, appr, float(v)) for (part, appr), vs in values.items() for v in vs]
    return pd.DataFrame(rows, columns=["part", "appraiser", "value"]).astype(
        {"value": np.float64})


def from_records(labelled: Sequence[tuple[tuple[str, str], Any]], alpha: float = ALPHA_INTERACTION
                 ) -> tuple[list[GrrResult], dict[str, pd.DataFrame], dict[str, str]]:
    """Gauge R&R of every numeric measurement of ``labelled`` records ((part, appraiser),
    record): the results, each measurement's long frame, and why a measurement was not
    analysed (a missing value makes the design unbalanced)."""
    from reports.msa.values import numeric_series

    series = numeric_series([r for _, r in labelled])
    results, data, skipped = [], {}, {}
    for name, s in series.items():
        cells: dict[tuple[str, str], list[float]] = {}
        for (key, _), v in zip(labelled, s.values, strict=True):
            if v is not None:
                cells.setdefault(key, []).append(v)
        frame = long_frame(cells)
        try:
            results.append(grr(frame, name=name, unit=s.unit, low=s.low, high=s.high,
                               alpha_interaction=alpha))
            data[name] = frame
        except ValueError as exc:
            skipped[name] = str(exc)
    return results, data, skipped
