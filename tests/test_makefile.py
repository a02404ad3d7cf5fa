"""The Makefile lists its targets and keeps them as the pipeline's DAG."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from pipeline.config import REPO_ROOT


def test_help_is_the_default_and_lists_every_target():
    out = subprocess.run(["make", "--no-print-directory"], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    for target in ("report", "test", "lab", "lint", "clean", "bench", "venv", "lock"):
        assert f"make {target} " in out, target


def test_report_target_depends_on_every_stage():
    out = subprocess.run(["make", "-pn", "report"], cwd=REPO_ROOT, capture_output=True,
                         text=True).stdout
    for stage in ("clean", "panel", "match", "estimate"):
        assert f"data_processed/demo/manifests/{stage}.json" in out
    assert "reports/demo/report.html:" in out


@pytest.fixture(scope="module")
def scratch_repo(tmp_path_factory):
    """A copy of the working tree (sharing .venv) with a small synthetic study 'tiny'."""
    from benchmarks.run import scratch_repository
    from pipeline.synth.studies import demo_settings

    repo = scratch_repository(tmp_path_factory.mktemp("make"))
    settings = demo_settings()
    settings["study"] = "tiny"
    settings["data"]["raw_dir"] = "data_raw/tiny"
    settings["synth"].update(n_persons=6000, participants_per_cohort=25,
                             truth_file="data_raw/tiny.truth.json")
    settings["pseudonymisation"]["key_file"] = ".secrets/tiny.key"
    (repo / "config" / "tiny.yml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return repo


def _make(repo, *args) -> list[str]:
    """Run make in the scratch copy; return the pipeline commands it ran."""
    result = subprocess.run(["make", "--no-print-directory", *args, "STUDY=tiny"], cwd=repo,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "reports/tiny/report.html"
    return [line.split("-m pipeline ", 1)[1].split(" --config")[0]
            for line in lines if "-m pipeline synth" in line or "-m pipeline run" in line]


@pytest.mark.slow
def test_make_report_runs_exactly_what_a_change_requires(scratch_repo):
    repo = scratch_repo
    assert _make(repo, "report") == [
        "synth", "run clean", "run panel", "run match", "run estimate", "run report"]
    assert (repo / "reports" / "tiny" / "report.html").is_file()

    assert _make(repo, "report") == []  # nothing changed: nothing runs

    config = repo / "config" / "tiny.yml"
    settings = yaml.safe_load(config.read_text())
    settings["matching"]["caliper"] = 0.1
    config.write_text(yaml.safe_dump(settings, sort_keys=False))
    assert _make(repo, "report") == ["run match", "run estimate", "run report"]

    (repo / "reports" / "tiny" / "report.html").unlink()
    assert _make(repo, "report") == ["run report"]

    # A deleted raw file rebuilds the (deterministic) world; identical bytes re-run nothing.
    (repo / "data_raw" / "tiny" / "surveys" / "end_sv.sav").unlink()
    assert _make(repo, "report") == ["synth"]
