"""The study configuration: validated on load, with errors that name the file and the key."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigError, load_config
from tests.conftest import DEMO_CONFIG, demo_settings, write_config


def test_demo_config_loads_and_derives_paths():
    config = load_config(DEMO_CONFIG)
    assert config.study == "demo"
    assert config.persons_path.name == "persons.parquet"
    assert config.processed_dir.parts[-2:] == ("data_processed", "demo")
    assert config.report_dir.parts[-2:] == ("reports", "demo")
    assert len(config.survey_paths) == 4


def test_unknown_key_is_named_with_the_allowed_keys(tmp_path):
    settings = demo_settings()
    settings["matching"]["calliper"] = 0.2
    path = write_config(tmp_path, settings)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message
    assert "unknown key 'matching.calliper'" in message
    assert "caliper" in message.split("allowed keys here:")[1]


def test_wrong_value_names_key_and_allowed_values(tmp_path):
    settings = demo_settings()
    settings["language"] = "de"
    settings["matching"]["ratio"] = "two"
    path = write_config(tmp_path, settings)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "key 'language'" in message and "'en'" in message
    assert "key 'matching.ratio'" in message


def test_missing_required_key(tmp_path):
    settings = demo_settings()
    del settings["data"]["register"]["person_columns"]["sex"]
    path = write_config(tmp_path, settings)
    expected = r"missing required key 'data.register.person_columns.sex'"
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_missing_and_unparsable_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("study: [unclosed\n")
    with pytest.raises(ConfigError, match="not a readable YAML"):
        load_config(bad)


def test_generated_key_is_refused_for_real_data(tmp_path):
    settings = demo_settings()
    del settings["synth"]
    path = write_config(tmp_path, settings)
    with pytest.raises(ConfigError, match="allow_generated_key is only allowed"):
        load_config(path)


def test_municipality_codes_must_be_four_digits(tmp_path):
    settings = demo_settings()
    settings["design"]["municipalities"] = [180]
    with pytest.raises(ConfigError, match="design.municipalities"):
        load_config(write_config(tmp_path, settings))
