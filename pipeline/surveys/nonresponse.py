"""Survey non-response: who answered, how respondents differ from non-respondents on register
data, and the key results re-weighted for non-response. Numbers only, as
:mod:`pipeline.surveys.results`.

The population is the programme's roster: every participant, responding or not, in every
wave. Register covariates measured at the start of the programme (the participants' rows of
``baseline.parquet``) are known for all of them, so respondents can be compared with
non-respondents, and respondents can be weighted to stand for everyone.

Conventions
-----------
Response
    A participant responded in a wave when the clean stage kept a response of theirs
    (``survey_response_status.parquet``: ``responded``; ``refused`` and ``not_reached`` are
    non-response). A response that cannot be linked to a roster participant is outside the
    population and gets no weight (counted in ``n_without_weight``).
Comparison (:func:`compare_respondents`)
    Per wave and covariate term (categorical covariates expanded to one 0/1 term per level, as
    in the matching balance table): means of respondents, non-respondents and everyone, and
    the standardised difference computed with :mod:`pipeline.matching.balance` (MatchIt's
    convention with respondents in the role of the treated: the denominator is the SD of the
    respondents, ``sqrt(p(1-p))`` for 0/1 terms). With weights, the weighted respondent mean
    is compared with the mean of *everyone* (the target of the weighting), on the same
    denominator. Participants without a register row are counted (``n_not_in_register``) and
    left out; a missing covariate value leaves that person out of that covariate only.
Weights (:func:`nonresponse_weights`)
    Per wave, one weight per respondent, scaled to sum to the number of participants in the
    population of that wave (everyone in the indicator with a register row), so a weighted
    count estimates a number of participants.

    ``method="logit"``
        Inverse response propensity ``1 / p(x)`` from a logistic regression of responding on
        the covariates (statsmodels ``Logit``; categorical covariates dummy-coded, first
        level the reference; constant terms dropped). Trimmed by default at the 99th
        percentile of the respondents' weights (weights above are set to it), then rescaled to
        the population size: trimming trades a little bias for less variance (Potter 1990;
        Chen et al. 2017). A separated or non-converged model is passed on as a warning.
    ``method="raking"``
        Calibration to the register margins of the whole roster: the respondents' weighted
        distribution of each categorical covariate, and the weighted mean of each numeric one,
        equal the population's exactly. The weights are those closest to uniform in
        Kullback-Leibler divergence, which is raking (Deville & Sarndal 1992's raking-ratio
        distance); they are computed with the project's entropy balancing
        (:func:`pipeline.matching.weighting.weightit`, ``method="ebal"``, tested against R's
        ``survey::calibrate``) with the roster as target. Not trimmed by default (trimming
        would make the margins approximate). Raking is impossible when some category of the
        population has no respondent: a ValueError says which.

    :func:`weight_summary` reports Kish's design effect ``n sum(w^2) / (sum w)^2`` (>= 1,
    the variance inflation from unequal weights) and effective sample size per wave.
Weighted key results (:func:`reweighted_key_results`)
    Weighted share ``sum(w y) / sum(w)`` among the weighted respondents with a substantive
    answer (item non-response is not re-weighted: available cases). Interval: Wilson on the
    Kish effective sample size of those answering, ``n_eff = (sum w)^2 / sum(w^2)``, with
    count ``share * n_eff`` (the "effective-n Wilson" interval, Korn & Graubard 1998; Dean &
    Pagano 2015). It treats the weights as fixed, so it ignores that they were estimated; the
    Taylor-linearised standard error of the ratio estimator is given beside it for comparison.
    Neither interval covers the bias left by non-response that the register covariates do
    not explain: the weights remove only the part they can see.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from statsmodels.discrete.discrete_model import Logit

from pipeline.matching.balance import is_binary, smd_denominator, weighted_mean
from pipeline.matching.propensity import covariate_terms
from pipeline.matching.weighting import weightit
from pipeline.surveys.codebook import Codebook
from pipeline.surveys.results import (
    _check_level,
    _checked_waves,
    check_responses,
    key_results,
    positive_codes,
    wilson_interval,
)

RESPONSE_STATUSES = ("responded", "refused", "not_reached")
NO_RESPONSE = "no_response"  # status when only kept responses are known (refusals not told apart)
METHODS = ("logit", "raking")
DEFAULT_TRIM = {"logit": 0.99, "raking": None}
WEIGHTED_METHOD = "wilson_kish_effective_n"

COMPARISON_COLUMNS = [
    "wave", "variable", "covariate", "role", "type",
    "n_respondents", "n_nonrespondents", "n_missing", "n_not_in_register",
    "mean_respondents", "mean_nonrespondents", "mean_all", "smd", "smd_vs_all",
    "mean_respondents_weighted", "smd_weighted_vs_all",
]
SUMMARY_COLUMNS = [
    "wave", "method", "n_population", "n_respondents", "sum_weights", "min", "median", "max",
    "deff_kish", "n_effective", "trim_quantile", "n_trimmed",
]
REWEIGHTED_COLUMNS = [
    "item", "scale", "kind", "wave", "positive_codes",
    "numerator", "n", "share", "ci_low", "ci_high",
    "n_weighted", "n_without_weight", "sum_weights", "share_weighted", "n_effective",
    "deff_kish", "ci_low_weighted", "ci_high_weighted", "std_error_linearised",
    "method", "method_weighted", "confidence_level",
]


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")


# ---- who responded -----------------------------------------------------------------------
def response_indicator(
    status: pd.DataFrame | None = None,
    *,
    participants: pd.DataFrame | None = None,
    responses: pd.DataFrame | None = None,
    waves: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Whether each roster participant responded in each wave.

    Parameters
    ----------
    status : DataFrame, optional
        The clean stage's ``survey_response_status`` (``pid, wave, status`` with status
        ``responded``, ``refused`` or ``not_reached``). Preferred: it knows refusals.
    participants : DataFrame, optional
        ``participants.parquet`` (``pid``, and ``cohort`` which is carried over when present).
        Needed without ``status``.
    responses : DataFrame, optional
        Cleaned long answers (``pseudonym, wave``); used only without ``status``: a
        participant responded when a kept answer carries their pseudonym (= ``pid``). Without
        the status table refusals cannot be told apart: non-respondents get status
        ``no_response``.
    waves : iterable of str, optional
        Waves to include. A wave absent from the inputs gets every participant as a
        non-respondent (so a wave without respondents still has rows). Default: the waves
        of ``status``, or of ``responses``.

    Returns
    -------
    DataFrame
        ``pid, wave, status, responded`` (bool), plus ``cohort`` when ``participants`` has it;
        one row per participant and wave.
    """
    wanted = None if waves is None else ([waves] if isinstance(waves, str) else list(waves))
    if status is not None:
        _require(status, ["pid", "wave", "status"], "response status")
        unknown = sorted(set(status["status"].astype(str)) - set(RESPONSE_STATUSES) - {NO_RESPONSE})
        if unknown:
            raise ValueError(f"response status has unknown value(s) {unknown}; expected "
                             f"{list(RESPONSE_STATUSES)}")
        if status.duplicated(["pid", "wave"]).any():
            raise ValueError("response status repeats a pid x wave; one row per participant "
                             "and wave expected")
        frame = status.loc[:, ["pid", "wave", "status"]].astype({"pid": "str", "wave": "str",
                                                                 "status": "str"})
        pids = frame["pid"].drop_duplicates()
        if participants is not None:
            _require(participants, ["pid"], "participants")
            pids = pd.concat([pids, participants["pid"].astype(str)]).drop_duplicates()
        waves_ = wanted if wanted is not None else list(dict.fromkeys(frame["wave"]))
    else:
        if participants is None or responses is None:
            raise ValueError(
                "give the response status table (survey_response_status), or both "
                "participants and responses"
            )
        _require(participants, ["pid"], "participants")
        _require(responses, ["pseudonym", "wave"], "responses")
        pids = participants["pid"].astype(str).drop_duplicates()
        kept = responses[["pseudonym", "wave"]].drop_duplicates().astype(str)
        frame = pd.DataFrame({"pid": kept["pseudonym"], "wave": kept["wave"],
                              "status": "responded"})
        waves_ = wanted if wanted is not None else list(dict.fromkeys(frame["wave"]))
    grid = pd.MultiIndex.from_product([pids.to_numpy(), waves_], names=["pid", "wave"])
    out = grid.to_frame(index=False).merge(frame, on=["pid", "wave"], how="left")
    if participants is not None:
        out = out[out["pid"].isin(set(participants["pid"].astype(str)))]
    out["status"] = out["status"].fillna(NO_RESPONSE).astype("str")
    out["responded"] = out["status"].eq("responded").to_numpy(bool)
    if participants is not None and "cohort" in participants.columns:
        cohorts = participants[["pid", "cohort"]].astype({"pid": "str"}).drop_duplicates("pid")
        out = out.merge(cohorts, on="pid", how="left")
    return out.reset_index(drop=True)


