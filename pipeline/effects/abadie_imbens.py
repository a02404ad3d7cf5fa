"""Nearest-neighbour matching with replacement and the Abadie-Imbens (2006) standard error.

Reproduces R's ``Matching::Match(Y, Tr, X, estimand = "ATT", M = ratio, BiasAdjust = FALSE,
Weight = 1 or 2, Var.calc = variance_matches)`` with Match's defaults otherwise
(``replace = TRUE``, ``ties = TRUE``, ``distance.tolerance = 1e-5``, ``sample = FALSE``):

* Covariates are scaled by their standard deviation (``n - 1``). The distance is the squared
  Euclidean distance of the scaled covariates (``metric="inverse_variance"``, Match's
  ``Weight = 1``) or the squared Mahalanobis distance ``d' S^{-1} d`` with ``S`` the covariance
  matrix with divisor ``n`` (``metric="mahalanobis"``, ``Weight = 2``).
* Each treated unit is matched to its ``ratio`` nearest controls, with replacement, plus every
  control whose squared distance is within :data:`TIE_TOLERANCE` of the ``ratio``-th smallest
  (ties are all kept and share the weight equally, Match's ``ties = TRUE``).
* The estimate is the mean over treated units of ``Y_i`` minus the mean outcome of its matches.
* The variance is Abadie and Imbens' (2006) for the population ATT:
  ``[sum_controls sigma2_j (K_j^2 - K'_j) + sum_treated (Y_i - Yhat_i(0) - tau)^2] / N_1^2``,
  where ``K_j`` sums ``1 / #matches`` over the treated units that use control ``j`` and
  ``K'_j`` sums ``1 / #matches^2``. The conditional variance ``sigma2_j`` is the sample variance
  of the outcome over control ``j`` and its ``variance_matches`` nearest other controls (ties
  kept); with ``variance_matches=0`` it is the same for everyone, half the mean squared
  deviation of the matched differences from ``tau`` (homoskedasticity, Match's default).

No bias adjustment is made. Matching on an estimated propensity score (passed as the only
covariate) is allowed, but the standard error then ignores that the score was estimated
(Abadie and Imbens 2016 give the correction).

References
----------
Abadie, A. and Imbens, G. W. (2006). Large sample properties of matching estimators for average
treatment effects. *Econometrica* 74(1), 235-267.

Sekhon, J. S. (2011). Multivariate and propensity score matching software with automated
balance optimization: the Matching package for R. *Journal of Statistical Software* 42(7).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .checks import Sample, check_full_rank, require_group_sizes, with_intercept
from .config import ATTConfig
from .inference import Fit

# Match's distance.tolerance: squared distances this close to the ratio-th nearest are ties
TIE_TOLERANCE = 1e-5


def scaled_covariates(x: np.ndarray, metric: str) -> np.ndarray:
    """Covariates transformed so that squared Euclidean distance is the matching distance.

    Parameters
    ----------
    x : ndarray
        ``n x k`` covariate terms of every unit.
    metric : str
        ``"inverse_variance"`` or ``"mahalanobis"``.

    Returns
    -------
    ndarray
        ``n x k``.
    """
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    if metric == "mahalanobis":
        z = z @ np.linalg.cholesky(np.linalg.inv(z.T @ z / len(z)))
    return z


def tie_sets(tree: cKDTree, points: np.ndarray, k: int) -> list[np.ndarray]:
    """Each point's ``k`` nearest tree points plus every one tied with the ``k``-th.

    A tree point is tied if its squared distance is at most the ``k``-th smallest plus
    :data:`TIE_TOLERANCE`.

    Parameters
    ----------
    tree : cKDTree
        The candidates.
    points : ndarray
        ``q x d`` points to match.
    k : int
        Number of matches, at most the number of candidates.

    Returns
    -------
    list of ndarray
        Indices into ``tree.data``, one array per point.
    """
    distance, _ = tree.query(points, k=k)
    kth = distance.reshape(len(points), k)[:, -1]
    radius = np.sqrt(kth**2 + TIE_TOLERANCE) * (1 + 1e-9) + 1e-12
    sets = []
    for point, found in zip(points, tree.query_ball_point(points, radius), strict=True):
        found = np.asarray(found, dtype=int)
        d2 = np.sum((tree.data[found] - point) ** 2, axis=1)
        sets.append(found[d2 <= np.partition(d2, k - 1)[k - 1] + TIE_TOLERANCE])
    return sets


def _patterns(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows, the distinct row of each point, and how many points share each.

    Units with the same covariates have the same matches, so they are matched once.
    """
    unique, inverse, counts = np.unique(points, axis=0, return_inverse=True, return_counts=True)
    return unique, inverse.ravel(), counts


