"""The configuration and the result of a matching run (MatchIt's ``matchit`` object)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SMD_THRESHOLD = 0.1

METHODS = ("nearest",)
DISTANCES = ("logit",)


@dataclass(frozen=True)
class MatchSpec:
    """Everything that determines how a matching was made (validated on construction).

    Attributes
    ----------
    treatment, covariates:
        Treatment column (0/1 or boolean) and propensity model covariates.
    method:
        ``"nearest"``: greedy nearest-neighbour matching, treated units processed largest
        propensity score first (MatchIt ``m.order = "largest"``).
    distance:
        ``"logit"``: propensity score from a logistic regression; matching, calipers and
        nearest-neighbour distances are on the logit (linear predictor) scale, as MatchIt's
        ``distance = "glm", link = "linear.logit"``.
    ratio:
        Controls per treated unit (1:k matching).
    replace:
        Whether a control may be matched to more than one treated unit.
    caliper:
        Caliper in standard deviations of the logit of the propensity score over all units
        (MatchIt ``std.caliper = TRUE``); None for no caliper.
    exact:
        Columns within whose cells matching is restricted (the propensity model is still fit
        once on the whole sample).
    estimand:
        Always ``"ATT"``: controls are found for treated units.
    """

    treatment: str
    covariates: tuple[str, ...]
    method: str = "nearest"
    distance: str = "logit"
    ratio: int = 1
    replace: bool = False
    caliper: float | None = None
    exact: tuple[str, ...] = ()
    estimand: str = "ATT"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {self.method!r}")
        if self.distance not in DISTANCES:
            raise ValueError(f"distance must be one of {list(DISTANCES)}, got {self.distance!r}")
        if self.estimand != "ATT":
            raise ValueError(f"estimand must be one of ['ATT'], got {self.estimand!r}")
        if isinstance(self.ratio, bool) or not isinstance(self.ratio, (int, np.integer)):
            raise ValueError(f"ratio must be a positive integer, got {self.ratio!r}")
        if self.ratio < 1:
            raise ValueError(f"ratio must be a positive integer, got {self.ratio!r}")
        if not isinstance(self.replace, (bool, np.bool_)):
            raise ValueError(f"replace must be True or False, got {self.replace!r}")
        if self.caliper is not None and not (
            isinstance(self.caliper, (int, float, np.number))
            and not isinstance(self.caliper, bool)
            and np.isfinite(self.caliper)
            and self.caliper > 0
        ):
            raise ValueError(f"caliper must be a positive number or None, got {self.caliper!r}")
        if len(self.covariates) == 0:
            raise ValueError("covariates must name at least one column")
        if self.treatment in self.covariates:
            raise ValueError(f"treatment column {self.treatment!r} cannot also be a covariate")


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
        The caliper on the logit scale, ``caliper * sd(logit ps)`` (sample SD over all units),
        or None.
    ps_params:
        Coefficients of the propensity score model.
    dropped_terms:
        Constant covariate terms dropped from the propensity model.
    n_treated, n_control:
        Units in the input.
    n_treated_matched, n_control_matched:
        Units in the matched sample (controls counted once however often they were reused).
    """

    spec: MatchSpec
    caliper_width: float | None
    ps_params: pd.Series
    dropped_terms: tuple[str, ...]
    n_treated: int
    n_control: int
    n_treated_matched: int
    n_control_matched: int
    _matched: pd.DataFrame = field(repr=False)
    _balance: pd.DataFrame = field(repr=False)

    # --- how it was made (MatchIt-style accessors) -------------------------------------------
    @property
    def method(self) -> str:
        return self.spec.method

    @property
    def distance(self) -> str:
        return self.spec.distance

    @property
    def ratio(self) -> int:
        return self.spec.ratio

    @property
    def replace(self) -> bool:
        return self.spec.replace

    @property
    def caliper(self) -> float | None:
        return self.spec.caliper

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
        """Treated units left without a match (caliper or empty exact cell)."""
        return self.n_treated_unmatched

    # --- outputs ------------------------------------------------------------------------------
    def matched_data(self) -> pd.DataFrame:
        """The matched units: the input rows plus ``distance``, ``weights`` and ``subclass``.

        * ``distance``: the propensity score (probability scale; matching used its logit).
        * ``weights``: 1 for treated units; for controls the sum over the matched sets they
          belong to of 1 / (number of controls in the set), then rescaled so that control
          weights sum to the number of matched controls (MatchIt's convention).
        * ``subclass``: matched-set id (1, 2, ...; treated units numbered in data order).
          With replacement a control can sit in several sets, so ``subclass`` is missing
          (``<NA>``) for every row, as in MatchIt; cluster on a unit id instead.

        Rows keep their original index and order. A copy is returned.
        """
        return self._matched.copy()

    def balance(self) -> pd.DataFrame:
        """Balance table before and after matching (see :mod:`pipeline.matching.balance`).

        The first row, ``distance``, is the propensity score; the others are the covariates,
        with categorical covariates expanded to one row per level. A copy is returned.
        """
        return self._balance.copy()

    def imbalanced(self, threshold: float = SMD_THRESHOLD) -> list[str]:
        """Covariate terms whose |SMD| after matching exceeds ``threshold``."""
        table = self._balance.drop(index="distance", errors="ignore")
        smd = table["smd_after"].abs()
        return list(smd.index[smd > threshold])

    def sample_sizes(self) -> pd.DataFrame:
        """Counts of treated and control units: all, matched, unmatched."""
        return pd.DataFrame(
            {
                "control": [self.n_control, self.n_control_matched, self.n_control_unmatched],
                "treated": [self.n_treated, self.n_treated_matched, self.n_treated_unmatched],
            },
            index=pd.Index(["all", "matched", "unmatched"], name="sample"),
        )

    def _settings(self) -> list[tuple[str, str]]:
        s = self.spec
        caliper = "none"
        if s.caliper is not None:
            caliper = f"{s.caliper:g} SD of logit(ps) = {self.caliper_width:.4g} on the logit scale"
        return [
            ("method", f"{s.method} (greedy, largest propensity score first)"),
            ("distance", f"{s.distance} (propensity score; matched on its logit)"),
            ("estimand", s.estimand),
            ("ratio", f"1:{s.ratio}"),
            ("replace", str(s.replace)),
            ("caliper", caliper),
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
            self._balance[cols].to_string(float_format=lambda v: f"{v:.4f}"),
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
            f"{self._balance.to_html(float_format=lambda v: f'{v:.4f}', na_rep='')}"
            "</div>"
        )

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
