"""Tests of pipeline.matching.weighting: entropy balancing against R's survey::calibrate,
inverse probability weights against statsmodels, recovery of a known ATT, input validation.

The R numbers are stored in ``tests/reference/weighting/`` (made by ``make_reference.R`` in
that folder, see its README), so these tests run without R.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pipeline.effects import att
from pipeline.matching.balance import STAT_COLUMNS
from pipeline.matching.propensity import covariate_terms
from pipeline.matching.weighting import WeightResult, weightit

REFERENCE = Path(__file__).parent / "reference" / "weighting"
COVARIATES = ["age", "female", "region", "educ", "income"]


@pytest.fixture(scope="module")
def r_meta() -> dict:
    return json.loads((REFERENCE / "r_meta.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "sample.csv")


@pytest.fixture(scope="module")
def r_weights() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "r_weights.csv")


def simulate(n: int, seed: int) -> tuple[pd.DataFrame, float]:
    """Confounded data with a heterogeneous effect; returns the data and the sample ATT.

    Treatment depends on x1, x2 and the group; the untreated outcome is linear in them, and
    the effect ``1 + x1`` is larger for the treated (who have larger x1), so the ATT differs
    from the average effect and from the naive difference in means.
    """
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.5, size=n)
    group = rng.choice(["a", "b", "c"], size=n)
    shift = pd.Series(group).map({"a": 0.0, "b": 0.5, "c": -0.5}).to_numpy()
    t = rng.binomial(1, 1 / (1 + np.exp(-(-0.7 + 0.8 * x1 + 0.6 * x2 + shift))))
    effect = 1.0 + x1
    y = 1.0 + 2.0 * x1 + x2 - 1.5 * shift + effect * t + rng.normal(size=n)
    data = pd.DataFrame({"t": t, "x1": x1, "x2": x2, "group": group, "y": y})
    return data, float(effect[t == 1].mean())


def direct_smd(data: pd.DataFrame, weights: np.ndarray, terms: pd.DataFrame) -> pd.Series:
    """(treated mean - weighted control mean) / treated SD, computed without the library."""
    treated = data["treat"].to_numpy() == 1
    x = terms.to_numpy(dtype=float)
    mean_t = x[treated].mean(axis=0)
    mean_c = np.average(x[~treated], axis=0, weights=weights[~treated])
    return pd.Series((mean_t - mean_c) / x[treated].std(axis=0, ddof=1), index=terms.columns)


# ---- the stored R reference ---------------------------------------------------------------
def test_reference_files_are_the_ones_r_made(r_meta, sample, r_weights):
    content = (REFERENCE / "sample.csv").read_bytes().replace(b"\r\n", b"\n")
    assert hashlib.md5(content).hexdigest() == r_meta["sample_csv_md5"]
    assert len(sample) == r_meta["n"] == len(r_weights)
    assert int(sample["treat"].sum()) == r_meta["n_treated"]
    assert (r_weights["id"] == sample["id"]).all()
    assert r_meta["max_abs_mean_gap_m2"] < 1e-9


@pytest.mark.parametrize("moments", [1, 2])
def test_entropy_balancing_equals_r_raking_calibration(sample, r_weights, r_meta, moments):
    result = weightit(sample, "treat", COVARIATES, method="ebal", moments=moments)
    # the same balance constraints as R's model matrix (intercept = normalisation)
    r_terms = [
        t.replace("region", "region_").replace("educ", "educ_") for t in r_meta[f"terms_m{moments}"]
    ]
    r_terms = [t.replace("I(", "").replace(")", "") for t in r_terms[1:]]
    assert list(result.terms) == r_terms
    np.testing.assert_allclose(
        result.weights.to_numpy(), r_weights[f"w_ebal_m{moments}"].to_numpy(), rtol=1e-8, atol=0
    )
    assert result.converged and result.iterations <= 8  # Newton: quadratic convergence


@pytest.mark.parametrize("moments", [1, 2])
def test_entropy_balancing_balances_every_term_exactly(sample, moments):
    result = weightit(sample, "treat", COVARIATES, method="ebal", moments=moments)
    terms = covariate_terms(sample, COVARIATES, drop_first=False)
    if moments == 2:
        terms = terms.assign(**{"age^2": terms["age"] ** 2, "income^2": terms["income"] ** 2})
    smd = direct_smd(sample, result.weights.to_numpy(), terms)
    assert smd.abs().max() < 1e-8
    # before weighting the groups differ clearly, so the test is not trivially met
    assert direct_smd(sample, np.ones(len(sample)), terms).abs().max() > 0.3
    w = result.weights.to_numpy()
    treated = sample["treat"].to_numpy() == 1
    assert (w[treated] == 1).all() and w[~treated].sum() == pytest.approx(treated.sum())
    assert (w[~treated] > 0).all()


def test_entropy_weights_are_exponential_in_the_terms(sample):
    # w_i proportional to exp(lambda' x_i): log weights are exactly linear in the terms
    result = weightit(sample, "treat", COVARIATES, method="ebal")
    controls = sample["treat"].to_numpy() == 0
    x = covariate_terms(sample[controls], COVARIATES, drop_first=True)
    exog = np.column_stack([np.ones(controls.sum()), x.to_numpy()])
    log_w = np.log(result.weights.to_numpy()[controls])
    residual = log_w - exog @ np.linalg.lstsq(exog, log_w, rcond=None)[0]
    assert np.abs(residual).max() < 1e-9


def test_odds_weights_equal_r_glm(sample, r_weights):
    result = weightit(sample, "treat", COVARIATES, method="ps")
    np.testing.assert_allclose(result.weights.to_numpy(), r_weights["w_ps"].to_numpy(), rtol=1e-8)


# ---- inverse probability weights ----------------------------------------------------------
def test_odds_weights_equal_statsmodels_logit(sample):
    result = weightit(sample, "treat", COVARIATES, method="ps")
    exog = sm.add_constant(pd.get_dummies(sample[COVARIATES], drop_first=True, dtype=float))
    fit = sm.Logit(sample["treat"], exog).fit(method="newton", tol=1e-12, disp=False)
    ps = fit.predict(exog).to_numpy()
    controls = sample["treat"].to_numpy() == 0
    odds = ps[controls] / (1 - ps[controls])
    np.testing.assert_allclose(result.propensity.to_numpy(), ps, rtol=1e-8)
    w = result.weights.to_numpy()
    np.testing.assert_allclose(w[controls], odds * (~controls).sum() / odds.sum(), rtol=1e-8)
    # the weights are odds up to one constant: ratios between controls are the odds ratios
    np.testing.assert_allclose(w[controls] / odds, (w[controls] / odds)[0], rtol=1e-8)


@pytest.mark.parametrize("method", ["ps", "ebal"])
def test_att_on_weighted_data_is_the_weighted_difference_in_means(sample, method):
    result = weightit(sample, "treat", COVARIATES, method=method)
    estimate = att(result.weighted_data(), "treat", "y", weights="weights", cluster=None)
    treated = sample["treat"].to_numpy() == 1
    y, w = sample["y"].to_numpy(), result.weights.to_numpy()
    by_hand = y[treated].mean() - np.average(y[~treated], weights=w[~treated])
    assert estimate.estimate == pytest.approx(by_hand, rel=1e-12)
    assert estimate.n_treated == treated.sum() and estimate.n_control == (~treated).sum()


def test_normalisation_changes_neither_estimate_nor_standard_error(sample):
    # WeightIt's unnormalised ATT weights ps/(1-ps) give the same ATT and HC1 standard error
    result = weightit(sample, "treat", COVARIATES, method="ps")
    ps = result.propensity.to_numpy()
    raw = np.where(sample["treat"] == 1, 1.0, ps / (1 - ps))
    ours = att(result.weighted_data(), "treat", "y", weights="weights", cluster=None)
    weightit_like = att(sample.assign(weights=raw), "treat", "y", weights="weights", cluster=None)
    assert ours.estimate == pytest.approx(weightit_like.estimate, rel=1e-10)
    assert ours.std_error == pytest.approx(weightit_like.std_error, rel=1e-10)
    assert not np.allclose(raw, result.weights.to_numpy())


@pytest.mark.parametrize("method", ["ps", "ebal"])
def test_known_att_is_recovered_in_one_large_sample(method):
    data, true_att = simulate(20_000, seed=3)
    result = weightit(data, "t", ["x1", "x2", "group"], method=method)
    estimate = att(result.weighted_data(), "t", "y", weights="weights", cluster=None)
    assert abs(estimate.estimate - true_att) < 3 * estimate.std_error
    naive = att(data, "t", "y", weights=None, cluster=None)
    assert abs(naive.estimate - true_att) > 20 * naive.std_error  # confounding is strong


@pytest.mark.parametrize("method", ["ps", "ebal"])
def test_known_att_is_recovered_on_average_over_replications(method):
    errors = []
    for seed in range(30):
        data, true_att = simulate(600, seed=100 + seed)
        w = weightit(data, "t", ["x1", "x2", "group"], method=method).weights.to_numpy()
        treated, y = data["t"].to_numpy() == 1, data["y"].to_numpy()
        estimate = y[treated].mean() - np.average(y[~treated], weights=w[~treated])
        errors.append(estimate - true_att)
    errors = np.array(errors)
    assert abs(errors.mean()) < 3 * errors.std(ddof=1) / np.sqrt(len(errors))


# ---- the results object -------------------------------------------------------------------
@pytest.fixture(scope="module")
def shuffled(sample) -> pd.DataFrame:
    """The sample with a non-default index and boolean treatment, in a different row order."""
    data = sample.assign(treat=sample["treat"] == 1).drop(columns="id")
    return data.set_axis([f"p{i}" for i in range(len(data))]).iloc[::-1]


@pytest.mark.parametrize("method", ["ps", "ebal"])
def test_result_knows_how_it_was_made_and_keeps_the_rows(shuffled, method):
    result = weightit(shuffled, "treat", COVARIATES, method=method)
    assert isinstance(result, WeightResult)
    assert (result.method, result.estimand, result.moments) == (method, "ATT", 1)
    assert result.covariates == tuple(COVARIATES) and result.treatment == "treat"
    assert (result.n_treated, result.n_control) == (158, 342)
    assert result.iterations is None if method == "ps" else result.iterations > 0
    data = result.weighted_data()
    assert data.index.equals(shuffled.index) and result.weights.index.equals(shuffled.index)
    pd.testing.assert_frame_equal(data.drop(columns="weights"), shuffled)
    assert "weights" not in shuffled.columns
    data.loc[data.index[0], "weights"] = -1.0  # a copy: the result is not changed
    assert (result.weights > 0).all()
    with pytest.raises(AttributeError):
        result.method = "ebal"


def test_weights_do_not_depend_on_row_order(sample, shuffled):
    for method in ("ps", "ebal"):
        original = weightit(sample, "treat", COVARIATES, method=method).weights.to_numpy()
        reordered = weightit(shuffled, "treat", COVARIATES, method=method).weights
        np.testing.assert_allclose(reordered.to_numpy()[::-1], original, rtol=1e-10)


@pytest.mark.parametrize("method", ["ps", "ebal"])
def test_balance_table_has_the_matching_columns(sample, method):
    table = weightit(sample, "treat", COVARIATES, method=method).balance()
    expected = ["type"] + [f"{s}_{when}" for when in ("before", "after") for s in STAT_COLUMNS]
    assert list(table.columns) == expected
    terms = list(covariate_terms(sample, COVARIATES, drop_first=False).columns)
    assert list(table.index) == (["distance", *terms] if method == "ps" else terms)
    after = table["smd_after"].drop(index="distance", errors="ignore").abs()
    assert after.max() < (1e-8 if method == "ebal" else 0.1) < table["smd_before"].abs().max()


def test_effective_sample_size_is_kish(sample):
    result = weightit(sample, "treat", COVARIATES, method="ebal", moments=2)
    ess = result.effective_sample_size()
    w = result.weights.to_numpy()[sample["treat"].to_numpy() == 0]
    assert ess.loc["weighted", "control"] == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert ess.loc["weighted", "treated"] == ess.loc["unweighted", "treated"] == 158
    assert ess.loc["unweighted", "control"] == 342 > ess.loc["weighted", "control"]


@pytest.mark.parametrize("method", ["ps", "ebal"])
def test_summary_and_html(sample, method):
    result = weightit(sample, "treat", COVARIATES, method=method)
    text = result.summary()
    assert str(result) == text
    assert f"method      {method}:" in text and "Effective sample sizes" in text
    assert "income" in text and ("distance" in text) == (method == "ps")
    page = result._repr_html_()
    assert page.startswith("<div>") and "<table" in page and "region_west" in page


# ---- bad input ----------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
def test_separation_is_reported_as_not_converged():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    data = pd.DataFrame({"t": (x > 0.5).astype(int), "x": x, "z": rng.normal(size=200)})
    with pytest.warns(RuntimeWarning, match="separate treated and controls"):
        result = weightit(data, "t", ["x", "z"])
    assert result.converged is False and "NOT converged" in result.summary()
    assert result.effective_sample_size().loc["weighted", "control"] < 3


def test_overlapping_data_fit_without_warnings(sample):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert weightit(sample, "treat", COVARIATES, method="ps").converged


def small_data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 80
    return pd.DataFrame(
        {
            "t": np.tile([0, 1, 0, 0], n // 4),
            "age": rng.integers(20, 60, size=n),
            "score": rng.normal(size=n),
            "city": rng.choice(["x", "y", "z"], size=n),
        }
    )


@pytest.mark.parametrize(
    ("change", "covariates", "message"),
    [
        (lambda d: d.assign(t=d["t"] * 2), ["age"], "treatment column 't' must be boolean or 0/1"),
        (lambda d: d.assign(t=d["t"].astype(str)), ["age"], "treatment column 't'"),
        (lambda d: d.assign(t=1), ["age"], "no control units: treatment column 't'"),
        (lambda d: d.assign(t=0), ["age"], "no treated units: treatment column 't'"),
        (
            lambda d: d.assign(score=d["score"].where(d.index != 3)),
            ["age", "score"],
            "covariate column 'score' has 1 missing value",
        ),
        (
            lambda d: d.assign(score=d["score"].where(d.index != 5, -np.inf)),
            ["age", "score"],
            r"\['score'\] have infinite",
        ),
        (lambda d: d.assign(flag=1.0), ["age", "flag"], r"covariate\(s\) \['flag'\] are constant"),
        (
            lambda d: d.assign(age2=2 * d["age"] + 3),
            ["age", "score", "age2"],
            r"term 'age2' is a linear combination of \['age'\]",
        ),
        (
            lambda d: d.assign(is_z=(d["city"] == "z") * 1.0 + (d["city"] == "y")),
            ["city", "score", "is_z"],
            r"term 'is_z' is a linear combination of \['city_y', 'city_z'\]",
        ),
        (lambda d: d, ["age", "missing"], "covariate column 'missing' is not in the data"),
        (lambda d: d, ["t", "age"], "cannot also be a covariate"),
        (lambda d: d, [], "at least one column"),
        (lambda d: d.assign(weights=1.0), ["age"], "already has a 'weights' column"),
    ],
)
@pytest.mark.parametrize("method", ["ps", "ebal"])
def test_bad_input_raises_naming_the_problem(change, covariates, message, method):
    with pytest.raises(ValueError, match=message):
        weightit(change(small_data()), "t", covariates, method=method)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([-1.0, 1.0, 1.0], r"\['x\^2'\] are constant"),
        ([1.0, 2.0, 2.0], r"term 'x\^2' is a linear combination of \['x'\]"),
    ],
)
def test_squares_that_add_nothing_are_refused(values, message):
    data = small_data().assign(x=np.resize(values, 80))
    weightit(data, "t", ["x"], method="ebal")  # fine with means only
    with pytest.raises(ValueError, match=message):
        weightit(data, "t", ["x"], method="ebal", moments=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "nearest"}, "method must be one of"),
        ({"estimand": "ATE"}, r"estimand must be one of \['ATT'\]"),
        ({"method": "ebal", "moments": 3}, "moments must be one of"),
        ({"method": "ebal", "moments": True}, "moments must be one of"),
        ({"method": "ps", "moments": 2}, "only applies to method='ebal'"),
        ({"method": "ebal", "max_iter": 0}, "max_iter must be a positive integer"),
        ({"method": "ebal", "tol": -1.0}, "tol must be a positive number"),
    ],
)
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        weightit(small_data(), "t", ["age"], **kwargs)


def test_data_must_be_a_dataframe():
    with pytest.raises(TypeError, match="DataFrame"):
        weightit(small_data().to_dict(), "t", ["age"])


def test_no_overlap_in_one_term_is_refused_by_name():
    # treated live in cities y and z, controls in x and y: no weights can balance city_z
    data = small_data()
    data["city"] = np.where(data["t"] == 1, "z", "x")
    data.loc[data.index % 3 == 0, "city"] = "y"
    with pytest.raises(ValueError, match=r"'city_z' \(0.7\) is not strictly inside .*\[0, 0\]"):
        weightit(data, "t", ["city", "age"], method="ebal")


def test_treated_mean_on_the_edge_of_the_controls_range_is_refused():
    # no treated unit lives in city z, some controls do: their weights would have to be 0,
    # which exponential weights never are
    data = small_data()
    data.loc[(data["t"] == 1) & (data["city"] == "z"), "city"] = "x"
    with pytest.raises(ValueError, match=r"'city_z' \(0\) is not strictly inside .*\[0, 1\]"):
        weightit(data, "t", ["city", "age"], method="ebal")


def test_treated_means_outside_the_controls_hull_are_refused():
    # each treated mean (0.6) lies inside its control range [0, 1], but a + b <= 1 for every
    # control while the treated average a + b = 1.2: exact balance is impossible
    data = pd.DataFrame(
        {
            "t": [0] * 30 + [1] * 10,
            "a": [0, 1, 0] * 10 + [1] * 6 + [0] * 4,
            "b": [0, 0, 1] * 10 + [1] * 6 + [0] * 4,
        }
    )
    with pytest.raises(ValueError, match="did not reach balance after 200 Newton iterations"):
        weightit(data, "t", ["a", "b"], method="ebal")
    with pytest.raises(ValueError, match="after 7 Newton iterations"):
        weightit(data, "t", ["a", "b"], method="ebal", max_iter=7)
