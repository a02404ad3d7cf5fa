"""Whether the design supports an effect estimate at all, and declining when it does not.

A matched comparison rests on its matched participants. With too few of them, or with most
participants left without a comparable non-participant (off common support or beyond the
caliper), any effect would rest on too few comparisons, and the matched participants would
no longer stand for the programme's participants. The study then declines to estimate:
:func:`design_verdict` says whether and why, :func:`decline` blanks the effects table, and
the report shows the participants' own outcomes instead
(:func:`pipeline.effects.descriptive.descriptive_outcomes`).

The rule (both thresholds from the study configuration, ``estimation.min_participants`` and
``estimation.min_share_matched``)::

    estimable  <=>  n_matched >= min_participants  and  n_matched / n_participants >= min_share

with the reason ``"too_few_participants"`` when there are fewer participants than the minimum
(however many are matched) or fewer matched participants although the share matched is
sufficient, and ``"no_overlap"`` when the share matched is below the minimum.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

REASONS = ("too_few_participants", "no_overlap")
# effects-table columns that carry an effect (or its uncertainty) and are blanked on decline
EFFECT_COLUMNS = ("estimate", "std_error", "ci_low", "ci_high", "p_value", "mde",
                  "mean_treated", "mean_control")
DECLINED = "declined"


@dataclass(frozen=True)
class DesignVerdict:
    """Whether an effect is estimated, with the numbers the decision rests on.

    Attributes
    ----------
    estimable : bool
        True when the design supports an effect estimate.
    reason : {None, "too_few_participants", "no_overlap"}
        Why not (None when estimable).
    n_participants : int
        Participants in the analysis (found in the register and eligible at start).
    n_matched : int
        Participants with at least one matched comparison.
    min_participants : int
        Fewest matched participants an estimate needs.
    min_share_matched : float
        Smallest share of the participants that must be matched.
    share_matched : float
        ``n_matched / n_participants`` (0 without participants).
    """

    estimable: bool
    reason: str | None
    n_participants: int
    n_matched: int
    min_participants: int
    min_share_matched: float
    share_matched: float

    def describe(self) -> dict:
        """The verdict as a plain dict (for manifests and ``report.json``)."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row, the columns of :meth:`describe` (``design_verdict.parquet``)."""
        frame = pd.DataFrame([self.describe()])
        return frame.astype({"reason": "string", "estimable": "bool"})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> DesignVerdict:
        """The verdict written by :meth:`to_frame`.

        Raises
        ------
        ValueError
            If ``frame`` does not hold exactly one row.
        """
        if len(frame) != 1:
            raise ValueError(f"a design verdict is one row, got {len(frame)}")
        row = frame.iloc[0]
        reason = row["reason"]
        return cls(
            estimable=bool(row["estimable"]),
            reason=None if pd.isna(reason) else str(reason),
            n_participants=int(row["n_participants"]),
            n_matched=int(row["n_matched"]),
            min_participants=int(row["min_participants"]),
            min_share_matched=float(row["min_share_matched"]),
            share_matched=float(row["share_matched"]),
        )


def design_verdict(n_participants: int, n_matched: int, min_participants: int,
                   min_share_matched: float) -> DesignVerdict:
    """Decide whether the matched design supports an effect estimate.

    Parameters
    ----------
    n_participants : int
        Participants in the analysis.
    n_matched : int
        Of them, those with at least one matched comparison (at most ``n_participants``).
    min_participants : int
        Fewest matched participants an estimate needs (``estimation.min_participants``).
    min_share_matched : float
        Smallest share of participants that must be matched, between 0 and 1
        (``estimation.min_share_matched``).

    Returns
    -------
    DesignVerdict

    Raises
    ------
    ValueError
        For negative counts, more matched than participants, ``min_participants`` below 1
        or a share outside [0, 1].

    Examples
    --------
    >>> design_verdict(30, 12, 20, 0.5).reason
    'no_overlap'
    >>> design_verdict(8, 8, 20, 0.5).reason
    'too_few_participants'
    >>> design_verdict(120, 100, 20, 0.5).estimable
    True
    """
    _check_inputs(n_participants, n_matched, min_participants, min_share_matched)
    share = n_matched / n_participants if n_participants else 0.0
    reason = _reason(n_participants, n_matched, share, min_participants, min_share_matched)
    return DesignVerdict(estimable=reason is None, reason=reason,
                         n_participants=int(n_participants), n_matched=int(n_matched),
                         min_participants=int(min_participants),
                         min_share_matched=float(min_share_matched), share_matched=float(share))


def _check_inputs(n_participants: int, n_matched: int, min_participants: int,
                  min_share_matched: float) -> None:
    if n_participants < 0 or n_matched < 0:
        raise ValueError(f"counts cannot be negative: {n_participants} participants, "
                         f"{n_matched} matched")
    if n_matched > n_participants:
        raise ValueError(f"{n_matched} matched participants exceed the {n_participants} "
                         f"participants")
    if min_participants < 1:
        raise ValueError(f"min_participants must be at least 1, got {min_participants}")
    if not 0 <= min_share_matched <= 1:
        raise ValueError(f"min_share_matched must lie in [0, 1], got {min_share_matched}")


def _reason(n_participants: int, n_matched: int, share: float, min_participants: int,
            min_share_matched: float) -> str | None:
    """The first rule that fails: too few participants at all, then overlap, then too few
    matched although the share is sufficient."""
    if n_participants < min_participants:
        return "too_few_participants"
    if share < min_share_matched:
        return "no_overlap"
    if n_matched < min_participants:
        return "too_few_participants"
    return None


def decline(effects: pd.DataFrame, verdict: DesignVerdict) -> pd.DataFrame:
    """The effects table as published under ``verdict``.

    When the design is estimable the table is returned unchanged (a copy). Otherwise every
    row gets ``status = "declined"`` and no effect: the estimate, its standard error,
    interval, p-value and minimum detectable effect are NaN, and so are the group means
    (the comparison group's mean is not a counterfactual when the comparison does not hold;
    the participants' own outcomes come from
    :func:`pipeline.effects.descriptive.descriptive_outcomes`). The counts ``n_t`` and
    ``n_c`` are kept.

    Parameters
    ----------
    effects : DataFrame
        A table with the columns of :data:`pipeline.effects.table.COLUMNS` (or a subset:
        placebo and specification tables work too).
    verdict : DesignVerdict
        The design's verdict.

    Returns
    -------
    DataFrame
    """
    out = effects.copy()
    if verdict.estimable:
        return out
    out["status"] = DECLINED
    for column in EFFECT_COLUMNS:
        if column in out.columns:
            out[column] = np.nan
    return out
