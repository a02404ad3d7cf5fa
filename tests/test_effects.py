"""Tests of pipeline.effects: recovery of a known ATT, CI coverage, the CR1 sandwich by hand,
and input validation."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipeline.effects import EffectEstimate, att
from pipeline.matching import BalanceWarning, match

COVARIATES = ["x1", "x2", "x3"]


def simulate(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Confounded assignment and a heterogeneous effect, so ATT != ATE.

    Treatment is more likely for high x1, x2, x3; the outcome without treatment rises with all
    three (so the naive comparison is biased upwards) and the effect rises with x1 (so the
    treated, who have higher x1, gain more than average). ``tau`` is each unit's true effect.
    """
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    x3 = rng.integers(0, 2, size=n)
    lp = -2.0 + 0.6 * x1 + 0.4 * x2 + 0.4 * x3
    t = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    tau = 1.0 + 0.5 * x1
    y0 = 1.0 + 2.0 * x1 + 1.0 * x2 + 1.0 * x3 + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "t": t, "y": y0 + t * tau, "tau": tau})


def matched(data: pd.DataFrame, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BalanceWarning)
        return match(data, "t", COVARIATES, caliper=0.2, **kwargs).matched_data()


def test_matched_estimate_recovers_true_sample_att_and_naive_does_not():
    data = simulate(3000, np.random.default_rng(2024))
    md = matched(data)
    # the estimand of caliper matching: the sample ATT of the treated units that were matched
    true_att = md.loc[md["t"] == 1, "tau"].mean()
    assert true_att != pytest.approx(data["tau"].mean(), abs=0.2)  # ATT differs from ATE

    est = att(md, "t", "y")
    low, high = est.conf_int()
    assert low <= true_att <= high

    naive = att(data, "t", "y", weights=None, cluster=None)
    assert naive.estimate - true_att > 1.0  # upward confounding bias
    assert not naive.ci_low <= true_att <= naive.ci_high


def test_monte_carlo_coverage_and_bias():
    """200 small samples: the 95% CI covers the sample ATT of the matched treated about as
    often as promised and the estimator's mean error is small next to the naive bias.

    The matched-pair cluster-robust SE is known to be somewhat conservative for the sample
    ATT (it also counts effect heterogeneity and within-pair covariate differences as noise);
    in longer runs of this design coverage is about 0.97-0.98, so the upper bound is 0.995.
    """
    rng = np.random.default_rng(7)
    covered, errors, naive_errors, ses = [], [], [], []
    for _ in range(200):
        data = simulate(400, rng)
        md = matched(data)
        truth = md.loc[md["t"] == 1, "tau"].mean()
        est = att(md, "t", "y")
        covered.append(est.ci_low <= truth <= est.ci_high)
        errors.append(est.estimate - truth)
        ses.append(est.std_error)
        naive = data.loc[data["t"] == 1, "y"].mean() - data.loc[data["t"] == 0, "y"].mean()
        naive_errors.append(naive - data.loc[data["t"] == 1, "tau"].mean())
    coverage = np.mean(covered)
    assert 0.90 <= coverage <= 0.995, coverage
    assert abs(np.mean(errors)) < 0.1, np.mean(errors)
    assert np.mean(naive_errors) > 1.0
    # the average reported SE is in the neighbourhood of the actual spread of the errors
    assert 0.8 < np.mean(ses) / np.std(errors) < 1.5


def cr1_by_hand(y, t, w, groups):
    """Cluster-robust (CR1) sandwich for WLS of y on [1, t], written out in numpy."""
    X = np.column_stack([np.ones_like(t), t])
    n, k = X.shape
    bread = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = bread @ X.T @ (w * y)
    e = y - X @ beta
    meat = np.zeros((k, k))
    labels = np.unique(groups)
    for g in labels:
        s = (X[groups == g] * (w[groups == g] * e[groups == g])[:, None]).sum(axis=0)
        meat += np.outer(s, s)
    n_g = len(labels)
    factor = n_g / (n_g - 1) * (n - 1) / (n - k)
    vcov = factor * bread @ meat @ bread
    return beta[1], np.sqrt(vcov[1, 1]), n_g


def hc1_by_hand(y, t, w):
    X = np.column_stack([np.ones_like(t), t])
    n, k = X.shape
    bread = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = bread @ X.T @ (w * y)
    e = y - X @ beta
    meat = (X * ((w * e) ** 2)[:, None]).T @ X
    return np.sqrt(n / (n - k) * (bread @ meat @ bread)[1, 1])


