"""Tests of pipeline.matching.missing: the missing-indicator, listwise and refuse rules on a
hand-made frame (exact expected frames and reports), matching on the handled data, the
invariance of the propensity score to the fill constant, and bad inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pipeline.matching import BalanceWarning, match
from pipeline.matching.missing import MissingHandling, handle_missing
from pipeline.matching.propensity import fit_propensity

COVARIATES = ["age", "earnings", "region", "education", "employed_m1"]
INCOMPLETE_ROWS = [11, 12, 15, 16]


def raw_frame() -> pd.DataFrame:
    """Four treated and four controls; missing values in numeric, nullable-integer, object
    and category columns (rows 11, 12, 15 and 16 are incomplete)."""
    return pd.DataFrame(
        {
            "treated": [1, 1, 1, 1, 0, 0, 0, 0],
            "age": [30.0, np.nan, 40.0, 45.0, 50.0, np.nan, 20.0, 25.0],
            "earnings": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0],
            "region": pd.Series(
                ["north", None, "south", "south", "north", "north", None, "south"],
                dtype=object,
                index=range(10, 18),
            ),
            "education": pd.Categorical(
                ["low", "high", None, "low", "high", "low", "low", "high"],
                categories=["low", "high"],
            ),
            "employed_m1": pd.array([1, 0, None, 0, 0, 0, 1, 1], dtype="Int64"),
        },
        index=range(10, 18),
    )


def expected_report(shares: dict[str, tuple[int, int]], actions: list[str]) -> pd.DataFrame:
    """The report for ``raw_frame`` (four units per group): missing counts and actions."""
    counts = [shares.get(c, (0, 0)) for c in COVARIATES]
    return pd.DataFrame(
        {
            "covariate": COVARIATES,
            "n_missing_treated": np.array([t for t, _ in counts], dtype=np.int64),
            "n_missing_control": np.array([c for _, c in counts], dtype=np.int64),
            "share_missing_treated": [t / 4 for t, _ in counts],
            "share_missing_control": [c / 4 for _, c in counts],
            "action": actions,
        }
    )


RAW_COUNTS = {"age": (1, 1), "region": (1, 1), "education": (1, 0), "employed_m1": (1, 0)}


# --- the rules on the hand-made frame --------------------------------------------------------
def test_indicator_fills_numeric_with_the_mean_flags_them_and_adds_a_level():
    raw = raw_frame()
    handled = handle_missing(raw, COVARIATES, rule="indicator")

    expected = raw.copy()
    expected["age"] = [30.0, 35.0, 40.0, 45.0, 50.0, 35.0, 20.0, 25.0]  # mean of 6 observed
    expected["region"] = pd.Series(
        ["north", "missing", "south", "south", "north", "north", "missing", "south"],
        dtype=object,
        index=raw.index,
    )
    expected["education"] = pd.Categorical(
        ["low", "high", "missing", "low", "high", "low", "low", "high"],
        categories=["low", "high", "missing"],
    )
    expected["employed_m1"] = [1.0, 0.0, 3 / 7, 0.0, 0.0, 0.0, 1.0, 1.0]
    expected["age_missing"] = np.array([0, 1, 0, 0, 0, 1, 0, 0], dtype=np.int64)
    expected["employed_m1_missing"] = np.array([0, 0, 1, 0, 0, 0, 0, 0], dtype=np.int64)
    pd.testing.assert_frame_equal(handled.data, expected)
    assert handled.covariates == [*COVARIATES, "age_missing", "employed_m1_missing"]
    assert handled.fill_values == pytest.approx({"age": 35.0, "employed_m1": 3 / 7})
    assert (handled.rule, handled.rows_dropped_treated, handled.rows_dropped_control) == (
        "indicator",
        0,
        0,
    )


def test_indicator_report_counts_missing_values_by_group_and_names_each_action():
    handled = handle_missing(raw_frame(), COVARIATES)  # "indicator" is the default
    actions = ["indicator added", "none", "own level", "own level", "indicator added"]
    pd.testing.assert_frame_equal(handled.report(), expected_report(RAW_COUNTS, actions))


def test_listwise_drops_exactly_the_incomplete_rows_and_counts_them():
    raw = raw_frame()
    handled = handle_missing(raw, COVARIATES, rule="listwise")

    kept = [i for i in raw.index if i not in INCOMPLETE_ROWS]
    pd.testing.assert_frame_equal(handled.data, raw.loc[kept])
    assert handled.covariates == COVARIATES
    assert (handled.rows_dropped_treated, handled.rows_dropped_control) == (2, 2)
    assert handled.fill_values == {}
    actions = ["rows dropped", "none", "rows dropped", "rows dropped", "rows dropped"]
    pd.testing.assert_frame_equal(handled.report(), expected_report(RAW_COUNTS, actions))


def test_refuse_names_every_incomplete_covariate_with_its_counts_and_the_rules():
    with pytest.raises(ValueError) as caught:
        handle_missing(raw_frame(), COVARIATES, rule="refuse")
    message = str(caught.value)
    for column, (n_treated, n_control) in RAW_COUNTS.items():
        assert f"'{column}': {n_treated} treated, {n_control} controls" in message
    assert "'earnings'" not in message
    assert "rule='indicator'" in message and "rule='listwise'" in message


@pytest.mark.parametrize("rule", ["indicator", "listwise", "refuse"])
def test_complete_data_is_returned_unchanged_with_no_action(rule):
    raw = raw_frame().dropna()
    handled = handle_missing(raw, COVARIATES, rule=rule)
    pd.testing.assert_frame_equal(handled.data, raw)
    assert handled.covariates == COVARIATES
    assert handled.report()["action"].tolist() == ["none"] * len(COVARIATES)
    assert handled.report()[["n_missing_treated", "n_missing_control"]].to_numpy().sum() == 0


@pytest.mark.parametrize("rule", ["indicator", "listwise"])
def test_the_input_frame_is_not_modified(rule):
    raw = raw_frame()
    handle_missing(raw, COVARIATES, rule=rule)
    pd.testing.assert_frame_equal(raw, raw_frame())


def test_string_dtype_gets_the_level_and_boolean_treatment_is_accepted():
    raw = pd.DataFrame(
        {
            "treated": [True, True, False, False],
            "region": pd.array(["north", None, "south", None], dtype="string"),
        }
    )
    handled = handle_missing(raw, ["region"])
    assert handled.data["region"].tolist() == ["north", "missing", "south", "missing"]
    assert handled.data["region"].dtype == raw["region"].dtype
    assert handled.covariates == ["region"]
    report = handled.report().iloc[0]
    assert (report.n_missing_treated, report.n_missing_control) == (1, 1)


def test_shares_are_nan_for_an_empty_group():
    raw = pd.DataFrame({"treated": [1, 1], "age": [20.0, np.nan]})
    report = handle_missing(raw, ["age"], rule="listwise").report().iloc[0]
    assert report.share_missing_treated == 0.5
    assert np.isnan(report.share_missing_control)


def test_result_is_frozen():
    handled = handle_missing(raw_frame(), COVARIATES)
    assert isinstance(handled, MissingHandling)
    with pytest.raises(AttributeError):
        handled.rule = "listwise"


# --- matching on the handled data ------------------------------------------------------------
def simulated_with_gaps(n: int = 400, seed: int = 7) -> pd.DataFrame:
    """A frame where selection depends on age and region, with ~10% of those missing."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, n)
    region = rng.choice(["Africa", "Asia", "Europe"], n)
    treated = rng.random(n) < 1 / (1 + np.exp(-(-2.0 + 0.03 * (age - 40) + (region == "Asia"))))
    data = pd.DataFrame(
        {
            "treated": treated.astype(int),
            "age": np.where(rng.random(n) < 0.1, np.nan, age),
            "region": pd.Series(region, dtype=object).where(rng.random(n) >= 0.1, None),
            "months_employed_12": rng.integers(0, 13, n).astype(float),
        }
    )
    assert data[["age", "region"]].isna().any().all()
    return data


