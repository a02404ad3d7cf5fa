"""Synthetic Danish and Finnish worlds: identity numbers, register shapes and intake rules."""

from __future__ import annotations

import collections
import datetime as dt

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from pipeline.config import load_config
from pipeline.identity import check_identity
from pipeline.synth.identity import (
    HETU_SIGNS,
    make_cpr,
    make_hetu,
    make_personnummer,
    mistyped_number,
    national_numbers,
    typed_number,
)
from pipeline.synth.population import draw_people
from pipeline.synth.registers import dream_weeks
from pipeline.synth.studies import study_settings, write_config
from pipeline.synth.world import build_world


@pytest.mark.parametrize("country", ["dk", "fi"])
def test_national_numbers_are_valid_distinct_and_keep_birth_date_and_sex(country):
    rng = np.random.default_rng(3)
    people = draw_people(20_000, rng, country=country)
    numbers = national_numbers(people["personal_id"].to_numpy(), country, rng)
    assert len(set(numbers)) == len(numbers)
    for number, pnr, female in zip(numbers[:2000], people["personal_id"], people["female"],
                                   strict=False):
        check = check_identity(number, country)
        assert check.problem is None and check.normalised == number
        day = int(pnr[6:8]) % 60 or 60
        assert int(number[:2]) == day and number[2:4] == pnr[4:6]  # DDMM from the birth date
        assert (int(number[9]) % 2 == 0) == bool(female)  # CPR and HETU: 10th character


def test_a_quarter_of_hetus_use_the_2023_century_signs():
    rng = np.random.default_rng(5)
    people = draw_people(4000, rng, country="fi")
    signs = collections.Counter(n[6] for n in national_numbers(
        people["personal_id"].to_numpy(), "fi", rng))
    new = sum(count for sign, count in signs.items() if sign not in "-A")
    assert 0.2 < new / sum(signs.values()) < 0.3
    assert {"Y", "X", "W", "V", "U"} & set(signs) and signs["-"] > 0


@pytest.mark.parametrize("country", ["se", "dk", "fi"])
def test_typed_numbers_normalise_back_and_mistyped_ones_fail(country):
    rng = np.random.default_rng(11)
    number = {"se": make_personnummer(dt.date(1985, 7, 13), 987),
              "dk": make_cpr(dt.date(1985, 7, 13), 987),
              "fi": make_hetu(dt.date(2001, 7, 13), 987 % 898, "C")}[country]
    assert check_identity(number, country).normalised == number
    for _ in range(50):
        assert check_identity(typed_number(number, country, rng), country).normalised == number
        wrong = mistyped_number(number, country, rng)
        assert check_identity(wrong, country).problem is not None, wrong


def test_hetu_century_signs_are_those_of_the_century():
    assert make_hetu(dt.date(1999, 1, 2), 123, "Y")[6] == "Y"
    with pytest.raises(ValueError, match="century sign"):
        make_hetu(dt.date(2001, 1, 2), 123, "Y")
    assert set(HETU_SIGNS[20]) == set("ABCDEF")


def test_dream_weeks_follow_their_thursdays():
    weeks = dream_weeks(pd.period_range("2020-01", "2020-02", freq="M"))
    assert weeks[(2020, 5)] == pd.Period("2020-01")  # Monday 27 January to Sunday 2 February
    assert weeks[(2020, 6)] == pd.Period("2020-02")
    assert (2020, 1) in weeks and (2020, 10) not in weeks  # W10 starts 2 March


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """Small Danish and Finnish worlds from the example studies' configurations."""
    built = {}
    for study in ("greater_copenhagen", "cccc"):
        root = tmp_path_factory.mktemp(study)
        config = load_config(write_config(root, study_settings(
            root, study, n_persons=8000, participants_per_cohort=20)))
        build_world(config)
        built[study] = config
    return built


def test_danish_world_is_delivered_as_bef_dream_and_eindkomst(worlds):
    config = worlds["greater_copenhagen"]
    files = {role: config.raw_path(path)
             for role, path in config.data.register_files.files.items()}
    population = pd.read_parquet(files["population"])
    assert {"PNR", "KOEN", "FOED_DAG", "OPR_LAND", "IE_TYPE", "KOM", "HFAUDD"} <= set(
        population.columns)
    dream = pd.read_parquet(files["dream"])
    weeks = [c for c in dream.columns if c.startswith("y_")]
    assert weeks[0] == "y_1901" and len(weeks) >= 52 * 7
    codes = set(pd.Series(dream[weeks].to_numpy().ravel()).dropna())
    assert codes == {"111", "890"} and dream[weeks].isna().any().any()
    wages = pd.read_parquet(files["wages"])
    assert (wages["wage"] > 1000).all()


def test_finnish_world_is_annual_with_the_2023_signs_in_its_surveys(worlds):
    config = worlds["cccc"]
    folk = pd.read_parquet(config.raw_path(config.data.register_files.folk))
    assert sorted(folk["vuosi"].unique()) == list(range(2019, 2026))
    assert set(folk["ptoim1"]) <= {11, 12, 22, 29}
    assert folk.groupby("vuosi").size().nunique() == 1  # every person every year
    typed = pd.concat([pyreadstat.read_sav(path)[0] for path in config.survey_paths])
    column = next(c for c in typed.columns if c.lower() in ("pnr", "personnummer"))
    signs = {str(v).strip()[6:7].upper() for v in typed[column] if len(str(v).strip()) == 11}
    assert signs & set("YXWVUBCDEF")


def test_intake_follows_the_design(worlds, tmp_path):
    root = tmp_path / "women"
    config = load_config(write_config(root, study_settings(
        root, "uppsala_yrkesmentor", n_persons=8000, participants_per_cohort=20)))
    build_world(config)
    roster = pd.read_excel(config.roster_path)
    numbers = roster[config.data.roster_columns.personal_id].astype(str).str.replace("-", "")
    # the planted "not in register" rows aside, every participant is a woman (even 11th digit)
    women = numbers.str[10].astype(int) % 2 == 0
    assert women.mean() > 0.9
