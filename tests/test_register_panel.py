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
    "J": "198004041201",  # monthly rows with gaps
    "K": "199406062308",  # on the roster with a mistyped start date, absent from the register
}
A_SHORT = "8503150248"  # A's number in the 10-digit form (some of her monthly rows)
A_DASHED = "850315-0248"  # A's number with a dash (a second, later person row)
INVALID = "198503150249"  # fails the Luhn check


def _j_month(month: pd.Period) -> tuple[int, bool] | None:
    """J's (employed, registered) or None where her monthly panel has a gap."""
    if pd.Period("2019-01", "M") <= month <= pd.Period("2019-09", "M"):
        return 1, False
    if pd.Period("2020-03", "M") <= month <= pd.Period("2020-06", "M"):
        return 1, False
    if pd.Period("2020-07", "M") <= month <= pd.Period("2020-12", "M"):
        return 0, True
    return None  # 2019-10..2020-02 and all of 2021 missing


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
    persons = {
        "Personnummer": [IDS[p] for p in people],
        "FodelseAr": [1985, 1982, 1990, 1977, 1992, 1950, 1988],
        "Kon": [2, 1, 2, 1, 2, 1, 2],
        "FodelseRegion": ["Asia", "EU", "Sweden", "Asia", "Latin America", "EU", "Asia"],
        "SenInvAr": [2010, 2012, None, 2005, 2015, 1990, 2011],
        "Sun2000niva_old": [6, 3, 5, 4, 7, 2, 5],
        "Sun2000Inr": ["481", "345", "720", "520", "214", "142", "762"],
        "Kommun": ["0180", "1480", "0180", "1280", "0380", "0180", "2480"],
    }
    extra = [  # J; A again in another text form (ignored: her first row wins); B repeated;
        # an invalid and a missing number
        (IDS["J"], 1980, 1, "Africa", 2008, 3, "520", "0180"),
        (A_DASHED, 1950, 1, "Sweden", None, 1, "999", "2480"),
        (IDS["B"], 1982, 1, "EU", 2012, 3, "345", "1480"),
        (INVALID, 1985, 2, "Asia", 2010, 6, "481", "0180"),
        (None, 1985, 2, "Asia", 2010, 6, "481", "0180"),
    ]
    for row in extra:
        for column, value in zip(persons, row, strict=True):
            persons[column].append(value)
    pq.write_table(pa.table(persons), config.persons_path)
    rows = [
        {
            "Personnummer": A_SHORT if p == "A" and m.year == 2019 else IDS[p],
            "Manad": m.year * 100 + m.month,
            "Sysselsatt": _employed(p, m),
            "LoneInk": 20000 * _employed(p, m),
            "SokandeKat": 11 if _registered(p, m) else None,
            "SSYK4_2012": "2512" if _employed(p, m) else None,
        }
        for p in people
        for m in MONTHS
    ]
    rows += [
        {"Personnummer": IDS["J"], "Manad": m.year * 100 + m.month, "Sysselsatt": state[0],
         "LoneInk": 10000 * state[0], "SokandeKat": 11 if state[1] else None,
         "SSYK4_2012": "5120" if state[0] else None}
        for m in MONTHS if (state := _j_month(m)) is not None
    ]
    rows += [
        # A's second employer in 2020-05: less pay, another occupation
        {"Personnummer": IDS["A"], "Manad": 202005, "Sysselsatt": 1, "LoneInk": 5000,
         "SokandeKat": None, "SSYK4_2012": "9111"},
        # B's second row in 2020-01 without a job-seeker category: B stays registered
        {"Personnummer": IDS["B"], "Manad": 202001, "Sysselsatt": 0, "LoneInk": 0,
         "SokandeKat": None, "SSYK4_2012": None},
    ]
    rows += [  # not among the persons: H (absent), an invalid number
        {"Personnummer": pnr, "Manad": month, "Sysselsatt": 1, "LoneInk": 1000,
         "SokandeKat": None, "SSYK4_2012": "2512"}
        for pnr, month in [(IDS["H"], 202001), (IDS["H"], 202002), (IDS["H"], 202003),
                           (INVALID, 202001), (INVALID, 202002)]
    ]
    pq.write_table(pa.Table.from_pylist(rows), config.monthly_path)
    key = load_key(config)
    participants = pd.DataFrame(
        {
            "pid": pseudonymise([IDS["A"], IDS["E"], IDS["H"], IDS["K"]], key),
            "cohort": ["2021-VT", "2021-HT", "2021-VT", "2021-VT"],
            # K's start date is mistyped (2012 for 2021); it must not move the spring cohort
            "start_date": pd.to_datetime(
                ["2021-03-08", "2021-09-06", "2021-03-08", "2012-03-08"]
            ),
        }
    )
    con, keys = open_register(config, key, temp_directory=tmp_path / "spill")
    cohorts = panel.register_cohorts(con, participants)
    panel.build_history(con)
    eligibility = panel.Eligibility(20, 64, True, True, ["0180", "1480", "1280", "0380"])
    baseline = panel.build_baseline(con, eligibility)
    pid = dict(zip("ABDEHJK", pseudonymise([IDS[p] for p in "ABDEHJK"], key),
                   strict=True))
    return config, con, keys, baseline, pid, cohorts


