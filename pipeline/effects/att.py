"""Average treatment effect on the treated (ATT) from matched data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .result import EffectEstimate

METHODS = ("matched_difference",)


def _check_column(data: pd.DataFrame, column: str, role: str, hint: str = "") -> None:
    if column not in data.columns:
        raise ValueError(f"{role} column {column!r} is not in the data")
    n_missing = int(data[column].isna().sum())
    if n_missing:
        raise ValueError(
            f"{role} column {column!r} has {n_missing} missing value(s); drop or handle them "
            f"explicitly before estimating{hint}"
        )


def att(
    data: pd.DataFrame,
    treatment: str,
    outcome: str,
    *,
    weights: str | None = "weights",
    cluster: str | None = "subclass",
    confidence_level: float = 0.95,
    method: str = "matched_difference",
) -> EffectEstimate:
    """Estimate the ATT from matched data (e.g. :meth:`MatchResult.matched_data`).

    ``method="matched_difference"``: the weighted difference in mean outcome between treated
    and control units, computed as the slope of a weighted least squares regression of the
    outcome on an intercept and the treatment indicator. Standard errors are cluster-robust
    (CR1: statsmodels ``cov_type="cluster"``, small-sample factor
    ``G/(G-1) * (N-1)/(N-K)``) on ``cluster`` (the matched set) when given, else
    heteroskedasticity-robust HC1. Intervals and p-values use the t distribution with
    ``G - 1`` degrees of freedom (clustered) or ``N - 2`` (HC1).

    Parameters
    ----------
    data:
        One row per unit. Rows with zero weight are ignored; missing outcomes, weights or
        clusters raise ValueError (drop them explicitly first if that is intended).
    treatment:
        Treatment indicator column (boolean or 0/1).
    outcome:
        Outcome column.
    weights:
        Matching weights column, or None for equal weights.
    cluster:
        Matched-set id column, or None for HC1. After matching with replacement ``subclass``
        is missing: pass ``cluster=None`` or a unit id.
    confidence_level:
        Coverage of the interval, strictly between 0 and 1.
    method:
        Only ``"matched_difference"`` for now.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if not (isinstance(confidence_level, (int, float)) and 0 < confidence_level < 1):
        raise ValueError(f"confidence_level must be between 0 and 1, got {confidence_level!r}")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    _check_column(data, treatment, "treatment")
    _check_column(data, outcome, "outcome")
    if weights is not None:
        _check_column(data, weights, "weights")
    if cluster is not None:
        _check_column(
            data,
            cluster,
            "cluster",
            hint=" (after matching with replacement there is no subclass: use cluster=None "
            "or a unit id)",
        )

    t_values = data[treatment]
    if pd.api.types.is_bool_dtype(t_values.dtype):
        t = t_values.to_numpy(dtype=float)
    elif pd.api.types.is_numeric_dtype(t_values.dtype) and t_values.isin([0, 1]).all():
        t = t_values.to_numpy(dtype=float)
    else:
        raise ValueError(f"treatment column {treatment!r} must be boolean or 0/1")
    if not pd.api.types.is_numeric_dtype(data[outcome].dtype):
        raise ValueError(f"outcome column {outcome!r} must be numeric, got {data[outcome].dtype}")
    y = data[outcome].to_numpy(dtype=float)
    w = np.ones(len(data)) if weights is None else data[weights].to_numpy(dtype=float)
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError(f"weights column {weights!r} must be finite and non-negative")
    if not np.isfinite(y).all():
        raise ValueError(f"outcome column {outcome!r} has infinite values")

    keep = w > 0
    t, y, w = t[keep], y[keep], w[keep]
    n_treated, n_control = int((t == 1).sum()), int((t == 0).sum())
    if n_treated == 0 or n_control == 0:
        raise ValueError("need treated and control rows with positive weight")

    exog = np.column_stack([np.ones_like(t), t])
    model = sm.WLS(y, exog, weights=w)
    alpha = 1.0 - confidence_level
    if cluster is not None:
        groups = pd.factorize(data.loc[keep, cluster])[0]
        n_clusters = int(groups.max()) + 1
        if n_clusters < 2:
            raise ValueError(f"cluster column {cluster!r} needs at least two clusters")
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
        cov_type, df = "cluster", float(n_clusters - 1)
    else:
        n_clusters = None
        fit = model.fit(cov_type="HC1", use_t=True)
        cov_type, df = "HC1", float(fit.df_resid)
    low, high = fit.conf_int(alpha=alpha)[1]
    return EffectEstimate(
        estimate=float(fit.params[1]),
        std_error=float(fit.bse[1]),
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(fit.pvalues[1]),
        n_treated=n_treated,
        n_control=n_control,
        method=method,
        outcome=outcome,
        confidence_level=float(confidence_level),
        cov_type=cov_type,
        cluster=cluster,
        n_clusters=n_clusters,
        df=df,
        mean_treated=float(fit.params[0] + fit.params[1]),
        mean_control=float(fit.params[0]),
    )
