"""How sure the headline is: E-values and Rosenbaum bounds for the headline effects.

For every outcome at the headline horizon (everyone, matched difference):

* the E-value (VanderWeele & Ding 2017) of the estimate and of the confidence limit closest to
  no effect: for a share (employment) through the risk ratio against the comparison group's
  share, for a continuous outcome (earnings) through the standardised difference;
* the critical Gamma of Rosenbaum's bounds (Wilcoxon signed rank) on the matched sets'
  differences, each participant against the weighted mean of their comparisons. Rosenbaum's
  bounds are defined for pairs; with 1:k sets this is an approximation, said in the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .sensitivity import (
    critical_gamma,
    e_value_difference,
    e_value_standardised,
    explain_e_value,
    explain_rosenbaum,
)

COLUMNS = (
    "outcome", "horizon_months", "estimate", "e_value", "e_value_ci", "critical_gamma",
    "n_sets", "note", "e_value_sentence", "rosenbaum_sentence",
)


def set_differences(data: pd.DataFrame, outcome: str,
                    matched_set: tuple[str, ...] = ("cohort", "subclass")) -> np.ndarray:
    """Each participant's outcome minus the weighted mean outcome of their comparisons."""
    keys = list(matched_set)
    treated = data["treated"].astype(bool)
    own = data.loc[treated].set_index(keys)[outcome]
    controls = data.loc[~treated]
    weighted = (controls[outcome] * controls["weights"]).groupby(
        [controls[k] for k in keys]).sum() / controls.groupby(keys)["weights"].sum()
    both = pd.concat([own.rename("treated"), weighted.rename("control")], axis=1).dropna()
    return (both["treated"] - both["control"]).to_numpy()


def robustness_table(headline_rows: pd.DataFrame, at_headline: pd.DataFrame,
                     binary_outcomes: tuple[str, ...]) -> pd.DataFrame:
    """E-values and critical Gammas of the headline effects.

    Parameters
    ----------
    headline_rows : DataFrame
        The effects table's headline rows (see :func:`pipeline.effects.table.headline`).
    at_headline : DataFrame
        Matched rows with their outcomes at the headline horizon (observed sets only).
    binary_outcomes : tuple of str
        Outcomes that are shares (0/1); the others are treated as continuous.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`; rows without an estimate are skipped.
    """
    rows = []
    for row in headline_rows.dropna(subset=["estimate"]).itertuples(index=False):
        outcome = row.outcome
        if outcome in binary_outcomes:
            e = e_value_difference(row.estimate, row.mean_control, row.ci_low, row.ci_high)
        else:
            spread = float(at_headline.loc[~at_headline["treated"].astype(bool), outcome].std())
            e = e_value_standardised(row.estimate / spread, row.std_error / spread)
        differences = set_differences(at_headline, outcome)
        alternative = "greater" if row.estimate >= 0 else "less"
        nonzero = np.count_nonzero(differences)
        gamma = critical_gamma(differences, alternative=alternative) if nonzero else np.nan
        rows.append({
            "outcome": outcome,
            "horizon_months": int(row.horizon_months),
            "estimate": row.estimate,
            "e_value": e.point,
            "e_value_ci": e.ci_limit,
            "critical_gamma": gamma,
            "n_sets": len(differences),
            "note": "Rosenbaum bounds on each participant against the mean of their "
                    "comparisons (an approximation for 1:k matched sets)",
            "e_value_sentence": explain_e_value(e),
            "rosenbaum_sentence": explain_rosenbaum(gamma) if nonzero else "",
        })
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))
