#!/usr/bin/env python3
"""Generate reference values for the agreement statistics of `skintex agree`
(src/study/stats.rs: icc_agreement; src/agree/stats.rs: Bland-Altman).

Writes tests/fixtures/reference/agreement.json.

For each dataset (a subjects x raters table, e.g. line length in mm by skintex and an expert):
- pingouin.intraclass_corr(data, targets='subject', raters='rater', ratings='value') row
  "ICC(A,1)" (= ICC(2,1), two-way random effects, absolute agreement, single rater; Shrout &
  Fleiss 1979; "ICC(A,1)" of McGraw & Wong 1996): ICC, F, df1, df2 and its 95 % CI, with
  pingouin's CI rounding switched off (pingouin.options['round.column.CI95'] = None).
- For two-rater tables, the Bland-Altman bias (mean of rater 2 - rater 1) and 95 % limits of
  agreement bias -/+ 1.96 * SD(ddof=1) of the differences (numpy; Bland & Altman 1986).

Run from the repo root inside a venv with pingouin (see README.md in this folder):
    python3.11 -m venv /tmp/venv-agree
    /tmp/venv-agree/bin/pip install numpy==2.4.6 scipy==1.17.1 pingouin==0.7.0
    /tmp/venv-agree/bin/python tools/reference/make_agreement_fixtures.py
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin

from _refcommon import FIXTURE_DIR, log, provenance, write_json


def dataset(seed, n, k, between_sd, noise_sd, level, bias=()):
    rng = np.random.default_rng(seed)
    truth = level + between_sd * rng.normal(size=n)
    table = truth[:, None] + noise_sd * rng.normal(size=(n, k))
    for j, b in enumerate(bias):
        table[:, j] += b
    return table


DATASETS = [
    ("two raters n=10, no bias", dataset(1901, 10, 2, 5.0, 1.0, 20.0)),
    ("two raters n=12, rater 2 reads 3 mm more (ICC(2,1) below ICC(3,1))", dataset(1902, 12, 2, 4.0, 1.0, 15.0, bias=(0.0, 3.0))),
    ("three raters n=8", dataset(1903, 8, 3, 1.0, 0.4, 5.0, bias=(0.0, 0.2, -0.3))),
    ("scar counts n=9, two raters", np.array([[3, 3], [5, 4], [0, 1], [2, 2], [7, 6], [1, 1], [4, 5], [6, 6], [2, 1]], dtype=float)),
    ("noise dominates n=6 k=2", dataset(1905, 6, 2, 0.2, 1.0, 3.0)),
    ("n=3 k=2 (hand-sized)", np.array([[1.0, 1.2], [2.0, 1.9], [1.5, 1.5]])),
]


def long_form(table):
    return pd.DataFrame(
        [{"subject": f"S{i:02d}", "rater": j + 1, "value": v} for i, r in enumerate(table) for j, v in enumerate(r)]
    )


def main():
    pingouin.options["round"] = None
    pingouin.options["round.column.CI95"] = None
    out = {
        "provenance": provenance(__file__, ["numpy", "scipy", "pandas", "pingouin"]),
        "definitions": {
            "table": "rows = subjects (images x zones), columns = raters.",
            "icc": "pingouin.intraclass_corr(...) Type 'ICC(A,1)' = ICC(2,1).",
            "icc_ci": "its CI95, unrounded.",
            "F, df1, df2": "of that row (F = MS_rows / MS_error).",
            "ba_bias": "two raters: mean(rater 2 - rater 1), numpy.",
            "ba_loa": "bias -/+ 1.96 * std(rater 2 - rater 1, ddof=1), numpy.",
        },
        "datasets": [],
    }
    for note, table in DATASETS:
        res = pingouin.intraclass_corr(long_form(table), targets="subject", raters="rater", ratings="value")
        row = res.set_index("Type").loc["ICC(A,1)"]
        entry = {
            "note": note,
            "table": [[float(v) for v in r] for r in table],
            "icc": float(row["ICC"]),
            "icc_ci": [float(x) for x in row["CI95"]],
            "F": float(row["F"]),
            "df1": int(row["df1"]),
            "df2": int(row["df2"]),
        }
        if table.shape[1] == 2:
            d = table[:, 1] - table[:, 0]
            bias, sd = float(np.mean(d)), float(np.std(d, ddof=1))
            entry["ba_bias"] = bias
            entry["ba_loa"] = [bias - 1.96 * sd, bias + 1.96 * sd]
        out["datasets"].append(entry)
        log(f"{note}: ICC(A,1) {entry['icc']:.4f} CI {entry['icc_ci']}")
    write_json(FIXTURE_DIR / "agreement.json", out)


if __name__ == "__main__":
    main()
