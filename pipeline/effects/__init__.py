"""Effect estimators and their results objects (numbers only; formatting lives in report)."""

from .att import att
from .result import EffectEstimate

__all__ = ["EffectEstimate", "att"]
