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
