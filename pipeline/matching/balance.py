"""Covariate balance statistics before and after matching, following MatchIt's ``summary()``.

Conventions (MatchIt ``summary.matchit`` with ``estimand = "ATT"``, ``standardize = TRUE``):

* **Means** are weighted means within each group (before matching: unweighted).
* **Standardised mean difference** = (treated mean - control mean) / SD, where the SD is that of
  the *treated group in the full, unmatched sample* (the ATT convention), and the same
  denominator is used before and after matching, so a change in SMD is a change in means only.
  For binary (0/1) variables the treated SD is ``sqrt(p * (1 - p))``; for others it is the usual
  sample SD (``n - 1``). If that SD is zero, the pooled SD ``sqrt((var_t + var_c) / 2)`` is used.
  Differences smaller than ``sqrt(machine epsilon)`` are reported as 0.
* **Variance ratio** = weighted treated variance / weighted control variance, with the
  weighted variance ``sum(w (x - m)^2) / (1 - sum(w^2))`` for weights normalised to sum to 1.
  Not reported (NaN) for binary variables, as in MatchIt.
* **eCDF mean / max**: the mean and maximum absolute difference between the weighted empirical
  CDFs of the two groups, evaluated at the distinct values of the variable in the whole sample.
  For binary variables both equal the absolute difference in proportions.

"After matching" statistics are computed over the whole sample with the matching weights
(zero for unmatched units), exactly as MatchIt does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_EPS = np.sqrt(np.finfo(float).eps)

STAT_COLUMNS = ("mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max")


def is_binary(x: np.ndarray) -> bool:
    return bool(np.all((x == 0) | (x == 1)))


def weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    total = w.sum()
    return float(np.dot(w, x) / total) if total > 0 else np.nan


def weighted_var(x: np.ndarray, w: np.ndarray, binary: bool) -> float:
    total = w.sum()
    if total <= 0:
        return np.nan
    wn = w / total
    m = float(np.dot(wn, x))
    if binary:
        return m * (1.0 - m)
    denom = 1.0 - float(np.dot(wn, wn))
    if denom <= 0:
        return np.nan
    return float(np.dot(wn, (x - m) ** 2) / denom)


def ecdf_diffs(
    x: np.ndarray, treated: np.ndarray, w: np.ndarray, order: np.ndarray
) -> tuple[float, float]:
    """Mean and max absolute difference of the weighted eCDFs over the distinct values of x.

    ``order`` sorts ``x`` (computed once per variable, shared before and after matching).
    """
    w1 = np.where(treated, w, 0.0)
    w0 = np.where(treated, 0.0, w)
    s1, s0 = w1.sum(), w0.sum()
    if s1 <= 0 or s0 <= 0:
        return np.nan, np.nan
    xs = x[order]
    diff = np.cumsum(w1[order] / s1 - w0[order] / s0)
    last_of_run = np.append(xs[1:] != xs[:-1], True)
    gaps = np.abs(diff[last_of_run])
    return float(gaps.mean()), float(gaps.max())


def smd_denominator(x: np.ndarray, treated: np.ndarray, binary: bool) -> float:
    """SD of the treated group in the full sample (pooled SD if that is zero)."""
    ones = np.ones(len(x))
    sd = np.sqrt(weighted_var(x[treated], ones[treated], binary))
    if not np.isfinite(sd) or sd < _EPS:
        var_t = weighted_var(x[treated], ones[treated], binary)
        var_c = weighted_var(x[~treated], ones[~treated], binary)
        sd = np.sqrt((var_t + var_c) / 2.0)
    return float(sd)


def variable_stats(
    x: np.ndarray,
    treated: np.ndarray,
    w: np.ndarray,
    denominator: float,
    binary: bool,
    order: np.ndarray | None,
) -> dict[str, float]:
    """Weighted statistics of one variable (``order`` sorts ``x``; None for binary ones, and
    for continuous ones whose eCDF statistics are not wanted)."""
    m1 = weighted_mean(x[treated], w[treated])
    m0 = weighted_mean(x[~treated], w[~treated])
    diff = m1 - m0
    if abs(diff) <= _EPS:
        smd = 0.0
    elif np.isfinite(denominator) and denominator > _EPS:
        smd = diff / denominator
    else:
        smd = np.nan
    if binary:
        var_ratio = np.nan
        ecdf_mean = ecdf_max = abs(diff)
    else:
        var_t = weighted_var(x[treated], w[treated], False)
        var_c = weighted_var(x[~treated], w[~treated], False)
        var_ratio = var_t / var_c if var_c > 0 else np.nan
        ecdf_mean, ecdf_max = (np.nan, np.nan) if order is None else ecdf_diffs(
            x, treated, w, order)
    return {
        "mean_treated": m1,
        "mean_control": m0,
        "smd": smd,
        "var_ratio": var_ratio,
        "ecdf_mean": ecdf_mean,
        "ecdf_max": ecdf_max,
    }


def balance_table(
    terms: pd.DataFrame,
    treated: np.ndarray,
    weights: np.ndarray,
    distance: np.ndarray | None = None,
    *,
    ecdf: bool = True,
) -> pd.DataFrame:
    """Balance of ``distance`` and each column of ``terms`` before and after matching.

    Parameters
    ----------
    terms:
        One numeric column per balance term (categorical covariates expanded to all levels),
        one row per unit of the full sample.
    treated:
        Boolean treatment indicator, full sample.
    weights:
        Matching weights, full sample (0 for unmatched units).
    distance:
        Propensity score, full sample; reported in the first row, named ``"distance"``. None
        when the matching used no score (Mahalanobis, CEM): there is no such row then.
    ecdf:
        Compute the eCDF statistics of continuous terms (a sort of every column, the costly
        part on large samples); False leaves them NaN.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``variable``; column ``type`` ("distance", "binary" or "continuous") and,
        for each statistic in :data:`STAT_COLUMNS`, ``<stat>_before`` and ``<stat>_after``.
    """
    treated = np.asarray(treated, dtype=bool)
    ones = np.ones(len(treated))
    w = np.asarray(weights, dtype=float)
    rows = []
    columns = []
    if distance is not None:
        columns.append(("distance", np.asarray(distance, dtype=float), "distance"))
    for name in terms.columns:
        x = terms[name].to_numpy(dtype=float)
        columns.append((name, x, "binary" if is_binary(x) else "continuous"))
    for name, x, kind in columns:
        binary = kind == "binary"
        denominator = smd_denominator(x, treated, binary)
        order = None if binary or not ecdf else np.argsort(x, kind="stable")
        before = variable_stats(x, treated, ones, denominator, binary, order)
        after = variable_stats(x, treated, w, denominator, binary, order)
        row = {"variable": name, "type": kind}
        row.update({f"{k}_before": v for k, v in before.items()})
        row.update({f"{k}_after": v for k, v in after.items()})
        rows.append(row)
    ordered = ["variable", "type"]
    ordered += [f"{s}_before" for s in STAT_COLUMNS] + [f"{s}_after" for s in STAT_COLUMNS]
    return pd.DataFrame(rows, columns=ordered).set_index("variable")
