"""Rosenbaum bounds and E-values (pipeline.effects.sensitivity).

Reference numbers: published E-values (VanderWeele & Ding 2017; the EValue R package's
printed output), R's numbers in ``tests/reference/sensitivity/r_reference.json`` (made by
``make_reference.R`` beside it; provenance in its README) and scipy at Gamma = 1.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipeline.effects.sensitivity import (
    EValue,
    binary_rosenbaum_bounds,
    critical_gamma,
    e_value,
    e_value_difference,
    e_value_standardised,
    explain_e_value,
    explain_rosenbaum,
    rosenbaum_bounds,
)

REFERENCE = Path(__file__).parent / "reference" / "sensitivity"
GRID = np.linspace(1, 10, 181)


@pytest.fixture(scope="module")
def r_ref() -> dict:
    return json.loads((REFERENCE / "r_reference.json").read_text(encoding="utf-8"))


def pair_differences(name: str) -> np.ndarray:
    pairs = pd.read_csv(REFERENCE / f"{name}_pairs.csv")
    return (pairs["exposed"] - pairs["control"]).to_numpy(dtype=float)


# ---- Wilcoxon signed-rank bounds -----------------------------------------------------------


@pytest.mark.parametrize("name", ["lead", "earnings"])
def test_wilcoxon_bounds_match_r(r_ref, name):
    ref = r_ref["wilcoxon"][name]
    bounds = rosenbaum_bounds(pair_differences(name), ref["gamma"])
    assert list(bounds.columns) == ["gamma", "p_lower", "p_upper"]
    np.testing.assert_allclose(bounds["gamma"], ref["gamma"])
    np.testing.assert_allclose(bounds["p_lower"], ref["p_lower"], rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(bounds["p_upper"], ref["p_upper"], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("name", ["lead", "earnings"])
def test_critical_gamma_matches_r_uniroot(r_ref, name):
    ref = r_ref["wilcoxon"][name]["critical_gamma_05"]
    assert critical_gamma(pair_differences(name)) == pytest.approx(ref, rel=1e-9)


def test_lead_example_concrete_numbers():
    # The upper bounds as psens prints them (four decimals) for the lead pairs, with the zero
    # difference of pair 15 dropped (32 pairs left); R gives the same (r_reference.json).
    bounds = rosenbaum_bounds(pair_differences("lead"), [1, 2, 3, 4, 5, 6])
    assert bounds["p_upper"].round(4).tolist() == [0.0, 0.0018, 0.0131, 0.0367, 0.0694, 0.1073]
    assert bounds["p_lower"].max() < 1e-5
    assert critical_gamma(pair_differences("lead")) == pytest.approx(4.4346, abs=1e-4)


@pytest.mark.parametrize("name", ["lead", "earnings"])
def test_gamma_one_is_the_ordinary_wilcoxon_test(r_ref, name):
    # No continuity correction, zeros dropped, tie-corrected variance: scipy's
    # approximation and R's wilcox.test(exact = FALSE, correct = FALSE).
    d = pair_differences(name)
    scipy_p = stats.wilcoxon(
        d, alternative="greater", method="approx", correction=False, zero_method="wilcox"
    ).pvalue
    row = rosenbaum_bounds(d, [1.0]).iloc[0]
    assert row["p_lower"] == row["p_upper"] == pytest.approx(scipy_p, rel=1e-12)
    assert row["p_upper"] == pytest.approx(r_ref["wilcoxon"][name]["wilcox_test_p"], rel=1e-9)


@pytest.mark.parametrize("name", ["lead", "earnings"])
def test_bounds_are_ordered_and_monotone_in_gamma(name):
    bounds = rosenbaum_bounds(pair_differences(name), GRID)
    assert (bounds["p_lower"] <= bounds["p_upper"]).all()
    assert (np.diff(bounds["p_upper"]) >= 0).all()
    assert (np.diff(bounds["p_lower"]) <= 0).all()
    assert bounds["p_upper"].iloc[-1] > bounds["p_upper"].iloc[0]


def test_zero_differences_are_dropped_and_order_is_kept():
    d = pair_differences("lead")
    with_zeros = np.concatenate([d, np.zeros(5)])
    pd.testing.assert_frame_equal(rosenbaum_bounds(with_zeros), rosenbaum_bounds(d))
    shuffled = rosenbaum_bounds(d, [3.0, 1.0, 2.0])
    assert shuffled["gamma"].tolist() == [3.0, 1.0, 2.0]
    assert shuffled["p_upper"].iloc[0] > shuffled["p_upper"].iloc[2] > shuffled["p_upper"].iloc[1]


def test_alternative_less_tests_the_negated_differences():
    d = pair_differences("earnings")
    pd.testing.assert_frame_equal(
        rosenbaum_bounds(-d, alternative="less"), rosenbaum_bounds(d)
    )
    assert critical_gamma(-d, alternative="less") == critical_gamma(d)


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
def test_critical_gamma_is_where_the_upper_bound_crosses_alpha(alpha):
    d = pair_differences("lead")
    gamma = critical_gamma(d, alpha)
    below, at, above = rosenbaum_bounds(d, [gamma * 0.999, gamma, gamma * 1.001])["p_upper"]
    assert below < alpha < above
    assert at == pytest.approx(alpha, rel=1e-9)


def test_critical_gamma_shrinks_with_a_stricter_alpha():
    d = pair_differences("lead")
    assert critical_gamma(d, 0.01) < critical_gamma(d, 0.05) < critical_gamma(d, 0.1)


def test_critical_gamma_when_every_difference_is_positive():
    # T equals the rank sum; the crossing is p = S^2 / (S^2 + z^2 Q) in closed form.
    d = np.arange(1.0, 21.0)
    total, squares, z = 210.0, 2870.0, stats.norm.isf(0.05)
    prob = total**2 / (total**2 + z**2 * squares)
    assert critical_gamma(d) == pytest.approx(prob / (1 - prob), rel=1e-12)


def test_critical_gamma_is_one_without_significance():
    d = [1.0, -2.0, 3.0, -4.0, 5.0]
    assert rosenbaum_bounds(d, [1.0])["p_upper"].iloc[0] > 0.05
    assert critical_gamma(d) == 1.0


@pytest.mark.parametrize(
    ("differences", "kwargs", "message"),
    [
        ([], {}, "empty"),
        ([1.0, np.nan, 2.0], {}, "NaN"),
        ([1.0, np.inf], {}, "NaN or infinite"),
        ([[1.0, 2.0], [3.0, 4.0]], {}, "one-dimensional"),
        ([0.0, 0.0], {}, "every pair difference is zero"),
        ([1.0, 2.0], {"gammas": [1.0, 0.9]}, "every gamma must be >= 1"),
        ([1.0, 2.0], {"gammas": [np.nan]}, "finite"),
        ([1.0, 2.0], {"gammas": []}, "non-empty"),
        ([1.0, 2.0], {"alternative": "two-sided"}, "alternative must be one of"),
    ],
)
def test_rosenbaum_bounds_rejects_bad_input(differences, kwargs, message):
    with pytest.raises(ValueError, match=message):
        rosenbaum_bounds(differences, **kwargs)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.7, -0.1])
def test_critical_gamma_rejects_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be strictly between 0 and 0.5"):
        critical_gamma([1.0, 2.0, 3.0], alpha)


# ---- McNemar bounds for binary outcomes ----------------------------------------------------


@pytest.mark.parametrize("name", ["hammond", "employment"])
def test_binary_bounds_match_r(r_ref, name):
    ref = r_ref["binary"][name]
    bounds = binary_rosenbaum_bounds(ref["n_treated_only"], ref["n_control_only"], ref["gamma"])
    np.testing.assert_allclose(bounds["p_lower"], ref["p_lower"], rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(bounds["p_upper"], ref["p_upper"], rtol=1e-9, atol=1e-300)
    assert bounds["p_upper"].iloc[0] == pytest.approx(ref["binom_test_p"], rel=1e-9)


def test_binary_hammond_concrete_numbers():
    # binarysens(12, 110): 110 discordant pairs in which only the smoker died of lung cancer.
    bounds = binary_rosenbaum_bounds(110, 12, [4.0, 5.0, 6.0])
    assert bounds["p_upper"].round(4).tolist() == [0.002, 0.0232, 0.0969]


@pytest.mark.parametrize(("treated_only", "control_only"), [(110, 12), (41, 26), (5, 5), (0, 3)])
def test_binary_gamma_one_is_the_exact_mcnemar_test(treated_only, control_only):
    expected = stats.binomtest(
        treated_only, treated_only + control_only, alternative="greater"
    ).pvalue
    row = binary_rosenbaum_bounds(treated_only, control_only, [1.0]).iloc[0]
    assert row["p_lower"] == row["p_upper"] == pytest.approx(expected, rel=1e-12)


def test_binary_bounds_are_ordered_and_monotone():
    bounds = binary_rosenbaum_bounds(41, 26, GRID)
    assert (bounds["p_lower"] <= bounds["p_upper"]).all()
    assert (np.diff(bounds["p_upper"]) >= 0).all()
    assert (np.diff(bounds["p_lower"]) <= 0).all()


@pytest.mark.parametrize(
    ("treated_only", "control_only", "message"),
    [
        (-1, 3, "n_treated_only must be a non-negative whole number"),
        (2.5, 3, "n_treated_only must be a non-negative whole number"),
        (True, 3, "n_treated_only must be a non-negative whole number"),
        (3, np.nan, "n_control_only must be a non-negative whole number"),
        (0, 0, "no discordant pairs"),
    ],
)
def test_binary_bounds_reject_bad_counts(treated_only, control_only, message):
    with pytest.raises(ValueError, match=message):
        binary_rosenbaum_bounds(treated_only, control_only)


def test_binary_bounds_reject_gamma_below_one():
    with pytest.raises(ValueError, match="every gamma must be >= 1"):
        binary_rosenbaum_bounds(5, 2, [0.5])


# ---- E-values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("estimate", "ci_low", "ci_high", "point", "limit", "tolerance"),
    [
        # VanderWeele & Ding (2017): breastfeeding, odds ratio of a rare outcome 3.9
        # (1.8, 8.7), treated as a risk ratio: E-values 7.26 and 3.00.
        (3.9, 1.8, 8.7, 7.26, 3.00, 0.005),
        # EValue R package README, printed output of evalues.RR(10.73, 8.02, 14.36).
        (10.73, 8.02, 14.36, 20.94777, 15.52336, 5e-6),
        # VanderWeele & Ding (2017): leukaemia, risk ratio 0.80 (0.71, 0.91): 1.81 and 1.43.
        (0.80, 0.71, 0.91, 1.81, 1.43, 0.005),
    ],
)
def test_published_e_values(estimate, ci_low, ci_high, point, limit, tolerance):
    result = e_value(estimate, ci_low, ci_high)
    assert result.point == pytest.approx(point, abs=tolerance)
    assert result.ci_limit == pytest.approx(limit, abs=tolerance)
    assert result.risk_ratio == estimate
    assert result.note == "risk ratio as given"


def test_e_value_is_symmetric_and_one_at_the_null():
    assert e_value(0.5).point == pytest.approx(e_value(2.0).point) == pytest.approx(
        2 + math.sqrt(2)
    )
    assert e_value(1.0) == EValue(1.0, None, 1.0, "risk ratio as given")
    assert e_value(1.0, 0.8, 1.25).ci_limit == 1.0


def test_e_value_of_an_interval_including_one_is_one():
    assert e_value(1.3, 0.9, 1.8).ci_limit == 1.0
    assert e_value(0.7, 0.4, 1.1).ci_limit == 1.0
    assert e_value(1.3, 1.0, 1.8).ci_limit == 1.0


def test_e_value_of_a_common_outcome_odds_ratio_uses_its_square_root():
    result = e_value(2.25, 1.21, 4.0, scale="odds_ratio")
    assert result.risk_ratio == 1.5
    assert result.point == pytest.approx(1.5 + math.sqrt(0.75))
    assert result.ci_limit == pytest.approx(1.1 + math.sqrt(0.11))
    assert "square root of the odds ratio" in result.note


def test_e_value_difference_converts_with_the_baseline_risk():
    # 48% against 40% employed: RR = 0.48 / 0.40 = 1.2; the lower limit 0.01 gives 1.025.
    result = e_value_difference(0.08, 0.40, 0.01, 0.15)
    assert result.risk_ratio == pytest.approx(1.2)
    assert result.point == pytest.approx(1.2 + math.sqrt(1.2 * 0.2))
    assert result.ci_limit == pytest.approx(1.025 + math.sqrt(1.025 * 0.025))
    assert result.point == pytest.approx(1.68990, abs=1e-5)
    assert result.ci_limit == pytest.approx(1.18508, abs=1e-5)
    assert "baseline risk" in result.note


def test_e_value_difference_below_zero_matches_the_published_risk_ratio_example():
    # 40% against 50%: RR 0.80, the leukaemia example's E-value 1.81.
    result = e_value_difference(-0.10, 0.50)
    assert result.risk_ratio == pytest.approx(0.8)
    assert result.point == pytest.approx(1.81, abs=0.005)
    assert result.ci_limit is None


def test_e_value_difference_clips_interval_limits_to_proportions():
    # The upper limit 0.6 implies a treated proportion of 1.1, clipped to 1 (RR 2): the
    # interval includes no effect. A lower limit below -p0 is clipped to RR 0.
    assert e_value_difference(-0.10, 0.50, -0.45, 0.60).ci_limit == 1.0
    assert e_value_difference(0.05, 0.10, -0.20, 0.30).ci_limit == 1.0
    assert e_value_difference(-0.05, 0.10, -0.20, -0.01).ci_limit == pytest.approx(
        1 / 0.9 + math.sqrt(1 / 0.9 * (1 / 0.9 - 1))
    )


def test_e_value_standardised_matches_the_evalue_md_conversion():
    # EValue::evalues.MD(0.5, 0.25): RR exp(0.91 * 0.5), interval exp(0.455 -/+ 0.445).
    result = e_value_standardised(0.5, 0.25)
    expected = e_value(math.exp(0.455), math.exp(0.01), math.exp(0.9))
    assert result.point == pytest.approx(expected.point) == pytest.approx(2.52914, abs=1e-5)
    assert result.ci_limit == pytest.approx(expected.ci_limit) == pytest.approx(1.11080, abs=1e-5)
    assert result.risk_ratio == pytest.approx(1.57617, abs=1e-5)
    assert "exp(0.91" in result.note


def test_e_value_standardised_negative_and_without_se():
    negative = e_value_standardised(-0.5, 0.25)
    assert negative.point == pytest.approx(e_value_standardised(0.5).point)
    assert negative.ci_limit == pytest.approx(e_value_standardised(0.5, 0.25).ci_limit)
    assert e_value_standardised(0.5).ci_limit is None
    assert e_value_standardised(0.1, 0.2).ci_limit == 1.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: e_value(0.0), "must be finite and > 0"),
        (lambda: e_value(-1.2), "must be finite and > 0"),
        (lambda: e_value(float("nan")), "must be finite and > 0"),
        (lambda: e_value(float("inf")), "must be finite and > 0"),
        (lambda: e_value(1.5, 1.2), "both confidence limits or neither"),
        (lambda: e_value(1.5, None, 2.0), "both confidence limits or neither"),
        (lambda: e_value(1.5, 1.6, 2.0), "inside its confidence interval"),
        (lambda: e_value(1.5, -0.1, 2.0), "finite and >= 0"),
        (lambda: e_value(1.5, 1.2, float("nan")), "finite and >= 0"),
        (lambda: e_value(1.5, scale="hazard_ratio"), "scale must be one of"),
        (lambda: e_value(-2.0, scale="odds_ratio"), "must be finite and > 0"),
        (lambda: e_value_difference(0.1, 0.0), "baseline_risk must be strictly between"),
        (lambda: e_value_difference(0.1, 1.0), "baseline_risk must be strictly between"),
        (lambda: e_value_difference(-0.4, 0.4), "is not a proportion"),
        (lambda: e_value_difference(0.7, 0.4), "is not a proportion"),
        (lambda: e_value_difference(0.1, 0.4, 0.12, 0.2), "inside its confidence interval"),
        (lambda: e_value_difference(0.1, 0.4, 0.05), "both confidence limits or neither"),
        (lambda: e_value_standardised(0.3, -0.1), "se must be finite and >= 0"),
        (lambda: e_value_standardised(float("nan")), "d must be finite"),
    ],
)
def test_e_values_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_e_value_is_frozen():
    with pytest.raises(AttributeError):
        e_value(2.0).point = 3.0


# ---- plain-language sentences --------------------------------------------------------------


def _is_one_plain_sentence(text: str) -> bool:
    return (
        text.endswith(".")
        and ". " not in text
        and "\n" not in text
        and not set(text) & set("*_#<>`|")
    )


def test_explain_rosenbaum():
    assert explain_rosenbaum(1.8) == (
        "An unobserved trait would have to make one of two otherwise identical people 1.8 "
        "times as likely to take part (in odds) to explain away the effect."
    )
    assert "4.43 times" in explain_rosenbaum(critical_gamma(pair_differences("lead")))
    assert "2 times" in explain_rosenbaum(2.0)
    assert explain_rosenbaum(1.0).startswith("The effect is not statistically clear")
    for gamma in (1.0, 1.04, 1.8, 12.5):
        assert _is_one_plain_sentence(explain_rosenbaum(gamma))


@pytest.mark.parametrize("gamma", [0.9, float("nan"), float("inf")])
def test_explain_rosenbaum_rejects_bad_gamma(gamma):
    with pytest.raises(ValueError, match="critical_gamma must be finite and >= 1"):
        explain_rosenbaum(gamma)


def test_explain_e_value():
    assert explain_e_value(e_value(3.9, 1.8, 8.7)) == (
        "To explain away the estimate, an unmeasured factor would have to make both taking "
        "part and the outcome 7.26 times as likely, over and above the characteristics we "
        "matched on, and 3 times as likely to make the confidence interval include no effect."
    )
    assert explain_e_value(e_value(1.3, 0.9, 1.8)).endswith(
        "and the confidence interval already includes no effect."
    )
    assert "1.81 times as likely, over and above" in explain_e_value(e_value(0.8))
    assert explain_e_value(e_value(1.0)).startswith("The estimate shows no effect")
    for result in (e_value(3.9, 1.8, 8.7), e_value(1.3, 0.9, 1.8), e_value(0.8), e_value(1.0)):
        assert _is_one_plain_sentence(explain_e_value(result))


# ---- an unobserved confounder of known strength ------------------------------------------------
def confounded_pairs(rng: np.random.Generator, gamma_true: float, n_pairs: int = 800):
    """Matched pairs, exact on an observed X, where a binary unobserved u raises both the odds
    of taking part (by ``gamma_true``: Rosenbaum's model holds exactly) and the outcome; the
    programme has no effect. Returns treated-minus-control outcome differences."""
    differences = []
    while len(differences) < n_pairs:
        x = rng.integers(0, 5)
        u = rng.integers(0, 2, size=2)
        odds = np.exp(0.2 * x) * gamma_true ** u
        # of the two people with the same x, one takes part: which one depends on u
        first_treated = rng.random() < odds[0] / odds.sum()
        y = 0.3 * x + 1.5 * u + rng.normal(0, 1, size=2)
        differences.append(y[0] - y[1] if first_treated else y[1] - y[0])
    return np.array(differences)


def test_hidden_bias_moves_the_estimate_and_the_bounds_say_it_could_be_all_bias():
    rng = np.random.default_rng(2026)
    unconfounded = confounded_pairs(rng, gamma_true=1.0)
    confounded = confounded_pairs(rng, gamma_true=3.0)
    se = confounded.std(ddof=1) / np.sqrt(len(confounded))
    # no effect, yet selection on u makes the matched difference clearly positive
    assert abs(unconfounded.mean()) < 3 * unconfounded.std(ddof=1) / np.sqrt(len(unconfounded))
    assert confounded.mean() > 3 * se
    assert rosenbaum_bounds(confounded, [1.0])["p_upper"].iloc[0] < 0.01
    # ... and the sensitivity analysis says so: hidden bias of the strength actually present
    # (Gamma = 3) could explain the whole 'effect'; the critical Gamma lies below it
    gamma = critical_gamma(confounded)
    assert 1 < gamma < 3
    assert rosenbaum_bounds(confounded, [3.0])["p_upper"].iloc[0] > 0.05
