"""The minimum detectable effect against statsmodels' power calculations and a simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from pipeline.effects.power import minimum_detectable_effect


@pytest.mark.parametrize("n1, n2", [(30, 90), (59, 177), (1461, 4383)])
def test_mde_equals_statsmodels_solved_effect_size_for_two_independent_means(n1, n2):
    sigma = 0.5  # a share near 50%
    se = sigma * math.sqrt(1 / n1 + 1 / n2)
    d = NormalIndPower().solve_power(nobs1=n1, ratio=n2 / n1, alpha=0.05, power=0.8)
    assert minimum_detectable_effect(se) == pytest.approx(d * sigma, rel=1e-3)


def test_mde_with_t_reference_matches_statsmodels_t_test_power():
    n1 = n2 = 15
    se = math.sqrt(1 / n1 + 1 / n2)
    d = TTestIndPower().solve_power(nobs1=n1, ratio=1, alpha=0.05, power=0.8)
    # statsmodels uses the noncentral t; the MDE formula is its usual approximation
    assert minimum_detectable_effect(se, df=n1 + n2 - 2) == pytest.approx(d, rel=0.02)
    assert minimum_detectable_effect(se, df=n1 + n2 - 2) > minimum_detectable_effect(se)


def test_an_effect_of_the_mde_is_detected_in_about_80_percent_of_samples():
    rng = np.random.default_rng(3)
    n, sigma = 200, 1.0
    se = sigma * math.sqrt(2 / n)
    mde = minimum_detectable_effect(se)
    hits = 0
    for _ in range(2000):
        treated = rng.normal(mde, sigma, n)
        control = rng.normal(0, sigma, n)
        z = (treated.mean() - control.mean()) / se
        hits += abs(z) > 1.959964
    assert 0.77 < hits / 2000 < 0.83


def test_bad_arguments_are_refused_and_a_missing_se_gives_nan():
    assert math.isnan(minimum_detectable_effect(float("nan")))
    with pytest.raises(ValueError, match="cannot be negative"):
        minimum_detectable_effect(-1.0)
    with pytest.raises(ValueError, match="must lie in"):
        minimum_detectable_effect(1.0, power=1.0)
