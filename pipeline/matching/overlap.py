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


def score_histogram(score: np.ndarray, treated: np.ndarray, weights: np.ndarray | None = None,
                    *, bins: int = 20) -> pd.DataFrame:
    """Counts of units per bin of the logit of the score, by group: a table to publish.

    The bins are equally wide on the logit scale (the scale matching uses; on the probability
    scale a rare treatment puts almost everyone in the first bin) and span every unit's score.
    Only counts are returned, so a report can suppress small bins before drawing them.

    Parameters
    ----------
    score : array
        Propensity scores in (0, 1).
    treated : array of bool
        Treatment indicator.
    weights : array, optional
        Matching weights; adds the group ``"matched_control"`` (controls with positive weight,
        counted once each, and their summed ``weight``).
    bins : int
        Number of bins.

    Returns
    -------
    DataFrame
        ``group`` (``"treated"``, ``"control"``, then ``"matched_control"``), ``bin``
        (0, 1, ...), ``logit_low``, ``logit_high``, ``n`` and ``weight`` (the sum of weights:
        ``n`` for the unweighted groups); every bin of every group, zeros included.
    """
    score, treated = np.asarray(score, dtype=float), np.asarray(treated, dtype=bool)
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    clipped = np.clip(score, 1e-12, 1 - 1e-12)
    logit = np.log(clipped / (1 - clipped))
    low, high = float(logit.min()), float(logit.max())
    edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    position = np.clip(np.searchsorted(edges, logit, side="right") - 1, 0, bins - 1)
    groups = {"treated": (treated, np.ones(len(score))),
              "control": (~treated, np.ones(len(score)))}
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        groups["matched_control"] = (~treated & (w > 0), w)
    frames = []
    for name, (members, w) in groups.items():
        frames.append(pd.DataFrame({
            "group": name, "bin": np.arange(bins),
            "logit_low": edges[:-1], "logit_high": edges[1:],
            "n": np.bincount(position[members], minlength=bins).astype("int64"),
            "weight": np.bincount(position[members], weights=w[members], minlength=bins),
        }))
    return pd.concat(frames, ignore_index=True)
