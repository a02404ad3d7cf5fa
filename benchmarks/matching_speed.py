"""Speed check of ``pipeline.matching.match`` at register scale (not a unit test).

Times propensity-score matching (``distance="logit"``, the logistic regression included) and
Mahalanobis matching on a synthetic sample, 1:1 without replacement, and prints the median of
three runs of each::

    .venv/bin/python -m benchmarks.matching_speed
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
import pandas as pd

from pipeline.matching import BalanceWarning, match

REPEATS = 3


def synthetic_sample(n_treated: int, n_control: int, n_covariates: int, seed: int) -> pd.DataFrame:
    """Normal covariates, treated units shifted by 0.3 SD on each; column ``t`` is treatment."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_treated + n_control, n_covariates))
    x[:n_treated] += 0.3
    data = pd.DataFrame(x, columns=[f"x{j}" for j in range(n_covariates)])
    data["t"] = np.repeat([1, 0], [n_treated, n_control])
    return data


def seconds(data: pd.DataFrame, **options) -> float:
    """Wall time of one ``match(data, "t", <all x columns>, **options)``."""
    covariates = [c for c in data.columns if c != "t"]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BalanceWarning)
        match(data, "t", covariates, **options)
    return time.perf_counter() - start


def bench(
    n_treated: int = 5000, n_control: int = 500000, n_covariates: int = 8, seed: int = 1
) -> dict:
    """Median wall seconds over three runs for each distance.

    Returns
    -------
    dict
        ``{"n_treated", "n_control", "n_covariates", "logit_seconds",
        "mahalanobis_seconds"}``; each time covers the whole ``match()`` call (model or
        covariance, matching, weights and balance table).
    """
    data = synthetic_sample(n_treated, n_control, n_covariates, seed)
    result = {"n_treated": n_treated, "n_control": n_control, "n_covariates": n_covariates}
    for distance in ("logit", "mahalanobis"):
        runs = [seconds(data, distance=distance) for _ in range(REPEATS)]
        result[f"{distance}_seconds"] = statistics.median(runs)
    return result


if __name__ == "__main__":
    for key, value in bench().items():
        print(f"{key:<20} {value:.3f}" if isinstance(value, float) else f"{key:<20} {value}")
