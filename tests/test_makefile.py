"""The Makefile lists its targets and keeps them as the pipeline's DAG."""

from __future__ import annotations

import subprocess

from pipeline.config import REPO_ROOT


def test_help_is_the_default_and_lists_every_target():
    out = subprocess.run(["make", "--no-print-directory"], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    for target in ("report", "test", "lab", "lint", "clean", "bench", "venv", "lock"):
        assert f"make {target} " in out, target


def test_report_target_depends_on_every_stage_manifest():
    out = subprocess.run(["make", "-pn", "report"], cwd=REPO_ROOT, capture_output=True,
                         text=True).stdout
    for stage in ("clean", "panel", "match", "estimate", "report"):
        assert f"data_processed/demo/manifests/{stage}.json" in out
