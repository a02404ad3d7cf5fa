"""Results object of an effect estimator (numbers only; the report layer formats them)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

TIDY_COLUMNS = (
    "outcome", "estimator", "estimate", "std_error", "ci_low", "ci_high", "n_t", "n_c",
    "mean_treated", "mean_control",
)


@dataclass(frozen=True)
class EffectEstimate:
    """One estimated average treatment effect on the treated.

    Attributes
    ----------
    estimate, std_error, p_value:
        Point estimate, its standard error and the two-sided p-value for "no effect".
    ci_low, ci_high:
        Confidence interval at ``confidence_level`` (also via :meth:`conf_int`).
    n_treated, n_control:
        Treated and control rows with positive weight that entered the estimate.
    method:
        Estimator name, e.g. ``"matched_difference"``.
    outcome:
        Outcome column.
    confidence_level:
        Coverage of the interval, e.g. 0.95.
    cov_type:
        ``"cluster"`` (CR1 on ``cluster``) or ``"HC1"``.
    cluster:
        Column clustered on, or None.
    n_clusters:
        Number of clusters, or None.
    df:
        Degrees of freedom of the t reference distribution of the interval and p-value
        (clusters - 1 with clustering, observations - 2 with HC1).
    mean_treated, mean_control:
        Weighted mean outcome of the treated and of the controls; their difference is
        ``estimate``.
    """

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treated: int
    n_control: int
    method: str
    outcome: str
    confidence_level: float
    cov_type: str
    cluster: str | None = None
    n_clusters: int | None = None
    df: float | None = None
    mean_treated: float | None = None
    mean_control: float | None = None

    def conf_int(self) -> tuple[float, float]:
        """(low, high) confidence interval at :attr:`confidence_level`."""
        return (self.ci_low, self.ci_high)

    def tidy(self) -> pd.DataFrame:
        """One row: outcome, estimator, estimate, std_error, ci_low, ci_high, n_t, n_c,
        mean_treated, mean_control."""
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "estimator": self.method,
                    "estimate": self.estimate,
                    "std_error": self.std_error,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "n_t": self.n_treated,
                    "n_c": self.n_control,
                    "mean_treated": self.mean_treated,
                    "mean_control": self.mean_control,
                }
            ],
            columns=list(TIDY_COLUMNS),
        )

    def _rows(self) -> list[tuple[str, str]]:
        se_label = self.cov_type
        if self.cluster is not None:
            se_label = f"cluster-robust CR1 on {self.cluster!r} ({self.n_clusters} clusters)"
        level = f"{100 * self.confidence_level:g}%"
        return [
            ("outcome", self.outcome),
            ("estimator", self.method),
            ("estimand", "ATT"),
            ("estimate", f"{self.estimate:.6g}"),
            ("std. error", f"{self.std_error:.6g} ({se_label})"),
            (f"{level} CI", f"[{self.ci_low:.6g}, {self.ci_high:.6g}] (t, df={self.df:g})"),
            ("p-value", f"{self.p_value:.4g}"),
            ("n treated", str(self.n_treated)),
            ("n control", str(self.n_control)),
        ]

    def summary(self) -> str:
        """Plain-text summary of the estimate."""
        return "\n".join(
            ["Effect estimate", "==============="] + [f"{k:<11} {v}" for k, v in self._rows()]
        )

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self._rows()
        )
        return f"<div><strong>Effect estimate</strong><table>{rows}</table></div>"