def test_pseudonymised_inside_duckdb(register):
    _, con, keys, baseline, _, _ = register
    assert keys.n_persons == 8 and keys.n_invalid_ids == 2
    assert not set(IDS.values()) & set(baseline["pid"])
    assert "Personnummer" not in con.execute("DESCRIBE persons").df()["column_name"].tolist()


def test_eligibility_and_pools(register):
    _, _, _, baseline, pid, _ = register
    rows = {(row.pid, row.cohort): row.treated for row in baseline.itertuples()}
    # A treated in spring; B eligible in both cohorts; D employed the month before spring
    # start, so only in the autumn pool; E only as treated in autumn (kept out of the spring
    # pool because she takes part later); C Swedish-born, F aged 71, G outside the programme
    # cities: never eligible. J has no row in either month before start: not employed, so in
    # both pools. A's second person row (Swedish-born, 2480) is ignored: her first row counts.
    assert rows == {
        (pid["A"], "2021-VT"): True,
        (pid["B"], "2021-VT"): False,
        (pid["B"], "2021-HT"): False,
        (pid["D"], "2021-HT"): False,
        (pid["E"], "2021-HT"): True,
        (pid["J"], "2021-VT"): False,
        (pid["J"], "2021-HT"): False,
    }


def test_later_participants_can_stay_in_earlier_pools(register):
    _, con, _, default, pid, _ = register
    eligibility = panel.Eligibility(20, 64, True, True, ["0180", "1480", "1280", "0380"])
    kept = panel.build_baseline(con, eligibility, later_participants="keep")
    extra = set(zip(kept["pid"], kept["cohort"], kept["treated"], strict=True)) - set(
        zip(default["pid"], default["cohort"], default["treated"], strict=True))
    # E takes part in autumn; in spring she was eligible and had not taken part yet
    assert extra == {(pid["E"], "2021-VT", False)}
    # A took part in spring: never a comparison for autumn, whatever the rule
    assert not ((kept["pid"] == pid["A"]) & (kept["cohort"] == "2021-HT")).any()
    with pytest.raises(ValueError, match="later_participants must be one of"):
        panel.build_baseline(con, eligibility, later_participants="sometimes")


def test_covariates_measured_before_start(register):
    _, _, _, baseline, pid, _ = register
    a = baseline.loc[baseline["pid"] == pid["A"]].iloc[0]
    assert a["age"] == 2021 - 1985
    assert a["female"] == 1
    assert a["years_since_immigration"] == 11
    assert a["education_field"] == "4"
    assert (a["employed_m1"], a["employed_m6"], a["employed_m12"]) == (0, 0, 1)
    assert a["months_employed_12"] == 6  # 2020-05 has two rows (two employers): one month
    assert a["months_employed_24"] == 6
    assert a["months_employed_36"] == 6
    assert a["earnings_12"] == 125000  # both employers' pay in 2020-05
    assert a["months_unemployed_12"] == 6
    assert a["history_months_36"] == 26  # the register starts in 2019-01


def test_participant_coverage_counts_absent_people(register):
    _, con, _, _, _, _ = register
    assert panel.participant_coverage(con) == {
        "participants_listed": 4,
        "participants_not_in_register": 2,
        "participants_not_eligible_at_start": 0,
        "participants_in_analysis": 2,
    }


def test_outcome_paths_and_horizon_beyond_register(register, tmp_path):
    _, con, _, _, pid, _ = register
    path = tmp_path / "outcomes.parquet"
    panel.write_outcomes(con, path, pre_months=24, post_months=36)
    outcomes = pd.read_parquet(path)
    a = outcomes.loc[outcomes["pid"] == pid["A"]].set_index("rel_month")
    assert a.index.min() == -24 and a.index.max() == 9  # 2021-03 + 9 = 2021-12, the last month
    assert a.loc[-12, "employed"] == 1 and a.loc[-6, "employed"] == 0
    assert a.loc[-12, "employed_matching"] == 1  # 2512 is skill level 4; tertiary needs 3
    # 2020-05, two employers: earnings summed, the better-paid job's occupation (2512) counts
    assert a.loc[-10, ["employed", "earnings", "employed_matching"]].tolist() == [1, 25000, 1]
    assert a.loc[-22, "employed"] == 0  # 2019 rows under her 10-digit number are hers
    assert len(a) == 34  # one row per month despite the duplicate month
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


