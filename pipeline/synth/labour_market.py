"""The synthetic labour market: monthly employment, programme participation and true effects.

Employment follows a two-state monthly Markov chain whose job-finding and job-loss log-odds
depend on observed traits and on an unobserved trait ``u``. At each cohort's start month,
eligible people (foreign-born, of working age, living in a programme city, not employed the
month before) join the programme with a probability that depends on observed traits and on
recent employment (employment six months earlier: the dip before entry) and, when
``selection_on_unobservables`` is on, on ``u`` as well.

Both potential paths are simulated with common random numbers: ``employed_0`` without the
programme and ``employed_1`` with it. They differ only for participants after their start, so
the sample average treatment effect on the treated is known exactly at every horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from pipeline.synth.population import REGION_JOB_FINDING

PROGRAMME_CITIES = ("0180", "1480", "1280", "0380")
PROGRAMME_MONTHS = 6  # months of mentoring after start
MAX_HORIZON = 36

# Effect of the programme on the log-odds of finding a job, after the programme months,
# reached gradually over six months. Near zero (a small lock-in) while the programme runs.
EFFECT_LOCK_IN = -0.10
EFFECT_MEN = 0.75
EFFECT_WOMEN = 0.35
EFFECT_MATCHED_JOB = 0.6  # log-odds shift of finding a job that matches one's education

PARTICIPATION = {
    "tertiary": 0.6,
    "female": 0.2,
    "age_per_year": -0.03,
    "employed_6_months_before": 0.9,
    "years_since_immigration": -0.04,
    "mena_or_ssa": 0.3,
    "unobserved_u": 0.8,  # used only when selection_on_unobservables is on
}

# SSYK 2012 occupation codes by skill level (4 = highest).
OCCUPATIONS_BY_SKILL = {
    4: np.array(["2512", "2211", "2341", "2142", "2611"]),
    3: np.array(["3313", "3321", "3112", "3512"]),
    2: np.array(["4112", "5120", "5321", "7111", "8332", "5223"]),
    1: np.array(["9111", "9412", "9621"]),
}


@dataclass(frozen=True)
class Intake:
    """Who the programme takes in at a cohort's start (the study's eligibility rules)."""

    min_age: int = 20
    max_age: int = 64
    cities: tuple[str, ...] | None = PROGRAMME_CITIES  # None: everywhere
    women_only: bool = False
    min_education_level: int | None = None


def required_skill(education_level: np.ndarray) -> np.ndarray:
    """Lowest occupational skill level that matches an education level (Sun2000niva_old)."""
    return np.select([education_level >= 5, education_level >= 3], [3, 2], default=1)


def programme_effect(months_since_start: np.ndarray, female: np.ndarray) -> np.ndarray:
    """Shift in job-finding log-odds for a participant ``months_since_start`` after start."""
    full = np.where(female, EFFECT_WOMEN, EFFECT_MEN)
    ramp = np.clip((months_since_start - PROGRAMME_MONTHS + 1) / 6.0, 0.0, 1.0)
    during = (months_since_start >= 0) & (months_since_start < PROGRAMME_MONTHS)
    after = months_since_start >= PROGRAMME_MONTHS
    return np.where(during, EFFECT_LOCK_IN, 0.0) + np.where(after, full * ramp, 0.0)


@dataclass(frozen=True)
class ChunkHistory:
    """Simulated monthly history of one chunk of people (arrays are persons x months)."""

    employed: np.ndarray  # observed (int8)
    employed_0: np.ndarray  # potential outcome without the programme (int8)
    matched_job: np.ndarray  # observed: employed in a job matching one's education (int8)
    matched_job_0: np.ndarray
    skill_level: np.ndarray  # 0 when not employed
    occupation_index: np.ndarray
    start_month: np.ndarray  # month index of programme start, -1 for non-participants


def simulate_chunk(
    people: pd.DataFrame,
    months: pd.PeriodIndex,
    cohort_months: list[int],
    expected_per_cohort: float,
    selection_on_unobservables: bool,
    rng: np.random.Generator,
    intake: Intake = Intake(),
) -> ChunkHistory:
    """Simulate employment and participation for one chunk of people.

    Parameters
    ----------
    people : DataFrame
        Output of :func:`pipeline.synth.population.draw_people`.
    months : PeriodIndex
        The register's months, in order.
    cohort_months : list of int
        Indices into ``months`` where a cohort starts.
    expected_per_cohort : float
        Expected number of participants per cohort in this chunk (the participation intercept
        is calibrated to it among the eligible).
    selection_on_unobservables : bool
        Whether participation also depends on the unobserved trait ``u``.
    rng : Generator
        Source of all randomness.
    intake : Intake
        Eligibility at a cohort's start (besides being foreign-born, not employed the month
        before and not an earlier participant).
    """
    n, n_months = len(people), len(months)
    female = people["female"].to_numpy()
    education = people["education_level"].to_numpy()
    u = people["u"].to_numpy()
    birth_year = people["birth_year"].to_numpy()
    foreign_born = people["region_idx"].to_numpy() != 0  # region 0: born in the country
    years_in_sweden = np.nan_to_num(
        months[0].year - people["immigration_year"].to_numpy(), nan=30.0
    )
    may_join = (
        people["municipality"].isin(intake.cities).to_numpy() if intake.cities is not None
        else np.ones(n, dtype=bool)
    )
    if intake.women_only:
        may_join = may_join & female
    if intake.min_education_level is not None:
        may_join = may_join & (education >= intake.min_education_level)
    region_shift = REGION_JOB_FINDING[people["region_idx"].to_numpy()]
    needed_skill = required_skill(education)

    find_base = (
        -2.55
        + 0.25 * (education >= 5)
        + 0.15 * (education >= 3)
        + region_shift
        - 0.35 * female
        + 0.6 * u
    )
    lose_logit = -4.0 - 0.3 * (education >= 5) - 0.3 * u + 0.15 * female
    p_lose = expit(lose_logit)
    match_base = -0.2 + 0.25 * (education - 4) + 0.3 * u

    steady = expit(find_base) / (expit(find_base) + p_lose)
    state1 = (rng.random(n) < steady).astype(np.int8)
    state0 = state1.copy()
    skill1 = np.where(state1 == 1, _draw_skill(needed_skill, rng.random(n) < expit(match_base),
                                               rng.random(n)), 0)
    skill0 = skill1.copy()
    occ_draw = rng.random(n)

    employed = np.zeros((n, n_months), dtype=np.int8)
    employed_0 = np.zeros((n, n_months), dtype=np.int8)
    skill = np.zeros((n, n_months), dtype=np.int8)
    skill_0 = np.zeros((n, n_months), dtype=np.int8)
    start_month = np.full(n, -1, dtype=np.int64)
    cohort_set = set(cohort_months)

    for t, month in enumerate(months):
        if t in cohort_set and t >= 12:
            age = month.year - birth_year
            eligible = (
                foreign_born
                & may_join
                & (age >= intake.min_age)
                & (age <= intake.max_age)
                & (employed[:, t - 1] == 0)
                & (start_month < 0)
            )
            logit = (
                PARTICIPATION["tertiary"] * (education >= 5)
                + PARTICIPATION["female"] * female
                + PARTICIPATION["age_per_year"] * (age - 35)
                + PARTICIPATION["employed_6_months_before"] * employed[:, t - 6]
                + PARTICIPATION["years_since_immigration"] * np.minimum(years_in_sweden, 20)
                + PARTICIPATION["mena_or_ssa"] * np.isin(people["region_idx"].to_numpy(), [4, 5])
            )
            if selection_on_unobservables:
                logit = logit + PARTICIPATION["unobserved_u"] * u
            joins = _draw_participants(logit, eligible, expected_per_cohort, rng)
            start_month[joins] = t

        age_now = month.year - birth_year
        season = 0.15 * np.sin(2 * np.pi * (month.month - 3) / 12)
        find_logit0 = find_base + season - 0.03 * np.maximum(age_now - 45, 0)
        since = np.where(start_month >= 0, t - start_month, -1)
        treated_now = (start_month >= 0) & (since >= 0)
        effect = np.where(treated_now, programme_effect(since, female), 0.0)
        p_find0 = expit(find_logit0)
        p_find1 = expit(find_logit0 + effect)

        draw = rng.random(n)
        match_draw = rng.random(n)
        level_draw = rng.random(n)
        new1 = np.where(state1 == 1, draw >= p_lose, draw < p_find1).astype(np.int8)
        new0 = np.where(state0 == 1, draw >= p_lose, draw < p_find0).astype(np.int8)

        after_programme = treated_now & (since >= PROGRAMME_MONTHS - 1)
        p_match0 = expit(match_base)
        p_match1 = expit(match_base + np.where(after_programme, EFFECT_MATCHED_JOB, 0.0))
        started1 = (new1 == 1) & (state1 == 0)
        started0 = (new0 == 1) & (state0 == 0)
        skill1 = np.where(
            started1, _draw_skill(needed_skill, match_draw < p_match1, level_draw), skill1
        )
        skill0 = np.where(
            started0, _draw_skill(needed_skill, match_draw < p_match0, level_draw), skill0
        )
        skill1 = np.where(new1 == 1, skill1, 0)
        skill0 = np.where(new0 == 1, skill0, 0)
        state1, state0 = new1, new0
        employed[:, t] = state1
        employed_0[:, t] = state0
        skill[:, t] = skill1
        skill_0[:, t] = skill0

    matched = ((skill >= needed_skill[:, None]) & (employed == 1)).astype(np.int8)
    matched_0 = ((skill_0 >= needed_skill[:, None]) & (employed_0 == 1)).astype(np.int8)
    return ChunkHistory(
        employed=employed,
        employed_0=employed_0,
        matched_job=matched,
        matched_job_0=matched_0,
        skill_level=skill,
        occupation_index=(occ_draw * 1000).astype(np.int64),
        start_month=start_month,
    )


def _draw_skill(needed: np.ndarray, matching: np.ndarray, level_draw: np.ndarray) -> np.ndarray:
    """Skill level of a new job: at least ``needed`` when matching, below it otherwise."""
    above = needed + np.floor(level_draw * (5 - needed)).astype(np.int64)
    below = 1 + np.floor(level_draw * np.maximum(needed - 1, 1)).astype(np.int64)
    below = np.minimum(below, np.maximum(needed - 1, 1))
    return np.where(matching | (needed == 1), np.minimum(above, 4), below).astype(np.int8)


def _draw_participants(
    logit: np.ndarray, eligible: np.ndarray, expected: float, rng: np.random.Generator
) -> np.ndarray:
    """Indices of people who join, with the intercept set so the expected count is ``expected``."""
    candidates = np.flatnonzero(eligible)
    draw = rng.random(len(logit))
    if len(candidates) == 0 or expected <= 0:
        return candidates[:0]
    x = logit[candidates]
    target = min(expected, 0.5 * len(candidates))
    intercept = brentq(lambda c: expit(c + x).sum() - target, -40, 40)
    joins = draw[candidates] < expit(intercept + x)
    return candidates[joins]
