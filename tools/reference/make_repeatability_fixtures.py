#!/usr/bin/env python3
"""Generate reference values for the repeatability statistics (src/study/stats.rs:
icc_consistency, within_subject; src/study/repeatability.rs).

Writes tests/fixtures/reference/repeatability.json.

For each dataset (a subjects x replicates table, NaN = a missing replicate):
- pingouin.intraclass_corr(data, targets='subject', raters='replicate', ratings='value',
  nan_policy='omit') row "ICC(C,1)" (= ICC(3,1), Shrout & Fleiss 1979; McGraw & Wong 1996):
  ICC, F, df1, df2 and its 95 % CI, with pingouin's CI rounding switched off
  (pingouin.options['round.column.CI95'] = None; pingouin rounds it to 2 decimals by default).
  nan_policy='omit' drops every subject with a missing replicate (listwise), the rule
  repeatability.csv applies to its "complete targets".
- MS_error from pingouin.rm_anova(dv='value', within='replicate', subject='subject',
  detailed=True) (row "Error", MS) on those complete subjects: SEM = sqrt(MS_error),
  MDC95 = 1.96 * sqrt(2) * SEM (Weir 2005). MS_rows = F * MS_error.
- The pooled within-subject SD from a one-way ANOVA, pingouin.anova(dv='value',
  between='subject') row "Within" MS, over every subject with >= 2 present values (unbalanced
  allowed); the RMS within-subject CV 100*sqrt(mean_i (sd_i/|mean_i|)^2) (numpy, ddof=1; Bland &
  Altman 1996) and the mean of those values.
- scipy.stats.f.ppf(0.975, df1, df2) and (df2, df1), the quantiles of the CI.

The script recomputes the ICC, its CI and MS_error with its own numpy/scipy code and stops if
they differ from pingouin's by more than 1e-10.

Run from the repo root inside the reference venv (see README.md in this folder):
    /work/venv-ref/bin/python tools/reference/make_repeatability_fixtures.py
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pingouin
from scipy import stats

from _refcommon import FIXTURE_DIR, log, provenance, write_json


def dataset(seed, n, k, between_sd, within_sd, level, drift=0.0, missing=()):
    rng = np.random.default_rng(seed)
    truth = level + between_sd * rng.normal(size=n)
    table = truth[:, None] + within_sd * rng.normal(size=(n, k)) + drift * np.arange(k)[None, :]
    for i, j in missing:
        table[i, j] = np.nan
    return table


DATASETS = [
    ("balanced n=8 k=3, ICC high", dataset(1501, 8, 3, 1.0, 0.2, 10.0)),
    ("balanced n=5 k=2", dataset(1502, 5, 2, 0.5, 0.3, 3.0)),
    ("systematic drift between replicates n=10 k=3 (ICC(3,1) ignores it)", dataset(1503, 10, 3, 2.0, 0.5, 20.0, drift=1.0)),
    ("missing replicates n=7 k=3: subjects 2 and 5 dropped listwise from the ICC", dataset(1504, 7, 3, 0.02, 0.004, 0.08, missing=[(2, 1), (5, 0)])),
    ("noise dominates n=6 k=4 (ICC near or below 0)", dataset(1505, 6, 4, 0.1, 1.0, 5.0)),
    ("n=30 k=2, skin-metric scale", dataset(1506, 30, 2, 0.01, 0.0015, 0.05)),
    ("n=3 k=2 (hand-sized)", np.array([[1.0, 1.2], [2.0, 1.9], [1.5, 1.5]])),
]


def long_form(table):
    rows = []
    for i, r in enumerate(table):
        for j, v in enumerate(r):
            rows.append({"subject": f"S{i:02d}", "replicate": j + 1, "value": v})
    return pd.DataFrame(rows)


def own_icc(complete):
    n, k = complete.shape
    grand = complete.mean()
    rm = complete.mean(axis=1)
    cm = complete.mean(axis=0)
    ms_r = k * ((rm - grand) ** 2).sum() / (n - 1)
    resid = complete - rm[:, None] - cm[None, :] + grand
    ms_e = (resid**2).sum() / ((n - 1) * (k - 1))
    icc = (ms_r - ms_e) / (ms_r + (k - 1) * ms_e)
    f = ms_r / ms_e
    df1, df2 = n - 1, (n - 1) * (k - 1)
    fl = f / stats.f.ppf(0.975, df1, df2)
    fu = f * stats.f.ppf(0.975, df2, df1)
    return icc, ((fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)), ms_r, ms_e


def main():
    pingouin.options["round"] = None
    pingouin.options["round.column.CI95"] = None
    out = {
        "provenance": provenance(__file__, ["numpy", "scipy", "pandas", "pingouin"]),
        "definitions": {
            "table": "rows = subjects, columns = replicates (occasions); null = missing.",
            "icc": "pingouin.intraclass_corr(..., nan_policy='omit') Type 'ICC(C,1)' = ICC(3,1), on the subjects with every replicate.",
            "icc_ci": "its CI95, unrounded (pingouin.options['round.column.CI95'] = None).",
            "ms_error": "pingouin.rm_anova(dv, within='replicate', subject='subject', detailed=True) Error MS on the complete subjects.",
            "ms_rows": "F * ms_error, F from intraclass_corr.",
            "sem": "sqrt(ms_error)",
            "mdc95": "1.96 * sqrt(2) * sem",
            "within_sd": "sqrt(Within MS) of pingouin.anova(dv='value', between='subject') over subjects with >= 2 present values.",
            "cv_pct": "100 * sqrt(mean over those subjects of (std(ddof=1)/|mean|)^2), numpy.",
            "mean": "mean of those values, numpy.",
            "f_quantiles": "scipy.stats.f.ppf(0.975, df1, df2) and f.ppf(0.975, df2, df1).",
        },
        "datasets": [],
    }
    worst = 0.0
    for note, table in DATASETS:
        df = long_form(table)
        res = pingouin.intraclass_corr(df, targets="subject", raters="replicate", ratings="value", nan_policy="omit")
        row = res.set_index("Type").loc["ICC(C,1)"]
        complete_mask = ~np.isnan(table).any(axis=1)
        complete = table[complete_mask]
        kept = {f"S{i:02d}" for i in np.flatnonzero(complete_mask)}
        aov = pingouin.rm_anova(df[df.subject.isin(kept)], dv="value", within="replicate", subject="subject", detailed=True)
        ms_error = float(aov.set_index("Source").loc["Error", "MS"])
        icc_own, ci_own, ms_r_own, ms_e_own = own_icc(complete)
        ci = [float(x) for x in row["CI95"]]
        for a, b in [(icc_own, row["ICC"]), (ci_own[0], ci[0]), (ci_own[1], ci[1]), (ms_e_own, ms_error), (ms_r_own, row["F"] * ms_error)]:
            worst = max(worst, abs(a - b) / max(abs(b), 1e-300))
        present = [r[~np.isnan(r)] for r in table]
        groups = [g for g in present if len(g) >= 2]
        dfw = pd.DataFrame([{"subject": i, "value": v} for i, g in enumerate(groups) for v in g])
        one_way = pingouin.anova(dfw, dv="value", between="subject", detailed=True)
        within_ms = float(one_way.set_index("Source").loc["Within", "MS"])
        cvs = [np.std(g, ddof=1) / abs(np.mean(g)) for g in groups]
        df1, df2 = int(row["df1"]), int(row["df2"])
        sem = math.sqrt(ms_error)
        out["datasets"].append(
            {
                "note": note,
                "table": [[None if math.isnan(v) else float(v) for v in r] for r in table],
                "icc_subjects": int(complete.shape[0]),
                "k": int(table.shape[1]),
                "icc": float(row["ICC"]),
                "icc_ci": ci,
                "F": float(row["F"]),
                "df1": df1,
                "df2": df2,
                "ms_error": ms_error,
                "ms_rows": float(row["F"]) * ms_error,
                "sem": sem,
                "mdc95": 1.96 * math.sqrt(2.0) * sem,
                "within_sd": math.sqrt(within_ms),
                "cv_pct": 100.0 * math.sqrt(np.mean(np.square(cvs))),
                "mean": float(np.mean(np.concatenate(groups))),
                "within_subjects": len(groups),
                "within_values": int(sum(len(g) for g in groups)),
                "f_quantiles": [float(stats.f.ppf(0.975, df1, df2)), float(stats.f.ppf(0.975, df2, df1))],
            }
        )
    if worst > 1e-10:
        raise SystemExit(f"own ICC/CI/MS differ from pingouin's by {worst}")
    log(f"own numpy ICC, CI and mean squares vs pingouin: max rel diff {worst:.1e}")
    write_json(FIXTURE_DIR / "repeatability.json", out)


if __name__ == "__main__":
    main()
