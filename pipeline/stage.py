"""Atomic stage outputs and their manifests.

A stage writes every output into a private staging folder. :meth:`StageRun.commit` moves the
files into ``data_processed/<study>/`` and writes ``manifests/<stage>.json`` last, so a stage
that fails leaves the previous complete outputs (or none) and never a half-written set. The
manifest records the stage's inputs with content hashes, its parameters, row counts, package
versions and the code version, so a report can show its own lineage.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import REPO_ROOT, StudyConfig
from pipeline.privacy import scan_notebook, scan_parquet, scan_text

RECORDED_PACKAGES = (
    "mentor-eval", "pandas", "numpy", "pyarrow", "duckdb", "statsmodels", "linearmodels",
    "scipy", "pyreadstat", "papermill", "nbconvert", "matplotlib", "seaborn", "personnummer",
    "python-stdnum", "pydantic",
)


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Installed versions of the packages whose behaviour shapes the results."""
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def code_version() -> str:
    """The git commit of the working tree (with ``-dirty`` if it has changes), if known."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def relative_path(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it (for messages, manifests)."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def manifest_path(config: StudyConfig, stage: str) -> Path:
    """Where a stage's manifest lives; its existence marks a complete stage."""
    return config.processed_dir / "manifests" / f"{stage}.json"


def read_manifest(config: StudyConfig, stage: str) -> dict:
    """The manifest of a completed stage, or a clear error naming the stage to run first."""
    path = manifest_path(config, stage)
    if not path.is_file():
        raise FileNotFoundError(
            f"{relative_path(path)} is missing: run the '{stage}' stage first "
            f"(make report STUDY={config.study})"
        )
    return json.loads(path.read_text())


class StageRun:
    """Collects one stage's outputs in a staging folder; the runner commits them.

    A notebook creates a ``StageRun``, writes its outputs through it, records the files it
    read and its row counts, and ends with :meth:`ready`. ``python -m pipeline run`` then calls
    :func:`commit_stage`, which moves the files into place and writes the manifest with the
    parameters papermill injected. Nothing reaches ``data_processed/`` from a notebook that
    stopped half-way.

    Parameters
    ----------
    name : str
        Stage name (``clean``, ``panel``, ``match``, ``estimate``, ``report``).
    config : StudyConfig
        The study configuration.
    """

    def __init__(self, name: str, config: StudyConfig):
        self.name = name
        self.config = config
        self.staging = staging_dir(config, name)
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True)
        self.inputs: dict[str, str] = {}
        self.outputs: dict[str, dict] = {}
        self.rows: dict[str, object] = {}
        self.facts: dict[str, object] = {}
        self.started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def add_input(self, path: Path) -> Path:
        """Record a file the stage read (its hash goes into the manifest)."""
        path = Path(path)
        self.inputs[relative_path(path)] = str(path.resolve())
        return path

    def staged(self, filename: str) -> Path:
        """Path in the staging folder for a tool that writes the file itself (e.g. DuckDB)."""
        self.outputs.setdefault(filename, {})
        target = self.staging / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_parquet(self, frame: pd.DataFrame | pa.Table, filename: str) -> Path:
        """Stage a table as Parquet (scanned for identifiers, like every output, at commit)."""
        table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(
            frame, preserve_index=False
        )
        target = self.staged(filename)
        pq.write_table(table, target)
        self.outputs[filename] = {"rows": table.num_rows}
        return target

    def write_text(self, filename: str, text: str) -> Path:
        """Stage a text output."""
        target = self.staged(filename)
        target.write_text(text, encoding="utf-8")
        return target

    def record_rows(self, **counts) -> None:
        """Record row counts (or small dicts of counts) for the manifest."""
        self.rows.update(counts)

    def record_facts(self, **facts) -> None:
        """Record other facts for the manifest (e.g. the pseudonymisation key's fingerprint)."""
        self.facts.update(facts)

    def ready(self) -> Path:
        """Declare the stage's outputs complete; the runner commits them."""
        state = {
            "stage": self.name,
            "started": self.started,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "rows": self.rows,
            "facts": self.facts,
        }
        path = self.staging / STATE_FILE
        path.write_text(json.dumps(state, indent=2, default=_json_default))
        return path


