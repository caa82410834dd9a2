//! Study statistics against the reference fixture `tests/fixtures/reference/stats.json`, made by
//! `tools/reference/make_stats_fixtures.py` with numpy 2.4.6, scipy 1.17.1 and statsmodels 0.15.0
//! (see `tools/reference/README.md` and the fixture's `provenance` and `definitions` blocks), and
//! Hedges' g against `tests/fixtures/reference/hedges.json`, made by
//! `tools/reference/make_hedges_fixtures.py` without the gamma formula the code uses: the
//! correction J by numerical integration of its definition (scipy 1.17.1 `quad` over the chi
//! distribution), d_z and the two-group g of pingouin 0.7.0. The repeatability statistics
//! (ICC(3,1) with its CI, SEM, MDC95, within-subject SD and CV) against
//! `tests/fixtures/reference/repeatability.json`, made by
//! `tools/reference/make_repeatability_fixtures.py` with pingouin 0.7.0 (`intraclass_corr`,
//! `rm_anova`, `anova`), scipy 1.17.1 and numpy 2.4.6. The agreement statistics of `skintex
//! agree` (ICC(2,1) with its CI, Bland-Altman bias and limits) against
//! `tests/fixtures/reference/agreement.json`, made by `tools/reference/make_agreement_fixtures.py`
//! with pingouin 0.7.0 (`intraclass_corr`, row `ICC(A,1)`) and numpy 2.4.6.
//!
//! Every value must equal the reference within 1e-6 relative; for reference values below 1e-9 in
//! magnitude (zero statistics) within 1e-12 absolute. p values are compared relatively however
//! small they are.

mod common;

use common::reference::{self, floats};
use serde_json::Value;
use skintex::study::stats::{
    Wilcoxon, bland_altman, bootstrap_ci_mean, hedges_correction, hedges_g, hedges_g_independent,
    holm, icc_agreement, icc_consistency, paired_t, percentile_linear, summary,
    wilcoxon_signed_rank, within_subject,
};

const REL_TOL: f64 = 1e-6;
const ABS_TOL_NEAR_ZERO: f64 = 1e-12;

fn fixture() -> Value {
    reference::json("stats.json")
}

/// Relative deviation (absolute when the reference is near 0), after asserting it is in tolerance.
fn close(what: &str, got: f64, want: f64) -> f64 {
    let (dev, ok) = if want.abs() < 1e-9 {
        let dev = (got - want).abs();
        (dev, dev <= ABS_TOL_NEAR_ZERO)
    } else {
        let dev = ((got - want) / want).abs();
        (dev, dev <= REL_TOL)
    };
    assert!(ok, "{what}: got {got:.17e}, reference {want:.17e}");
    dev
}

/// p values: relative 1e-6 even when tiny (a p of 5e-19 must not pass as 0), absolute only for
/// an exact 0.
fn close_p(what: &str, got: f64, want: f64) -> f64 {
    if want == 0.0 {
        assert_eq!(got, 0.0, "{what}");
        return 0.0;
    }
    let dev = ((got - want) / want).abs();
    assert!(
        dev <= REL_TOL,
        "{what}: got {got:.17e}, reference {want:.17e}"
    );
    dev
}

fn datasets(fx: &Value) -> &Vec<Value> {
    let d = fx["datasets"].as_array().unwrap();
    assert!(d.len() >= 12, "fixture has too few datasets");
    d
}

#[test]
fn summary_matches_numpy() {
    let fx = fixture();
    for ds in datasets(&fx) {
        let name = ds["name"].as_str().unwrap();
        let v = floats(&ds["values"]);
        let s = summary(&v);
        assert_eq!(s.n as u64, ds["n"].as_u64().unwrap(), "{name}");
        close(
            &format!("{name} mean"),
            s.mean.unwrap(),
            ds["mean"].as_f64().unwrap(),
        );
        match ds["sd"].as_f64() {
            Some(sd) => {
                close(&format!("{name} sd"), s.sd.unwrap(), sd);
            }
            None => assert_eq!(s.sd, None, "{name} sd"),
        }
    }
}

