"""Tests of pipeline.matching: MatchIt's greedy algorithm, calipers, exact cells, weights,
balance statistics and input validation."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pipeline.matching import BalanceWarning, MatchResult, match
from pipeline.matching.nearest import greedy_without_replacement, nearest_with_replacement

matplotlib.use("Agg")


# --- a literal port of MatchIt's nn_matchC_vec (src/nn_matchC_vec.cpp), slow but obvious -----
def reference_nn_match(treat, distance, ratio, caliper, reuse_max, ord_treated):
    """Walk left/right through all units sorted by distance, exactly as MatchIt's C++ does.

    Returns {treated data position: [control data positions, round by round]}.
    """
    treat = np.asarray(treat)
    d_ord = np.argsort(distance, kind="stable")  # R's sort.list: stable
    tr = treat[d_ord]
    dist = np.asarray(distance)[d_ord]
    n = len(treat)
    ind1 = np.flatnonzero(tr == 1)  # sorted positions of treated units
    where_sorted = {d_ord[k]: k for k in ind1}  # data position -> sorted position
    treated_positions = np.flatnonzero(treat == 1)
    times = np.zeros(n, dtype=int)
    can = tr != 1
    mm = {int(p): [] for p in treated_positions}
    for r in range(ratio):
        for i in ord_treated:  # index into treated units in data order
            p = int(treated_positions[i])
            ii = where_sorted[p]
            row = set(mm[p])

            def walk(step, ii=ii, row=row, r=r):
                k = ii + step
                while 0 <= k < n:
                    if tr[k] == 1 or (r > 0 and d_ord[k] in row) or not can[k]:
                        k += step
                        continue
                    if caliper is not None and abs(dist[ii] - dist[k]) > caliper:
                        return -1
                    return k
                return -1

            kl, kr = walk(-1), walk(+1)
            if kl >= 0 and kr >= 0:
                k = kl if abs(dist[kl] - dist[ii]) <= abs(dist[kr] - dist[ii]) else kr
            elif kl >= 0:
                k = kl
            elif kr >= 0:
                k = kr
            else:
                continue
            mm[p].append(int(d_ord[k]))
            times[k] += 1
            if times[k] >= reuse_max:
                can[k] = False
    return mm


def fast_as_dict(treat, distance, ratio, caliper, replace):
    treat = np.asarray(treat)
    pos_t, pos_c = np.flatnonzero(treat == 1), np.flatnonzero(treat == 0)
    d_t, d_c = distance[pos_t], distance[pos_c]
    if replace:
        local = nearest_with_replacement(
            d_t, d_c, ratio=ratio, caliper_width=caliper, pos_t=pos_t, pos_c=pos_c
        )
    else:
        order = np.argsort(-d_t, kind="stable")
        local = greedy_without_replacement(
            d_t, d_c, ratio=ratio, caliper_width=caliper, order=order, pos_t=pos_t, pos_c=pos_c
        )
    return {int(p): [int(pos_c[j]) for j in local[i] if j >= 0] for i, p in enumerate(pos_t)}


@pytest.mark.parametrize("ratio", [1, 3])
@pytest.mark.parametrize("caliper", [None, 0.05])
@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_matching_equals_reference_port_of_matchit(ratio, caliper, replace, seed):
    rng = np.random.default_rng(seed)
    n = 300
    treat = (rng.random(n) < 0.3).astype(int)
    # rounded distances create many exact ties, which exercise the tie rules
    distance = np.round(rng.normal(size=n) + 0.8 * treat, 1)
    n1 = int(treat.sum())
    if replace:
        ord_treated = np.arange(n1)  # MatchIt uses data order with replacement
        reuse_max = n1
    else:
        ord_treated = np.argsort(-distance[treat == 1], kind="stable")
        reuse_max = 1
    expected = reference_nn_match(treat, distance, ratio, caliper, reuse_max, ord_treated)
    got = fast_as_dict(treat, distance, ratio, caliper, replace)
    assert got == expected


# --- greedy order ----------------------------------------------------------------------------
def order_example() -> pd.DataFrame:
    # Treated A (x=1.0, listed first) and B (x=2.0, larger propensity score); controls at
    # x=1.6 and x=0.0. The fitted logit is linear in x with a positive slope, so distances on
    # the logit scale are proportional to distances in x.
    return pd.DataFrame(
        {"id": ["A", "B", "c1", "c2"], "t": [1, 1, 0, 0], "x": [1.0, 2.0, 1.6, 0.0]}
    )


def test_greedy_processes_largest_propensity_score_first():
    data = order_example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BalanceWarning)
        result = match(data, "t", ["x"])
    assert result.ps_params["x"] > 0
    md = result.matched_data()
    pairs = md.groupby("subclass")["id"].apply(lambda s: "".join(sorted(s))).tolist()
    # Largest first: B takes its nearest, c1 (0.4 away), leaving c2 for A.
    # In data order A would have taken c1 (0.6 < 1.0) and left c2 for B.
    assert set(pairs) == {"Bc1", "Ac2"}
    pair_of = {row.id: row.subclass for row in md.itertuples()}
    assert pair_of["B"] == pair_of["c1"] and pair_of["A"] == pair_of["c2"]


def test_processing_order_matters_in_the_low_level_function():
    d_t = np.array([1.0, 2.0])
    d_c = np.array([1.6, 0.0])
    largest = greedy_without_replacement(
        d_t, d_c, ratio=1, caliper_width=None, order=np.array([1, 0])
    )
    data_order = greedy_without_replacement(
        d_t, d_c, ratio=1, caliper_width=None, order=np.array([0, 1])
    )
    assert largest[:, 0].tolist() == [1, 0]  # A->c2, B->c1
    assert data_order[:, 0].tolist() == [0, 1]  # A->c1, B->c2


def test_ratio_matches_in_rounds():
    # Round 1 gives each treated its nearest before anyone gets a second control.
    d_t = np.array([0.0, 1.0])
    d_c = np.array([0.9, 1.05, 0.1, 3.0])
    m = greedy_without_replacement(d_t, d_c, ratio=2, caliper_width=None, order=np.array([1, 0]))
    # round 1: t1 (1.0) -> 1.05 (slot 1); t0 (0.0) -> 0.1 (slot 2)
    # round 2: t1 -> 0.9 (slot 0); t0 -> 3.0 (slot 3) is all that is left
    assert m.tolist() == [[2, 3], [1, 0]]


# --- simulated data helpers ------------------------------------------------------------------
def simulate(n: int, seed: int, n_cohorts: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    region = rng.choice(np.array(["north", "south", "west"], dtype=object), size=n)
    cohort = rng.integers(0, n_cohorts, size=n)
    lp = -1.5 + 0.7 * x1 + 0.3 * x2 + 0.4 * (region == "south") + 0.2 * cohort
    t = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return pd.DataFrame({"t": t, "x1": x1, "x2": x2, "region": region, "cohort": cohort})


def quiet_match(*args, **kwargs) -> MatchResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BalanceWarning)
        return match(*args, **kwargs)


def test_propensity_model_is_a_logistic_regression_on_dummy_coded_covariates():
    data = simulate(800, seed=3)
    result = quiet_match(data, "t", ["x1", "x2", "region"])
    exog = sm.add_constant(
        pd.get_dummies(data[["x1", "x2", "region"]], drop_first=True, dtype=float)
    )
    logit = sm.Logit(data["t"], exog).fit(disp=0)
    assert result.ps_params.index.tolist() == ["const", "x1", "x2", "region_south", "region_west"]
    np.testing.assert_allclose(result.ps_params.to_numpy(), logit.params.to_numpy(), rtol=1e-6)
    md = result.matched_data()
    np.testing.assert_allclose(md["distance"], logit.predict(exog)[md.index], rtol=1e-6)


def test_constant_covariate_is_dropped():
    data = simulate(500, seed=4).assign(const_col=7.0)
    result = quiet_match(data, "t", ["x1", "const_col"])
    assert result.dropped_terms == ("const_col",)
    assert "const_col" not in result.ps_params.index


# --- caliper and exact -----------------------------------------------------------------------
def test_caliper_width_is_in_sd_of_logit_ps_and_unmatched_treated_are_dropped():
    data = simulate(1500, seed=5)
    # one treated unit far out on x1: no control has a propensity score near it
    data.loc[0, ["t", "x1", "x2"]] = [1, 6.0, 0.0]
    result = quiet_match(data, "t", ["x1", "x2"], caliper=0.1)
    lp = sm.add_constant(data[["x1", "x2"]]).to_numpy() @ result.ps_params.to_numpy()
    assert result.caliper_width == pytest.approx(0.1 * np.std(lp, ddof=1))

    md = result.matched_data()
    logit = pd.Series(lp, index=data.index)
    pair_gap = md.assign(lp=logit[md.index]).groupby("subclass")["lp"].agg(np.ptp)
    assert (pair_gap <= result.caliper_width + 1e-12).all()
    assert 0 not in md.index
    assert result.n_unmatched >= 1
    assert result.n_treated_matched + result.n_unmatched == int(data["t"].sum())

    # unit 0 had no control at all within the caliper
    controls = logit[data["t"] == 0].to_numpy()
    assert np.min(np.abs(controls - logit[0])) > result.caliper_width


def test_exact_matching_never_crosses_cells_and_ps_is_fit_on_full_sample():
    data = simulate(1200, seed=6, n_cohorts=4)
    plain = quiet_match(data, "t", ["x1", "x2", "region"], caliper=0.5)
    exact = quiet_match(data, "t", ["x1", "x2", "region"], caliper=0.5, exact=["cohort"])
    # same propensity model with or without exact cells
    pd.testing.assert_series_equal(plain.ps_params, exact.ps_params)
    md = exact.matched_data()
    assert (md.groupby("subclass")["cohort"].nunique() == 1).all()
    assert exact.exact == ("cohort",)


def test_exact_cell_without_controls_leaves_its_treated_unmatched():
    data = simulate(600, seed=7, n_cohorts=2)
    data.loc[data["cohort"] == 1, "t"] = 1  # cohort 1: treated only
    n_cohort1 = int((data["cohort"] == 1).sum())
    result = quiet_match(data, "t", ["x1"], exact=["cohort"])
    assert result.n_unmatched >= n_cohort1
    assert (result.matched_data()["cohort"] == 0).all()


# --- weights and subclass --------------------------------------------------------------------
def test_weights_subclass_one_to_k_without_replacement():
    data = simulate(1000, seed=8)
    result = quiet_match(data, "t", ["x1", "x2"], ratio=2, caliper=0.2)
    md = result.matched_data()
    treated = md[md["t"] == 1]
    controls = md[md["t"] == 0]
    assert (treated["weights"] == 1).all()
    assert md["subclass"].notna().all()
    assert treated["subclass"].is_unique
    sizes = controls.groupby("subclass").size()
    assert sizes.between(1, 2).all() and (sizes == 2).any() and (sizes == 1).any()
    # raw weight of a control is 1 / (controls in its set); rescaled to sum to n controls
    raw = controls["subclass"].map(1.0 / sizes)
    expected = raw * len(controls) / raw.sum()
    np.testing.assert_allclose(controls["weights"], expected)
    assert controls["weights"].sum() == pytest.approx(len(controls))
    assert result.n_control_matched == len(controls)
    assert result.n_treated_matched == len(treated)


def test_weights_with_replacement_sum_over_sets_and_subclass_is_missing():
    data = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0, 0], "x": [2.0, 2.1, 0.0, 2.05, 5.0, -0.1, 0.5]})
    result = quiet_match(data, "t", ["x"], replace=True)
    md = result.matched_data()
    assert md["subclass"].isna().all()
    # both treated near 2 take the control at 2.05; the one at 0.0 takes -0.1
    assert set(md.index) == {0, 1, 2, 3, 5}
    raw = pd.Series({3: 2.0, 5: 1.0})
    expected = raw * 2 / raw.sum()
    np.testing.assert_allclose(md.loc[[3, 5], "weights"], expected.to_numpy())
    assert result.n_control_matched == 2


# --- balance ---------------------------------------------------------------------------------
def test_balance_statistics_follow_matchit_conventions():
    data = simulate(1500, seed=9)
    data["female"] = (np.random.default_rng(9).random(len(data)) < 0.4).astype(int)
    result = quiet_match(data, "t", ["x1", "x2", "female", "region"], caliper=0.2)
    bal = result.balance()
    assert bal.index.tolist() == [
        "distance",
        "x1",
        "x2",
        "female",
        "region_north",
        "region_south",
        "region_west",
    ]
    t = data["t"] == 1
    # continuous: difference in means over the treated SD (n - 1), full sample, both times
    sd_t = data.loc[t, "x1"].std(ddof=1)
    before = (data.loc[t, "x1"].mean() - data.loc[~t, "x1"].mean()) / sd_t
    assert bal.loc["x1", "smd_before"] == pytest.approx(before)
    md = result.matched_data()
    mt = md["t"] == 1
    after = (
        md.loc[mt, "x1"].mean() - np.average(md.loc[~mt, "x1"], weights=md.loc[~mt, "weights"])
    ) / sd_t
    assert bal.loc["x1", "smd_after"] == pytest.approx(after)
    # binary: treated SD is sqrt(p (1 - p)); no variance ratio; eCDF = |difference|
    p = data.loc[t, "female"].mean()
    diff = p - data.loc[~t, "female"].mean()
    assert bal.loc["female", "smd_before"] == pytest.approx(diff / np.sqrt(p * (1 - p)))
    assert np.isnan(bal.loc["female", "var_ratio_before"])
    assert bal.loc["female", "ecdf_max_before"] == pytest.approx(abs(diff))
    # variance ratio and eCDF before matching
    assert bal.loc["x2", "var_ratio_before"] == pytest.approx(
        data.loc[t, "x2"].var() / data.loc[~t, "x2"].var()
    )
    grid = np.sort(data["x2"].unique())
    f1 = np.searchsorted(np.sort(data.loc[t, "x2"]), grid, side="right") / t.sum()
    f0 = np.searchsorted(np.sort(data.loc[~t, "x2"]), grid, side="right") / (~t).sum()
    assert bal.loc["x2", "ecdf_mean_before"] == pytest.approx(np.abs(f1 - f0).mean())
    assert bal.loc["x2", "ecdf_max_before"] == pytest.approx(np.abs(f1 - f0).max())
    # matching improves balance on the propensity score's main driver
    assert abs(bal.loc["x1", "smd_after"]) < abs(bal.loc["x1", "smd_before"])


def test_warns_when_balance_after_matching_is_poor():
    rng = np.random.default_rng(10)
    n = 400
    x = rng.normal(size=n)
    t = (x + rng.normal(scale=0.3, size=n) > 1.2).astype(int)  # few controls where treated are
    data = pd.DataFrame({"t": t, "x": x})
    with pytest.warns(BalanceWarning, match="x"):
        result = match(data, "t", ["x"])
    assert "x" in result.imbalanced()


def test_summary_html_and_love_plot():
    data = simulate(600, seed=11)
    result = quiet_match(data, "t", ["x1", "region"], caliper=0.2, exact=["cohort"])
    text = result.summary()
    assert "caliper" in text and "0.2 SD of logit(ps)" in text and "cohort" in text
    assert result._repr_html_().startswith("<div>")
    ax = result.love_plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.get_yticklabels()) == len(result.balance())
    assert result.method == "nearest" and result.estimand == "ATT" and result.ratio == 1


# --- input validation ------------------------------------------------------------------------
def test_bad_method_lists_allowed_values():
    data = simulate(100, seed=12)
    with pytest.raises(ValueError, match=r"method must be one of \['nearest', 'cem'\]"):
        match(data, "t", ["x1"], method="optimal")
    with pytest.raises(ValueError, match=r"distance must be one of \['logit', 'mahalanobis'\]"):
        match(data, "t", ["x1"], distance="probit")


def test_missing_column_is_named():
    data = simulate(100, seed=13)
    with pytest.raises(ValueError, match="'age'"):
        match(data, "t", ["x1", "age"])
    with pytest.raises(ValueError, match="'cohortx'"):
        match(data, "t", ["x1"], exact=["cohortx"])


def test_nan_in_covariate_is_named():
    data = simulate(100, seed=14)
    data.loc[5, "x2"] = np.nan
    with pytest.raises(ValueError, match="'x2' has 1 missing"):
        match(data, "t", ["x1", "x2"])


@pytest.mark.parametrize(
    "kwargs", [{"ratio": 0}, {"ratio": 1.5}, {"caliper": -0.1}, {"caliper": 0.0}]
)
def test_bad_numeric_options(kwargs):
    data = simulate(100, seed=15)
    with pytest.raises(ValueError):
        match(data, "t", ["x1"], **kwargs)


def test_bad_treatment_and_reserved_columns():
    data = simulate(100, seed=16)
    with pytest.raises(ValueError, match="boolean or 0/1"):
        match(data.assign(t=data["t"] * 2), "t", ["x1"])
    with pytest.raises(ValueError, match="weights"):
        match(data.assign(weights=1.0), "t", ["x1"])
