"""Comparison-group construction and balance diagnostics (works on any DataFrame).

>>> result = match(df, "treated", ["age", "sex"], caliper=0.2, exact=["cohort"])
>>> matched = result.matched_data()   # rows + distance, weights, subclass
>>> result.balance()                  # SMD, variance ratio, eCDF before/after

Besides propensity-score nearest neighbour (the default), ``distance="mahalanobis"`` matches on
the Mahalanobis distance (caliper per covariate, e.g. ``caliper={"age": 0.5}``) and
``method="cem"`` does coarsened exact matching (e.g. ``cutpoints={"age": 5}``), and
:func:`weightit` weights instead of matching (ATT odds weights or entropy balancing).
"""

from .api import BalanceWarning, match
from .balance import balance_table
from .missing import MissingHandling, handle_missing
from .propensity import PropensityFit, fit_propensity
from .result import MatchResult, MatchSpec
from .weighting import WeightResult, weightit

__all__ = [
    "BalanceWarning",
    "MatchResult",
    "MatchSpec",
    "MissingHandling",
    "PropensityFit",
    "WeightResult",
    "balance_table",
    "fit_propensity",
    "handle_missing",
    "match",
    "weightit",
]
