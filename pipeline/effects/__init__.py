"""Effect estimators and their results objects (numbers only; formatting lives in report)."""

from .att import METHODS, att
from .config import ATTConfig
from .result import EffectEstimate

__all__ = ["METHODS", "ATTConfig", "EffectEstimate", "att"]
