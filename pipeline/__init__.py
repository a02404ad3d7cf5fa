"""Counterfactual evaluation of labour-market mentorship programmes for migrants."""

__version__ = "0.1.0"
