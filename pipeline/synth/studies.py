"""Study configurations for synthetic worlds in scratch folders (tests, benchmarks, validation).

They start from the demo study and move everything it writes (raw data, outputs, truth file,
key) under one folder, so many worlds can live side by side without touching the repository.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from pipeline.config import REPO_ROOT

DEMO_CONFIG = REPO_ROOT / "config" / "demo.yml"


def demo_settings() -> dict:
    """The demo study configuration as a plain dict."""
    return yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))


def study_settings(root: Path, **synth_overrides) -> dict:
    """Demo settings re-rooted in ``root`` (raw data, outputs, truth file and key).

    Parameters
    ----------
    root : Path
        Scratch folder that will hold everything the study writes.
    **synth_overrides
        Values replacing those of the demo's ``synth`` section (e.g. ``seed``, ``n_persons``).
    """
    settings = copy.deepcopy(demo_settings())
    settings["output_root"] = str(root / "out")
    settings["data"]["raw_dir"] = str(root / "raw")
    settings["synth"]["truth_file"] = str(root / "truth.json")
    settings["synth"].update(synth_overrides)
    settings["pseudonymisation"]["key_file"] = str(root / "secrets" / "study.key")
    return settings


def write_config(root: Path, settings: dict) -> Path:
    """Write settings as a YAML study configuration in ``root`` and return its path."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{settings['study']}.yml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False))
    return path
