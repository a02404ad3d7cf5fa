"""Overlap of the propensity score between treated and control units (common support).

A treated unit whose score lies above every control's has no comparable control ("off
support"); a control below every treated unit's score is not needed. Both are counted, before
matching, so an evaluator sees how far the groups overlap, not only how well the matched
sample is balanced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def common_support(score: np.ndarray, treated: np.ndarray) -> pd.DataFrame:
    """Range of the score by group and the units outside the other group's range.

    Parameters
    ----------
    score : array of float
        Propensity score of every unit (probability scale).
    treated : array of bool
        Treatment indicator.

    Returns
    -------
    DataFrame
        Index ``treated``, ``control``; columns ``n``, ``score_min``, ``score_max``,
        ``n_off_support`` (units outside the other group's [min, max]) and
        ``share_off_support``.
    """
    score, treated = np.asarray(score, dtype=float), np.asarray(treated, dtype=bool)
    groups = {"treated": score[treated], "control": score[~treated]}
    rows = {}
    for name, own in groups.items():
        other = groups["control" if name == "treated" else "treated"]
        outside = (own < other.min()) | (own > other.max()) if other.size else np.ones_like(own)
        rows[name] = {
            "n": int(own.size),
            "score_min": float(own.min()) if own.size else np.nan,
            "score_max": float(own.max()) if own.size else np.nan,
            "n_off_support": int(outside.sum()),
            "share_off_support": float(outside.mean()) if own.size else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def overlap_plot(score: np.ndarray, treated: np.ndarray, weights: np.ndarray | None = None,
                 ax=None, *, bins: int = 40):
    """Histograms of the score by group, before matching and (with ``weights``) after.

    Returns the matplotlib Axes (a new figure's if ``ax`` is None).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    score, treated = np.asarray(score, dtype=float), np.asarray(treated, dtype=bool)
    edges = np.linspace(0, max(float(score.max()), 1e-9), bins + 1)
    style = dict(bins=edges, density=True, histtype="step", linewidth=1.5)
    ax.hist(score[treated], color="tab:blue", label="participants", **style)
    ax.hist(score[~treated], color="tab:red", linestyle="--", label="all eligible controls",
            **style)
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        ax.hist(score[~treated], weights=w[~treated], color="tab:red",
                label="matched controls (weighted)", **style)
    ax.set_xlabel("propensity score")
    ax.set_ylabel("density")
    ax.legend(loc="upper right")
    return ax