STATE_FILE = "_stage_state.json"


def staging_dir(config: StudyConfig, stage: str) -> Path:
    """The private folder where a stage's outputs wait for their commit."""
    return config.processed_dir / ".staging" / stage


def add_to_stage(config: StudyConfig, stage: str, source: Path, filename: str) -> Path:
    """Move a file made outside the notebook (the executed notebook, the HTML) into a ready
    stage's staging folder, so it is committed with the other outputs."""
    staging = staging_dir(config, stage)
    state_path = staging / STATE_FILE
    state = json.loads(state_path.read_text())
    target = staging / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), target)
    state["outputs"][filename] = {"bytes": target.stat().st_size}
    state_path.write_text(json.dumps(state, indent=2))
    return target


def commit_stage(
    config: StudyConfig, stage: str, parameters: dict, output_dir: Path | None = None
) -> Path:
    """Move a ready stage's outputs into place and write its manifest last.

    Parameters
    ----------
    config : StudyConfig
        The study configuration.
    stage : str
        The stage whose staging folder holds outputs and a state file from
        :meth:`StageRun.ready`.
    parameters : dict
        The parameters the stage ran with (recorded in the manifest).
    output_dir : Path, optional
        Final folder for the outputs; ``data_processed/<study>/`` by default.

    Returns
    -------
    Path
        The manifest file.
    """
    staging = staging_dir(config, stage)
    state_path = staging / STATE_FILE
    if not state_path.is_file():
        raise RuntimeError(
            f"stage {stage}: the notebook did not finish (no {STATE_FILE} in {staging})"
        )
    state = json.loads(state_path.read_text())
    output_dir = Path(output_dir) if output_dir else config.processed_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    for filename in state["outputs"]:
        _scan_output(staging / filename, f"{stage}/{filename}")
    outputs = {}
    for filename, facts in state["outputs"].items():
        source = staging / filename
        if not source.is_file():
            raise FileNotFoundError(f"stage {stage}: output {filename} was never written")
        if filename.endswith(".parquet") and "rows" not in facts:
            facts = {"rows": pq.ParquetFile(source).metadata.num_rows}
        target = output_dir / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = file_sha256(source)
        os.replace(source, target)
        outputs[relative_path(target)] = {"sha256": digest, **facts}
    manifest = {
        "stage": stage,
        "study": config.study,
        "started": state["started"],
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "parameters": parameters,
        "inputs": {
            name: {"sha256": file_sha256(Path(path)), "bytes": Path(path).stat().st_size}
            for name, path in sorted(state["inputs"].items())
        },
        "outputs": outputs,
        "rows": state["rows"],
        "facts": state.get("facts", {}),
        "packages": package_versions(),
    }
    target = manifest_path(config, stage)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, default=_json_default) + "\n")
    previous = json.loads(target.read_text()).get("outputs", {}) if target.is_file() else {}
    os.replace(tmp, target)
    _remove_stale_outputs(previous, outputs)
    shutil.rmtree(staging, ignore_errors=True)
    return target


def _remove_stale_outputs(previous: dict, current: dict) -> None:
    """Delete what the stage's previous run wrote and this run did not (e.g. the robustness
    tables of a design that no longer supports an estimate), so no stale file is read."""
    for name in set(previous) - set(current):
        stale = Path(name) if Path(name).is_absolute() else REPO_ROOT / name
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _scan_output(path: Path, where: str) -> None:
    """Refuse to commit an output that holds an identity number, e-mail or phone number."""
    if not path.is_file():
        return
    if path.suffix == ".parquet":
        scan_parquet(path, where)
    elif path.suffix == ".ipynb":
        scan_notebook(path, where)
    elif path.suffix in {".html", ".md", ".json", ".txt", ".csv"}:
        scan_text(path.read_text(encoding="utf-8"), where)


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (dt.date, dt.datetime, Path)):
        return str(value)
    raise TypeError(f"cannot record {type(value).__name__} in a manifest")
