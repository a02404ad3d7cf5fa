"""Input checks and the arrays every ATT estimator starts from.

Every problem with the data is a :class:`ValueError` that names the column (or columns) at
fault: absent columns, missing values, a treatment that is not 0/1, a non-numeric outcome,
negative weights, collinear covariates and too few treated or control units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from pipeline.matching.propensity import covariate_terms

from .config import MATCHED_SAMPLE_METHODS, ATTConfig


class Sample(NamedTuple):
    """The rows an estimator works on, as arrays.

    Attributes
    ----------
    t : ndarray
        Treatment indicator, 0.0 or 1.0.
    y : ndarray
        Outcome.
    w : ndarray or None
        Matching weights, all positive (None: equal weights).
    groups : ndarray or None
        Matched-set (cluster) codes 0..G-1, or None.
    terms : DataFrame or None
        Covariate design columns without intercept (categorical covariates as drop-first
        dummies, as :func:`pipeline.matching.propensity.covariate_terms`), or None.
    """

    t: np.ndarray
    y: np.ndarray
    w: np.ndarray | None
    groups: np.ndarray | None
    terms: pd.DataFrame | None


def check_column(data: pd.DataFrame, column: str, role: str, hint: str = "") -> None:
    """Raise ValueError if ``column`` is absent from ``data`` or has missing values.

    Parameters
    ----------
    data : DataFrame
        The data.
    column : str
        Column name.
    role : str
        What the column is for (``"treatment"``, ``"covariate"``, ...), used in the message.
    hint : str, optional
        Appended to the message about missing values.
    """
    if column not in data.columns:
        raise ValueError(f"{role} column {column!r} is not in the data")
    n_missing = int(data[column].isna().sum())
    if n_missing:
        raise ValueError(
            f"{role} column {column!r} has {n_missing} missing value(s); drop or handle them "
            f"explicitly before estimating{hint}"
        )


def treatment_indicator(data: pd.DataFrame, treatment: str) -> np.ndarray:
    """The treatment column as floats 0.0/1.0; ValueError unless boolean or 0/1."""
    values = data[treatment]
    if pd.api.types.is_bool_dtype(values.dtype) or (
        pd.api.types.is_numeric_dtype(values.dtype) and values.isin([0, 1]).all()
    ):
        return values.to_numpy(dtype=float)
    raise ValueError(f"treatment column {treatment!r} must be boolean or 0/1")


def numeric_outcome(data: pd.DataFrame, outcome: str) -> np.ndarray:
    """The outcome column as finite floats (booleans as 0/1); ValueError if non-numeric or
    infinite."""
    values = data[outcome]
    if not pd.api.types.is_numeric_dtype(values.dtype):  # boolean counts as 0/1
        raise ValueError(f"outcome column {outcome!r} must be numeric, got {values.dtype}")
    y = values.to_numpy(dtype=float)
    if not np.isfinite(y).all():
        raise ValueError(f"outcome column {outcome!r} has infinite values")
    return y


def _weights(data: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(data))
    w = data[weights].to_numpy(dtype=float)
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError(f"weights column {weights!r} must be finite and non-negative")
    return w


def _check_columns(data: pd.DataFrame, treatment: str, outcome: str, config: ATTConfig) -> None:
    check_column(data, treatment, "treatment")
    check_column(data, outcome, "outcome")
    if config.weights is not None:
        check_column(data, config.weights, "weights")
    if config.cluster is not None:
        check_column(
            data,
            config.cluster,
            "cluster",
            hint=" (after matching with replacement there is no subclass: use cluster=None "
            "or a unit id)",
        )
    for covariate in config.covariates:
        if covariate in (treatment, outcome):
            raise ValueError(f"covariate {covariate!r} is also the treatment or outcome column")
        check_column(data, covariate, "covariate")


def prepare_sample(data: pd.DataFrame, treatment: str, outcome: str, config: ATTConfig) -> Sample:
    """Check the data and return the rows with positive weight as a :class:`Sample`.

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    treatment, outcome : str
        Treatment indicator and outcome columns.
    config : ATTConfig
        The estimation's configuration (columns for weights, cluster and covariates).

    Returns
    -------
    Sample
        Rows with zero weight dropped (matched-sample methods); all rows otherwise.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    _check_columns(data, treatment, outcome, config)
    t = treatment_indicator(data, treatment)
    y = numeric_outcome(data, outcome)
    w = _weights(data, config.weights)
    keep = w > 0
    if not ((t[keep] == 1).any() and (t[keep] == 0).any()):
        raise ValueError("need treated and control rows with positive weight")
    groups = None
    if config.cluster is not None:
        groups = pd.factorize(data.loc[keep, config.cluster])[0]
    terms = None
    if config.covariates:
        kept = data.loc[keep]
        for covariate in config.covariates:
            if kept[covariate].nunique() < 2:
                raise ValueError(
                    f"covariate {covariate!r} is constant in the rows used (collinear with the "
                    "intercept); drop it"
                )
        terms = covariate_terms(kept, list(config.covariates), drop_first=True)
    matched = config.method in MATCHED_SAMPLE_METHODS
    return Sample(t[keep], y[keep], w[keep] if matched else None, groups, terms)


def require_group_sizes(t: np.ndarray, n_treated: int, n_control: int, why: str) -> None:
    """Raise ValueError unless there are at least ``n_treated`` treated and ``n_control``
    control units.

    Parameters
    ----------
    t : ndarray
        Treatment indicator (0/1).
    n_treated, n_control : int
        Minimum numbers of treated and control units.
    why : str
        What needs them, used in the message (e.g. ``"method='ipw'"``).
    """
    got_t, got_c = int((t == 1).sum()), int((t == 0).sum())
    if got_t < n_treated or got_c < n_control:
        raise ValueError(
            f"too few units: {why} needs at least {n_treated} treated and {n_control} control "
            f"units, got {got_t} treated and {got_c} control"
        )


def _collinear_columns(matrix: np.ndarray) -> list[int]:
    """Indices of the columns that take part in an exact linear dependence."""
    norms = np.linalg.norm(matrix, axis=0)
    scaled = matrix / np.where(norms > 0, norms, 1.0)
    _, singular, vt = np.linalg.svd(scaled, full_matrices=False)
    tol = singular.max(initial=0.0) * max(matrix.shape) * np.finfo(float).eps
    rank = int((singular > tol).sum())
    null_space = vt[rank:]
    involved = (np.abs(null_space) > 1e-8).any(axis=0) | (norms == 0)
    return np.flatnonzero(involved).tolist()


def check_full_rank(design: pd.DataFrame, context: str) -> None:
    """Raise ValueError naming the columns of ``design`` that are linearly dependent.

    Parameters
    ----------
    design : DataFrame
        Design matrix; an intercept column must be named ``"const"``.
    context : str
        Which model and rows the design is for, used in the message.
    """
    n_rows, n_cols = design.shape
    if n_rows <= n_cols:
        raise ValueError(f"too few units: {context} has {n_rows} rows for {n_cols} coefficients")
    bad = _collinear_columns(design.to_numpy(dtype=float))
    if bad:
        names = [
            "the intercept" if design.columns[i] == "const" else repr(design.columns[i])
            for i in bad
        ]
        raise ValueError(
            f"covariates are collinear in {context}: {', '.join(names)} are linearly "
            "dependent (a constant column is collinear with the intercept); drop one of them"
        )


def with_intercept(terms: pd.DataFrame) -> pd.DataFrame:
    """``terms`` with a leading ``const`` column of ones."""
    return pd.concat([pd.Series(1.0, index=terms.index, name="const"), terms], axis=1)
