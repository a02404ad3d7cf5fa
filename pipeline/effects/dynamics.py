"""How effects unfold with time since start: an event study and group-time ATTs.

- :func:`event_study`: a difference-in-differences event study on a matched sample (treated
  persons and their matched comparisons, each comparison carrying its treated person's start
  month as pseudo-start), estimated with ``linearmodels.PanelOLS`` with person and
  calendar-month fixed effects.
- :func:`group_time_att`: the unconditional group-time average treatment effects ATT(g, t) of
  Callaway & Sant'Anna (2021) with influence-function standard errors, and their dynamic and
  simple aggregations, as in R's ``did`` package (``bstrap = FALSE, cband = FALSE``);
  optionally with unit weights.
- :func:`stacked_group_time_att`: the same cells when every start month has its own
  comparison units (a matched sample), combined so that they aggregate as in ``did``.

Both return results objects that hold numbers and know how they were made; the report layer
formats them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import stats

CONTROL_GROUPS = ("not_yet_treated", "never_treated")
BASE_PERIODS = ("universal", "varying")
UNBALANCED = ("refuse", "drop_units")
AGGREGATIONS = ("dynamic", "simple")


# ---- input checks shared by both estimators ----------------------------------------------------
def _check_frame(panel: pd.DataFrame, roles: dict[str, str | None]) -> None:
    """Every named column exists and has no missing value (``None`` entries are skipped)."""
    if not isinstance(panel, pd.DataFrame):
        raise TypeError(f"panel must be a pandas DataFrame, got {type(panel).__name__}")
    for role, column in roles.items():
        if column is None:
            continue
        if column not in panel.columns:
            raise ValueError(f"{role} column {column!r} is not in the data")
        n_missing = int(panel[column].isna().sum())
        if n_missing:
            raise ValueError(
                f"{role} column {column!r} has {n_missing} missing value(s); drop or impute "
                "them explicitly before estimating"
            )


def _check_numeric(panel: pd.DataFrame, column: str, role: str) -> None:
    dtype = panel[column].dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        raise ValueError(f"{role} column {column!r} must be numeric, got {dtype}")
    if not np.isfinite(panel[column].to_numpy(dtype=float)).all():
        raise ValueError(f"{role} column {column!r} has infinite values")


def _check_integer_valued(panel: pd.DataFrame, column: str, role: str) -> None:
    _check_numeric(panel, column, role)
    values = panel[column].to_numpy(dtype=float)
    if not np.array_equal(values, np.round(values)):
        raise ValueError(f"{role} column {column!r} must hold whole periods (e.g. month index)")


def _check_one_row_per_period(panel: pd.DataFrame, unit: str, time: str) -> None:
    n_duplicated = int(panel.duplicated([unit, time]).sum())
    if n_duplicated:
        raise ValueError(
            f"{n_duplicated} duplicated ({unit!r}, {time!r}) row(s): a unit has one row per "
            "period (if a person is in several cohorts' pools, make the unit a person x cohort id)"
        )


def _check_constant_within_unit(panel: pd.DataFrame, unit: str, column: str, role: str) -> None:
    n_values = panel.groupby(unit, sort=False)[column].nunique(dropna=False)
    n_varying = int((n_values > 1).sum())
    if n_varying:
        raise ValueError(
            f"{role} column {column!r} varies within {n_varying} unit(s); it must be constant "
            "per unit"
        )


def _check_unit_weights(panel: pd.DataFrame, unit: str, weights: str) -> None:
    if weights not in panel.columns:
        raise ValueError(f"weights column {weights!r} is not in the data")
    _check_numeric(panel, weights, "weights")
    values = panel[weights].to_numpy(dtype=float)
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise ValueError(f"weights column {weights!r} must be positive and finite for every row")
    _check_constant_within_unit(panel, unit, weights, "weights")


def _check_choice(value: str, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def _check_confidence_level(confidence_level: float) -> None:
    if not (isinstance(confidence_level, (int, float)) and 0 < confidence_level < 1):
        raise ValueError(f"confidence_level must be between 0 and 1, got {confidence_level!r}")


def _indicator(series: pd.Series, role: str) -> np.ndarray:
    """A boolean or 0/1 column as floats 0.0/1.0."""
    values = series
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=float)
    if pd.api.types.is_numeric_dtype(values.dtype) and values.isin([0, 1]).all():
        return values.to_numpy(dtype=float)
    raise ValueError(f"{role} column {series.name!r} must be boolean or 0/1")


# ---- joint Wald test ----------------------------------------------------------------------------
@dataclass(frozen=True)
class WaldTest:
    """Joint Wald test that a set of coefficients is zero.

    Attributes
    ----------
    statistic : float
        Wald statistic ``b' V^-1 b``.
    df : int
        Number of restrictions q.
    p_value : float
        ``F``: ``statistic / q`` against F(q, ``df_denom``); ``chi2``: ``statistic`` against
        chi-squared(q).
    distribution : {"F", "chi2"}
        Reference distribution of the p-value.
    df_denom : float or None
        Denominator degrees of freedom of the F distribution (clusters - 1), else None.
    hypothesis : str
        What was tested, in words.
    """

    statistic: float
    df: int
    p_value: float
    distribution: str
    df_denom: float | None
    hypothesis: str

    def summary(self) -> str:
        """One line: hypothesis, statistic, degrees of freedom and p-value."""
        dfs = f"{self.df}" if self.df_denom is None else f"{self.df}, {self.df_denom:g}"
        return (
            f"{self.hypothesis}: Wald = {self.statistic:.6g}, {self.distribution}({dfs}), "
            f"p = {self.p_value:.4g}"
        )

    def __str__(self) -> str:
        return self.summary()


def _wald_test(
    estimates: np.ndarray, cov: np.ndarray, *, df_denom: float | None, hypothesis: str
) -> WaldTest:
    q = len(estimates)
    if q == 0:
        raise ValueError("there are no pre-period estimates to test")
    rank = int(np.linalg.matrix_rank(cov))
    if rank == 0:
        raise ValueError("the pre-period estimates have no variance: nothing to test")
    if rank < q:
        # Linearly dependent restrictions (few clusters, many pre-periods): as Stata's `test`
        # does, drop the dependent ones and test the rest, with rank degrees of freedom; the
        # generalised inverse gives that statistic for estimates in the covariance's span.
        statistic = float(estimates @ np.linalg.pinv(cov, hermitian=True) @ estimates)
        hypothesis = (f"{hypothesis} ({q - rank} of {q} restrictions dropped as linearly "
                      f"dependent; {rank} tested)")
        q = rank
    else:
        statistic = float(estimates @ np.linalg.solve(cov, estimates))
    if df_denom is None:
        p_value = float(stats.chi2.sf(statistic, q))
        distribution = "chi2"
    else:
        p_value = float(stats.f.sf(statistic / q, q, df_denom))
        distribution = "F"
    return WaldTest(statistic, q, p_value, distribution, df_denom, hypothesis)


def _table_html(title: str, rows: list[tuple[str, str]], table: pd.DataFrame) -> str:
    head = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return (
        f"<div><strong>{html.escape(title)}</strong><table>{head}</table>"
        f"{table.to_html(index=False, na_rep='')}</div>"
    )


# ---- event study on a matched sample ------------------------------------------------------------
@dataclass(frozen=True)
class EventStudySpec:
    """How an event study was made.

    Attributes
    ----------
    outcome, unit, time, relative_time, treated, weights : str or None
        Columns used (``weights`` None: equal weights).
    cluster : str
        Column the standard errors are clustered on (the unit column if none was given).
    window : tuple of int
        First and last relative time kept; rows outside were dropped.
    reference : int
        Omitted relative time; every estimate is relative to it.
    confidence_level : float
        Coverage of the intervals.
    n_obs, n_units, n_treated_units, n_clusters : int
        Rows, units, treated units and clusters that entered the regression.
    df : int
        Degrees of freedom of the t and F reference distributions (clusters - 1).
    n_outside_window : int
        Rows dropped because their relative time lies outside ``window``.
    n_zero_weight : int
        Rows dropped because their weight is zero.
    omitted_event_times : tuple of int
        Relative times in the window without any treated observation (no coefficient).
    """

    outcome: str
    unit: str
    time: str
    relative_time: str
    treated: str
    weights: str | None
    cluster: str
    window: tuple[int, int]
    reference: int
    confidence_level: float
    n_obs: int
    n_units: int
    n_treated_units: int
    n_clusters: int
    df: int
    n_outside_window: int
    n_zero_weight: int
    omitted_event_times: tuple[int, ...]

    estimator: ClassVar[str] = "PanelOLS, entity (unit) and time (calendar period) effects"
    cov_type: ClassVar[str] = (
        "CR1: G/(G-1) * (N-1)/(N-k), k = event-time coefficients (fixed effects not counted)"
    )


@dataclass(frozen=True, eq=False)
class EventStudyResult:
    """Event-study coefficients: treated x relative-time effects relative to ``reference``.

    Attributes
    ----------
    params : Series
        Estimates indexed by relative time (the reference period is not included).
    cov : DataFrame
        Their cluster-robust covariance (CR1, see :class:`EventStudySpec`).
    spec : EventStudySpec
        How the estimates were made.
    """

    params: pd.Series
    cov: pd.DataFrame
    spec: EventStudySpec

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors indexed by relative time."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)

    def conf_int(self) -> pd.DataFrame:
        """``lower``/``upper`` bounds at ``spec.confidence_level`` (t with ``spec.df`` df)."""
        crit = stats.t.ppf(0.5 + self.spec.confidence_level / 2, self.spec.df)
        se = self.std_errors
        return pd.DataFrame({"lower": self.params - crit * se, "upper": self.params + crit * se})

    def tidy(self) -> pd.DataFrame:
        """One row per relative time in the window, the reference period included.

        Columns ``relative_time, estimate, std_error, ci_low, ci_high, p_value``; the
        reference row has estimate 0 and missing uncertainty, omitted event times are absent.
        """
        ci = self.conf_int()
        se = self.std_errors
        p = 2 * stats.t.sf(np.abs(self.params / se), self.spec.df)
        frame = pd.DataFrame({
            "relative_time": self.params.index.astype(int),
            "estimate": self.params.to_numpy(),
            "std_error": se.to_numpy(),
            "ci_low": ci["lower"].to_numpy(),
            "ci_high": ci["upper"].to_numpy(),
            "p_value": np.asarray(p),
        })
        reference = pd.DataFrame({"relative_time": [self.spec.reference], "estimate": [0.0]})
        return (
            pd.concat([frame, reference.reindex(columns=frame.columns)], ignore_index=True)
            .sort_values("relative_time", ignore_index=True)
        )

    def pre_trend_test(self) -> WaldTest:
        """Joint Wald test that all pre-period coefficients (relative time < reference) are 0.

        F form: ``W / q`` against F(q, clusters - 1), consistent with the t intervals.
        """
        pre = self.params.index[self.params.index < self.spec.reference]
        return _wald_test(
            self.params[pre].to_numpy(),
            self.cov.loc[pre, pre].to_numpy(),
            df_denom=float(self.spec.df),
            hypothesis=f"all {len(pre)} pre-period coefficients are zero",
        )

    def _rows(self) -> list[tuple[str, str]]:
        s = self.spec
        weights = "equal" if s.weights is None else repr(s.weights)
        return [
            ("outcome", s.outcome),
            ("estimator", s.estimator),
            ("window", f"{s.window[0]} to {s.window[1]} (reference {s.reference})"),
            ("std. errors", f"{s.cov_type}; clusters {s.cluster!r} ({s.n_clusters})"),
            ("weights", weights),
            ("observations", f"{s.n_obs} ({s.n_units} units, {s.n_treated_units} treated)"),
        ]

    def summary(self) -> str:
        """Plain-text summary: specification and the coefficient table."""
        head = [f"{k:<13} {v}" for k, v in self._rows()]
        return "\n".join(
            ["Event study", "==========="] + head + ["", self.tidy().to_string(index=False)]
        )

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return _table_html("Event study", self._rows(), self.tidy())


def _check_window(window: tuple[int, int], reference: int) -> tuple[int, int]:
    low, high = (int(v) for v in window)
    if (low, high) != tuple(window) or low >= high:
        raise ValueError(f"window must be two whole numbers (first, last), got {window!r}")
    if not (isinstance(reference, (int, np.integer)) and low <= reference <= high):
        raise ValueError(f"reference must be a whole number within window, got {reference!r}")
    return low, high


def _event_dummies(
    rel: np.ndarray, treated: np.ndarray, window: tuple[int, int], reference: int
) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """Treated x relative-time indicators for the window, without the reference period.

    Returns the indicators (columns named by relative time) and the relative times dropped
    because no treated row has them.
    """
    columns, omitted = {}, []
    for k in range(window[0], window[1] + 1):
        if k == reference:
            continue
        column = treated * (rel == k)
        if column.any():
            columns[k] = column
        else:
            omitted.append(k)
    return pd.DataFrame(columns), tuple(omitted)


def _check_event_sample(
    frame: pd.DataFrame, unit: str, treated: str, has_reference: bool
) -> None:
    is_treated = frame[treated].astype(bool)
    if not is_treated.any() or is_treated.all():
        raise ValueError("the sample needs treated and comparison rows inside the window")
    if not has_reference:
        raise ValueError("no treated row lies in the reference period; choose another reference")
    if frame[unit].nunique() < 3:
        raise ValueError("need at least three units")


def event_study(
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    relative_time: str,
    treated: str,
    outcome: str,
    weights: str | None = None,
    cluster: str | None = None,
    window: tuple[int, int] = (-24, 36),
    reference: int = -1,
    confidence_level: float = 0.95,
) -> EventStudyResult:
    """Difference-in-differences event study on a matched sample.

    Regresses the outcome on unit fixed effects, calendar-period fixed effects and treated x
    relative-time indicators for every relative time in ``window`` except ``reference``, with
    ``linearmodels.PanelOLS(entity_effects=True, time_effects=True)`` (weighted least squares
    with ``weights``). Comparisons carry their treated person's start as pseudo-start, so
    their relative time is defined; their indicators are zero. The coefficient at relative
    time k is the change in the treated-comparison difference from ``reference`` to k.

    Standard errors are cluster-robust on ``cluster`` (the matched set) or, if None, on
    ``unit``, with the CR1 factor ``G/(G-1) * (N-1)/(N-k)``, k the number of event-time
    coefficients (= R ``plm::vcovHC(type = "sss")``, Stata ``xtreg, fe vce(cluster)``;
    the absorbed fixed effects are not counted). Intervals, p-values and the pre-trend test
    use t(G-1) and F(q, G-1).

    Parameters
    ----------
    panel : DataFrame
        Long panel, one row per unit and calendar period. Unbalanced panels are fine. Rows
        outside ``window`` and rows with zero weight are dropped (counted in the spec).
    unit : str
        Unit id: a person x cohort id if a person can appear in several cohorts' pools.
    time : str
        Calendar period (whole numbers, e.g. month index), for the period fixed effects.
    relative_time : str
        Periods since (pseudo-)start, whole numbers.
    treated : str
        Boolean or 0/1, constant within unit.
    outcome : str
        Numeric outcome; missing values raise ValueError naming the column.
    weights : str, optional
        Matching weights (non-negative), constant within unit.
    cluster : str, optional
        Cluster id, e.g. the matched set; constant within unit. Default: ``unit``.
    window : tuple of int
        First and last relative time to keep.
    reference : int
        Relative time whose coefficient is fixed at 0 (default -1, the month before start).
    confidence_level : float
        Coverage of the intervals.

    Returns
    -------
    EventStudyResult

    Raises
    ------
    ValueError
        Missing or non-numeric columns, duplicated (unit, time) rows, treatment, weights or
        clusters that vary within a unit, no treated or no comparison rows, no treated row
        in the reference period, fewer than two clusters, or a window that does not contain
        the reference.
    """
    _check_confidence_level(confidence_level)
    low, high = _check_window(window, reference)
    roles = {"unit": unit, "time": time, "relative_time": relative_time, "treated": treated,
             "outcome": outcome, "weights": weights, "cluster": cluster}
    _check_frame(panel, roles)
    _check_integer_valued(panel, time, "time")
    _check_integer_valued(panel, relative_time, "relative_time")
    _check_numeric(panel, outcome, "outcome")
    _indicator(panel[treated], "treated")
    for column, role in ((treated, "treated"), (weights, "weights"), (cluster, "cluster")):
        if column is not None:
            _check_constant_within_unit(panel, unit, column, role)
    if weights is not None:
        _check_numeric(panel, weights, "weights")
        if (panel[weights] < 0).any():
            raise ValueError(f"weights column {weights!r} must be non-negative")
    _check_one_row_per_period(panel, unit, time)

    in_window = panel[relative_time].between(low, high)
    positive = panel[weights] > 0 if weights is not None else pd.Series(True, panel.index)
    frame = panel.loc[in_window & positive]
    rel = frame[relative_time].to_numpy(dtype=int)
    is_treated = _indicator(frame[treated], "treated")
    dummies, omitted = _event_dummies(rel, is_treated, (low, high), reference)
    _check_event_sample(frame, unit, treated, (is_treated * (rel == reference)).any())

    cluster_column = unit if cluster is None else cluster
    n_clusters = int(frame[cluster_column].nunique())
    if n_clusters < 2:
        raise ValueError(f"cluster column {cluster_column!r} needs at least two clusters")
    params, cov = _fit_two_way(frame, dummies, unit, time, outcome, weights, cluster_column)
    spec = EventStudySpec(
        outcome=outcome, unit=unit, time=time, relative_time=relative_time, treated=treated,
        weights=weights, cluster=cluster_column, window=(low, high), reference=int(reference),
        confidence_level=float(confidence_level), n_obs=len(frame),
        n_units=int(frame[unit].nunique()),
        n_treated_units=int(frame.loc[is_treated == 1, unit].nunique()),
        n_clusters=n_clusters, df=n_clusters - 1,
        n_outside_window=int((~in_window).sum()),
        n_zero_weight=int((in_window & ~positive).sum()), omitted_event_times=omitted,
    )
    return EventStudyResult(params=params, cov=cov, spec=spec)


def _fit_two_way(
    frame: pd.DataFrame,
    dummies: pd.DataFrame,
    unit: str,
    time: str,
    outcome: str,
    weights: str | None,
    cluster: str,
) -> tuple[pd.Series, pd.DataFrame]:
    """The two-way fixed-effects (W)LS of ``PanelOLS``, with a CR1 covariance on ``cluster``.

    The estimator of ``linearmodels.PanelOLS(entity_effects=True, time_effects=True)`` with
    ``cov_type="clustered", debiased=True, group_debias=True, count_effects=False``: the tests
    check equality with PanelOLS and with R's plm and lm + sandwich. The unit and period
    effects are absorbed exactly (:func:`_absorb_two_way`, Frisch-Waugh-Lovell) instead of by
    PanelOLS's alternating projections, which took a minute on the demo's stacked panel
    (5,800 units, 610 cohort x month periods); this takes about a second. The covariance is
    ``G/(G-1) * (N-1)/(N-k) * B^-1 (sum_g s_g s_g') B^-1`` with ``B = X'WX`` and ``s_g`` the
    sum of ``w x e`` over cluster g.
    """
    w = np.ones(len(frame)) if weights is None else frame[weights].to_numpy(dtype=float)
    units = pd.factorize(frame[unit])[0]
    periods = pd.factorize(frame[time].to_numpy(dtype=np.int64))[0]
    within = _absorb_two_way(
        np.column_stack([frame[outcome].to_numpy(dtype=float), dummies.to_numpy(dtype=float)]),
        units, periods, w)
    y, x = within[:, 0], within[:, 1:]
    xw = x * w[:, None]
    bread = np.linalg.inv(x.T @ xw)
    beta = bread @ (xw.T @ y)
    codes = pd.factorize(frame[cluster])[0]
    scores = np.zeros((codes.max() + 1, x.shape[1]))
    np.add.at(scores, codes, xw * (y - x @ beta)[:, None])
    n, k, g = len(frame), x.shape[1], scores.shape[0]
    cov = bread @ (scores.T @ scores) @ bread * (g / (g - 1)) * ((n - 1) / (n - k))
    times = pd.Index(dummies.columns.astype(int), name="relative_time")
    return (pd.Series(beta, index=times, name="estimate"),
            pd.DataFrame(cov, index=times, columns=times))


def _absorb_two_way(
    data: np.ndarray, units: np.ndarray, periods: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Residuals of every column of ``data`` on unit and period indicators (weights ``w``).

    With D_u, D_t the indicator matrices and W = diag(w): first Z_u = Z - D_u (D_u'W D_u)^-1
    D_u'W Z; the period effects of Z_u then solve A b = D_t'W Z_u with
    A = D_t'W D_t - D_t'W D_u (D_u'W D_u)^-1 D_u'W D_t (singular by one per connected set of
    units and periods: the pseudo-inverse picks one solution, the residuals are unique), and
    the residual is Z_u - (D_t b - D_u (D_u'W D_u)^-1 D_u'W D_t b).
    """
    from scipy import sparse

    n = len(w)
    d_u = sparse.csr_matrix((np.ones(n), (np.arange(n), units)))
    d_t = sparse.csr_matrix((np.ones(n), (np.arange(n), periods)))
    unit_weight = np.asarray(d_u.T @ w).ravel()
    weighted = data * w[:, None]
    within_unit = data - d_u @ ((d_u.T @ weighted) / unit_weight[:, None])
    cross = (d_t.T @ sparse.diags(w) @ d_u).tocsr()  # periods x units, sparse
    period_weight = np.asarray(d_t.T @ w).ravel()
    normal = np.diag(period_weight) - (cross @ sparse.diags(1 / unit_weight) @ cross.T).toarray()
    # one zero eigenvalue per connected set of units and periods, computed as rounding noise:
    # cut eigenvalues below 1e-9 of the largest (true ones are of the order of period weights)
    inverse = np.linalg.pinv(normal, rtol=1e-9, hermitian=True)
    effects = inverse @ (d_t.T @ (within_unit * w[:, None]))
    fitted = d_t @ effects - d_u @ ((cross.T @ effects) / unit_weight[:, None])
    return within_unit - fitted


# ---- Callaway & Sant'Anna group-time ATTs -------------------------------------------------------
@dataclass(frozen=True)
class GroupTimeSpec:
    """How group-time ATTs were made.

    Attributes
    ----------
    outcome, unit, time, group : str
        Columns used.
    control_group : {"not_yet_treated", "never_treated"}
        Comparison units of each ATT(g, t).
    anticipation : int
        Periods before start in which effects may already occur.
    base_period : {"universal", "varying"}
        ``universal``: every ATT(g, t) is a long difference against period g - 1 -
        anticipation; ``varying``: pre-period cells compare t with t - 1 (``did``'s default).
    confidence_level : float
        Coverage of the pointwise normal intervals.
    unbalanced : {"refuse", "drop_units"}
        What was done with units missing a period.
    periods : tuple
        Periods of the (balanced) panel, sorted.
    group_sizes : tuple of (group, n units)
        Units per group; group 0 is never treated (within the panel).
    n_units : int
        Units used.
    n_dropped_unbalanced : int
        Units dropped because a period was missing (``unbalanced="drop_units"``).
    n_dropped_treated_at_start : int
        Units dropped because they were treated (or anticipating) already in the first period.
    n_recoded_never_treated : int
        Units first treated after the last period, counted as never treated.
    stacked_on : str or None
        Set by :func:`stacked_group_time_att`: the column whose values each hold one group
        and its own comparison units (the matched comparisons of that start month).
    """

    outcome: str
    unit: str
    time: str
    group: str
    control_group: str
    anticipation: int
    base_period: str
    confidence_level: float
    unbalanced: str
    periods: tuple
    group_sizes: tuple[tuple[int, int], ...]
    n_units: int
    n_dropped_unbalanced: int
    n_dropped_treated_at_start: int
    n_recoded_never_treated: int
    stacked_on: str | None = None


@dataclass(frozen=True, eq=False)
class AggregateResult:
    """An aggregation of group-time ATTs (``did::aggte``), with its standard errors.

    Attributes
    ----------
    type : {"dynamic", "simple"}
        ``dynamic``: one estimate per event time e = t - g (groups weighted by size), overall
        = mean of the estimates for e >= 0; ``simple``: overall = size-weighted mean of all
        post-treatment ATT(g, t).
    estimates : DataFrame
        ``event_time, estimate, std_error, ci_low, ci_high`` (empty for ``simple``).
    overall_estimate, overall_std_error, ci_low, ci_high : float
        The overall effect and its normal interval.
    spec : GroupTimeSpec
        How the group-time ATTs were made.
    """

    type: str
    estimates: pd.DataFrame
    overall_estimate: float
    overall_std_error: float
    ci_low: float
    ci_high: float
    spec: GroupTimeSpec

    def conf_int(self) -> tuple[float, float]:
        """(low, high) interval of the overall effect."""
        return (self.ci_low, self.ci_high)

    def tidy(self) -> pd.DataFrame:
        """Estimates by event time (``dynamic``), or the overall effect as one row."""
        if self.type == "dynamic":
            return self.estimates.copy()
        return pd.DataFrame([{
            "estimate": self.overall_estimate, "std_error": self.overall_std_error,
            "ci_low": self.ci_low, "ci_high": self.ci_high,
        }])

    def _rows(self) -> list[tuple[str, str]]:
        label = "mean over e >= 0" if self.type == "dynamic" else "size-weighted post cells"
        return [
            ("aggregation", self.type),
            ("outcome", self.spec.outcome),
            ("control group", self.spec.control_group),
            ("overall", f"{self.overall_estimate:.6g} ({label})"),
            ("std. error", f"{self.overall_std_error:.6g} (influence function)"),
            (
                f"{100 * self.spec.confidence_level:g}% CI",
                f"[{self.ci_low:.6g}, {self.ci_high:.6g}]",
            ),
        ]

    def summary(self) -> str:
        """Plain-text summary: the overall effect and, for ``dynamic``, the event-time table."""
        lines = ["Aggregated group-time ATT", "========================="]
        lines += [f"{k:<13} {v}" for k, v in self._rows()]
        if self.type == "dynamic":
            lines += ["", self.estimates.to_string(index=False)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return _table_html("Aggregated group-time ATT", self._rows(), self.tidy())


@dataclass(frozen=True, eq=False)
class GroupTimeResult:
    """Group-time average treatment effects ATT(g, t) and their influence functions.

    Attributes
    ----------
    att_gt : DataFrame
        One row per estimated cell: ``group, time, event_time, base_time, estimate,
        std_error, ci_low, ci_high, n_treated, n_comparison``. With the universal base
        period the cells with ``time == base_time`` are the normalisation (estimate 0,
        missing standard error).
    dropped : DataFrame
        Cells not estimated: ``group, time, reason``.
    influence : ndarray
        Influence functions, units x cells (in the order of ``att_gt``), scaled as in
        ``did``: the standard error of a cell is ``sqrt(sum(influence**2)) / n_units``.
    unit_groups : ndarray
        Group of each unit (0 = never treated), in the order of ``influence``'s rows.
    spec : GroupTimeSpec
        How the estimates were made.
    """

    att_gt: pd.DataFrame
    dropped: pd.DataFrame
    influence: np.ndarray
    unit_groups: np.ndarray
    spec: GroupTimeSpec

    def tidy(self) -> pd.DataFrame:
        """A copy of :attr:`att_gt`."""
        return self.att_gt.copy()

    def aggregate(self, type: str = "dynamic") -> AggregateResult:
        """Aggregate the cells as ``did::aggte(type = ...)`` with analytic standard errors.

        Groups are weighted by their share of all units; the influence function includes
        the estimation of these weights (``did``'s ``wif``).

        Parameters
        ----------
        type : {"dynamic", "simple"}
            See :class:`AggregateResult`.
        """
        _check_choice(type, "type", AGGREGATIONS)
        cells = self.att_gt
        shares = _group_shares(self.unit_groups)
        if type == "simple":
            keep = (cells["time"] >= cells["group"]).to_numpy()
            estimate, infl = self._weighted(keep, shares)
            return self._aggregate_result(type, pd.DataFrame(), estimate, infl)
        table, influence = self._by_event_time(shares)
        post = (table["event_time"] >= 0).to_numpy()
        if not post.any():
            raise ValueError("no post-treatment cells to aggregate")
        overall = float(table.loc[post, "estimate"].mean())
        overall_inf = influence[:, post].mean(axis=1)
        return self._aggregate_result(type, table, overall, overall_inf)

    def _by_event_time(self, shares: dict[int, float]) -> tuple[pd.DataFrame, np.ndarray]:
        """The dynamic aggregation's table and its influence functions (units x event times)."""
        cells = self.att_gt
        rows, influences = [], []
        for e in np.sort(cells["event_time"].unique()):
            estimate, infl = self._weighted((cells["event_time"] == e).to_numpy(), shares)
            interval = self._interval(estimate, infl)
            rows.append({"event_time": int(e), "estimate": estimate, **interval})
            influences.append(infl)
        return pd.DataFrame(rows), np.column_stack(influences)

    def _weighted(self, keep: np.ndarray, shares: dict[int, float]) -> tuple[float, np.ndarray]:
        if not keep.any():
            raise ValueError("no estimated cells to aggregate")
        att = self.att_gt["estimate"].to_numpy()[keep]
        groups = self.att_gt["group"].to_numpy()[keep]
        return _aggregate_cells(att, self.influence[:, keep], groups, shares, self.unit_groups)

    def _interval(self, estimate: float, infl: np.ndarray) -> dict[str, float]:
        se = _influence_se(infl)
        crit = stats.norm.ppf(0.5 + self.spec.confidence_level / 2)
        return {"std_error": se, "ci_low": estimate - crit * se, "ci_high": estimate + crit * se}

    def _aggregate_result(
        self, type: str, table: pd.DataFrame, estimate: float, infl: np.ndarray
    ) -> AggregateResult:
        interval = self._interval(estimate, infl)
        return AggregateResult(
            type=type, estimates=table, overall_estimate=float(estimate),
            overall_std_error=interval["std_error"], ci_low=interval["ci_low"],
            ci_high=interval["ci_high"], spec=self.spec,
        )

    def pre_trend_test(self, by: str = "cell") -> WaldTest:
        """Joint Wald test that the effects before start are zero; chi-squared reference.

        Parameters
        ----------
        by : {"cell", "event_time"}
            ``cell``: all pre-treatment ATT(g, t), t < g (``did``'s ``W``). With many groups
            and few units per group their covariance can be singular, so ``event_time`` tests
            the dynamic aggregation's estimates for every event time before start instead
            (one degree of freedom per month, however many groups).
            Normalisation cells (``time == base_time``) are left out either way.
        """
        _check_choice(by, "by", ("cell", "event_time"))
        n = self.influence.shape[0]
        if by == "event_time":
            table, influence = self._by_event_time(_group_shares(self.unit_groups))
            normalised = table["std_error"].isna()
            pre = ((table["event_time"] < 0) & ~normalised).to_numpy()
            estimates, infl = table["estimate"].to_numpy()[pre], influence[:, pre]
            hypothesis = f"the {int(pre.sum())} aggregated effects before start are zero"
        else:
            cells = self.att_gt
            pre = ((cells["time"] < cells["group"])
                   & (cells["time"] != cells["base_time"])).to_numpy()
            estimates, infl = cells["estimate"].to_numpy()[pre], self.influence[:, pre]
            hypothesis = f"all {int(pre.sum())} pre-treatment ATT(g,t) are zero"
        return _wald_test(estimates, infl.T @ infl / n**2, df_denom=None, hypothesis=hypothesis)

    def _rows(self) -> list[tuple[str, str]]:
        s = self.spec
        sizes = ", ".join(f"{g}: {n}" for g, n in s.group_sizes)
        control = (
            s.control_group if s.stacked_on is None
            else f"never treated within each {s.stacked_on!r} (e.g. the matched comparisons)"
        )
        return [
            ("outcome", s.outcome),
            ("estimator", "Callaway & Sant'Anna (2021), unconditional, means of differences"),
            ("control group", control),
            ("base period", f"{s.base_period} (anticipation {s.anticipation})"),
            ("std. errors", "influence function, pointwise normal intervals"),
            ("units", f"{s.n_units} (by group, 0 = never treated: {sizes})"),
            ("cells dropped", str(len(self.dropped))),
        ]

    def summary(self) -> str:
        """Plain-text summary: specification and the ATT(g, t) table."""
        head = [f"{k:<13} {v}" for k, v in self._rows()]
        return "\n".join(
            ["Group-time ATT", "=============="] + head
            + ["", self.att_gt.to_string(index=False)]
        )

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return _table_html("Group-time ATT", self._rows(), self.att_gt)


def _group_shares(unit_groups: np.ndarray) -> dict[int, float]:
    """Share of all units in each group (``did``'s ``pg``)."""
    values, counts = np.unique(unit_groups, return_counts=True)
    return dict(zip(values.tolist(), (counts / len(unit_groups)).tolist(), strict=True))


def _aggregate_cells(
    att: np.ndarray,
    influence: np.ndarray,
    groups: np.ndarray,
    shares: dict[int, float],
    unit_groups: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Group-size weighted mean of cells and its influence function, weights estimated.

    ``did``'s ``get_agg_inf_func`` with ``wif``: the weights ``pg_k / sum(pg)`` are shares
    estimated from the sample, so their own influence function enters.
    """
    pg = np.array([shares[g] for g in groups])
    total = pg.sum()
    weights = pg / total
    centred = (unit_groups[:, None] == groups[None, :]).astype(float) - pg
    wif = centred / total - centred.sum(axis=1, keepdims=True) * (pg / total**2)
    return float(weights @ att), influence @ weights + wif @ att


def _influence_se(infl: np.ndarray) -> float:
    """``sqrt(sum(infl**2)) / n``; NaN where it is numerically zero (normalisation cells)."""
    se = float(np.sqrt(np.sum(infl**2)) / len(infl))
    return se if se > np.sqrt(np.finfo(float).eps) * 10 else float("nan")


def _prepare_groups(
    panel: pd.DataFrame, unit: str, group: str, first: int, last: int, anticipation: int
) -> tuple[pd.DataFrame, int, int]:
    """Never treated as 0; units treated after ``last`` count as never treated; units treated
    (or anticipating) in the first period are dropped. Returns the panel and both counts."""
    g = panel[group].fillna(0)
    if not pd.api.types.is_numeric_dtype(g.dtype) or pd.api.types.is_bool_dtype(g.dtype):
        raise ValueError(f"group column {group!r} must be numeric, got {panel[group].dtype}")
    if (g < 0).any() or not np.array_equal(g, np.round(g)):
        raise ValueError(
            f"group column {group!r} must be the first treated period (a whole number), or 0/NaN"
        )
    g = g.astype(np.int64)
    late = g > last
    early = (g > 0) & (g <= first + anticipation)
    out = panel.assign(**{group: g.where(~late, 0)}).loc[~early]
    return out, int(panel.loc[late, unit].nunique()), int(panel.loc[early, unit].nunique())


def _balance(
    panel: pd.DataFrame, unit: str, time: str, unbalanced: str
) -> tuple[pd.DataFrame, int]:
    """Refuse, or drop the units that miss any period. Returns the panel and units dropped."""
    n_periods = panel[time].nunique()
    counts = panel.groupby(unit, sort=False)[time].transform("size")
    incomplete = counts < n_periods
    n_incomplete = int(panel.loc[incomplete, unit].nunique())
    if n_incomplete and unbalanced == "refuse":
        raise ValueError(
            f"unbalanced panel: {n_incomplete} of {panel[unit].nunique()} units miss at least "
            f"one of the {n_periods} periods; restrict the periods, or pass "
            "unbalanced='drop_units' to keep only complete units (as did::att_gt does)"
        )
    return panel.loc[~incomplete], n_incomplete


def _base_index(
    g: int, t_index: int, periods: np.ndarray, anticipation: int, base_period: str
) -> int:
    """Position of the base period of cell (g, periods[t_index]); -1 if there is none."""
    last_before = int(np.flatnonzero(periods + anticipation < g)[-1])
    if base_period == "universal" or periods[t_index] >= g:
        return last_before
    return t_index - 1


def _comparison_mask(
    unit_groups: np.ndarray, g: int, latest: int, anticipation: int, control_group: str
) -> np.ndarray:
    never = unit_groups == 0
    if control_group == "never_treated":
        return never
    return never | ((unit_groups > latest + anticipation) & (unit_groups != g))


def _cell(
    dy: np.ndarray, treated: np.ndarray, comparison: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """2x2 difference in weighted mean changes and its influence function (did's scaling).

    With unit weights w: ``psi_i = n w_i (dy_i - m) / sum(w)`` over the unit's group (sign
    minus for comparisons), so ``sqrt(sum(psi**2)) / n`` is the HC0 sandwich standard error
    of the weighted difference in means (``did``'s ``weightsname``).
    """
    n = len(dy)
    w1, w0 = weights[treated], weights[comparison]
    m1 = float(w1 @ dy[treated] / w1.sum())
    m0 = float(w0 @ dy[comparison] / w0.sum())
    infl = np.zeros(n)
    infl[treated] = n * w1 * (dy[treated] - m1) / w1.sum()
    infl[comparison] = -n * w0 * (dy[comparison] - m0) / w0.sum()
    return m1 - m0, infl


def _estimate_cells(
    wide: np.ndarray,
    unit_groups: np.ndarray,
    unit_weights: np.ndarray,
    periods: np.ndarray,
    control_group: str,
    anticipation: int,
    base_period: str,
) -> tuple[list[dict], list[np.ndarray], list[dict]]:
    """Every ATT(g, t): rows for the table, influence columns and the dropped cells."""
    rows, influences, dropped = [], [], []
    for g in np.unique(unit_groups[unit_groups > 0]):
        treated = unit_groups == g
        for t_index, t in enumerate(periods):
            b_index = _base_index(g, t_index, periods, anticipation, base_period)
            if b_index < 0:
                continue
            latest = max(t, periods[b_index])
            comparison = _comparison_mask(unit_groups, g, latest, anticipation, control_group)
            if not comparison.any():
                dropped.append({"group": g, "time": t, "reason": "no comparison units"})
                continue
            dy = wide[:, t_index] - wide[:, b_index]
            att, infl = _cell(dy, treated, comparison, unit_weights)
            rows.append({
                "group": g, "time": t, "event_time": t - g, "base_time": periods[b_index],
                "estimate": att, "n_treated": int(treated.sum()),
                "n_comparison": int(comparison.sum()),
            })
            influences.append(infl)
    return rows, influences, dropped


def group_time_att(
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    group: str,
    outcome: str,
    control_group: str = "not_yet_treated",
    anticipation: int = 0,
    base_period: str = "universal",
    unbalanced: str = "refuse",
    confidence_level: float = 0.95,
    weights: str | None = None,
) -> GroupTimeResult:
    """Callaway & Sant'Anna (2021) group-time average treatment effects, without covariates.

    For each group g (first treated period) and period t, ATT(g, t) is the mean change in the
    outcome from the base period b to t among units of group g minus the mean change among
    the comparison units: the never treated, plus (``not_yet_treated``) the units first
    treated after ``max(t, b) + anticipation`` (other than g). The base period is
    ``g - 1 - anticipation`` for post-treatment cells, and for pre-treatment cells too with
    ``base_period="universal"`` (``"varying"``: t - 1, ``did``'s default). Standard errors
    come from the influence functions as in ``did::att_gt(..., bstrap = FALSE,
    cband = FALSE)``, intervals are pointwise normal.

    Parameters
    ----------
    panel : DataFrame
        Long panel, one row per unit and period.
    unit, time : str
        Unit id and period (whole numbers, consecutive periods one apart, e.g. month index).
    group : str
        First treated period of the unit (its cohort start); 0 or NaN for never treated.
        Constant within unit. Units first treated after the last period count as never
        treated; units treated (or anticipating) in the first period are dropped.
    outcome : str
        Numeric outcome; missing values raise ValueError naming the column.
    control_group : {"not_yet_treated", "never_treated"}
        Comparison units.
    anticipation : int
        Periods before start in which effects may occur (shifts the base period back).
    base_period : {"universal", "varying"}
        Base period of pre-treatment cells.
    unbalanced : {"refuse", "drop_units"}
        Units missing a period: raise ValueError, or drop those units (counted in the spec).
    confidence_level : float
        Coverage of the intervals.
    weights : str, optional
        Column of positive unit weights, constant within unit (e.g. matching weights): group
        means become weighted means, as with ``did``'s ``weightsname``. Group shares in the
        aggregations stay counts of units.

    Returns
    -------
    GroupTimeResult
        Cells without comparison units are left out and listed in ``dropped``.
    """
    _check_choice(control_group, "control_group", CONTROL_GROUPS)
    _check_choice(base_period, "base_period", BASE_PERIODS)
    _check_choice(unbalanced, "unbalanced", UNBALANCED)
    _check_confidence_level(confidence_level)
    if not (isinstance(anticipation, (int, np.integer)) and anticipation >= 0):
        raise ValueError(f"anticipation must be a whole number >= 0, got {anticipation!r}")
    _check_frame(panel, {"unit": unit, "time": time, "outcome": outcome, "group": None})
    if group not in panel.columns:
        raise ValueError(f"group column {group!r} is not in the data")
    _check_integer_valued(panel, time, "time")
    _check_numeric(panel, outcome, "outcome")
    _check_one_row_per_period(panel, unit, time)
    _check_constant_within_unit(panel, unit, group, "group")
    if weights is not None:
        _check_unit_weights(panel, unit, weights)

    frame, n_balanced = _balance(panel, unit, time, unbalanced)
    periods = np.sort(frame[time].unique()).astype(np.int64)
    frame, n_late, n_early = _prepare_groups(
        frame, unit, group, periods[0], periods[-1], anticipation
    )
    wide = frame.pivot(index=unit, columns=time, values=outcome).sort_index(axis=1)
    unit_groups = frame.groupby(unit)[group].first().reindex(wide.index).to_numpy()
    unit_weights = (
        np.ones(len(wide)) if weights is None
        else frame.groupby(unit)[weights].first().reindex(wide.index).to_numpy(dtype=float)
    )
    if not (unit_groups > 0).any():
        raise ValueError("no treated group with a period before its start")
    rows, influences, dropped = _estimate_cells(
        wide.to_numpy(dtype=float), unit_groups, unit_weights, periods, control_group,
        anticipation, base_period,
    )
    if not rows:
        raise ValueError(f"no ATT(g,t) can be estimated: no {control_group} comparison units")
    influence = np.column_stack(influences)
    spec = GroupTimeSpec(
        outcome=outcome, unit=unit, time=time, group=group, control_group=control_group,
        anticipation=int(anticipation), base_period=base_period,
        confidence_level=float(confidence_level), unbalanced=unbalanced,
        periods=tuple(periods.tolist()),
        group_sizes=tuple((int(g), int(n)) for g, n in zip(
            *np.unique(unit_groups, return_counts=True), strict=True)),
        n_units=len(unit_groups), n_dropped_unbalanced=n_balanced,
        n_dropped_treated_at_start=n_early, n_recoded_never_treated=n_late,
    )
    return GroupTimeResult(
        att_gt=_att_table(rows, influence, confidence_level),
        dropped=pd.DataFrame(dropped, columns=["group", "time", "reason"]),
        influence=influence, unit_groups=unit_groups, spec=spec,
    )


def _att_table(rows: list[dict], influence: np.ndarray, confidence_level: float) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    se = np.array([_influence_se(influence[:, j]) for j in range(influence.shape[1])])
    crit = stats.norm.ppf(0.5 + confidence_level / 2)
    table.insert(5, "std_error", se)
    table.insert(6, "ci_low", table["estimate"] - crit * se)
    table.insert(7, "ci_high", table["estimate"] + crit * se)
    return table


def stacked_group_time_att(
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    group: str,
    stack: str,
    outcome: str,
    weights: str | None = None,
    anticipation: int = 0,
    base_period: str = "universal",
    unbalanced: str = "drop_units",
    confidence_level: float = 0.95,
) -> GroupTimeResult:
    """Group-time ATTs where each group has its own comparison units (e.g. a matched sample).

    After matching within cohorts, the comparisons of a cohort are people eligible at *its*
    start and similar to *its* participants; their register history covers only the months
    around that start. So ATT(g, t) is estimated within each ``stack`` (a start month with
    its participants, group g, and their matched comparisons, group 0, as never treated) by
    :func:`group_time_att`, and the stacks are put side by side: units of different stacks are
    different units (a person who is a comparison at two start months counts twice), the
    influence functions form a block-diagonal matrix rescaled to all units, and
    :meth:`GroupTimeResult.aggregate` then weights groups by their share of all units, as
    ``did::aggte`` does. This is Callaway & Sant'Anna's estimator with the never-treated
    comparison group replaced, for each group, by its matched comparisons: no group is ever
    compared with an already treated one.

    Parameters
    ----------
    panel : DataFrame
        Long panel, one row per unit and period, with ``stack``.
    unit, time, group, outcome, weights, anticipation, base_period, confidence_level
        As in :func:`group_time_att`; ``group`` is the stack's start period for its treated
        units and 0 for its comparisons.
    stack : str
        Column constant within unit; each value holds exactly one treated group.
    unbalanced : {"drop_units", "refuse"}
        Units missing a period of their stack's window (e.g. register gaps).

    Returns
    -------
    GroupTimeResult
        All stacks' cells; ``spec.stacked_on`` names ``stack``.
    """
    _check_frame(panel, {"stack": stack})
    _check_constant_within_unit(panel, unit, stack, "stack")
    parts = []
    for value, part in panel.groupby(stack, sort=True):
        treated_groups = part.loc[part[group].fillna(0) > 0, group].unique()
        if len(treated_groups) != 1:
            raise ValueError(
                f"stack {stack}={value!r} holds {len(treated_groups)} treated groups; each stack "
                "must hold exactly one (its participants) and its comparisons (group 0)"
            )
        parts.append(group_time_att(
            part, unit=unit, time=time, group=group, outcome=outcome,
            control_group="never_treated", anticipation=anticipation, base_period=base_period,
            unbalanced=unbalanced, confidence_level=confidence_level, weights=weights,
        ))
    return _side_by_side(parts, stack, confidence_level)


def _side_by_side(
    parts: list[GroupTimeResult], stack: str, confidence_level: float
) -> GroupTimeResult:
    """One result from stacks with disjoint units: block-diagonal influence, rescaled to n."""
    n_units = sum(part.spec.n_units for part in parts)
    n_cells = sum(part.influence.shape[1] for part in parts)
    influence = np.zeros((n_units, n_cells))
    row = column = 0
    for part in parts:
        rows, columns = part.influence.shape
        influence[row:row + rows, column:column + columns] = part.influence * n_units / rows
        row, column = row + rows, column + columns
    unit_groups = np.concatenate([part.unit_groups for part in parts])
    first = parts[0].spec
    spec = GroupTimeSpec(
        outcome=first.outcome, unit=first.unit, time=first.time, group=first.group,
        control_group="never_treated", anticipation=first.anticipation,
        base_period=first.base_period, confidence_level=float(confidence_level),
        unbalanced=first.unbalanced,
        periods=tuple(sorted({p for part in parts for p in part.spec.periods})),
        group_sizes=tuple((int(g), int(n)) for g, n in zip(
            *np.unique(unit_groups, return_counts=True), strict=True)),
        n_units=n_units,
        n_dropped_unbalanced=sum(part.spec.n_dropped_unbalanced for part in parts),
        n_dropped_treated_at_start=sum(part.spec.n_dropped_treated_at_start for part in parts),
        n_recoded_never_treated=sum(part.spec.n_recoded_never_treated for part in parts),
        stacked_on=stack,
    )
    cells = pd.concat([part.att_gt for part in parts], ignore_index=True)
    rows = cells.drop(columns=["std_error", "ci_low", "ci_high"]).to_dict("records")
    return GroupTimeResult(
        att_gt=_att_table(rows, influence, confidence_level),
        dropped=pd.concat([part.dropped for part in parts], ignore_index=True),
        influence=influence, unit_groups=unit_groups, spec=spec,
    )