def outcome_at(
    outcomes: pd.DataFrame, *, rel_month: int = 12, column: str = "employed",
    name: str | None = None,
) -> pd.DataFrame:
    """One register outcome at one month after start, for merging onto the baseline rows.

    Returns ``pid, cohort, <name>`` (default name ``<column>_after_<rel_month>``) from
    ``outcomes.parquet`` rows with ``rel_month == rel_month``; merge it on ``pid, cohort``
    with the participants' baseline rows and pass the name in ``outcomes`` of
    :func:`compare_respondents`.
    """
    _require(outcomes, ["pid", "cohort", "rel_month", column], "outcomes")
    name = name or f"{column}_after_{rel_month}"
    rows = outcomes.loc[outcomes["rel_month"] == rel_month, ["pid", "cohort", column]]
    if rows.duplicated(["pid", "cohort"]).any():
        raise ValueError(f"outcomes repeat a pid x cohort at rel_month {rel_month}")
    return rows.rename(columns={column: name}).reset_index(drop=True)


def _population(
    indicator: pd.DataFrame, covariates_frame: pd.DataFrame, columns: Sequence[str],
    waves: Iterable[str] | None,
) -> tuple[pd.DataFrame, list[str], dict[str, int]]:
    """Indicator rows joined to their register row; the waves; per wave the pids not found."""
    _require(indicator, ["pid", "wave", "responded"], "response indicator")
    _require(covariates_frame, ["pid", *columns], "covariates frame")
    if not columns:
        raise ValueError("name at least one covariate")
    repeated = covariates_frame["pid"].duplicated()
    if repeated.any():
        raise ValueError(
            f"covariates frame has {int(repeated.sum())} pid(s) on more than one row; pass one "
            "row per participant (e.g. baseline[baseline['treated']])"
        )
    if indicator.duplicated(["pid", "wave"]).any():
        raise ValueError("response indicator repeats a pid x wave")
    all_waves = list(dict.fromkeys(indicator["wave"].astype(str)))
    if waves is None:
        waves = all_waves
    else:
        waves = [waves] if isinstance(waves, str) else list(waves)
        unknown = [w for w in waves if w not in all_waves]
        if unknown:
            raise ValueError(f"wave(s) {unknown} are not in the response indicator "
                             f"({all_waves})")
    ind = indicator.loc[indicator["wave"].astype(str).isin(waves), ["pid", "wave", "responded"]]
    ind = ind.astype({"pid": "str", "wave": "str", "responded": "bool"})
    cov = covariates_frame.loc[:, ["pid", *columns]].astype({"pid": "str"})
    joined = ind.merge(cov, on="pid", how="left", indicator="_found")
    found = joined["_found"].eq("both")
    not_found = (~found).groupby(joined["wave"]).sum()
    lost = {w: int(not_found.get(w, 0)) for w in waves}
    return joined.loc[found].drop(columns="_found").reset_index(drop=True), waves, lost