def test_one_person_per_normalised_number(register):
    _, con, keys, baseline, pid, _ = register
    # 12 person rows: 8 people kept, A's dashed row and B's repeat dropped as duplicates, the
    # invalid and the missing number dropped as invalid.
    assert (keys.n_rows_read, keys.n_persons, keys.n_duplicate_ids, keys.n_invalid_ids) == (
        12, 8, 2, 2)
    assert keys.n_rows_read == keys.n_persons + keys.n_duplicate_ids + keys.n_invalid_ids
    persons = con.execute("SELECT * FROM persons").df()
    assert persons["pid"].is_unique and persons["person_key"].is_unique
    a = persons.loc[persons["pid"] == pid["A"]].iloc[0]
    assert (a["birth_year"], a["municipality"], a["foreign_born"]) == (1985, "0180", True)
    assert not baseline.duplicated(["pid", "cohort"]).any()
    # Monthly: 7 x 36 rows, 19 of J, 2 second rows in a month, 3 of H and 2 invalid.
    assert keys.monthly_rows_read == 278
    assert (keys.n_person_months, keys.monthly_duplicate_rows, keys.monthly_unknown_ids) == (
        271, 2, 5)
    assert keys.monthly_rows_read == (
        keys.n_person_months + keys.monthly_duplicate_rows + keys.monthly_unknown_ids)


def test_duplicate_person_months_are_merged(register):
    _, con, _, _, pid, _ = register
    rows = con.execute(
        """
        SELECT p.pid, m.month_index, m.employed, m.earnings, m.registered_unemployed,
               m.occupation
        FROM monthly m JOIN persons p USING (person_key)
        WHERE m.month_index IN (2020 * 12 + 4, 2020 * 12) AND p.pid IN (?, ?)
        ORDER BY p.pid, m.month_index
        """,
        [pid["A"], pid["B"]],
    ).df()
    by = {(row.pid, row.month_index): row for row in rows.itertuples()}
    a_may = by[(pid["A"], 2020 * 12 + 4)]
    assert (a_may.employed, a_may.earnings, a_may.occupation) == (1, 25000, "2512")
    assert bool(by[(pid["B"], 2020 * 12)].registered_unemployed)  # one of two rows says so
    assert len(rows) == 4
    assert con.execute(
        "SELECT count(*) = count(DISTINCT (person_key, month_index)) FROM monthly"
    ).fetchall()[0][0]


def test_windows_with_gaps_in_the_monthly_panel(register):
    _, _, _, baseline, pid, _ = register
    j = baseline.loc[baseline["pid"] == pid["J"]].set_index("cohort")
    # Spring (start 2021-03): no row in 2021-02 (m1) nor in 2020-02 (the 12-month edge).
    spring = j.loc["2021-VT"]
    assert (spring["employed_m1"], spring["employed_m6"], spring["employed_m12"]) == (0, 0, 1)
    assert spring["months_employed_12"] == 4  # 2020-03..06
    assert spring["months_employed_24"] == 11  # + 2019-03..09
    assert spring["months_employed_36"] == 13  # + 2019-01..02
    assert spring["earnings_12"] == 40000
    assert spring["months_unemployed_12"] == 6
    assert spring["history_months_36"] == 19
    # Autumn (start 2021-09): no row in 2021-08 (m1) nor 2021-03 (m6).
    autumn = j.loc["2021-HT"]
    assert (autumn["employed_m1"], autumn["employed_m6"], autumn["employed_m12"]) == (0, 0, 0)
    assert autumn["months_employed_12"] == 0
    assert autumn["months_employed_24"] == 5  # 2019-09 and 2020-03..06
    assert autumn["months_employed_36"] == 13
    assert autumn["months_unemployed_12"] == 4  # 2020-09..12
    assert autumn["history_months_36"] == 19
    numeric = baseline.select_dtypes("number")
    assert (numeric.drop(columns=["cohort_start"]).fillna(0) >= 0).all().all()


