"""Baseline rows and outcome paths from a hand-made register whose answers are known."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.config import load_config
from pipeline.pseudonymise import load_key, pseudonymise
from pipeline.register import panel
from pipeline.register.extract import RegisterReadError, open_register
from pipeline.register.outcomes import outcome_at
from tests.conftest import TEST_KEY_HEX, study_settings, write_config

MONTHS = pd.period_range("2019-01", "2021-12", freq="M")
IDS = {  # valid personnummer (Luhn) for the hand-made people
    "A": "198503150248",
    "B": "198207230130",
    "C": "199001010249",
    "D": "197711110135",
    "E": "199212120241",
    "F": "195005050132",
    "G": "198808080249",
    "H": "198404040134",  # on the roster, absent from the register
}


def _employed(person: str, month: pd.Period) -> int:
    if person == "A":
        return int(pd.Period("2020-03", "M") <= month <= pd.Period("2020-08", "M"))
    if person == "D":
        return int(month == pd.Period("2021-02", "M"))
    if person == "E":
        return int(month <= pd.Period("2020-12", "M"))
    return 0


def _registered(person: str, month: pd.Period) -> bool:
    if person == "A":
        return pd.Period("2020-09", "M") <= month <= pd.Period("2021-02", "M")
    return person == "B"


@pytest.fixture()
def register(tmp_path, monkeypatch):
    monkeypatch.setenv("MENTOR_EVAL_KEY", TEST_KEY_HEX)
    settings = study_settings(tmp_path)
    config = load_config(write_config(tmp_path, settings))
    (tmp_path / "raw" / "register").mkdir(parents=True)
    people = ["A", "B", "C", "D", "E", "F", "G"]
    pq.write_table(
        pa.table(
            {
                "Personnummer": [IDS[p] for p in people],
                "FodelseAr": [1985, 1982, 1990, 1977, 1992, 1950, 1988],
                "Kon": [2, 1, 2, 1, 2, 1, 2],
                "FodelseRegion": ["Asia", "EU", "Sweden", "Asia", "Latin America", "EU", "Asia"],
                "SenInvAr": [2010, 2012, None, 2005, 2015, 1990, 2011],
                "Sun2000niva_old": [6, 3, 5, 4, 7, 2, 5],
                "Sun2000Inr": ["481", "345", "720", "520", "214", "142", "762"],
                "Kommun": ["0180", "1480", "0180", "1280", "0380", "0180", "2480"],
            }
        ),
        config.persons_path,
    )
    rows = [
        {
            "Personnummer": IDS[p],
            "Manad": m.year * 100 + m.month,
            "Sysselsatt": _employed(p, m),
            "LoneInk": 20000 * _employed(p, m),
            "SokandeKat": 11 if _registered(p, m) else None,
            "SSYK4_2012": "2512" if _employed(p, m) else None,
        }
        for p in people
        for m in MONTHS
    ]
    pq.write_table(pa.Table.from_pylist(rows), config.monthly_path)
    key = load_key(config)
    participants = pd.DataFrame(
        {
            "pid": pseudonymise([IDS["A"], IDS["E"], IDS["H"]], key),
            "cohort": ["2021-VT", "2021-HT", "2021-VT"],
            "start_date": pd.to_datetime(["2021-03-08", "2021-09-06", "2021-03-08"]),
        }
    )
    con, keys = open_register(config, key)
    panel.register_cohorts(con, participants)
    panel.build_history(con)
    eligibility = panel.Eligibility(20, 64, True, True, ["0180", "1480", "1280", "0380"])
    baseline = panel.build_baseline(con, eligibility)
    pid = dict(zip("ABDEH", pseudonymise([IDS[p] for p in "ABDEH"], key),
                   strict=True))
    return config, con, keys, baseline, pid


def test_pseudonymised_inside_duckdb(register):
    _, con, keys, baseline, _ = register
    assert keys.n_persons == 7 and keys.n_invalid_ids == 0
    assert not set(IDS.values()) & set(baseline["pid"])
    assert "Personnummer" not in con.execute("DESCRIBE persons").df()["column_name"].tolist()


def test_eligibility_and_pools(register):
    _, _, _, baseline, pid = register
    rows = {(row.pid, row.cohort): row.treated for row in baseline.itertuples()}
    # A treated in spring; B eligible in both cohorts; D employed the month before spring
    # start, so only in the autumn pool; E only as treated in autumn (kept out of the spring
    # pool because she takes part later); C Swedish-born, F aged 71, G outside the programme
    # cities: never eligible.
    assert rows == {
        (pid["A"], "2021-VT"): True,
        (pid["B"], "2021-VT"): False,
        (pid["B"], "2021-HT"): False,
        (pid["D"], "2021-HT"): False,
        (pid["E"], "2021-HT"): True,
    }


def test_covariates_measured_before_start(register):
    _, _, _, baseline, pid = register
    a = baseline.loc[baseline["pid"] == pid["A"]].iloc[0]
    assert a["age"] == 2021 - 1985
    assert a["female"] == 1
    assert a["years_since_immigration"] == 11
    assert a["education_field"] == "4"
    assert (a["employed_m1"], a["employed_m6"], a["employed_m12"]) == (0, 0, 1)
    assert a["months_employed_12"] == 6
    assert a["months_employed_36"] == 6
    assert a["earnings_12"] == 120000
    assert a["months_unemployed_12"] == 6
    assert a["history_months_36"] == 26  # the register starts in 2019-01


def test_participant_coverage_counts_absent_people(register):
    _, con, _, _, _ = register
    assert panel.participant_coverage(con) == {
        "participants_listed": 3,
        "participants_not_in_register": 1,
        "participants_not_eligible_at_start": 0,
        "participants_in_analysis": 2,
    }


def test_outcome_paths_and_horizon_beyond_register(register, tmp_path):
    _, con, _, _, pid = register
    path = tmp_path / "outcomes.parquet"
    panel.write_outcomes(con, path, pre_months=24, post_months=36)
    outcomes = pd.read_parquet(path)
    a = outcomes.loc[outcomes["pid"] == pid["A"]].set_index("rel_month")
    assert a.index.min() == -24 and a.index.max() == 9  # 2021-03 + 9 = 2021-12, the last month
    assert a.loc[-12, "employed"] == 1 and a.loc[-6, "employed"] == 0
    assert a.loc[-12, "employed_matching"] == 1  # 2512 is skill level 4; tertiary needs 3
    assert a.loc[-1, "registered_unemployed"] == 1
    matched = pd.DataFrame(
        {"pid": [pid["A"], pid["B"], pid["E"], pid["B"]],
         "cohort": ["2021-VT", "2021-VT", "2021-HT", "2021-HT"],
         "treated": [True, False, True, False], "weights": 1.0, "subclass": [1, 1, 2, 2]}
    )
    at_six = outcome_at(path, matched, 6)
    observed = at_six.groupby("cohort")["observed"].all()
    assert observed["2021-VT"] and not observed["2021-HT"]  # 2021-09 + 6 is after 2021-12


def test_missing_column_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("MENTOR_EVAL_KEY", TEST_KEY_HEX)
    settings = study_settings(tmp_path)
    settings["data"]["register"]["person_columns"]["sex"] = "KON"
    config = load_config(write_config(tmp_path, settings))
    (tmp_path / "raw" / "register").mkdir(parents=True)
    pq.write_table(pa.table({"Personnummer": [IDS["A"]], "Kon": [1]}), config.persons_path)
    pq.write_table(pa.table({"Personnummer": [IDS["A"]]}), config.monthly_path)
    with pytest.raises(RegisterReadError, match=r"persons.parquet: configured columns not found"):
        open_register(config, load_key(config))


def test_unreadable_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("MENTOR_EVAL_KEY", TEST_KEY_HEX)
    config = load_config(write_config(tmp_path, study_settings(tmp_path)))
    (tmp_path / "raw" / "register").mkdir(parents=True)
    config.persons_path.write_bytes(b"this is not parquet")
    config.monthly_path.write_bytes(b"nor this")
    with pytest.raises(RegisterReadError, match=r"persons.parquet: cannot be read"):
        open_register(config, load_key(config))
