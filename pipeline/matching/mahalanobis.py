"""Greedy nearest-neighbour matching on the Mahalanobis distance (MatchIt ``distance =
"mahalanobis"``, ``method = "nearest"``).

Conventions, following MatchIt 4.x (``transform_covariates()``, ``pooled_cov()``,
``matchit2nearest()`` and ``nn_matchC_mahcovs()``):

* **Terms.** The distance is computed on the covariate terms: numeric and boolean covariates as
  they are, categorical ones dummy-coded with the first level dropped. MatchIt codes every level
  (divided by sqrt 2) and inverts a singular matrix with a generalized inverse; both give the
  same distances. Terms whose range is below sqrt(machine epsilon) are dropped, as in MatchIt.
* **Covariance.** The pooled within-group covariance ``S``: the terms are centred at their
  treated-group or control-group mean and the cross-products summed over both groups divided
  by ``n - 2`` (MatchIt's ``pooled_cov``, after Rubin 1980 and optmatch). It is estimated once
  on the whole sample, also when matching within exact cells.
* **Whitening.** Every unit's terms ``x`` become ``z = x W`` with ``W W' = S^-1``, so the
  Mahalanobis distance ``sqrt((x_i - x_j) S^-1 (x_i - x_j)')`` is the Euclidean distance between
  ``z_i`` and ``z_j``. ``W`` comes from the eigen-decomposition of ``S`` after dividing each term
  by its SD over all units (MatchIt scales first too); eigenvalues below 1e-8 times the largest
  count as zero, which makes ``S^-1`` the Moore-Penrose inverse for a singular ``S`` (MatchIt's
  ``generalized_inverse``) and the ordinary inverse otherwise.
* **Order.** Treated units are processed in data order (MatchIt's default ``m.order = "data"``
  when there is no propensity score). With ``ratio = k`` matching runs in ``k`` rounds; with
  replacement each treated unit gets its ``k`` nearest distinct controls.
* **Ties.** Equally distant controls go to the one earliest in the data (the propensity score
  path's rule). MatchIt's own tie order is a by-product of its search, which walks outwards
  along the first whitened coordinate, and is not reproduced.
* **Caliper.** Only on named numeric covariates: a control is eligible if ``|x_t - x_c| <=
  width`` for every such covariate (MatchIt's ``caliper_covs_okay``).

Search. Units with identical covariate terms form a *pattern*; their whitened rows are computed
once per pattern, so they are exactly equal and exact ties are exact. The controls of a cell
are grouped by pattern (data order within a pattern) and the patterns put in a KD tree
(``scipy.spatial.cKDTree``). For a treated unit the ``k`` nearest patterns are queried; the
nearest available ones are picked by (squared distance, data position). The answer is final
when the last pick is closer than the ``k``-th pattern returned by the tree (so no pattern left
out can be nearer or tie); otherwise ``k`` doubles. Taking a control advances its pattern to
the next member, so used controls are skipped without rebuilding the tree. With a caliper, a
treated unit whose caliper box holds few control patterns has just those searched (every
eligible control is in the box), which keeps tight calipers fast.

The KD tree is efficient for a moderate number of terms (8 standard normal terms, 5,000 treated
and 500,000 controls: a few seconds); its cost grows steeply with the number of continuous,
full-rank dimensions (about tenfold from 8 to 12 on such data). Dummy-coded and integer
covariates cost less, as many units share a pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .nearest import NO_MATCH

RANK_TOLERANCE = 1e-8  # eigenvalues below this times the largest count as zero
NO_VARIANCE = np.sqrt(np.finfo(float).eps)  # terms with a smaller range are dropped
_CLEARLY_CLOSER = 1.0 - 1e-9  # margin against rounding differences with the KD tree
BOX_LIMIT = 4096  # caliper boxes with at most this many control patterns are searched whole
_BOX_RADIUS = 1.0 + 1e-9  # caliper box half-width in widths, with a margin for rounding


@dataclass(frozen=True, eq=False)
class MahalanobisSpace:
    """Covariate terms mapped to a space where Euclidean distance is Mahalanobis distance.

    Attributes
    ----------
    terms:
        Names of the terms used (constant ones removed).
    dropped:
        Names of the constant terms left out.
    covariance:
        Pooled within-group covariance of the terms used.
    patterns:
        For every unit, the id of its pattern (units with identical terms share an id).
    points:
        Whitened terms of each pattern, one row per pattern id.
    """

    terms: tuple[str, ...]
    dropped: tuple[str, ...]
    covariance: np.ndarray
    patterns: np.ndarray
    points: np.ndarray


def pooled_covariance(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Pooled within-group covariance of the columns of ``x`` (divisor ``n - 2``)."""
    centred = np.array(x, dtype=float)
    for group in (treated, ~treated):
        centred[group] -= centred[group].mean(axis=0)
    return centred.T @ centred / (len(centred) - 2)


