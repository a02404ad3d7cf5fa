"""Validation: does the whole pipeline recover the true effect across many synthetic worlds?

``make validate`` builds ``VALIDATE_SEEDS`` (default 20) small worlds with different seeds,
runs the real stages (clean, panel, match, estimate) on each, and compares the 12-month
employment estimate with the truth file: mean error, spread of the errors against the mean
standard error, and how often the 95% interval covers the truth. ``VALIDATE_RATIO=k``
overrides the matching ratio. ``VALIDATE_UNOBSERVED=1`` switches on selection on an unobserved
trait, where matching on the register should be biased (what a sensitivity analysis has to
find).

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


def one_world(
    root: Path, seed: int, n_persons: int, per_cohort: int, unobserved: bool, ratio: int | None
) -> dict:
    """Build one world, run the stages, and return estimate and truth at the horizon."""
    settings = study_settings(root, seed=seed, n_persons=n_persons,
                              participants_per_cohort=per_cohort,
                              selection_on_unobservables=unobserved)
    if ratio is not None:
        settings["matching"]["ratio"] = ratio
    path = write_config(root, settings)
    config = load_config(path)
    build_world(config)
    for stage in STAGES:
        run_stage(stage, str(path))
    effects = headline(pd.read_parquet(config.processed_dir / "effects.parquet"),
                       config.estimation.horizon_months)
    row = effects.loc[effects["outcome"] == "employed"].iloc[0]
    truth = json.loads(config.truth_path.read_text())
    true_att = next(r["att"] for r in truth["att"]["employed"]["all"]
                    if r["horizon_months"] == int(row["horizon_months"]))
    numbers = {name: float(row[name]) for name in ("estimate", "std_error", "ci_low", "ci_high")}
    # what the sensitivity analysis and the placebo test say about the same estimate
    robustness = pd.read_parquet(config.processed_dir / "robustness.parquet").set_index(
        "outcome").loc["employed"]
    placebo = pd.read_parquet(config.processed_dir / "placebo.parquet").set_index(
        "outcome").loc["employed"]
    sensitivity = {"critical_gamma": float(robustness["critical_gamma"]),
                   "e_value": float(robustness["e_value"]),
                   "placebo_estimate": float(placebo["estimate"]),
                   "placebo_covers_zero": bool(placebo["ci_low"] <= 0 <= placebo["ci_high"])}
    return {"seed": seed, **numbers, "truth": true_att, "n_treated": int(row["n_t"]),
            **sensitivity}


def main() -> None:
    seeds = int(os.environ.get("VALIDATE_SEEDS", "20"))
    n_persons = int(os.environ.get("VALIDATE_PERSONS", "30000"))
    per_cohort = int(os.environ.get("VALIDATE_PER_COHORT", "60"))
    unobserved = os.environ.get("VALIDATE_UNOBSERVED", "0") == "1"
    ratio = int(os.environ["VALIDATE_RATIO"]) if os.environ.get("VALIDATE_RATIO") else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="mentor-eval-validate-") as scratch:
        for seed in range(1, seeds + 1):
            rows.append(one_world(Path(scratch) / str(seed), seed, n_persons, per_cohort,
                                  unobserved, ratio))
            print(f"seed {seed}: {rows[-1]}", flush=True)
    frame = pd.DataFrame(rows)
    error = frame["estimate"] - frame["truth"]
    covered = (frame["ci_low"] <= frame["truth"]) & (frame["truth"] <= frame["ci_high"])
    summary = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "worlds": seeds, "n_persons": n_persons, "participants_per_cohort": per_cohort,
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
    (folder / f"coverage-{stamp}.json").write_text(json.dumps(summary, indent=2))
    print(f"{seeds} worlds, selection on unobservables: {unobserved}")
    print(f"mean error {summary['mean_error']:+.4f}, sd of errors {summary['sd_error']:.4f}, "
          f"mean SE {summary['mean_std_error']:.4f}, 95% coverage {summary['coverage_95']:.2f}")
    print(f"median critical Gamma {summary['median_critical_gamma']:.2f}, median E-value "
          f"{summary['median_e_value']:.2f}, placebo interval covers 0 in "
          f"{summary['placebo_covers_zero']:.0%} of worlds")


if __name__ == "__main__":
    main()
