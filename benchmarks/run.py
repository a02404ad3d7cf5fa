"""Benchmarks: wall time and peak memory of `make report` on the demo world (and of its
estimation and report stages alone), of cleaning
100,000 survey responses spread over ten SPSS exports, of matching 5,000 treated against
500,000 controls (propensity score and Mahalanobis), and of generating a national-scale
(1,000,000-person) world and running the register (panel) stage on it.

Run with ``make bench`` (``BENCH_REPEATS=5 make bench`` for more repeats). Each measurement is
repeated and the median is reported, with the minimum and maximum. Peak memory is the largest
resident set of any single process in the measured command (``getrusage`` of the children),
which for the pipeline is the biggest notebook kernel or the generator itself.

The demo pipeline runs in a scratch copy of the repository so the benchmark never disturbs
``data_processed/`` or ``reports/`` of the working tree. Results are written to
``benchmarks/results/<timestamp>.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from pipeline.config import REPO_ROOT as ROOT
from pipeline.synth.studies import study_settings, write_config

COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "data_raw", "data_processed", "reports", ".secrets", "__pycache__",
    ".pytest_cache", ".ruff_cache", "benchmarks",
)


def measure(command: list[str], cwd: Path) -> dict:
    """Run ``command`` in a fresh child process; return wall seconds, peak RSS (MiB) and CPU
    seconds (user + system, all processes): on a machine shared with other work, CPU seconds
    vary less than wall seconds."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "wall = time.perf_counter() - start\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(f'{wall} {usage.ru_maxrss / 1024} {usage.ru_utime + usage.ru_stime} {code}')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *command], cwd=cwd, capture_output=True,
                         text=True, check=True).stdout.split()
    wall, peak, cpu, code = float(out[0]), float(out[1]), float(out[2]), int(out[3])
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} failed with exit code {code} in {cwd}")
    return {"wall_seconds": wall, "peak_rss_mib": peak, "cpu_seconds": cpu}


def summarise(runs: list[dict]) -> dict:
    walls = [r["wall_seconds"] for r in runs]
    peaks = [r["peak_rss_mib"] for r in runs]
    return {
        "repeats": len(runs),
        "wall_seconds_median": statistics.median(walls),
        "wall_seconds_min": min(walls),
        "wall_seconds_max": max(walls),
        "peak_rss_mib_median": statistics.median(peaks),
        "cpu_seconds_median": statistics.median(r.get("cpu_seconds", float("nan")) for r in runs),
        "runs": runs,
    }


def scratch_repository(base: Path) -> Path:
    """A copy of the working tree sharing the existing virtual environment.

    The copy's ``pyproject.toml`` and ``requirements.lock`` are dated back to when the shared
    environment was installed, so ``make`` in the copy never re-runs the install recipe: that
    would point the shared environment's editable install and Jupyter kernel at the copy,
    which is deleted afterwards.
    """
    copy = base / "repo"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    installed = ROOT / ".venv" / ".installed"
    if installed.is_file():
        stamp = installed.stat().st_mtime - 1
        for name in ("pyproject.toml", "requirements.lock"):
            os.utime(copy / name, (stamp, stamp))
    return copy


def bench_demo_report(repeats: int, base: Path) -> dict:
    """`make report` on the demo: from nothing (world and stages), with the world already
    built (stages only), and again with nothing changed."""
    repo = scratch_repository(base)
    make = ["make", "--no-print-directory"]
    scratch, stages, noop = [], [], []
    for _ in range(repeats):
        for folder in ("data_raw", "data_processed", "reports"):
            shutil.rmtree(repo / folder, ignore_errors=True)
        scratch.append(measure([*make, "report"], repo))
        noop.append(measure([*make, "report"], repo))
        subprocess.run([*make, "clean"], cwd=repo, check=True, stdout=subprocess.DEVNULL)
        stages.append(measure([*make, "report"], repo))
    # the last two stages alone, on the finished demo: the estimation stage (target < 60 s)
    # and rendering the report once the estimates exist (target < 30 s)
    stage = [sys.executable, "-m", "pipeline", "run"]
    estimate = [measure([*stage, "estimate", "--config", "config/demo.yml"], repo)
                for _ in range(repeats)]
    report = [measure([*stage, "report", "--config", "config/demo.yml"], repo)
              for _ in range(repeats)]
    return {
        "make_report_from_scratch": summarise(scratch),
        "make_report_world_present": summarise(stages),
        "make_report_nothing_changed": summarise(noop),
        "estimate_stage_demo": summarise(estimate),
        "report_stage_demo": summarise(report),
    }


def bench_survey_cleaning(repeats: int, base: Path) -> dict:
    """Cleaning 100,000 survey responses in ten exports with the demo codebook."""
    folder = base / "survey-load"
    subprocess.run([sys.executable, "-m", "benchmarks.survey_load", "write", str(folder)],
                   cwd=ROOT, check=True)
    command = [sys.executable, "-m", "benchmarks.survey_load", "clean", str(folder)]
    runs = [measure(command, ROOT) for _ in range(repeats)]
    return {"clean_100k_survey_responses": summarise(runs)}


def bench_matching() -> dict:
    """Matching 5,000 treated against 500,000 controls on 8 covariates (in this process)."""
    from benchmarks.matching_speed import bench

    timing = bench()
    return {f"match_5000_vs_500000_{distance}": {
        "repeats": 3, "wall_seconds_median": timing[f"{distance}_seconds"],
        "wall_seconds_min": float("nan"), "wall_seconds_max": float("nan"),
        "peak_rss_mib_median": float("nan")} for distance in ("logit", "mahalanobis")}


def bench_national_world(repeats: int, base: Path, n_persons: int) -> dict:
    """Generating a national-scale synthetic world, then the register (panel) stage on it."""
    root = base / "national"
    config = write_config(root, study_settings(root, n_persons=n_persons))
    runs = []
    for _ in range(repeats):
        runs.append(measure([sys.executable, "-m", "pipeline", "synth", "--config",
                             str(config)], ROOT))
    size = sum(p.stat().st_size for p in (root / "raw").rglob("*") if p.is_file())
    stage = [sys.executable, "-m", "pipeline", "run"]
    measure([*stage, "clean", "--config", str(config)], ROOT)
    panel = [measure([*stage, "panel", "--config", str(config)], ROOT) for _ in range(repeats)]
    return {f"synth_{n_persons}_persons": {**summarise(runs), "bytes_written": size},
            f"panel_stage_{n_persons}_persons": summarise(panel)}


def main() -> None:
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    n_persons = int(os.environ.get("BENCH_PERSONS", "1000000"))
    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(),
                    # other work on the machine slows every wall time down
                    "load_average_at_start": os.getloadavg()},
    }
    with tempfile.TemporaryDirectory(prefix="mentor-eval-bench-") as scratch:
        base = Path(scratch)
        results.update(bench_demo_report(repeats, base))
        results.update(bench_survey_cleaning(repeats, base))
        results.update(bench_matching())
        results.update(bench_national_world(repeats, base, n_persons))
    folder = ROOT / "benchmarks" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = results["when"].replace(":", "").replace("-", "")
    (folder / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    print(f"{'benchmark':<34} {'median s':>9} {'min s':>8} {'max s':>8} {'peak MiB':>9}")
    for name, r in results.items():
        if isinstance(r, dict) and "wall_seconds_median" in r:
            print(f"{name:<34} {r['wall_seconds_median']:>9.1f} {r['wall_seconds_min']:>8.1f} "
                  f"{r['wall_seconds_max']:>8.1f} {r['peak_rss_mib_median']:>9.0f}")
    print(f"written to {folder / (stamp + '.json')}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
