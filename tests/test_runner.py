"""Stages: clear errors on bad input, nothing half-written, stamps that change only on change."""

from __future__ import annotations

import shutil

import pytest
import yaml

from pipeline.config import load_config
from pipeline.runner import StageError, run_stage, write_stamps
from pipeline.stage import manifest_path
from tests.conftest import write_config


@pytest.fixture()
def world_copy(small_world, tmp_path):
    """A private copy of the small world's raw data with its own output folder."""
    path, config = small_world
    settings = yaml.safe_load(path.read_text())
    shutil.copytree(config.raw_dir, tmp_path / "raw")
    settings["data"]["raw_dir"] = str(tmp_path / "raw")
    settings["output_root"] = str(tmp_path / "out")
    new_path = write_config(tmp_path, settings)
    return new_path, load_config(new_path)


def test_missing_input_file_is_named_and_nothing_is_written(world_copy):
    path, config = world_copy
    config.survey_paths[1].unlink()
    with pytest.raises(StageError, match=r"intake_en.sav: input file not found"):
        run_stage("clean", str(path))
    assert not manifest_path(config, "clean").exists()
    assert not (config.processed_dir / "participants.parquet").exists()


def test_stage_needs_its_upstream(world_copy):
    path, _ = world_copy
    with pytest.raises(StageError, match=r"needs stage 'clean' first"):
        run_stage("panel", str(path))


@pytest.mark.slow
def test_unreadable_file_fails_with_its_name_and_leaves_no_outputs(world_copy):
    path, config = world_copy
    config.survey_paths[0].write_bytes(b"not an SPSS file at all")
    with pytest.raises(StageError) as error:
        run_stage("clean", str(path))
    message = str(error.value)
    assert "stage 'clean' failed" in message and "intake_sv.sav" in message
    assert not manifest_path(config, "clean").exists()
    assert not (config.processed_dir / "participants.parquet").exists()
    assert not (config.processed_dir / ".staging" / "clean").exists()


def test_stamps_change_only_for_the_stage_whose_parameter_or_input_changed(world_copy):
    path, config = world_copy
    stamps = {p.stem: p for p in write_stamps(str(path))}
    before = {name: p.stat().st_mtime_ns for name, p in stamps.items()}
    write_stamps(str(path))
    assert {name: p.stat().st_mtime_ns for name, p in stamps.items()} == before

    settings = yaml.safe_load(path.read_text())
    settings["matching"]["caliper"] = 0.1
    path.write_text(yaml.safe_dump(settings, allow_unicode=True))
    write_stamps(str(path))
    changed = {n for n, p in stamps.items() if p.stat().st_mtime_ns != before[n]}
    assert changed == {"match"}

    before = {name: p.stat().st_mtime_ns for name, p in stamps.items()}
    roster = config.roster_path
    roster.touch()  # same content, new modification time: no re-run
    write_stamps(str(path))
    assert {n for n, p in stamps.items() if p.stat().st_mtime_ns != before[n]} == set()
    roster.write_bytes(roster.read_bytes() + b"\0")
    write_stamps(str(path))
    assert {n for n, p in stamps.items() if p.stat().st_mtime_ns != before[n]} == {"clean"}


def test_cli_prints_one_clear_line_for_a_bad_config(tmp_path, capsys):
    from pipeline.cli import main

    bad = tmp_path / "bad.yml"
    bad.write_text("study: demo\ntitel: x\n")
    assert main(["run", "clean", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "unknown key 'titel'" in err


def test_commit_refuses_an_output_with_identifiers_and_moves_nothing(tmp_path):
    import pandas as pd

    from pipeline.privacy import IdentifierLeak
    from pipeline.stage import StageRun, commit_stage
    from tests.conftest import study_settings

    config = load_config(write_config(tmp_path, study_settings(tmp_path)))
    stage = StageRun("clean", config)
    stage.write_parquet(pd.DataFrame({"pid": ["a" * 32]}), "fine.parquet")
    stage.write_parquet(pd.DataFrame({"note": ["mail amina.ali12@gmail.com"]}), "leak.parquet")
    stage.ready()
    with pytest.raises(IdentifierLeak, match=r"clean/leak.parquet.*e-mail"):
        commit_stage(config, "clean", {})
    assert not (config.processed_dir / "fine.parquet").exists()
    assert not manifest_path(config, "clean").exists()


@pytest.mark.slow
def test_a_failed_clean_keeps_the_previous_outputs_and_names_the_column(world_copy):
    import pyreadstat

    from pipeline.stage import file_sha256

    path, config = world_copy
    run_stage("clean", str(path))
    outputs = sorted(p for p in config.processed_dir.glob("*.parquet"))
    before = {p.name: file_sha256(p) for p in outputs}
    manifest = manifest_path(config, "clean").read_bytes()
    survey = config.survey_paths[2]
    data, meta = pyreadstat.read_sav(str(survey), user_missing=True)
    data["satisfaction"] = 3.0  # a question the codebook does not know
    pyreadstat.write_sav(data, str(survey), variable_value_labels=meta.variable_value_labels)
    with pytest.raises(StageError) as error:
        run_stage("clean", str(path))
    message = str(error.value)
    assert "end_sv.sav" in message and "'satisfaction': unknown column" in message
    assert {p.name: file_sha256(p) for p in outputs} == before
    assert manifest_path(config, "clean").read_bytes() == manifest
