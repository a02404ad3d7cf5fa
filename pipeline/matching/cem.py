"""Coarsened exact matching (Iacus, King and Porro 2012), as MatchIt's ``method = "cem"``.

Conventions, following MatchIt 4.x (``cem_matchit()`` and ``get_weights_from_subclass()``):

* **Coarsening.** Numeric covariates are cut into bins; categorical (object, string, category)
  and boolean covariates are kept as they are (R's logical is not numeric either). By default
  the number of bins is Sturges' rule over all units, ``ceiling(log2(n) + 1)``
  (``grDevices::nclass.Sturges``, MatchIt's default ``cutpoints = "sturges"``). A number of bins
  ``b`` places the cut points evenly between the minimum and the maximum,
  ``min + i * (max - min) / b`` for ``i = 1 .. b - 1`` (R's ``seq(min, max, length = b + 1)``;
  a number counts bins, as in MatchIt, not cut points, as in the cem package). Given cut
  points are used as they are. Bins are closed on the left: a value on a cut point goes to the
  higher bin (R's ``findInterval``, as MatchIt; the cem package puts it in the lower one).
* **Strata.** Every combination of coarsened covariates (and of the ``exact`` columns, which
  MatchIt's CEM ignores; here they stratify like uncoarsened categorical covariates) is a
  stratum. Strata holding both treated and control units are kept, all others dropped.
* **Weights (ATT).** Treated units 1; a control in stratum ``s`` gets ``n_treated_s /
  n_control_s``, and control weights are then scaled to sum to the number of matched
  controls, i.e. multiplied by ``N_control_matched / N_treated_matched``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .propensity import is_categorical
from .result import STURGES


def sturges_bins(n: int) -> int:
    """Number of bins by Sturges' rule, ``ceiling(log2(n) + 1)``."""
    return int(np.ceil(np.log2(n) + 1))


def cut_points(x: np.ndarray, rule) -> np.ndarray:
    """Interior cut points of ``x`` for a rule: ``"sturges"``, a number of bins or cut points."""
    if isinstance(rule, str) and rule == STURGES:
        rule = sturges_bins(len(x))
    if isinstance(rule, int):
        lo, hi = float(x.min()), float(x.max())
        return lo + np.arange(1, rule) * ((hi - lo) / rule)
    return np.unique(np.asarray(rule, dtype=float))


def is_coarsened(series: pd.Series) -> bool:
    """Numeric (not boolean, not categorical) covariates are binned; the rest kept as is."""
    return not (is_categorical(series) or pd.api.types.is_bool_dtype(series.dtype))


def coarsen(
    data: pd.DataFrame, covariates: list[str], cutpoints: Mapping[str, object]
) -> tuple[list[np.ndarray], dict[str, tuple[float, ...]]]:
    """Bin or level codes of each covariate, and the cut points used for the numeric ones.

    Raises
    ------
    ValueError
        If ``cutpoints`` names a covariate that is not numeric.
    """
    codes: list[np.ndarray] = []
    breaks: dict[str, tuple[float, ...]] = {}
    for column in covariates:
        series = data[column]
        if not is_coarsened(series):
            if column in cutpoints:
                raise ValueError(
                    f"cutpoints given for {column!r}, which is not numeric: categorical and "
                    "boolean covariates are matched exactly, level by level"
                )
            codes.append(pd.factorize(series)[0])
            continue
        x = series.to_numpy(dtype=float)
        cuts = cut_points(x, cutpoints.get(column, STURGES))
        codes.append(np.searchsorted(cuts, x, side="right"))
        breaks[column] = tuple(float(c) for c in cuts)
    return codes, breaks


def strata(codes: list[np.ndarray]) -> np.ndarray:
    """Stratum id (0, 1, ... in order of first appearance) of every combination of codes."""
    key = pd.DataFrame(dict(enumerate(codes)))
    return key.groupby(list(key.columns), sort=False).ngroup().to_numpy()


def subclasses(stratum: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Subclass 1, 2, ... for units in strata with both groups (numbered as the strata), else 0.

    Raises
    ------
    ValueError
        If no stratum holds both treated and control units.
    """
    n_t = np.bincount(stratum[treated], minlength=stratum.max() + 1)
    n_c = np.bincount(stratum[~treated], minlength=stratum.max() + 1)
    both = (n_t > 0) & (n_c > 0)
    if not both.any():
        raise ValueError(
            "no stratum holds both treated and control units "
            f"({int(((n_t > 0) & ~both).sum())} strata with treated units only, "
            f"{int(((n_c > 0) & ~both).sum())} with controls only): coarsen more (fewer bins, "
            "e.g. cutpoints={'age': 3}) or match on fewer covariates"
        )
    number = np.cumsum(both) * both
    return number[stratum]


def stratum_weights(subclass: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """ATT weights: treated 1, controls ``n_t_s / n_c_s`` scaled to sum to their number."""
    kept = subclass > 0
    n_t = np.bincount(subclass[kept & treated])
    n_c = np.bincount(subclass[kept & ~treated], minlength=len(n_t))
    weights = np.where(kept & treated, 1.0, 0.0)
    controls = kept & ~treated
    raw = n_t[subclass[controls]] / n_c[subclass[controls]]
    weights[controls] = raw * controls.sum() / raw.sum()
    return weights
