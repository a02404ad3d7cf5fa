"""The headline estimate under alternative specifications.

An effect that holds only under one caliper, one ratio or one covariate set is fragile. This
re-matches the baseline under each alternative (everything else as configured), looks the
outcome up at the headline horizon and estimates the effect as the pipeline does, and adds
a regression adjustment on the configured matched sample. A specification that cannot be
estimated (e.g. a caliper leaving too few participants) is a row that says why.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.matching import BalanceWarning, match
from pipeline.register.outcomes import censoring_months, outcome_at

from .att import att

HISTORY_PREFIXES = ("employed_", "months_employed_", "months_unemployed_", "earnings_")
COLUMNS = (
    "specification", "outcome", "horizon_months", "status", "estimate", "std_error", "ci_low",
    "ci_high", "n_t", "n_c", "note",
)


def default_variants(covariates: list[str]) -> dict[str, dict]:
    """Caliper, ratio and covariate-set alternatives to the configured matching."""
    demographic = [c for c in covariates if not c.startswith(HISTORY_PREFIXES)]
    return {
        "as configured": {},
        "no caliper": {"caliper": None},
        "caliper 0.1 SD": {"caliper": 0.1},
        "1:1 matching": {"ratio": 1},
        "1:5 matching": {"ratio": 5},
        "without labour-market history": {"covariates": demographic},
    }


def specification_table(
    baseline: pd.DataFrame,
    outcomes_path: Path,
    *,
    covariates: list[str],
    match_options: Mapping[str, object],
    horizon_months: int,
    outcomes: tuple[str, ...] = ("employed",),
    variants: Mapping[str, Mapping[str, object]] | None = None,
    confidence_level: float = 0.95,
    censor_participants: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Estimate the headline effect under every specification.

    Parameters
    ----------
    baseline : DataFrame
        Complete baseline rows (no missing covariate) with ``pid, cohort, treated``.
    outcomes_path : Path
        The panel stage's ``outcomes.parquet``.
    covariates : list of str
        The configured covariates.
    match_options : mapping
        The configured options of :func:`pipeline.matching.match` (method, distance, ratio,
        replace, caliper); matching is always exact on cohort.
    horizon_months : int
        The headline horizon.
    outcomes : tuple of str
        Outcomes to estimate.
    variants : mapping, optional
        Name to overrides (``covariates`` or any match option); :func:`default_variants` by
        default.
    confidence_level : float
        Coverage of the intervals.
    censor_participants : DataFrame, optional
        Everyone who took part (``pid, cohort``): comparisons are censored when they start
        (:func:`~pipeline.register.outcomes.censoring_months`), as in the headline.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`, one row per specification and outcome, plus regression
        adjustment on the configured matched sample.
    """
    variants = default_variants(covariates) if variants is None else variants
    rows = []
    configured = None
    for name, overrides in variants.items():
        options = {**match_options, **overrides}
        chosen = list(options.pop("covariates", covariates))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", BalanceWarning)
                matched = match(baseline, "treated", chosen, exact=["cohort"],
                                **options).matched_data()
        except ValueError as error:
            rows.extend(_failed(name, outcome, horizon_months, str(error)) for outcome in outcomes)
            continue
        matched = matched[["pid", "cohort", "treated", "weights", "subclass"]]
        if censor_participants is not None:
            matched = matched.assign(
                censored_from=censoring_months(matched, censor_participants, baseline))
        at = outcome_at(outcomes_path, matched, horizon_months)
        at = at.loc[at["observed"]]
        if not overrides:
            extra = [c for c in covariates if c not in ("pid", "cohort")]
            configured = at.merge(baseline[["pid", "cohort", *extra]], on=["pid", "cohort"])
        for outcome in outcomes:
            rows.append(_row(name, outcome, horizon_months, att(
                at, "treated", outcome, weights="weights", cluster="subclass",
                confidence_level=confidence_level), f"{len(chosen)} covariates"))
    if configured is not None:
        numeric = [c for c in covariates
                   if pd.api.types.is_numeric_dtype(configured[c]) and c != "cohort"]
        for outcome in outcomes:
            result = att(configured, "treated", outcome, numeric, method="regression",
                         weights="weights", cluster="subclass",
                         confidence_level=confidence_level)
            rows.append(_row("regression adjustment", outcome, horizon_months, result,
                             f"matched sample, adjusted for {len(numeric)} numeric covariates"))
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))


def _row(name: str, outcome: str, horizon: int, result, note: str) -> dict:
    return {
        "specification": name, "outcome": outcome, "horizon_months": horizon,
        "status": "estimated", "estimate": result.estimate, "std_error": result.std_error,
        "ci_low": result.ci_low, "ci_high": result.ci_high, "n_t": result.n_treated,
        "n_c": result.n_control, "note": note,
    }


def _failed(name: str, outcome: str, horizon: int, reason: str) -> dict:
    return {
        "specification": name, "outcome": outcome, "horizon_months": horizon,
        "status": "not_estimable", "estimate": np.nan, "std_error": np.nan, "ci_low": np.nan,
        "ci_high": np.nan, "n_t": 0, "n_c": 0, "note": reason,
    }