def _within_variances(tree: cKDTree, y_c: np.ndarray, used: np.ndarray, j: int) -> np.ndarray:
    """Sample variance of the outcome over each used control and its ``j`` nearest other
    controls (ties kept), as R Matching's ``Var.calc = j``.

    The control itself is the nearest point to its own covariates, so its set is its
    ``j + 1`` nearest controls, itself included.
    """
    patterns, pattern_of, _ = _patterns(tree.data[used])
    variances = np.array([np.var(y_c[s], ddof=1) for s in tie_sets(tree, patterns, j + 1)])
    return variances[pattern_of]


def _match_treated(
    tree: cKDTree, z_t: np.ndarray, y_c: np.ndarray, ratio: int
) -> tuple[np.ndarray, ...]:
    """Match every treated unit to its ``ratio`` nearest controls (ties kept).

    Units with the same covariates are matched once, as one pattern; the matches of a treated
    unit share the weight ``1 / #matches``.

    Returns
    -------
    tuple of ndarray
        Per treated unit: the mean outcome of its matches and the (population) variance of
        their outcomes. Per control: ``K``, the sum over the treated units it is matched to of
        ``1 / #matches``, and ``K'``, the sum of ``1 / #matches^2``.
    """
    patterns, pattern_of, n_per_pattern = _patterns(z_t)
    sets = tie_sets(tree, patterns, ratio)
    size = np.array([len(s) for s in sets], dtype=float)
    member = np.concatenate(sets)
    owner = np.repeat(np.arange(len(sets)), size.astype(int))
    set_mean = np.bincount(owner, weights=y_c[member]) / size
    set_var = np.bincount(owner, weights=(y_c[member] - set_mean[owner]) ** 2) / size
    k = np.bincount(member, weights=(n_per_pattern / size)[owner], minlength=len(y_c))
    kk = np.bincount(member, weights=(n_per_pattern / size**2)[owner], minlength=len(y_c))
    return set_mean[pattern_of], set_var[pattern_of], k, kk


def abadie_imbens(sample: Sample, config: ATTConfig) -> Fit:
    """ATT by nearest-neighbour matching with replacement, Abadie-Imbens standard error.

    Parameters
    ----------
    sample : Sample
        Every unit, with the covariate terms to match on.
    config : ATTConfig
        ``ratio``, ``metric`` and ``variance_matches``.

    Returns
    -------
    Fit
        ``n_control`` counts the distinct controls used as matches.
    """
    t, y = sample.t, sample.y
    require_group_sizes(
        t,
        2,
        max(config.ratio, config.variance_matches + 1),
        "method='abadie_imbens' with "
        f"ratio={config.ratio} and variance_matches={config.variance_matches}",
    )
    check_full_rank(with_intercept(sample.terms), "the matching covariates")
    z = scaled_covariates(sample.terms.to_numpy(dtype=float), config.metric)
    treated = t == 1
    y_t, y_c = y[treated], y[~treated]
    tree = cKDTree(z[~treated])
    imputed, spread, k, kk = _match_treated(tree, z[treated], y_c, config.ratio)
    effects = y_t - imputed
    estimate = float(effects.mean())
    n_t = len(y_t)
    if config.variance_matches == 0:
        # half the mean over matched pairs of (Y_i - Y_j - tau)^2, pairs weighted 1 / #matches
        sigma2 = 0.5 * np.sum((effects - estimate) ** 2 + spread) / n_t
        se_method = "Abadie-Imbens (2006), homoskedastic conditional variance"
    else:
        sigma2 = np.zeros(len(y_c))
        used = np.flatnonzero(k > 0)
        sigma2[used] = _within_variances(tree, y_c, used, config.variance_matches)
        se_method = (
            "Abadie-Imbens (2006), conditional variances from "
            f"{config.variance_matches} matches within the controls"
        )
    variance = (np.sum(sigma2 * (k**2 - kk)) + np.sum((effects - estimate) ** 2)) / n_t**2
    mean_treated = float(y_t.mean())
    return Fit(
        estimate=estimate,
        std_error=float(np.sqrt(variance)),
        mean_treated=mean_treated,
        mean_control=mean_treated - estimate,
        n_treated=n_t,
        n_control=int((k > 0).sum()),
        cov_type="abadie_imbens",
        se_method=se_method,
    )
