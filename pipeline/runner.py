"""Running a stage: checking its inputs, executing its notebook with papermill, rendering.

The stages form the pipeline's DAG (the Makefile mirrors it with real file targets):

    clean    roster + surveys        -> participants, survey tables
    panel    register + participants -> baseline, outcome paths
    match    baseline                -> matched sample, balance
    estimate matched + outcomes      -> effects, employment paths
    report   all of the above        -> reports/<study>/report.html

Each stage's parameters come from one section of the study configuration. ``write_stamps``
writes, per stage, a small file that changes only when that stage's parameters or raw inputs
change, so ``make`` re-runs exactly what depends on a change.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import REPO_ROOT, StudyConfig, load_config
from pipeline.privacy import redact, redact_notebook
from pipeline.pseudonymise import key_fingerprint, load_key
from pipeline.stage import (
    add_to_stage,
    commit_stage,
    file_sha256,
    manifest_path,
    relative_path,
    staging_dir,
)

KERNEL_NAME = "mentor-eval"


@dataclass(frozen=True)
class StageSpec:
    """A stage: its notebook, where its parameters come from and what it needs."""

    name: str
    notebook: str
    upstream: tuple[str, ...]


STAGES: dict[str, StageSpec] = {
    spec.name: spec
    for spec in (
        StageSpec("clean", "01-clean-surveys.ipynb", ()),
        StageSpec("panel", "02-build-panel.ipynb", ("clean",)),
        StageSpec("match", "03-match.ipynb", ("panel",)),
        StageSpec("estimate", "04-estimate-effects.ipynb", ("match", "panel")),
        StageSpec("report", "05-render-report.ipynb", ("clean", "panel", "match", "estimate")),
    )
}


class StageError(RuntimeError):
    """A stage that cannot run or failed, with one message saying what and where."""


def stage_parameters(config: StudyConfig, stage: str, config_path: str) -> dict:
    """The papermill parameters of a stage, taken from the study configuration."""
    common = {"config_path": config_path}
    if stage == "clean":
        return common
    if stage == "panel":
        return {**common, **config.design.model_dump()}
    if stage == "match":
        return {**common, **config.matching.model_dump()}
    if stage == "estimate":
        return {**common, **config.estimation.model_dump()}
    if stage == "report":
        return {**common, "language": config.language, "title": config.title,
                **config.report.model_dump()}
    raise StageError(f"unknown stage '{stage}'; stages are {', '.join(STAGES)}")


def raw_inputs(config: StudyConfig, stage: str) -> list[Path]:
    """The raw files a stage reads."""
    if stage == "clean":
        return [config.roster_path, *config.survey_paths, config.codebook_path]
    if stage == "panel":
        return config.register_paths
    return []


def stamps_dir(config: StudyConfig) -> Path:
    return config.processed_dir / ".stamps"


def _write_if_changed(path: Path, content: str) -> Path:
    if not path.is_file() or path.read_text() != content:
        path.write_text(content)
    return path


def write_stamps(config_path: str, only: str | None = None) -> list[Path]:
    """Write each stage's stamp file, touching it only when its content changes.

    A stamp holds the stage's parameters and the content hashes of its raw inputs (hashes are
    cached by path, size and modification time, so unchanged large files are not re-read).
    ``only="synth"`` writes just the synthetic world's stamp (its settings, the register
    layout and which raw files are missing), which must exist before the world, and so before
    the other stamps, is built. The clean and panel stamps carry the pseudonymisation key's
    fingerprint: a new key re-runs every stage that pseudonymises.
    """
    config = load_config(config_path)
    folder = stamps_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    if only == "synth":
        missing = [relative_path(p) for p in config.raw_inputs if not p.is_file()]
        content = json.dumps(
            {
                "synth": config.synth.model_dump() if config.synth else None,
                "data": config.data.model_dump(by_alias=True),
                # the synthetic programme takes people in by the study's eligibility rules
                "design": config.design.model_dump() if config.synth else None,
                # a deleted raw file changes the stamp, so make rebuilds the world
                "missing_raw_files": missing if config.synth else None,
            },
            indent=2,
            sort_keys=True,
        )
        return [_write_if_changed(folder / "synth.stamp", content)]
    if only is not None:
        raise StageError(f"unknown stamp '{only}'; only 'synth' can be written alone")
    fingerprint = key_fingerprint(load_key(config))
    cache_path = folder / "hash-cache.json"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    written = []
    data_section = config.data.model_dump(by_alias=True)
    for stage in STAGES:
        inputs = {}
        for path in raw_inputs(config, stage):
            if not path.is_file():
                inputs[relative_path(path)] = "missing"
                continue
            stat = path.stat()
            cache_key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
            if cache_key not in cache:
                cache[cache_key] = file_sha256(path)
            inputs[relative_path(path)] = cache[cache_key]
        content = json.dumps(
            {
                "parameters": stage_parameters(config, stage, config_path),
                "data": data_section if stage in {"clean", "panel"} else None,
                "key": fingerprint if stage in {"clean", "panel"} else None,
                "inputs": inputs,
            },
            indent=2,
            sort_keys=True,
        )
        written.append(_write_if_changed(folder / f"{stage}.stamp", content))
    cache_path.write_text(json.dumps(cache, indent=0))
    return written


def check_inputs(config: StudyConfig, stage: str) -> None:
    """Fail early, naming the first missing or unreadable input and what to do about it."""
    for path in raw_inputs(config, stage):
        if not path.is_file():
            if path == config.codebook_path:
                hint = "check data.codebook in the study configuration"
            elif config.synth is not None:
                hint = "run `make report` to build the synthetic world"
            else:
                hint = "check data.raw_dir and the file names in the study configuration"
            raise StageError(f"{relative_path(path)}: input file not found; {hint}")
        if not os.access(path, os.R_OK):
            raise StageError(f"{relative_path(path)}: input file is not readable (permissions)")
    for upstream in STAGES[stage].upstream:
        if not manifest_path(config, upstream).is_file():
            raise StageError(
                f"stage '{stage}' needs stage '{upstream}' first: "
                f"{relative_path(manifest_path(config, upstream))} is missing"
            )


def _kernel_name() -> str:
    from jupyter_client.kernelspec import find_kernel_specs

    return KERNEL_NAME if KERNEL_NAME in find_kernel_specs() else "python3"


def run_stage(stage: str, config_path: str) -> Path:
    """Execute a stage's notebook with its parameters; return the stage's manifest path.

    The executed notebook is committed with the stage's outputs (``executed/`` beside them)
    for audit. On failure nothing is committed: the staged outputs are removed, the executed
    notebook is kept under ``executed/failed/`` with identifiers redacted from its outputs, and
    a :class:`StageError` carries the notebook's own (redacted) error message.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if stage not in STAGES:
        raise StageError(f"unknown stage '{stage}'; stages are {', '.join(STAGES)}")
    config = load_config(config_path)
    check_inputs(config, stage)
    spec = STAGES[stage]
    notebook = REPO_ROOT / "notebooks" / spec.notebook
    staging = staging_dir(config, stage)
    scratch = staging.with_name(f"{stage}-notebook")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    executed = scratch / spec.notebook
    parameters = stage_parameters(config, stage, config_path)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters,
            kernel_name=_kernel_name(),
            cwd=str(REPO_ROOT),
            progress_bar=False,
            log_output=False,
            # the kernel's own start-up warnings are not the evaluator's business
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        output_dir = config.report_dir if stage == "report" else None
        add_to_stage(config, stage, executed, f"executed/{spec.notebook}")
        manifest = commit_stage(config, stage, parameters, output_dir=output_dir)
        if stage == "report":
            from pipeline.report.render import write_index

            write_index(config.report_dir.parent)
        return manifest
    except PapermillExecutionError as exc:
        failed = config.processed_dir / "executed" / "failed" / spec.notebook
        failed.parent.mkdir(parents=True, exist_ok=True)
        redact_notebook(executed)
        shutil.move(str(executed), failed)
        raise StageError(
            f"stage '{stage}' failed: {exc.ename}: {redact(str(exc.evalue))}\n"
            f"  (the executed notebook with the full traceback: {relative_path(failed)})"
        ) from None
    finally:
        # the stage's staging folder and its scratch siblings (<stage>-notebook, -duckdb, …)
        for leftover in staging.parent.glob(f"{stage}*"):
            shutil.rmtree(leftover, ignore_errors=True)
