"""``handle_missing()``: explicit, reported handling of missing covariate values before matching.

:func:`~pipeline.matching.match` refuses covariates with missing values. This module makes the
choice of what to do about them explicit, on any DataFrame, and records every action taken:

>>> handled = handle_missing(df, ["age", "region"], rule="indicator")
>>> handled.report()                  # per covariate: missing counts by group and the action
>>> match(handled.data, "treated", handled.covariates)

Rules (``rule=``):

* ``"indicator"`` (missing-indicator method): a numeric covariate with missing values has them
  filled with its observed mean over all units, and a 0/1 column ``<covariate>_missing`` is
  added to the data and to the covariate list; in a categorical covariate (object, string or
  category dtype) missing becomes a level of its own, ``"missing"``. No row is lost.
* ``"listwise"``: the rows with a missing value in any covariate are dropped; how many treated
  and control units that removes is reported.
* ``"refuse"``: a ValueError naming every covariate with missing values and its counts by
  treatment group (nothing changes when there is none).

Why a constant fill is harmless with an indicator: in the propensity model (a logistic
regression with an intercept) the filled covariate ``x' = x (1 - m) + c m`` and the indicator
``m`` enter as ``b x' + g m = b x (1 - m) + (b c + g) m``. Changing the constant ``c`` only
re-parameterises the indicator's coefficient, so the fitted propensity scores, and the matches
made on them, do not depend on ``c``. The observed mean is chosen because it keeps the filled
column on its own scale, so its balance statistics stay readable. Distances that use the
covariate directly (``distance="mahalanobis"``, CEM's bins) do depend on ``c``: there the
units with a missing value sit at the mean, and it is the indicator, matched on as well, that
separates them from units observed near the mean (in CEM completely, since its 0 and 1 fall in
different bins unless given cut points join them; with Mahalanobis only by its weight in the
distance).

Only actual missing values (None, NaN, NA) are seen. The register panel fills some history
variables with 0 when months have no row (see ``history_months_36`` there); such zeros are
not missing values to this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .propensity import is_categorical

RULES = ("indicator", "listwise", "refuse")
MISSING_LEVEL = "missing"
INDICATOR_SUFFIX = "_missing"
REPORT_COLUMNS = [
    "covariate",
    "n_missing_treated",
    "n_missing_control",
    "share_missing_treated",
    "share_missing_control",
    "action",
]
INDICATOR_ADDED = "indicator added"
OWN_LEVEL = "own level"
ROWS_DROPPED = "rows dropped"
NO_ACTION = "none"


@dataclass(frozen=True, eq=False)
class MissingHandling:
    """The data and covariates after handling missing values, and what was done.

    Attributes
    ----------
    data:
        The new frame (a copy; the input is never modified). Same rows and index as the input
        for ``"indicator"`` and ``"refuse"``; for ``"listwise"`` the complete rows, with their
        original index.
    covariates:
        The covariates to pass to :func:`~pipeline.matching.match`: the input's, followed for
        ``"indicator"`` by the added ``<covariate>_missing`` columns.
    rule:
        ``"indicator"``, ``"listwise"`` or ``"refuse"``.
    treatment:
        The treatment column.
    rows_dropped_treated, rows_dropped_control:
        Rows removed by ``"listwise"`` (a row missing several covariates counts once); 0 for
        the other rules.
    fill_values:
        ``{covariate: value}`` for the numeric covariates filled by ``"indicator"`` (the
        observed mean over all units); empty for the other rules.
    """

    data: pd.DataFrame = field(repr=False)
    covariates: list[str]
    rule: str
    treatment: str
    rows_dropped_treated: int
    rows_dropped_control: int
    fill_values: dict[str, float]
    _report: pd.DataFrame = field(repr=False)

    def report(self) -> pd.DataFrame:
        """One row per input covariate: missing values by group and the action taken.

        Returns
        -------
        DataFrame
            Columns ``covariate``, ``n_missing_treated``, ``n_missing_control``,
            ``share_missing_treated`` and ``share_missing_control`` (counts and shares in the
            input, before handling; a share is NaN for an empty group) and ``action``:
            ``"indicator added"``, ``"own level"``, ``"rows dropped"`` or ``"none"`` (no
            missing values). A copy.
        """
        return self._report.copy()


def handle_missing(
    data: pd.DataFrame,
    covariates: Sequence[str],
    *,
    rule: str = "indicator",
    treatment: str = "treated",
) -> MissingHandling:
    """Handle missing covariate values explicitly, by the missing-indicator method or listwise.

    Parameters
    ----------
    data:
        One row per unit.
    covariates:
        The covariates to be matched on. Object, string and category columns are categorical,
        numeric and boolean ones numeric (as in :func:`~pipeline.matching.match`).
    rule:
        ``"indicator"``, ``"listwise"`` or ``"refuse"`` (see the module documentation).
    treatment:
        Column holding the treatment indicator (boolean or 0/1, no missing values); used to
        count missing values by group.

    Returns
    -------
    MissingHandling
        The new data and covariate list, and :meth:`MissingHandling.report`.

    Raises
    ------
    ValueError
        For an unknown rule, covariate or treatment column, a bad or incomplete treatment
        column, a covariate listed twice or also used as the treatment; with ``"refuse"``
        when any covariate has missing values; with ``"indicator"`` when an indicator column
        ``<covariate>_missing`` already exists, a categorical covariate already has a level
        ``"missing"``, a numeric covariate has no observed value, or a covariate with missing
        values is neither numeric nor categorical.
    TypeError
        When ``data`` is not a DataFrame.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {list(RULES)}, got {rule!r}")
    columns = _checked_covariates(data, covariates, treatment)
    treated = _treated_mask(data, treatment)
    counts = _missing_counts(data, columns, treated)
    fill_values: dict[str, float] = {}
    dropped = (0, 0)
    if rule == "indicator":
        new_data, new_covariates, actions, fill_values = _indicator(data, columns)
    elif rule == "listwise":
        new_data, actions, dropped = _listwise(data, columns, treated)
        new_covariates = list(columns)
    else:
        _refuse(counts)
        new_data, new_covariates, actions = data.copy(), list(columns), [NO_ACTION] * len(columns)
    return MissingHandling(
        data=new_data,
        covariates=new_covariates,
        rule=rule,
        treatment=treatment,
        rows_dropped_treated=dropped[0],
        rows_dropped_control=dropped[1],
        fill_values=fill_values,
        _report=counts.assign(action=actions)[REPORT_COLUMNS],
    )


