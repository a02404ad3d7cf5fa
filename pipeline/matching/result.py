"""The configuration and the result of a matching run (MatchIt's ``matchit`` object)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .balance import balance_table
from .overlap import common_support, overlap_plot, score_histogram

SMD_THRESHOLD = 0.1

METHODS = ("nearest", "cem")
DISTANCES = ("logit", "mahalanobis")
STURGES = "sturges"


def _positive_number(value) -> bool:
    return (
        isinstance(value, (int, float, np.number))
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
        and value > 0
    )


def _named_pairs(value, name: str, covariates: tuple[str, ...]) -> tuple[tuple[str, object], ...]:
    """A mapping (or pairs) ``{covariate: setting}`` as a tuple of pairs, keys checked."""
    pairs = tuple(value.items()) if isinstance(value, Mapping) else tuple(value)
    unknown = [key for key, _ in pairs if key not in covariates]
    if unknown:
        raise ValueError(f"{name} names {unknown}, which are not among the covariates")
    return pairs


def _cutpoint_rule(column: str, rule):
    """Validate one ``cutpoints`` entry; returns it as ``"sturges"``, an int or a float tuple."""
    if isinstance(rule, str) and rule == STURGES:
        return rule
    if isinstance(rule, (int, np.integer)) and not isinstance(rule, bool) and rule >= 1:
        return int(rule)
    if not isinstance(rule, (str, bytes)) and np.ndim(rule) == 1 and len(rule) > 0:
        values = np.asarray(rule, dtype=float)
        if np.isfinite(values).all():
            return tuple(float(v) for v in values)
    raise ValueError(
        f"cutpoints[{column!r}] must be 'sturges', a number of bins (integer >= 1) or a "
        f"non-empty sequence of finite cut points, got {rule!r}"
    )


@dataclass(frozen=True)
class MatchSpec:
    """Everything that determines how a matching was made (validated on construction).

    Attributes
    ----------
    treatment, covariates:
        Treatment column (0/1 or boolean) and the covariates matched on.
    method:
        ``"nearest"``: greedy nearest-neighbour matching. ``"cem"``: coarsened exact matching
        (Iacus, King and Porro 2012), as MatchIt's ``method = "cem"``.
    distance:
        With ``"nearest"``: ``"logit"`` (the default), a propensity score from a logistic
        regression, matched on its logit as MatchIt's ``distance = "glm", link =
        "linear.logit"``, treated units largest score first; or ``"mahalanobis"``, the
        Mahalanobis distance of the covariate terms with the pooled within-group covariance,
        treated units in data order (MatchIt's ``distance = "mahalanobis"``). None with
        ``"cem"``, which uses no distance.
    ratio:
        Controls per treated unit (1:k matching; ``"nearest"`` only).
    replace:
        Whether a control may be matched to more than one treated unit (``"nearest"`` only).
    caliper:
        With ``"logit"``: a number, the caliper in standard deviations of the logit of the
        propensity score over all units (MatchIt ``std.caliper = TRUE``). With
        ``"mahalanobis"``: pairs ``(covariate, width)``, each width in standard deviations of
        that numeric covariate over all units (MatchIt's named calipers); a mapping is accepted
        and stored as pairs. None for no caliper; not allowed with ``"cem"``.
    exact:
        Columns within whose cells matching is restricted (the propensity model and the
        Mahalanobis covariance are still estimated once on the whole sample).
    cutpoints:
        ``"cem"`` only: pairs ``(covariate, rule)`` for numeric covariates, the rule being
        ``"sturges"`` (the default for covariates not listed), a number of equal-width bins
        between the minimum and the maximum, or a sequence of cut points. A mapping is
        accepted and stored as pairs.
    estimand:
        Always ``"ATT"``: controls are found for treated units.
    """

    treatment: str
    covariates: tuple[str, ...]
    method: str = "nearest"
    distance: str | None = None
    ratio: int = 1
    replace: bool = False
    caliper: float | tuple[tuple[str, float], ...] | None = None
    exact: tuple[str, ...] = ()
    cutpoints: tuple[tuple[str, object], ...] = ()
    estimand: str = "ATT"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {self.method!r}")
        if self.estimand != "ATT":
            raise ValueError(f"estimand must be one of ['ATT'], got {self.estimand!r}")
        if len(self.covariates) == 0:
            raise ValueError("covariates must name at least one column")
        if self.treatment in self.covariates:
            raise ValueError(f"treatment column {self.treatment!r} cannot also be a covariate")
        if self.method == "nearest":
            self._check_nearest()
        else:
            self._check_cem()

    def _check_nearest(self) -> None:
        distance = "logit" if self.distance is None else self.distance
        if distance not in DISTANCES:
            raise ValueError(f"distance must be one of {list(DISTANCES)}, got {distance!r}")
        object.__setattr__(self, "distance", distance)
        if isinstance(self.ratio, bool) or not isinstance(self.ratio, (int, np.integer)):
            raise ValueError(f"ratio must be a positive integer, got {self.ratio!r}")
        if self.ratio < 1:
            raise ValueError(f"ratio must be a positive integer, got {self.ratio!r}")
        if not isinstance(self.replace, (bool, np.bool_)):
            raise ValueError(f"replace must be True or False, got {self.replace!r}")
        if self.cutpoints:
            raise ValueError("cutpoints apply only to method='cem'")
        if self.caliper is None:
            return
        if distance == "logit":
            if not _positive_number(self.caliper):
                raise ValueError(
                    f"caliper must be a positive number or None, got {self.caliper!r} (a "
                    "caliper per covariate needs distance='mahalanobis')"
                )
            return
        if _positive_number(self.caliper) or not isinstance(self.caliper, (Mapping, tuple)):
            raise ValueError(
                "with distance='mahalanobis' there is no propensity score to put a caliper on: "
                "give caliper as {covariate: width in SDs of that covariate}, "
                f"got {self.caliper!r}"
            )
        pairs = _named_pairs(self.caliper, "caliper", self.covariates)
        bad = [key for key, width in pairs if not _positive_number(width)]
        if not pairs or bad:
            raise ValueError(f"caliper widths must be positive numbers, got {self.caliper!r}")
        object.__setattr__(self, "caliper", tuple((key, float(w)) for key, w in pairs))

    def _check_cem(self) -> None:
        given = {
            "distance": self.distance is not None,
            "ratio": self.ratio != 1,
            "replace": bool(self.replace),
            "caliper": self.caliper is not None,
        }
        bad = [name for name, is_given in given.items() if is_given]
        if bad:
            raise ValueError(
                f"method='cem' does not use {', '.join(bad)}: it keeps every unit of each "
                "stratum that holds both treated and control units (leave them unset)"
            )
        pairs = _named_pairs(self.cutpoints, "cutpoints", self.covariates)
        object.__setattr__(
            self, "cutpoints", tuple((key, _cutpoint_rule(key, rule)) for key, rule in pairs)
        )


@dataclass(frozen=True, eq=False)
class MatchResult:
    """A matching: how it was made, who was matched, and the balance it achieved.

    Use :meth:`matched_data` for the matched sample (with MatchIt's ``weights``, ``subclass``
    and ``distance`` columns), :meth:`balance` for the balance table, :meth:`summary` for a
    text report and :meth:`love_plot` for a figure.

    Attributes
    ----------
    spec:
        The :class:`MatchSpec` this result was made with.
    caliper_width:
        The caliper on the matching scale, or None. ``distance="logit"``: a number on the logit
        scale, ``caliper * sd(logit ps)``; ``distance="mahalanobis"``: a dict
        ``{covariate: caliper * sd(covariate)}`` in the covariates' own units (sample SDs over
        all units).
    ps_params:
        Coefficients of the propensity score model (None without a propensity score).
    dropped_terms:
        Constant covariate terms left out of the propensity model or the Mahalanobis distance.
    n_treated, n_control:
        Units in the input.
    n_treated_matched, n_control_matched:
        Units in the matched sample (controls counted once however often they were reused).
    n_treated_no_control_cell, n_control_no_treated_cell:
        Units whose exact cell (a combination of the ``exact`` columns) holds no unit of the
        other group; they cannot be matched and are part of the unmatched counts.
    covariance:
        ``distance="mahalanobis"``: the pooled within-group covariance matrix of the covariate
        terms that defines the distance; otherwise None.
    cutpoints:
        ``method="cem"``: for each numeric covariate, the interior cut points used to coarsen
        it (bins are closed on the left: a value on a cut point goes to the higher bin);
        otherwise None.
    score:
        Propensity score of every input unit (index of the input), or None without one.
    """

    spec: MatchSpec
    caliper_width: float | dict[str, float] | None
    ps_params: pd.Series | None
    dropped_terms: tuple[str, ...]
    n_treated: int
    n_control: int
    n_treated_matched: int
    n_control_matched: int
    _matched: pd.DataFrame = field(repr=False)
    _balance: pd.DataFrame = field(repr=False)
    n_treated_no_control_cell: int = 0
    n_control_no_treated_cell: int = 0
    covariance: pd.DataFrame | None = field(default=None, repr=False)
    cutpoints: dict[str, tuple[float, ...]] | None = None
    score: pd.Series | None = field(default=None, repr=False)
    _treated: np.ndarray | None = field(default=None, repr=False)
    _kept: np.ndarray | None = field(default=None, repr=False)  # in the matched sample
    # inputs of the full balance table, computed on first use (its eCDF statistics sort every
    # column, most of the time of a large matching); None once computed
    _balance_inputs: tuple | None = field(default=None, repr=False)

    # --- how it was made (MatchIt-style accessors) -------------------------------------------
    @property
    def method(self) -> str:
        return self.spec.method

    @property
    def distance(self) -> str | None:
        return self.spec.distance

    @property
    def ratio(self) -> int:
        return self.spec.ratio

    @property
    def replace(self) -> bool:
        return self.spec.replace

    @property
    def caliper(self) -> float | dict[str, float] | None:
        caliper = self.spec.caliper
        return dict(caliper) if isinstance(caliper, tuple) else caliper

    @property
    def exact(self) -> tuple[str, ...]:
        return self.spec.exact

    @property
    def estimand(self) -> str:
        return self.spec.estimand

    @property
    def n_treated_unmatched(self) -> int:
        return self.n_treated - self.n_treated_matched

    @property
    def n_control_unmatched(self) -> int:
        return self.n_control - self.n_control_matched

    @property
    def n_unmatched(self) -> int:
        """Treated units left without a match (caliper, empty exact cell or CEM stratum)."""
        return self.n_treated_unmatched

    # --- outputs ------------------------------------------------------------------------------
    def matched_data(self) -> pd.DataFrame:
        """The matched units: the input rows plus ``distance``, ``weights`` and ``subclass``.

        * ``distance``: the propensity score (probability scale; matching used its logit);
          NaN for Mahalanobis and CEM matching, which estimate no score (MatchIt leaves it
          empty).
        * ``weights``: treated units 1. Nearest neighbour: for a control, the sum over the
          matched sets it belongs to of 1 / (number of controls in the set). CEM: for a control
          in stratum s, ``n_treated_s / n_control_s``. Control weights are then rescaled to
          sum to the number of matched controls (MatchIt's convention for both).
        * ``subclass``: nearest neighbour: matched-set id (1, 2, ...; treated units numbered in
          data order). With replacement a control can sit in several sets, so ``subclass`` is
          missing (``<NA>``) for every row, as in MatchIt; cluster on a unit id instead.
          CEM: the stratum (1, 2, ... in order of each stratum's first row).

        Rows keep their original index and order. A copy is returned.
        """
        return self._matched.copy()

    def balance(self) -> pd.DataFrame:
        """Balance table before and after matching (see :mod:`pipeline.matching.balance`).

        With a propensity score the first row, ``distance``, is the score (Mahalanobis and CEM
        matching have none, as in MatchIt); the others are the covariates, with categorical
        covariates expanded to one row per level. A copy is returned.
        """
        return self._full_balance().copy()

    def imbalanced(self, threshold: float = SMD_THRESHOLD) -> list[str]:
        """Covariate terms whose |SMD| after matching exceeds ``threshold``."""
        table = self._balance.drop(index="distance", errors="ignore")
        smd = table["smd_after"].abs()
        return list(smd.index[smd > threshold])

    def sample_sizes(self, by: pd.Series | None = None) -> pd.DataFrame:
        """Counts of treated and control units, overall or by group.

        Parameters
        ----------
        by : Series, optional
            A characteristic of every input unit (same index and order as the data given to
            :func:`~pipeline.matching.match`), e.g. ``data["cohort"]``.

        Returns
        -------
        DataFrame
            Without ``by``: rows ``all``, ``matched``, ``unmatched`` and
            ``no_counterpart_in_cell``, the part of the unmatched units whose exact cell
            holds no unit of the other group (0 without ``exact``); columns ``control`` and
            ``treated``. With ``by``: one row per value, columns ``treated``,
            ``treated_matched``, ``treated_unmatched``, ``control``, ``control_matched`` and
            ``unmatched_reason``: ``"no eligible comparison"`` where the group has treated
            units but no control at all, ``"no comparison close enough"`` where some treated
            units found none within the caliper (or exact cell), else empty.
        """
        if by is not None:
            return self._sample_sizes_by(by)
        return pd.DataFrame(
            {
                "control": [
                    self.n_control,
                    self.n_control_matched,
                    self.n_control_unmatched,
                    self.n_control_no_treated_cell,
                ],
                "treated": [
                    self.n_treated,
                    self.n_treated_matched,
                    self.n_treated_unmatched,
                    self.n_treated_no_control_cell,
                ],
            },
            index=pd.Index(
                ["all", "matched", "unmatched", "no_counterpart_in_cell"], name="sample"
            ),
        )

    def _sample_sizes_by(self, by: pd.Series) -> pd.DataFrame:
        if self._treated is None or self._kept is None or len(by) != len(self._treated):
            raise ValueError(
                f"by must hold one value per input unit ({len(by)} values given for "
                f"{self.n_treated + self.n_control} units)"
            )
        treated = pd.Series(self._treated, index=by.index)
        in_sample = pd.Series(self._kept, index=by.index)
        counts = pd.DataFrame({
            "treated": treated, "treated_matched": treated & in_sample,
            "control": ~treated, "control_matched": ~treated & in_sample,
        }).groupby(by.rename(by.name or "group"), sort=True, observed=True).sum()
        counts.insert(2, "treated_unmatched", counts["treated"] - counts["treated_matched"])
        reason = np.where(
            (counts["treated"] > 0) & (counts["control"] == 0), "no eligible comparison",
            np.where(counts["treated_unmatched"] > 0, "no comparison close enough", ""),
        )
        return counts.astype("int64").assign(unmatched_reason=reason)

    def _caliper_text(self) -> str:
        s = self.spec
        if s.caliper is None:
            return "none"
        if s.distance == "logit":
            return f"{s.caliper:g} SD of logit(ps) = {self.caliper_width:.4g} on the logit scale"
        return "; ".join(
            f"{name}: {sd:g} SD = {self.caliper_width[name]:.4g}" for name, sd in s.caliper
        )

    def _cutpoints_text(self) -> str:
        rules = dict(self.spec.cutpoints)
        parts = []
        for name, breaks in self.cutpoints.items():
            rule = rules.get(name, STURGES)
            how = "given cut points" if isinstance(rule, tuple) else rule
            parts.append(f"{name}: {len(breaks) + 1} bins ({how})")
        return "; ".join(parts) if parts else "none (no numeric covariate)"

    def _settings(self) -> list[tuple[str, str]]:
        s = self.spec
        if s.method == "cem":
            rows = [
                ("method", "cem (coarsened exact matching; strata with both groups kept)"),
                ("distance", "none"),
                ("estimand", s.estimand),
                ("cutpoints", self._cutpoints_text()),
            ]
        else:
            order = {
                "logit": "largest propensity score first",
                "mahalanobis": "treated units in data order",
            }[s.distance]
            distance = {
                "logit": "logit (propensity score; matched on its logit)",
                "mahalanobis": "mahalanobis (pooled within-group covariance of the covariates)",
            }[s.distance]
            rows = [
                ("method", f"nearest (greedy, {order})"),
                ("distance", distance),
                ("estimand", s.estimand),
                ("ratio", f"1:{s.ratio}"),
                ("replace", str(s.replace)),
                ("caliper", self._caliper_text()),
            ]
        return rows + [
            ("exact", ", ".join(s.exact) if s.exact else "none"),
            ("treatment", s.treatment),
            ("covariates", ", ".join(s.covariates)),
        ]

    def summary(self) -> str:
        """A plain-text report: settings, sample sizes and the balance table."""
        lines = ["Matching result", "==============="]
        lines += [f"{k:<11} {v}" for k, v in self._settings()]
        if self.dropped_terms:
            lines.append(f"dropped     {', '.join(self.dropped_terms)} (constant)")
        lines += ["", "Sample sizes", self.sample_sizes().to_string(), ""]
        cols = [
            "mean_treated_before",
            "mean_control_before",
            "smd_before",
            "mean_treated_after",
            "mean_control_after",
            "smd_after",
            "var_ratio_after",
            "ecdf_max_after",
        ]
        lines += [
            "Balance (SMD: difference in means / SD of treated, full sample)",
            self._full_balance()[cols].to_string(float_format=lambda v: f"{v:.4f}"),
        ]
        bad = self.imbalanced()
        if bad:
            lines += ["", f"|SMD| after matching > {SMD_THRESHOLD}: {', '.join(bad)}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        settings = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self._settings()
        )
        return (
            "<div><strong>Matching result</strong>"
            f"<table>{settings}</table>"
            "<p>Sample sizes</p>"
            f"{self.sample_sizes().to_html()}"
            "<p>Balance (SMD: difference in means / SD of treated, full sample)</p>"
            f"{self._full_balance().to_html(float_format=lambda v: f'{v:.4f}', na_rep='')}"
            "</div>"
        )

    def _full_balance(self) -> pd.DataFrame:
        if self._balance_inputs is not None:
            object.__setattr__(self, "_balance", balance_table(*self._balance_inputs))
            object.__setattr__(self, "_balance_inputs", None)
        return self._balance

    def common_support(self) -> pd.DataFrame:
        """Score range by group and units outside the other group's range, before matching
        (see :func:`pipeline.matching.overlap.common_support`)."""
        if self.score is None:
            raise ValueError("common support needs a propensity score (distance='logit')")
        return common_support(self.score.to_numpy(), self._treated)

    def overlap_plot(self, ax=None):
        """Score histograms: participants, all eligible controls, matched controls."""
        if self.score is None:
            raise ValueError("an overlap plot needs a propensity score (distance='logit')")
        weights = pd.Series(0.0, index=self.score.index)
        weights.loc[self._matched.index] = self._matched["weights"].to_numpy()
        return overlap_plot(self.score.to_numpy(), self._treated, weights.to_numpy(), ax)

    def score_histogram(self, bins: int = 20) -> pd.DataFrame:
        """Units per bin of the logit score: participants, eligible and matched controls
        (see :func:`pipeline.matching.overlap.score_histogram`)."""
        if self.score is None:
            raise ValueError("a score histogram needs a propensity score (distance='logit')")
        weights = np.zeros(len(self.score))
        weights[self._kept] = self._matched["weights"].to_numpy()
        return score_histogram(self.score.to_numpy(), self._treated, weights, bins=bins)

    def love_plot(self, ax=None, *, threshold: float = SMD_THRESHOLD):
        """Absolute standardised mean differences before and after matching, one row per term.

        Returns the matplotlib Axes (a new figure's if ``ax`` is None).
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.3 * len(self._balance) + 1.5))
        table = self._balance.iloc[::-1]
        y = np.arange(len(table))
        ax.scatter(
            table["smd_before"].abs(),
            y,
            marker="o",
            facecolors="none",
            edgecolors="tab:red",
            label="before matching",
        )
        ax.scatter(
            table["smd_after"].abs(), y, marker="o", color="tab:blue", label="after matching"
        )
        ax.axvline(threshold, color="grey", linestyle="--", linewidth=1)
        ax.set_yticks(y)
        ax.set_yticklabels(table.index)
        ax.set_xlabel("absolute standardised mean difference")
        ax.set_xlim(left=0)
        ax.legend(loc="lower right")
        return ax
