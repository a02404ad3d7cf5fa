"""Identity numbers: normalisation, keyed pseudonyms and where the key comes from."""

from __future__ import annotations

import pytest

from pipeline.config import load_config
from pipeline.pseudonymise import (
    KeyError_,
    load_key,
    normalise_personnummer,
    pseudonymise,
)
from tests.conftest import TEST_KEY_HEX, demo_settings, study_settings, write_config


@pytest.mark.parametrize(
    "raw",
    ["198803200016", "19880320-0016", "880320-0016", " 8803200016 ", "19880320 0016"],
)
def test_forms_of_one_number_normalise_to_twelve_digits(raw):
    assert normalise_personnummer(raw) == "198803200016"


def test_samordningsnummer_is_valid_and_kept():
    # day 20 + 60 = 80; check digit recomputed by Luhn over 8803800001
    assert normalise_personnummer("19880380-0013") == "198803800013"


@pytest.mark.parametrize(
    "raw", ["19880320-0017", "19881320-0016", "1988032", "", None, float("nan"), "abcdefghijkl"]
)
def test_invalid_numbers_give_none(raw):
    assert normalise_personnummer(raw) is None


def test_pseudonyms_are_keyed_stable_and_hide_the_number():
    key = bytes.fromhex(TEST_KEY_HEX)
    first = pseudonymise(["198803200016", None], key)
    again = pseudonymise(["198803200016"], key)
    other_key = pseudonymise(["198803200016"], bytes(32))
    assert first[0] == again[0] and first[1] is None
    assert first[0] != other_key[0]
    assert len(first[0]) == 32 and "8803200016" not in first[0]
    assert pseudonymise(["198803200016"], key, country="DK") != again


def test_key_from_environment_wins(tmp_path, monkeypatch):
    config = load_config(write_config(tmp_path, study_settings(tmp_path)))
    monkeypatch.setenv("MENTOR_EVAL_KEY", TEST_KEY_HEX)
    assert load_key(config) == bytes.fromhex(TEST_KEY_HEX)


def test_synthetic_study_generates_a_private_key_once(tmp_path):
    config = load_config(write_config(tmp_path, study_settings(tmp_path)))
    key = load_key(config)
    key_file = tmp_path / "secrets" / "study.key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert load_key(config) == key and len(key) == 32


def test_real_study_without_key_is_a_clear_error(tmp_path):
    settings = demo_settings()
    del settings["synth"]
    settings["pseudonymisation"] = {"key_env": "MENTOR_EVAL_KEY",
                                    "key_file": str(tmp_path / "absent.key")}
    config = load_config(write_config(tmp_path, settings))
    with pytest.raises(KeyError_, match="no pseudonymisation key: set MENTOR_EVAL_KEY"):
        load_key(config)
