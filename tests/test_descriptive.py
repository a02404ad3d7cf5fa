"""When no effect is estimated: the design verdict, declining the effects table, and the
participants' own outcomes with their intervals (checked against statsmodels and scipy, and
the Wilson interval against its closed form, on a hand-made outcome file)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from pipeline.effects.descriptive import COLUMNS, descriptive_outcomes
from pipeline.effects.table import COLUMNS as EFFECT_COLUMNS
from pipeline.effects.table import STATUSES
from pipeline.effects.verdict import DesignVerdict, decline, design_verdict

# ---- the verdict ---------------------------------------------------------------------------


@pytest.mark.parametrize("n, matched, estimable, reason", [
    (30, 12, False, "no_overlap"),            # 40% matched: too few comparable
    (8, 8, False, "too_few_participants"),    # everyone matched, but only 8
    (8, 2, False, "too_few_participants"),    # too few at all comes first
    (30, 18, False, "too_few_participants"),  # 60% matched, but 18 < 20
    (40, 20, True, None),                     # both thresholds exactly met
    (40, 19, False, "no_overlap"),            # 47.5% < 50%
    (1461, 1461, True, None),
    (0, 0, False, "too_few_participants"),
])
def test_verdict_follows_the_rule(n, matched, estimable, reason):
    verdict = design_verdict(n, matched, min_participants=20, min_share_matched=0.5)
    assert verdict.estimable is estimable
    assert verdict.reason == reason
    assert verdict.share_matched == (matched / n if n else 0.0)
    assert (verdict.n_participants, verdict.n_matched) == (n, matched)


def test_verdict_round_trips_through_its_one_row_frame(tmp_path):
    verdict = design_verdict(30, 12, 20, 0.5)
    path = tmp_path / "design_verdict.parquet"
    verdict.to_frame().to_parquet(path)
    frame = pd.read_parquet(path)
    assert len(frame) == 1
    assert set(frame.columns) == set(verdict.describe())
    assert DesignVerdict.from_frame(frame) == verdict
    estimable = design_verdict(100, 90, 20, 0.5)
    estimable.to_frame().to_parquet(path)
    assert DesignVerdict.from_frame(pd.read_parquet(path)) == estimable
    assert estimable.describe()["reason"] is None


@pytest.mark.parametrize("args", [(-1, 0, 20, 0.5), (10, 11, 20, 0.5), (10, 5, 0, 0.5),
                                  (10, 5, 20, 1.5)])
def test_verdict_refuses_impossible_inputs(args):
    with pytest.raises(ValueError):
        design_verdict(*args)


def effects_rows() -> pd.DataFrame:
    rows = []
    for horizon in (6, 12):
        for outcome in ("employed", "earnings"):
            rows.append({c: np.nan for c in EFFECT_COLUMNS} | {
                "outcome": outcome, "horizon_months": horizon, "estimator": "matched_difference",
                "subgroup": "all", "subgroup_value": "all", "status": "estimated",
                "estimate": 0.05, "std_error": 0.02, "ci_low": 0.01, "ci_high": 0.09,
                "p_value": 0.01, "n_t": 12, "n_c": 36, "mean_treated": 0.4,
                "mean_control": 0.35, "mde": 0.056})
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


def test_decline_blanks_every_effect_and_keeps_the_counts():
    effects = effects_rows()
    declined = decline(effects, design_verdict(30, 12, 20, 0.5))
    assert "declined" in STATUSES
    assert (declined["status"] == "declined").all()
    for column in ("estimate", "std_error", "ci_low", "ci_high", "p_value", "mde",
                   "mean_treated", "mean_control"):
        assert declined[column].isna().all(), column
    pd.testing.assert_series_equal(declined["n_t"], effects["n_t"])
    pd.testing.assert_series_equal(declined["n_c"], effects["n_c"])
    assert effects["estimate"].notna().all()  # the input is left alone


def test_decline_leaves_an_estimable_table_unchanged():
    effects = effects_rows()
    pd.testing.assert_frame_equal(decline(effects, design_verdict(100, 90, 20, 0.5)), effects)


# ---- descriptive outcomes ------------------------------------------------------------------


@pytest.fixture
def outcome_file(tmp_path):
    """Ten participants of two cohorts and one non-participant, months -1, 6 and 12.

    Month 6: all ten observed; month 12: eight observed (two rows absent), one of them
    without an ``employed_matching`` value.
    """
    rng = np.random.default_rng(7)
    people = [(f"p{i}", "2020-VT" if i < 5 else "2021-HT") for i in range(10)]
    rows = []
    employed6 = [1, 1, 1, 0, 0, 0, 0, 1, 0, 0]
    employed12 = [1, 1, 1, 1, 0, 1, 0, 1]
    for i, (pid, cohort) in enumerate(people):
        rows.append((pid, cohort, -1, 0, 0.0, 1, 0))
        rows.append((pid, cohort, 6, employed6[i], float(rng.integers(0, 30_000)), 0,
                     employed6[i] * (i % 2)))
        if i < 8:
            rows.append((pid, cohort, 12, employed12[i], float(rng.integers(0, 40_000)), 0,
                         None if i == 3 else employed12[i] * (i % 2)))
    rows.append(("other", "2020-VT", 6, 1, 99_999.0, 0, 1))  # not a participant
    frame = pd.DataFrame(rows, columns=["pid", "cohort", "rel_month", "employed", "earnings",
                                        "registered_unemployed", "employed_matching"])
    frame["employed_matching"] = frame["employed_matching"].astype("Int64")
    path = tmp_path / "outcomes.parquet"
    frame.to_parquet(path)
    participants = pd.DataFrame(people, columns=["pid", "cohort"])
    return path, participants, frame


def wilson_closed_form(k: int, n: int, level: float) -> tuple[float, float]:
    """Wilson (1927) score interval, written out."""
    z = stats.norm.ppf(1 - (1 - level) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("level", [0.95, 0.9])
def test_shares_have_wilson_intervals(outcome_file, level):
    path, participants, frame = outcome_file
    result = descriptive_outcomes(path, participants, [6, 12], confidence_level=level)
    assert list(result.columns) == list(COLUMNS)
    row = result.set_index(["outcome", "horizon_months"]).loc[("employed", 12)]
    assert (row["n"], row["n_observed"], row["interval"]) == (10, 8, "wilson")
    assert row["mean"] == pytest.approx(6 / 8)
    expected = proportion_confint(6, 8, alpha=1 - level, method="wilson")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(expected)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson_closed_form(6, 8, level))
    six = result.set_index(["outcome", "horizon_months"]).loc[("employed", 6)]
    assert (six["n_observed"], six["mean"]) == (10, pytest.approx(0.4))
    assert (six["ci_low"], six["ci_high"]) == pytest.approx(wilson_closed_form(4, 10, level))


def test_a_missing_value_is_not_observed(outcome_file):
    path, participants, frame = outcome_file
    result = descriptive_outcomes(path, participants, [12]).set_index("outcome")
    matching = result.loc["employed_matching"]
    assert matching["n_observed"] == 7
    values = frame.loc[(frame["rel_month"] == 12) & (frame["pid"] != "other"),
                       "employed_matching"].dropna()
    assert matching["mean"] == pytest.approx(values.mean())


def test_earnings_have_t_intervals(outcome_file):
    path, participants, frame = outcome_file
    result = descriptive_outcomes(path, participants, [6, 12])
    for month in (6, 12):
        values = frame.loc[(frame["rel_month"] == month) & (frame["pid"] != "other"),
                           "earnings"].to_numpy()
        row = result.set_index(["outcome", "horizon_months"]).loc[("earnings", month)]
        sd = values.std(ddof=1)
        low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(),
                                     scale=sd / math.sqrt(len(values)))
        assert row["interval"] == "t"
        assert row["mean"] == pytest.approx(values.mean())
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))


def test_only_participants_count_and_unobserved_months_give_no_interval(outcome_file):
    path, participants, _ = outcome_file
    result = descriptive_outcomes(path, participants.iloc[[0, 0, 1]], [6, 24],
                                  outcomes=["employed", "earnings"])
    six = result.loc[(result["horizon_months"] == 6) & (result["outcome"] == "employed")]
    assert six["n"].item() == 2 and six["n_observed"].item() == 2  # duplicates count once
    assert six["mean"].item() == 1.0  # the non-participant's row is not read
    never = result.loc[result["horizon_months"] == 24]
    assert (never["n_observed"] == 0).all()
    assert never[["mean", "ci_low", "ci_high"]].isna().all().all()
    assert list(result["outcome"]) == ["employed", "employed", "earnings", "earnings"]


def test_descriptive_outcomes_refuse_unknown_outcomes_and_levels(outcome_file):
    path, participants, _ = outcome_file
    with pytest.raises(ValueError, match="unknown outcomes"):
        descriptive_outcomes(path, participants, [6], outcomes=["happiness"])
    with pytest.raises(ValueError, match="confidence_level"):
        descriptive_outcomes(path, participants, [6], confidence_level=95)
    with pytest.raises(ValueError, match="lacks the columns"):
        descriptive_outcomes(path, participants[["pid"]], [6])
