"""Sensitivity of matched effect estimates to unobserved selection (numbers only).

Two families of answers to "how strong would hidden selection have to be to explain the
effect away?":

- Rosenbaum bounds for matched pairs: :func:`rosenbaum_bounds` (Wilcoxon signed-rank test,
  continuous outcome, as R's ``rbounds::psens``), :func:`critical_gamma` and
  :func:`binary_rosenbaum_bounds` (McNemar's test on discordant pairs, as
  ``rbounds::binarysens``). Gamma is the largest factor by which the odds of taking part may
  differ between the two members of a matched pair because of an unobserved trait. The
  bounds are for 1:1 pairs; with several controls per participant (the demo matches 1:3),
  Rosenbaum's bounds for matched sets (R's ``sensitivitymv``) are not implemented here, and
  using each participant's difference from the mean of their controls is an approximation.
- E-values (VanderWeele & Ding 2017, Annals of Internal Medicine 167: 268-274):
  :func:`e_value`, :func:`e_value_difference`, :func:`e_value_standardised`, returning an
  :class:`EValue`. The E-value is the smallest risk ratio that an unobserved confounder would
  need with both participation and the outcome to explain the estimate away.

:func:`explain_rosenbaum` and :func:`explain_e_value` give one plain English sentence each
for the report.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

DEFAULT_GAMMAS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
ALTERNATIVES = ("greater", "less")
SCALES = ("risk_ratio", "odds_ratio")
# VanderWeele & Ding (2017): RR ~ exp(0.91 d) for a standardised mean difference d, and the
# interval exp(0.91 d -/+ 1.78 se), 1.78 = 0.91 * 1.96 (as R's EValue::evalues.MD).
SMD_TO_LOG_RR = 0.91
SMD_SE_TO_LOG_RR = 1.78


# ---- Rosenbaum bounds ----------------------------------------------------------------------


def _check_choice(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _pair_differences(differences, alternative: str) -> np.ndarray:
    _check_choice(alternative, ALTERNATIVES, "alternative")
    values = np.asarray(differences, dtype=float)
    if values.ndim != 1:
        raise ValueError("differences must be one-dimensional (one value per matched pair)")
    if values.size == 0:
        raise ValueError("differences is empty: no matched pairs")
    if not np.all(np.isfinite(values)):
        raise ValueError("differences contain NaN or infinite values; drop those pairs first")
    return values if alternative == "greater" else -values


def _signed_ranks(differences: np.ndarray) -> tuple[np.ndarray, float]:
    """Ranks of |d| among the non-zero differences (average ranks for ties) and the
    Wilcoxon signed-rank statistic T, the sum of the ranks of the positive differences."""
    nonzero = differences[differences != 0]
    if nonzero.size == 0:
        raise ValueError("every pair difference is zero: the signed-rank test is undefined")
    ranks = stats.rankdata(np.abs(nonzero), method="average")
    return ranks, float(ranks[nonzero > 0].sum())


def _check_gammas(gammas) -> np.ndarray:
    values = np.atleast_1d(np.asarray(gammas, dtype=float))
    if values.ndim != 1 or values.size == 0:
        raise ValueError("gammas must be a non-empty sequence of numbers")
    if not np.all(np.isfinite(values)):
        raise ValueError("gammas must be finite")
    if np.any(values < 1):
        raise ValueError(f"every gamma must be >= 1, got {values[values < 1].tolist()}")
    return values


def _wilcoxon_tail(statistic: float, ranks: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """P(T >= t) under the normal approximation when each rank counts with probability
    ``prob`` (no continuity correction)."""
    mean = prob * ranks.sum()
    sd = np.sqrt(prob * (1 - prob) * np.square(ranks).sum())
    return stats.norm.sf((statistic - mean) / sd)


def rosenbaum_bounds(
    differences, gammas=DEFAULT_GAMMAS, *, alternative: str = "greater"
) -> pd.DataFrame:
    """Rosenbaum bounds on the one-sided Wilcoxon signed-rank p-value for matched pairs.

    Reproduces R's ``rbounds::psens``: zero differences are dropped, the absolute
    differences are ranked with average ranks for ties, and T is the sum of the ranks of the
    positive differences. Under hidden bias of at most Gamma each rank counts with a
    probability between ``1 / (1 + Gamma)`` and ``Gamma / (1 + Gamma)``; the bounds are the
    large-sample normal approximations without continuity correction,
    ``1 - Phi((T - p * sum(r)) / sqrt(p * (1 - p) * sum(r^2)))`` with ``p = Gamma / (1 +
    Gamma)`` (upper bound) and ``p = 1 / (1 + Gamma)`` (lower bound). Unlike ``psens`` the
    p-values are not rounded to four decimals. At Gamma = 1 both bounds equal the ordinary
    normal-approximation signed-rank p-value with tie-corrected variance (R's
    ``wilcox.test(d, exact = FALSE, correct = FALSE, alternative = "greater")``).

    Rosenbaum's own ``DOS2::senWilcox`` ranks the zero differences before discarding them
    (Pratt's convention), so with zeros present its p-values differ slightly from these.

    Parameters
    ----------
    differences : array-like of float
        One treated-minus-control outcome difference per matched pair.
    gammas : sequence of float, default (1, 1.25, 1.5, 1.75, 2, 2.5, 3)
        Values of the sensitivity parameter Gamma, each >= 1.
    alternative : {"greater", "less"}, keyword-only
        ``"greater"`` tests for an effect that raises the outcome (e.g. employment);
        ``"less"`` for one that lowers it (e.g. registered unemployment), by testing the
        negated differences.

    Returns
    -------
    pandas.DataFrame
        One row per Gamma, in the given order, with columns ``gamma``, ``p_lower`` and
        ``p_upper`` (the smallest and largest one-sided p-value possible under hidden bias
        of at most Gamma).

    Raises
    ------
    ValueError
        If there are no differences, any is NaN or infinite, all are zero, a Gamma is below
        1 or not finite, or ``alternative`` is unknown.
    """
    ranks, statistic = _signed_ranks(_pair_differences(differences, alternative))
    gamma = _check_gammas(gammas)
    return pd.DataFrame(
        {
            "gamma": gamma,
            "p_lower": _wilcoxon_tail(statistic, ranks, 1 / (1 + gamma)),
            "p_upper": _wilcoxon_tail(statistic, ranks, gamma / (1 + gamma)),
        }
    )


def critical_gamma(differences, alpha: float = 0.05, *, alternative: str = "greater") -> float:
    """Smallest Gamma at which the upper bound of :func:`rosenbaum_bounds` reaches ``alpha``.

    For every larger Gamma the upper-bound p-value exceeds ``alpha``, so hidden bias of that
    size could explain the effect away. The upper bound is strictly increasing in Gamma, and
    the crossing is solved exactly rather than on a grid or by bisection: with
    ``z = Phi^-1(1 - alpha)``, ``S = sum(r)`` and ``Q = sum(r^2)``, the probability
    ``p = Gamma / (1 + Gamma)`` at which ``(T - p S) / sqrt(p (1 - p) Q) = z`` is the smaller
    root of ``(S^2 + z^2 Q) p^2 - (2 T S + z^2 Q) p + T^2 = 0``, and ``Gamma = p / (1 - p)``.

    Parameters
    ----------
    differences : array-like of float
        One treated-minus-control outcome difference per matched pair.
    alpha : float, default 0.05
        One-sided significance level, strictly between 0 and 0.5.
    alternative : {"greater", "less"}, keyword-only
        Direction of the effect, as in :func:`rosenbaum_bounds`.

    Returns
    -------
    float
        The critical Gamma, >= 1. It is 1.0 when the effect is not significant at ``alpha``
        even without hidden bias (the p-value at Gamma = 1 is already >= ``alpha``).

    Raises
    ------
    ValueError
        For invalid differences (see :func:`rosenbaum_bounds`) or ``alpha`` outside (0, 0.5).
    """
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be strictly between 0 and 0.5, got {alpha}")
    ranks, statistic = _signed_ranks(_pair_differences(differences, alternative))
    if _wilcoxon_tail(statistic, ranks, np.array(0.5)) >= alpha:
        return 1.0
    z2 = stats.norm.isf(alpha) ** 2
    total, squares = ranks.sum(), np.square(ranks).sum()
    a = total**2 + z2 * squares
    b = 2 * statistic * total + z2 * squares
    prob = (b - math.sqrt(b**2 - 4 * a * statistic**2)) / (2 * a)
    return float(prob / (1 - prob))


def _check_count(value, name: str) -> int:
    if (
        isinstance(value, bool) or not isinstance(value, numbers.Real)
        or not float(value).is_integer() or value < 0
    ):
        raise ValueError(f"{name} must be a non-negative whole number, got {value!r}")
    return int(value)


def binary_rosenbaum_bounds(
    n_treated_only: int, n_control_only: int, gammas=DEFAULT_GAMMAS
) -> pd.DataFrame:
    """Rosenbaum bounds on the one-sided McNemar p-value for matched pairs, binary outcome.

    Reproduces R's ``rbounds::binarysens(n_control_only, n_treated_only)``. Only discordant
    pairs carry information. Of the ``D = n_treated_only + n_control_only`` discordant pairs,
    the number in which only the treated member has the outcome is, with no effect and
    hidden bias of at most Gamma, at most as large as a Binomial(D, Gamma / (1 + Gamma)) and
    at least as large as a Binomial(D, 1 / (1 + Gamma)) count. The bounds are the exact
    binomial tail probabilities ``P(X >= n_treated_only)``; at Gamma = 1 both equal the
    exact one-sided McNemar (sign test) p-value.

    Parameters
    ----------
    n_treated_only : int
        Pairs in which the treated member has the outcome (e.g. is employed) and the control
        does not.
    n_control_only : int
        Pairs in which the control has the outcome and the treated member does not.
    gammas : sequence of float, default (1, 1.25, 1.5, 1.75, 2, 2.5, 3)
        Values of the sensitivity parameter Gamma, each >= 1.

    Returns
    -------
    pandas.DataFrame
        One row per Gamma with columns ``gamma``, ``p_lower`` and ``p_upper``.

    Raises
    ------
    ValueError
        If a count is negative or not whole, there are no discordant pairs, or a Gamma is
        below 1 or not finite.
    """
    treated_only = _check_count(n_treated_only, "n_treated_only")
    discordant = treated_only + _check_count(n_control_only, "n_control_only")
    if discordant == 0:
        raise ValueError("there are no discordant pairs: the test is undefined")
    gamma = _check_gammas(gammas)
    return pd.DataFrame(
        {
            "gamma": gamma,
            "p_lower": stats.binom.sf(treated_only - 1, discordant, 1 / (1 + gamma)),
            "p_upper": stats.binom.sf(treated_only - 1, discordant, gamma / (1 + gamma)),
        }
    )


# ---- E-values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EValue:
    """E-value of an estimate and of its confidence limit closest to no effect.

    Attributes
    ----------
    point : float
        E-value of the point estimate (1.0 for no effect).
    ci_limit : float or None
        E-value of the confidence limit closest to no effect; 1.0 if the interval includes
        no effect; None if no interval was given.
    risk_ratio : float
        The point estimate on the risk ratio scale that the E-value refers to.
    note : str
        How the estimate was put on the risk ratio scale.
    """

    point: float
    ci_limit: float | None
    risk_ratio: float
    note: str


def _e_value_of_ratio(ratio: float) -> float:
    """RR + sqrt(RR (RR - 1)) for RR >= 1, applied to 1 / RR when RR < 1."""
    ratio = max(ratio, 1 / ratio)
    return ratio + math.sqrt(ratio * (ratio - 1))


def _check_interval(estimate: float, ci_low, ci_high) -> tuple[float, float] | None:
    if (ci_low is None) != (ci_high is None):
        raise ValueError("give both confidence limits or neither")
    if ci_low is None:
        return None
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)) or ci_low < 0:
        raise ValueError(f"confidence limits must be finite and >= 0, got ({ci_low}, {ci_high})")
    if not ci_low <= estimate <= ci_high:
        raise ValueError(
            f"the estimate {estimate} must lie inside its confidence interval "
            f"({ci_low}, {ci_high})"
        )
    return float(ci_low), float(ci_high)


def _ci_e_value(ratio: float, interval: tuple[float, float] | None) -> float | None:
    if interval is None:
        return None
    low, high = interval
    if low <= 1 <= high:
        return 1.0
    return _e_value_of_ratio(low if ratio > 1 else high)


def _e_value(estimate: float, ci_low, ci_high, note: str, to_risk_ratio=float) -> EValue:
    """Validate a ratio estimate and its interval, map them with the increasing function
    ``to_risk_ratio`` onto the risk ratio scale and compute the E-values."""
    if not (math.isfinite(estimate) and estimate > 0):
        raise ValueError(f"the estimate must be finite and > 0, got {estimate}")
    interval = _check_interval(estimate, ci_low, ci_high)
    ratio = to_risk_ratio(estimate)
    if interval is not None:
        interval = (to_risk_ratio(interval[0]), to_risk_ratio(interval[1]))
    return EValue(_e_value_of_ratio(ratio), _ci_e_value(ratio, interval), ratio, note)


def e_value(
    estimate: float, ci_low: float | None = None, ci_high: float | None = None, *,
    scale: str = "risk_ratio",
) -> EValue:
    """E-value of a ratio estimate (VanderWeele & Ding 2017).

    For a risk ratio RR >= 1 the E-value is ``RR + sqrt(RR * (RR - 1))``; for RR < 1 the
    same formula is applied to ``1 / RR``. The confidence limit closest to 1 gets the same
    treatment, and its E-value is 1 if the interval includes 1. This is what R's
    ``EValue::evalues.RR`` computes.

    Parameters
    ----------
    estimate : float
        Point estimate, > 0.
    ci_low, ci_high : float, optional
        Confidence limits on the same scale; give both or neither.
    scale : {"risk_ratio", "odds_ratio"}, keyword-only
        ``"risk_ratio"``: the estimate is a risk ratio (use it also for an odds or hazard
        ratio of a rare outcome, below about 15%). ``"odds_ratio"``: an odds ratio of a
        common outcome, such as employment, converted to ``RR ~ sqrt(OR)`` (VanderWeele
        2017, Epidemiology 28: e58; ``EValue::evalues.OR(rare = FALSE)``).

    Returns
    -------
    EValue

    Raises
    ------
    ValueError
        If the estimate is not a finite positive number, only one limit is given, a limit
        is negative or not finite, the estimate lies outside its interval, or ``scale`` is
        unknown.
    """
    _check_choice(scale, SCALES, "scale")
    if scale == "odds_ratio":
        return _e_value(
            estimate, ci_low, ci_high,
            "risk ratio approximated by the square root of the odds ratio (common outcome)",
            math.sqrt,
        )
    return _e_value(estimate, ci_low, ci_high, "risk ratio as given")


def _risk_ratio_from_difference(difference: float, baseline_risk: float) -> float:
    """(p0 + d) / p0 with the treated risk p0 + d clipped to [0, 1]."""
    return min(max(baseline_risk + difference, 0.0), 1.0) / baseline_risk


def e_value_difference(
    difference: float, baseline_risk: float,
    ci_low: float | None = None, ci_high: float | None = None,
) -> EValue:
    """E-value of a difference in proportions, e.g. an employment rate difference.

    The difference ``d`` is put on the risk ratio scale with the control group's proportion
    ``p0`` (the baseline risk): ``RR = (p0 + d) / p0``, the treated proportion over the
    control proportion. The confidence limits are converted the same way with ``p0``
    treated as known (its own sampling error is ignored), and a limit implying a treated
    proportion outside [0, 1] is clipped to it. This simple conversion is not the
    risk-difference E-value of R's ``EValue::evalues.RD``, which needs the full 2x2 table.

    Parameters
    ----------
    difference : float
        Treated minus control proportion, in proportion units (0.08 for 8 percentage
        points).
    baseline_risk : float
        Proportion with the outcome in the control group, strictly between 0 and 1.
    ci_low, ci_high : float, optional
        Confidence limits of the difference; give both or neither.

    Returns
    -------
    EValue

    Raises
    ------
    ValueError
        If ``baseline_risk`` is not strictly between 0 and 1, ``baseline_risk +
        difference`` is not in (0, 1], or the interval is invalid (see :func:`e_value`).
    """
    if not 0 < baseline_risk < 1:
        raise ValueError(f"baseline_risk must be strictly between 0 and 1, got {baseline_risk}")
    if not 0 < baseline_risk + difference <= 1:
        raise ValueError(
            f"baseline_risk + difference = {baseline_risk + difference} is not a proportion "
            "in (0, 1]"
        )
    if (ci_low is not None and ci_high is not None) and not ci_low <= difference <= ci_high:
        raise ValueError(
            f"the difference {difference} must lie inside its confidence interval "
            f"({ci_low}, {ci_high})"
        )
    low, high = (
        None if limit is None else _risk_ratio_from_difference(limit, baseline_risk)
        for limit in (ci_low, ci_high)
    )
    return _e_value(
        _risk_ratio_from_difference(difference, baseline_risk), low, high,
        "risk ratio (baseline risk + difference) / baseline risk from a difference in "
        "proportions",
    )


def e_value_standardised(d: float, se: float | None = None) -> EValue:
    """E-value of a standardised mean difference, for continuous outcomes such as earnings.

    Uses VanderWeele & Ding's (2017) approximation ``RR ~ exp(0.91 * d)`` and, with a
    standard error, the interval ``exp(0.91 * d -/+ 1.78 * se)`` (R's
    ``EValue::evalues.MD``). ``d`` is the effect divided by the outcome's standard deviation
    (e.g. the ATT on earnings over the pooled standard deviation of earnings).

    Parameters
    ----------
    d : float
        Standardised mean difference (Cohen's d), treated minus control.
    se : float, optional
        Standard error of ``d``, >= 0.

    Returns
    -------
    EValue

    Raises
    ------
    ValueError
        If ``d`` is not finite or ``se`` is negative or not finite.
    """
    if not math.isfinite(d):
        raise ValueError(f"d must be finite, got {d}")
    if se is not None and not (math.isfinite(se) and se >= 0):
        raise ValueError(f"se must be finite and >= 0, got {se}")
    low, high = (
        (None, None) if se is None
        else (math.exp(SMD_TO_LOG_RR * d - SMD_SE_TO_LOG_RR * se),
              math.exp(SMD_TO_LOG_RR * d + SMD_SE_TO_LOG_RR * se))
    )
    return _e_value(
        math.exp(SMD_TO_LOG_RR * d), low, high,
        "risk ratio approximated by exp(0.91 * standardised mean difference)",
    )


# ---- plain-language sentences --------------------------------------------------------------


def _number(value: float) -> str:
    """Two decimals without trailing zeros: 1.8, 1.85, 2."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def explain_rosenbaum(critical_gamma: float) -> str:
    """One plain English sentence on a critical Gamma, for the report.

    Parameters
    ----------
    critical_gamma : float
        Result of :func:`critical_gamma`, >= 1.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``critical_gamma`` is below 1 or not finite.
    """
    if not (math.isfinite(critical_gamma) and critical_gamma >= 1):
        raise ValueError(f"critical_gamma must be finite and >= 1, got {critical_gamma}")
    if critical_gamma == 1:
        return (
            "The effect is not statistically clear even if there were no unobserved "
            "differences between the groups, so no hidden selection is needed to explain it "
            "away."
        )
    return (
        f"An unobserved trait would have to make one of two otherwise identical people "
        f"{_number(critical_gamma)} times as likely to take part (in odds) to explain away "
        f"the effect."
    )


def explain_e_value(e: EValue) -> str:
    """One plain English sentence on an E-value, for the report.

    Parameters
    ----------
    e : EValue
        Result of :func:`e_value`, :func:`e_value_difference` or
        :func:`e_value_standardised`.

    Returns
    -------
    str
    """
    if e.point == 1:
        return "The estimate shows no effect, so there is nothing for hidden factors to explain."
    sentence = (
        f"To explain away the estimate, an unmeasured factor would have to make both taking "
        f"part and the outcome {_number(e.point)} times as likely, over and above the "
        f"characteristics we matched on"
    )
    if e.ci_limit is None:
        return sentence + "."
    if e.ci_limit == 1:
        return sentence + ", and the confidence interval already includes no effect."
    return (
        f"{sentence}, and {_number(e.ci_limit)} times as likely to make the confidence "
        f"interval include no effect."
    )
