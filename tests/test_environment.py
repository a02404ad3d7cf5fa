"""The environment files agree: pyproject.toml, requirements.lock and environment.yml."""

from __future__ import annotations

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipeline.config import REPO_ROOT

REQUIRED = {"jupyterlab", "pandas", "pyreadstat", "statsmodels", "linearmodels", "seaborn",
            "papermill", "nbconvert", "ipykernel", "duckdb", "pyarrow", "pyyaml", "pydantic"}


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", line.strip()).groups()
            pins[canonicalize_name(name)] = version
    return pins


def _pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + project["optional-dependencies"]["dev"]
    return [Requirement(text) for text in names]


def test_pyproject_declares_the_required_packages():
    declared = {canonicalize_name(r.name) for r in _pyproject_requirements()}
    assert REQUIRED <= declared, REQUIRED - declared


def test_every_declared_dependency_is_pinned_in_the_lock_within_its_range():
    pins = _lock()
    for requirement in _pyproject_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} in requirements.lock violates '{requirement}'"
        )


def test_environment_yml_carries_exactly_the_locked_pins():
    environment = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    python = [d for d in environment["dependencies"] if isinstance(d, str) and
              d.startswith("python=")]
    assert python == ["python=3.11"]
    assert "-e .[dev]" in pip_section
    pins = {}
    for line in pip_section:
        if "==" in line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    assert pins == _lock()
