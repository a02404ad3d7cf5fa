"""Logit propensity score for the weighting estimators, with its overlap check.

The score model is :func:`pipeline.matching.propensity.fit_propensity` (Newton-Raphson logit,
R's ``glm(family = binomial())`` coding of the covariates), fitted on every row.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from pipeline.matching.propensity import fit_propensity

from .checks import check_full_rank, with_intercept

# estimated scores this close to 1 mean some units have no comparable controls
OVERLAP_TOLERANCE = 1e-6


class ScoreModel(NamedTuple):
    """A fitted logit propensity score model.

    Attributes
    ----------
    design : ndarray
        ``n x p`` design matrix: intercept, then the covariate terms.
    score : ndarray
        Estimated P(T = 1 | X) per row.
    odds : ndarray
        ``score / (1 - score)``, computed as ``exp(linear predictor)``.
    params : Series
        Logit coefficients by term (``const`` first).
    """

    design: np.ndarray
    score: np.ndarray
    odds: np.ndarray
    params: pd.Series


def _check_overlap(score: np.ndarray, t: np.ndarray) -> None:
    near_one = score > 1.0 - OVERLAP_TOLERANCE
    if near_one.any():
        n_t, n_c = int((near_one & (t == 1)).sum()), int((near_one & (t == 0)).sum())
        raise ValueError(
            f"no overlap: the estimated propensity score is within {OVERLAP_TOLERANCE:g} of 1 "
            f"for {n_t} treated and {n_c} control unit(s), so they have no comparable "
            "controls (the covariates separate treated from controls); restrict the data to "
            "the region of common support or use fewer or coarser covariates"
        )


def fit_score(terms: pd.DataFrame, t: np.ndarray) -> ScoreModel:
    """Fit the logit score model of ``t`` on ``terms`` and check overlap.

    Parameters
    ----------
    terms : DataFrame
        Covariate design columns without intercept.
    t : ndarray
        Treatment indicator (0/1).

    Returns
    -------
    ScoreModel

    Raises
    ------
    ValueError
        If the terms are collinear, or if an estimated score is within
        :data:`OVERLAP_TOLERANCE` of 1 (no overlap).
    """
    design = with_intercept(terms)
    check_full_rank(design, "the propensity score model")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_propensity(terms, t, list(terms.columns))
    _check_overlap(fit.score, t)
    for warning in caught:  # no overlap problem: pass e.g. a convergence warning on
        warnings.warn(warning.message, warning.category, stacklevel=3)
    return ScoreModel(design.to_numpy(dtype=float), fit.score, np.exp(fit.linear), fit.params)


def score_influence(model: ScoreModel, t: np.ndarray) -> np.ndarray:
    """Influence functions of the logit coefficients, one row per unit.

    Row ``i`` is ``(t_i - e_i) x_i' H^{-1}`` with ``H = X' diag(e (1 - e)) X / n``, so the
    coefficient estimate minus its limit is approximately the mean of the rows.

    Parameters
    ----------
    model : ScoreModel
        The fitted score model.
    t : ndarray
        Treatment indicator (0/1).

    Returns
    -------
    ndarray
        ``n x p`` matrix.
    """
    x, e = model.design, model.score
    hessian = x.T @ (x * (e * (1.0 - e))[:, None]) / len(t)
    return np.linalg.solve(hessian, (x * (t - e)[:, None]).T).T
