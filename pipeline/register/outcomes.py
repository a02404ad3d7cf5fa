"""Reading outcome paths for a matched sample, in DuckDB.

The outcome file holds one row per baseline row (person x cohort) and month relative to start.
These functions join it to a matched sample and return only what the estimators and the report
need: outcomes at one horizon, or weighted monthly means by group.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

OUTCOMES = ("employed", "earnings", "registered_unemployed", "employed_matching")


def _connect(matched: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("matched", matched[["pid", "cohort", "treated", "weights", "subclass"]])
    return con


def _parquet(path: Path) -> str:
    return "read_parquet('" + str(path).replace("'", "''") + "')"


def outcome_at(outcomes_path: Path, matched: pd.DataFrame, horizon_months: int) -> pd.DataFrame:
    """Outcomes of the matched sample ``horizon_months`` after start.

    Parameters
    ----------
    outcomes_path : Path
        The panel stage's ``outcomes.parquet``.
    matched : DataFrame
        Matched sample with ``pid, cohort, treated, weights, subclass``.
    horizon_months : int
        Months after start.

    Returns
    -------
    DataFrame
        The matched rows with the outcome columns and ``observed`` (False where the month lies
        beyond the register, in which case the outcomes are missing). A matched set counts as
        observed only if all of its members are.
    """
    con = _connect(matched)
    frame = con.execute(
        f"""
        SELECT m.*, o.employed, o.earnings, o.registered_unemployed, o.employed_matching,
               o.pid IS NOT NULL AS member_observed
        FROM matched m
        LEFT JOIN {_parquet(outcomes_path)} o
          ON o.pid = m.pid AND o.cohort = m.cohort AND o.rel_month = {int(horizon_months)}
        ORDER BY m.cohort, m.subclass, m.treated DESC, m.pid
        """
    ).df()
    set_observed = frame.groupby(["cohort", "subclass"])["member_observed"].transform("all")
    return frame.assign(observed=set_observed.astype(bool)).drop(columns="member_observed")


def outcome_paths(outcomes_path: Path, matched: pd.DataFrame) -> pd.DataFrame:
    """Weighted mean outcomes by month relative to start, for participants and comparisons.

    Returns
    -------
    DataFrame
        ``rel_month, group`` ("participants" or "comparison"), ``n`` (persons observed) and
        the weighted mean of each outcome.
    """
    con = _connect(matched)
    means = ",\n".join(
        f"sum(m.weights * o.{name}) / sum(m.weights) AS {name}" for name in OUTCOMES
    )
    return con.execute(
        f"""
        SELECT o.rel_month,
               CASE WHEN m.treated THEN 'participants' ELSE 'comparison' END AS "group",
               count(*) AS n,
               {means}
        FROM matched m
        JOIN {_parquet(outcomes_path)} o ON o.pid = m.pid AND o.cohort = m.cohort
        GROUP BY ALL
        ORDER BY "group", o.rel_month
        """
    ).df()


def matched_panel(
    outcomes_path: Path,
    matched: pd.DataFrame,
    cohort_starts: pd.DataFrame,
    outcome: str,
    window: tuple[int, int],
) -> pd.DataFrame:
    """The matched sample as a long panel for an event study.

    Parameters
    ----------
    outcomes_path : Path
        The panel stage's ``outcomes.parquet``.
    matched : DataFrame
        Matched sample with ``pid, cohort, treated, weights, subclass`` (comparisons carry
        their participant's cohort, so its start is their pseudo-start).
    cohort_starts : DataFrame
        ``cohort, cohort_start`` (start month index, year * 12 + month - 1), e.g. from the
        baseline.
    outcome : str
        One of :data:`OUTCOMES`.
    window : (int, int)
        First and last month relative to start.

    Returns
    -------
    DataFrame
        ``unit`` (person x cohort), ``subclass, treated, weights, rel_month``, ``month`` (the
        calendar month index), ``period`` (cohort x calendar month: the time effects of a
        stacked event study, since a comparison's path around its pseudo-start is shaped by
        the eligibility rules, e.g. nobody is employed the month before start),
        ``cohort_start``, ``first_treated`` (the start month for participants, 0 for
        comparisons: the group of a group-time ATT stacked on ``cohort_start``) and the
        outcome, one row per unit and month observed in the register.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {list(OUTCOMES)}, got {outcome!r}")
    con = _connect(matched)
    starts = cohort_starts[["cohort", "cohort_start"]].drop_duplicates()
    if starts["cohort"].duplicated().any():
        raise ValueError("cohort_starts gives more than one start month for a cohort")
    con.register("starts", starts)
    return con.execute(
        f"""
        SELECT m.pid || '/' || m.cohort AS unit, m.subclass, m.treated::INTEGER AS treated,
               m.weights, o.rel_month,
               s.cohort_start + o.rel_month AS month,
               dense_rank() OVER (ORDER BY m.cohort, o.rel_month) AS period,
               s.cohort_start,
               CASE WHEN m.treated THEN s.cohort_start ELSE 0 END AS first_treated,
               o.{outcome}::DOUBLE AS {outcome}
        FROM matched m
        JOIN starts s ON s.cohort = m.cohort
        JOIN {_parquet(outcomes_path)} o ON o.pid = m.pid AND o.cohort = m.cohort
        WHERE o.rel_month BETWEEN {int(window[0])} AND {int(window[1])}
        ORDER BY unit, o.rel_month
        """
    ).df()
