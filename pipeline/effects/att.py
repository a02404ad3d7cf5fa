"""Average treatment effect on the treated (ATT): one entry point, five estimators."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from .abadie_imbens import abadie_imbens
from .checks import Sample, prepare_sample
from .config import METHOD_DEFAULT, METHODS, ATTConfig
from .inference import Fit, interval
from .regression import matched_difference, matched_regression
from .result import EffectEstimate
from .weighting import aipw, ipw

__all__ = ["METHODS", "att"]

ESTIMATORS: dict[str, Callable[[Sample, ATTConfig], Fit]] = {
    "matched_difference": matched_difference,
    "regression": matched_regression,
    "abadie_imbens": abadie_imbens,
    "ipw": ipw,
    "aipw": aipw,
}


def att(
    data: pd.DataFrame,
    treatment: str,
    outcome: str,
    covariates: str | Sequence[str] | None = None,
    *,
    method: str = "matched_difference",
    weights: str | None = METHOD_DEFAULT,
    cluster: str | None = METHOD_DEFAULT,
    confidence_level: float = 0.95,
    ratio: int | None = None,
    metric: str | None = None,
    variance_matches: int | None = None,
) -> EffectEstimate:
    """Estimate the average treatment effect on the treated (ATT).

    Two methods take matched data (e.g. :meth:`MatchResult.matched_data`, with ``weights``
    and ``subclass`` columns); three take the whole sample and adjust for ``covariates``
    themselves.

    ``"matched_difference"`` (default)
        Weighted difference in mean outcome between treated and matched controls: the slope
        of a weighted least squares (WLS) regression of the outcome on an intercept and the
        treatment indicator. Standard errors are cluster-robust (CR1: statsmodels
        ``cov_type="cluster"``, factor ``G/(G-1) * (N-1)/(N-K)``) on ``cluster`` (the matched
        set) when given, else HC1. Intervals and p-values use the t distribution with
        ``G - 1`` degrees of freedom (clustered) or ``N - K`` (HC1).
    ``"regression"``
        The same WLS with the covariate terms added (regression adjustment on the matched
        sample) and the same standard errors. Without covariates it equals
        ``"matched_difference"``.
    ``"abadie_imbens"``
        Nearest-neighbour matching on the covariates with replacement, ``ratio`` matches
        per treated unit (ties kept), distance ``metric``, and the Abadie-Imbens (2006)
        standard error, as R's ``Matching::Match(Y, Tr, X, estimand = "ATT", M = ratio,
        Weight = 1 or 2, Var.calc = variance_matches)``; normal intervals. See
        :mod:`pipeline.effects.abadie_imbens`.
    ``"ipw"``
        Inverse probability weighting: controls weighted by the odds ``e / (1 - e)`` of a
        logit propensity score on the covariates, weights normalised within each group.
        Standard errors from M-estimation that accounts for the estimated score; normal
        intervals. See :mod:`pipeline.effects.weighting`.
    ``"aipw"``
        Doubly robust augmented IPW (Sant'Anna and Zhao 2020): IPW of the residuals of a
        linear outcome model fitted on the controls; consistent if either model is right.
        Influence-function (M-estimation) standard errors; normal intervals.

    Parameters
    ----------
    data : DataFrame
        One row per unit. Missing values in any column used raise ValueError (drop them
        explicitly first if that is intended).
    treatment : str
        Treatment indicator column (boolean or 0/1).
    outcome : str
        Outcome column (numeric).
    covariates : str or sequence of str, optional
        Covariate columns: numeric, boolean or categorical (object, string or category
        dtype, dummy-coded with the first level dropped). Required by ``"abadie_imbens"``,
        ``"ipw"`` and ``"aipw"``; optional for ``"regression"``; not allowed for
        ``"matched_difference"``.
    method : str
        One of ``"matched_difference"``, ``"regression"``, ``"abadie_imbens"``, ``"ipw"``,
        ``"aipw"``.
    weights : str or None
        Matching weights column, or None for equal weights. Matched-data methods only
        (default ``"weights"``); rows with zero weight are ignored.
    cluster : str or None
        Matched-set id column, or None for HC1. Matched-data methods only (default
        ``"subclass"``). After matching with replacement ``subclass`` is missing: pass
        ``cluster=None`` or a unit id.
    confidence_level : float
        Coverage of the interval, strictly between 0 and 1.
    ratio : int, optional
        ``"abadie_imbens"`` only: matches per treated unit (default 1).
    metric : str, optional
        ``"abadie_imbens"`` only: ``"inverse_variance"`` (default; squared differences
        scaled by each covariate's variance, R Matching's ``Weight = 1``) or
        ``"mahalanobis"`` (``Weight = 2``).
    variance_matches : int, optional
        ``"abadie_imbens"`` only: number of nearest other controls used to estimate each
        control's conditional outcome variance (default 2, heteroskedasticity-robust;
        R Matching's ``Var.calc``). 0 assumes a homoskedastic outcome, as ``Match``'s
        default ``Var.calc = 0``.

    Returns
    -------
    EffectEstimate
        Estimate, standard error, interval, p-value, group sizes and the configuration.

    Raises
    ------
    ValueError
        For an unknown method or an option the method does not use, and for bad data:
        absent columns or missing values (named), a treatment that is not 0/1, collinear
        covariates (named), too few treated or control units, or no overlap (estimated
        propensity scores at 1).
    """
    config = ATTConfig.build(
        method,
        covariates,
        weights=weights,
        cluster=cluster,
        confidence_level=confidence_level,
        ratio=ratio,
        metric=metric,
        variance_matches=variance_matches,
    )
    sample = prepare_sample(data, treatment, outcome, config)
    fit = ESTIMATORS[config.method](sample, config)
    low, high, p_value = interval(fit.estimate, fit.std_error, config.confidence_level, fit.df)
    return EffectEstimate(
        estimate=fit.estimate,
        std_error=fit.std_error,
        ci_low=float(low),
        ci_high=float(high),
        p_value=p_value,
        n_treated=fit.n_treated,
        n_control=fit.n_control,
        method=config.method,
        outcome=outcome,
        confidence_level=float(config.confidence_level),
        cov_type=fit.cov_type,
        cluster=config.cluster,
        n_clusters=fit.n_clusters,
        df=fit.df,
        mean_treated=fit.mean_treated,
        mean_control=fit.mean_control,
        se_method=fit.se_method,
        config=config,
    )