def _terms_of(frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, np.ndarray]:
    """0/1 terms of one covariate over its non-missing rows, and the non-missing mask."""
    present = frame[column].notna().to_numpy(bool)
    terms = covariate_terms(frame.loc[present], [column], drop_first=False)
    return terms, present


def compare_respondents(
    indicator: pd.DataFrame,
    covariates_frame: pd.DataFrame,
    covariates: Sequence[str],
    *,
    outcomes: Sequence[str] = (),
    weights: pd.Series | pd.DataFrame | None = None,
    waves: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Respondents versus non-respondents on register data, per wave.

    Parameters
    ----------
    indicator : DataFrame
        From :func:`response_indicator` (``pid, wave, responded``).
    covariates_frame : DataFrame
        One row per participant with ``pid`` and the columns named: the participants'
        baseline rows (``baseline[baseline["treated"]]``), optionally with a register outcome
        merged on (:func:`outcome_at`).
    covariates : sequence of str
        Covariates measured at start (numeric, boolean or categorical).
    outcomes : sequence of str, optional
        Further columns of ``covariates_frame`` known for everyone (e.g. employed 12 months
        after start), compared the same way with ``role = "outcome"``.
    weights : Series or DataFrame, optional
        Non-response weights (:func:`nonresponse_weights`); adds the weighted respondent means
        and their standardised difference from everyone.
    waves : iterable of str, optional
        Waves to compare (default: all in the indicator).

    Returns
    -------
    DataFrame
        One row per wave x term: ``wave, variable`` (term), ``covariate``, ``role``
        (covariate/outcome), ``type`` (binary/continuous), ``n_respondents``,
        ``n_nonrespondents``, ``n_missing`` (value missing), ``n_not_in_register``,
        ``mean_respondents``, ``mean_nonrespondents``, ``mean_all``, ``smd`` (respondents vs
        non-respondents), ``smd_vs_all`` (respondents vs everyone), ``mean_respondents_weighted``
        and ``smd_weighted_vs_all`` (NaN without weights). Means and SMDs are NaN where a group
        is empty.
    """
    covariates, outcomes = list(covariates), list(outcomes)
    overlap = sorted(set(covariates) & set(outcomes))
    if overlap:
        raise ValueError(f"column(s) {overlap} are named both as covariates and outcomes")
    columns = covariates + outcomes
    data, waves, lost = _population(indicator, covariates_frame, columns, waves)
    w_all = _weights_column(weights, data) if weights is not None else None
    records = []
    for wave in waves:
        in_wave = (data["wave"] == wave).to_numpy(bool)
        mine = data.loc[in_wave]
        responded = mine["responded"].to_numpy(bool)
        w_wave = w_all[in_wave] if w_all is not None else None
        for column in columns:
            terms, present = _terms_of(mine, column)
            r = responded[present]
            for term in terms.columns:
                x = terms[term].to_numpy(dtype=float)
                binary = is_binary(x)
                records.append(
                    _compare_term(x, r, binary, None if w_wave is None else w_wave[present])
                    | {
                        "wave": wave,
                        "variable": term,
                        "covariate": column,
                        "role": "outcome" if column in outcomes else "covariate",
                        "type": "binary" if binary else "continuous",
                        "n_respondents": int(r.sum()),
                        "n_nonrespondents": int((~r).sum()),
                        "n_missing": int((~present).sum()),
                        "n_not_in_register": lost[wave],
                    }
                )
    frame = pd.DataFrame.from_records(records, columns=COMPARISON_COLUMNS)
    ints = ["n_respondents", "n_nonrespondents", "n_missing", "n_not_in_register"]
    text = ["wave", "variable", "covariate", "role", "type"]
    floats = [c for c in COMPARISON_COLUMNS if c not in ints + text]
    return frame.astype({**dict.fromkeys(ints, "int64"), **dict.fromkeys(text, "str"),
                         **dict.fromkeys(floats, "float64")})


def _compare_term(
    x: np.ndarray, responded: np.ndarray, binary: bool, w: np.ndarray | None
) -> dict[str, float]:
    ones = np.ones(len(x))
    m_r = weighted_mean(x[responded], ones[responded])
    m_n = weighted_mean(x[~responded], ones[~responded])
    m_all = weighted_mean(x, ones)
    if responded.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = smd_denominator(x, responded, binary)
    else:
        sd = np.nan

    def smd(a: float, b: float) -> float:
        if not (np.isfinite(a) and np.isfinite(b)):
            return np.nan
        if abs(a - b) <= np.sqrt(np.finfo(float).eps):
            return 0.0
        return (a - b) / sd if np.isfinite(sd) and sd > 0 else np.nan

    m_w = np.nan
    if w is not None and responded.any():
        wr = w[responded]
        ok = np.isfinite(wr)
        m_w = weighted_mean(x[responded][ok], wr[ok]) if ok.any() else np.nan
    return {
        "mean_respondents": m_r,
        "mean_nonrespondents": m_n,
        "mean_all": m_all,
        "smd": smd(m_r, m_n),
        "smd_vs_all": smd(m_r, m_all),
        "mean_respondents_weighted": m_w,
        "smd_weighted_vs_all": smd(m_w, m_all),
    }


# ---- weights -----------------------------------------------------------------------------
def _weights_frame(weights: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """Weights as ``pid, wave, weight`` from a Series indexed by (pid, wave) or a DataFrame."""
    if isinstance(weights, pd.Series):
        if list(weights.index.names) != ["pid", "wave"]:
            raise ValueError("weights must be a Series indexed by (pid, wave), as returned by "
                             "nonresponse_weights, or a DataFrame with pid, wave, weight")
        frame = weights.rename("weight").reset_index()
    else:
        _require(weights, ["pid", "wave", "weight"], "weights")
        frame = weights.loc[:, ["pid", "wave", "weight"]]
    frame = frame.astype({"pid": "str", "wave": "str", "weight": "float64"})
    bad = ~np.isfinite(frame["weight"]) | (frame["weight"] <= 0)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} weight(s) are not positive finite numbers")
    if frame.duplicated(["pid", "wave"]).any():
        raise ValueError("weights repeat a pid x wave")
    return frame


def _weights_column(weights, data: pd.DataFrame) -> np.ndarray:
    frame = _weights_frame(weights)
    merged = data[["pid", "wave"]].merge(frame, on=["pid", "wave"], how="left")
    return merged["weight"].to_numpy(dtype=float)


def kish_design_effect(weights: Iterable[float]) -> float:
    """Kish's design effect of unequal weights, ``n sum(w^2) / (sum w)^2`` (>= 1; NaN if empty)."""
    w = np.asarray(list(weights) if not isinstance(weights, (np.ndarray, pd.Series))
                   else weights, dtype=float)
    if w.size == 0 or w.sum() <= 0:
        return np.nan
    return float(w.size * np.sum(w**2) / w.sum() ** 2)


def _logit_weights(terms: pd.DataFrame, y: np.ndarray, wave: str) -> np.ndarray:
    """1 / p(x) for every row from a statsmodels logit (respondents' entries are used)."""
    constant = [c for c in terms.columns if np.ptp(terms[c].to_numpy()) == 0]
    kept = terms.drop(columns=constant).to_numpy(dtype=float)
    exog = np.column_stack([np.ones(len(terms)), kept])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = Logit(y.astype(float), exog).fit(disp=0, maxiter=100)
        except np.linalg.LinAlgError as error:
            raise ValueError(
                f"the response model of wave '{wave}' is singular ({error}): some covariate "
                "terms are collinear; drop or coarsen covariates"
            ) from error
    problems = {type(w.message).__name__ for w in caught
                if "separation" in str(w.message).lower() or "converge" in str(w.message).lower()}
    linear = exog @ np.asarray(fit.params)
    if problems or np.any(np.abs(linear) > 30):
        warnings.warn(
            f"the response model of wave '{wave}' is (nearly) separated or did not converge "
            f"({', '.join(sorted(problems)) or 'extreme fitted probabilities'}): some covariate "
            "pattern (almost) never responds, so its non-respondents are barely represented; "
            "use fewer or coarser covariates, or raking",
            RuntimeWarning,
            stacklevel=3,
        )
    return 1.0 + np.exp(-linear)  # = 1 / p, finite even where p rounds to 0


def _raking_weights(data: pd.DataFrame, columns: list[str], y: np.ndarray, wave: str):
    """Respondents' raking weights to the margins of everyone (entropy balancing, stacked)."""
    usable = [c for c in columns if data[c].nunique() > 1]
    if not usable:
        return np.ones(int(y.sum()))
    respondents = data.loc[y, usable]
    stacked = pd.concat(
        [data[usable].assign(_target=True), respondents.assign(_target=False)],
        ignore_index=True,
    )
    try:
        result = weightit(stacked, "_target", usable, method="ebal")
    except ValueError as error:
        raise ValueError(
            f"raking the respondents of wave '{wave}' to the register margins failed: {error}. "
            "(In raking, 'treated' is everyone and 'controls' the respondents.)"
        ) from error
    return result.weights.to_numpy()[len(data):]


def nonresponse_weights(
    indicator: pd.DataFrame,
    covariates_frame: pd.DataFrame,
    covariates: Sequence[str],
    *,
    method: str = "logit",
    trim_quantile: float | None | str = "auto",
    waves: Iterable[str] | None = None,
) -> pd.Series:
    """Non-response weights for the respondents of each wave (see the module docstring).

    Parameters
    ----------
    indicator : DataFrame
        From :func:`response_indicator`.
    covariates_frame : DataFrame
        One row per participant: ``pid`` and the covariates (no missing values).
    covariates : sequence of str
        Register covariates measured at start.
    method : {"logit", "raking"}
        Inverse response propensity from a logistic regression, or raking to the register
        margins of the whole roster.
    trim_quantile : float, None or "auto"
        Weights above this quantile of the wave's respondent weights are set to it before the
        weights are rescaled; None does not trim; ``"auto"``: 0.99 for ``logit``, None for
        ``raking``.
    waves : iterable of str, optional
        Default: all waves of the indicator.

    Returns
    -------
    Series
        Named ``weight``, indexed by ``(pid, wave)``, one positive weight per respondent with
        a register row; per wave the weights sum to the wave's population (participants with
        a register row). A wave without respondents has no rows. ``attrs`` holds ``method``,
        ``trim_quantile``, ``n_trimmed`` and ``n_population`` (per wave), read by
        :func:`weight_summary`.

    Raises
    ------
    ValueError
        For a missing column or covariate value (named), an unknown method or trim level, a
        singular response model, or raking that cannot reach the margins.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    trim = DEFAULT_TRIM[method] if trim_quantile == "auto" else trim_quantile
    if trim is not None and not (isinstance(trim, (int, float)) and 0.5 < trim <= 1):
        raise ValueError(f"trim_quantile must be None, 'auto' or in (0.5, 1], got {trim!r}")
    columns = list(covariates)
    data, waves, _ = _population(indicator, covariates_frame, columns, waves)
    for column in columns:
        n_missing = int(data[column].isna().sum())
        if n_missing:
            raise ValueError(
                f"covariate {column!r} has {n_missing} missing value(s) among the participants; "
                "weights need complete covariates (drop the covariate, or code missing as its "
                "own category)"
            )
    parts, n_trimmed, n_population = [], {}, {}
    for wave in waves:
        mine = data[data["wave"] == wave].reset_index(drop=True)
        y = mine["responded"].to_numpy(bool)
        n_population[wave] = len(mine)
        n_trimmed[wave] = 0
        if not y.any():
            continue
        if y.all():
            w = np.ones(len(mine))
        elif method == "logit":
            terms = covariate_terms(mine, columns, drop_first=True)
            w = _logit_weights(terms, y, wave)[y]
        else:
            w = _raking_weights(mine, columns, y, wave)
        if trim is not None and trim < 1 and len(w) > 1:
            cap = float(np.quantile(w, trim))
            n_trimmed[wave] = int(np.sum(w > cap))
            w = np.minimum(w, cap)
        w = np.asarray(w, dtype=float) * len(mine) / np.sum(w)
        parts.append(pd.DataFrame({"pid": mine.loc[y, "pid"].to_numpy(), "wave": wave,
                                   "weight": w}))
    frame = (pd.concat(parts, ignore_index=True) if parts
             else pd.DataFrame({"pid": pd.Series(dtype="str"), "wave": pd.Series(dtype="str"),
                                "weight": pd.Series(dtype="float64")}))
    series = frame.set_index(["pid", "wave"])["weight"]
    series.attrs = {"method": method, "trim_quantile": trim, "n_trimmed": n_trimmed,
                    "n_population": n_population}
    return series


def weight_summary(weights: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """Per wave: population, respondents, weight range, Kish design effect and effective n.

    ``deff_kish = n sum(w^2) / (sum w)^2`` (>= 1, 1 for equal weights) and
    ``n_effective = n / deff_kish``. ``method``, ``trim_quantile``, ``n_trimmed`` and
    ``n_population`` come from the Series' ``attrs`` (NaN/None when absent); a wave known
    there without respondents gets a row with ``n_respondents = 0``.
    """
    frame = _weights_frame(weights)
    attrs = getattr(weights, "attrs", {}) or {}
    population = attrs.get("n_population", {})
    waves = list(dict.fromkeys([*population, *frame["wave"]]))
    records = []
    for wave in waves:
        w = frame.loc[frame["wave"] == wave, "weight"].to_numpy()
        deff = kish_design_effect(w)
        records.append(
            {
                "wave": wave,
                "method": attrs.get("method"),
                "n_population": population.get(wave, np.nan),
                "n_respondents": len(w),
                "sum_weights": float(w.sum()),
                "min": float(w.min()) if len(w) else np.nan,
                "median": float(np.median(w)) if len(w) else np.nan,
                "max": float(w.max()) if len(w) else np.nan,
                "deff_kish": deff,
                "n_effective": len(w) / deff if len(w) else 0.0,
                "trim_quantile": attrs.get("trim_quantile"),
                "n_trimmed": attrs.get("n_trimmed", {}).get(wave, np.nan),
            }
        )
    return pd.DataFrame.from_records(records, columns=SUMMARY_COLUMNS)


# ---- weighted key results ----------------------------------------------------------------
def reweighted_key_results(
    responses: pd.DataFrame,
    codebook: Codebook,
    weights: pd.Series | pd.DataFrame,
    *,
    waves: Iterable[str] | None = None,
    confidence_level: float = 0.95,
    agree_codes: Mapping[str, Sequence[int]] | Sequence[int] | None = None,
    yes_codes: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """The key results unweighted and re-weighted for non-response, side by side.

    Parameters
    ----------
    responses, codebook, waves, confidence_level, agree_codes, yes_codes
        As in :func:`pipeline.surveys.results.key_results`.
    weights : Series or DataFrame
        From :func:`nonresponse_weights` (or a frame ``pid, wave, weight``).

    Returns
    -------
    DataFrame
        One row per item x wave: the unweighted ``numerator, n, share, ci_low, ci_high`` of
        :func:`~pipeline.surveys.results.key_results` (all respondents), and the weighted
        ``n_weighted`` (answers with a weight), ``n_without_weight`` (answers from persons
        without one: not on the roster or not in the register), ``sum_weights``,
        ``share_weighted``, ``n_effective`` (Kish), ``deff_kish``, ``ci_low_weighted``,
        ``ci_high_weighted`` (Wilson on the effective n), ``std_error_linearised``, and
        ``method`` ("wilson"), ``method_weighted`` ("wilson_kish_effective_n"). Weighted
        columns are NaN (counts 0) where no weighted respondent answered.
    """
    level = _check_level(confidence_level)
    waves = _checked_waves(waves, codebook)
    plain = key_results(responses, codebook, waves=waves, confidence_level=level,
                        agree_codes=agree_codes, yes_codes=yes_codes)
    rules = positive_codes(codebook, agree_codes=agree_codes, yes_codes=yes_codes)
    w = _weights_frame(weights).rename(columns={"pid": "pseudonym"})
    data = check_responses(responses, codebook)
    answered = data[(data["status"] == "answered") & data["wave"].isin(waves)
                    & data["item"].isin(list(rules))].astype({"pseudonym": "str", "wave": "str"})
    answered = answered.merge(w, on=["pseudonym", "wave"], how="left")
    answered["y"] = [float(v in rules[i][1])
                     for i, v in zip(answered["item"], answered["value"], strict=True)]
    groups = {key: g for key, g in answered.groupby(["item", "wave"], sort=False)}
    records = []
    for row in plain.itertuples(index=False):
        g = groups.get((row.item, row.wave))
        weighted = g[g["weight"].notna()] if g is not None else None
        n_w = 0 if weighted is None else len(weighted)
        record = {"n_weighted": n_w,
                  "n_without_weight": 0 if g is None else int(g["weight"].isna().sum())}
        if n_w:
            wt, y = weighted["weight"].to_numpy(), weighted["y"].to_numpy()
            total = wt.sum()
            p = float(wt @ y / total)
            n_eff = total**2 / float(wt @ wt)
            se = np.sqrt(n_w / (n_w - 1) * np.sum((wt * (y - p)) ** 2)) / total if n_w > 1 \
                else np.nan
            record |= {"sum_weights": total, "share_weighted": p, "n_effective": n_eff,
                       "deff_kish": n_w / n_eff, "std_error_linearised": se}
        else:
            record |= {"sum_weights": 0.0, "share_weighted": np.nan, "n_effective": 0.0,
                       "deff_kish": np.nan, "std_error_linearised": np.nan}
        records.append(record)
    extra = pd.DataFrame.from_records(
        records, columns=["n_weighted", "n_without_weight", "sum_weights", "share_weighted",
                          "n_effective", "deff_kish", "std_error_linearised"],
    )
    frame = pd.concat([plain.reset_index(drop=True), extra], axis=1)
    count = frame["share_weighted"].fillna(0.0) * frame["n_effective"]
    frame["ci_low_weighted"], frame["ci_high_weighted"] = wilson_interval(
        count.to_numpy(), frame["n_effective"].to_numpy(), level
    )
    frame["method_weighted"] = WEIGHTED_METHOD
    frame = frame[REWEIGHTED_COLUMNS]
    return frame.astype({"n_weighted": "int64", "n_without_weight": "int64",
                         "method_weighted": "str", **{c: "float64" for c in (
                             "sum_weights", "share_weighted", "n_effective", "deff_kish",
                             "ci_low_weighted", "ci_high_weighted", "std_error_linearised")}})


__all__ = [
    "compare_respondents",
    "kish_design_effect",
    "nonresponse_weights",
    "outcome_at",
    "response_indicator",
    "reweighted_key_results",
    "weight_summary",
]