def whitening_matrix(covariance: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``W`` with ``W W'`` the (generalized) inverse of ``covariance``.

    ``scale`` (the terms' SDs) standardises the matrix before the eigen-decomposition.
    """
    values, vectors = np.linalg.eigh(covariance / np.outer(scale, scale))
    keep = values > RANK_TOLERANCE * values.max()
    return vectors[:, keep] / np.sqrt(values[keep]) / scale[:, None]


def row_patterns(x: np.ndarray) -> np.ndarray:
    """Integer id per row, equal for identical rows, numbered in order of first appearance."""
    codes = np.zeros(len(x), dtype=np.int64)
    for column in np.asarray(x, dtype=float).T:
        column_codes, levels = pd.factorize(column + 0.0)  # + 0.0 turns -0.0 into 0.0
        codes = pd.factorize(codes * len(levels) + column_codes)[0]
        if codes.max() + 1 == len(codes):
            break  # every row is already distinct
    return codes


def mahalanobis_space(terms: pd.DataFrame, treated: np.ndarray) -> MahalanobisSpace:
    """Whiten ``terms`` (one row per unit) with the pooled within-group covariance.

    Raises
    ------
    ValueError
        If every term is constant, or none varies within the treatment groups.
    """
    x_all = terms.to_numpy(dtype=float)
    varies = np.ptp(x_all, axis=0) >= NO_VARIANCE
    names = tuple(terms.columns)
    if not varies.any():
        raise ValueError("every covariate is constant: the Mahalanobis distance is undefined")
    x = x_all[:, varies]
    covariance = pooled_covariance(x, treated)
    if not (np.diag(covariance) > 0).any():
        raise ValueError(
            "no covariate varies within the treated or the control group: the Mahalanobis "
            "distance (pooled within-group covariance) is undefined"
        )
    w = whitening_matrix(covariance, x.std(axis=0, ddof=1))
    patterns = row_patterns(x)
    first_row = np.unique(patterns, return_index=True)[1]
    return MahalanobisSpace(
        terms=tuple(n for n, v in zip(names, varies, strict=True) if v),
        dropped=tuple(n for n, v in zip(names, varies, strict=True) if not v),
        covariance=covariance,
        patterns=patterns,
        points=x[first_row] @ w,
    )


def squared_distances(points: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances from ``z`` to each row of ``points``.

    Summed column by column in a fixed order, so the same two rows always give the same float
    whatever else is in ``points`` (needed for exact ties).
    """
    total = np.zeros(len(points))
    for j in range(points.shape[1]):
        total += (points[:, j] - z[j]) ** 2
    return total


class _CellSearch:
    """Nearest-control search for the treated units of one exact cell.

    Controls are grouped by pattern (data order within a pattern) and the patterns put in a
    KD tree. With a caliper, the patterns inside a treated unit's caliper box are counted
    first (Chebyshev KD tree on caliper-scaled values, with a small margin): none means no
    possible match; at most ``BOX_LIMIT`` means the box itself is searched, since every
    eligible control lies in it; more means the KD tree is searched as without a caliper.
    The exact caliper test is made when controls are picked.

    Parameters
    ----------
    space:
        The whitened sample.
    pos_t, pos_c:
        Data positions of the cell's treated units and controls, each ascending.
    caliper:
        ``(values, widths)``: caliper covariates of all units (n x m) and their widths, or None.
    k:
        Patterns fetched per treated unit up front (one batch query).
    """

    def __init__(self, space: MahalanobisSpace, pos_t, pos_c, caliper, k: int) -> None:
        pattern_c = space.patterns[pos_c]
        self.members = np.argsort(pattern_c, kind="stable")  # local indices, data order inside
        ids, starts = np.unique(pattern_c[self.members], return_index=True)
        self.head = starts  # slot of the next available member of each pattern
        self.end = np.append(starts[1:], len(pos_c))
        self.pattern_of = np.searchsorted(ids, pattern_c)
        self.points = space.points[ids]
        self.size = len(ids)
        self.remaining = len(pos_c)
        self.tree = cKDTree(self.points)
        self.z_t = space.points[space.patterns[pos_t]]
        self.bounds = self.cal_t = self.box_size = None
        on_tree = np.arange(len(pos_t))
        if caliper is not None:
            values, widths = caliper
            self.bounds = (values[pos_c[self.members[starts]]], widths)
            self.cal_t = values[pos_t]
            self.box = cKDTree(self.bounds[0] / widths)
            self.box_size = self.box.query_ball_point(
                self.cal_t / widths, r=_BOX_RADIUS, p=np.inf, return_length=True, workers=-1
            )
            on_tree = np.flatnonzero(self.box_size > BOX_LIMIT)
        self.first = [None] * len(pos_t)
        for i, start in zip(on_tree, self._query(self.z_t[on_tree], k), strict=True):
            self.first[i] = start

    def candidates(self) -> np.ndarray:
        """Treated units (cell indices, in data order) that have any control in reach."""
        if self.box_size is None:
            return np.arange(len(self.z_t))
        return np.flatnonzero(self.box_size > 0)

    def _query(self, z: np.ndarray, k: int) -> list[tuple[np.ndarray, float]]:
        """The ``k`` nearest patterns of each row of ``z`` and the distance of the farthest.

        The distance is infinite when every pattern is returned.
        """
        if k >= self.size:
            return [(np.arange(self.size), np.inf)] * len(z)
        dist, idx = self.tree.query(z, k, workers=-1 if len(z) > 1 else 1)
        return list(zip(idx, dist[:, -1], strict=True))

    def _start(self, i: int) -> tuple[np.ndarray, float]:
        """Patterns to search first for treated unit ``i``, and the distance beyond which
        patterns were left out (infinite: none that could qualify was)."""
        if self.first[i] is not None:
            return self.first[i]
        widths = self.bounds[1]
        box = self.box.query_ball_point(self.cal_t[i] / widths, r=_BOX_RADIUS, p=np.inf)
        return np.asarray(box, dtype=np.int64), np.inf

    def _pick(self, idx: np.ndarray, i: int, need: int):
        """Up to ``need`` available, eligible controls among patterns ``idx``, nearest first."""
        live = self.head[idx] < self.end[idx]
        if self.bounds is not None:
            values, widths = self.bounds
            live &= np.all(np.abs(values[idx] - self.cal_t[i]) <= widths, axis=1)
        idx = idx[live]
        counts = np.minimum(self.end[idx] - self.head[idx], need)
        offsets = np.cumsum(counts) - counts
        slots = np.repeat(self.head[idx] - offsets, counts) + np.arange(counts.sum())
        local = self.members[slots]
        sq = np.repeat(squared_distances(self.points[idx], self.z_t[i]), counts)
        order = np.lexsort((local, sq))[:need]
        return local[order], (sq[order[-1]] if len(order) else np.inf)

    def nearest(self, i: int, need: int) -> np.ndarray:
        """Local indices of the ``need`` controls nearest to treated unit ``i`` that are still
        available and within the caliper (fewer if there are not), nearest first."""
        idx, radius = self._start(i)
        while True:
            chosen, last = self._pick(idx, i, need)
            settled = len(chosen) == need and last < radius**2 * _CLEARLY_CLOSER
            if settled or radius == np.inf:
                return chosen
            idx, radius = self._query(self.z_t[i][None, :], 2 * len(idx))[0]

    def take(self, local: int) -> None:
        """Mark control ``local`` (the next available member of its pattern) as used."""
        self.head[self.pattern_of[local]] += 1
        self.remaining -= 1


def match_cell(
    space: MahalanobisSpace,
    pos_t: np.ndarray,
    pos_c: np.ndarray,
    *,
    ratio: int,
    replace: bool,
    caliper: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Greedy Mahalanobis matching of one exact cell.

    Parameters
    ----------
    space:
        The whitened sample (:func:`mahalanobis_space`).
    pos_t, pos_c:
        Data positions of the cell's treated units and controls, each ascending.
    ratio:
        Controls per treated unit.
    replace:
        Whether controls may be reused.
    caliper:
        ``(values, widths)``: the caliper covariates of all units (n x m array) and the largest
        allowed absolute difference in each (m,), or None.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(pos_t), ratio)``: indices into ``pos_c`` of the controls matched to each
        treated unit, round by round, ``NO_MATCH`` (-1) where none was found.
    """
    matches = np.full((len(pos_t), ratio), NO_MATCH, dtype=np.int64)
    # ratio + 1 patterns are enough for every round unless treated units compete for controls
    search = _CellSearch(space, pos_t, pos_c, caliper, k=ratio + 1)
    candidates = search.candidates()
    if replace:
        for i in candidates:
            found = search.nearest(i, ratio)
            matches[i, : len(found)] = found
        return matches
    for r in range(ratio):
        for i in candidates:
            if search.remaining == 0:
                return matches
            if r > 0 and matches[i, r - 1] == NO_MATCH:
                continue  # no control found in an earlier round: none will be now
            found = search.nearest(i, 1)
            if len(found):
                matches[i, r] = found[0]
                search.take(found[0])
    return matches
