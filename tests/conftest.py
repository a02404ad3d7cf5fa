"""Shared fixtures: study configurations pointing at temporary folders, small synthetic worlds."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from pipeline.config import REPO_ROOT, StudyConfig

DEMO_CONFIG = REPO_ROOT / "config" / "demo.yml"
TEST_KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def demo_settings() -> dict:
    """The demo study configuration as a plain dict."""
    return yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))


def study_settings(root: Path, **synth_overrides) -> dict:
    """Demo settings re-rooted in ``root`` (raw data, outputs, truth file and key)."""
    settings = copy.deepcopy(demo_settings())
    settings["output_root"] = str(root / "out")
    settings["data"]["raw_dir"] = str(root / "raw")
    settings["synth"]["truth_file"] = str(root / "truth.json")
    settings["synth"].update(synth_overrides)
    settings["pseudonymisation"]["key_file"] = str(root / "secrets" / "study.key")
    return settings


def write_config(root: Path, settings: dict) -> Path:
    """Write settings as a YAML study configuration and return its path."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{settings['study']}.yml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False))
    return path


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch):
    """Tests decide about the key themselves; a developer's exported key must not leak in."""
    monkeypatch.delenv("MENTOR_EVAL_KEY", raising=False)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> tuple[Path, StudyConfig]:
    """A small synthetic world (6,000 persons, ~30 participants per cohort), built once."""
    from pipeline.config import load_config
    from pipeline.synth.world import build_world

    root = tmp_path_factory.mktemp("small_world")
    path = write_config(root, study_settings(root, n_persons=6000, participants_per_cohort=30))
    config = load_config(path)
    build_world(config)
    return path, config


@pytest.fixture(scope="session")
def demo_pipeline(tmp_path_factory) -> StudyConfig:
    """The demo study (its real size and seed) run through every stage in a temporary folder."""
    from pipeline.config import load_config
    from pipeline.runner import STAGES, run_stage
    from pipeline.synth.world import build_world

    root = tmp_path_factory.mktemp("demo")
    path = write_config(root, study_settings(root))
    config = load_config(path)
    build_world(config)
    for stage in STAGES:
        run_stage(stage, str(path))
    return config
