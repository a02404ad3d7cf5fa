"""The five example studies (one per seed programme's shape) run end to end on small worlds.

Each bundled configuration (``config/<study>.yml``) is re-rooted in a temporary folder; the
Mitt Livs Chans world is shrunk (its real size is ~1,000 participants a year), the others run at
their own size. Every stage runs as ``make report`` runs it. For each world the report must
either give an interval that covers the true effect at the headline horizon, or decline to
estimate and say why.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.runner import STAGES, run_stage
from pipeline.stage import read_manifest
from pipeline.synth.studies import EXAMPLE_STUDIES, study_settings, write_config
from pipeline.synth.world import build_world

pytestmark = pytest.mark.slow

# Smaller worlds where the real size would make the suite slow.
SMALL = {"mitt_livs_chans": {"n_persons": 30_000, "participants_per_cohort": 40}}
TRUTH_OUTCOME = {"employed": "employed", "employed_matching": "employed_matching_education"}


def _run_study(name: str, root: str) -> str:
    """Build a study's world in ``root`` and run every stage; return its config path."""
    root_path = Path(root)
    settings = study_settings(root_path, name, **SMALL.get(name, {}))
    path = write_config(root_path, settings)
    build_world(load_config(path))
    for stage in STAGES:
        run_stage(stage, str(path))
    return str(path)


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict:
    """All five studies run through every stage, two at a time (each stage is a notebook
    in its own kernel; the suite's machines have two cores)."""
    roots = {name: str(tmp_path_factory.mktemp(name)) for name in EXAMPLE_STUDIES}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        paths = dict(zip(roots, pool.map(_run_study, roots, roots.values()), strict=True))
    return {name: load_config(path) for name, path in paths.items()}


@pytest.fixture(params=EXAMPLE_STUDIES)
def study(request, studies):
    """One example study, run end to end."""
    return studies[request.param]


def _truth(config, outcome: str) -> float:
    truth = json.loads(config.truth_path.read_text())
    horizon = config.estimation.headline_horizon
    if config.time_unit == "year":
        rows, key = truth["att_years"][TRUTH_OUTCOME[outcome]]["all"], "horizon_years"
    else:
        rows, key = truth["att"][TRUTH_OUTCOME[outcome]]["all"], "horizon_months"
    return next(r["att"] for r in rows if r[key] == horizon)


def test_report_renders(study):
    html = (study.report_dir / "report.html").read_text(encoding="utf-8")
    assert study.title in html
    assert "{{" not in html and "{%" not in html  # rendered, no template left
    assert f'lang="{study.language}"' in html


def test_interval_covers_the_truth_or_the_report_declines(study):
    verdict = pd.read_parquet(study.processed_dir / "design_verdict.parquet").iloc[0]
    effects = pd.read_parquet(study.processed_dir / "effects.parquet")
    outcome = study.estimation.headline_outcome
    row = effects.loc[(effects["subgroup"] == "all") & (effects["outcome"] == outcome)
                      & (effects["horizon_months"] == study.headline_rel_month)].iloc[0]
    html = (study.report_dir / "report.html").read_text(encoding="utf-8")
    if bool(verdict["estimable"]):
        truth = _truth(study, outcome)
        assert row["status"] in ("estimated", "partial")
        assert row["ci_low"] <= truth <= row["ci_high"], (row.to_dict(), truth)
        assert row["mde"] > 0
    else:
        assert row["status"] == "declined" and pd.isna(row["estimate"])
        descriptive = pd.read_parquet(study.processed_dir / "descriptive.parquet")
        assert set(descriptive["horizon_months"]) == set(study.horizon_rel_months)
        assert verdict["reason"] in ("too_few_participants", "no_overlap")
        assert "declined" not in html  # the reason is said in words, not as a status code


def test_every_row_is_accounted_for(study):
    clean = read_manifest(study, "clean")["rows"]
    roster = clean["roster"]
    assert roster["rows_read"] == roster["rows_kept"] + roster["rows_quarantined"]
    for counts in clean["surveys"].values():
        assert counts["rows_read"] == (counts["rows_kept"] + counts["rows_quarantined"]
                                       + counts["rows_excluded"])
    panel = read_manifest(study, "panel")
    rows = panel["rows"]
    assert rows["participants_listed"] == (
        rows["participants_not_in_register"] + rows["participants_not_eligible_at_start"]
        + rows["participants_in_analysis"])
    adapter = panel["facts"]["register_adapter"]
    for part in adapter.values():
        if isinstance(part, dict) and "rows_read" in part and "kept" in part:
            quarantined = sum(part.get("quarantined", {}).values())
            assert part["rows_read"] == part["kept"] + quarantined + part.get(
                "outside_months", 0) + part.get("outside_years", 0), part


def test_the_shape_of_each_programme(study):
    baseline = pd.read_parquet(study.processed_dir / "baseline.parquet")
    panel = read_manifest(study, "panel")["facts"]
    html = (study.report_dir / "report.html").read_text(encoding="utf-8")
    if study.study == "uppsala_yrkesmentor":  # women only, survey key results
        assert baseline["female"].eq(1).all()
        assert 'id="survey"' in html
    if study.study == "greater_copenhagen":  # DREAM, eIndkomst and BEF through the adapter
        assert panel["register_shape"] == "denmark"
        assert panel["register_adapter"]["dream"]["coded_weeks_by_group"]
    if study.study == "cccc":  # annual FOLK data: horizons in years
        assert panel["register_shape"] == "finland" and panel["time_unit"] == "year"
        effects = pd.read_parquet(study.processed_dir / "effects.parquet")
        assert set(effects["horizon_months"]) == {11, 23}
    if study.study == "mitt_livs_chans":  # post-secondary only, several cities
        assert baseline["education_level"].astype(int).ge(5).all()
        assert baseline.loc[baseline["treated"], "municipality"].nunique() >= 3
    if study.study == "bottomup_esf":  # five cohorts over two and a half years
        assert baseline.loc[baseline["treated"], "cohort"].nunique() == 5
