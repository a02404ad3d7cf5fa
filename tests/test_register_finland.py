"""The Finnish adapter on hand-made FOLK-style tables with known annual status.

Every HETU below is built by :func:`hetu` (check character from the 31-symbol table) and checked
against ``stdnum.fi.hetu`` in :func:`test_the_test_hetus_are_valid_for_stdnum`. ``B`` and ``C``
carry the 2023 century signs (``Y``: 1900s, ``B``: 2000s); ``B_OLD`` and ``C_OLD`` are the same
digits with the old signs ``-`` and ``A``: different numbers, so different persons.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest
from stdnum.fi import hetu as stdnum_hetu

from pipeline.config import MonthlyColumns, PersonColumns, RegisterCodes, load_config
from pipeline.pseudonymise import load_key, pseudonymise
from pipeline.register import extract as register_extract
from pipeline.register import finland
from tests.conftest import TEST_KEY_HEX, study_settings, write_config

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(ddmmyy: str, sign: str, individual: int) -> str:
    """A HETU with its check character: ``CHECK[int(DDMMYY + ZZZ) % 31]``."""
    digits = f"{ddmmyy}{individual:03d}"
    return f"{ddmmyy}{sign}{individual:03d}{CHECK[int(digits) % 31]}"


A = hetu("010190", "-", 123)
B = hetu("150385", "Y", 456)  # 2023 sign for the 1900s
B_OLD = hetu("150385", "-", 456)
C = hetu("020305", "B", 789)  # 2023 sign for the 2000s
C_OLD = hetu("020305", "A", 789)
D = hetu("311299", "X", 234)  # 2023 sign for the 1900s
E = hetu("240680", "-", 345)
VALID = [A, B, B_OLD, C, C_OLD, D, E]
# Unusable numbers and why.
BAD = {
    "010190-12": "hetu_malformed",
    "0101901234": "hetu_malformed",
    A[:-1] + ("X" if A[-1] != "X" else "Y"): "hetu_bad_checksum",
    hetu("310290", "-", 123): "hetu_bad_date",  # 31 February
    hetu("010150", "A", 123): "hetu_bad_date",  # 2050: in the future
    hetu("010190", "-", 901): "hetu_test_number",
}
ALL_HETUS = [*VALID, *BAD]
COLUMNS = ["hetu", "vuosi", "ptoim1", "palk", "sp", "syntyv", "maa", "syntyp2", "kunta",
           "ututku_aste", "iala", "muuttovuosi"]


def folk() -> pd.DataFrame:
    """Three years, 2019-2021; B has no row in 2020 (abroad), B_OLD only one in 2020."""
    rows = [
        # hetu, vuosi, ptoim1, palk, sp, syntyv, maa, syntyp2, kunta, ututku_aste, iala, muutto
        (A, 2019, 12, 1200.0, 1, 1990, "4", 22, "091", None, None, 2015),
        (A, 2020, 11, 18000.0, 1, 1990, "4", 22, "49", 6, "04", 2015),
        (A, 2021, 11, 32000.5, 1, 1990, "4", 22, "049", None, None, 2015),
        (B, 2019, 22, 0.0, 2, None, None, 12, "091", 3, "0413", None),
        (B, 2021, 99, None, 2, None, None, 12, "091", 3, "0413", None),
        (B_OLD, 2020, 11, 41000.0, 1, None, "246", 11, "837", 7, "07", None),
        (C, 2020, 22, 800.0, 2, 2005, "246", 21, "091", None, None, None),
        (C, 2021, 25, 0.0, 2, 2005, "246", 21, "091", None, None, None),
        (C_OLD, 2021, 12, None, 1, 2005, "752", 22, "091", None, None, 2010),
        (D, 2019, 11, 25000.0, 2, 1999, "246", 11, "091", 7, "09", None),
        (D, 2020, 11, 26000.0, 2, 1999, "246", 11, "091", 7, "09", None),
        (D, 2021, 11, 27000.0, 2, 1999, "246", 11, "091", 7, "09", None),
        (E, 2019, 29, 0.0, 1, 1980, "643", 22, "398", 9, "99", 2001),
        (E, 2020, 24, 0.0, 1, 1980, "643", 22, "398", 9, "99", 2001),
        (E, 2021, 12, 3500.0, 1, 1980, "643", 22, "398", 9, "99", 2001),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


# (hetu, month) -> employed, earnings (EUR per year; None: missing), jobseeker_category
EXPECTED = {
    (A, 201912): (0, 1200.0, 12), (A, 202012): (1, 18000.0, 11), (A, 202112): (1, 32000.5, 11),
    (B, 201912): (0, 0.0, 22), (B, 202112): (0, None, 99),
    (B_OLD, 202012): (1, 41000.0, 11),
    (C, 202012): (0, 800.0, 22), (C, 202112): (0, 0.0, 25),
    (C_OLD, 202112): (0, None, 12),
    (D, 201912): (1, 25000.0, 11), (D, 202012): (1, 26000.0, 11), (D, 202112): (1, 27000.0, 11),
    (E, 201912): (0, 0.0, 29), (E, 202012): (0, 0.0, 24), (E, 202112): (0, 3500.0, 12),
}


def annual(monthly: pd.DataFrame) -> dict:
    return {(r.hetu, int(r.month)): (int(r.employed),
                                     None if pd.isna(r.earnings) else float(r.earnings),
                                     int(r.jobseeker_category))
            for r in monthly.itertuples()}


def values(series: pd.Series) -> dict:
    """A column as a dict, missing values as None."""
    return {key: None if pd.isna(value) else value for key, value in series.items()}


def assert_no_hetu(*texts: object) -> None:
    for text in texts:
        for number in ALL_HETUS:
            assert number not in str(text)
            assert number.lower() not in str(text)


def assert_accounted(result: finland.FinnishExtracts) -> None:
    part = result.accounting["folk"]
    assert part["rows_read"] == part["kept"] + sum(part["quarantined"].values())
    assert len(result.quarantine) == sum(part["quarantined"].values())
    assert (result.quarantine["input"] == "folk").all()


def build(table, tmp_path, name: str = "out", **options) -> finland.FinnishExtracts:
    return finland.build_extracts(table, tmp_path / name, **options)


def error_text(excinfo) -> str:
    text = str(excinfo.value)
    assert_no_hetu(text)
    return text


# --- HETUs -----------------------------------------------------------------------------------


def test_the_test_hetus_are_valid_for_stdnum():
    for number in VALID:
        assert stdnum_hetu.validate(number) == number
    assert len(set(VALID)) == len(VALID)
    test_number = hetu("010190", "-", 901)
    assert not stdnum_hetu.is_valid(test_number)
    assert stdnum_hetu.validate(test_number, allow_temporary=True) == test_number
    future = hetu("010150", "A", 123)
    assert stdnum_hetu.is_valid(future)  # stdnum accepts it; pipeline.identity does not
    for number, reason in BAD.items():
        if reason != "hetu_test_number" and number != future:
            assert not stdnum_hetu.is_valid(number)


def test_new_century_signs_are_kept_and_distinct_from_the_old(tmp_path):
    result = build(folk(), tmp_path)
    persons = pd.read_parquet(result.persons).set_index("hetu")
    assert sorted(persons.index) == sorted(VALID)
    # the same digits with a 2023 sign and with the old one are two people
    assert {B, B_OLD, C, C_OLD} <= set(persons.index)
    assert values(persons["birth_year"])[B] == 1985  # Y: 1900s, from the HETU
    assert values(persons["birth_year"])[B_OLD] == 1985
    assert values(persons["birth_year"])[D] == 1999  # X, and syntyv agrees
    assert values(persons["birth_year"])[C] == 2005  # B: 2000s
    monthly = annual(pd.read_parquet(result.monthly))
    assert monthly[(B, 202112)] != monthly.get((B_OLD, 202112))
    assert result.accounting["persons"]["birth_year_source"] == {"hetu": 2, "syntyv": 5}


def test_hetus_are_normalised_to_upper_case(tmp_path):
    table = folk()
    table.loc[table["hetu"] == D, "hetu"] = D.lower()  # "311299x234…"
    result = build(table, tmp_path)
    assert D in set(pd.read_parquet(result.persons)["hetu"])
    assert annual(pd.read_parquet(result.monthly)) == EXPECTED


def with_bad_rows() -> pd.DataFrame:
    bad = [(number, 2020, 11, 100.0, 1, None, "246", 11, "091", None, None, None)
           for number in BAD]
    extra = [
        (None, 2020, 11, 100.0, 1, None, "246", 11, "091", None, None, None),
        (D.lower(), 2020, 12, 5.0, 2, 1999, "246", 11, "091", 7, "09", None),  # D 2020 again
        (E, 2020, 11, "12,5", 1, 1980, "643", 22, "398", 9, "99", 2001),  # not a number
    ]
    table = pd.concat([folk(), pd.DataFrame(bad + extra, columns=COLUMNS)], ignore_index=True)
    return table.astype({"palk": object})


def test_unusable_hetus_are_quarantined_with_their_reason_and_counted(tmp_path):
    table = with_bad_rows()
    result = build(table, tmp_path)
    n = len(folk())
    expected = {n + 1 + i: reason for i, reason in enumerate(BAD.values())}
    expected |= {n + len(BAD) + 1: "hetu_missing", n + len(BAD) + 2: "duplicate_year",
                 n + len(BAD) + 3: "bad_earnings"}
    quarantine = result.quarantine
    assert quarantine.columns.tolist() == ["input", "row", "reason", "detail"]
    assert quarantine.set_index("row")["reason"].to_dict() == expected
    assert quarantine["detail"].notna().all()
    assert result.accounting["folk"]["quarantined"] == {
        "bad_earnings": 1, "duplicate_year": 1, "hetu_bad_checksum": 1, "hetu_bad_date": 2,
        "hetu_malformed": 2, "hetu_missing": 1, "hetu_test_number": 1}
    assert result.accounting["folk"]["rows_read"] == len(table)
    assert result.accounting["folk"]["kept"] == n
    assert_accounted(result)
    # the first row of D's 2020 is kept, the later one is not
    assert annual(pd.read_parquet(result.monthly)) == EXPECTED
    assert_no_hetu(quarantine.to_string(), result.accounting)


def test_a_person_year_is_a_duplicate_only_among_usable_rows(tmp_path):
    # D's 2020 first appears with an unreadable palk (quarantined): the later row is kept.
    table = folk().astype({"palk": object})
    first = table.index[(table["hetu"] == D) & (table["vuosi"] == 2020)][0]
    broken = table.loc[[first]].assign(palk="n/a")
    table = pd.concat([table.iloc[:first], broken, table.iloc[first:]], ignore_index=True)
    result = build(table, tmp_path)
    assert result.quarantine.set_index("row")["reason"].to_dict() == {first + 1: "bad_earnings"}
    assert annual(pd.read_parquet(result.monthly)) == EXPECTED


def test_an_extract_without_any_hetu_is_refused(tmp_path):
    table = folk().rename(columns={"hetu": "shnro"})
    table["shnro"] = [f"P{i:07d}" for i in range(len(table))]  # protected keys
    with pytest.raises(ValueError) as excinfo:
        build(table, tmp_path)
    text = error_text(excinfo)
    assert "'shnro'" in text and "is a HETU" in text


# --- annual status ---------------------------------------------------------------------------


def test_each_person_year_is_one_december_row_with_the_known_status(tmp_path):
    result = build(folk(), tmp_path)
    monthly = pd.read_parquet(result.monthly)
    assert monthly.columns.tolist() == ["hetu", "month", "employed", "earnings",
                                        "jobseeker_category", "occupation"]
    assert annual(monthly) == EXPECTED
    assert (monthly["month"] % 100 == 12).all()
    assert monthly["month"].dtype == "int32"
    assert monthly["occupation"].isna().all()
    accounting = result.accounting
    assert accounting["monthly"] == {"rows_written": 15, "employed_person_years": 6,
                                     "unemployed_person_years": 3, "earnings_missing": 2}
    assert accounting["person_years_by_ptoim1"] == {11: 6, 12: 3, 21: 0, 22: 2, 24: 1, 25: 1,
                                                    29: 1, 99: 1}
    assert accounting["person_years_by_year"] == {2019: 4, 2020: 5, 2021: 6}
    assert accounting["years"] == {"first": 2019, "last": 2021, "n_years": 3}
    assert_accounted(result)


def test_earnings_are_the_annual_wage_income_and_missing_stays_missing(tmp_path):
    monthly = pd.read_parquet(build(folk(), tmp_path).monthly).set_index(["hetu", "month"])
    assert monthly.loc[(A, 202112), "earnings"] == 32000.5  # the year's wages, not / 12
    assert pd.isna(monthly.loc[(B, 202112), "earnings"])
    assert pd.isna(monthly.loc[(C_OLD, 202112), "earnings"])
    assert monthly.loc[(C, 202112), "earnings"] == 0.0


def test_code_99_is_kept_as_not_employed_and_counted(tmp_path):
    result = build(folk(), tmp_path)
    assert annual(pd.read_parquet(result.monthly))[(B, 202112)] == (0, None, 99)
    assert result.accounting["person_years_by_ptoim1"][99] == 1


def test_persons_take_each_value_from_their_latest_year_that_has_one(tmp_path):
    result = build(folk(), tmp_path)
    persons = pd.read_parquet(result.persons)
    assert set(result.person_columns.values()) <= set(persons.columns)
    persons = persons.set_index("hetu")
    # A moved from 091 to 049 (written "49" in 2020): the latest year's municipality
    assert values(persons["municipality"]) == {A: "049", B: "091", B_OLD: "837", C: "091",
                                               C_OLD: "091", D: "091", E: "398"}
    # A's education is published for 2020 only: taken from there
    assert values(persons["education_isced"]) == {A: 6, B: 3, B_OLD: 7, C: None, C_OLD: None,
                                                  D: 7, E: None}
    assert values(persons["education_level"]) == {A: 6, B: 4, B_OLD: 6, C: None, C_OLD: None,
                                                  D: 6, E: None}
    assert values(persons["education_field"]) == {A: "3", B: "3", B_OLD: "5", C: None,
                                                  C_OLD: None, D: "7", E: "9"}
    assert values(persons["education_field_code"])[B] == "0413"
    # the country of birth wins; without it the origin decides (B: Finnish background, abroad)
    assert values(persons["region_of_birth"]) == {A: "004", B: "abroad", B_OLD: "246",
                                                  C: "246", C_OLD: "752", D: "246", E: "643"}
    assert values(persons["sex"]) == {A: "1", B: "2", B_OLD: "1", C: "2", C_OLD: "1", D: "2",
                                      E: "1"}
    assert values(persons["immigration_year"]) == {A: 2015, B: None, B_OLD: None, C: None,
                                                   C_OLD: 2010, D: None, E: 2001}
    assert values(persons["latest_year"]) == {A: 2021, B: 2021, B_OLD: 2020, C: 2021,
                                              C_OLD: 2021, D: 2021, E: 2021}
    accounting = result.accounting["persons"]
    assert accounting["rows_written"] == 7
    assert accounting["with_year_gaps"] == 1  # B: 2019 and 2021, not 2020
    assert accounting["in_every_year"] == 3  # A, D, E
    assert accounting["region_of_birth_source"] == {"birth_country": 6, "origin": 1}
    assert accounting["missing_values"]["education_level"] == 3
    invalid = result.accounting["folk"]["invalid_values_in_kept_rows"]
    assert invalid["education_level_unknown"] == 3 and invalid["education_level"] == 0


@pytest.mark.parametrize(("code", "group"), [
    ("00", "0"), ("01", "1"), ("02", "2"), ("03", "3"), ("04", "3"), ("0413", "3"),
    ("05", "4"), ("06", "4"), ("061", "4"), ("07", "5"), ("08", "6"), ("09", "7"),
    ("10", "8"), ("1013", "8"), ("99", "9"), ("4", "3"), ("413", None), ("AB", None),
])
def test_isced_f_fields_become_sun_2000_broad_groups(tmp_path, code, group):
    table = folk().iloc[[0]].assign(iala=code)
    persons = pd.read_parquet(build(table, tmp_path).persons)
    assert values(persons["education_field"]) == {0: group}


@pytest.mark.parametrize(("level", "isced", "expected"), [
    (3, 3, 4), (4, 4, 4), (5, 5, 5), (6, 6, 6), (7, 7, 6), (8, 8, 7), (9, None, None),
    (2, None, None), (None, None, None),
])
def test_education_levels_are_isced_2011(tmp_path, level, isced, expected):
    table = folk().iloc[[0]].assign(ututku_aste=level)
    person = pd.read_parquet(build(table, tmp_path).persons).iloc[0]
    got = [None if pd.isna(person[c]) else int(person[c])
           for c in ("education_isced", "education_level")]
    assert got == [isced, expected]


def test_origin_alone_gives_finland_or_abroad(tmp_path):
    table = folk().drop(columns=["maa"])
    persons = pd.read_parquet(build(table, tmp_path).persons).set_index("hetu")
    assert values(persons["region_of_birth"]) == {A: "abroad", B: "abroad", B_OLD: "246",
                                                  C: "246", C_OLD: "abroad", D: "246",
                                                  E: "abroad"}


def test_syntyp2_holding_country_codes_is_refused_unless_named(tmp_path):
    table = folk().drop(columns=["maa"]).assign(syntyp2="246")
    with pytest.raises(ValueError) as excinfo:
        build(table, tmp_path)
    text = error_text(excinfo)
    assert "'syntyp2'" in text and "birth_country='syntyp2'" in text
    columns = finland.FolkColumns(birth_country="syntyp2", origin=None)
    persons = pd.read_parquet(build(table, tmp_path, columns=columns).persons)
    assert set(persons["region_of_birth"]) == {"246"}


# --- years -----------------------------------------------------------------------------------


def test_a_missing_year_is_refused_naming_it_and_what_to_do(tmp_path):
    table = folk()
    table = table[table["vuosi"] != 2020]
    with pytest.raises(ValueError) as excinfo:
        build(table, tmp_path)
    text = error_text(excinfo)
    assert "2020" in text and "2019 to 2021" in text
    assert "complete extract" in text and "years=" in text
    cut = build(table[table["vuosi"] == 2021], tmp_path, years=(2021, 2021))
    assert cut.accounting["years"]["n_years"] == 1


def test_a_missing_year_names_the_file(tmp_path):
    path = tmp_path / "folk_2019_2021.parquet"
    folk()[lambda t: t["vuosi"] != 2019].to_parquet(path)
    with pytest.raises(ValueError) as excinfo:
        build(path, tmp_path, years=(2019, 2021))
    text = error_text(excinfo)
    assert "folk_2019_2021.parquet" in text and "2019" in text


def test_rows_outside_the_stated_years_are_named(tmp_path):
    with pytest.raises(ValueError) as excinfo:
        build(folk(), tmp_path, years=(2020, 2021))
    text = error_text(excinfo)
    assert "rows 1, 4, 10, 13" in text and "outside the stated years 2020 to 2021" in text
    assert "years=" in text


def test_a_vuosi_that_is_not_a_year_is_named(tmp_path):
    table = folk().astype({"vuosi": object})
    table.loc[2, "vuosi"] = "2O21"
    with pytest.raises(ValueError) as excinfo:
        build(table, tmp_path)
    assert "not a year in row 3" in error_text(excinfo)


def test_a_year_range_that_runs_backwards_is_refused(tmp_path):
    with pytest.raises(ValueError, match="after the last"):
        build(folk(), tmp_path, years=(2021, 2019))


# --- main activity ---------------------------------------------------------------------------


def test_an_unknown_main_activity_code_is_refused_naming_code_and_rows(tmp_path):
    table = folk()
    table.loc[[1, 4], "ptoim1"] = 13
    with pytest.raises(ValueError) as excinfo:
        build(table, tmp_path)
    text = error_text(excinfo)
    assert "'ptoim1'" in text and "rows 2, 5" in text and "13 (2 rows, first row 2)" in text


def test_a_missing_main_activity_names_its_year(tmp_path):
    table = folk().astype({"ptoim1": object})
    table.loc[table["vuosi"] == 2021, "ptoim1"] = None
    with pytest.raises(ValueError) as excinfo:
        build(table, tmp_path)
    text = error_text(excinfo)
    assert "missing" in text and "year(s) 2021" in text and "years=" in text


def test_a_misread_main_activity_column_shows_no_identity_number(tmp_path):
    table = folk().astype({"ptoim1": object})
    table.loc[0, "ptoim1"] = A  # a shifted column
    with pytest.raises(ValueError) as excinfo:
        build(table, tmp_path)
    assert "not a number (1 row, first row 1)" in error_text(excinfo)


# --- columns ---------------------------------------------------------------------------------


def test_a_missing_column_is_named(tmp_path):
    with pytest.raises(ValueError) as excinfo:
        build(folk().drop(columns=["kunta"]), tmp_path)
    assert "'kunta'" in error_text(excinfo)


def test_two_identity_columns_are_refused(tmp_path):
    table = folk().assign(shnro="x")
    with pytest.raises(ValueError) as excinfo:
        build(table, tmp_path)
    assert "personal_id" in error_text(excinfo)


def test_column_names_match_in_any_case_and_can_be_renamed(tmp_path):
    table = folk().rename(columns={"hetu": "HETU", "vuosi": "Vuosi", "sp": "SUKUP",
                                   "palk": "palkka"})
    table["civil_status"] = 1
    result = build(table, tmp_path, columns=finland.FolkColumns(earnings="palkka"))
    assert annual(pd.read_parquet(result.monthly)) == EXPECTED
    assert result.accounting["folk"]["columns_not_used"] == ["civil_status"]
    assert result.accounting["folk"]["columns"]["sex"] == "SUKUP"


# --- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "dta"])
def test_files_give_the_same_extracts_as_parquet(tmp_path, kind):
    table = folk()
    table["kunta_nimi"] = ["Helsingfors", "Hämeenlinna", "Hämeenlinna", "Helsingfors",
                           "Helsingfors", "Pietarsaari", "Jyväskylä", "Jyväskylä", "Jyväskylä",
                           "Jyväskylä", "Jyväskylä", "Jyväskylä", "Åbo", "Åbo", "Åbo"]
    raw = tmp_path / "raw"
    raw.mkdir()
    table.to_parquet(raw / "folk.parquet")
    if kind == "csv":
        path = raw / "folk.csv"
        table.to_csv(path, index=False, sep=";", encoding="latin-1")
        assert b"H\xe4meenlinna" in path.read_bytes()  # Latin-1, not UTF-8
    else:
        path = raw / "folk.dta"
        pyreadstat.write_dta(table.astype({"ututku_aste": float, "muuttovuosi": float}), path)
    from_parquet = build(raw / "folk.parquet", tmp_path, "parquet")
    from_file = build(path, tmp_path, kind)
    for name in ("persons", "monthly"):
        pd.testing.assert_frame_equal(pd.read_parquet(getattr(from_file, name)),
                                      pd.read_parquet(getattr(from_parquet, name)))
    assert from_file.accounting == from_parquet.accounting
    assert from_file.accounting["folk"]["columns_not_used"] == ["kunta_nimi"]


def test_a_pyarrow_table_reads_as_a_data_frame(tmp_path):
    table = pa.Table.from_pandas(folk(), preserve_index=False)
    result = build(table, tmp_path)
    assert annual(pd.read_parquet(result.monthly)) == EXPECTED


def test_the_same_input_gives_the_same_bytes(tmp_path):
    first, second = (build(folk(), tmp_path, name) for name in ("one", "two"))
    for name in ("persons", "monthly"):
        assert getattr(first, name).read_bytes() == getattr(second, name).read_bytes()
    assert pq.read_table(first.persons).num_rows == 7


def test_the_mapping_is_one_a_study_configuration_accepts(tmp_path):
    result = build(folk(), tmp_path)
    settings = result.register_settings(tmp_path)
    assert settings["persons"] == "out/persons.parquet"
    assert settings["codes"] == {"female": 2, "native_born_regions": ["246"],
                                 "registered_unemployed": [12]}
    PersonColumns(**settings["person_columns"])
    MonthlyColumns(**settings["monthly_columns"])
    RegisterCodes(**settings["codes"])
    assert settings["person_columns"]["personal_id"] == "hetu"
    assert set(settings["monthly_columns"].values()) <= set(
        pd.read_parquet(result.monthly).columns)
    assert_no_hetu(result.accounting, result.quarantine.to_string())


# --- through the register stage --------------------------------------------------------------


def _finnish_study(tmp_path, monkeypatch, table: pd.DataFrame):
    monkeypatch.setenv("MENTOR_EVAL_KEY", TEST_KEY_HEX)
    raw = tmp_path / "raw"
    result = finland.build_extracts(table, raw / "register")
    settings = study_settings(tmp_path)
    settings.pop("synth")  # real data: a synthetic Finnish world would be FOLK-shaped
    settings["pseudonymisation"]["allow_generated_key"] = False  # the key is in the environment
    settings["data"]["identity_country"] = "fi"
    settings["data"]["register"].update(result.register_settings(raw))
    settings["design"]["municipalities"] = ["0091", "0049"]
    return load_config(write_config(tmp_path, settings))


def test_the_register_stage_reads_the_canonical_files(tmp_path, monkeypatch):
    """The files, mapping and codes read by :func:`open_register` of a Finnish study."""
    config = _finnish_study(tmp_path, monkeypatch, with_bad_rows())
    key = load_key(config)
    con, keys = register_extract.open_register(config, key)
    assert (keys.n_persons, keys.n_invalid_ids, keys.n_person_months,
            keys.monthly_unknown_ids) == (7, 0, 15, 0)
    pids = set(con.execute("SELECT pid FROM persons").df()["pid"])
    assert pids == set(pseudonymise(VALID, key, "FI"))
    persons = con.execute("SELECT * FROM persons").df()
    assert not persons["pid"].astype(str).str.contains("|".join(VALID)).any()
    by_pid = persons.set_index("pid")
    [a] = pseudonymise([A], key, "FI")
    assert by_pid.loc[a, ["birth_year", "female", "region_of_birth", "foreign_born",
                          "immigration_year", "education_level", "education_field",
                          "municipality"]].tolist() == [1990, False, "004", True, 2015, 6, "3",
                                                        "0049"]
    [d, b] = pseudonymise([D, B], key, "FI")
    assert by_pid.loc[d, ["female", "foreign_born", "municipality"]].tolist() == [True, False,
                                                                                 "0091"]
    assert by_pid.loc[b, ["region_of_birth", "foreign_born"]].tolist() == ["abroad", True]
    monthly = con.execute(
        "SELECT p.pid, m.* FROM monthly m JOIN persons p USING (person_key)").df()
    assert set(monthly["month_index"] % 12) == {11}  # December only
    by = monthly.set_index(["pid", "month_index"])
    december = {year: year * 12 + 11 for year in (2019, 2020, 2021)}
    assert by.loc[(a, december[2019]), ["employed", "earnings", "registered_unemployed"]
                  ].tolist() == [0, 1200.0, True]
    assert by.loc[(a, december[2021]), ["employed", "earnings", "registered_unemployed"]
                  ].tolist() == [1, 32000.5, False]
    assert pd.isna(by.loc[(b, december[2021]), "earnings"])
    assert int(monthly["employed"].sum()) == 6
    assert int(monthly["registered_unemployed"].sum()) == 3
    assert monthly["occupation"].isna().all()
