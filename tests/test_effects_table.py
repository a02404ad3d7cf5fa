"""The effects table: subgroups by the participant of each matched set, honest statuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.effects import att
from pipeline.effects.table import (
    attach_subgroups,
    effects_table,
    headline,
    matched_estimators,
    set_values,
    within_subgroup,
)


def matched_frame(n_sets: int = 40, seed: int = 3) -> pd.DataFrame:
    """1:2 matched sets in two cohorts: one comparison of the participant's sex, one not."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sets):
        cohort = "2021-03" if s % 2 == 0 else "2021-09"
        female = bool(s % 4 < 2)
        for member in range(3):
            treated = member == 0
            rows.append({
                "pid": f"p{s}-{member}", "cohort": cohort, "subclass": s,
                "treated": int(treated), "weights": 1.0 if treated else 0.5,
                "female": female if member < 2 else not female,
                "employed": float(rng.random() < (0.6 if treated else 0.45)),
                "observed": True,
            })
    return pd.DataFrame(rows)


def test_set_values_broadcasts_the_participants_value_to_the_whole_set():
    frame = matched_frame()
    values = set_values(frame, "female")
    treated = frame[frame["treated"] == 1].set_index("subclass")["female"]
    assert (values.to_numpy() == treated.loc[frame["subclass"]].to_numpy()).all()
    assert (values != frame["female"]).sum() == 40  # the opposite-sex comparisons
    two = pd.concat([frame.iloc[:3], frame.iloc[:1].assign(pid="again")])
    with pytest.raises(ValueError, match="more than one treated"):
        set_values(two, "female")


def test_all_row_equals_att_and_subgroups_compare_like_with_like():
    frame = matched_frame()
    table = effects_table({12: frame}, matched_estimators(), outcomes=["employed"],
                          subgroups=["female", "cohort"], min_treated=5)
    everyone = table.query("subgroup == 'all'").iloc[0]
    direct = att(frame, "treated", "employed", weights="weights", cluster="subclass")
    assert everyone["estimate"] == pytest.approx(direct.estimate)
    assert everyone["std_error"] == pytest.approx(direct.std_error)
    assert everyone["status"] == "estimated"
    parts = table.query("subgroup == 'female'").set_index("subgroup_value")
    assert list(parts.index) == ["False", "True"]
    assert parts["n_t"].sum() == everyone["n_t"] and parts["n_c"].sum() == 40
    # women: each participant with her female comparison only, who takes the set's weight
    women = frame[frame["female"] & (frame["subclass"] % 4 < 2)].copy()
    women.loc[women["treated"] == 0, "weights"] = 1.0
    expected = att(women, "treated", "employed", weights="weights", cluster="subclass")
    assert parts.loc["True", "estimate"] == pytest.approx(expected.estimate)
    assert parts.loc["True", "std_error"] == pytest.approx(expected.std_error)
    cohorts = table.query("subgroup == 'cohort'")
    assert list(cohorts["subgroup_value"]) == ["2021-03", "2021-09"]
    assert cohorts["n_t"].sum() == everyone["n_t"] and cohorts["n_c"].sum() == everyone["n_c"]


def test_a_set_without_a_comparison_of_the_subgroup_drops_out():
    frame = matched_frame()
    lonely = (frame["subclass"] == 0) & (frame["treated"] == 0)
    frame.loc[lonely, "female"] = False  # set 0: a woman with two male comparisons
    part = within_subgroup(frame, "female", True, set_values(frame, "female"))
    assert 0 not in set(part["subclass"]) and set(part["subclass"]) == {
        s for s in range(40) if s % 4 < 2 and s != 0}


def test_partial_not_observable_and_too_few_are_said_not_hidden():
    frame = matched_frame()
    late = frame["cohort"] == "2021-09"
    partial = frame.assign(observed=~late)
    nothing = frame.assign(observed=False)
    table = effects_table({12: frame, 24: partial, 36: nothing}, matched_estimators(),
                          outcomes=["employed"], subgroups=["female"], min_treated=15)
    everyone = table.query("subgroup == 'all'").set_index("horizon_months")
    assert list(everyone["status"]) == ["estimated", "partial", "not_observable"]
    assert everyone.loc[24, "n_t"] == 20 and everyone.loc[24, "cohorts_not_observable"] == 1
    assert np.isnan(everyone.loc[36, "estimate"])
    small = table.query("subgroup == 'female' and horizon_months == 24")
    assert set(small["status"]) == {"too_few"} and small["estimate"].isna().all()
    assert list(table.columns[:6]) == [
        "outcome", "horizon_months", "estimator", "subgroup", "subgroup_value", "status",
    ]
    assert len(headline(table, 24)) == 1


