"""``weightit()``: balancing weights for the ATT on any DataFrame (R's WeightIt, two methods).

>>> result = weightit(df, "treated", ["age", "sex"], method="ebal")
>>> data = result.weighted_data()     # rows + a ``weights`` column
>>> att(data, "treated", "employed", weights="weights", cluster=None)
>>> result.balance()                  # SMD, variance ratio, eCDF before/after weighting

Both methods give treated units weight 1 and re-weight the controls so that they resemble the
treated (estimand ATT); control weights always sum to the number of treated units.

* ``method="ps"``: inverse probability weights. The propensity score comes from the same
  logistic regression as matching (:func:`~pipeline.matching.propensity.fit_propensity`) and
  each control gets its odds ``ps / (1 - ps)``.
* ``method="ebal"``: entropy balancing (Hainmueller 2012). Control weights
  ``w_i = exp(lambda' x_i) / sum_j exp(lambda' x_j)`` (times the number of treated), which
  are the weights closest to uniform in Kullback-Leibler divergence among those making the
  weighted control means of the covariate terms ``x`` *exactly* equal to the treated means.
  ``lambda`` solves the convex dual ``min log sum_i exp(lambda' z_i)`` with ``z`` the terms
  centred at the treated means and scaled by their control SD, by Newton's method with a
  backtracking line search.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .balance import balance_table
from .propensity import check_columns, covariate_terms, fit_propensity

METHODS = ("ps", "ebal")
ESTIMANDS = ("ATT",)
MOMENTS = (1, 2)
WEIGHTS_COLUMN = "weights"
SEPARATION_LOGIT = 36.0  # |logit ps| above this: ps within 2.3e-16 of 0 or 1

_BALANCE_COLUMNS = [
    "mean_treated_before",
    "mean_control_before",
    "smd_before",
    "mean_control_after",
    "smd_after",
    "var_ratio_after",
    "ecdf_max_after",
]


@dataclass(frozen=True, eq=False)
class WeightResult:
    """Balancing weights: how they were made, the weights, and the balance they achieve.

    Use :attr:`weights` for the weights, :meth:`weighted_data` for the data with a ``weights``
    column (input to :func:`pipeline.effects.att` with ``cluster=None``), :meth:`balance`
    for the balance table, :meth:`effective_sample_size` and :meth:`summary`.

    Attributes
    ----------
    treatment, covariates:
        Treatment column and the covariates balanced on.
    method:
        ``"ps"`` (inverse probability odds weights) or ``"ebal"`` (entropy balancing).
    estimand:
        Always ``"ATT"``.
    moments:
        Moments balanced exactly by ``"ebal"``: 1 (means) or 2 (also means of the squares of
        the non-binary terms). Always 1 for ``"ps"``, which balances nothing exactly.
    n_treated, n_control:
        Units in the input.
    converged:
        ``"ebal"``: always True (otherwise :func:`weightit` raises). ``"ps"``: False when
        the logistic regression did not converge or some fitted score is numerically 0 or 1
        (separation: the covariates split treated from controls); a RuntimeWarning says so.
    iterations:
        Newton iterations of the entropy balancing dual; None for ``"ps"``.
    terms:
        The terms whose means ``"ebal"`` balanced (dummy-coded, first level dropped, with
        ``"<term>^2"`` for squares), or the terms of the propensity model for ``"ps"``.
    propensity:
        The propensity score (``"ps"``), aligned to the input's index; None for ``"ebal"``.
    """

    treatment: str
    covariates: tuple[str, ...]
    method: str
    estimand: str
    moments: int
    n_treated: int
    n_control: int
    converged: bool
    iterations: int | None
    terms: tuple[str, ...]
    propensity: pd.Series | None = field(repr=False)
    _data: pd.DataFrame = field(repr=False)
    _balance: pd.DataFrame = field(repr=False)

    @property
    def weights(self) -> pd.Series:
        """The weights (treated 1, controls sum to ``n_treated``), indexed like the input."""
        return self._data[WEIGHTS_COLUMN].copy()

    def weighted_data(self) -> pd.DataFrame:
        """The input rows (same index and order) plus a ``weights`` column. A copy."""
        return self._data.copy()

    def balance(self) -> pd.DataFrame:
        """Balance before and after weighting (see :mod:`pipeline.matching.balance`).

        Same columns as the matching balance table, one row per covariate term with
        categorical covariates expanded to every level. The first row, ``distance`` (the
        propensity score), is only present for ``method="ps"``. A copy is returned.
        """
        return self._balance.copy()

    def effective_sample_size(self) -> pd.DataFrame:
        """Kish's effective sample size ``(sum w)^2 / sum w^2`` per group, and the raw counts.

        Returns
        -------
        pandas.DataFrame
            Rows ``unweighted`` and ``weighted``, columns ``control`` and ``treated``.
        """
        w = self._data[WEIGHTS_COLUMN].to_numpy()
        treated = _indicator(self._data, self.treatment)
        kish = [w[g].sum() ** 2 / np.sum(w[g] ** 2) for g in (~treated, treated)]
        return pd.DataFrame(
            [[float(self.n_control), float(self.n_treated)], kish],
            index=pd.Index(["unweighted", "weighted"], name="sample"),
            columns=["control", "treated"],
        )

    def _settings(self) -> list[tuple[str, str]]:
        if self.method == "ps":
            how = "ps: logistic propensity score; controls ps/(1-ps) rescaled to sum to n treated"
            solver = "converged" if self.converged else "NOT converged or separated (see warning)"
        else:
            how = f"ebal: entropy balancing of {'means' if self.moments == 1 else 'means, squares'}"
            solver = f"converged in {self.iterations} Newton iterations"
        return [
            ("method", how),
            ("estimand", self.estimand),
            ("fit", solver),
            ("treatment", self.treatment),
            ("covariates", ", ".join(self.covariates)),
        ]

    def _control_weight_range(self) -> str:
        w = self._data.loc[~_indicator(self._data, self.treatment), WEIGHTS_COLUMN]
        return f"min {w.min():.4g}, median {w.median():.4g}, max {w.max():.4g}"

    def summary(self) -> str:
        """A plain-text report: settings, effective sample sizes, weights and balance."""
        lines = ["Weighting result", "================"]
        lines += [f"{k:<11} {v}" for k, v in self._settings()]
        lines += ["", "Effective sample sizes (Kish)"]
        lines += [self.effective_sample_size().to_string(float_format=lambda v: f"{v:.1f}")]
        lines += ["", f"Control weights: {self._control_weight_range()}", ""]
        lines += [
            "Balance (SMD: difference in means / SD of treated, full sample)",
            self._balance[_BALANCE_COLUMNS].to_string(float_format=lambda v: f"{v:.4f}"),
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        settings = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self._settings()
        )
        ess = self.effective_sample_size().to_html(float_format=lambda v: f"{v:.1f}")
        table = self._balance.to_html(float_format=lambda v: f"{v:.4f}", na_rep="")
        return (
            "<div><strong>Weighting result</strong>"
            f"<table>{settings}</table>"
            f"<p>Effective sample sizes (Kish)</p>{ess}"
            f"<p>Control weights: {html.escape(self._control_weight_range())}</p>"
            "<p>Balance (SMD: difference in means / SD of treated, full sample)</p>"
            f"{table}</div>"
        )


# ---- input checks -------------------------------------------------------------------------
def _indicator(data: pd.DataFrame, treatment: str) -> np.ndarray:
    """Boolean treatment vector; ValueError unless the column is boolean or 0/1."""
    values = data[treatment]
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=bool)
    if not pd.api.types.is_numeric_dtype(values.dtype) or not values.isin([0, 1]).all():
        found = sorted(values.unique().tolist(), key=str)[:5]
        raise ValueError(f"treatment column {treatment!r} must be boolean or 0/1, found {found}")
    return values.to_numpy() == 1


def _is_integer(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_options(method: str, estimand: str, moments: int, max_iter: int, tol: float) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if estimand not in ESTIMANDS:
        raise ValueError(f"estimand must be one of {list(ESTIMANDS)}, got {estimand!r}")
    if not (_is_integer(moments) and moments in MOMENTS):
        raise ValueError(f"moments must be one of {list(MOMENTS)}, got {moments!r}")
    if method == "ps" and moments != 1:
        raise ValueError("moments=2 only applies to method='ebal'")
    if not (_is_integer(max_iter) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")


def _check_data(data: pd.DataFrame, treatment: str, covariates: tuple[str, ...]) -> np.ndarray:
    """Validate the columns and return the boolean treatment vector."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if len(covariates) == 0:
        raise ValueError("covariates must name at least one column")
    if treatment in covariates:
        raise ValueError(f"treatment column {treatment!r} cannot also be a covariate")
    if WEIGHTS_COLUMN in data.columns:
        raise ValueError(
            f"data already has a {WEIGHTS_COLUMN!r} column, which weighted_data() would "
            "overwrite; rename or drop it first"
        )
    check_columns(data, [treatment], "treatment")
    check_columns(data, list(covariates), "covariate")
    treated = _indicator(data, treatment)
    if treated.all():
        raise ValueError(f"no control units: treatment column {treatment!r} is 1 in every row")
    if not treated.any():
        raise ValueError(f"no treated units: treatment column {treatment!r} is 0 in every row")
    constant = [c for c in covariates if data[c].nunique() == 1]
    if constant:
        raise ValueError(f"covariate(s) {constant} are constant; drop them")
    return treated