def test_clustered_se_equals_cr1_sandwich_by_hand():
    data = simulate(2000, np.random.default_rng(11))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BalanceWarning)
        md = match(data, "t", COVARIATES, ratio=3, caliper=0.2).matched_data()
    assert md["weights"].nunique() > 1  # unequal weights, so WLS differs from OLS
    est = att(md, "t", "y")

    y = md["y"].to_numpy()
    t = md["t"].to_numpy(dtype=float)
    w = md["weights"].to_numpy()
    beta, se, n_g = cr1_by_hand(y, t, w, md["subclass"].to_numpy(dtype=int))
    assert est.estimate == pytest.approx(beta, rel=1e-10)
    assert est.std_error == pytest.approx(se, rel=1e-10)
    assert est.n_clusters == n_g

    # the slope is the weighted difference in means
    treated = md["t"] == 1
    diff = md.loc[treated, "y"].mean() - np.average(
        md.loc[~treated, "y"], weights=md.loc[~treated, "weights"]
    )
    assert est.estimate == pytest.approx(diff, rel=1e-10)

    # interval and p-value: t distribution with clusters - 1 degrees of freedom
    q = stats.t.ppf(0.975, n_g - 1)
    assert est.conf_int() == pytest.approx((beta - q * se, beta + q * se), rel=1e-10)
    assert est.p_value == pytest.approx(2 * stats.t.sf(abs(beta / se), n_g - 1), rel=1e-8)


def test_hc1_se_without_cluster_equals_sandwich_by_hand():
    data = simulate(1500, np.random.default_rng(12))
    md = matched(data, ratio=2)
    est = att(md, "t", "y", cluster=None)
    se = hc1_by_hand(md["y"].to_numpy(), md["t"].to_numpy(dtype=float), md["weights"].to_numpy())
    assert est.std_error == pytest.approx(se, rel=1e-10)
    assert est.cov_type == "HC1" and est.n_clusters is None


def test_tidy_and_results_object():
    data = simulate(800, np.random.default_rng(13))
    est = att(matched(data), "t", "y", confidence_level=0.9)
    tidy = est.tidy()
    assert tidy.columns.tolist() == [
        "outcome",
        "estimator",
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
        "n_t",
        "n_c",
        "mean_treated",
        "mean_control",
    ]
    assert len(tidy) == 1
    # the two group means are a second route to the estimate: their difference equals it
    assert tidy.loc[0, "mean_treated"] - tidy.loc[0, "mean_control"] == pytest.approx(est.estimate)
    treated = matched(data).query("t == 1")
    assert tidy.loc[0, "mean_treated"] == pytest.approx(treated["y"].mean())
    assert tidy.loc[0, "estimator"] == "matched_difference" and tidy.loc[0, "outcome"] == "y"
    assert (tidy.loc[0, "ci_low"], tidy.loc[0, "ci_high"]) == est.conf_int()
    assert est.confidence_level == 0.9
    assert "matched_difference" in est.summary()
    assert est._repr_html_().startswith("<div>")
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.estimate = 0.0  # type: ignore[misc]
    assert isinstance(est, EffectEstimate)


# --- input validation ------------------------------------------------------------------------
@pytest.fixture
def small_matched() -> pd.DataFrame:
    return matched(simulate(600, np.random.default_rng(14)))


def test_nan_outcome_raises(small_matched):
    small_matched.loc[small_matched.index[0], "y"] = np.nan
    with pytest.raises(ValueError, match="outcome column 'y' has 1 missing"):
        att(small_matched, "t", "y")
    # dropping them explicitly works
    att(small_matched.dropna(subset=["y"]), "t", "y")


def test_bad_method_and_level(small_matched):
    with pytest.raises(ValueError, match=r"method must be one of \['matched_difference'\]"):
        att(small_matched, "t", "y", method="ipw")
    with pytest.raises(ValueError, match="confidence_level"):
        att(small_matched, "t", "y", confidence_level=95)


def test_missing_columns_and_missing_subclass(small_matched):
    with pytest.raises(ValueError, match="'earnings'"):
        att(small_matched, "t", "earnings")
    with pytest.raises(ValueError, match="'weights'"):
        att(small_matched.drop(columns="weights"), "t", "y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BalanceWarning)
        md_replace = match(
            simulate(600, np.random.default_rng(15)), "t", COVARIATES, replace=True
        ).matched_data()
    with pytest.raises(ValueError, match="with replacement"):
        att(md_replace, "t", "y")
    assert att(md_replace, "t", "y", cluster=None).cov_type == "HC1"
