"""Study configurations for synthetic worlds in scratch folders (tests, benchmarks, validation).

They start from a bundled synthetic study (the demo by default, or one of the example studies
of the seed programmes) and move everything it writes (raw data, outputs, truth file, key)
under one folder, so many worlds can live side by side without touching the repository.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from pipeline.config import REPO_ROOT

DEMO_CONFIG = REPO_ROOT / "config" / "demo.yml"
# One example study per seed programme's shape (config/<name>.yml), each with its own world.
EXAMPLE_STUDIES = ("mitt_livs_chans", "greater_copenhagen", "bottomup_esf", "cccc",
                   "uppsala_yrkesmentor")


def demo_settings(study: str = "demo") -> dict:
    """A bundled study configuration (the demo by default) as a plain dict."""
    path = DEMO_CONFIG.with_name(f"{study}.yml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def study_settings(root: Path, study: str = "demo", **synth_overrides) -> dict:
    """A bundled synthetic study's settings re-rooted in ``root`` (raw data, outputs, truth
    file and key).

    Parameters
    ----------
    root : Path
        Scratch folder that will hold everything the study writes.
    study : str
        The bundled study (``config/<study>.yml``); the demo by default.
    **synth_overrides
        Values replacing those of the study's ``synth`` section (e.g. ``seed``, ``n_persons``).
    """
    settings = copy.deepcopy(demo_settings(study))
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