# --- input checks ----------------------------------------------------------------------------
def _checked_covariates(data: pd.DataFrame, covariates: Sequence[str], treatment: str) -> list[str]:
    """The covariates as a list, after checking them and ``treatment`` against ``data``."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    columns = [covariates] if isinstance(covariates, str) else list(covariates)
    unknown = [c for c in [*columns, treatment] if c not in data.columns]
    if unknown:
        raise ValueError(f"column(s) {unknown} are not in the data")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ValueError(f"covariate(s) {repeated} are listed more than once")
    if treatment in columns:
        raise ValueError(f"the treatment column {treatment!r} is also listed as a covariate")
    return columns


def _treated_mask(data: pd.DataFrame, treatment: str) -> np.ndarray:
    """The treatment column as booleans; it must be complete and boolean or 0/1."""
    values = data[treatment]
    n_missing = int(values.isna().sum())
    if n_missing:
        raise ValueError(
            f"treatment column {treatment!r} has {n_missing} missing value(s); every unit "
            "must be known to be treated or not"
        )
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=bool)
    if not pd.api.types.is_numeric_dtype(values.dtype) or not values.isin([0, 1]).all():
        raise ValueError(f"treatment column {treatment!r} must be boolean or 0/1")
    return values.to_numpy() == 1


def _missing_counts(data: pd.DataFrame, columns: list, treated: np.ndarray) -> pd.DataFrame:
    """Missing values per covariate by treatment group, as counts and shares."""
    missing = data[columns].isna().to_numpy()
    n_treated, n_control = int(treated.sum()), int((~treated).sum())
    in_treated = missing[treated].sum(axis=0)
    in_control = missing[~treated].sum(axis=0)
    return pd.DataFrame(
        {
            "covariate": columns,
            "n_missing_treated": in_treated.astype(np.int64),
            "n_missing_control": in_control.astype(np.int64),
            "share_missing_treated": in_treated / n_treated if n_treated else np.nan,
            "share_missing_control": in_control / n_control if n_control else np.nan,
        }
    )


# --- the rules -------------------------------------------------------------------------------
def _indicator(data: pd.DataFrame, columns: list):
    """Fill and flag (numeric) or add a level (categorical); returns the new data, covariates,
    actions and fill values."""
    incomplete = [c for c in columns if data[c].isna().any()]
    for column in incomplete:
        _check_fillable(data, column)
    out = data.copy()
    indicators: dict[str, pd.Series] = {}
    fill_values: dict[str, float] = {}
    for column in incomplete:
        series = data[column]
        if is_categorical(series):
            out[column] = _with_missing_level(series)
            continue
        values = series.astype("float64")
        fill_values[column] = float(values.mean())
        out[column] = values.fillna(fill_values[column])
        indicators[column + INDICATOR_SUFFIX] = series.isna().astype("int64")
    out = pd.concat([out, pd.DataFrame(indicators, index=data.index)], axis=1)
    actions = [_indicator_action(data[c]) if c in incomplete else NO_ACTION for c in columns]
    return out, [*columns, *indicators], actions, fill_values


def _check_fillable(data: pd.DataFrame, column: str) -> None:
    """Raise ValueError if ``"indicator"`` cannot handle the missing values of ``column``."""
    series = data[column]
    if is_categorical(series):
        if series.isin([MISSING_LEVEL]).any():
            raise ValueError(
                f"categorical covariate {column!r} already has a level {MISSING_LEVEL!r}, so "
                "missing values cannot become that level; recode it or use rule='listwise'"
            )
        return
    if not pd.api.types.is_numeric_dtype(series.dtype):  # booleans included
        raise ValueError(
            f"covariate {column!r} has dtype {series.dtype}, which is neither numeric, boolean "
            "nor categorical (object/string/category); its missing values cannot be filled"
        )
    if series.notna().sum() == 0:
        raise ValueError(f"numeric covariate {column!r} has no observed value to fill with")
    name = column + INDICATOR_SUFFIX
    if name in data.columns:
        raise ValueError(
            f"the missing-indicator column {name!r} for covariate {column!r} is already in "
            "the data; rename or drop it first"
        )


def _with_missing_level(series: pd.Series) -> pd.Series:
    """``series`` with its missing values replaced by the level ``"missing"``."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        if MISSING_LEVEL not in series.cat.categories:
            series = series.cat.add_categories(MISSING_LEVEL)
    return series.fillna(MISSING_LEVEL)


