"""The estimator-level Monte Carlo (benchmarks/estimator_coverage.py), small and seeded.

``make validate`` runs the full version (200 replications of 3,000 people); here 40
replications of 1,500 people check every ATT estimator of the library for bias and coverage.

Coverage bound: if a 95% interval really covers the truth in 95% of samples, the number of
covering intervals among 40 independent replications is Binomial(40, 0.95). The test asks for
at least ``binom.ppf(0.001, 40, 0.95)`` = 33 of 40 (0.825): fewer happens with probability
0.0007, so even over the eight estimators a correct interval fails less than 1% of the time,
while an interval covering only 80% of the time fails with probability 0.73. Too high a
coverage is not tested: 40 of 40 happens with probability 0.13 at exactly 95%.

Bias bound: |mean bias| < 3 Monte Carlo standard errors of the mean error (about 0.3% of
correct estimators fail by chance under normality).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from benchmarks.estimator_coverage import ESTIMATORS, run, simulate, summarise

REPLICATIONS = 40
N = 1500
SEED = 4242
FALSE_ALARM = 0.001


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """The summary of a small Monte Carlo over every estimator (programme scenario)."""
    return run(replications=REPLICATIONS, n=N, seed=SEED)


def _against_target(table: pd.DataFrame, estimator: str) -> pd.Series:
    """The row comparing ``estimator`` with the estimand it targets (the matched treated
    units if a caliper dropped some, else all treated units)."""
    rows = table.loc[table["estimator"] == estimator].set_index("truth")
    return rows.loc["matched treated" if "matched treated" in rows.index else "all treated"]


@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_coverage_is_plausible_for_a_95_percent_interval(table, estimator):
    row = _against_target(table, estimator)
    minimum = binom.ppf(FALSE_ALARM, REPLICATIONS, 0.95)
    assert row["replications"] == REPLICATIONS
    assert row["coverage"] * REPLICATIONS >= minimum, row.to_dict()


@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_bias_is_within_monte_carlo_error(table, estimator):
    row = _against_target(table, estimator)
    assert abs(row["mean_bias"]) < 3 * row["bias_mcse"], row.to_dict()


def test_true_att_is_the_mean_individual_effect_of_the_treated():
    data, true_att = simulate(2000, 7)
    treated = data["treated"] == 1
    assert true_att == pytest.approx((data["y1"] - data["y0"])[treated].mean(), abs=1e-15)
    assert (data["employed"] == np.where(treated, data["y1"], data["y0"])).all()
    assert (data["y1"] >= data["y0"]).all()


def test_simulate_is_deterministic_and_shaped_like_the_programme():
    data, true_att = simulate(200_000, 11)
    again, same_att = simulate(200_000, 11)
    pd.testing.assert_frame_equal(data, again)
    assert same_att == true_att
    assert 0.10 <= data["treated"].mean() <= 0.20
    assert set(data["region"]) == {"north", "south", "west"}
    assert data["prior_months"].between(0, 12).all()
    ate = (data["y1"] - data["y0"]).mean()
    assert true_att - ate > 0.01  # heterogeneous effects: the treated gain more


def test_summary_adds_the_matched_treated_truth_only_when_units_were_dropped():
    records = pd.DataFrame(
        {
            "estimator": ["caliper"] * 2 + ["full"] * 2,
            "estimate": [0.1, 0.3, 0.1, 0.3],
            "std_error": [0.05] * 4,
            "ci_low": [0.0, 0.2, 0.0, 0.2],
            "ci_high": [0.2, 0.4, 0.2, 0.4],
            "truth_all_treated": [0.25, 0.25, 0.25, 0.25],
            "truth_target": [0.15, 0.25, 0.25, 0.25],
            "treated_used": [0.9, 1.0, 1.0, 1.0],
        }
    )
    table = summarise(records).set_index(["estimator", "truth"])
    assert list(table.index) == [
        ("caliper", "all treated"),
        ("caliper", "matched treated"),
        ("full", "all treated"),
    ]
    assert table.loc[("caliper", "all treated"), "coverage"] == 0.5
    assert table.loc[("caliper", "matched treated"), "coverage"] == 1.0
    assert table.loc[("caliper", "matched treated"), "mean_bias"] == pytest.approx(0.0)
    assert table.loc[("full", "all treated"), "mean_bias"] == pytest.approx(-0.05)