def test_subgroups_come_from_the_baseline_and_unknown_ones_are_named():
    frame = matched_frame().drop(columns="female")
    baseline = frame[["pid", "cohort"]].assign(region_of_birth="Syria", treated=0)
    joined = attach_subgroups(frame, baseline, ["region_of_birth", "cohort"])
    assert (joined["region_of_birth"] == "Syria").all() and len(joined) == len(frame)
    with pytest.raises(ValueError, match=r"\['city'\] are not baseline characteristics"):
        attach_subgroups(frame, baseline, ["city"])


def test_set_differences_and_robustness_of_a_positive_effect():
    from pipeline.effects.robustness import robustness_table, set_differences

    frame = matched_frame()
    differences = set_differences(frame, "employed")
    first = frame[frame["subclass"] == 0]
    expected = first["employed"].iloc[0] - first["employed"].iloc[1:].mean()
    assert len(differences) == 40 and differences[0] == pytest.approx(expected)
    frame.loc[frame["treated"] == 1, "employed"] = 1.0  # a large effect
    table = effects_table({12: frame}, matched_estimators(), outcomes=["employed"])
    robust = robustness_table(headline(table, 12), frame, binary_outcomes=("employed",))
    row = robust.iloc[0]
    assert row["e_value"] > row["e_value_ci"] > 1 and row["critical_gamma"] > 1.5
    assert row["n_sets"] == 40 and "times as likely" in row["e_value_sentence"]


def test_matched_panel_gives_calendar_months_and_stacked_periods(tmp_path):
    from pipeline.register.outcomes import matched_panel

    outcomes = pd.DataFrame({
        "pid": ["a", "a", "b", "b", "c", "c"], "cohort": ["2020-VT"] * 4 + ["2020-HT"] * 2,
        "rel_month": [-1, 0, -1, 0, -1, 0], "employed": [0, 1, 0, 0, 0, 1],
        "earnings": 0.0, "registered_unemployed": 0, "employed_matching": 0,
    })
    path = tmp_path / "outcomes.parquet"
    outcomes.to_parquet(path)
    matched = pd.DataFrame({"pid": ["a", "b", "c"], "cohort": ["2020-VT", "2020-VT", "2020-HT"],
                            "treated": [True, False, True], "weights": [1.0, 1.0, 1.0],
                            "subclass": [1, 1, 2]})
    starts = pd.DataFrame({"cohort": ["2020-VT", "2020-HT"], "cohort_start": [24242, 24248]})
    panel = matched_panel(path, matched, starts, "employed", (-1, 0))
    assert list(panel["unit"]) == ["a/2020-VT", "a/2020-VT", "b/2020-VT", "b/2020-VT",
                                   "c/2020-HT", "c/2020-HT"]
    assert list(panel["month"]) == [24241, 24242, 24241, 24242, 24247, 24248]
    assert panel.groupby(["rel_month", "unit"])["period"].first().nunique() == 4
    with pytest.raises(ValueError, match="outcome must be one of"):
        matched_panel(path, matched, starts, "salary", (-1, 0))


