"""Danish and Finnish registers reduced to the canonical extract inside the register stage."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.config import ConfigError, load_config
from pipeline.pseudonymise import load_key
from pipeline.register.extract import open_register
from pipeline.register.sources import canonical_register
from pipeline.synth.studies import study_settings, write_config
from pipeline.synth.world import build_world


@pytest.fixture(scope="module", params=["greater_copenhagen", "cccc"])
def study(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    config = load_config(write_config(root, study_settings(
        root, request.param, n_persons=3000, participants_per_cohort=10)))
    build_world(config)
    return config


def test_the_adapter_writes_canonical_files_that_vanish_afterwards(study, tmp_path):
    with canonical_register(study, temp_directory=tmp_path) as canonical:
        files = canonical.config.data.register_files
        assert files.shape == "canonical"
        assert canonical.config.persons_path.is_file()
        assert canonical.config.persons_path.is_relative_to(tmp_path)
        con, keys = open_register(canonical.config, load_key(study))
        assert keys.n_persons == 3000
        months = con.execute("SELECT DISTINCT month_index % 12 FROM monthly").fetchall()
        con.close()
    assert not any(tmp_path.iterdir())  # raw identity numbers do not outlive the stage
    assert list(canonical.quarantine.columns) == ["input", "row", "reason", "detail"]
    assert canonical.accounting
    if study.time_unit == "year":
        assert months == [(11,)]  # one December row per year
    else:
        assert len(months) == 12


def test_the_folder_is_removed_on_error_too(study, tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with canonical_register(study, temp_directory=tmp_path):
            raise RuntimeError("boom")
    assert not any(tmp_path.iterdir())


def test_a_canonical_register_is_read_as_it_is(tmp_path):
    config = load_config(write_config(tmp_path, study_settings(tmp_path)))
    with canonical_register(config) as canonical:
        assert canonical.config is config and canonical.quarantine.empty


@pytest.mark.parametrize("change, says", [
    ({"shape": "denmark"}, "needs the keys population, dream, wages"),
    ({"folk": "folk.parquet"}, "does not use folk"),
])
def test_a_register_section_must_fit_its_shape(tmp_path, change, says):
    settings = study_settings(tmp_path)
    settings["data"]["register"].update(change)
    with pytest.raises(ConfigError, match=says):
        load_config(write_config(tmp_path, settings))


def test_annual_registers_take_horizons_in_years(tmp_path):
    settings = study_settings(tmp_path / "fi", "cccc")
    config = load_config(write_config(tmp_path / "fi", settings))
    assert config.horizon_rel_months == [11, 23] and config.placebo_rel_month == -13
    settings["estimation"] = {"horizon_months": 12, "horizons": [12]}
    with pytest.raises(ConfigError, match="once a year"):
        load_config(write_config(tmp_path / "fi", settings))
    monthly = study_settings(tmp_path / "se")
    monthly["estimation"].update(horizon_years=1, horizons_years=[1], placebo_year=-1)
    with pytest.raises(ConfigError, match="this register is monthly"):
        load_config(write_config(tmp_path / "se", monthly))


def test_participants_in_an_annual_register_start_in_january():
    import duckdb

    from pipeline.register.panel import register_cohorts

    participants = pd.DataFrame({"pid": ["a", "b", "c"], "cohort": ["x", "x", "y"],
                                 "start_date": pd.to_datetime(["2024-02-05", "2024-03-01",
                                                               "2025-09-01"])})
    cohorts = register_cohorts(duckdb.connect(), participants, "year")
    assert list(cohorts["cohort_start"]) == [2024 * 12, 2025 * 12]
    assert cohorts["n_started_other_month"].tolist() == [0, 0]


def test_a_register_without_occupations_does_not_record_a_matching_job(study, tmp_path):
    from pipeline.register import panel
    from pipeline.register.outcomes import OUTCOMES

    with canonical_register(study, temp_directory=tmp_path) as canonical:
        con, _ = open_register(canonical.config, load_key(study))
        recorded = panel.build_history(con)
        matching = con.execute("SELECT count(employed_matching) FROM history").fetchone()[0]
        con.close()
    if study.time_unit == "year":  # FOLK has no occupations
        assert "employed_matching" not in recorded and matching == 0
    else:
        assert recorded == OUTCOMES and matching > 0