MATCH_OPTIONS = [
    {"ratio": 2, "caliper": 0.2},
    {"distance": "mahalanobis"},
    {"method": "cem"},
]


def quiet_match(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BalanceWarning)
        return match(*args, **kwargs)


@pytest.mark.parametrize("options", MATCH_OPTIONS)
def test_match_refuses_the_raw_frame(options):
    with pytest.raises(ValueError, match="missing value"):
        quiet_match(simulated_with_gaps(), "treated", ["age", "region"], **options)


@pytest.mark.parametrize("options", MATCH_OPTIONS)
def test_match_runs_on_the_indicator_result_with_every_row(options):
    raw = simulated_with_gaps()
    handled = handle_missing(raw, ["age", "region", "months_employed_12"])
    assert handled.data.index.equals(raw.index)
    result = quiet_match(handled.data, "treated", handled.covariates, **options)
    assert result.n_treated + result.n_control == len(raw)
    assert result.n_treated_matched > 0
    assert "age_missing" in result.balance().index


@pytest.mark.parametrize("options", MATCH_OPTIONS)
def test_match_runs_on_the_listwise_result_without_the_incomplete_rows(options):
    raw = simulated_with_gaps()
    handled = handle_missing(raw, ["age", "region", "months_employed_12"], rule="listwise")
    complete = raw.index[raw[["age", "region"]].notna().all(axis=1)]
    assert handled.data.index.equals(complete)
    treated = raw["treated"] == 1
    assert handled.rows_dropped_treated == int((treated & ~raw.index.isin(complete)).sum())
    assert handled.rows_dropped_control == len(raw) - len(complete) - handled.rows_dropped_treated
    result = quiet_match(handled.data, "treated", handled.covariates, **options)
    assert result.n_treated + result.n_control == len(complete)
    assert result.matched_data().index.isin(complete).all()