def test_comparisons_who_join_later_are_censored_from_their_own_start(tmp_path):
    from pipeline.register.outcomes import (
        censoring_months,
        matched_panel,
        outcome_at,
        outcome_paths,
    )

    # set 1: participant p1 with comparisons c1 (joins the 2020-HT cohort, 6 months later)
    # and c2; set 2: participant p2 with c3, who joins 2020-HT as well
    months = range(-1, 13)
    outcomes = pd.DataFrame([
        {"pid": pid, "cohort": "2020-VT", "rel_month": m, "employed": int(m >= 3),
         "earnings": 0.0, "registered_unemployed": 0, "employed_matching": 0}
        for pid in ("p1", "c1", "c2", "p2", "c3") for m in months
    ])
    path = tmp_path / "outcomes.parquet"
    outcomes.to_parquet(path)
    matched = pd.DataFrame({
        "pid": ["p1", "c1", "c2", "p2", "c3"], "cohort": "2020-VT",
        "treated": [True, False, False, True, False],
        "weights": [1.0, 0.75, 0.75, 1.0, 1.5], "subclass": [1, 1, 1, 2, 2],
    })
    participants = pd.DataFrame({"pid": ["p1", "p2", "c1", "c3"],
                                 "cohort": ["2020-VT", "2020-VT", "2020-HT", "2020-HT"]})
    starts = pd.DataFrame({"cohort": ["2020-VT", "2020-HT"], "cohort_start": [24242, 24248]})
    censored_from = censoring_months(matched, participants, starts)
    assert censored_from.tolist()[1] == 6 and censored_from.isna().tolist() == [
        True, False, True, True, False]
    censored = matched.assign(censored_from=censored_from)
    before = outcome_at(path, censored, 5)
    pd.testing.assert_frame_equal(before, outcome_at(path, matched, 5))
    after = outcome_at(path, censored, 6)
    # c1 leaves set 1 and c2 takes over its weight; set 2 loses its only comparison
    assert after["pid"].tolist() == ["p1", "c2"]
    assert after["weights"].tolist() == [1.0, 1.5]
    paths = outcome_paths(path, censored).set_index(["group", "rel_month"])["n"]
    assert paths.loc[("comparison", 5)] == 3 and paths.loc[("comparison", 6)] == 1
    panel = matched_panel(path, censored, starts, "employed", (-1, 12))
    assert panel.loc[panel["unit"] == "c1/2020-VT", "rel_month"].max() == 5


def test_specification_table_estimates_each_variant_and_says_why_one_fails(tmp_path):
    from pipeline.effects.specifications import specification_table

    rng = np.random.default_rng(11)
    n = 600
    baseline = pd.DataFrame({
        "pid": [f"p{i}" for i in range(n)], "cohort": np.where(np.arange(n) % 2, "A", "B"),
        "x": rng.normal(size=n), "employed_m6": rng.integers(0, 2, n),
    })
    baseline["treated"] = rng.random(n) < 1 / (1 + np.exp(2 - baseline["x"]))
    outcomes = baseline[["pid", "cohort"]].assign(
        rel_month=12, employed=(rng.random(n) < 0.5).astype(int), earnings=0.0,
        registered_unemployed=0, employed_matching=0)
    path = tmp_path / "outcomes.parquet"
    outcomes.to_parquet(path)
    table = specification_table(
        baseline, path, covariates=["x", "employed_m6"],
        match_options={"method": "nearest", "distance": "logit", "ratio": 1, "replace": False,
                       "caliper": 0.2},
        horizon_months=12,
        variants={"as configured": {}, "broken": {"ratio": 0},
                  "without labour-market history": {"covariates": ["x"]}},
    )
    assert list(table["specification"]) == [
        "as configured", "broken", "without labour-market history", "regression adjustment"]
    broken = table.set_index("specification").loc["broken"]
    assert broken["status"] == "not_estimable" and "ratio" in broken["note"]
    assert table.set_index("specification").loc["as configured", "n_t"] > 50


def test_every_estimate_carries_its_minimum_detectable_effect():
    from pipeline.effects.power import minimum_detectable_effect

    table = effects_table({12: matched_frame()}, matched_estimators(), outcomes=["employed"],
                          subgroups=["female"], min_treated=5)
    estimated = table.loc[table["status"] == "estimated"]
    assert len(estimated) and estimated["mde"].notna().all()
    row = estimated.iloc[0]
    # t reference with the clustered interval's degrees of freedom: a bit above 2.8 SE
    assert 2.8 * row["std_error"] < row["mde"] < 3.2 * row["std_error"]
    assert row["mde"] == pytest.approx(minimum_detectable_effect(
        row["std_error"], df=row["n_t"] - 1), rel=0.05)
    assert table.loc[table["status"] != "estimated", "mde"].isna().all()