#[test]
fn paired_t_matches_scipy_ttest_1samp() {
    let fx = fixture();
    let mut worst = (0.0f64, 0.0f64);
    let mut checked = 0;
    for ds in datasets(&fx) {
        let name = ds["name"].as_str().unwrap();
        let v = floats(&ds["values"]);
        let got = paired_t(&v);
        if ds["ttest"].is_null() {
            assert!(
                got.is_err(),
                "{name}: scipy has no finite t, we returned {got:?}"
            );
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let r = &ds["ttest"];
        worst.0 = worst
            .0
            .max(close(&format!("{name} t"), got.t, r["t"].as_f64().unwrap()));
        assert_eq!(got.df, r["df"].as_f64().unwrap(), "{name} df");
        worst.1 = worst.1.max(close_p(
            &format!("{name} p"),
            got.p_two_sided,
            r["p_two_sided"].as_f64().unwrap(),
        ));
        checked += 1;
    }
    assert!(checked >= 15);
    eprintln!(
        "paired_t max deviation: t {:.2e}, p {:.2e}",
        worst.0, worst.1
    );
}

#[test]
fn paired_t_matches_scipy_ttest_rel() {
    let fx = fixture();
    let r = &fx["ttest_rel"];
    let (after, before) = (floats(&r["after"]), floats(&r["before"]));
    let d: Vec<f64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    let got = paired_t(&d).unwrap();
    close("ttest_rel t", got.t, r["t"].as_f64().unwrap());
    close_p(
        "ttest_rel p",
        got.p_two_sided,
        r["p_two_sided"].as_f64().unwrap(),
    );
    assert_eq!(got.df, r["df"].as_f64().unwrap());
}

#[test]
fn wilcoxon_matches_scipy_defaults() {
    let fx = fixture();
    let mut worst = (0.0f64, 0.0f64);
    let mut branches = std::collections::BTreeSet::new();
    for ds in datasets(&fx) {
        let name = ds["name"].as_str().unwrap();
        let v = floats(&ds["values"]);
        let got = wilcoxon_signed_rank(&v);
        if ds["wilcoxon"].is_null() {
            assert!(got.is_err(), "{name}: expected Missing, got {got:?}");
            continue;
        }
        let got: Wilcoxon = got.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let r = &ds["wilcoxon"];
        assert_eq!(
            got.method.as_str(),
            r["branch"].as_str().unwrap(),
            "{name} branch"
        );
        assert_eq!(
            got.n_nonzero as u64,
            r["n_nonzero"].as_u64().unwrap(),
            "{name}"
        );
        worst.0 = worst.0.max(close(
            &format!("{name} statistic"),
            got.statistic,
            r["statistic"].as_f64().unwrap(),
        ));
        worst.1 = worst.1.max(close_p(
            &format!("{name} p ({})", got.method.as_str()),
            got.p_two_sided,
            r["p_two_sided"].as_f64().unwrap(),
        ));
        branches.insert(got.method.as_str());
    }
    // The fixture exercises every branch of scipy's method='auto'.
    assert_eq!(branches.len(), 3, "{branches:?}");
    eprintln!(
        "wilcoxon max deviation: statistic {:.2e}, p {:.2e}",
        worst.0, worst.1
    );
}

#[test]
fn hedges_g_paired_matches_reference() {
    let fx = fixture();
    let mut worst = 0.0f64;
    for ds in datasets(&fx) {
        let name = ds["name"].as_str().unwrap();
        let v = floats(&ds["values"]);
        let got = hedges_g(&v);
        if ds["hedges_g"].is_null() {
            assert!(got.is_err(), "{name}: expected Missing, got {got:?}");
            continue;
        }
        let got = got.unwrap();
        let r = &ds["hedges_g"];
        close(&format!("{name} d_z"), got.d, r["d_z"].as_f64().unwrap());
        close(&format!("{name} J"), got.j, r["j_exact"].as_f64().unwrap());
        worst = worst.max(close(&format!("{name} g"), got.g, r["g"].as_f64().unwrap()));
    }
    eprintln!("hedges_g max deviation {worst:.2e}");
}

#[test]
fn hedges_g_independent_matches_reference() {
    let fx = fixture();
    let by_name = |n: &str| {
        datasets(&fx)
            .iter()
            .find(|d| d["name"] == n)
            .map(|d| floats(&d["values"]))
            .unwrap()
    };
    for r in fx["hedges_g_independent"].as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        let a = by_name(r["a"].as_str().unwrap());
        let b = by_name(r["b"].as_str().unwrap());
        let got = hedges_g_independent(&a, &b).unwrap();
        close(&format!("{name} d"), got.d, r["d"].as_f64().unwrap());
        close(&format!("{name} g"), got.g, r["g"].as_f64().unwrap());
        assert_eq!(got.df, r["df"].as_f64().unwrap());
    }
}