def test_propensity_score_does_not_depend_on_the_fill_constant():
    """The claim in the module documentation: with an indicator, any constant gives the same
    fitted propensity score as the mean."""
    handled = handle_missing(simulated_with_gaps(), ["age", "region"])
    treated = handled.data["treated"].to_numpy() == 1
    at_mean = fit_propensity(handled.data, treated, handled.covariates).score
    other = handled.data.assign(
        age=handled.data["age"].where(handled.data["age_missing"] == 0, -99)
    )
    assert not other["age"].equals(handled.data["age"])
    at_other = fit_propensity(other, treated, handled.covariates).score
    np.testing.assert_allclose(at_other, at_mean, rtol=1e-7, atol=1e-10)


# --- bad inputs ------------------------------------------------------------------------------
def test_unknown_rule_lists_the_rules():
    with pytest.raises(ValueError, match=r"\['indicator', 'listwise', 'refuse'\].*'impute'"):
        handle_missing(raw_frame(), COVARIATES, rule="impute")


def test_unknown_covariates_are_all_named():
    with pytest.raises(ValueError, match=r"\['agee', 'sex'\] are not in the data"):
        handle_missing(raw_frame(), ["agee", "region", "sex"])


def test_existing_indicator_column_is_refused():
    raw = raw_frame().assign(age_missing=0)
    with pytest.raises(ValueError, match="'age_missing'.*already in the data"):
        handle_missing(raw, COVARIATES)
    # no clash when the covariate is complete (no indicator is needed), nor under listwise
    assert handle_missing(raw, ["earnings"]).covariates == ["earnings"]
    assert handle_missing(raw, COVARIATES, rule="listwise").rows_dropped_treated == 2


def _with_missing_level(data: pd.DataFrame) -> pd.DataFrame:
    """``region`` with an observed level "missing" and one missing value."""
    return data.assign(region=data["region"].fillna("missing").where(data.index != 13, None))


BAD_INPUTS = {
    "treatment missing": (
        lambda d: d.assign(treated=[1, np.nan, 1, 1, 0, 0, 0, 0]),
        COVARIATES,
        ValueError,
        "treatment column 'treated' has 1 missing",
    ),
    "treatment not 0/1": (
        lambda d: d.assign(treated=[1, 2, 1, 1, 0, 0, 0, 0]),
        COVARIATES,
        ValueError,
        "boolean or 0/1",
    ),
    "no treatment column": (
        lambda d: d.drop(columns="treated"),
        COVARIATES,
        ValueError,
        r"\['treated'\] are not in the data",
    ),
    "treatment as covariate": (
        lambda d: d,
        [*COVARIATES, "treated"],
        ValueError,
        "also listed as a covariate",
    ),
    "covariate twice": (lambda d: d, ["age", "region", "age"], ValueError, r"\['age'\] are listed"),
    "level exists": (_with_missing_level, ["region"], ValueError, "already has a level 'missing'"),
    "nothing observed": (lambda d: d.assign(age=np.nan), ["age"], ValueError, "no observed value"),
    "unsupported dtype": (
        lambda d: d.assign(day=pd.to_datetime(["2024-01-01", None] * 4)),
        ["day"],
        ValueError,
        "neither numeric, boolean nor categorical",
    ),
    "not a frame": (lambda d: d.to_dict(), COVARIATES, TypeError, "DataFrame"),
}


@pytest.mark.parametrize(
    ("change", "covariates", "error", "pattern"), list(BAD_INPUTS.values()), ids=list(BAD_INPUTS)
)
def test_bad_inputs_are_refused_with_a_clear_message(change, covariates, error, pattern):
    with pytest.raises(error, match=pattern):
        handle_missing(change(raw_frame()), covariates)
