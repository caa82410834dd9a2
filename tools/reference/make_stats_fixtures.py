#!/usr/bin/env python3
"""Generate reference fixtures for the study statistics (src/study/stats.rs).

Writes tests/fixtures/reference/stats.json:
- per dataset of paired differences: n, mean, sd (ddof=1) from numpy;
  scipy.stats.ttest_1samp (t, df, two-sided p); scipy.stats.wilcoxon with all
  defaults (statistic, two-sided p) plus the branch scipy's method='auto' took;
  Hedges' g for the paired design (d_z times the exact gamma correction J).
- ttest_rel on one before/after pair, to show it equals ttest_1samp(x - y).
- Hedges' g between two independent groups (pooled SD).
- statsmodels multipletests(method='holm') on several p-value vectors (missing
  values dropped before the call and put back afterwards).
- numpy.percentile (default method 'linear') of a fixed array.

Run from the repo root inside the reference venv:
    /work/venv-ref/bin/python tools/reference/make_stats_fixtures.py
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from _refcommon import FIXTURE_DIR, log, provenance, rel_diff, write_json

try:
    from statsmodels.stats.multitest import multipletests
except ImportError:  # pragma: no cover - the fixture then records numpy only
    multipletests = None


def rng_normal(seed: int, n: int, loc: float, scale: float) -> list[float]:
    return [float(v) for v in np.random.default_rng(seed).normal(loc, scale, n)]


def rounded(seed: int, n: int, loc: float, scale: float, step: float) -> list[float]:
    """Normal values rounded to a grid of `step`: makes ties and exact zeros."""
    v = np.random.default_rng(seed).normal(loc, scale, n)
    return [float(x) for x in np.round(v / step) * step]


DATASETS = [
    # (name, differences, what it covers)
    ("n1", [0.7], "n = 1: t-test undefined; wilcoxon exact with n = 1"),
    ("n2", [0.4, 1.3], "n = 2: smallest t-test; g undefined (df = 1)"),
    ("n3", [0.8, -0.3, 1.1], "n = 3, mixed signs, exact wilcoxon"),
    ("n5_mixed", [1.2, 0.4, 2.1, -0.6, 0.9], "n = 5, exact"),
    ("n8_normal", rng_normal(101, 8, 0.5, 1.0), "n = 8 from N(0.5, 1), exact"),
    ("n10_ties", [1.0, 2.0, 2.0, -3.0, 4.0, 4.0, 4.0, -1.0, 5.0, 6.0],
     "ties, n <= 13: scipy auto uses an exact sign-flip permutation test"),
    ("n10_zeros", [0.0, 1.5, -0.5, 2.0, 0.0, 3.5, 1.5, -2.0, 2.5, 4.0],
     "zeros and ties, n <= 13: permutation test; zeros dropped (wilcox)"),
    ("n12_negative", rng_normal(102, 12, -2.0, 0.7), "all negative, exact, small p"),
    ("n13_ties", rounded(103, 13, 0.3, 1.0, 0.5), "ties at n = 13: last permutation size"),
    ("n14_ties", rounded(104, 14, 0.3, 1.0, 0.5), "ties at n = 14: first asymptotic size"),
    ("n20_normal", rng_normal(105, 20, 0.3, 1.0), "n = 20 no ties, exact"),
    ("n25_ties", rounded(106, 25, 0.4, 1.0, 0.5), "ties, 13 < n <= 50: asymptotic with tie correction"),
    ("n30_zeros", rounded(107, 30, 0.1, 0.6, 0.5), "zeros and ties: asymptotic, zeros dropped"),
    ("n40_strong", rng_normal(108, 40, 3.0, 1.0), "strong effect: p near 0"),
    ("n50_normal", rng_normal(109, 50, 0.2, 1.0), "n = 50 no ties: last exact size"),
    ("n51_normal", rng_normal(110, 51, 0.2, 1.0), "n = 51 no ties: asymptotic"),
    ("n80_ties_zeros", rounded(111, 80, -0.15, 1.0, 0.25), "n > 50, ties and zeros: asymptotic"),
    ("n2000_normal", rng_normal(112, 2000, 0.05, 1.0),
     "large n: t-test p with df = 1999 (continued-fraction convergence), asymptotic wilcoxon"),
    ("all_equal", [0.5] * 6, "sd = 0: t and g undefined; wilcoxon all ties"),
    ("all_zero", [0.0] * 5, "every difference zero: nothing to test"),
    ("mixed_scale", [1e-3, -2e-3, 5e-4, 3e-3, 2.5e-3, -1e-4, 4e-3], "small magnitudes, exact"),
]

# Independent-group pairs for Hedges' g (a - b), referring to DATASETS names or literals.
INDEPENDENT = [
    ("n8_vs_n12", "n8_normal", "n12_negative"),
    ("n20_vs_n25", "n20_normal", "n25_ties"),
    ("n3_vs_n5", "n3", "n5_mixed"),
    ("n51_vs_n50", "n51_normal", "n50_normal"),
]

HOLM = [
    ("sorted", [0.01, 0.02, 0.03, 0.04, 0.05]),
    ("unsorted", [0.04, 0.001, 0.3, 0.012, 0.5, 0.0002]),
    ("ties", [0.02, 0.02, 0.01, 0.5, 0.02]),
    ("cap_at_one", [0.6, 0.4, 0.9, 0.7]),
    ("monotone_needed", [0.001, 0.049, 0.02, 0.0101]),
    ("with_missing", [0.03, None, 0.001, 0.2, None, 0.04]),
    ("single", [0.037]),
    ("all_missing", [None, None]),
    ("zeros_and_ones", [0.0, 1.0, 0.5, 0.0]),
]

PERCENTILE_QS = [0.0, 2.5, 5.0, 10.0, 25.0, 33.3, 50.0, 66.7, 75.0, 90.0, 97.5, 100.0]

DEFINITIONS = {
    "summary": "n = number of values; mean = numpy.mean; sd = numpy.std(ddof=1) (n - 1 denominator).",
    "ttest": "scipy.stats.ttest_1samp(d, 0.0): t = mean / (sd / sqrt(n)), df = n - 1, "
    "p = 2 * t_df.sf(|t|). null where scipy returns NaN or +-inf (n < 2, or sd = 0).",
    "wilcoxon": "scipy.stats.wilcoxon(d) with all defaults (zero_method='wilcox', correction=False, "
    "alternative='two-sided', method='auto'). statistic = min(W+, W-) over the non-zero differences "
    "(average ranks of |d| for ties). 'auto' in scipy 1.17 (_wilcoxon.py): if len(d) > 50 -> "
    "asymptotic; else if no ties and no zeros -> exact null distribution of W+; else if len(d) <= 13 -> "
    "PermutationMethod() (default 9999 resamples >= 2**len(d), so an exact enumeration of all sign "
    "flips: p = 2 * min(P(W+ <= w), P(W+ >= w)), clipped to 1); else asymptotic. Asymptotic: "
    "z = (W+ - m(m+1)/4) / sqrt((m(m+1)(2m+1) - sum(t^3 - t)/2) / 24), m = non-zero count, t = tie "
    "group sizes among non-zero |d|; NO continuity correction (correction=False default); "
    "p = 2 * Phi(-|z|). 'branch' records which path was taken.",
    "hedges_g_paired": "d_z = mean(d) / sd(d) (Lakens 2013, eq. 6); g = d_z * J(df), df = n - 1, "
    "J(df) = Gamma(df/2) / (sqrt(df/2) * Gamma((df - 1)/2)) (Hedges 1981 exact form, computed with "
    "scipy.special.gammaln). Also recorded: J_approx = 1 - 3/(4 df - 1). null if n < 3 or sd = 0.",
    "hedges_g_independent": "d = (mean(a) - mean(b)) / s_p, s_p = sqrt(((na-1) sa^2 + (nb-1) sb^2) / "
    "(na + nb - 2)); g = d * J(na + nb - 2), same exact J.",
    "holm": "statsmodels.stats.multitest.multipletests(p, method='holm')[1] on the non-missing entries; "
    "missing (null) entries stay missing and do not count towards m. Cross-checked with a numpy "
    "step-down: sort ascending, adj_i = max_{j<=i} min(1, (m - j + 1) p_(j)).",
    "percentile": "numpy.percentile(x, q) with the default method='linear' (Hyndman & Fan type 7): "
    "h = (n - 1) q / 100, x_(floor h) + (h - floor h)(x_(floor h + 1) - x_(floor h)) on sorted x.",
}


def finite_or_none(v):
    v = float(v)
    return v if math.isfinite(v) else None


def j_exact(df: float) -> float:
    return math.exp(special.gammaln(df / 2) - 0.5 * math.log(df / 2) - special.gammaln((df - 1) / 2))


def wilcoxon_branch(d: np.ndarray) -> str:
    """Replicates the 'auto' decision in scipy 1.17 _wilcoxon._wilcoxon_nd."""
    n = len(d)
    if n > 50:
        return "asymptotic"
    nz = d[d != 0]
    has_ties = len(np.unique(np.abs(nz))) < len(nz)
    n_zero = int(np.sum(d == 0))
    if not (has_ties or n_zero > 0):
        return "exact"
    if n <= 13:
        return "permutation"
    return "asymptotic"


def wilcoxon_numpy(d: np.ndarray) -> tuple[float, float] | None:
    """Independent re-implementation of the branches, for the cross-check."""
    branch = wilcoxon_branch(d)
    nz = d[d != 0]
    m = len(nz)
    if m == 0:
        return None
    r = stats.rankdata(np.abs(nz))
    wp = float(np.sum(r[nz > 0]))
    wm = float(np.sum(r[nz < 0]))
    stat = min(wp, wm)
    if branch == "asymptotic":
        _, counts = np.unique(np.abs(nz), return_counts=True)
        tie = float(np.sum(counts.astype(float) ** 3 - counts))
        se = math.sqrt((m * (m + 1) * (2 * m + 1) - tie / 2) / 24)
        z = (wp - m * (m + 1) / 4) / se
        return stat, float(2 * special.ndtr(-abs(z)))
    # exact / permutation: enumerate sign flips on doubled ranks (integers)
    r2 = np.rint(2 * r).astype(np.int64)
    total = int(r2.sum())
    counts = np.zeros(total + 1, dtype=object)
    counts[0] = 1
    for ri in r2:
        new = counts.copy()
        new[ri:] += counts[: total + 1 - ri]
        counts = new
    s = int(round(2 * wp))
    le = sum(counts[: s + 1])
    ge = sum(counts[s:])
    p = min(1.0, 2 * min(le, ge) / 2**m)
    return stat, float(p)


def holm_numpy(p: list[float]) -> list[float]:
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out = np.empty(m)
    out[order] = adj
    return out.tolist()


def main():
    data = {name: np.asarray(v, dtype=np.float64) for name, v, _ in DATASETS}
    result = {
        "provenance": provenance(__file__, ["numpy", "scipy", "statsmodels"]),
        "definitions": DEFINITIONS,
        "datasets": [],
        "ttest_rel": None,
        "hedges_g_independent": [],
        "holm": [],
        "percentile": None,
    }
    worst = {"wilcoxon_numpy_vs_scipy": 0.0, "holm_numpy_vs_statsmodels": 0.0, "ttest_formula": 0.0}

    for name, values, note in DATASETS:
        d = data[name]
        n = len(d)
        entry = {"name": name, "note": note, "values": d, "n": n}
        entry["mean"] = float(np.mean(d))
        entry["sd"] = float(np.std(d, ddof=1)) if n >= 2 else None

        t = stats.ttest_1samp(d, 0.0) if n >= 2 else None
        if t is not None and math.isfinite(float(t.statistic)) and math.isfinite(float(t.pvalue)):
            entry["ttest"] = {"t": float(t.statistic), "df": float(t.df), "p_two_sided": float(t.pvalue)}
            sd = entry["sd"]
            t_formula = entry["mean"] / (sd / math.sqrt(n))
            worst["ttest_formula"] = max(worst["ttest_formula"], rel_diff(t_formula, float(t.statistic)))
        else:
            entry["ttest"] = None
            entry["ttest_scipy_raw"] = (
                None if t is None else {"t": str(float(t.statistic)), "p": str(float(t.pvalue))}
            )

        branch = wilcoxon_branch(d)
        w = stats.wilcoxon(d) if n >= 1 else None
        mine = wilcoxon_numpy(d)
        if mine is None:
            entry["wilcoxon"] = None
            entry["wilcoxon_scipy_raw"] = {"statistic": str(float(w.statistic)), "p": str(float(w.pvalue))}
        else:
            entry["wilcoxon"] = {
                "statistic": float(w.statistic),
                "p_two_sided": float(w.pvalue),
                "branch": branch,
                "n_nonzero": int(np.sum(d != 0)),
            }
            worst["wilcoxon_numpy_vs_scipy"] = max(
                worst["wilcoxon_numpy_vs_scipy"],
                rel_diff(mine[0], float(w.statistic)),
                rel_diff(mine[1], float(w.pvalue)),
            )

        if n >= 3 and entry["sd"] and entry["sd"] > 0:
            df = n - 1
            dz = entry["mean"] / entry["sd"]
            entry["hedges_g"] = {
                "d_z": dz,
                "df": df,
                "j_exact": j_exact(df),
                "j_approx": 1 - 3 / (4 * df - 1),
                "g": dz * j_exact(df),
            }
        else:
            entry["hedges_g"] = None
        result["datasets"].append(entry)
        log(f"{name:16s} n={n:3d} branch={branch:11s} t={entry['ttest'] and entry['ttest']['t']} "
            f"W={entry['wilcoxon'] and entry['wilcoxon']['statistic']} "
            f"pW={entry['wilcoxon'] and entry['wilcoxon']['p_two_sided']}")

    # ttest_rel == ttest_1samp on differences
    rng = np.random.default_rng(201)
    before = rng.normal(10.0, 2.0, 15)
    after = before + rng.normal(-0.6, 0.8, 15)
    tr = stats.ttest_rel(after, before)
    t1 = stats.ttest_1samp(after - before, 0.0)
    assert rel_diff(float(tr.statistic), float(t1.statistic)) < 1e-14
    assert rel_diff(float(tr.pvalue), float(t1.pvalue)) < 1e-14
    result["ttest_rel"] = {
        "after": after,
        "before": before,
        "t": float(tr.statistic),
        "df": float(tr.df),
        "p_two_sided": float(tr.pvalue),
        "note": "stats.ttest_rel(after, before); equals ttest_1samp(after - before) (checked to 1e-14)",
    }

    for name, an, bn in INDEPENDENT:
        a, b = data[an], data[bn]
        na, nb = len(a), len(b)
        df = na + nb - 2
        sp = math.sqrt(((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / df)
        d = (np.mean(a) - np.mean(b)) / sp
        result["hedges_g_independent"].append(
            {"name": name, "a": an, "b": bn, "pooled_sd": sp, "d": d, "df": df,
             "j_exact": j_exact(df), "g": d * j_exact(df)}
        )

    for name, ps in HOLM:
        present = [i for i, p in enumerate(ps) if p is not None]
        vals = [ps[i] for i in present]
        adj_np = holm_numpy(vals) if vals else []
        if multipletests is not None and vals:
            adj_sm = [float(v) for v in multipletests(vals, method="holm")[1]]
            for x, y in zip(adj_np, adj_sm):
                worst["holm_numpy_vs_statsmodels"] = max(worst["holm_numpy_vs_statsmodels"], abs(x - y))
            source = "statsmodels"
        else:
            adj_sm = adj_np
            source = "numpy"
        full = [None] * len(ps)
        for i, v in zip(present, adj_sm):
            full[i] = v
        result["holm"].append({"name": name, "p": ps, "adjusted": full, "source": source})

    x = np.random.default_rng(301).gamma(2.0, 1.5, 37)
    result["percentile"] = {
        "values": x,
        "q_percent": PERCENTILE_QS,
        "result": [float(v) for v in np.percentile(x, PERCENTILE_QS)],
        "method": "numpy.percentile default (linear)",
    }

    log("cross-checks:", worst)
    assert worst["wilcoxon_numpy_vs_scipy"] < 1e-12, worst
    assert worst["holm_numpy_vs_statsmodels"] < 1e-15, worst
    assert worst["ttest_formula"] < 1e-12, worst
    result["crosschecks_max_diff"] = worst
    out = FIXTURE_DIR / "stats.json"
    write_json(out, result)
    log("wrote", out)


if __name__ == "__main__":
    main()
