"""Results object of an effect estimator (numbers only; the report layer formats them)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from .inference import interval

if TYPE_CHECKING:
    from .config import ATTConfig

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
        Treated and control units that entered the estimate with positive weight (for
        ``"abadie_imbens"``: the distinct controls used as matches).
    method:
        Estimator name, e.g. ``"matched_difference"``.
    outcome:
        Outcome column.
    confidence_level:
        Coverage of the interval, e.g. 0.95.
    cov_type:
        ``"cluster"`` (CR1 on ``cluster``), ``"HC1"``, ``"abadie_imbens"`` or ``"sandwich"``
        (M-estimation).
    cluster:
        Column clustered on, or None.
    n_clusters:
        Number of clusters, or None.
    df:
        Degrees of freedom of the t reference distribution of the interval and p-value
        (clusters - 1 with clustering, observations - coefficients with HC1), or None when
        they use the standard normal distribution (``"abadie_imbens"``, ``"ipw"``,
        ``"aipw"``).
    mean_treated, mean_control:
        (Weighted) mean outcome of the treated, and the estimated mean outcome the treated
        would have had without treatment; their difference is ``estimate``. For
        ``"matched_difference"`` the latter is the weighted mean of the matched controls.
    estimand:
        ``"ATT"``.
    se_method:
        The standard error in words, e.g. ``"cluster-robust CR1 on 'subclass' (99
        clusters)"``.
    config:
        The configuration the estimate was made with (method, covariates and options).
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
    estimand: str = "ATT"
    se_method: str | None = None
    config: ATTConfig | None = None

    def conf_int(self, level: float | None = None) -> tuple[float, float]:
        """Confidence interval.

        Parameters
        ----------
        level : float, optional
            Coverage; default :attr:`confidence_level` (the stored ``ci_low, ci_high``).

        Returns
        -------
        tuple of float
            ``(low, high)``, from the t distribution with :attr:`df` degrees of freedom, or the
            standard normal when ``df`` is None.
        """
        if level is None or level == self.confidence_level:
            return (self.ci_low, self.ci_high)
        if not 0 < level < 1:
            raise ValueError(f"level must be between 0 and 1, got {level!r}")
        low, high, _ = interval(self.estimate, self.std_error, level, self.df)
        return (low, high)

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

    def _option_rows(self) -> list[tuple[str, str]]:
        if self.config is None:
            return []
        rows = []
        for name, value in self.config.options().items():
            if name == "covariates":
                rows.append(("covariates", ", ".join(value) if value else "none"))
            elif name not in ("weights", "cluster"):  # those two show in the SE row
                rows.append((name.replace("_", " "), str(value)))
        return rows

    def _rows(self) -> list[tuple[str, str]]:
        se_label = self.se_method or self.cov_type
        level = f"{100 * self.confidence_level:g}%"
        reference = "normal" if self.df is None else f"t, df={self.df:g}"
        return [
            ("outcome", self.outcome),
            ("estimator", self.method),
            ("estimand", self.estimand),
            *self._option_rows(),
            ("estimate", f"{self.estimate:.6g}"),
            ("std. error", f"{self.std_error:.6g} ({se_label})"),
            (f"{level} CI", f"[{self.ci_low:.6g}, {self.ci_high:.6g}] ({reference})"),
            ("p-value", f"{self.p_value:.4g}"),
            ("n treated", str(self.n_treated)),
            ("n control", str(self.n_control)),
        ]

    def summary(self) -> str:
        """Plain-text summary of the estimate."""
        return "\n".join(
            ["Effect estimate", "==============="] + [f"{k:<16} {v}" for k, v in self._rows()]
        )

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self._rows()
        )
        return f"<div><strong>Effect estimate</strong><table>{rows}</table></div>"