def test_cohort_starts_in_its_most_common_month(register):
    _, _, _, baseline, pid, cohorts = register
    starts = cohorts.set_index("cohort")
    assert starts.loc["2021-VT", "cohort_start"] == panel.month_index(2021, 3)
    assert starts.loc["2021-HT", "cohort_start"] == panel.month_index(2021, 9)
    assert starts["n_started_other_month"].to_dict() == {"2021-VT": 1, "2021-HT": 0}
    assert starts["n_participants"].to_dict() == {"2021-VT": 3, "2021-HT": 1}
    assert set(baseline["cohort_start"]) == {panel.month_index(2021, 3),
                                             panel.month_index(2021, 9)}


def test_cohort_start_ties_go_to_the_earliest_month():
    import duckdb

    participants = pd.DataFrame(
        {
            "pid": ["p1", "p2", "p3", "p4", "p5"],
            "cohort": ["X", "X", "X", "X", "X"],
            "start_date": pd.to_datetime(
                ["2021-03-01", "2021-03-20", "2021-02-15", "2021-02-01", None]
            ),
        }
    )
    cohorts = panel.register_cohorts(duckdb.connect(), participants)
    assert cohorts.to_dict("records") == [
        {"cohort": "X", "cohort_start": panel.month_index(2021, 2), "n_participants": 5,
         "n_started_other_month": 3}
    ]


def test_memory_limit_and_spill_folder(register, tmp_path):
    _, con, _, _, _, _ = register
    limit, folder = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchall()[0]
    assert limit.endswith("GiB") and float(limit.split()[0]) < 4  # demo: 4GB = 3.7 GiB
    assert folder == str(tmp_path / "spill")


def _tiny_register(tmp_path, codes: dict) -> tuple:
    settings = study_settings(tmp_path)
    settings["data"]["register"]["codes"] = codes
    settings["data"]["register"]["duckdb_memory_limit"] = "512MB"
    config = load_config(write_config(tmp_path, settings))
    (tmp_path / "raw" / "register").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "Personnummer": [IDS["A"], IDS["B"], IDS["C"], IDS["D"]],
                "FodelseAr": [1985, 1982, 1990, 1977],
                "Kon": ["K", "M", "K", "M"],
                "FodelseRegion": ["Sverige", "Norden's", "Asien", None],
                "SenInvAr": [None, 2012, 2011, 2005],
                "Sun2000niva_old": [6, 3, 5, 4],
                "Sun2000Inr": ["481", "345", "720", "520"],
                "Kommun": ["0180", "0180", "0180", "0180"],
            }
        ),
        config.persons_path,
    )
    pq.write_table(
        pa.Table.from_pylist(
            [
                {"Personnummer": IDS[p], "Manad": 202101, "Sysselsatt": 0, "LoneInk": 0,
                 "SokandeKat": category, "SSYK4_2012": None}
                for p, category in zip("ABCD", [11, 22, 95, None], strict=True)
            ]
        ),
        config.monthly_path,
    )
    return config


def test_codes_come_from_the_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("MENTOR_EVAL_KEY", TEST_KEY_HEX)
    config = _tiny_register(
        tmp_path,
        {"female": "K", "native_born_regions": ["Sverige", "Norden's"],
         "registered_unemployed": [22, 95]},
    )
    key = load_key(config)
    con, _ = open_register(config, key)
    pid = dict(zip("ABCD", pseudonymise([IDS[p] for p in "ABCD"], key), strict=True))
    persons = con.execute(
        "SELECT p.pid, p.female, p.foreign_born, m.registered_unemployed "
        "FROM persons p JOIN monthly m USING (person_key)"
    ).df().set_index("pid")
    assert persons.loc[[pid[p] for p in "ABCD"], "female"].tolist() == [True, False, True, False]
    # Native-born per the configured regions (one with a quote); an unknown region counts as
    # foreign-born, as before.
    assert persons.loc[[pid[p] for p in "ABCD"], "foreign_born"].tolist() == [
        False, False, True, True]
    assert persons.loc[[pid[p] for p in "ABCD"], "registered_unemployed"].tolist() == [
        False, True, True, False]
    assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0].endswith("MiB")

    participants = pd.DataFrame(
        {"pid": [pid["C"]], "cohort": ["2021-VT"], "start_date": pd.to_datetime(["2021-02-01"])}
    )
    panel.register_cohorts(con, participants)
    panel.build_history(con)
    baseline = panel.build_baseline(con, panel.Eligibility(20, 64, True, True, None))
    assert set(baseline["pid"]) == {pid["C"], pid["D"]}


def test_last_month_is_the_registers_latest_month(register):
    _, con, *_ = register
    last = max(MONTHS)  # the fixture's monthly file ends with its last month
    assert panel.last_month(con) == last.year * 12 + last.month - 1
