"""Designs that cannot support every estimate: the stages say so instead of a silent number.

A cohort whose participants have no eligible non-participant at its start month, and studies
with fewer participants than the minimum, run through the match and estimate stages of a small
synthetic world.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml

from pipeline.config import load_config
from pipeline.runner import run_stage
from pipeline.stage import manifest_path
from tests.conftest import write_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def panel_done(small_world, tmp_path_factory):
    """The small world's clean and panel stages, run once for this module."""
    path, config = small_world
    root = tmp_path_factory.mktemp("bad_designs")
    settings = yaml.safe_load(path.read_text())
    shutil.copytree(config.raw_dir, root / "raw")
    settings["data"]["raw_dir"] = str(root / "raw")
    settings["output_root"] = str(root / "out")
    new_path = write_config(root, settings)
    for stage in ("clean", "panel"):
        run_stage(stage, str(new_path))
    return root, settings


def study_copy(panel_done, tmp_path, *, min_treated: int, drop_pool_of_first_cohort: bool,
               estimation: dict | None = None, matching: dict | None = None):
    """A copy of the finished panel stage with its own settings and, optionally, the first
    cohort's comparison pool removed (as if nobody else had been eligible at its start)."""
    root, settings = panel_done
    settings = json.loads(json.dumps(settings))
    settings["output_root"] = str(tmp_path / "out")
    settings["estimation"] = {**settings.get("estimation", {}),
                              "min_treated_subgroup": min_treated, **(estimation or {})}
    settings["matching"] = {**settings["matching"], **(matching or {})}
    shutil.copytree(root / "out", tmp_path / "out")
    path = write_config(tmp_path, settings)
    config = load_config(path)
    baseline_path = config.processed_dir / "baseline.parquet"
    baseline = pd.read_parquet(baseline_path)
    first = baseline["cohort"].min()
    if drop_pool_of_first_cohort:
        baseline = baseline.loc[(baseline["cohort"] != first) | baseline["treated"]]
        baseline.to_parquet(baseline_path)
    return path, config, first


def test_a_cohort_without_eligible_comparisons_is_named_not_hidden(panel_done, tmp_path):
    path, config, first = study_copy(panel_done, tmp_path, min_treated=10,
                                     drop_pool_of_first_cohort=True)
    run_stage("match", str(path))
    counts = pd.read_parquet(config.processed_dir / "match_counts_by_cohort.parquet")
    counts = counts.set_index("cohort")
    assert counts.loc[first, "unmatched_reason"] == "no eligible comparison"
    assert counts.loc[first, "treated_unmatched"] == counts.loc[first, "treated"] > 0
    rows = json.loads(manifest_path(config, "match").read_text())["rows"]
    assert rows["cohorts_without_eligible_comparisons"] == 1
    run_stage("estimate", str(path))
    effects = pd.read_parquet(config.processed_dir / "effects.parquet")
    by_cohort = effects.loc[effects["subgroup"] == "cohort", "subgroup_value"]
    assert first not in set(by_cohort) and by_cohort.nunique() == len(counts) - 1


def test_fewer_participants_than_the_minimum_give_no_estimate_but_run(panel_done, tmp_path):
    path, config, _ = study_copy(panel_done, tmp_path, min_treated=100_000,
                                 drop_pool_of_first_cohort=False)
    run_stage("match", str(path))
    run_stage("estimate", str(path))
    effects = pd.read_parquet(config.processed_dir / "effects.parquet")
    observable = effects["status"] != "not_observable"
    assert set(effects.loc[observable, "status"]) == {"too_few"}
    assert effects["estimate"].isna().all()


@pytest.mark.parametrize("change, reason, says", [
    ({"estimation": {"min_participants": 100_000}}, "too_few_participants",
     "fewer than the 100,000 the design needs"),
    ({"matching": {"caliper": 0.0001}}, "no_overlap", "comparable non-participant"),
])
def test_a_design_that_cannot_support_an_estimate_is_declined_in_words(
        panel_done, tmp_path, change, reason, says):
    path, config, _ = study_copy(panel_done, tmp_path, min_treated=10,
                                 drop_pool_of_first_cohort=False, **change)
    for stage in ("match", "estimate", "report"):
        run_stage(stage, str(path))
    verdict = pd.read_parquet(config.processed_dir / "design_verdict.parquet").iloc[0]
    assert not verdict["estimable"] and verdict["reason"] == reason
    effects = pd.read_parquet(config.processed_dir / "effects.parquet")
    assert set(effects["status"]) <= {"declined", "not_observable"}
    assert effects["estimate"].isna().all()
    # nothing that tests an estimate is written when there is none
    for name in ("placebo", "robustness", "specifications", "event_study", "group_time"):
        assert not (config.processed_dir / f"{name}.parquet").exists(), name
    descriptive = pd.read_parquet(config.processed_dir / "descriptive.parquet")
    assert descriptive["n_observed"].gt(0).any()
    html = (config.report_dir / "report.html").read_text(encoding="utf-8")
    assert says in html.replace("\u202f", " ").replace("&nbsp;", " ").replace("\xa0", " ")