def _indicator_action(series: pd.Series) -> str:
    return OWN_LEVEL if is_categorical(series) else INDICATOR_ADDED


def _listwise(data: pd.DataFrame, columns: list, treated: np.ndarray):
    """Drop the incomplete rows; returns the kept rows, the actions and the dropped counts."""
    missing = data[columns].isna()
    incomplete = missing.any(axis=1).to_numpy()
    dropped = (int((incomplete & treated).sum()), int((incomplete & ~treated).sum()))
    actions = [ROWS_DROPPED if missing[c].any() else NO_ACTION for c in columns]
    return data.loc[~incomplete].copy(), actions, dropped


def _refuse(counts: pd.DataFrame) -> None:
    """Raise ValueError listing every covariate with missing values, if there is any."""
    with_missing = counts[(counts["n_missing_treated"] + counts["n_missing_control"]) > 0]
    if with_missing.empty:
        return
    listed = "; ".join(
        f"{row.covariate!r}: {row.n_missing_treated} treated, {row.n_missing_control} controls"
        for row in with_missing.itertuples()
    )
    raise ValueError(
        f"missing covariate values ({listed}); choose rule='indicator' (fill and add a "
        "missing-indicator, or a 'missing' level for categorical covariates) or "
        "rule='listwise' (drop the incomplete rows, counted in the report)"
    )
