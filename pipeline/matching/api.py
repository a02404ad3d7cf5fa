"""``match()``: propensity score nearest-neighbour matching on any DataFrame."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .balance import balance_table
from .nearest import NO_MATCH, greedy_without_replacement, nearest_with_replacement
from .propensity import check_columns, covariate_terms, fit_propensity
from .result import SMD_THRESHOLD, MatchResult, MatchSpec

RESERVED_COLUMNS = ("distance", "weights", "subclass")


class BalanceWarning(UserWarning):
    """Some covariate is still imbalanced (|SMD| above the threshold) after matching."""


def _treatment_indicator(data: pd.DataFrame, treatment: str) -> np.ndarray:
    values = data[treatment]
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=bool)
    if not pd.api.types.is_numeric_dtype(values.dtype) or not values.isin([0, 1]).all():
        raise ValueError(
            f"treatment column {treatment!r} must be boolean or 0/1, "
            f"found values {sorted(values.unique().tolist(), key=str)[:5]}"
        )
    return values.to_numpy() == 1


def match(
    data: pd.DataFrame,
    treatment: str,
    covariates: list[str],
    *,
    method: str = "nearest",
    distance: str = "logit",
    ratio: int = 1,
    replace: bool = False,
    caliper: float | None = None,
    exact: list[str] | None = None,
) -> MatchResult:
    """Match each treated unit to ``ratio`` controls on the propensity score (estimand ATT).

    Parameters
    ----------
    data:
        One row per unit. Covariates, treatment and exact columns must have no missing values
        (handle them before calling; a ValueError names the column otherwise). Columns named
        ``distance``, ``weights`` or ``subclass`` are refused, since the matched data adds them.
    treatment:
        Column holding the treatment indicator (boolean or 0/1).
    covariates:
        Columns of the propensity score model. Object, string and category columns are
        dummy-coded (first level dropped); constant columns are dropped.
    method:
        ``"nearest"`` (greedy nearest neighbour, largest propensity score first, as MatchIt's
        default ``m.order = "largest"``; with replacement the order does not matter).
    distance:
        ``"logit"``: propensity score from a logistic regression, fit once on the whole sample.
        **Matching is on the logit of the propensity score** (the linear predictor), as
        MatchIt's ``distance = "glm", link = "linear.logit"``.
    ratio:
        Controls per treated unit. Matching runs in ``ratio`` rounds: every treated unit gets
        its first control before any gets its second (as MatchIt).
    replace:
        Whether controls may be reused.
    caliper:
        Maximum allowed distance in standard deviations of the logit of the propensity score,
        the SD (``n - 1``) being taken over all units of ``data`` (MatchIt ``std.caliper =
        TRUE``). The width on the logit scale is ``caliper * sd(logit ps)``; a control at
        exactly that distance is accepted. Treated units with no available control within it
        are left unmatched (counted in :attr:`MatchResult.n_unmatched`).
    exact:
        Columns whose every combination of values is a separate matching cell; treated units
        are never matched across cells. Treated units in cells without controls are unmatched.

    Returns
    -------
    MatchResult

    Warns
    -----
    BalanceWarning
        When any covariate term has an absolute standardised mean difference above 0.1 after
        matching.

    Notes
    -----
    The method is deterministic, so it takes no random seed: equally distant controls go to
    the one with the smaller score, then to the earlier row; equal scores among treated units
    are processed in data order.
    """
    spec = MatchSpec(
        treatment=treatment,
        covariates=tuple(covariates) if not isinstance(covariates, str) else (covariates,),
        method=method,
        distance=distance,
        ratio=ratio,
        replace=replace,
        caliper=None if caliper is None else float(caliper),
        exact=tuple(exact) if exact else (),
    )
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    check_columns(data, [treatment], "treatment")
    check_columns(data, list(spec.covariates), "covariate")
    check_columns(data, list(spec.exact), "exact")
    clash = [c for c in RESERVED_COLUMNS if c in data.columns]
    if clash:
        raise ValueError(
            f"data already has column(s) {clash}, which matched_data() would overwrite; "
            "rename or drop them first"
        )
    treated = _treatment_indicator(data, treatment)
    n = len(data)
    n_treated = int(treated.sum())
    if n_treated == 0 or n_treated == n:
        raise ValueError(f"treatment column {treatment!r} needs both treated and control units")

    ps = fit_propensity(data, treated, list(spec.covariates))
    logit = ps.linear
    caliper_width = None
    if spec.caliper is not None:
        caliper_width = spec.caliper * float(np.std(logit, ddof=1))

    if spec.exact:
        cells = data.groupby(list(spec.exact), sort=True, observed=True).ngroup().to_numpy()
    else:
        cells = np.zeros(n, dtype=np.int64)

    positions = np.arange(n)
    treated_pos = positions[treated]
    # matches[i, r]: data position of treated unit i's round-r control, NO_MATCH if none
    matches = np.full((n_treated, spec.ratio), NO_MATCH, dtype=np.int64)
    row_of_treated = np.empty(n, dtype=np.int64)
    row_of_treated[treated_pos] = np.arange(n_treated)
    cell_order = np.argsort(cells, kind="stable")
    bounds = np.flatnonzero(np.diff(cells[cell_order])) + 1
    for members in np.split(cell_order, bounds):
        is_t = treated[members]
        pos_t, pos_c = members[is_t], members[~is_t]
        if len(pos_t) == 0 or len(pos_c) == 0:
            continue
        d_t, d_c = logit[pos_t], logit[pos_c]
        if spec.replace:
            local = nearest_with_replacement(
                d_t, d_c, ratio=spec.ratio, caliper_width=caliper_width, pos_t=pos_t, pos_c=pos_c
            )
        else:
            order = np.argsort(-d_t, kind="stable")  # largest first, ties in data order
            local = greedy_without_replacement(
                d_t,
                d_c,
                ratio=spec.ratio,
                caliper_width=caliper_width,
                order=order,
                pos_t=pos_t,
                pos_c=pos_c,
            )
        matches[row_of_treated[pos_t]] = np.where(local == NO_MATCH, NO_MATCH, pos_c[local])

    n_in_set = (matches != NO_MATCH).sum(axis=1)
    has_match = n_in_set > 0
    if not has_match.any():
        raise ValueError("no treated unit could be matched (check caliper and exact cells)")

    weights = np.zeros(n)
    weights[treated_pos[has_match]] = 1.0
    valid = matches != NO_MATCH
    set_share = np.broadcast_to((1.0 / np.maximum(n_in_set, 1))[:, None], matches.shape)
    np.add.at(weights, matches[valid], set_share[valid])
    control_w = weights[~treated]
    n_control_matched = int((control_w > 0).sum())
    weights[~treated] = control_w * n_control_matched / control_w.sum()

    ids = np.zeros(n, dtype=np.int64)  # 0 = no subclass
    if not spec.replace:
        set_id = np.cumsum(has_match)  # 1, 2, ... in data order of treated units
        ids[treated_pos[has_match]] = set_id[has_match]
        rows = np.broadcast_to(set_id[:, None], matches.shape)
        ids[matches[valid]] = rows[valid]
    subclass = pd.arrays.IntegerArray(ids, mask=ids == 0)

    keep = weights > 0
    matched = data.iloc[np.flatnonzero(keep)].copy()
    matched["distance"] = ps.score[keep]
    matched["weights"] = weights[keep]
    matched["subclass"] = subclass[keep]

    terms = covariate_terms(data, list(spec.covariates), drop_first=False)
    balance = balance_table(terms, treated, weights, ps.score)

    result = MatchResult(
        spec=spec,
        caliper_width=caliper_width,
        ps_params=ps.params,
        dropped_terms=ps.dropped,
        n_treated=n_treated,
        n_control=n - n_treated,
        n_treated_matched=int(has_match.sum()),
        n_control_matched=n_control_matched,
        _matched=matched,
        _balance=balance,
    )
    bad = result.imbalanced()
    if bad:
        warnings.warn(
            f"|standardised mean difference| > {SMD_THRESHOLD} after matching for: "
            f"{', '.join(bad)}",
            BalanceWarning,
            stacklevel=2,
        )
    return result
