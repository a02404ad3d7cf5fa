"""Greedy nearest-neighbour matching on a scalar distance, as MatchIt's ``method="nearest"``.

The algorithm reproduces MatchIt's ``nn_matchC_vec`` for a vector distance:

* All units of a cell are put in one order by distance (a stable sort, so equal distances keep
  data order). For a treated unit, its candidate controls are the nearest still-available
  control to its left and the nearest to its right in that order; the closer one wins and on a
  tie the left one (the smaller distance) wins.
* A candidate farther than the caliper width from the treated unit is not used (MatchIt's test
  is ``abs(d_t - d_c) > caliper``, so a control exactly at the caliper width is accepted).
* With ``ratio = k`` matching proceeds in ``k`` rounds: every treated unit gets its first
  control before any gets its second. Within a round treated units are processed in the given
  order (MatchIt's ``m.order = "largest"``: largest distance first).
* Without replacement a control, once used, is unavailable. With replacement each treated unit
  gets its ``k`` nearest distinct controls (MatchIt then ignores ``m.order``; the result does
  not depend on order).

Instead of walking left and right through the sorted units (quadratic in the worst case), the
controls are kept in a sorted array and the nearest available one on each side is found with a
"next available" union-find structure with path compression, so a cell with ``n_t`` treated and
``n_c`` controls costs ``O((n_t + n_c) log n_c)`` plus an almost-linear number of finds.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

NO_MATCH = -1


def _split_points(
    d_t: np.ndarray, pos_t: np.ndarray, d_sorted: np.ndarray, pos_sorted: np.ndarray
) -> np.ndarray:
    """For each treated unit, the number of controls before it in the stable combined order.

    A control precedes a treated unit if its distance is smaller, or equal with an earlier
    position in the data (the stable sort MatchIt uses).
    """
    lo = np.searchsorted(d_sorted, d_t, side="left")
    hi = np.searchsorted(d_sorted, d_t, side="right")
    split = lo.copy()
    for i in np.flatnonzero(hi > lo):  # exact ties between a treated and a control: rare
        split[i] = lo[i] + np.searchsorted(pos_sorted[lo[i] : hi[i]], pos_t[i], side="left")
    return split


class _Prepared(NamedTuple):
    d_t: np.ndarray
    n_t: int
    n_c: int
    width: float
    sort_c: np.ndarray  # control indices by distance, ties by data position
    d_sorted: np.ndarray
    split: np.ndarray


def _prepare(d_t, d_c, pos_t, pos_c, caliper_width) -> _Prepared | None:
    """Sorted controls and each treated unit's split point, or None if a side is empty."""
    d_t = np.asarray(d_t, dtype=float)
    d_c = np.asarray(d_c, dtype=float)
    n_t, n_c = len(d_t), len(d_c)
    if n_t == 0 or n_c == 0:
        return None
    pos_t = np.arange(n_t) if pos_t is None else np.asarray(pos_t)
    pos_c = np.arange(n_t, n_t + n_c) if pos_c is None else np.asarray(pos_c)
    width = np.inf if caliper_width is None else float(caliper_width)
    sort_c = np.lexsort((pos_c, d_c))  # by distance, ties by data position
    d_sorted = d_c[sort_c]
    split = _split_points(d_t, pos_t, d_sorted, pos_c[sort_c])
    return _Prepared(d_t, n_t, n_c, width, sort_c, d_sorted, split)


def greedy_without_replacement(
    d_t: np.ndarray,
    d_c: np.ndarray,
    *,
    ratio: int,
    caliper_width: float | None,
    order: np.ndarray,
    pos_t: np.ndarray | None = None,
    pos_c: np.ndarray | None = None,
) -> np.ndarray:
    """Greedy matching without replacement.

    Parameters
    ----------
    d_t, d_c:
        Distances (here: logit of the propensity score) of treated and control units.
    ratio:
        Number of controls sought for each treated unit (in ``ratio`` rounds).
    caliper_width:
        Largest allowed absolute distance difference, on the scale of ``d_t``; None for none.
    order:
        Indices into ``d_t``: the order in which treated units are processed in each round.
    pos_t, pos_c:
        Positions of the units in the data, used only to break exact distance ties the way a
        stable sort of the whole data would. Default: treated before controls in index order.

    Returns
    -------
    numpy.ndarray
        Integer array of shape ``(len(d_t), ratio)``: indices into ``d_c`` of the controls
        matched to each treated unit, round by round, ``NO_MATCH`` (-1) where none was found.
    """
    matches = np.full((len(d_t), ratio), NO_MATCH, dtype=np.int64)
    prepared = _prepare(d_t, d_c, pos_t, pos_c, caliper_width)
    if prepared is None:
        return matches
    d_t, n_t, n_c, width, sort_c, d_sorted, split = prepared

    # Union-find over sorted control slots. right[j]: smallest available slot >= j (n_c if
    # none); left[j + 1]: largest available slot <= j, plus one (0 if none).
    right = np.arange(n_c + 1)
    left = np.arange(n_c + 1)

    def find(parent: np.ndarray, j: int) -> int:
        root = j
        while parent[root] != root:
            root = parent[root]
        while parent[j] != root:
            parent[j], j = root, parent[j]
        return root

    d_list = d_sorted.tolist()
    for r in range(ratio):
        for i in order.tolist():
            if r > 0 and matches[i, r - 1] == NO_MATCH:
                continue  # no control found in an earlier round: none will be now
            dti = float(d_t[i])
            s = int(split[i])
            kr = find(right, s)
            kl = find(left, s) - 1  # largest available slot <= s - 1
            dr = abs(d_list[kr] - dti) if kr < n_c else np.inf
            dl = abs(d_list[kl] - dti) if kl >= 0 else np.inf
            if dl > width:
                dl = np.inf
            if dr > width:
                dr = np.inf
            if dl == np.inf and dr == np.inf:
                continue
            k = kl if dl <= dr else kr
            matches[i, r] = sort_c[k]
            right[k] = k + 1
            left[k + 1] = k
    return matches


def nearest_with_replacement(
    d_t: np.ndarray,
    d_c: np.ndarray,
    *,
    ratio: int,
    caliper_width: float | None,
    pos_t: np.ndarray | None = None,
    pos_c: np.ndarray | None = None,
) -> np.ndarray:
    """Each treated unit's ``ratio`` nearest distinct controls (controls may be reused).

    Same tie rules and return value as :func:`greedy_without_replacement`; vectorised over
    treated units with a ``ratio``-step merge of the left and right neighbours.
    """
    matches = np.full((len(d_t), ratio), NO_MATCH, dtype=np.int64)
    prepared = _prepare(d_t, d_c, pos_t, pos_c, caliper_width)
    if prepared is None:
        return matches
    d_t, n_t, n_c, width, sort_c, d_sorted, split = prepared
    kl = split - 1
    kr = split.copy()
    for r in range(ratio):
        dl = np.where(kl >= 0, np.abs(d_sorted[np.clip(kl, 0, n_c - 1)] - d_t), np.inf)
        dr = np.where(kr < n_c, np.abs(d_sorted[np.clip(kr, 0, n_c - 1)] - d_t), np.inf)
        dl[dl > width] = np.inf
        dr[dr > width] = np.inf
        take_left = (dl <= dr) & np.isfinite(dl)
        take_right = ~take_left & np.isfinite(dr)
        matches[take_left, r] = sort_c[kl[take_left]]
        matches[take_right, r] = sort_c[kr[take_right]]
        kl = np.where(take_left, kl - 1, kl)
        kr = np.where(take_right, kr + 1, kr)
    return matches
