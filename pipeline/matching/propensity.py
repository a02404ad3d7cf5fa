"""Propensity score model: logistic regression of treatment on covariates.

The design matrix follows R's ``model.matrix`` defaults as used by MatchIt's ``distance="glm"``:
an intercept, numeric (and boolean) covariates as they are, and categorical covariates
(object, string or category dtype) dummy-coded with the first level dropped. Columns that are
constant in the data are dropped before fitting (they carry no information and would be
collinear with the intercept); their names are reported in :attr:`PropensityFit.dropped`.

Missing values are never imputed here: the caller must handle them explicitly, and
:func:`check_columns` raises a :class:`ValueError` naming the offending column.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class PropensityFit:
    """A fitted propensity score model.

    Attributes
    ----------
    score:
        Estimated propensity score P(T=1 | X) for every row of the input, in row order.
    linear:
        The linear predictor (logit of the propensity score), in row order. Computed from the
        linear predictor directly, so it stays finite when a score rounds to 0 or 1.
    params:
        Coefficients of the logistic regression, indexed by term (``const`` first).
    dropped:
        Terms dropped before fitting because they were constant.
    """

    score: np.ndarray
    linear: np.ndarray
    params: pd.Series
    dropped: tuple[str, ...]


def is_categorical(series: pd.Series) -> bool:
    """True for covariates that are dummy-coded: object, string or category dtype."""
    dtype = series.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def check_columns(data: pd.DataFrame, columns: list[str], role: str) -> None:
    """Raise ValueError naming the first column that is absent or holds missing values."""
    for column in columns:
        if column not in data.columns:
            raise ValueError(f"{role} column {column!r} is not in the data")
        if data[column].isna().any():
            n_missing = int(data[column].isna().sum())
            raise ValueError(
                f"{role} column {column!r} has {n_missing} missing value(s); missing values "
                "must be handled explicitly before matching (drop or impute them)"
            )


def _levels(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.unique())
        return [level for level in series.cat.categories if level in present]
    return sorted(series.unique(), key=str)


def covariate_terms(data: pd.DataFrame, covariates: list[str], *, drop_first: bool) -> pd.DataFrame:
    """Numeric design columns for ``covariates`` (no intercept).

    Categorical covariates become one 0/1 column per level named ``"<column>_<level>"``
    (levels in category order, or sorted by their text); with ``drop_first`` the first level
    is the reference and omitted (the propensity model), without it every level is kept (the
    balance table, as MatchIt's ``summary`` shows every level of a factor).
    """
    parts: dict[str, np.ndarray] = {}
    for column in covariates:
        series = data[column]
        if is_categorical(series):
            levels = _levels(series)
            values = series.to_numpy()
            for level in levels[1:] if drop_first else levels:
                parts[f"{column}_{level}"] = (values == level).astype(float)
        elif pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(
            series.dtype
        ):
            parts[column] = series.to_numpy(dtype=float)
        else:
            raise ValueError(
                f"covariate {column!r} has dtype {series.dtype}, which is neither numeric, "
                "boolean nor categorical (object/string/category)"
            )
    return pd.DataFrame(parts, index=data.index)


def _logit_newton(
    exog: np.ndarray, y: np.ndarray, *, tol: float = 1e-10, max_iter: int = 50
) -> np.ndarray:
    """Maximum likelihood logistic regression by Newton-Raphson (= IRLS, as R's ``glm``).

    Each step solves the small ``k x k`` system ``X'WX step = X'(y - p)`` with a least-squares
    solver, so perfectly collinear terms do not stop the fit (the fitted scores are unique
    even when the coefficients are not). Iterates until the relative change in deviance is
    below ``tol``. This is much faster than statsmodels' GLM IRLS on the ``n x k`` matrix for
    the register-sized samples the pipeline matches (hundreds of thousands of rows); the
    tests check it against ``statsmodels.Logit``.
    """
    beta = np.zeros(exog.shape[1])
    deviance = np.inf
    eta = np.zeros(exog.shape[0])
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1.0 - p)
        hessian = (exog.T * w) @ exog
        gradient = exog.T @ (y - p)
        step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        beta = beta + step
        eta = exog @ beta
        # deviance = -2 log L, computed stably from the linear predictor
        new_deviance = 2.0 * float(np.sum(np.logaddexp(0.0, eta) - y * eta))
        if abs(new_deviance - deviance) <= tol * (abs(new_deviance) + 0.1):
            break
        deviance = new_deviance
    else:
        warnings.warn(
            "propensity score model did not converge (possible separation: some covariate "
            "pattern is only treated or only controls)",
            RuntimeWarning,
            stacklevel=3,
        )
    return beta


def _check_full_rank(exog: np.ndarray, names: list[str]) -> None:
    """Refuse a singular score model, naming the covariate terms that are linearly dependent.

    Uses the eigen-decomposition of the cross-product of the column-normalised design (a
    ``k x k`` matrix, cheap at any sample size); an eigenvalue below ``1e-12`` of the largest
    marks an exact dependence, and the terms with weight in its eigenvector are named.
    """
    norms = np.linalg.norm(exog, axis=0)
    scaled = exog / np.where(norms > 0, norms, 1.0)
    values, vectors = np.linalg.eigh(scaled.T @ scaled)
    null = vectors[:, values < values.max() * 1e-12]
    if null.shape[1] == 0:
        return
    involved = [names[i] for i in np.flatnonzero((np.abs(null) > 1e-6).any(axis=1))]
    shown = ["the intercept" if name == "const" else repr(name) for name in involved]
    raise ValueError(
        f"the propensity score model is singular: covariate terms {', '.join(shown)} are "
        "linearly dependent (one is determined by the others); drop one of the covariates "
        "they come from"
    )


def fit_propensity(
    data: pd.DataFrame, treatment: np.ndarray, covariates: list[str]
) -> PropensityFit:
    """Fit a logistic regression (binomial family, logit link) of treatment on covariates."""
    terms = covariate_terms(data, covariates, drop_first=True)
    constant = [name for name in terms.columns if np.ptp(terms[name].to_numpy()) == 0]
    terms = terms.drop(columns=constant)
    exog = np.column_stack([np.ones(len(terms)), terms.to_numpy(dtype=float)])
    names = ["const", *terms.columns]
    _check_full_rank(exog, names)
    params = _logit_newton(exog, treatment.astype(float))
    linear = exog @ params
    score = 1.0 / (1.0 + np.exp(-linear))
    return PropensityFit(
        score=score,
        linear=linear,
        params=pd.Series(params, index=names, name="coef"),
        dropped=tuple(constant),
    )
