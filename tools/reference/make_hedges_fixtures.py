#!/usr/bin/env python3
"""Generate independent reference values of Hedges' g (src/study/stats.rs).

Writes tests/fixtures/reference/hedges.json.

skintex's Hedges' g is Hedges (1981)'s exact small-sample correction J(m) times the
standardised difference: d_z = mean(d)/sd(d) for paired differences (m = n - 1), Cohen's d with
the pooled SD for two independent groups (m = n_a + n_b - 2). stats.json (made by
make_stats_fixtures.py) computes J with the same gamma formula the Rust code uses; this script
checks the code against implementations that do not share it:

- J(m) from its definition, by numerical integration: Hedges' g is the unbiased estimator of
  the standardised difference delta. With s the sample SD of m degrees of freedom,
  s = sigma * chi_m / sqrt(m), so E[d] = delta * sqrt(m) * E[1/chi_m] and
  J(m) = 1 / (sqrt(m) * E[1/chi_m]), E[1/chi_m] = integral of chi.pdf(x, m) / x dx
  (scipy.integrate.quad over scipy.stats.chi). Hedges 1981, J Educ Stat 6:107-128,
  doi:10.3102/10769986006002107, eq. 6e gives the closed form
  J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)); the script checks that the two agree
  (< 1e-10) with scipy.special.gamma, and records Hedges & Olkin (1985, Statistical Methods
  for Meta-Analysis, eq. 5.10)'s approximation 1 - 3/(4m - 1) (= 1 - 3/(4(n_a + n_b) - 9) for
  two groups).
- d_z from pingouin 0.7.0 (`compute_effsize(x, y, paired=True, eftype='cohen_dz')`, with y = 0
  so that x - y = d), and Hedges' g between two groups from pingouin
  (`compute_effsize(a, b, eftype='hedges')`), which uses the approximation of J: the Rust value
  (exact J) must differ from pingouin's by exactly d * (J_exact - J_approx).

Run from the repo root inside the reference venv (pingouin 0.7.0 brings pandas, statsmodels
etc.; see README.md in this folder):
    /work/venv-ref/bin/python tools/reference/make_hedges_fixtures.py
"""
from __future__ import annotations

import math

import numpy as np
import pingouin
from scipy import integrate, special, stats

from _refcommon import FIXTURE_DIR, log, provenance, write_json


def j_quad(m: int) -> float:
    """J(m) = 1 / (sqrt(m) E[1/chi_m]) by numerical integration of the chi density."""
    value, err = integrate.quad(lambda x: stats.chi.pdf(x, m) / x, 0.0, np.inf, epsabs=0.0, epsrel=1e-13, limit=200)
    assert err < 1e-11 * value, (m, value, err)
    return 1.0 / (math.sqrt(m) * value)


def j_gamma(m: int) -> float:
    return special.gamma(m / 2) / (math.sqrt(m / 2) * special.gamma((m - 1) / 2))


def j_approx(m: int) -> float:
    return 1.0 - 3.0 / (4.0 * m - 1.0)


def main():
    result = {
        "provenance": provenance(__file__, ["numpy", "scipy", "pingouin"]),
        "definitions": {
            "J_quad": "1 / (sqrt(m) * E[1/chi_m]), E by scipy.integrate.quad of scipy.stats.chi.pdf(x, m)/x over (0, inf): the factor that makes g = J d unbiased for delta.",
            "J_gamma": "Hedges 1981 eq. 6e: Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), scipy.special.gamma (a check of J_quad only).",
            "J_approx": "Hedges & Olkin 1985: 1 - 3/(4m - 1); for two groups m = na + nb - 2 gives 1 - 3/(4(na + nb) - 9), pingouin's factor.",
            "paired": "d = the values (per-subject differences); d_z = mean(d)/std(d, ddof=1) (numpy; also pingouin's cohen_dz); m = n - 1; g = d_z * J_quad(m).",
            "independent": "d = (mean(a) - mean(b)) / s_p, s_p = sqrt(((na-1) var_a + (nb-1) var_b)/(na+nb-2)) (numpy, ddof=1); m = na + nb - 2; g = d * J_quad(m); pingouin_hedges = pingouin's compute_effsize(a, b, eftype='hedges') = d * J_approx(m).",
        },
        "corrections": [],
        "paired": [],
        "independent": [],
    }
    worst = 0.0
    for m in [2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 30, 50, 100, 200]:
        jq, jg = j_quad(m), j_gamma(m)
        worst = max(worst, abs(jq - jg))
        result["corrections"].append({"df": m, "J_quad": jq, "J_gamma": jg, "J_approx": j_approx(m)})
    if worst > 1e-10:
        raise SystemExit(f"J by integration and by the gamma formula disagree by {worst}")
    log(f"J: quad vs gamma max abs diff {worst:.1e}")

    for n, seed, mean, sd in [(3, 1701, 0.5, 1.0), (4, 1702, -1.2, 0.7), (6, 1703, -11.0, 4.9), (10, 1704, 0.2, 1.0), (25, 1705, 0.05, 0.01), (60, 1706, -3.0, 10.0)]:
        d = np.random.default_rng(seed).normal(mean, sd, n)
        dz = float(d.mean() / d.std(ddof=1))
        dz_pg = float(pingouin.compute_effsize(d, np.zeros(n), paired=True, eftype="cohen_dz"))
        assert abs(dz - dz_pg) <= 1e-12 * abs(dz), (dz, dz_pg)
        jq = j_quad(n - 1)
        result["paired"].append({
            "name": f"normal n={n} seed={seed}",
            "values": d.tolist(),
            "d_z": dz,
            "pingouin_cohen_dz": dz_pg,
            "df": n - 1,
            "J_quad": jq,
            "g": dz * jq,
        })

    for na, nb, seed in [(4, 5, 1711), (6, 6, 1712), (10, 8, 1713), (30, 25, 1714)]:
        rng = np.random.default_rng(seed)
        a = rng.normal(1.0, 2.0, na)
        b = rng.normal(0.0, 1.5, nb)
        m = na + nb - 2
        sp = math.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / m)
        d = float((a.mean() - b.mean()) / sp)
        g_pg = float(pingouin.compute_effsize(a, b, paired=False, eftype="hedges"))
        assert abs(g_pg - d * j_approx(m)) <= 1e-12 * abs(g_pg), (g_pg, d * j_approx(m))
        jq = j_quad(m)
        result["independent"].append({
            "name": f"na={na} nb={nb} seed={seed}",
            "a": a.tolist(),
            "b": b.tolist(),
            "d": d,
            "df": m,
            "J_quad": jq,
            "g": d * jq,
            "pingouin_hedges": g_pg,
        })
    write_json(FIXTURE_DIR / "hedges.json", result)
    log(f"wrote {FIXTURE_DIR / 'hedges.json'}")


if __name__ == "__main__":
    main()