#[test]
fn holm_matches_statsmodels() {
    let fx = fixture();
    for case in fx["holm"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let p: Vec<Option<f64>> = case["p"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::as_f64)
            .collect();
        let want: Vec<Option<f64>> = case["adjusted"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::as_f64)
            .collect();
        let got = holm(&p);
        assert_eq!(got.len(), want.len(), "{name}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            match (g, w) {
                (Some(g), Some(w)) => {
                    close(&format!("{name}[{i}]"), *g, *w);
                }
                (None, None) => {}
                _ => panic!("{name}[{i}]: got {g:?}, statsmodels {w:?}"),
            }
        }
    }
}

#[test]
fn percentile_matches_numpy_linear() {
    let fx = fixture();
    let r = &fx["percentile"];
    let mut x = floats(&r["values"]);
    x.sort_by(f64::total_cmp);
    for (q, want) in floats(&r["q_percent"])
        .into_iter()
        .zip(floats(&r["result"]))
    {
        close(
            &format!("percentile {q}"),
            percentile_linear(&x, q).unwrap(),
            want,
        );
    }
}

#[test]
fn bootstrap_interval_brackets_the_mean_on_fixture_data() {
    // Not a scipy comparison (different random stream): on the larger datasets the interval
    // contains the sample mean and is close to mean ± 1.96·sd/√n.
    let fx = fixture();
    for name in ["n50_normal", "n51_normal", "n2000_normal"] {
        let ds = datasets(&fx).iter().find(|d| d["name"] == name).unwrap();
        let v = floats(&ds["values"]);
        let (lo, hi) = bootstrap_ci_mean(&v, 0.95, 4000, 11).unwrap();
        let (mean, sd) = (ds["mean"].as_f64().unwrap(), ds["sd"].as_f64().unwrap());
        let half = 1.96 * sd / (v.len() as f64).sqrt();
        assert!(
            lo < mean && mean < hi,
            "{name}: [{lo}, {hi}] vs mean {mean}"
        );
        let width_ratio = (hi - lo) / (2.0 * half);
        assert!(
            (0.85..1.1).contains(&width_ratio),
            "{name}: width ratio {width_ratio}"
        );
    }
}

/// Issue 18 item 16: Hedges' correction J(df) is the exact one of Hedges 1981 (eq. 6e), the
/// factor that makes g unbiased: it equals J computed from that definition by numerical
/// integration, 1/(sqrt(df)·E[1/chi_df]), to 1e-12, and is not the approximation
/// 1 − 3/(4·df − 1) of Hedges & Olkin 1985 (0.0072 above J at df = 2).
#[test]
fn hedges_correction_is_the_exact_unbiasing_factor() {
    let fx = reference::json("hedges.json");
    let corrections = fx["corrections"].as_array().unwrap();
    assert!(corrections.len() >= 10);
    for c in corrections {
        let df = c["df"].as_f64().unwrap();
        let want = c["J_quad"].as_f64().unwrap();
        let got = hedges_correction(df);
        assert!(
            ((got - want) / want).abs() < 1e-12,
            "J({df}) = {got:.17e}, by integration {want:.17e}"
        );
        let approx = c["J_approx"].as_f64().unwrap();
        assert!(
            (approx - (1.0 - 3.0 / (4.0 * df - 1.0))).abs() < 1e-15,
            "approximation at df {df}"
        );
        if df <= 10.0 {
            assert!(
                (got - approx).abs() > 1e-4,
                "df {df}: the code must use the exact J, not the approximation"
            );
        }
    }
}

