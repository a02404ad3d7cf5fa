"""Tests of pipeline.effects.dynamics: the event study against R's plm and lm + sandwich and
against OLS with dummies, group-time ATTs against R's did on mpdta and against hand-computed
2x2 differences, simulations with known dynamic effects, the influence-function standard
errors against a unit bootstrap, the size of the pre-trend test, and bad input.

The R numbers are stored in tests/reference/dynamics/ with the script or the source that made
them (see the README there), so these tests need no R.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels import PanelOLS

from pipeline.effects.dynamics import event_study, group_time_att, stacked_group_time_att

REFERENCE = Path(__file__).parent / "reference" / "dynamics"
EVENT = {"unit": "unit", "time": "month", "relative_time": "rel", "treated": "treated",
         "outcome": "y"}
MPDTA = {"unit": "countyreal", "time": "year", "group": "first.treat", "outcome": "lemp"}


# ---- data ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def event_ref() -> dict:
    return json.loads((REFERENCE / "event_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def event_panel() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "event_panel.csv")


@pytest.fixture(scope="module")
def did_ref() -> dict:
    return json.loads((REFERENCE / "did_mpdta_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    wide = pd.read_csv(REFERENCE / "mpdta_lemp_wide.csv")
    long = wide.melt(id_vars=["countyreal", "first.treat"], var_name="year", value_name="lemp")
    return long.assign(year=long["year"].str.removeprefix("lemp_").astype(int))


def simulate_matched_panel(
    rng: np.random.Generator,
    *,
    n_sets: int = 40,
    window: tuple[int, int] = (-4, 4),
    effect=lambda rel: 0.0 * rel,
    pre_trend: float = 0.0,
) -> pd.DataFrame:
    """A matched event-study panel like the pipeline's: cohorts starting in months 24/30/36,
    each treated person with 1-3 comparisons carrying its start, set x month shocks.

    The treated differ from their comparisons in level (absorbed by the unit effects); their
    outcome gets ``effect(rel)`` after start and ``pre_trend * rel`` before it.
    """
    rel = np.arange(window[0], window[1] + 1)
    frames = []
    for s in range(n_sets):
        start = (24, 30, 36)[s % 3]
        shock = rng.normal(0, 0.3, len(rel))
        k = int(rng.integers(1, 4))
        for member in range(k + 1):
            treated = int(member == 0)
            month = start + rel
            y = (rng.normal(0.5 * treated, 1) + 0.03 * month + shock
                 + treated * np.where(rel >= 0, effect(rel), pre_trend * rel)
                 + rng.normal(0, 0.5, len(rel)))
            frames.append(pd.DataFrame({
                "unit": f"{s}-{member}", "set": s, "treated": treated, "month": month,
                "rel": rel, "w": 1.0 if treated else 1.0 / k, "y": y,
            }))
    return pd.concat(frames, ignore_index=True)


def simulate_staggered(rng: np.random.Generator, n_per_group: int = 500) -> pd.DataFrame:
    """Staggered adoption over periods 1-8: groups starting in 3, 5 and 7 and never treated.

    Untreated outcomes follow parallel trends with group-specific levels; the effect grows
    with time since start at a group-specific rate: tau(g, e) = RATE[g] * (e + 1), e >= 0.
    """
    periods = np.arange(1, 9)
    groups = np.repeat([3, 5, 7, 0], n_per_group)
    n = len(groups)
    level = rng.normal(0.3 * (groups > 0) + 0.1 * groups, 1.0)
    e = periods[None, :] - groups[:, None]
    rate = np.vectorize(RATE.get)(groups)[:, None]
    tau = np.where((groups[:, None] > 0) & (e >= 0), rate * (e + 1), 0.0)
    y = level[:, None] + 0.3 * periods[None, :] + tau + rng.normal(0, 1, (n, len(periods)))
    return pd.DataFrame({
        "id": np.repeat(np.arange(n), len(periods)),
        "period": np.tile(periods, n),
        "g": np.repeat(groups, len(periods)),
        "y": y.ravel(),
    })


RATE = {3: 1.0, 5: 0.5, 7: 0.25, 0: 0.0}


def true_dynamic(e: int, n_periods: int = 8) -> float:
    """Size-weighted mean of tau(g, e) over the groups observed e periods after start."""
    groups = [g for g in (3, 5, 7) if g + e <= n_periods]
    return float(np.mean([RATE[g] * (e + 1) for g in groups]))


def true_simple(n_periods: int = 8) -> float:
    """Size-weighted mean of tau(g, t) over all post-treatment cells (equal group sizes)."""
    taus = [RATE[g] * (t - g + 1) for g in (3, 5, 7) for t in range(g, n_periods + 1)]
    return float(np.mean(taus))


def staggered_att(data: pd.DataFrame, **kwargs):
    return group_time_att(data, unit="id", time="period", group="g", outcome="y", **kwargs)


# ---- event study: references -----------------------------------------------------------------
def test_event_panel_is_the_one_r_computed_on(event_ref, event_panel):
    content = (REFERENCE / "event_panel.csv").read_bytes().replace(b"\r\n", b"\n")
    assert hashlib.md5(content).hexdigest() == event_ref["meta"]["csv_md5"]
    assert len(event_panel) == event_ref["meta"]["n_obs"]
    # unbalanced: some person-months are missing
    assert event_panel.groupby("unit").size().nunique() > 1


def test_event_study_equals_plm_twoway_within_clustered_on_units(event_ref, event_panel):
    ref, meta = event_ref["plm"], event_ref["meta"]
    res = event_study(event_panel, **EVENT, window=tuple(meta["window"]))
    assert res.params.index.tolist() == meta["event_times"]
    np.testing.assert_allclose(res.params.to_numpy(), ref["coef"], rtol=1e-9, atol=1e-12)
    # CR1 with k = event-time coefficients is plm's "sss" exactly
    np.testing.assert_allclose(res.std_errors.to_numpy(), ref["se_sss"], rtol=1e-9)
    # plm's "HC1" lacks G/(G-1) and uses N/(N-k) instead of (N-1)/(N-k)
    n, g = meta["n_obs"], meta["n_units"]
    hc1_to_cr1 = np.sqrt(g / (g - 1) * (n - 1) / n)
    np.testing.assert_allclose(res.std_errors.to_numpy(), np.multiply(ref["se_hc1"], hc1_to_cr1),
                               rtol=1e-9)
    test = res.pre_trend_test()
    assert test.statistic == pytest.approx(ref["wald_pre_sss"], rel=1e-9)
    assert (test.df, test.df_denom, test.distribution) == (5, g - 1, "F")
    assert (res.spec.n_obs, res.spec.n_units, res.spec.n_clusters) == (n, g, g)
    assert res.spec.cluster == "unit"


def test_weighted_event_study_equals_lm_with_dummies_and_vcovcl(event_ref, event_panel):
    ref, meta = event_ref["lm_weighted"], event_ref["meta"]
    res = event_study(event_panel, **EVENT, window=tuple(meta["window"]), weights="w",
                      cluster="set")
    np.testing.assert_allclose(res.params.to_numpy(), ref["coef"], rtol=1e-9, atol=1e-12)
    # vcovCL(type = "HC1") on lm counts every unit and month dummy in K; the pipeline's CR1
    # counts only the k event-time coefficients: same sandwich, factor (N-K)/(N-k) apart
    n, k, big_k = meta["n_obs"], len(meta["event_times"]), ref["K"]
    align = (n - big_k) / (n - k)
    np.testing.assert_allclose(res.std_errors.to_numpy(),
                               np.multiply(ref["se_cl_hc1"], np.sqrt(align)), rtol=1e-9)
    assert res.pre_trend_test().statistic == pytest.approx(ref["wald_pre_cl_hc1"] / align,
                                                           rel=1e-9)
    assert (res.spec.n_clusters, res.spec.df) == (meta["n_sets"], meta["n_sets"] - 1)


def dummy_design(frame: pd.DataFrame, event_times: list[int]) -> pd.DataFrame:
    events = pd.DataFrame({f"e{k}": frame["treated"] * (frame["rel"] == k) for k in event_times})
    units = pd.get_dummies(frame["unit"], prefix="u", drop_first=True, dtype=float)
    months = pd.get_dummies(frame["month"], prefix="m", drop_first=True, dtype=float)
    return sm.add_constant(pd.concat([events.astype(float), units, months], axis=1))


@pytest.mark.parametrize("weighted", [False, True])
def test_panel_ols_two_way_equals_ols_with_dummies(event_panel, weighted):
    """Equivalence: PanelOLS with entity and time effects = (W)LS with unit and month dummies
    (statsmodels), unbalanced panel; the clustered covariances differ only by the df factor."""
    weights = "w" if weighted else None
    data = event_panel[event_panel["set"] <= 24].reset_index(drop=True)
    res = event_study(data, **EVENT, window=(-6, 6), weights=weights, cluster="set")
    event_times = res.params.index.tolist()
    x = dummy_design(data, event_times)
    w = data["w"] if weighted else np.ones(len(data))
    fit = sm.WLS(data["y"], x, weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": data["set"].to_numpy()})
    names = [f"e{k}" for k in event_times]
    np.testing.assert_allclose(res.params.to_numpy(), fit.params[names], rtol=1e-8, atol=1e-10)
    n, k, big_k = len(data), len(names), x.shape[1]
    np.testing.assert_allclose(res.std_errors.to_numpy(),
                               fit.bse[names] * np.sqrt((n - big_k) / (n - k)), rtol=1e-8)


# ---- event study: behaviour ------------------------------------------------------------------
def test_event_study_trims_the_window_and_reports_the_reference_row(event_panel):
    full = event_study(event_panel, **EVENT, window=(-6, 6))
    narrow = event_study(event_panel, **EVENT, window=(-4, 4))
    assert narrow.params.index.tolist() == [-4, -3, -2, 0, 1, 2, 3, 4]
    assert narrow.spec.n_outside_window == int((event_panel["rel"].abs() > 4).sum())
    assert not np.allclose(narrow.params[[0, 1]], full.params[[0, 1]])  # the sample changed
    tidy = narrow.tidy()
    assert tidy.columns.tolist() == ["relative_time", "estimate", "std_error", "ci_low",
                                     "ci_high", "p_value"]
    assert tidy["relative_time"].tolist() == list(range(-4, 5))
    reference = tidy.set_index("relative_time").loc[-1]
    assert reference["estimate"] == 0 and reference[["std_error", "ci_low"]].isna().all()
    ci = narrow.conf_int()
    assert (ci["lower"] < narrow.params).all() and (narrow.params < ci["upper"]).all()


def test_event_times_without_treated_rows_are_omitted_and_reported(event_panel):
    no_month_3 = event_panel[~((event_panel["treated"] == 1) & (event_panel["rel"] == 3))]
    res = event_study(no_month_3, **EVENT, window=(-6, 6))
    assert 3 not in res.params.index
    assert res.spec.omitted_event_times == (3,)


def test_zero_weight_rows_are_dropped_and_counted(event_panel):
    base = event_study(event_panel, **EVENT, window=(-6, 6), weights="w", cluster="set")
    extra = event_panel.assign(unit=event_panel["unit"] + 10_000, w=0.0, y=99.0)
    res = event_study(pd.concat([event_panel, extra]), **EVENT, window=(-6, 6), weights="w",
                      cluster="set")
    assert res.spec.n_zero_weight == len(extra)
    np.testing.assert_allclose(res.params, base.params, rtol=1e-10)


def test_event_study_recovers_a_known_effect_path():
    rng = np.random.default_rng(7)
    effect = lambda rel: 0.5 + 0.1 * rel  # noqa: E731
    res = event_study(simulate_matched_panel(rng, n_sets=300, effect=effect), **EVENT,
                      weights="w", cluster="set", window=(-4, 4))
    truth = np.array([effect(k) if k >= 0 else 0.0 for k in res.params.index])
    z = (res.params.to_numpy() - truth) / res.std_errors.to_numpy()
    assert np.abs(z).max() < 3
    assert res.params[4] > 0.6  # the effect is found, not only "not rejected"


def test_pre_trend_test_has_about_the_nominal_size_and_power():
    rng = np.random.default_rng(20240613)
    p_values = []
    for _ in range(40):
        res = event_study(simulate_matched_panel(rng, n_sets=30), **EVENT, weights="w",
                          cluster="set", window=(-4, 4))
        p_values.append(res.pre_trend_test().p_value)
    p_values = np.array(p_values)
    # 40 draws without pre-trend: 2 rejections at 5% expected (sd 1.4); p-values ~ uniform
    # (a quick check that the test is neither far too liberal nor far too conservative)
    assert (p_values < 0.05).sum() <= 6
    assert 0.05 <= (p_values < 0.20).mean() <= 0.4
    assert 0.35 < p_values.mean() < 0.65
    trending = simulate_matched_panel(rng, pre_trend=0.3)
    res = event_study(trending, **EVENT, weights="w", cluster="set", window=(-4, 4))
    assert res.pre_trend_test().p_value < 1e-3


def test_event_study_summary_and_html(event_panel):
    res = event_study(event_panel, **EVENT, window=(-6, 6), cluster="set")
    text = res.summary()
    assert "reference -1" in text and "clusters 'set' (40)" in text and "CR1" in text
    assert str(res) == text
    assert "<table" in res._repr_html_()
    assert "pre-period coefficients are zero" in str(res.pre_trend_test())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(y=d["y"].where(d.index != 5)), "outcome column 'y' has 1 missing"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), "duplicated"),
        (lambda d: d.assign(treated=np.where(d.index == 0, 0, d["treated"])), "varies within"),
        (lambda d: d.assign(treated=0), "treated and comparison"),
        (lambda d: d[~((d["treated"] == 1) & (d["rel"] == -1))], "reference period"),
        (lambda d: d.assign(w=-d["w"]), "non-negative"),
        (lambda d: d.drop(columns="y"), "'y' is not in the data"),
        (lambda d: d.assign(set=1), "at least two clusters"),
    ],
)
def test_event_study_refuses_bad_input(event_panel, change, message):
    with pytest.raises(ValueError, match=message):
        event_study(change(event_panel.copy()), **EVENT, window=(-6, 6), weights="w",
                    cluster="set")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"window": (-6, -2)}, "reference"), ({"window": (3, -3)}, "window"),
     ({"confidence_level": 1.5}, "confidence_level")],
)
def test_event_study_checks_its_options(event_panel, kwargs, message):
    with pytest.raises(ValueError, match=message):
        event_study(event_panel, **EVENT, **{"window": (-6, 6), **kwargs})


# ---- group-time ATT: R's did on mpdta --------------------------------------------------------
def test_mpdta_is_did_s_example_data(mpdta, did_ref):
    content = (REFERENCE / "mpdta_lemp_wide.csv").read_bytes().replace(b"\r\n", b"\n")
    assert hashlib.md5(content).hexdigest() == did_ref["csv_md5"]
    assert len(mpdta) == 2500  # "mpdta is a balanced panel with 2500 observations"
    sizes = mpdta.groupby("first.treat")["countyreal"].nunique()
    assert {str(g): n for g, n in sizes.items()} == did_ref["group_sizes"]


@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
def test_att_gt_equals_did_analytic(mpdta, did_ref, control_group):
    ref = np.array(did_ref["analytic"][control_group]["att_gt"])
    res = group_time_att(mpdta, **MPDTA, control_group=control_group, base_period="varying")
    cells = res.att_gt
    np.testing.assert_array_equal(cells[["group", "time"]].to_numpy(), ref[:, :2])
    np.testing.assert_allclose(cells["estimate"], ref[:, 2], rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(cells["std_error"], ref[:, 3], rtol=1e-9)
    assert res.dropped.empty and res.spec.n_units == 500


@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
def test_aggregations_equal_did_aggte(mpdta, did_ref, control_group):
    ref = did_ref["analytic"][control_group]
    res = group_time_att(mpdta, **MPDTA, control_group=control_group, base_period="varying")
    dynamic = res.aggregate("dynamic")
    expected = np.array(ref["dynamic"])
    np.testing.assert_array_equal(dynamic.estimates["event_time"], expected[:, 0])
    np.testing.assert_allclose(dynamic.estimates["estimate"], expected[:, 1], rtol=1e-9,
                               atol=1e-14)
    np.testing.assert_allclose(dynamic.estimates["std_error"], expected[:, 2], rtol=1e-9)
    assert dynamic.overall_estimate == pytest.approx(ref["dynamic_overall"][0], rel=1e-9)
    assert dynamic.overall_std_error == pytest.approx(ref["dynamic_overall"][1], rel=1e-9)
    simple = res.aggregate("simple")
    assert simple.overall_estimate == pytest.approx(ref["simple_overall"][0], rel=1e-9)
    assert simple.overall_std_error == pytest.approx(ref["simple_overall"][1], rel=1e-9)


@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
def test_pre_trend_test_equals_did_wald_pretest(mpdta, did_ref, control_group):
    ref = did_ref["analytic"][control_group]
    res = group_time_att(mpdta, **MPDTA, control_group=control_group, base_period="varying")
    test = res.pre_trend_test()
    assert test.statistic == pytest.approx(ref["pretest_W"], rel=1e-9)
    assert (test.df, test.distribution) == (5, "chi2")
    assert test.p_value == pytest.approx(ref["pretest_p"], abs=5e-6)  # did prints 5 digits


def test_estimates_match_the_did_vignette_printout(mpdta, did_ref):
    ref = did_ref["vignette"]
    res = group_time_att(mpdta, **MPDTA, control_group="never_treated", base_period="varying")
    np.testing.assert_allclose(res.att_gt["estimate"], np.array(ref["att_gt"])[:, 2], atol=5e-5)
    dynamic = res.aggregate("dynamic")
    np.testing.assert_allclose(dynamic.estimates["estimate"], np.array(ref["dynamic"])[:, 1],
                               atol=5e-5)
    assert dynamic.overall_estimate == pytest.approx(ref["dynamic_overall"], abs=5e-5)
    assert res.pre_trend_test().p_value == pytest.approx(ref["pretest_p"], abs=5e-6)


def test_universal_base_period_changes_only_the_pre_treatment_cells(mpdta):
    varying = group_time_att(mpdta, **MPDTA, base_period="varying").att_gt
    universal = group_time_att(mpdta, **MPDTA, base_period="universal").att_gt
    post_v = varying[varying["time"] >= varying["group"]].reset_index(drop=True)
    post_u = universal[universal["time"] >= universal["group"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(post_v, post_u)
    # universal: every group has a normalisation cell at g - 1 with estimate 0 and no SE
    norm = universal[universal["time"] == universal["base_time"]]
    assert norm["time"].tolist() == [2003, 2005, 2006]
    assert (norm["estimate"] == 0).all() and norm["std_error"].isna().all()
    assert (universal["base_time"] == universal["group"] - 1).all()


# ---- group-time ATT: equivalence with hand-computed 2x2 differences ------------------------
def hand_2x2(data: pd.DataFrame, g: int, t: int, b: int, comparison: pd.Series) -> float:
    """Mean change from b to t in group g minus that among ``comparison`` (by unit)."""
    wide = data.pivot(index="id", columns="period", values="y")
    groups = data.groupby("id")["g"].first()
    change = wide[t] - wide[b]
    return change[groups == g].mean() - change[comparison.reindex(wide.index)].mean()


@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["universal", "varying"])
@pytest.mark.parametrize("anticipation", [0, 1])
def test_each_att_gt_is_a_two_by_two_difference_of_group_means(
    control_group, base_period, anticipation
):
    data = simulate_staggered(np.random.default_rng(3), n_per_group=40)
    res = staggered_att(data, control_group=control_group, base_period=base_period,
                        anticipation=anticipation)
    groups = data.groupby("id")["g"].first()
    assert len(res.att_gt) > 10
    for row in res.att_gt.itertuples():
        g, t, b = row.group, row.time, row.base_time
        assert b == (g - 1 - anticipation if base_period == "universal" or t >= g else t - 1)
        never = groups == 0
        later = (groups > max(t, b) + anticipation) & (groups != g)
        comparison = never | later if control_group == "not_yet_treated" else never
        assert row.n_comparison == comparison.sum()
        assert row.estimate == pytest.approx(hand_2x2(data, g, t, b, comparison), abs=1e-12)


# ---- group-time ATT: simulation, bootstrap --------------------------------------------------
@pytest.fixture(scope="module")
def staggered() -> pd.DataFrame:
    return simulate_staggered(np.random.default_rng(11), n_per_group=500)


def test_recovers_heterogeneous_dynamic_effects_where_twfe_is_biased(staggered):
    res = staggered_att(staggered, control_group="not_yet_treated")
    dynamic = res.aggregate("dynamic").estimates.set_index("event_time")
    post = dynamic.loc[0:]
    truth = np.array([true_dynamic(e) for e in post.index])
    assert np.abs((post["estimate"] - truth) / post["std_error"]).max() < 2.5
    pre = dynamic.loc[:-2]  # -1 is the normalisation
    assert np.abs(pre["estimate"] / pre["std_error"]).max() < 2.5
    simple = res.aggregate("simple")
    assert abs(simple.overall_estimate - true_simple()) < 2 * simple.overall_std_error
    # the static two-way fixed-effects regression on the same data is far off: later groups
    # are compared with earlier groups whose effects keep growing
    indexed = staggered.set_index(["id", "period"])
    treated_now = ((indexed["g"] > 0) & (indexed.index.get_level_values("period")
                                         >= indexed["g"])).astype(float).rename("d")
    twfe = PanelOLS(indexed["y"], treated_now, entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True)
    assert abs(twfe.params["d"] - true_simple()) > 10 * twfe.std_errors["d"]


def test_influence_function_se_agrees_with_a_unit_bootstrap(staggered):
    res = staggered_att(staggered, control_group="never_treated")
    wide = staggered.pivot(index="id", columns="period", values="y")
    groups = staggered.groupby("id")["g"].first().to_numpy()
    periods = wide.columns.to_numpy()
    rng = np.random.default_rng(5)
    draws = []
    for _ in range(200):
        pick = rng.integers(0, len(wide), len(wide))
        sample = pd.DataFrame({
            "id": np.repeat(np.arange(len(pick)), len(periods)),
            "period": np.tile(periods, len(pick)),
            "g": np.repeat(groups[pick], len(periods)),
            "y": wide.to_numpy()[pick].ravel(),
        })
        boot = staggered_att(sample, control_group="never_treated")
        dynamic = boot.aggregate("dynamic").estimates.set_index("event_time")["estimate"]
        cell = boot.att_gt.set_index(["group", "time"])["estimate"]
        draws.append([boot.aggregate("simple").overall_estimate, dynamic[0], dynamic[3],
                      cell[(3, 5)]])
    boot_se = np.std(draws, axis=0, ddof=1)
    dynamic = res.aggregate("dynamic").estimates.set_index("event_time")["std_error"]
    cell = res.att_gt.set_index(["group", "time"])["std_error"]
    analytic = [res.aggregate("simple").overall_std_error, dynamic[0], dynamic[3], cell[(3, 5)]]
    np.testing.assert_allclose(analytic, boot_se, rtol=0.15)


# ---- group-time ATT: bad and awkward input ---------------------------------------------------
def test_unbalanced_panel_is_refused_or_its_incomplete_units_dropped():
    data = simulate_staggered(np.random.default_rng(4), n_per_group=30)
    holes = data.drop(index=data.index[[5, 17, 300]])  # units 0, 2 and 37 miss a period
    with pytest.raises(ValueError, match="unbalanced panel: 3 of 120 units"):
        staggered_att(holes)
    res = staggered_att(holes, unbalanced="drop_units")
    assert res.spec.n_dropped_unbalanced == 3
    complete = staggered_att(data[~data["id"].isin([0, 2, 37])])
    pd.testing.assert_frame_equal(res.att_gt, complete.att_gt)


def test_cells_without_comparison_units_are_dropped_and_reported():
    data = simulate_staggered(np.random.default_rng(8), n_per_group=30)
    no_never = data[data["g"] > 0]
    res = staggered_att(no_never, control_group="not_yet_treated")
    # from period 7 on every unit is treated, and the last group has no comparison in its
    # base period 6 either: nothing left to compare with
    expected = {(g, t) for g in (3, 5) for t in (7, 8)} | {(7, t) for t in range(1, 9)}
    assert set(map(tuple, res.dropped[["group", "time"]].to_numpy().tolist())) == expected
    assert (res.dropped["reason"] == "no comparison units").all()
    assert res.att_gt["time"].max() == 6 and 7 not in res.att_gt["group"].to_numpy()
    assert "cells dropped 12" in res.summary()
    assert not res.aggregate("dynamic").estimates.empty
    with pytest.raises(ValueError, match="no never_treated comparison units"):
        staggered_att(no_never, control_group="never_treated")


def test_groups_outside_the_panel_are_recoded_or_dropped():
    data = simulate_staggered(np.random.default_rng(9), n_per_group=30)
    late = data.assign(g=data["g"].replace({0: 20}))  # starts after the last period
    res = staggered_att(late, control_group="never_treated")
    assert res.spec.n_recoded_never_treated == 30
    np.testing.assert_allclose(res.att_gt["estimate"],
                               staggered_att(data, control_group="never_treated")
                               .att_gt["estimate"])
    early = data.assign(g=data["g"].replace({3: 1}))  # treated in the first period
    res = staggered_att(early)
    assert res.spec.n_dropped_treated_at_start == 30
    assert 1 not in res.att_gt["group"].to_numpy()
    nan_never = data.assign(g=data["g"].replace({0: np.nan}))
    pd.testing.assert_frame_equal(staggered_att(nan_never).att_gt, staggered_att(data).att_gt)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(y=d["y"].where(d.index != 3)), "outcome column 'y' has 1 missing"),
        (lambda d: d.assign(g=np.where(d.index == 0, 5, d["g"])), "varies within"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), "duplicated"),
        (lambda d: d.assign(g=d["g"] + 0.5), "whole number"),
        (lambda d: d.assign(period=d["period"] + 0.5), "whole periods"),
    ],
)
def test_group_time_att_refuses_bad_input(change, message):
    data = simulate_staggered(np.random.default_rng(2), n_per_group=10)
    with pytest.raises(ValueError, match=message):
        staggered_att(change(data))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"control_group": "nevertreated"}, "control_group"), ({"base_period": "x"}, "base_period"),
     ({"anticipation": -1}, "anticipation"), ({"unbalanced": "fill"}, "unbalanced")],
)
def test_group_time_att_checks_its_options(kwargs, message):
    data = simulate_staggered(np.random.default_rng(2), n_per_group=10)
    with pytest.raises(ValueError, match=message):
        staggered_att(data, **kwargs)
    with pytest.raises(ValueError, match="type must be one of"):
        staggered_att(data).aggregate("calendar")


def test_group_time_summaries_and_html(mpdta):
    res = group_time_att(mpdta, **MPDTA)
    assert "0: 309, 2004: 20, 2006: 40, 2007: 131" in res.summary()
    assert "<table" in res._repr_html_()
    dynamic = res.aggregate("dynamic")
    assert "mean over e >= 0" in dynamic.summary() and "<table" in dynamic._repr_html_()
    assert dynamic.tidy().columns.tolist() == ["event_time", "estimate", "std_error", "ci_low",
                                               "ci_high"]
    simple = res.aggregate("simple")
    assert simple.tidy().shape == (1, 4)
    assert simple.conf_int()[0] < simple.overall_estimate < simple.conf_int()[1]


# ---- group-time ATT: unit weights -------------------------------------------------------------
def test_a_weighted_cell_is_wls_on_the_changes_with_its_hc0_standard_error():
    data = simulate_staggered(np.random.default_rng(21), n_per_group=80)
    data = data.assign(w=data["id"].map(lambda i: 1.0 + (i % 3)))  # 1, 2 or 3 per unit
    res = staggered_att(data, control_group="never_treated", weights="w")
    cell = res.att_gt.set_index(["group", "time"]).loc[(5, 7)]
    wide = data.pivot(index="id", columns="period", values="y")
    units = data.groupby("id")[["g", "w"]].first()
    keep = units["g"].isin([5, 0])
    dy = (wide[7] - wide[4])[keep]
    design = sm.add_constant((units.loc[keep, "g"] == 5).astype(float))
    wls = sm.WLS(dy, design, weights=units.loc[keep, "w"]).fit(cov_type="HC0")
    # the influence function counts all units, statsmodels only the two groups: the SE is
    # the same sandwich either way
    assert cell["estimate"] == pytest.approx(wls.params.iloc[1], abs=1e-12)
    assert cell["std_error"] == pytest.approx(wls.bse.iloc[1], rel=1e-10)


def test_integer_weights_give_the_estimates_of_duplicated_units():
    data = simulate_staggered(np.random.default_rng(22), n_per_group=40)
    copies = data["id"] % 2 + 1
    weighted = staggered_att(data.assign(w=copies.astype(float)), weights="w")
    repeated = data.loc[data.index.repeat(copies)].assign(
        id=lambda d: d["id"].astype(str) + "-" + d.groupby(["id", "period"]).cumcount().astype(str)
    )
    unweighted = staggered_att(repeated)
    np.testing.assert_allclose(weighted.att_gt["estimate"], unweighted.att_gt["estimate"],
                               atol=1e-12)


def test_unit_weights_of_one_change_nothing():
    data = simulate_staggered(np.random.default_rng(23), n_per_group=40)
    pd.testing.assert_frame_equal(staggered_att(data.assign(w=1.0), weights="w").att_gt,
                                  staggered_att(data).att_gt)


@pytest.mark.parametrize("bad, message", [
    (lambda d: d.assign(w=0.0), "must be positive"),
    (lambda d: d.assign(w=d["period"].astype(float)), "varies within"),
    (lambda d: d.assign(w="x"), "must be numeric"),
])
def test_bad_unit_weights_are_refused(bad, message):
    data = simulate_staggered(np.random.default_rng(24), n_per_group=10)
    with pytest.raises(ValueError, match=message):
        staggered_att(bad(data.assign(w=1.0)), weights="w")


# ---- group-time ATT: stacked on start month (matched comparisons) -----------------------------
def simulate_matched_stacks(rng: np.random.Generator, n_sets: int = 300) -> pd.DataFrame:
    """Start months 10, 16 and 22, each with participants and 2 matched comparisons observed
    from 6 months before to 6 after start. Each stack has its own calendar trend, shared by its
    participants and comparisons but not by the other stacks (people eligible at different
    moments differ), and the effect is 0.5 + 0.1 * e from start on."""
    frames = []
    for start, slope in ((10, 0.00), (16, 0.05), (22, -0.04)):
        months = np.arange(start - 6, start + 7)
        for member in range(3):
            treated = member == 0
            level = rng.normal(0.5 if treated else 0.0, 1.0, n_sets)
            e = months - start
            effect = np.where(treated & (e >= 0), 0.5 + 0.1 * e, 0.0)
            y = (level[:, None] + slope * months[None, :] + effect[None, :]
                 + rng.normal(0, 0.5, (n_sets, len(months))))
            frames.append(pd.DataFrame({
                "unit": np.repeat([f"{start}-{member}-{i}" for i in range(n_sets)], len(months)),
                "month": np.tile(months, n_sets), "start": start,
                "g": start if treated else 0, "w": 1.0 if treated else 0.5, "y": y.ravel(),
            }))
    return pd.concat(frames, ignore_index=True)


STACKED = {"unit": "unit", "time": "month", "group": "g", "stack": "start", "outcome": "y"}


def test_stacked_cells_are_each_stack_estimated_alone():
    data = simulate_matched_stacks(np.random.default_rng(31), n_sets=60)
    res = stacked_group_time_att(data, **STACKED, weights="w")
    for start, part in data.groupby("start"):
        alone = group_time_att(part, unit="unit", time="month", group="g", outcome="y",
                               control_group="never_treated", weights="w")
        mine = res.att_gt[res.att_gt["group"] == start].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone.att_gt)
    assert res.spec.stacked_on == "start" and res.spec.n_units == 3 * 3 * 60


def test_stacked_dynamic_aggregation_recovers_the_effect_path():
    data = simulate_matched_stacks(np.random.default_rng(32))
    dynamic = stacked_group_time_att(data, **STACKED, weights="w").aggregate("dynamic")
    path = dynamic.estimates.set_index("event_time")
    post = path.loc[0:]
    truth = 0.5 + 0.1 * post.index.to_numpy()
    assert np.abs((post["estimate"] - truth) / post["std_error"]).max() < 3
    assert np.abs(path.loc[:-2, "estimate"] / path.loc[:-2, "std_error"]).max() < 3
    # without the comparisons' stack trends removed the path would be off: the participants
    # alone change by far more than the effect
    participants = data[data["g"] > 0].groupby("month")["y"].mean()
    assert abs(participants.loc[28] - participants.loc[21] - (0.5 + 0.6)) > 0.2


def test_stacked_influence_functions_give_the_aggregate_se_of_independent_stacks():
    data = simulate_matched_stacks(np.random.default_rng(33), n_sets=100)
    res = stacked_group_time_att(data, **STACKED)
    e0 = res.aggregate("dynamic").estimates.set_index("event_time").loc[0]
    sizes = data.groupby("start")["unit"].nunique()
    treated = data[data["g"] > 0].groupby("start")["unit"].nunique()
    cells = res.att_gt[res.att_gt["event_time"] == 0].set_index("group")
    # group shares are treated units over all units: equal here, so the estimate is the mean
    assert e0["estimate"] == pytest.approx(cells["estimate"].mean(), abs=1e-12)
    # with fixed (not estimated) weights the variance would be the mean of the variances / 9;
    # the share estimation adds a little, never removes
    fixed = np.sqrt((cells["std_error"] ** 2).sum()) / len(cells)
    assert fixed <= e0["std_error"] < 1.05 * fixed
    assert (treated / sizes).nunique() == 1


def test_a_stack_with_two_treated_groups_is_refused():
    data = simulate_matched_stacks(np.random.default_rng(34), n_sets=10)
    data.loc[data["start"] == 22, "start"] = 16
    with pytest.raises(ValueError, match="start=16 holds 2 treated groups"):
        stacked_group_time_att(data, **STACKED)


def test_pre_trend_by_event_time_is_the_cell_test_when_there_is_one_group():
    data = simulate_matched_stacks(np.random.default_rng(35), n_sets=80)
    one = data[data["start"] == 16]
    res = group_time_att(one, unit="unit", time="month", group="g", outcome="y",
                         control_group="never_treated")
    by_cell, by_time = res.pre_trend_test(), res.pre_trend_test(by="event_time")
    assert by_time.df == by_cell.df == 5
    assert by_time.statistic == pytest.approx(by_cell.statistic, rel=1e-10)


def test_pre_trend_by_event_time_detects_a_planted_trend_with_one_df_per_month():
    data = simulate_matched_stacks(np.random.default_rng(36), n_sets=200)
    e = data["month"] - data["start"]
    trending = data.assign(y=data["y"] + np.where((data["g"] > 0) & (e < 0), 0.08 * e, 0.0))
    res = stacked_group_time_att(trending, **STACKED)
    test = res.pre_trend_test(by="event_time")
    assert test.df == 5 and test.p_value < 1e-3
    assert res.pre_trend_test().df == 15
    assert stacked_group_time_att(data, **STACKED).pre_trend_test(by="event_time").p_value > 0.001
    with pytest.raises(ValueError, match="by must be one of"):
        res.pre_trend_test(by="group")


def test_exact_absorption_equals_panel_ols_two_way_on_a_stacked_unbalanced_panel():
    """The event study absorbs unit and period effects exactly before PanelOLS; PanelOLS with
    both effects (its own iterative demeaning) gives the same numbers."""
    data = simulate_matched_stacks(np.random.default_rng(41), n_sets=40)
    data = data.sample(frac=0.95, random_state=1).sort_index()  # gaps: unbalanced
    data = data.assign(rel=data["month"] - data["start"], treated=(data["g"] > 0).astype(int),
                       period=data["start"] * 1000 + data["month"],
                       cluster=data["unit"].str.rsplit("-", n=1).str[-1]
                       + data["start"].astype(str))
    res = event_study(data, unit="unit", time="period", relative_time="rel", treated="treated",
                      outcome="y", weights="w", cluster="cluster", window=(-6, 6))
    events = pd.DataFrame({f"e{k}": (data["treated"] * (data["rel"] == k)).astype(float)
                           for k in res.params.index}).set_index(
        pd.MultiIndex.from_arrays([data["unit"], data["period"]]))
    model = PanelOLS(pd.Series(data["y"].to_numpy(), index=events.index, name="y"),
                     events, entity_effects=True, time_effects=True,
                     weights=pd.Series(data["w"].to_numpy(), index=events.index))
    clusters = pd.DataFrame({"c": pd.factorize(data["cluster"])[0]}, index=events.index)
    fit = model.fit(cov_type="clustered", clusters=clusters, debiased=True, group_debias=True,
                    auto_df=False, count_effects=False)
    np.testing.assert_allclose(res.params.to_numpy(), fit.params.to_numpy(), rtol=1e-7,
                               atol=1e-9)
    np.testing.assert_allclose(res.std_errors.to_numpy(), fit.std_errors.to_numpy(), rtol=1e-6)


def test_a_singular_pre_period_covariance_drops_dependent_restrictions_as_stata_does():
    from pipeline.effects.dynamics import _wald_test

    rng = np.random.default_rng(4)
    base = rng.normal(size=(3, 3))
    full = base @ base.T  # three independent restrictions
    # a fourth restriction that is the sum of the first two: the covariance has rank 3
    lift = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], dtype=float)
    estimates3 = rng.normal(size=3)
    singular = _wald_test(lift @ estimates3, lift @ full @ lift.T, df_denom=None,
                          hypothesis="h")
    independent = _wald_test(estimates3, full, df_denom=None, hypothesis="h")
    assert singular.df == 3
    assert singular.statistic == pytest.approx(independent.statistic, rel=1e-9)
    assert singular.p_value == pytest.approx(independent.p_value, rel=1e-9)
    assert "1 of 4 restrictions dropped" in singular.hypothesis
