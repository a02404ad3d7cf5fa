"""Tests of pipeline.surveys.results and pipeline.surveys.nonresponse: what participants said.

Hand-made answers with known shares; Wilson intervals against statsmodels and the textbook
formula; Newcombe's paired interval against the published example (Fagerland, Lydersen & Laake
2017, ch. 8: Cavo et al. 2012); McNemar against scipy's binomial test; a simulated roster whose
response depends on employment history, where the re-weighted key result must recover the
population share that the unweighted one misses.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

from pipeline.surveys.codebook import Codebook, load_codebook
from pipeline.surveys.nonresponse import (
    compare_respondents,
    kish_design_effect,
    nonresponse_weights,
    outcome_at,
    response_indicator,
    reweighted_key_results,
    weight_summary,
)
from pipeline.surveys.results import (
    PAIRED_COLUMNS,
    intake_vs_end,
    key_results,
    likert_distribution,
    newcombe_paired_interval,
)

CODEBOOK_PATH = Path(__file__).resolve().parents[1] / "config" / "codebooks" / "mentor_survey.yml"


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return load_codebook(CODEBOOK_PATH)


@pytest.fixture(scope="module")
def descending_codebook() -> Codebook:
    """The same codebook with agree5 running 1 = strongly agree ... 5 = strongly disagree."""
    raw = yaml.safe_load(CODEBOOK_PATH.read_text(encoding="utf-8"))
    raw["scales"]["agree5"]["direction"] = "descending"
    return Codebook.model_validate(raw)


def answers(wave: str, item: str, values: list, start: int = 0) -> pd.DataFrame:
    """Long answers: a number is answered; "dk", "na", "oor" the other statuses."""
    status = {"dk": "dont_know", "na": "item_nonresponse", "oor": "out_of_range"}
    return pd.DataFrame(
        {
            "pseudonym": [f"p{start + i:04d}" for i in range(len(values))],
            "wave": wave,
            "language": "sv",
            "item": item,
            "value": [float(v) if not isinstance(v, str) else np.nan for v in values],
            "status": [status[v] if isinstance(v, str) else "answered" for v in values],
        }
    )


CONF_INTAKE = [1, 2, 2, 3, 4, 4, 4, 5, "dk", "na", "oor"]  # 8 substantive, 4+5 = 4


# ---- distributions -----------------------------------------------------------------------
def test_likert_distribution_known_shares(codebook):
    dist = likert_distribution(answers("intake", "conf_job", CONF_INTAKE), codebook)
    mine = dist[(dist["item"] == "conf_job") & (dist["wave"] == "intake")]
    assert mine["category"].tolist() == [1, 2, 3, 4, 5]
    assert mine["rank"].tolist() == [1, 2, 3, 4, 5]
    assert mine["side"].tolist() == [-1, -1, 0, 1, 1]
    assert mine["n"].tolist() == [1, 2, 1, 3, 1]
    np.testing.assert_allclose(mine["share"], [1 / 8, 2 / 8, 1 / 8, 3 / 8, 1 / 8])
    assert set(mine["n_item"]) == {8}
    assert set(mine["n_dont_know"]) == {1}
    assert set(mine["n_missing"]) == {2}  # item non-response and out of range
    # every Likert item x wave the codebook asks has rows, answered or not
    assert set(zip(dist["item"], dist["wave"], strict=True)) >= {
        ("conf_job", "end"), ("mentor_useful", "end"), ("network", "intake")
    }
    assert ("mentor_useful", "intake") not in set(zip(dist["item"], dist["wave"], strict=True))
    empty = dist[(dist["item"] == "network") & (dist["wave"] == "intake")]
    assert (empty["n"] == 0).all() and empty["share"].isna().all()


def test_descending_scale_is_put_in_agreement_order(descending_codebook):
    # on the descending scale 1 = strongly agree: three people agree strongly, one agrees
    data = answers("intake", "conf_job", [1, 1, 1, 2, 3, 5, "dk"])
    dist = likert_distribution(data, descending_codebook, items=["conf_job"], waves=["intake"])
    assert dist["category"].tolist() == [5, 4, 3, 2, 1]
    assert dist["rank"].tolist() == [1, 2, 3, 4, 5]
    assert dist["n"].tolist() == [1, 0, 1, 1, 3]
    keys = key_results(data, descending_codebook, waves=["intake"]).set_index("item")
    assert keys.loc["conf_job", "positive_codes"] == "2,1"
    assert keys.loc["conf_job", "numerator"] == 4
    assert keys.loc["conf_job", "n"] == 6


# ---- key results -------------------------------------------------------------------------
def test_key_results_wilson_equals_statsmodels_and_textbook(codebook):
    data = pd.concat(
        [
            answers("intake", "conf_job", CONF_INTAKE),
            answers("end", "job_now", [1] * 7 + [2] * 13 + ["na"]),
        ]
    )
    keys = key_results(data, codebook).set_index(["item", "wave"])
    conf = keys.loc[("conf_job", "intake")]
    assert (conf["numerator"], conf["n"], conf["n_dont_know"], conf["n_missing"]) == (4, 8, 1, 2)
    assert conf["share"] == 0.5 and conf["method"] == "wilson"
    low, high = proportion_confint(4, 8, alpha=0.05, method="wilson")
    assert conf["ci_low"] == pytest.approx(low, abs=1e-12)
    assert conf["ci_high"] == pytest.approx(high, abs=1e-12)

    job = keys.loc[("job_now", "end")]
    assert (job["numerator"], job["n"], job["n_missing"]) == (7, 20, 1)
    assert job["kind"] == "yes_no" and job["positive_codes"] == "1"
    # textbook Wilson (1927): (x + z^2/2 +- z sqrt(x (n - x) / n + z^2 / 4)) / (n + z^2)
    x, n, z = 7, 20, 1.959963984540054
    centre, half = x + z**2 / 2, z * math.sqrt(x * (n - x) / n + z**2 / 4)
    assert job["ci_low"] == pytest.approx((centre - half) / (n + z**2), abs=1e-9)
    assert job["ci_high"] == pytest.approx((centre + half) / (n + z**2), abs=1e-9)
    assert job["ci_low"] == pytest.approx(0.1812, abs=1e-4)  # 7/20: 0.181 to 0.567
    assert job["ci_high"] == pytest.approx(0.5671, abs=1e-4)
    # meetings is a count: no key result
    assert "meetings" not in keys.index.get_level_values("item")


def test_agree_codes_and_confidence_level_are_parameters(codebook):
    data = answers("intake", "conf_job", CONF_INTAKE)
    top = key_results(data, codebook, waves=["intake"], agree_codes=[5]).set_index("item")
    assert top.loc["conf_job", "numerator"] == 1
    by_scale = key_results(data, codebook, waves=["intake"], agree_codes={"agree5": [3, 4, 5]})
    assert by_scale.set_index("item").loc["conf_job", "numerator"] == 5
    wide = key_results(data, codebook, waves=["intake"], confidence_level=0.99)
    narrow = key_results(data, codebook, waves=["intake"])
    width = (wide["ci_high"] - wide["ci_low"]).iloc[0]
    assert width > (narrow["ci_high"] - narrow["ci_low"]).iloc[0]
    with pytest.raises(ValueError, match="not substantive codes"):
        key_results(data, codebook, agree_codes=[9])
    with pytest.raises(ValueError, match="confidence_level"):
        key_results(data, codebook, confidence_level=95)


def test_a_wave_without_respondents_gives_zero_and_nan(codebook):
    data = answers("intake", "conf_job", CONF_INTAKE)
    keys = key_results(data, codebook)
    end = keys[keys["wave"] == "end"]
    assert len(end) == 6  # five Likert items and job_now are asked at the end
    assert (end["n"] == 0).all() and (end["numerator"] == 0).all()
    assert end[["share", "ci_low", "ci_high"]].isna().all().all()
    # no respondents at all: every row still there
    nothing = data.iloc[0:0]
    assert (key_results(nothing, codebook)["n"] == 0).all()
    assert likert_distribution(nothing, codebook)["share"].isna().all()
    paired = intake_vs_end(nothing, codebook)
    assert list(paired.columns) == PAIRED_COLUMNS
    assert (paired["n_pairs"] == 0).all() and paired["difference"].isna().all()
    assert paired["mcnemar_p"].isna().all()


def test_invalid_input_is_named(codebook):
    data = answers("intake", "conf_job", CONF_INTAKE)
    with pytest.raises(ValueError, match=r"\['status'\]"):
        key_results(data.drop(columns="status"), codebook)
    with pytest.raises(ValueError, match="unknown status"):
        key_results(data.assign(status="skipped"), codebook)
    with pytest.raises(ValueError, match="nonsense"):
        key_results(data.assign(item="nonsense"), codebook)
    with pytest.raises(ValueError, match="repeat"):
        key_results(pd.concat([data, data]), codebook)
    with pytest.raises(ValueError, match=r"code\(s\) \[7.0\]"):
        key_results(answers("intake", "conf_job", [7]), codebook)
    with pytest.raises(ValueError, match="not waves"):
        key_results(data, codebook, waves=["follow_up"])


# ---- intake versus end -------------------------------------------------------------------
def test_newcombe_paired_interval_matches_the_published_example():
    # Cavo et al. (2012) in Fagerland, Lydersen & Laake (2017), ch. 8: table [[59, 6], [16, 80]]
    # (rows: first measurement positive/negative); first - second = -0.0621 (-0.1186 to -0.0046)
    diff, low, high = newcombe_paired_interval(59, 6, 16, 80)
    assert diff == pytest.approx(0.0621, abs=1e-4)  # second - first
    assert low == pytest.approx(0.0046, abs=1e-4)
    assert high == pytest.approx(0.1186, abs=1e-4)
    assert all(np.isnan(newcombe_paired_interval(0, 0, 0, 0)))


def test_intake_vs_end_pairs_the_panel(codebook):
    # panel of 30: 10 agree at both, 3 only at intake, 12 only at the end, 5 at neither;
    # plus 6 intake-only and 4 end-only respondents who do not count in the panel
    intake = [5] * 10 + [4] * 3 + [2] * 12 + [1] * 5 + [5] * 6
    end = [4] * 10 + [3] * 3 + [5] * 12 + [2] * 5
    data = pd.concat(
        [
            answers("intake", "conf_job", intake),
            answers("end", "conf_job", end),
            answers("end", "conf_job", [5, 5, 1, 1], start=100),
        ]
    )
    paired = intake_vs_end(data, codebook).set_index("item")
    row = paired.loc["conf_job"]
    assert (row["n_first"], row["numerator_first"]) == (36, 19)
    assert (row["n_second"], row["numerator_second"]) == (34, 24)
    assert (row["n_pairs"], row["both"], row["first_only"], row["second_only"], row["neither"]) \
        == (30, 10, 3, 12, 5)
    assert row["share_first_panel"] == pytest.approx(13 / 30)
    assert row["share_second_panel"] == pytest.approx(22 / 30)
    assert row["difference"] == pytest.approx(9 / 30)
    diff, low, high = newcombe_paired_interval(10, 3, 12, 5)
    assert (row["difference_ci_low"], row["difference_ci_high"]) == (low, high)
    assert low < 9 / 30 < high
    # McNemar exact = two-sided binomial test of 3 vs 12 discordant pairs
    assert row["mcnemar_p"] == pytest.approx(binomtest(3, 15, 0.5).pvalue)
    # items asked only at the end (mentor_useful, job_now) are not compared
    assert set(paired.index) == {"conf_job", "know_market", "network", "motivated"}


# ---- non-response ------------------------------------------------------------------------
def expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@pytest.fixture(scope="module")
def population():
    """A roster of 3,000 participants: response at the end depends on employment history,
    and so do having a job now and confidence; everyone answers intake."""
    rng = np.random.default_rng(20240611)
    n = 3000
    history = rng.integers(0, 37, n)
    pids = np.array([f"p{i:05d}" for i in range(n)])
    covariates = pd.DataFrame(
        {
            "pid": pids,
            "cohort": "2022-HT",
            "months_employed_36": history,
            "female": rng.binomial(1, 0.6, n),
            "region_of_birth": rng.choice(["Asia", "EU", "MENA"], n),
            "history_band": pd.cut(history, [-1, 6, 12, 18, 24, 30, 36]).astype(str),
        }
    )
    responded = rng.random(n) < expit(-1.5 + 0.09 * history)
    job = rng.random(n) < expit(-2.5 + 0.13 * history)
    agree = rng.random(n) < expit(-1.0 + 0.08 * history)
    conf = np.where(agree, rng.choice([4, 5], n), rng.choice([1, 2, 3], n)).astype(float)
    status = pd.DataFrame(
        {
            "pid": np.repeat(pids, 2),
            "wave": np.tile(["intake", "end"], n),
            "status": np.ravel(np.column_stack(
                [np.full(n, "responded"), np.where(responded, "responded", "not_reached")]
            )),
        }
    )
    r = np.flatnonzero(responded)
    long = pd.concat(
        [
            pd.DataFrame({"pseudonym": pids, "wave": "intake", "item": "conf_job",
                          "value": 3.0, "status": "answered"}),
            pd.DataFrame({"pseudonym": pids[r], "wave": "end", "item": "job_now",
                          "value": np.where(job[r], 1.0, 2.0), "status": "answered"}),
            pd.DataFrame({"pseudonym": pids[r], "wave": "end", "item": "conf_job",
                          "value": conf[r], "status": "answered"}),
        ],
        ignore_index=True,
    )
    outcomes = pd.DataFrame({"pid": pids, "cohort": "2022-HT", "rel_month": 12,
                             "employed": job.astype(int)})
    truth = {"job_now": job.mean(), "conf_job": agree.mean()}
    return {"covariates": covariates, "status": status, "responses": long,
            "outcomes": outcomes, "truth": truth, "responded": responded}


def test_response_indicator_from_status_or_from_responses(population):
    participants = population["covariates"][["pid", "cohort"]]
    from_status = response_indicator(population["status"], participants=participants)
    assert list(from_status.columns) == ["pid", "wave", "status", "responded", "cohort"]
    assert from_status.groupby("wave")["responded"].sum().to_dict() == {
        "intake": 3000, "end": int(population["responded"].sum())
    }
    from_answers = response_indicator(participants=participants,
                                      responses=population["responses"])
    merged = from_status.merge(from_answers, on=["pid", "wave"], suffixes=("", "_answers"))
    assert len(merged) == 6000 and (merged["responded"] == merged["responded_answers"]).all()
    assert set(from_answers["status"]) == {"responded", "no_response"}
    # a wave nobody answered still has every participant, none responding
    later = response_indicator(population["status"], waves=["end", "follow_up"])
    assert (~later.loc[later["wave"] == "follow_up", "responded"]).all()
    assert (later["wave"] == "follow_up").sum() == 3000
    with pytest.raises(ValueError, match=r"\['status'\]"):
        response_indicator(population["status"].drop(columns="status"))
    with pytest.raises(ValueError, match="both participants and responses"):
        response_indicator(participants=participants)


@pytest.mark.parametrize(
    ("method", "covariates"),
    [("logit", ["months_employed_36", "female", "region_of_birth"]),
     ("raking", ["history_band", "female", "region_of_birth"])],
)
def test_reweighting_removes_the_bias_of_history_driven_response(population, codebook, method,
                                                                 covariates):
    indicator = response_indicator(population["status"])
    weights = nonresponse_weights(indicator, population["covariates"], covariates, method=method)
    end = weights.xs("end", level="wave")
    # documented: positive, one per respondent, summing to the wave's population
    assert (end > 0).all() and len(end) == population["responded"].sum()
    assert end.sum() == pytest.approx(3000)
    assert weights.xs("intake", level="wave").to_numpy() == pytest.approx(1.0)
    summary = weight_summary(weights).set_index("wave")
    assert summary.loc["end", "deff_kish"] >= 1 and summary.loc["intake", "deff_kish"] == 1
    assert summary.loc["end", "deff_kish"] == pytest.approx(kish_design_effect(end))
    assert summary.loc["end", "n_population"] == 3000
    if method == "logit":
        assert summary.loc["end", "trim_quantile"] == 0.99 and summary.loc["end", "n_trimmed"] > 0

    results = reweighted_key_results(population["responses"], codebook, weights, waves=["end"])
    results = results.set_index("item")
    for item, truth in population["truth"].items():
        row = results.loc[item]
        unweighted_bias = abs(row["share"] - truth)
        weighted_bias = abs(row["share_weighted"] - truth)
        assert unweighted_bias > 0.06, (item, row["share"], truth)
        assert weighted_bias < 0.03, (item, row["share_weighted"], truth)
        assert weighted_bias < unweighted_bias / 3
        assert row["ci_low_weighted"] <= truth <= row["ci_high_weighted"]
        assert row["n_effective"] < row["n_weighted"] == row["n"]
        assert row["deff_kish"] == pytest.approx(row["n_weighted"] / row["n_effective"])


def test_compare_respondents_shows_the_selection_and_the_weights_remove_it(population):
    indicator = response_indicator(population["status"])
    covariates_frame = population["covariates"].merge(
        outcome_at(population["outcomes"]), on=["pid", "cohort"]
    )
    covariates = ["months_employed_36", "female", "region_of_birth"]
    weights = nonresponse_weights(indicator, covariates_frame, ["history_band", "female",
                                                                "region_of_birth"],
                                  method="raking")
    table = compare_respondents(indicator, covariates_frame, covariates,
                                outcomes=["employed_after_12"], weights=weights)
    end = table[table["wave"] == "end"].set_index("variable")
    history = end.loc["months_employed_36"]
    assert history["smd"] > 0.3 and history["type"] == "continuous"
    assert history["n_respondents"] + history["n_nonrespondents"] == 3000
    assert abs(history["smd_weighted_vs_all"]) < 0.05 < history["smd_vs_all"]
    # the SMD is that of the matching balance table: difference over the respondents' SD
    x = covariates_frame["months_employed_36"].to_numpy(float)
    r = population["responded"]
    assert history["smd"] == pytest.approx((x[r].mean() - x[~r].mean()) / x[r].std(ddof=1))
    assert set(end.loc[["region_of_birth_Asia", "region_of_birth_EU"], "type"]) == {"binary"}
    # raked margins are exact: shares of weighted respondents equal everyone's
    for term in ("female", "region_of_birth_Asia", "region_of_birth_MENA"):
        assert end.loc[term, "smd_weighted_vs_all"] == pytest.approx(0, abs=1e-6)
    outcome = end.loc["employed_after_12"]
    assert outcome["role"] == "outcome" and outcome["smd"] > 0.2
    # intake: everyone responded; nobody to compare with
    intake = table[table["wave"] == "intake"]
    assert (intake["n_nonrespondents"] == 0).all() and intake["mean_nonrespondents"].isna().all()


def test_weighting_edge_cases(population, codebook):
    status = population["status"]
    nobody = status.assign(status=np.where(status["wave"] == "end", "refused", "responded"))
    indicator = response_indicator(nobody)
    covariates = ["months_employed_36", "female"]
    weights = nonresponse_weights(indicator, population["covariates"], covariates)
    assert set(weights.index.get_level_values("wave")) == {"intake"}
    summary = weight_summary(weights).set_index("wave")
    assert summary.loc["end", "n_respondents"] == 0
    end_answers = population["responses"][population["responses"]["wave"] == "intake"]
    results = reweighted_key_results(end_answers, codebook, weights)
    end = results[results["wave"] == "end"]
    assert (end["n"] == 0).all() and (end["n_weighted"] == 0).all()
    assert end[["share", "share_weighted", "ci_low_weighted"]].isna().all().all()
    compared = compare_respondents(indicator, population["covariates"], covariates)
    assert compared.loc[compared["wave"] == "end", "mean_respondents"].isna().all()

    # equal weights reproduce the unweighted Wilson interval
    equal = pd.DataFrame({"pid": [f"p{i:04d}" for i in range(len(CONF_INTAKE))],
                          "wave": "intake", "weight": 2.0})
    same = reweighted_key_results(answers("intake", "conf_job", CONF_INTAKE), codebook, equal,
                                  waves=["intake"]).set_index("item").loc["conf_job"]
    assert same["share_weighted"] == same["share"]
    assert (same["ci_low_weighted"], same["ci_high_weighted"]) == pytest.approx(
        (same["ci_low"], same["ci_high"]))

    with pytest.raises(ValueError, match="missing value"):
        nonresponse_weights(indicator, population["covariates"].assign(
            female=lambda f: f["female"].where(f.index > 0)), covariates)
    with pytest.raises(ValueError, match="more than one row"):
        nonresponse_weights(indicator, pd.concat([population["covariates"]] * 2), covariates)
    with pytest.raises(ValueError, match=r"\['nonsense'\]"):
        compare_respondents(indicator, population["covariates"], ["nonsense"])
    with pytest.raises(ValueError, match="method"):
        nonresponse_weights(indicator, population["covariates"], covariates, method="cells")
    with pytest.raises(ValueError, match="not positive"):
        reweighted_key_results(end_answers, codebook, equal.assign(weight=0.0))
