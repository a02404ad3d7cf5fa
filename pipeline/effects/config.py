"""The configuration of one ATT estimation, gathered and checked on entry.

:func:`pipeline.effects.att` builds an :class:`ATTConfig` from its arguments before it looks at
the data, so a misspelt method or an option that the chosen method does not use fails at once
with a message that says what is allowed. The finished estimate keeps its configuration
(:attr:`EffectEstimate.config`), so it knows how it was made.
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("matched_difference", "regression", "abadie_imbens", "ipw", "aipw")
MATCHED_SAMPLE_METHODS = ("matched_difference", "regression")
METRICS = ("inverse_variance", "mahalanobis")
NEEDS_COVARIATES = {
    "abadie_imbens": "the matching distance",
    "ipw": "the propensity score model",
    "aipw": "the propensity score and outcome models",
}


class _MethodDefault:
    """Marker for an argument whose default depends on the method."""

    def __repr__(self) -> str:
        return "<method default>"


METHOD_DEFAULT = _MethodDefault()

# options whose "not given" is None (None is not a valid value for them)
_NONE_MEANS_UNSET = ("ratio", "metric", "variance_matches")
DEFAULTS = {
    "matched_difference": {"weights": "weights", "cluster": "subclass"},
    "regression": {"weights": "weights", "cluster": "subclass"},
    "abadie_imbens": {"ratio": 1, "metric": "inverse_variance", "variance_matches": 2},
}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ATTConfig:
    """How an average treatment effect on the treated (ATT) is estimated.

    Attributes
    ----------
    method : str
        One of :data:`METHODS`.
    covariates : tuple of str
        Covariate columns; empty for ``"matched_difference"``, required by
        ``"abadie_imbens"``, ``"ipw"`` and ``"aipw"``, optional for ``"regression"``.
    weights, cluster : str or None
        Matching weights and matched-set columns (``"matched_difference"`` and
        ``"regression"`` only; None for the other methods).
    confidence_level : float
        Coverage of the confidence interval, strictly between 0 and 1.
    ratio : int or None
        Number of matches per treated unit (``"abadie_imbens"`` only).
    metric : str or None
        ``"inverse_variance"`` or ``"mahalanobis"`` (``"abadie_imbens"`` only).
    variance_matches : int or None
        Within-group matches for the conditional variances of the Abadie-Imbens standard
        error; 0 assumes a homoskedastic outcome (``"abadie_imbens"`` only).
    """

    method: str = "matched_difference"
    covariates: tuple[str, ...] = ()
    weights: str | None = None
    cluster: str | None = None
    confidence_level: float = 0.95
    ratio: int | None = None
    metric: str | None = None
    variance_matches: int | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {self.method!r}")
        level = self.confidence_level
        if not (isinstance(level, (int, float)) and not isinstance(level, bool) and 0 < level < 1):
            raise ValueError(f"confidence_level must be between 0 and 1, got {level!r}")
        self._check_covariates()
        self._check_sample_options()
        self._check_matching_options()

    @classmethod
    def build(
        cls,
        method: str,
        covariates: str | list[str] | tuple[str, ...] | None,
        **options: object,
    ) -> ATTConfig:
        """Fill in the method's defaults for the options left unset, then check everything.

        Parameters
        ----------
        method : str
            Estimator name.
        covariates : str, sequence of str or None
            Covariate columns (a single name is taken as a one-element list).
        **options
            ``weights`` and ``cluster`` (:data:`METHOD_DEFAULT` when not given),
            ``confidence_level``, ``ratio``, ``metric`` and ``variance_matches`` (None when
            not given).

        Returns
        -------
        ATTConfig
        """
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
        if covariates is None:
            covariates = ()
        elif isinstance(covariates, str):
            covariates = (covariates,)
        elif not all(isinstance(c, str) for c in covariates):
            raise TypeError(f"covariates must be column names, got {covariates!r}")
        defaults = DEFAULTS.get(method, {})
        resolved = {}
        for name, value in options.items():
            unset = value is METHOD_DEFAULT or (value is None and name in _NONE_MEANS_UNSET)
            resolved[name] = defaults.get(name) if unset else value
        return cls(method=method, covariates=tuple(covariates), **resolved)

    def _check_covariates(self) -> None:
        if len(set(self.covariates)) != len(self.covariates):
            raise ValueError(f"covariates are listed more than once: {list(self.covariates)}")
        if self.method == "matched_difference" and self.covariates:
            raise ValueError(
                "method='matched_difference' takes no covariates; use method='regression' to "
                "adjust the matched comparison for them"
            )
        if self.method in NEEDS_COVARIATES and not self.covariates:
            # matched_difference is the one method that takes no covariates; regression
            # without covariates is the same estimator
            raise ValueError(
                f"method={self.method!r} needs covariates for {NEEDS_COVARIATES[self.method]}; "
                "without covariates method must be one of ['matched_difference'] "
                "(or 'regression', which then gives the same estimate)"
            )

    def _check_sample_options(self) -> None:
        for name in ("weights", "cluster"):
            value = getattr(self, name)
            if self.method in MATCHED_SAMPLE_METHODS:
                if value is not None and not isinstance(value, str):
                    raise TypeError(f"{name} must be a column name or None, got {value!r}")
            elif value is not None:
                raise ValueError(
                    f"{name} applies to methods {list(MATCHED_SAMPLE_METHODS)} (matched data); "
                    f"method={self.method!r} uses every row of the data with equal weight"
                )

    def _check_matching_options(self) -> None:
        names = ("ratio", "metric", "variance_matches")
        if self.method != "abadie_imbens":
            for name in names:
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"{name} applies to method='abadie_imbens' only, not {self.method!r}"
                    )
            return
        if not (_is_int(self.ratio) and self.ratio >= 1):
            raise ValueError(f"ratio must be an integer >= 1, got {self.ratio!r}")
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {list(METRICS)}, got {self.metric!r}")
        if not (_is_int(self.variance_matches) and self.variance_matches >= 0):
            raise ValueError(
                f"variance_matches must be an integer >= 0, got {self.variance_matches!r}"
            )

    def options(self) -> dict[str, object]:
        """The options that shaped this estimate (those the method uses), by name."""
        names = {
            "matched_difference": ("weights", "cluster"),
            "regression": ("covariates", "weights", "cluster"),
            "abadie_imbens": ("covariates", "ratio", "metric", "variance_matches"),
            "ipw": ("covariates",),
            "aipw": ("covariates",),
        }[self.method]
        return {name: getattr(self, name) for name in names}
