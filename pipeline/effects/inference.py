"""What every estimator returns, and intervals and p-values from an estimate and its SE."""

from __future__ import annotations

import math
from typing import NamedTuple

from scipy import stats


class Fit(NamedTuple):
    """The numbers an estimator computes, before the interval and p-value.

    Attributes
    ----------
    estimate, std_error : float
        Point estimate of the ATT and its standard error.
    mean_treated : float
        Mean outcome of the treated (weighted with matching weights).
    mean_control : float
        Estimated mean outcome of the treated without treatment: ``mean_treated - estimate``.
    n_treated, n_control : int
        Treated and control units that entered the estimate with positive weight.
    cov_type : str
        Key of the standard error: ``"cluster"``, ``"HC1"``, ``"abadie_imbens"`` or
        ``"sandwich"``.
    se_method : str
        The standard error in words.
    df : float or None
        Degrees of freedom of the t reference distribution, or None for the normal.
    n_clusters : int or None
        Number of clusters of a clustered standard error.
    """

    estimate: float
    std_error: float
    mean_treated: float
    mean_control: float
    n_treated: int
    n_control: int
    cov_type: str
    se_method: str
    df: float | None = None
    n_clusters: int | None = None


def interval(
    estimate: float, std_error: float, level: float, df: float | None
) -> tuple[float, float, float]:
    """Two-sided confidence interval and p-value for "no effect".

    Parameters
    ----------
    estimate, std_error : float
        Point estimate and standard error.
    level : float
        Coverage, strictly between 0 and 1.
    df : float or None
        Degrees of freedom of a t reference distribution; None for the standard normal.

    Returns
    -------
    tuple of float
        ``(low, high, p_value)``.
    """
    reference = stats.norm if df is None else stats.t(df)
    q = reference.ppf(0.5 + level / 2)
    if std_error > 0:
        z = abs(estimate) / std_error
    else:  # e.g. a constant outcome
        z = math.inf if estimate else math.nan
    p_value = 2 * reference.sf(z)
    return estimate - q * std_error, estimate + q * std_error, float(p_value)
