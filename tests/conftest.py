"""Shared fixtures: study configurations pointing at temporary folders, small synthetic worlds."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import StudyConfig
from pipeline.synth.studies import (  # noqa: F401  (re-exported for the test modules)
    DEMO_CONFIG,
    demo_settings,
    study_settings,
    write_config,
)

TEST_KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


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