/// Paired Hedges' g (g_z = d_z·J(n − 1)) against the independent reference: d_z from pingouin,
/// J by integration; relative 1e-9.
#[test]
fn hedges_g_paired_matches_an_independent_implementation() {
    let fx = reference::json("hedges.json");
    let sets = fx["paired"].as_array().unwrap();
    assert!(sets.len() >= 5);
    for ds in sets {
        let name = ds["name"].as_str().unwrap();
        let g = hedges_g(&floats(&ds["values"])).unwrap();
        close(
            &format!("{name} d_z"),
            g.d,
            ds["pingouin_cohen_dz"].as_f64().unwrap(),
        );
        close(&format!("{name} J"), g.j, ds["J_quad"].as_f64().unwrap());
        close(&format!("{name} g"), g.g, ds["g"].as_f64().unwrap());
        assert_eq!(g.df, ds["df"].as_f64().unwrap(), "{name}");
    }
}

/// Two-group Hedges' g against the reference (exact J), and against pingouin's, which uses the
/// approximation 1 − 3/(4(n_a + n_b) − 9): the two differ by exactly d·(J − J_approx), under
/// 0.1 % of g from 9 subjects on.
#[test]
fn hedges_g_independent_matches_an_independent_implementation() {
    let fx = reference::json("hedges.json");
    let sets = fx["independent"].as_array().unwrap();
    assert!(sets.len() >= 3);
    for ds in sets {
        let name = ds["name"].as_str().unwrap();
        let (a, b) = (floats(&ds["a"]), floats(&ds["b"]));
        let g = hedges_g_independent(&a, &b).unwrap();
        close(&format!("{name} d"), g.d, ds["d"].as_f64().unwrap());
        close(&format!("{name} g"), g.g, ds["g"].as_f64().unwrap());
        let pingouin = ds["pingouin_hedges"].as_f64().unwrap();
        let df = (a.len() + b.len() - 2) as f64;
        let approx = 1.0 - 3.0 / (4.0 * (a.len() + b.len()) as f64 - 9.0);
        assert!(
            ((g.g - pingouin) - g.d * (g.j - approx)).abs() < 1e-12,
            "{name}: exact and approximate g differ by more than d·ΔJ"
        );
        assert!(
            ((g.g - pingouin) / g.g).abs() < 1e-3,
            "{name} (df {df}): {} vs pingouin {pingouin}",
            g.g
        );
    }
}

