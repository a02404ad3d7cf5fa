"""How large an effect a study could have detected: the minimum detectable effect (MDE).

A study that finds "no significant effect" with 30 participants has said little: only a large
effect could have shown up. The MDE makes this explicit. For an estimator with standard error
SE, the smallest true effect that a two-sided test at level alpha detects with probability
``power`` is (Bloom 1995, "Minimum detectable effects")::

    MDE = (z_{1 - alpha/2} + z_{power}) * SE        (about 2.80 * SE at 5% and 80%)

with t quantiles instead of normal ones when the interval uses t with ``df`` degrees of
freedom (clustered standard errors with few clusters). The SE is the one actually estimated,
so the MDE accounts for the matching ratio, the weights and the clustering of the sample used.
"""

from __future__ import annotations

import math

from scipy import stats


def minimum_detectable_effect(
    std_error: float, *, alpha: float = 0.05, power: float = 0.8, df: float | None = None
) -> float:
    """The smallest true effect a two-sided test would detect with the given power.

    Parameters
    ----------
    std_error : float
        Standard error of the effect estimate (in the outcome's unit).
    alpha : float, default 0.05
        Two-sided significance level.
    power : float, default 0.8
        Probability of detecting an effect of that size.
    df : float, optional
        Degrees of freedom of a t reference distribution; normal when None.

    Returns
    -------
    float
        The MDE in the outcome's unit (NaN when the standard error is missing).

    Examples
    --------
    >>> round(minimum_detectable_effect(1.0), 3)
    2.802
    """
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"alpha and power must lie in (0, 1), got {alpha} and {power}")
    if std_error is None or math.isnan(std_error):
        return math.nan
    if std_error < 0:
        raise ValueError(f"a standard error cannot be negative, got {std_error}")
    reference = stats.norm if df is None else stats.t(df)
    return float((reference.ppf(1 - alpha / 2) + reference.ppf(power)) * std_error)
