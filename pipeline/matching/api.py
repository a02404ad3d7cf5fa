"""``match()``: nearest-neighbour matching on the propensity score or the Mahalanobis distance,
and coarsened exact matching, on any DataFrame (MatchIt's ``matchit()``)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from . import cem
from .balance import balance_table
from .mahalanobis import mahalanobis_space, match_cell
from .nearest import NO_MATCH, greedy_without_replacement, nearest_with_replacement
from .propensity import check_columns, covariate_terms, fit_propensity, is_categorical
from .result import SMD_THRESHOLD, MatchResult, MatchSpec

RESERVED_COLUMNS = ("distance", "weights", "subclass")


class BalanceWarning(UserWarning):
    """Some covariate is still imbalanced (|SMD| above the threshold) after matching."""


def match(
    data: pd.DataFrame,
    treatment: str,
    covariates: list[str],
    *,
    method: str = "nearest",
    distance: str | None = None,
    ratio: int = 1,
    replace: bool = False,
    caliper: float | Mapping[str, float] | None = None,
    exact: list[str] | None = None,
    cutpoints: Mapping[str, object] | None = None,
) -> MatchResult:
    """Find comparison units for the treated units of ``data`` (estimand ATT).

    Parameters
    ----------
    data:
        One row per unit. Covariates, treatment and exact columns must have no missing values
        (handle them before calling; a ValueError names the column otherwise) and numeric
        covariates no infinite ones. Columns named ``distance``, ``weights`` or ``subclass``
        are refused, since the matched data adds them.
    treatment:
        Column holding the treatment indicator (boolean or 0/1).
    covariates:
        Columns matched on. Object, string and category columns are categorical.
    method:
        ``"nearest"``: greedy nearest-neighbour matching on ``distance``. ``"cem"``:
        coarsened exact matching (see :mod:`pipeline.matching.cem`): numeric covariates are
        binned, and every stratum of bins and categories holding both treated and control
        units is kept whole, with stratum weights.
    distance:
        ``"nearest"`` only; default ``"logit"``.

        * ``"logit"``: propensity score from a logistic regression of treatment on the
          covariates (categorical ones dummy-coded, first level dropped; constant terms
          dropped), fit once on the whole sample. **Matching is on the logit of the score**
          (MatchIt's ``distance = "glm", link = "linear.logit"``); treated units are processed
          largest score first (MatchIt's ``m.order = "largest"``).
        * ``"mahalanobis"``: Mahalanobis distance of the covariate terms with the pooled
          within-group covariance estimated on the whole sample; treated units in data order
          (MatchIt's default ``m.order = "data"`` without a propensity score). See
          :mod:`pipeline.matching.mahalanobis`.
    ratio:
        ``"nearest"`` only: controls per treated unit. Matching runs in ``ratio`` rounds:
        every treated unit gets its first control before any gets its second (as MatchIt).
    replace:
        ``"nearest"`` only: whether controls may be reused (then each treated unit simply gets
        its ``ratio`` nearest controls and the order does not matter).
    caliper:
        ``"nearest"`` only. With ``distance="logit"``: the maximum allowed distance in standard
        deviations of the logit of the propensity score, the SD (``n - 1``) being taken over all
        units of ``data`` (MatchIt ``std.caliper = TRUE``); the width on the logit scale is
        ``caliper * sd(logit ps)``. With ``distance="mahalanobis"``: a dict ``{covariate:
        width}`` on numeric covariates, each width in standard deviations of that covariate
        over all units; a control is eligible only if it is within every width (MatchIt's named
        calipers). A control exactly at the width is accepted. Treated units with no available
        control within it are left unmatched (counted in :attr:`MatchResult.n_unmatched`).
    exact:
        Columns whose every combination of values is a separate matching cell; treated units
        are never matched across cells, and treated units in cells without controls stay
        unmatched (counted in :meth:`MatchResult.sample_sizes`). With ``"cem"`` they stratify
        like uncoarsened categorical covariates (MatchIt's CEM has no ``exact``).
    cutpoints:
        ``"cem"`` only: ``{covariate: rule}`` for numeric covariates, the rule being
        ``"sturges"`` (the default for every numeric covariate not listed), a number of
        equal-width bins between the minimum and the maximum, or a list of cut points.

    Returns
    -------
    MatchResult

    Raises
    ------
    ValueError
        For bad options or combinations (e.g. a caliper or ratio with ``"cem"``, cutpoints with
        ``"nearest"``, a numeric caliper with ``"mahalanobis"``), missing columns or values,
        and when no treated unit can be matched (the message gives the counts).

    Warns
    -----
    BalanceWarning
        When any covariate term has an absolute standardised mean difference above 0.1 after
        matching.

    Notes
    -----
    Deterministic, so there is no random seed. Nearest neighbour ties: with the propensity
    score, equally distant controls go to the one with the smaller score, then to the earlier
    row, and equal scores among treated units are processed in data order; with the
    Mahalanobis distance equally distant controls go to the earlier row.
    """
    spec = MatchSpec(
        treatment=treatment,
        covariates=tuple(covariates) if not isinstance(covariates, str) else (covariates,),
        method=method,
        distance=distance,
        ratio=ratio,
        replace=replace,
        caliper=caliper,
        exact=tuple(exact) if exact else (),
        cutpoints=cutpoints if cutpoints is not None else (),
    )
    treated = _checked_treatment(data, spec)
    if spec.exact:
        cells = data.groupby(list(spec.exact), sort=True, observed=True).ngroup().to_numpy()
    else:
        cells = np.zeros(len(data), dtype=np.int64)
    build = {"logit": _nearest_logit, "mahalanobis": _nearest_mahalanobis, None: _cem}
    weights, subclass, score, fields = build[spec.distance](data, spec, treated, cells)
    result = _result(data, spec, treated, cells, weights, subclass, score, fields)
    bad = result.imbalanced()
    if bad:
        warnings.warn(
            f"|standardised mean difference| > {SMD_THRESHOLD} after matching for: "
            f"{', '.join(bad)}",
            BalanceWarning,
            stacklevel=2,
        )
    return result


# --- input checks ----------------------------------------------------------------------------
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


def _check_finite(data: pd.DataFrame, covariates: tuple[str, ...]) -> None:
    for column in covariates:
        series = data[column]
        if is_categorical(series) or pd.api.types.is_bool_dtype(series.dtype):
            continue
        n_bad = int((~np.isfinite(series.to_numpy(dtype=float))).sum())
        if n_bad:
            raise ValueError(f"covariate column {column!r} has {n_bad} infinite value(s)")


def _checked_treatment(data: pd.DataFrame, spec: MatchSpec) -> np.ndarray:
    """Check the data against ``spec``; return the treatment indicator as booleans."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    check_columns(data, [spec.treatment], "treatment")
    check_columns(data, list(spec.covariates), "covariate")
    check_columns(data, list(spec.exact), "exact")
    _check_finite(data, spec.covariates)
    clash = [c for c in RESERVED_COLUMNS if c in data.columns]
    if clash:
        raise ValueError(
            f"data already has column(s) {clash}, which matched_data() would overwrite; "
            "rename or drop them first"
        )
    treated = _treatment_indicator(data, spec.treatment)
    if treated.all() or not treated.any():
        raise ValueError(
            f"treatment column {spec.treatment!r} needs both treated and control units"
        )
    return treated


def _cells_without_counterpart(cells: np.ndarray, treated: np.ndarray) -> tuple[int, int]:
    """Treated units in cells without controls, and controls in cells without treated units."""
    n_t = np.bincount(cells[treated], minlength=cells.max() + 1)
    n_c = np.bincount(cells[~treated], minlength=cells.max() + 1)
    return int(n_t[n_c == 0].sum()), int(n_c[n_t == 0].sum())


# --- nearest neighbour -----------------------------------------------------------------------
CellMatcher = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _match_in_cells(
    cells: np.ndarray, treated: np.ndarray, ratio: int, match_one: CellMatcher
) -> np.ndarray:
    """Run ``match_one(pos_t, pos_c)`` in every exact cell with both groups.

    Returns the data positions of each treated unit's controls, shape ``(n_treated, ratio)``,
    ``NO_MATCH`` where none was found; treated units in data order.
    """
    positions = np.arange(len(treated))
    treated_pos = positions[treated]
    matches = np.full((len(treated_pos), ratio), NO_MATCH, dtype=np.int64)
    row_of_treated = np.empty(len(treated), dtype=np.int64)
    row_of_treated[treated_pos] = np.arange(len(treated_pos))
    cell_order = np.argsort(cells, kind="stable")
    bounds = np.flatnonzero(np.diff(cells[cell_order])) + 1
    for members in np.split(cell_order, bounds):
        is_t = treated[members]
        pos_t, pos_c = members[is_t], members[~is_t]
        if len(pos_t) == 0 or len(pos_c) == 0:
            continue
        local = match_one(pos_t, pos_c)
        matches[row_of_treated[pos_t]] = np.where(local == NO_MATCH, NO_MATCH, pos_c[local])
    return matches


def _no_match_message(spec: MatchSpec, treated: np.ndarray, cells: np.ndarray) -> str:
    n_treated = int(treated.sum())
    no_control = _cells_without_counterpart(cells, treated)[0]
    message = (
        f"no treated unit could be matched ({n_treated} treated, {int((~treated).sum())} "
        f"controls; {no_control} treated in exact cells without controls"
    )
    if spec.caliper is not None:
        message += f", {n_treated - no_control} with no control within the caliper"
    return message + ")"


def _from_matches(
    matches: np.ndarray, spec: MatchSpec, treated: np.ndarray, cells: np.ndarray
) -> tuple[np.ndarray, pd.arrays.IntegerArray]:
    """MatchIt's weights and subclasses from matched sets (see MatchResult.matched_data)."""
    n_in_set = (matches != NO_MATCH).sum(axis=1)
    has_match = n_in_set > 0
    if not has_match.any():
        raise ValueError(_no_match_message(spec, treated, cells))
    treated_pos = np.flatnonzero(treated)
    weights = np.zeros(len(treated))
    weights[treated_pos[has_match]] = 1.0
    valid = matches != NO_MATCH
    set_share = np.broadcast_to((1.0 / np.maximum(n_in_set, 1))[:, None], matches.shape)
    np.add.at(weights, matches[valid], set_share[valid])
    control_w = weights[~treated]
    weights[~treated] = control_w * (control_w > 0).sum() / control_w.sum()

    ids = np.zeros(len(treated), dtype=np.int64)  # 0 = no subclass
    if not spec.replace:
        set_id = np.cumsum(has_match)  # 1, 2, ... in data order of treated units
        ids[treated_pos[has_match]] = set_id[has_match]
        ids[matches[valid]] = np.broadcast_to(set_id[:, None], matches.shape)[valid]
    return weights, pd.arrays.IntegerArray(ids, mask=ids == 0)


def _nearest_logit(data, spec: MatchSpec, treated, cells):
    ps = fit_propensity(data, treated, list(spec.covariates))
    logit = ps.linear
    width = None
    if spec.caliper is not None:
        width = spec.caliper * float(np.std(logit, ddof=1))

    def match_one(pos_t: np.ndarray, pos_c: np.ndarray) -> np.ndarray:
        d_t, d_c = logit[pos_t], logit[pos_c]
        options = dict(ratio=spec.ratio, caliper_width=width, pos_t=pos_t, pos_c=pos_c)
        if spec.replace:
            return nearest_with_replacement(d_t, d_c, **options)
        order = np.argsort(-d_t, kind="stable")  # largest first, ties in data order
        return greedy_without_replacement(d_t, d_c, order=order, **options)

    matches = _match_in_cells(cells, treated, spec.ratio, match_one)
    weights, subclass = _from_matches(matches, spec, treated, cells)
    fields = dict(caliper_width=width, ps_params=ps.params, dropped_terms=ps.dropped)
    return weights, subclass, ps.score, fields


def _covariate_caliper(data: pd.DataFrame, spec: MatchSpec):
    """``((values, widths), {covariate: width})`` for named calipers, or ``(None, None)``."""
    if spec.caliper is None:
        return None, None
    widths = {}
    for column, n_sd in spec.caliper:
        if is_categorical(data[column]):
            raise ValueError(f"caliper on {column!r}, which is categorical: calipers need numbers")
        sd = float(np.std(data[column].to_numpy(dtype=float), ddof=1))
        if not sd > 0:
            raise ValueError(f"caliper on {column!r}, which does not vary")
        widths[column] = n_sd * sd
    values = data[list(widths)].to_numpy(dtype=float)
    return (values, np.array(list(widths.values()))), widths


def _nearest_mahalanobis(data, spec: MatchSpec, treated, cells):
    terms = covariate_terms(data, list(spec.covariates), drop_first=True)
    space = mahalanobis_space(terms, treated)
    caliper, widths = _covariate_caliper(data, spec)

    def match_one(pos_t: np.ndarray, pos_c: np.ndarray) -> np.ndarray:
        return match_cell(
            space, pos_t, pos_c, ratio=spec.ratio, replace=spec.replace, caliper=caliper
        )

    matches = _match_in_cells(cells, treated, spec.ratio, match_one)
    weights, subclass = _from_matches(matches, spec, treated, cells)
    covariance = pd.DataFrame(space.covariance, index=space.terms, columns=space.terms)
    fields = dict(
        caliper_width=widths, ps_params=None, dropped_terms=space.dropped, covariance=covariance
    )
    return weights, subclass, None, fields


# --- coarsened exact matching ----------------------------------------------------------------
def _cem(data, spec: MatchSpec, treated, cells):
    codes, breaks = cem.coarsen(data, list(spec.covariates), dict(spec.cutpoints))
    subclass = cem.subclasses(cem.strata([cells, *codes]), treated)
    weights = cem.stratum_weights(subclass, treated)
    fields = dict(caliper_width=None, ps_params=None, dropped_terms=(), cutpoints=breaks)
    return weights, pd.arrays.IntegerArray(subclass, mask=subclass == 0), None, fields


# --- result ----------------------------------------------------------------------------------
def _result(data, spec, treated, cells, weights, subclass, score, fields) -> MatchResult:
    keep = weights > 0
    matched = data.iloc[np.flatnonzero(keep)].copy()
    matched["distance"] = np.nan if score is None else score[keep]
    matched["weights"] = weights[keep]
    matched["subclass"] = subclass[keep]
    terms = covariate_terms(data, list(spec.covariates), drop_first=False)
    no_control, no_treated = _cells_without_counterpart(cells, treated)
    return MatchResult(
        spec=spec,
        n_treated=int(treated.sum()),
        n_control=int((~treated).sum()),
        n_treated_matched=int((keep & treated).sum()),
        n_control_matched=int((keep & ~treated).sum()),
        n_treated_no_control_cell=no_control,
        n_control_no_treated_cell=no_treated,
        _matched=matched,
        _balance=balance_table(terms, treated, weights, score, ecdf=False),
        _balance_inputs=(terms, treated, weights, score),
        score=None if score is None else pd.Series(score, index=data.index, name="score"),
        _treated=np.asarray(treated, dtype=bool),
        _kept=keep,
        **fields,
    )