def _design(data: pd.DataFrame, covariates: tuple[str, ...], moments: int) -> pd.DataFrame:
    """Dummy-coded terms (first level dropped), plus squares of non-binary terms if moments=2."""
    terms = covariate_terms(data, list(covariates), drop_first=True)
    infinite = [name for name in terms.columns if not np.isfinite(terms[name]).all()]
    if infinite:
        raise ValueError(f"covariate term(s) {infinite} have infinite values")
    if moments == 2:
        squares = {
            f"{name}^2": terms[name] ** 2
            for name in terms.columns
            if not terms[name].isin([0.0, 1.0]).all()
        }
        terms = terms.assign(**squares)
    _check_collinearity(terms)
    return terms


def _check_collinearity(terms: pd.DataFrame) -> None:
    """ValueError naming the first term that is a linear combination of a constant and others."""
    z = terms.to_numpy(dtype=float)
    z = z - z.mean(axis=0)
    scale = np.sqrt((z**2).mean(axis=0))
    constant = [name for name, s in zip(terms.columns, scale, strict=True) if s == 0]
    if constant:
        raise ValueError(f"covariate term(s) {constant} are constant; use moments=1 or drop them")
    z = z / scale
    kept: list[int] = []
    for j in range(z.shape[1]):
        if np.linalg.matrix_rank(z[:, [*kept, j]]) == len(kept) + 1:
            kept.append(j)
            continue
        coef = np.linalg.lstsq(z[:, kept], z[:, j], rcond=None)[0]
        others = [terms.columns[k] for k, c in zip(kept, coef, strict=True) if abs(c) > 1e-8]
        raise ValueError(
            f"covariates are perfectly collinear: term {terms.columns[j]!r} is a linear "
            f"combination of {others} and a constant; drop one of them"
        )


