"""The effects table: every outcome x horizon x subgroup x estimator in one tidy frame.

Rules that keep the table honest:

* a matched set (``subclass``) belongs to the subgroup of its *treated* member, and within a
  subgroup only the comparisons who share the characteristic are kept (they take over the
  set's comparison weight): matching balances sex over everyone, not among women, so a
  woman's comparisons may be men (:func:`within_subgroup`);
* a horizon some cohorts have not reached yet is estimated on the cohorts that reached it and
  says so (``status = "partial"``, ``cohorts_observed`` / ``cohorts_not_observable``); a horizon
  no cohort reached is a row with ``status = "not_observable"`` and no number, never a silent
  subset;
* a subgroup with fewer treated people than ``min_treated`` gets ``status = "too_few"`` and no
  number rather than a wide, unstable one;
* a design that cannot support an estimate at all (too few participants, or too few of them
  with a comparable non-participant) has every row ``status = "declined"`` and no number
  (:func:`pipeline.effects.verdict.decline`);
* every estimate carries ``mde``, the smallest effect its sample would have detected with 80%
  power (:mod:`pipeline.effects.power`), so "no significant effect" can be read for what it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from .att import att
from .power import minimum_detectable_effect
from .result import EffectEstimate

STATUSES = ("estimated", "partial", "not_observable", "too_few", "declined")
COLUMNS = (
    "outcome", "horizon_months", "estimator", "subgroup", "subgroup_value", "status",
    "estimate", "std_error", "ci_low", "ci_high", "p_value", "n_t", "n_c", "mean_treated",
    "mean_control", "confidence_level", "cohorts_observed", "cohorts_not_observable", "mde",
)

Estimator = Callable[[pd.DataFrame, str], EffectEstimate]


def set_values(data: pd.DataFrame, column: str, *, treatment: str = "treated",
               matched_set: Iterable[str] = ("cohort", "subclass")) -> pd.Series:
    """The treated member's value of ``column`` for every row of its matched set.

    Parameters
    ----------
    data : DataFrame
        Matched rows with the treatment indicator and the matched-set keys.
    column : str
        Characteristic defining the subgroup (e.g. ``female``).
    treatment : str
        Treatment indicator column.
    matched_set : iterable of str
        Columns identifying a matched set.

    Returns
    -------
    Series
        Aligned to ``data``; missing for sets without a treated member.
    """
    keys = list(matched_set)
    if column in keys:  # shared by every member of a set already
        return data[column].rename(column)
    treated = data.loc[data[treatment].astype(bool), [*keys, column]]
    if treated.duplicated(keys).any():
        raise ValueError(
            f"matched sets {keys} hold more than one treated unit; subgroups need one per set"
        )
    lookup = treated.set_index(keys)[column]
    index = pd.MultiIndex.from_frame(data[keys])
    return pd.Series(lookup.reindex(index).to_numpy(), index=data.index, name=column)


def effects_table(
    at_horizon: Mapping[int, pd.DataFrame],
    estimators: Mapping[str, Estimator],
    *,
    outcomes: Iterable[str],
    subgroups: Iterable[str] = (),
    confidence_level: float = 0.95,
    min_treated: int = 10,
) -> pd.DataFrame:
    """Estimate every outcome at every horizon, overall and by subgroup, with every estimator.

    Parameters
    ----------
    at_horizon : mapping of int to DataFrame
        Per horizon (months after start), the matched rows with their outcomes, ``treated``,
        ``cohort``, ``subclass``, ``observed`` (the matched set's outcome month lies inside
        the register) and the subgroup columns.
    estimators : mapping of str to callable
        Name to ``f(data, outcome) -> EffectEstimate``.
    outcomes : iterable of str
        Outcome columns.
    subgroups : iterable of str
        Characteristics to break the effects down by (each value of each, by the treated
        member of the matched set).
    confidence_level : float
        Recorded with every row (the estimators use their own).
    min_treated : int
        Fewest treated people for a subgroup estimate.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`, one row per outcome x horizon x estimator x subgroup value.
    """
    outcomes, subgroups = list(outcomes), list(subgroups)
    rows = []
    for horizon, frame in sorted(at_horizon.items()):
        by_cohort = frame.groupby("cohort")["observed"].all()
        observed = frame.loc[frame["observed"]]
        counts = {"cohorts_observed": int(by_cohort.sum()),
                  "cohorts_not_observable": int((~by_cohort).sum())}
        status = "estimated" if by_cohort.all() else "partial"
        for subgroup, value, part in _parts(observed, subgroups):
            for name, estimator in estimators.items():
                for outcome in outcomes:
                    base = {"outcome": outcome, "horizon_months": int(horizon),
                            "estimator": name, "subgroup": subgroup, "subgroup_value": value,
                            "confidence_level": confidence_level, **counts}
                    rows.append({**base, **_estimate(part, outcome, estimator, status,
                                                     min_treated)})
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))


def _parts(observed: pd.DataFrame, subgroups: list[str]):
    """("all", "all", data), then (subgroup, value, like-with-like rows of that subgroup)."""
    yield "all", "all", observed
    for subgroup in subgroups:
        values = set_values(observed, subgroup)
        for value in sorted(values.dropna().unique(), key=str):
            yield subgroup, str(value), within_subgroup(observed, subgroup, value, values)


def within_subgroup(data: pd.DataFrame, column: str, value, set_value: pd.Series,
                    *, matched_set: Iterable[str] = ("cohort", "subclass")) -> pd.DataFrame:
    """Matched sets whose participant has ``value``, keeping only the comparisons who have it too.

    Matching balances a characteristic over the whole sample, not within its subgroups: the
    comparisons of a woman may be men. A subgroup effect compares like with like, so other
    comparisons are dropped and the remaining ones of a set take over its comparison weight;
    a set left without comparisons drops out (and its participant with it).

    Parameters
    ----------
    data : DataFrame
        Matched rows with ``treated``, ``weights`` and the matched-set keys.
    column : str
        The subgroup characteristic.
    value : object
        The subgroup.
    set_value : Series
        The participant's value for every row (:func:`set_values`).
    matched_set : iterable of str
        Columns identifying a matched set.

    Returns
    -------
    DataFrame
        The subgroup's rows with comparison weights rescaled within each set.
    """
    keys = list(matched_set)
    treated = data["treated"].astype(bool)
    rows = data.loc[(set_value == value) & (treated | (data[column] == value))]
    if column in keys:
        return rows
    controls = ~rows["treated"].astype(bool)
    all_controls = data.loc[(set_value == value) & ~treated]
    total = all_controls.groupby(keys)["weights"].sum()
    kept = rows.loc[controls].groupby(keys)["weights"].sum()
    scale = (total / kept).reindex(pd.MultiIndex.from_frame(rows.loc[controls, keys]))
    rows = rows.copy()
    rows.loc[controls, "weights"] = rows.loc[controls, "weights"].to_numpy() * scale.to_numpy()
    with_controls = pd.MultiIndex.from_frame(rows[keys]).isin(kept.index)
    return rows.loc[with_controls]


def _estimate(part: pd.DataFrame, outcome: str, estimator: Estimator, status: str,
              min_treated: int) -> dict:
    n_treated = int(part["treated"].astype(bool).sum()) if len(part) else 0
    empty = {"estimate": np.nan, "std_error": np.nan, "ci_low": np.nan, "ci_high": np.nan,
             "p_value": np.nan, "n_t": n_treated, "n_c": int(len(part) - n_treated),
             "mean_treated": np.nan, "mean_control": np.nan, "mde": np.nan}
    if n_treated == 0:
        return {**empty, "status": "not_observable"}
    if n_treated < min_treated:
        return {**empty, "status": "too_few"}
    result = estimator(part, outcome)
    return {
        "status": status,
        "estimate": result.estimate,
        "std_error": result.std_error,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p_value": result.p_value,
        "n_t": result.n_treated,
        "n_c": result.n_control,
        "mean_treated": result.mean_treated,
        "mean_control": result.mean_control,
        # smallest effect this sample would detect with 80% power at the interval's level
        "mde": minimum_detectable_effect(result.std_error,
                                         alpha=1 - result.confidence_level, df=result.df),
    }


def attach_subgroups(frame: pd.DataFrame, baseline: pd.DataFrame,
                     subgroups: Iterable[str]) -> pd.DataFrame:
    """Add the subgroup characteristics from the baseline (by person and cohort) to ``frame``.

    Raises
    ------
    ValueError
        If a subgroup is neither in ``frame`` nor in ``baseline`` (names it and what exists).
    """
    wanted = [s for s in subgroups if s not in frame.columns]
    missing = [s for s in wanted if s not in baseline.columns]
    if missing:
        raise ValueError(
            f"estimation.subgroups {missing} are not baseline characteristics; choose from "
            f"{sorted(c for c in baseline.columns if c not in ('pid', 'treated'))}"
        )
    columns = baseline[["pid", "cohort", *wanted]]
    return frame.merge(columns, on=["pid", "cohort"], how="left", validate="m:1")


def matched_estimators(confidence_level: float = 0.95) -> dict[str, Estimator]:
    """The estimators run on matched data: the weighted difference in means with standard
    errors clustered on matched sets."""

    def matched_difference(data: pd.DataFrame, outcome: str) -> EffectEstimate:
        return att(data, "treated", outcome, weights="weights", cluster="subclass",
                   confidence_level=confidence_level)

    return {"matched_difference": matched_difference}


def headline(effects: pd.DataFrame, horizon_months: int,
             estimator: str = "matched_difference") -> pd.DataFrame:
    """The rows of the effects table the summary leads with: everyone, one horizon."""
    chosen = (effects["subgroup"] == "all") & (effects["estimator"] == estimator) & (
        effects["horizon_months"] == horizon_months)
    return effects.loc[chosen].reset_index(drop=True)
