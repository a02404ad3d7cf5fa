"""Validation: does the whole pipeline recover the true effect across many synthetic worlds?

``make validate`` builds ``VALIDATE_SEEDS`` (default 20) small worlds with different seeds,
runs the real stages (clean, panel, match, estimate) on each, and compares the 12-month
employment estimate with the truth file: mean error, spread of the errors against the mean
standard error, and how often the 95% interval covers the truth. ``VALIDATE_RATIO=k``
overrides the matching ratio. ``VALIDATE_UNOBSERVED=1`` switches on selection on an unobserved
trait, where matching on the register should be biased (what a sensitivity analysis has to
find). ``VALIDATE_STUDY=<name>`` validates one of the example studies instead of the demo
(``config/<name>.yml``, at its own size unless ``VALIDATE_PERSONS``/``VALIDATE_PER_COHORT``
are set), at its headline outcome and horizon; a world whose design supports no estimate is
counted as declined.

This is a statistical check over repeated worlds, too slow for ``make test``; results go to
``benchmarks/results/coverage-<timestamp>.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from pipeline.config import REPO_ROOT, load_config
from pipeline.effects.table import headline
from pipeline.runner import run_stage
from pipeline.synth.studies import study_settings, write_config
from pipeline.synth.world import build_world

STAGES = ("clean", "panel", "match", "estimate")


TRUTH_OUTCOME = {"employed": "employed", "employed_matching": "employed_matching_education"}


def true_effect(config, outcome: str, horizon: int) -> float | None:
    """The true ATT at a horizon in the study's time unit, from the world's truth file."""
    truth = json.loads(config.truth_path.read_text())
    if config.time_unit == "year":
        rows, key = truth["att_years"][TRUTH_OUTCOME[outcome]]["all"], "horizon_years"
    else:
        rows, key = truth["att"][TRUTH_OUTCOME[outcome]]["all"], "horizon_months"
    return next(r["att"] for r in rows if r[key] == horizon)


def one_world(
    root: Path, seed: int, study: str, overrides: dict, unobserved: bool, ratio: int | None
) -> dict:
    """Build one world, run the stages, and return estimate and truth at the horizon."""
    settings = study_settings(root, study, seed=seed, selection_on_unobservables=unobserved,
                              **overrides)
    if ratio is not None:
        settings["matching"]["ratio"] = ratio
    path = write_config(root, settings)
    config = load_config(path)
    build_world(config)
    for stage in STAGES:
        run_stage(stage, str(path))
    outcome = config.estimation.headline_outcome
    effects = headline(pd.read_parquet(config.processed_dir / "effects.parquet"),
                       config.headline_rel_month)
    row = effects.loc[effects["outcome"] == outcome].iloc[0]
    true_att = true_effect(config, outcome, config.estimation.headline_horizon)
    numbers = {name: float(row[name]) for name in ("estimate", "std_error", "ci_low", "ci_high")}
    if row["status"] == "declined":
        return {"seed": seed, **numbers, "truth": true_att, "n_treated": int(row["n_t"]),
                "declined": True}
    # what the sensitivity analysis and the placebo test say about the same estimate
    robustness = pd.read_parquet(config.processed_dir / "robustness.parquet").set_index(
        "outcome").loc[outcome]
    placebo = pd.read_parquet(config.processed_dir / "placebo.parquet").set_index(
        "outcome").loc[outcome]
    sensitivity = {"critical_gamma": float(robustness["critical_gamma"]),
                   "e_value": float(robustness["e_value"]),
                   "placebo_estimate": float(placebo["estimate"]),
                   "placebo_covers_zero": bool(placebo["ci_low"] <= 0 <= placebo["ci_high"])}
    return {"seed": seed, **numbers, "truth": true_att, "n_treated": int(row["n_t"]),
            "declined": False, **sensitivity}


def main() -> None:
    seeds = int(os.environ.get("VALIDATE_SEEDS", "20"))
    study = os.environ.get("VALIDATE_STUDY", "demo")
    # the demo is validated on smaller worlds than its own; example studies at their own size
    overrides = {"n_persons": 30000, "participants_per_cohort": 60} if study == "demo" else {}
    if os.environ.get("VALIDATE_PERSONS"):
        overrides["n_persons"] = int(os.environ["VALIDATE_PERSONS"])
    if os.environ.get("VALIDATE_PER_COHORT"):
        overrides["participants_per_cohort"] = int(os.environ["VALIDATE_PER_COHORT"])
    unobserved = os.environ.get("VALIDATE_UNOBSERVED", "0") == "1"
    ratio = int(os.environ["VALIDATE_RATIO"]) if os.environ.get("VALIDATE_RATIO") else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="mentor-eval-validate-") as scratch:
        for seed in range(1, seeds + 1):
            rows.append(one_world(Path(scratch) / str(seed), seed, study, overrides,
                                  unobserved, ratio))
            print(f"seed {seed}: {rows[-1]}", flush=True)
    everything = pd.DataFrame(rows)
    frame = everything.loc[~everything["declined"]]
    error = frame["estimate"] - frame["truth"]
    covered = (frame["ci_low"] <= frame["truth"]) & (frame["truth"] <= frame["ci_high"])
    summary = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "study": study, "worlds": seeds, "declined": int(everything["declined"].sum()),
        **overrides,
        "selection_on_unobservables": unobserved, "ratio_override": ratio,
        "mean_error": float(error.mean()),
        "sd_error": float(error.std()),
        "mean_std_error": float(frame["std_error"].mean()),
        "coverage_95": float(covered.mean()),
        "median_critical_gamma": float(frame["critical_gamma"].median()),
        "median_e_value": float(frame["e_value"].median()),
        "placebo_covers_zero": float(frame["placebo_covers_zero"].mean()),
        "worlds_detail": rows,
    }
    folder = REPO_ROOT / "benchmarks" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = summary["when"].replace(":", "").replace("-", "")
    (folder / f"coverage-{study}-{stamp}.json").write_text(json.dumps(summary, indent=2))
    print(f"{study}: {seeds} worlds ({summary['declined']} declined), selection on "
          f"unobservables: {unobserved}")
    print(f"mean error {summary['mean_error']:+.4f}, sd of errors {summary['sd_error']:.4f}, "
          f"mean SE {summary['mean_std_error']:.4f}, 95% coverage {summary['coverage_95']:.2f}")
    print(f"median critical Gamma {summary['median_critical_gamma']:.2f}, median E-value "
          f"{summary['median_e_value']:.2f}, placebo interval covers 0 in "
          f"{summary['placebo_covers_zero']:.0%} of worlds")


if __name__ == "__main__":
    main()
