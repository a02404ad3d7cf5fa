"""The synthetic world: deterministic, realistic in shape, and honest about its truth."""

from __future__ import annotations

import hashlib
import json
import time

import pandas as pd

from pipeline.config import load_config
from pipeline.pseudonymise import normalise_personnummer
from pipeline.synth.world import build_world
from tests.conftest import study_settings, write_config


def _data_files(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    worlds = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        root = tmp_path / name
        config = load_config(write_config(root, study_settings(
            root, seed=seed, n_persons=1500, participants_per_cohort=6, cohort_years=[2021])))
        build_world(config)
        worlds[name] = _data_files(config.raw_dir)
        time.sleep(1.1)  # file formats that stamp the save time must still agree
    assert len(worlds["a"]) == 7  # persons, monthly, roster and four surveys, nothing else
    assert worlds["a"] == worlds["b"]
    assert all(worlds["a"][f] != worlds["c"][f] for f in worlds["a"])


def test_chunks_never_repeat_an_identity_number(tmp_path):
    root = tmp_path / "chunks"
    config = load_config(write_config(root, study_settings(
        root, n_persons=120_000, participants_per_cohort=5, cohort_years=[2021],
        first_month="2020-01", last_month="2021-12")))
    build_world(config)
    ids = pd.read_parquet(config.persons_path, columns=["Personnummer"])["Personnummer"]
    assert ids.is_unique and len(ids) == 120_000  # three chunks of at most 50,000


def test_register_shape_and_identity_numbers(small_world):
    _, config = small_world
    persons = pd.read_parquet(config.persons_path)
    assert list(persons.columns) == list(config.data.register_files.person_columns.model_dump()
                                         .values())
    ids = persons["Personnummer"]
    assert ids.str.fullmatch(r"\d{12}").all()
    assert all(normalise_personnummer(x) == x for x in ids)
    coordination = ids.str[6:8].astype(int) > 60
    assert 0.02 < coordination.mean() < 0.15
    assert set(persons["Kon"]) == {1, 2}
    monthly = pd.read_parquet(config.monthly_path)
    assert monthly["Manad"].min() == 201801 and monthly["Manad"].max() == 202512
    assert len(monthly) == len(persons) * 96
    employed = monthly["Sysselsatt"] == 1
    assert (monthly.loc[~employed, "LoneInk"] == 0).all()
    assert monthly.loc[employed, "SSYK4_2012"].notna().all()
    assert set(monthly["SokandeKat"].dropna().unique()) <= {11, 21}


def test_roster_has_spring_and_autumn_cohorts_in_several_cities(small_world):
    _, config = small_world
    roster = pd.read_excel(config.roster_path, dtype=str)
    assert {c[-2:] for c in roster["Kohort"]} == {"VT", "HT"}
    assert roster["Kohort"].str[:4].nunique() == 5
    assert roster["Ort"].nunique() == 4
    assert set(roster["Fullföljt"]) == {"Ja", "Nej"}


def test_participants_dip_before_entry(small_world):
    _, config = small_world
    roster = pd.read_excel(config.roster_path, dtype=str).drop_duplicates()
    monthly = pd.read_parquet(config.monthly_path).set_index(["Personnummer", "Manad"])
    in_register = roster["Personnummer"].str.replace("-", "").isin(
        monthly.index.get_level_values(0))
    roster = roster.loc[in_register]  # planted: mistyped numbers, people the register lacks
    ids = roster["Personnummer"].str.replace("-", "")
    start = pd.to_datetime(roster["Startdatum"]).dt.to_period("M")

    def rate(lag):
        month = (start - lag).map(lambda p: p.year * 100 + p.month)
        return monthly.loc[list(zip(ids, month, strict=True)), "Sysselsatt"].mean()

    assert rate(1) == 0  # nobody employed the month before start (eligibility)
    assert rate(12) > rate(3) + 0.1  # employed a year before, fell out recently


def test_truth_effect_grows_after_programme_and_differs_by_sex(small_world):
    _, config = small_world
    truth = json.loads(config.truth_path.read_text())
    employed = {g: {r["horizon_months"]: r["att"] for r in rows}
                for g, rows in truth["att"]["employed"].items()}
    assert all(abs(employed["all"][h]) < 0.04 for h in range(6))  # near zero while it runs
    assert employed["all"][24] > employed["all"][12] > employed["all"][6]
    assert employed["men"][24] > employed["women"][24]
    roster_rows = len(pd.read_excel(config.roster_path))
    assert roster_rows == truth["n_participants"] + 2 + 3  # duplicates, not in the register
    planted = [p["problem"] for p in truth["planted_roster_problems"]]
    assert sorted(planted) == ["duplicate"] * 2 + ["invalid_id"] * 2 + ["not_in_register"] * 3
    kinds = {p["problem"] for p in truth["planted_survey_problems"]}
    assert {"refused_consent", "staff_test", "duplicate", "invalid_id"} <= kinds


def test_selection_on_unobservables_switch(tmp_path):
    """Switched on, participants are selected on the unobserved trait as well."""
    mean_u = {}
    for switch in (False, True):
        root = tmp_path / str(switch)
        config = load_config(write_config(root, study_settings(
            root, n_persons=20_000, participants_per_cohort=60,
            selection_on_unobservables=switch)))
        build_world(config)
        truth = json.loads(config.truth_path.read_text())
        assert truth["selection"]["selection_on_unobservables"] is switch
        mean_u[switch] = truth["selection"]["mean_unobserved_trait_participants"]
    # Off, eligibility (not employed) already selects low u; on, participation favours high u.
    assert mean_u[True] - mean_u[False] > 0.4
