"""Effect estimators and their results objects (numbers only; formatting lives in report).

``att`` estimates the ATT (matched difference, regression, Abadie-Imbens, IPW, AIPW);
``dynamics`` the event study and group-time ATTs; ``sensitivity`` Rosenbaum bounds and
E-values; ``table`` gathers every outcome, horizon and subgroup into the effects table.
"""

from .att import METHODS, att
from .config import ATTConfig
from .dynamics import event_study, group_time_att, stacked_group_time_att
from .result import EffectEstimate
from .sensitivity import critical_gamma, e_value, e_value_difference, rosenbaum_bounds

__all__ = [
    "METHODS",
    "ATTConfig",
    "EffectEstimate",
    "att",
    "critical_gamma",
    "e_value",
    "e_value_difference",
    "event_study",
    "group_time_att",
    "stacked_group_time_att",
    "rosenbaum_bounds",
]
