"""The pipeline's estimators against numbers computed by R (an independent tool).

``tests/reference/make_reference.R`` generated ``matched_sample.csv`` and computed
``r_reference.json`` from it with R's ``glm``, ``lm`` + ``sandwich`` and plain R code for the
balance statistics (see ``tests/reference/README.md``). These tests only read the stored
files, so they run without R.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.effects import att
from pipeline.matching import balance_table
from pipeline.matching.propensity import covariate_terms, fit_propensity

REFERENCE = Path(__file__).parent / "reference"
CSV = REFERENCE / "matched_sample.csv"


@pytest.fixture(scope="module")
def r_ref() -> dict:
    return json.loads((REFERENCE / "r_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(CSV)


@pytest.fixture(scope="module")
def ps_fit(sample, r_ref):
    covariates = r_ref["propensity"]["covariates"]
    return fit_propensity(sample, sample["treat"].to_numpy(), covariates)


def test_csv_is_the_one_r_computed_on(r_ref, sample):
    # R hashed the file as written (LF line endings); a CRLF checkout must not fail the test
    content = CSV.read_bytes().replace(b"\r\n", b"\n")
    assert hashlib.md5(content).hexdigest() == r_ref["meta"]["csv_md5"]
    assert len(sample) == r_ref["meta"]["n"] == 600
    assert int(sample["treat"].sum()) == r_ref["meta"]["n_treated"]
    # the ATT is tested on unequal weights (1:1, 1:2 and 1:4 matched sets)
    matched = sample[sample["weights"] > 0]
    assert len(matched) == r_ref["meta"]["n_matched_rows"]
    assert set(matched["weights"]) == {1.0, 0.5, 0.25}


# ---- propensity score: own Newton-Raphson logit vs glm(family = binomial()) ----------------
def test_propensity_coefficients_equal_glm(r_ref, ps_fit):
    ref = r_ref["propensity"]
    # same dummy coding: first level (C-locale sort) dropped, as R's treatment contrasts
    assert ps_fit.params.index.tolist() == ref["coef_names"]
    assert ps_fit.dropped == ()
    np.testing.assert_allclose(ps_fit.params.to_numpy(), ref["coef"], rtol=1e-6, atol=0)


def test_propensity_scores_equal_glm_fitted_values(r_ref, ps_fit):
    ref = r_ref["propensity"]
    np.testing.assert_allclose(ps_fit.score, ref["score"], rtol=1e-8, atol=0)
    np.testing.assert_allclose(ps_fit.linear, ref["linear"], rtol=1e-7, atol=1e-9)


# ---- ATT: WLS difference in means, CR1 / HC1, t intervals -----------------------------------
@pytest.mark.parametrize("outcome", ["y_cont", "y_bin"])
@pytest.mark.parametrize("cov_type", ["cluster", "HC1"])
def test_att_equals_lm_with_sandwich(r_ref, sample, outcome, cov_type):
    ref = r_ref["att"][outcome][cov_type]
    matched = sample[sample["weights"] > 0]
    cluster = "subclass" if cov_type == "cluster" else None
    est = att(matched, "treat", outcome, weights="weights", cluster=cluster)

    assert est.cov_type == ref["cov_type"]
    assert est.df == ref["df"]
    assert est.n_treated + est.n_control == ref["n_obs"]
    if cov_type == "cluster":
        assert est.n_clusters == ref["n_clusters"]
    else:
        assert est.n_clusters is None and ref["n_clusters"] is None
    # closed-form quantities: agreement to (nearly) the 15 digits stored
    for name in ("estimate", "mean_treated", "mean_control", "std_error", "ci_low", "ci_high"):
        assert getattr(est, name) == pytest.approx(ref[name], rel=1e-10, abs=0), name
    assert est.p_value == pytest.approx(ref["p_value"], rel=1e-8, abs=0)
    # the sandwich factor statsmodels uses, G/(G-1) * (N-1)/(N-K) for CR1 and N/(N-K) for
    # HC1, is what vcovCL(type = "HC1", cadjust = TRUE) / vcovHC(type = "HC1") use: R checked
    # its own result against that formula written out by hand
    assert ref["max_rel_diff_sandwich_vs_hand"] < 1e-12


def test_att_ignores_unmatched_zero_weight_rows(r_ref, sample):
    # with HC1 the zero-weight (unmatched) rows are ignored, so the full sample gives R's numbers
    ref = r_ref["att"]["y_cont"]["HC1"]
    est = att(sample, "treat", "y_cont", weights="weights", cluster=None)
    assert est.std_error == pytest.approx(ref["std_error"], rel=1e-10, abs=0)
    assert est.df == ref["df"]


# ---- balance statistics ---------------------------------------------------------------------
def _python_balance(sample: pd.DataFrame, covariates: list[str], score: np.ndarray):
    terms = covariate_terms(sample, covariates, drop_first=False)
    return balance_table(
        terms, sample["treat"].to_numpy() == 1, sample["weights"].to_numpy(), score
    )


def test_balance_table_equals_definitions_in_r(r_ref, sample, ps_fit):
    ref = r_ref["balance"]
    table = _python_balance(sample, r_ref["propensity"]["covariates"], ps_fit.score)
    assert table.index.tolist() == list(ref)
    checked = 0
    for variable, expected in ref.items():
        row = table.loc[variable]
        assert row["type"] == expected["type"], variable
        # the distance row uses each tool's own propensity score (they agree to ~1e-14)
        rtol = 1e-9 if variable == "distance" else 1e-10
        for when in ("before", "after"):
            for stat, value in expected[when].items():
                got = row[f"{stat}_{when}"]
                if value is None:
                    assert math.isnan(got), (variable, when, stat)
                else:
                    assert got == pytest.approx(value, rel=rtol, abs=1e-14), (
                        variable, when, stat,
                    )
                    checked += 1
    assert checked == 11 * 2 * 5 + 3 * 2  # var_ratio only for the 3 non-binary rows


def test_balance_table_with_r_scores_as_distance_is_exact(r_ref, sample):
    # with R's fitted scores as the distance the distance row agrees to the stored digits too
    ref = r_ref["balance"]["distance"]
    score = np.asarray(r_ref["propensity"]["score"])
    row = _python_balance(sample, r_ref["propensity"]["covariates"], score).loc["distance"]
    for when in ("before", "after"):
        for stat, value in ref[when].items():
            assert row[f"{stat}_{when}"] == pytest.approx(value, rel=1e-10, abs=0), (when, stat)
