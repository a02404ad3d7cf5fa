"""ATT by inverse probability weighting (IPW) and augmented IPW (AIPW, doubly robust).

Both reweight the controls with the odds of the estimated logit propensity score
``e(x) / (1 - e(x))``, so that they resemble the treated, and normalise the weights to sum to
one in each group (Hajek). With ``w1 = T`` and ``w0 = (1 - T) e(X) / (1 - e(X))``:

* IPW: ``tau = sum(w1 Y) / sum(w1) - sum(w0 Y) / sum(w0)``.
* AIPW: the same with the residual ``Y - m0(X)`` of a linear outcome model ``m0`` fitted by
  OLS on the controls: ``tau = sum(w1 (Y - m0)) / sum(w1) - sum(w0 (Y - m0)) / sum(w0)``.
  This is Sant'Anna and Zhao's (2020, eq. 3.1) doubly robust ATT with the outcome in place
  of the outcome change (the ATT form of Mercatanti and Li 2014): consistent if either the
  score model or the outcome model is correct.

Standard errors are those of the M-estimator that stacks the logit score equations, the OLS
normal equations (AIPW) and the two weighted means: ``sqrt(sum(psi_i^2)) / n`` with
``psi_i`` the influence function of ``tau``, which accounts for the estimated score and
outcome models (no small-sample factor; intervals use the normal distribution). The influence
function is written as in Sant'Anna and Zhao's DRDID package (``drdid_panel``,
``std_ipw_did_panel``).

References
----------
Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences estimators.
*Journal of Econometrics* 219(1), 101-122.

Mercatanti, A. and Li, F. (2014). Do debit cards increase household spending? Evidence from a
semiparametric causal analysis of a survey. *Annals of Applied Statistics* 8(4), 2485-2508.
"""

from __future__ import annotations

import numpy as np

from .checks import Sample, check_full_rank, require_group_sizes, with_intercept
from .config import ATTConfig
from .inference import Fit
from .score import ScoreModel, fit_score, score_influence


def _outcome_model(x: np.ndarray, y: np.ndarray, control: np.ndarray) -> tuple[np.ndarray, ...]:
    """OLS of ``y`` on ``x`` among the controls: fitted values for every row, and the
    influence functions of the coefficients (one row per unit)."""
    n = len(y)
    xc = x[control]
    beta = np.linalg.lstsq(xc, y[control], rcond=None)[0]
    fitted = x @ beta
    gram = xc.T @ xc / n
    influence = np.linalg.solve(gram, (x * (control * (y - fitted))[:, None]).T).T
    return fitted, influence


def _weighted_att(
    y: np.ndarray, t: np.ndarray, score: ScoreModel, adjust: bool
) -> tuple[float, float, np.ndarray]:
    """Normalised-weights ATT on ``y`` (``adjust``: minus the control outcome model).

    Returns the estimate, the mean outcome of the treated and the influence function.
    """
    x = score.design
    w1, w0 = t, (1.0 - t) * score.odds
    fitted, ols_influence = _outcome_model(x, y, t == 0) if adjust else (0.0, None)
    r = y - fitted
    eta1 = np.sum(w1 * r) / np.sum(w1)
    eta0 = np.sum(w0 * r) / np.sum(w0)
    inf_treat = w1 * (r - eta1)
    # d/d gamma of the control mean: the odds' derivative is odds * x
    inf_control = w0 * (r - eta0) + score_influence(score, t) @ np.mean(
        (w0 * (r - eta0))[:, None] * x, axis=0
    )
    if ols_influence is not None:
        inf_treat = inf_treat - ols_influence @ np.mean(w1[:, None] * x, axis=0)
        inf_control = inf_control - ols_influence @ np.mean(w0[:, None] * x, axis=0)
    influence = inf_treat / np.mean(w1) - inf_control / np.mean(w0)
    return float(eta1 - eta0), float(np.mean(y[t == 1])), influence


def _fit(sample: Sample, adjust: bool, method: str) -> Fit:
    t, y = sample.t, sample.y
    require_group_sizes(t, 2, 2, f"method={method!r}")
    score = fit_score(sample.terms, t)
    if adjust:
        control_design = with_intercept(sample.terms.loc[t == 0])
        check_full_rank(control_design, "the outcome model (fitted on the controls)")
    estimate, mean_treated, influence = _weighted_att(y, t, score, adjust)
    what = "score and outcome models" if adjust else "score"
    return Fit(
        estimate=estimate,
        std_error=float(np.sqrt(np.sum(influence**2)) / len(y)),
        mean_treated=mean_treated,
        mean_control=mean_treated - estimate,
        n_treated=int((t == 1).sum()),
        n_control=int((t == 0).sum()),
        cov_type="sandwich",
        se_method=f"M-estimation sandwich, accounts for the estimated {what}",
    )


def ipw(sample: Sample, config: ATTConfig) -> Fit:
    """ATT by inverse probability weighting with odds weights (normalised).

    Parameters
    ----------
    sample : Sample
        Every unit, with covariate terms for the logit score model.
    config : ATTConfig
        Configuration (unused beyond the method; for a uniform estimator signature).

    Returns
    -------
    Fit
    """
    return _fit(sample, adjust=False, method=config.method)


def aipw(sample: Sample, config: ATTConfig) -> Fit:
    """Doubly robust ATT: augmented IPW with a linear outcome model for the controls.

    Parameters
    ----------
    sample : Sample
        Every unit, with covariate terms for the logit score and the outcome models.
    config : ATTConfig
        Configuration (unused beyond the method; for a uniform estimator signature).

    Returns
    -------
    Fit
    """
    return _fit(sample, adjust=True, method=config.method)
