"""The ANOVA gauge R&R reproduces a published study, and its pooling and variance
components follow AIAG's definitions.

Published example: the AIAG MSA manual's (4th ed.) study of 10 parts × 3 appraisers ×
3 trials. Data as printed in the manual, reproduced in Table 1 of W. McNeese, "Three
Methods to Analyze Gage R&R Studies", SPC for Excel, February 2015, and shipped with
Minitab as its crossed gage R&R example. Published results, Minitab 19 Help, "Example of
Crossed Gage R&R Study" (support.minitab.com/en-us/minitab/19/help-and-how-to/
quality-and-process-improvement/measurement-system-analysis/how-to/gage-study/
crossed-gage-r-r-study/before-you-start/example): the part × operator interaction has
p = 0.974 and is removed; %Contribution of Part-To-Part 92.24 %, of Total Gage R&R 7.76 %;
Total Gage R&R 27.86 % of the study variation; 4 distinct categories.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reports.msa.grr import (
    ACCEPTABLE,
    NO_GAUGE_VARIATION,
    NO_VARIATION,
    anova_table,
    grr,
    long_frame,
)

# appraiser → trials → parts 1..10 (AIAG MSA 4th ed.)
AIAG = {
    "A": [[0.29, -0.56, 1.34, 0.47, -0.80, 0.02, 0.59, -0.31, 2.26, -1.36],
          [0.41, -0.68, 1.17, 0.50, -0.92, -0.11, 0.75, -0.20, 1.99, -1.25],
          [0.64, -0.58, 1.27, 0.64, -0.84, -0.21, 0.66, -0.17, 2.01, -1.31]],
    "B": [[0.08, -0.47, 1.19, 0.01, -0.56, -0.20, 0.47, -0.63, 1.80, -1.68],
          [0.25, -1.22, 0.94, 1.03, -1.20, 0.22, 0.55, 0.08, 2.12, -1.62],
          [0.07, -0.68, 1.34, 0.20, -1.28, 0.06, 0.83, -0.34, 2.19, -1.50]],
    "C": [[0.04, -1.38, 0.88, 0.14, -1.46, -0.29, 0.02, -0.46, 1.77, -1.49],
          [-0.11, -1.13, 1.09, 0.20, -1.07, -0.67, 0.01, -0.56, 1.45, -1.77],
          [-0.15, -0.96, 0.67, 0.11, -1.45, -0.49, 0.21, -0.49, 1.87, -2.16]],
}


def aiag_frame(extra: float = 0.0) -> pd.DataFrame:
    """The published data; ``extra`` adds an appraiser × part interaction of that size."""
    cells: dict[tuple[str, str], list[float]] = {}
    for a, (appraiser, trials) in enumerate(AIAG.items()):
        for trial in trials:
            for p, v in enumerate(trial):
                bump = extra * (1 if (p + a) % 2 else -1)
                cells.setdefault((str(p + 1), appraiser), []).append(v + bump)
    return long_frame(cells)


def test_reproduces_the_published_aiag_study() -> None:
    r = grr(aiag_frame(), name="aiag")
    assert round(r.interaction_p, 3) == 0.974          # type: ignore[arg-type]
    assert r.pooled and r.interaction == 0.0
    contribution_grr = 100 * r.grr ** 2 / r.tv ** 2
    contribution_part = 100 * r.pv ** 2 / r.tv ** 2
    assert round(contribution_part, 2) == 92.24
    assert round(contribution_grr, 2) == 7.76
    assert round(r.pct_tv, 2) == 27.86                  # type: ignore[arg-type]
    assert r.ndc_whole == 4
    assert r.status != ACCEPTABLE                        # 27.9 % and ndc 4 miss both targets


def test_sums_of_squares_agree_with_statsmodels_ols_anova() -> None:
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    df = aiag_frame(extra=0.07)
    ours = anova_table(df)
    theirs = anova_lm(smf.ols("value ~ C(part) * C(appraiser)", data=df).fit(), typ=1)
    names = {"part": "C(part)", "appraiser": "C(appraiser)",
             "interaction": "C(part):C(appraiser)", "error": "Residual"}
    for key, row in names.items():
        assert ours[key][0] == int(theirs.loc[row, "df"])
        assert ours[key][1] == pytest.approx(theirs.loc[row, "sum_sq"], rel=1e-10, abs=1e-12)


def test_interaction_pooled_only_above_alpha() -> None:
    """An interaction with 0.05 < p < 0.25 is kept at AIAG-style α = 0.25 and pooled at 0.05."""
    for step in range(1, 200):
        df = aiag_frame(extra=0.002 * step)
        p = grr(df).interaction_p
        assert p is not None
        if 0.05 < p < 0.25:
            break
    else:
        pytest.fail("no interaction size gave 0.05 < p < 0.25")
    kept, pooled = grr(df, alpha_interaction=0.25), grr(df, alpha_interaction=0.05)
    assert not kept.pooled and kept.interaction > 0
    assert pooled.pooled and pooled.interaction == 0
    assert [a.source for a in kept.anova] == ["part", "appraiser", "part × appraiser",
                                              "repeatability", "total"]
    assert kept.anova[2].p == pytest.approx(p)


def test_variance_components_by_hand() -> None:
    """2 parts × 2 appraisers × 2 trials: cells (1, 3) for part 1, (5, 7) for part 2, the
    same for both appraisers. SS_P = 2·2·(2² + 2²) = 32, SS_E = 4 cells × 2 = 8, no
    appraiser or interaction sum: pooled MS_E = 8/5 = 1.6, PV² = (32 − 1.6)/4 = 7.6."""
    df = long_frame({("p1", "A"): [1, 3], ("p1", "B"): [1, 3],
                     ("p2", "A"): [5, 7], ("p2", "B"): [5, 7]})
    r = grr(df, low=0.0, high=20.0)
    assert r.pooled and r.interaction_p == pytest.approx(1.0)
    assert r.ev == pytest.approx(math.sqrt(1.6))
    assert r.av == 0.0                                   # (0 − 1.6)/4 < 0 is reported as 0
    assert r.pv == pytest.approx(math.sqrt(7.6))
    assert r.grr == pytest.approx(math.sqrt(1.6))
    assert r.tv == pytest.approx(math.sqrt(9.2))
    assert r.pct_tv == pytest.approx(100 * math.sqrt(1.6 / 9.2))
    assert r.pct_tolerance == pytest.approx(100 * 6 * math.sqrt(1.6) / 20.0)
    assert r.ndc == pytest.approx(1.41 * math.sqrt(7.6 / 1.6))


def test_one_sided_tolerance_uses_the_distance_to_the_limit() -> None:
    df = long_frame({("p1", "A"): [1, 3], ("p1", "B"): [1, 3],
                     ("p2", "A"): [5, 7], ("p2", "B"): [5, 7]})
    r = grr(df, high=24.0)                               # grand mean 4: 20 to the limit
    assert r.tolerance is None
    assert r.pct_tolerance == pytest.approx(100 * 3 * math.sqrt(1.6) / 20.0)


def test_constant_readings_are_resolution_limited_not_a_division_by_zero() -> None:
    flat = long_frame({(p, a): [1.0, 1.0] for p in ("p1", "p2") for a in ("A", "B")})
    r = grr(flat)
    assert r.status == NO_VARIATION and r.ndc is None and r.pct_tv is None
    repeated = long_frame({("p1", "A"): [1.0, 1.0], ("p1", "B"): [1.0, 1.0],
                           ("p2", "A"): [2.0, 2.0], ("p2", "B"): [2.0, 2.0]})
    r = grr(repeated)
    assert r.status == NO_GAUGE_VARIATION and r.grr == 0 and r.pv > 0 and r.ndc is None


def test_a_design_that_is_not_crossed_and_balanced_is_refused() -> None:
    df = long_frame({("p1", "A"): [1, 2], ("p1", "B"): [1, 2], ("p2", "A"): [3, 4]})
    with pytest.raises(ValueError, match="crossed and balanced"):
        grr(df)
