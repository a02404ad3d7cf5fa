"""The participants' own outcomes with their uncertainty: what a study shows when it declines.

When the design cannot support an effect estimate (:mod:`pipeline.effects.verdict`), the
report still says how the participants fared: the share employed (and the other outcomes) at
every horizon, with an interval for the sampling uncertainty. These are descriptions, not
effects: there is no counterfactual, nothing says what would have happened without the
programme.

Intervals: a share (``employed``, ``employed_matching``, ``registered_unemployed``) has the
Wilson score interval (:func:`statsmodels.stats.proportion.proportion_confint`, which stays
inside [0, 1] and behaves with few people and shares near 0 or 1); a mean amount
(``earnings``) the t interval ``mean ± t(1 - alpha/2, n - 1) · sd / sqrt(n)``.

A participant counts at a horizon when the outcome file holds a row for that person, cohort
and month (inside the register), as the effect estimates count them; ``n_observed`` says how
many did, ``n`` how many participants there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

BINARY_OUTCOMES = ("employed", "employed_matching", "registered_unemployed")
AMOUNT_OUTCOMES = ("earnings",)
COLUMNS = ("outcome", "horizon_months", "n", "n_observed", "mean", "ci_low", "ci_high",
           "interval")
INTERVALS = {**dict.fromkeys(BINARY_OUTCOMES, "wilson"), **dict.fromkeys(AMOUNT_OUTCOMES, "t")}


def descriptive_outcomes(
    outcomes_path: Path | str,
    participants: pd.DataFrame,
    rel_months: Sequence[int],
    outcomes: Iterable[str] = ("employed", "employed_matching", "earnings"),
    confidence_level: float = 0.95,
) -> pd.DataFrame:
    """The participants' mean outcomes at each horizon, with confidence intervals.

    Parameters
    ----------
    outcomes_path : Path or str
        The panel stage's ``outcomes.parquet`` (``pid, cohort, rel_month`` and the outcome
        columns, one row per person, cohort and month observed).
    participants : DataFrame
        The participants to describe: ``pid, cohort`` (one row each; duplicates count once).
    rel_months : sequence of int
        Months relative to start at which to read the outcomes
        (``config.horizon_rel_months``).
    outcomes : iterable of str
        Outcome columns; shares (:data:`BINARY_OUTCOMES`) get Wilson intervals, amounts
        (:data:`AMOUNT_OUTCOMES`) t intervals.
    confidence_level : float
        Level of the intervals, between 0 and 1.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`, one row per outcome and horizon (in the order given):
        ``horizon_months`` the relative month, ``n`` the participants, ``n_observed`` those
        with a value, ``mean`` (a share for binary outcomes), ``ci_low``/``ci_high`` (NaN
        when nobody is observed, or fewer than two for a t interval) and ``interval``
        (``"wilson"`` or ``"t"``).

    Raises
    ------
    ValueError
        For an unknown outcome, a confidence level outside (0, 1) or ``participants``
        without ``pid`` and ``cohort``.
    """
    outcomes = list(outcomes)
    _check_arguments(participants, outcomes, confidence_level)
    people = participants[["pid", "cohort"]].drop_duplicates()
    values = _read_values(Path(outcomes_path), people, [int(m) for m in rel_months], outcomes)
    rows = [
        _summary(outcome, month, len(people), values.loc[values["rel_month"] == month, outcome],
                 confidence_level)
        for outcome in outcomes for month in rel_months
    ]
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))


def _check_arguments(participants: pd.DataFrame, outcomes: list[str],
                     confidence_level: float) -> None:
    unknown = [o for o in outcomes if o not in INTERVALS]
    if unknown:
        raise ValueError(f"unknown outcomes {unknown}; choose from {sorted(INTERVALS)}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must lie in (0, 1), got {confidence_level}")
    missing = {"pid", "cohort"} - set(participants.columns)
    if missing:
        raise ValueError(f"participants lacks the columns {sorted(missing)}")


def _read_values(path: Path, people: pd.DataFrame, rel_months: list[int],
                 outcomes: list[str]) -> pd.DataFrame:
    """The participants' outcome rows at the wanted months, read in DuckDB (the file holds
    everyone eligible, participants are a small part of it)."""
    con = duckdb.connect()
    try:
        con.register("people", people)
        months = ", ".join(str(m) for m in rel_months) or "NULL"
        columns = ", ".join(f"o.{name}" for name in outcomes)
        source = "read_parquet('" + str(path).replace("'", "''") + "')"
        return con.execute(
            f"""
            SELECT o.rel_month, {columns}
            FROM {source} o JOIN people p ON o.pid = p.pid AND o.cohort = p.cohort
            WHERE o.rel_month IN ({months})
            """
        ).df()
    finally:
        con.close()


def _summary(outcome: str, month: int, n: int, values: pd.Series,
             confidence_level: float) -> dict:
    """One row of the result: counts, mean and interval of ``values``."""
    observed = pd.to_numeric(values, errors="raise").dropna().astype("float64").to_numpy()
    kind = INTERVALS[outcome]
    mean = float(observed.mean()) if len(observed) else np.nan
    if kind == "wilson":
        low, high = wilson_interval(observed, confidence_level)
    else:
        low, high = t_interval(observed, confidence_level)
    return {"outcome": outcome, "horizon_months": int(month), "n": int(n),
            "n_observed": int(len(observed)), "mean": mean, "ci_low": low, "ci_high": high,
            "interval": kind}


def wilson_interval(values: np.ndarray, confidence_level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the share of ones among 0/1 ``values``.

    Parameters
    ----------
    values : ndarray
        Observed 0/1 values (no missing values).
    confidence_level : float
        Level of the interval.

    Returns
    -------
    (float, float)
        Lower and upper limit; NaN without values.

    Raises
    ------
    ValueError
        If a value is neither 0 nor 1.

    Examples
    --------
    >>> [round(x, 4) for x in wilson_interval(np.array([1, 1, 0, 0, 0]))]
    [0.1176, 0.7693]
    """
    if len(values) == 0:
        return np.nan, np.nan
    if not np.isin(values, (0, 1)).all():
        raise ValueError("a share needs 0/1 values; found others")
    low, high = proportion_confint(int(values.sum()), len(values),
                                   alpha=1 - confidence_level, method="wilson")
    return float(low), float(high)


def t_interval(values: np.ndarray, confidence_level: float = 0.95) -> tuple[float, float]:
    """The t interval of the mean of ``values``.

    Parameters
    ----------
    values : ndarray
        Observed amounts (no missing values).
    confidence_level : float
        Level of the interval.

    Returns
    -------
    (float, float)
        Lower and upper limit; NaN with fewer than two values.

    Examples
    --------
    >>> [round(x, 3) for x in t_interval(np.array([1.0, 2.0, 3.0]))]
    [-0.484, 4.484]
    """
    if len(values) < 2:
        return np.nan, np.nan
    mean, sem = float(values.mean()), float(stats.sem(values))
    if sem == 0:
        return mean, mean
    low, high = stats.t.interval(confidence_level, len(values) - 1, loc=mean, scale=sem)
    return float(low), float(high)