/// A subjects × replicates table of the repeatability fixture (`None` = missing replicate).
fn replicate_table(ds: &Value) -> Vec<Vec<Option<f64>>> {
    ds["table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(Value::as_f64).collect())
        .collect()
}

#[test]
fn icc_sem_mdc_and_within_subject_match_pingouin() {
    let fx = reference::json("repeatability.json");
    let sets = fx["datasets"].as_array().unwrap();
    assert!(sets.len() >= 6);
    for ds in sets {
        let name = ds["note"].as_str().unwrap();
        let table = replicate_table(ds);
        // pingouin's nan_policy='omit': subjects with every replicate.
        let complete: Vec<Vec<f64>> = table
            .iter()
            .filter(|r| r.iter().all(Option::is_some))
            .map(|r| r.iter().flatten().copied().collect())
            .collect();
        let icc = icc_consistency(&complete).unwrap();
        assert_eq!(icc.n as u64, ds["icc_subjects"].as_u64().unwrap(), "{name}");
        assert_eq!(icc.k as u64, ds["k"].as_u64().unwrap(), "{name}");
        let want = |k: &str| ds[k].as_f64().unwrap();
        close(&format!("{name} icc"), icc.icc, want("icc"));
        let ci = floats(&ds["icc_ci"]);
        let (lo, hi) = icc.ci.unwrap();
        close(&format!("{name} icc ci low"), lo, ci[0]);
        close(&format!("{name} icc ci high"), hi, ci[1]);
        close(&format!("{name} ms_error"), icc.ms_error, want("ms_error"));
        close(&format!("{name} ms_rows"), icc.ms_rows, want("ms_rows"));
        close(&format!("{name} sem"), icc.sem, want("sem"));
        close(&format!("{name} mdc95"), icc.mdc95, want("mdc95"));
        let present: Vec<Vec<f64>> = table
            .iter()
            .map(|r| r.iter().flatten().copied().collect())
            .collect();
        let w = within_subject(&present).unwrap();
        assert_eq!(w.subjects as u64, ds["within_subjects"].as_u64().unwrap());
        assert_eq!(w.values as u64, ds["within_values"].as_u64().unwrap());
        close(&format!("{name} within_sd"), w.sd, want("within_sd"));
        close(&format!("{name} cv_pct"), w.cv_pct.unwrap(), want("cv_pct"));
        close(&format!("{name} mean"), w.mean, want("mean"));
    }
}

#[test]
fn icc_agreement_and_bland_altman_match_pingouin_and_numpy() {
    let fx = reference::json("agreement.json");
    let sets = fx["datasets"].as_array().unwrap();
    assert!(sets.len() >= 6);
    for ds in sets {
        let name = ds["note"].as_str().unwrap();
        let table: Vec<Vec<f64>> = ds["table"].as_array().unwrap().iter().map(floats).collect();
        let icc = icc_agreement(&table).unwrap();
        close(&format!("{name} icc"), icc.icc, ds["icc"].as_f64().unwrap());
        let ci = floats(&ds["icc_ci"]);
        let (lo, hi) = icc.ci.unwrap();
        close(&format!("{name} icc ci low"), lo, ci[0]);
        close(&format!("{name} icc ci high"), hi, ci[1]);
        close(
            &format!("{name} F"),
            icc.ms_rows / icc.ms_error,
            ds["F"].as_f64().unwrap(),
        );
        if let Some(bias) = ds["ba_bias"].as_f64() {
            let a: Vec<f64> = table.iter().map(|r| r[0]).collect();
            let b: Vec<f64> = table.iter().map(|r| r[1]).collect();
            let ba = bland_altman(&a, &b).unwrap();
            close(&format!("{name} bias"), ba.bias, bias);
            let loa = floats(&ds["ba_loa"]);
            close(&format!("{name} loa low"), ba.loa.0, loa[0]);
            close(&format!("{name} loa high"), ba.loa.1, loa[1]);
        }
    }
    // ICC(2,1) counts a systematic difference between raters against agreement; ICC(3,1) not.
    let shifted: Vec<Vec<f64>> = (0..6)
        .map(|i| vec![f64::from(i), f64::from(i) + 2.0])
        .collect();
    assert!((icc_consistency(&shifted).unwrap().icc - 1.0).abs() < 1e-12);
    assert!(icc_agreement(&shifted).unwrap().icc < 0.8);
    assert!(bland_altman(&[1.0], &[2.0]).is_err(), "one pair");
    assert!(icc_agreement(&[vec![1.0, 2.0]]).is_err(), "one subject");
}

#[test]
fn icc_edge_cases_are_missing_with_a_reason() {
    assert!(icc_consistency(&[vec![1.0, 2.0]]).is_err(), "one subject");
    assert!(
        icc_consistency(&[vec![1.0], vec![2.0]]).is_err(),
        "one replicate"
    );
    assert!(
        icc_consistency(&[vec![1.0, 2.0], vec![1.0]]).is_err(),
        "ragged"
    );
    assert!(
        icc_consistency(&[vec![3.0, 3.0], vec![3.0, 3.0]]).is_err(),
        "constant"
    );
    // Perfect agreement: ICC 1, SEM 0, and no CI (F is infinite), never a made-up interval.
    let icc = icc_consistency(&[vec![1.0, 1.0], vec![2.0, 2.0], vec![4.0, 4.0]]).unwrap();
    assert_eq!((icc.icc, icc.sem, icc.ci), (1.0, 0.0, None));
    assert!(within_subject(&[vec![1.0], vec![2.0]]).is_err());
    // A subject with mean 0: no CV, the SD still.
    let w = within_subject(&[vec![-1.0, 1.0], vec![2.0, 3.0]]).unwrap();
    assert_eq!(w.cv_pct, None);
    assert!((w.sd - 1.25f64.sqrt()).abs() < 1e-15);
}
