"""Reading outcome paths for a matched sample, in DuckDB.

The outcome file holds one row per baseline row (person x cohort) and month relative to start.
These functions join it to a matched sample and return only what the estimators and the report
need: outcomes at one horizon, or weighted monthly means by group.

Comparisons who take part in a later cohort (kept in earlier pools, see
:func:`pipeline.register.panel.build_baseline`) can be censored when they start: give the
matched sample a ``censored_from`` column (:func:`censoring_months`) and every function here
leaves out their months from that one on. At a horizon, a censored comparison leaves its
matched set and the set's other comparisons take over its weight; a set left without
comparisons drops out, participant included.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

OUTCOMES = ("employed", "earnings", "registered_unemployed", "employed_matching")


def _connect(matched: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    censored_from = (matched["censored_from"] if "censored_from" in matched
                     else pd.Series(np.nan, index=matched.index))
    con.register("matched", matched[["pid", "cohort", "treated", "weights", "subclass"]]
                 .assign(censored_from=censored_from.astype("float64")))
    return con


# Months a matched row counts: all of a participant's, a comparison's before its own start.
_UNCENSORED = "(m.treated OR m.censored_from IS NULL OR o.rel_month < m.censored_from)"


def censoring_months(
    matched: pd.DataFrame, participants: pd.DataFrame, cohort_starts: pd.DataFrame
) -> pd.Series:
    """For every matched comparison who later takes part: months from its start to its own.

    Parameters
    ----------
    matched : DataFrame
        Matched sample with ``pid, cohort, treated``.
    participants : DataFrame
        Everyone who took part: ``pid, cohort``.
    cohort_starts : DataFrame
        ``cohort, cohort_start`` (month index), e.g. the baseline.

    Returns
    -------
    Series
        Aligned with ``matched``: for a comparison whose first cohort starts after the cohort it
        was matched in, the number of months between the two starts (its outcomes count up to
        the month before); NaN for participants and for comparisons who never take part.
    """
    starts = cohort_starts[["cohort", "cohort_start"]].drop_duplicates().set_index("cohort")
    start = starts["cohort_start"]
    first = (participants.assign(first=participants["cohort"].map(start))
             .groupby("pid")["first"].min())
    own = matched["pid"].map(first) - matched["cohort"].map(start)
    later = ~matched["treated"].astype(bool) & (own > 0)
    return own.where(later).astype("float64").rename("censored_from")


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
        observed only if all of its members are. Comparisons censored by then (a
        ``censored_from`` column in ``matched`` at or below the horizon) are left out and
        their set's remaining comparisons reweighted; sets without any are left out.
    """
    con = _connect(matched)
    frame = con.execute(
        f"""
        SELECT m.* EXCLUDE (censored_from),
               o.employed, o.earnings, o.registered_unemployed, o.employed_matching,
               o.pid IS NOT NULL AS member_observed,
               NOT m.treated AND m.censored_from <= {int(horizon_months)} AS censored
        FROM matched m
        LEFT JOIN {_parquet(outcomes_path)} o
          ON o.pid = m.pid AND o.cohort = m.cohort AND o.rel_month = {int(horizon_months)}
        ORDER BY m.cohort, m.subclass, m.treated DESC, m.pid
        """
    ).df()
    frame = _without_censored(frame, keys=["cohort", "subclass"])
    set_observed = frame.groupby(["cohort", "subclass"])["member_observed"].transform("all")
    return frame.assign(observed=set_observed.astype(bool)).drop(columns="member_observed")


def _without_censored(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Drop censored comparisons; the others of their set take over their weight."""
    censored = frame.pop("censored").fillna(False).astype(bool)
    if not censored.any():
        return frame
    controls = ~frame["treated"].astype(bool)
    total = frame.loc[controls].groupby(keys)["weights"].transform("sum")
    kept = frame.loc[controls & ~censored].groupby(keys)["weights"].transform("sum")
    frame = frame.loc[~censored].copy()
    rescale = (total.loc[kept.index] / kept).to_numpy()
    frame.loc[kept.index, "weights"] = frame.loc[kept.index, "weights"].to_numpy() * rescale
    has_control = (~frame["treated"].astype(bool)).groupby(
        [frame[k] for k in keys]).transform("any")
    return frame.loc[has_control]


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
        WHERE {_UNCENSORED}
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
        WHERE o.rel_month BETWEEN {int(window[0])} AND {int(window[1])} AND {_UNCENSORED}
        ORDER BY unit, o.rel_month
        """
    ).df()
