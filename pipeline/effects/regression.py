"""ATT on a matched sample: weighted difference in means, and regression adjustment.

Both are weighted least squares (WLS) of the outcome on an intercept and the treatment
indicator, with the matching weights; ``"regression"`` adds the covariate terms. Standard errors
are cluster-robust (CR1: statsmodels ``cov_type="cluster"``, small-sample factor
``G/(G-1) * (N-1)/(N-K)``) on the matched set when a cluster column is given, else
heteroskedasticity-robust HC1; intervals use the t distribution with ``G - 1`` degrees of
freedom (clustered) or ``N - K`` (HC1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .checks import Sample, check_full_rank, with_intercept
from .config import ATTConfig
from .inference import Fit


def _wls_att(sample: Sample, exog: np.ndarray, config: ATTConfig) -> Fit:
    """WLS slope of the treatment (column 1 of ``exog``) with CR1 or HC1 standard errors."""
    t, y, w = sample.t, sample.y, sample.w
    model = sm.WLS(y, exog, weights=w)
    if sample.groups is not None:
        n_clusters = int(sample.groups.max()) + 1
        if n_clusters < 2:
            raise ValueError(f"cluster column {config.cluster!r} needs at least two clusters")
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": sample.groups}, use_t=True)
        cov_type, df = "cluster", float(n_clusters - 1)
        se_method = f"cluster-robust CR1 on {config.cluster!r} ({n_clusters} clusters)"
    else:
        n_clusters = None
        fit = model.fit(cov_type="HC1", use_t=True)
        cov_type, df, se_method = "HC1", float(fit.df_resid), "HC1"
    treated = t == 1
    mean_treated = float(np.average(y[treated], weights=w[treated]))
    estimate = float(fit.params[1])
    return Fit(
        estimate=estimate,
        std_error=float(fit.bse[1]),
        mean_treated=mean_treated,
        mean_control=mean_treated - estimate,
        n_treated=int(treated.sum()),
        n_control=int((~treated).sum()),
        cov_type=cov_type,
        se_method=se_method,
        df=df,
        n_clusters=n_clusters,
    )


def matched_difference(sample: Sample, config: ATTConfig) -> Fit:
    """Weighted difference in mean outcome between treated and matched controls.

    Parameters
    ----------
    sample : Sample
        Matched rows with positive weight.
    config : ATTConfig
        Configuration (``cluster`` names the matched-set column, or None for HC1).

    Returns
    -------
    Fit
    """
    exog = np.column_stack([np.ones_like(sample.t), sample.t])
    return _wls_att(sample, exog, config)


def matched_regression(sample: Sample, config: ATTConfig) -> Fit:
    """Treatment coefficient of a WLS regression on the matched sample with covariates.

    Without covariates this is :func:`matched_difference`.

    Parameters
    ----------
    sample : Sample
        Matched rows with positive weight, with their covariate terms.
    config : ATTConfig
        Configuration (``cluster`` names the matched-set column, or None for HC1).

    Returns
    -------
    Fit

    Raises
    ------
    ValueError
        If the treatment and covariate terms are collinear in the matched sample.
    """
    terms = sample.terms if sample.terms is not None else pd.DataFrame(index=range(len(sample.t)))
    treatment = pd.Series(sample.t, index=terms.index, name="treatment")
    design = with_intercept(pd.concat([treatment, terms], axis=1))
    check_full_rank(design, "the matched sample (rows with positive weight)")
    return _wls_att(sample, design.to_numpy(dtype=float), config)