# ---- the two methods ----------------------------------------------------------------------
def _odds_weights(
    data: pd.DataFrame, treated: np.ndarray, covariates: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Control odds weights ps/(1-ps) scaled to sum to n treated; the score; convergence.

    Convergence fails when the logistic regression warns that it did not converge, or when
    some fitted score is numerically 0 or 1 (|logit| above ``SEPARATION_LOGIT``): then the
    covariates (nearly) separate the groups, the maximum likelihood estimate does not exist,
    and the weights rest on very few controls. Both cases are passed on as RuntimeWarnings.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_propensity(data, treated.astype(float), list(covariates))
    for category, message in dict.fromkeys((w.category, str(w.message)) for w in caught):
        warnings.warn(message, category, stacklevel=3)  # each distinct warning once
    not_converged = any("did not converge" in str(w.message) for w in caught)
    separated = int(np.sum(np.abs(fit.linear) > SEPARATION_LOGIT))
    if separated:
        warnings.warn(
            f"{separated} propensity score(s) are numerically 0 or 1 (|logit| > "
            f"{SEPARATION_LOGIT:g}): the covariates (nearly) separate treated and controls, so "
            "the weights rest on very few controls (see effective_sample_size())",
            RuntimeWarning,
            stacklevel=3,
        )
    odds = np.exp(fit.linear[~treated])  # = ps / (1 - ps), finite where ps rounds to 1
    if not np.isfinite(odds).all():
        raise ValueError(
            "some control has a propensity score of 1 (odds overflow): the covariates separate "
            "treated from controls; inverse probability weights cannot be formed"
        )
    weights = np.ones(len(data))
    weights[~treated] = odds * treated.sum() / odds.sum()
    return weights, fit.score, not (not_converged or separated)


def _log_softmax(eta: np.ndarray) -> tuple[np.ndarray, float]:
    """Normalised probabilities ``exp(eta) / sum exp(eta)`` and ``log sum exp(eta)``."""
    top = eta.max()
    e = np.exp(eta - top)
    total = e.sum()
    return e / total, float(top + np.log(total))


def _line_search(
    z: np.ndarray, lam: np.ndarray, step: np.ndarray, objective: float, gradient: np.ndarray
) -> tuple[float, np.ndarray, float] | None:
    """Backtrack from a full Newton step until the objective decreases enough (Armijo).

    Close to the solution the predicted decrease falls below the rounding error of the
    objective; a step is then also accepted if it does not raise the objective beyond that
    rounding error and it shrinks the imbalance. Returns (step size, weights, objective), or
    None when no step size above 1e-12 is acceptable.
    """
    slope = float(gradient @ step)
    rounding = 8 * np.finfo(float).eps * (1.0 + abs(objective))
    gap = np.abs(gradient).max()
    size = 1.0
    while size > 1e-12:
        w, value = _log_softmax(z @ (lam + size * step))
        if value <= objective + 1e-4 * size * slope or (
            value <= objective + rounding and np.abs(w @ z).max() < gap
        ):
            return size, w, value
        size /= 2
    return None


def _newton_dual(z: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, int, float]:
    """Minimise ``log sum_i exp(lambda' z_i)``; the weights are the softmax of ``z lambda``.

    The gradient is the weighted mean of ``z`` (zero at the solution: exact balance) and the
    Hessian its weighted covariance. Steps come from a least-squares solve (so terms collinear
    among the controls do not stop it) and a backtracking line search. Returns the normalised
    weights, the Newton iterations used and the final max |gradient| (the imbalance).
    """
    lam = np.zeros(z.shape[1])
    w, objective = _log_softmax(z @ lam)
    for iteration in range(max_iter + 1):
        gradient = w @ z
        gap = float(np.abs(gradient).max())
        if gap <= tol or iteration == max_iter:
            break
        hessian = (z * w[:, None]).T @ z - np.outer(gradient, gradient)
        step = -np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        accepted = _line_search(z, lam, step, objective, gradient)
        if accepted is None:
            break  # no descent along the Newton direction: the dual has no finite minimum
        size, w, objective = accepted
        lam = lam + size * step
    return w, iteration, gap


def _check_overlap(x_control: np.ndarray, target: np.ndarray, names: list[str]) -> None:
    """ValueError for a term whose treated mean is not strictly inside the controls' range."""
    low, high = x_control.min(axis=0), x_control.max(axis=0)
    for name, m, lo, hi in zip(names, target, low, high, strict=True):
        if not lo < m < hi:
            raise ValueError(
                f"entropy balancing is impossible: the treated mean of {name!r} ({m:.6g}) is "
                f"not strictly inside the controls' range [{lo:.6g}, {hi:.6g}] (no overlap); "
                "drop or coarsen the covariate, or restrict the sample to common support"
            )


def _entropy_weights(
    terms: pd.DataFrame, treated: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, int]:
    """Entropy balancing weights (treated 1, controls sum to n treated) and Newton iterations."""
    x = terms.to_numpy(dtype=float)
    target = x[treated].mean(axis=0)
    x_control = x[~treated]
    _check_overlap(x_control, target, list(terms.columns))
    z = (x_control - target) / x_control.std(axis=0)
    w, iterations, gap = _newton_dual(z, tol, max_iter)
    if gap > tol:
        worst = terms.columns[int(np.argmax(np.abs(w @ z)))]
        raise ValueError(
            f"entropy balancing did not reach balance after {iterations} Newton iterations: "
            f"the weighted control mean of {worst!r} still differs from the treated mean by "
            f"{gap:.3g} control SD (tolerance {tol:g}). The treated means are probably "
            "outside the convex hull of the controls (limited overlap): use fewer covariate "
            "terms (moments=1, coarser categories) or restrict the sample"
        )
    weights = np.ones(len(treated))
    weights[~treated] = w * treated.sum()
    return weights, iterations


def _balance(
    data: pd.DataFrame,
    covariates: tuple[str, ...],
    treated: np.ndarray,
    weights: np.ndarray,
    propensity: pd.Series | None,
) -> pd.DataFrame:
    """The matching balance table; without a propensity score the ``distance`` row is left out."""
    terms = covariate_terms(data, list(covariates), drop_first=False)
    score = np.zeros(len(data)) if propensity is None else propensity.to_numpy()
    table = balance_table(terms, treated, weights, score)
    return table if propensity is not None else table.drop(index="distance")


# ---- entry point --------------------------------------------------------------------------
def weightit(
    data: pd.DataFrame,
    treatment: str,
    covariates: list[str],
    *,
    method: str = "ps",
    estimand: str = "ATT",
    moments: int = 1,
    max_iter: int = 200,
    tol: float = 1e-10,
) -> WeightResult:
    """Weights that make the controls resemble the treated (estimand ATT), as R's WeightIt.

    Parameters
    ----------
    data:
        One row per unit. Treatment and covariates must have no missing values (a ValueError
        names the column). A column named ``weights`` is refused, since
        :meth:`WeightResult.weighted_data` adds it.
    treatment:
        Column holding the treatment indicator (boolean or 0/1).
    covariates:
        Columns to balance on. Object, string and category columns are dummy-coded (first
        level dropped, as in the propensity model); constant covariates and perfectly
        collinear terms raise a ValueError naming them.
    method:
        ``"ps"``: controls get their propensity odds ``ps / (1 - ps)`` from a logistic
        regression (:func:`~pipeline.matching.propensity.fit_propensity`). ``"ebal"``:
        entropy balancing, exact equality of the weighted control means and the treated
        means of every term.
    estimand:
        Only ``"ATT"``: treated units keep weight 1.
    moments:
        ``"ebal"`` only: 1 balances means; 2 also the means of the squares of non-binary
        terms (so their variances too).
    max_iter:
        ``"ebal"`` only: maximum number of Newton iterations.
    tol:
        ``"ebal"`` only: convergence when every weighted control mean is within ``tol``
        control standard deviations of the treated mean.

    Returns
    -------
    WeightResult

    Raises
    ------
    ValueError
        For bad input (see above), and for ``"ebal"`` whenever exact balance cannot be
        reached (a treated mean outside the controls' range, or no convergence), so
        unbalanced weights are never returned.

    Notes
    -----
    **Normalisation.** Control weights are rescaled to sum to the number of treated units.
    For ``"ps"`` they are therefore WeightIt's ATT weights (``ps / (1 - ps)``, unnormalised)
    times the constant ``n_treated / sum(ps / (1 - ps))`` over the controls. Entropy
    balancing weights are unique up to such a constant, so other implementations (R's
    ``ebal``, ``WeightIt(method = "ebal")``) give these weights times a constant. Weighted
    means, the ATT and its robust (HC) standard error from :func:`pipeline.effects.att`,
    balance statistics and effective sample sizes do not depend on this scale.

    Standard errors from :func:`pipeline.effects.att` treat the weights as fixed (they ignore
    that the weights were estimated).
    """
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    _check_options(method, estimand, moments, max_iter, tol)
    treated = _check_data(data, treatment, covariates)
    terms = _design(data, covariates, moments)
    if method == "ps":
        weights, score, converged = _odds_weights(data, treated, covariates)
        iterations, propensity = None, pd.Series(score, index=data.index, name="propensity")
    else:
        weights, iterations = _entropy_weights(terms, treated, tol, max_iter)
        converged, propensity = True, None
    return WeightResult(
        treatment=treatment,
        covariates=covariates,
        method=method,
        estimand=estimand,
        moments=moments,
        n_treated=int(treated.sum()),
        n_control=int((~treated).sum()),
        converged=converged,
        iterations=iterations,
        terms=tuple(terms.columns),
        propensity=propensity,
        _data=data.assign(**{WEIGHTS_COLUMN: weights}),
        _balance=_balance(data, covariates, treated, weights, propensity),
    )
