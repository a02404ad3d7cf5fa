"""The Danish adapter on hand-made DREAM, eIndkomst and BEF tables with known monthly status.

Weeks of 2020 by their Thursdays: January W01-W05 (W05 runs Monday 27 January to Sunday
2 February), February W06-W09, March W10-W13, April W14-W18; December 2020 W49-W53 (W53 runs
Monday 28 December to Sunday 3 January), January 2021 W01-W04.

Every CPR number below is valid and fails the old modulus-11 check (checked in
:func:`test_cprs_that_fail_modulus_11_are_kept`), except ``PASSES_MOD11``.
"""

from __future__ import annotations

import random

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest
from stdnum.dk import cpr as stdnum_cpr

from pipeline.config import MonthlyColumns, PersonColumns, RegisterCodes, load_config
from pipeline.identity import check_identities
from pipeline.pseudonymise import load_key, pseudonymise
from pipeline.register import denmark
from pipeline.register import extract as register_extract
from tests.conftest import TEST_KEY_HEX, study_settings, write_config

A, B, C, D = "0101901234", "2207783456", "0408954567", "1111881235"
E, F = "3006005678", "1712724321"
PASSES_MOD11 = "1503852345"
VALID = [A, B, C, D, E, F]
# Malformed or impossible numbers and why.
BAD = {"12345": "cpr_malformed", "01019O1234": "cpr_malformed",
       "3102901234": "cpr_bad_date", "0101304000": "cpr_bad_date"}
ALL_CPRS = [*VALID, PASSES_MOD11, *BAD]
WEEKS_2020 = range(1, 19)


def wide(codes: dict[str, dict[int, int]], weeks=WEEKS_2020, year: int = 20,
         columns: list[str] | None = None) -> pd.DataFrame:
    """A wide DREAM table: ``codes[cpr][week]``; weeks without a code are empty."""
    columns = columns or [f"y_{year:02d}{week:02d}" for week in weeks]
    rows = {"PNR": list(codes)}
    for column in columns:
        rows[column] = [None if (c := person.get(column)) is None else str(c)
                        for person in codes.values()]
    return pd.DataFrame(rows)


def by_week(codes: dict[int, int], year: int = 20) -> dict[str, int]:
    return {f"y_{year:02d}{week:02d}": code for week, code in codes.items()}


# A: ordinary months; B: the straddling week W05; C: a health-related code (890, sickness
# benefit) overwrites dagpenge in March, an education code (651, SU) fills April; D: a code in
# no group (555).
DREAM = {
    A: by_week({1: 111, 2: 111, 3: 111, 6: 111, 7: 890, 10: 112, 11: 112, 14: 111, 15: 111}),
    B: by_week({3: 111, 4: 111, 5: 111, 6: 111}),
    C: by_week({10: 111, 11: 890, 12: 890, 13: 890, 14: 651, 15: 651, 16: 651, 17: 651,
                18: 651}),
    D: by_week({10: 555, 11: 555, 12: 555, 13: 555}),
}
# (cpr, month) -> (unemployment weeks, jobseeker_category)
EXPECTED_DREAM = {
    (A, 202001): (3, 1), (A, 202002): (1, 2), (A, 202003): (2, 1), (A, 202004): (2, 2),
    (B, 202001): (3, 1), (B, 202002): (1, 2), (B, 202003): (0, 0), (B, 202004): (0, 0),
    (C, 202001): (0, 0), (C, 202002): (0, 0), (C, 202003): (1, 2), (C, 202004): (0, 0),
    (D, 202001): (0, 0), (D, 202002): (0, 0), (D, 202003): (0, 0), (D, 202004): (0, 0),
}
WEEKS_PER_MONTH = {202001: 5, 202002: 4, 202003: 4, 202004: 5}


def values(series: pd.Series) -> dict:
    """A column as a dict, missing values as None."""
    return {key: None if pd.isna(value) else value for key, value in series.items()}


def status(table: pd.DataFrame) -> dict[tuple[str, int], tuple[int, int]]:
    return {(row.cpr, int(row.month)): (int(row.unemployment_weeks),
                                        int(row.jobseeker_category))
            for row in table.itertuples()}


def assert_no_cpr(*texts: object) -> None:
    for text in texts:
        for number in ALL_CPRS:
            assert number not in str(text)


def assert_accounted(accounting: dict, quarantine: pd.DataFrame, name: str) -> None:
    part = accounting[name] if name in accounting else accounting
    assert part["rows_read"] == (part["kept"] + part["outside_months"]
                                 + sum(part["quarantined"].values()))
    assert len(quarantine[quarantine["input"] == name]) == sum(part["quarantined"].values())


# --- weeks to months -------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "week", "month"), [
    (2020, 1, 202001),  # Thursday 2 January
    (2020, 5, 202001),  # Monday 27 January - Sunday 2 February
    (2020, 6, 202002),
    (2019, 1, 201901),  # starts Monday 31 December 2018
    (2020, 53, 202012),  # Monday 28 December - Sunday 3 January 2021
    (2015, 53, 201512),
])
def test_a_week_belongs_to_the_month_of_its_thursday(year, week, month):
    assert denmark.iso_week_month(year, week) == month


def test_a_year_without_week_53_has_none():
    with pytest.raises(ValueError):
        denmark.iso_week_month(2021, 53)


# --- DREAM -----------------------------------------------------------------------------------


def test_wide_dream_gives_the_known_monthly_status():
    result = denmark.dream_months(wide(DREAM))
    assert status(result.table) == EXPECTED_DREAM
    weeks = {int(r.month): int(r.weeks) for r in result.table.itertuples()}
    assert weeks == WEEKS_PER_MONTH
    accounting = result.accounting
    assert accounting["weeks"] == {"first": "2020-W01", "last": "2020-W18"}
    assert accounting["coded_weeks_by_group"] == {
        "education_grant": 5, "health_related": 4, "unemployment_benefit": 13, "unmapped": 4}
    assert accounting["unmapped_codes"] == {555: 4}
    assert accounting["person_weeks"] == 4 * 18
    assert_accounted(accounting, result.quarantine, "dream")


def test_the_straddling_week_counts_for_the_month_of_its_thursday():
    # W05 (27 January - 2 February) is B's third unemployment week of January: 3 of 5.
    table = status(denmark.dream_months(wide({B: DREAM[B]})).table)
    assert table[(B, 202001)] == (3, 1)
    assert table[(B, 202002)] == (1, 2)


def test_priority_overwriting_shows_only_the_winning_code():
    # C drew dagpenge all of March but was also sick for three weeks: each of those weeks holds
    # only the code that won (890), so only one March week is an unemployment week and March
    # is not a registered-unemployment month. Her April shows only the education code (651),
    # whatever else she drew in those weeks.
    table = status(denmark.dream_months(wide({C: DREAM[C]})).table)
    assert table[(C, 202003)] == (1, 2)
    assert table[(C, 202004)] == (0, 0)


def test_exactly_half_of_the_weeks_is_enough_and_the_share_is_a_parameter():
    table = status(denmark.dream_months(wide({A: DREAM[A]})).table)
    assert table[(A, 202003)] == (2, 1)  # 2 of 4
    assert table[(A, 202004)] == (2, 2)  # 2 of 5
    lenient = status(denmark.dream_months(wide({A: DREAM[A]}),
                                          min_unemployed_share=0.25).table)
    assert lenient[(A, 202002)] == (1, 1)  # 1 of 4
    assert lenient[(A, 202004)] == (2, 1)
    strict = status(denmark.dream_months(wide({A: DREAM[A]}), min_unemployed_share=1).table)
    assert strict[(A, 202001)] == (3, 2)


def test_a_code_outside_the_groups_is_counted_and_not_unemployment():
    result = denmark.dream_months(wide({D: DREAM[D]}))
    assert set(status(result.table).values()) == {(0, 0)}
    assert result.accounting["unmapped_codes"] == {555: 4}
    counted = denmark.dream_months(wide({D: DREAM[D]}), unemployment_codes=[555])
    assert status(counted.table)[(D, 202003)] == (4, 1)


def test_week_53_belongs_to_december():
    columns = [f"y_20{w}" for w in range(49, 54)] + [f"y_21{w:02d}" for w in range(1, 5)]
    codes = {A: {"y_2051": 111, "y_2052": 111, "y_2053": 111, "y_2101": 111}}
    result = denmark.dream_months(wide(codes, columns=columns))
    assert status(result.table) == {(A, 202012): (3, 1), (A, 202101): (1, 2)}
    assert {int(r.month): int(r.weeks) for r in result.table.itertuples()} == {202012: 5,
                                                                               202101: 4}
    rows = [(A, label, 111) for label in ("2051", "y_2052", "2020-W53", "202101")]
    long = pd.DataFrame(rows, columns=["PNR", "year_week", "code"])
    from_long = denmark.dream_months(long, weeks=("2020-W49", "2021-W04"))
    assert status(from_long.table) == status(result.table)


def long_rows(codes: dict[str, dict[str, int]]) -> pd.DataFrame:
    """The wide table's coded weeks as long rows, the week written in every accepted form."""
    forms = [lambda w: w[2:], lambda w: w, lambda w: f"20{w[2:4]}{w[4:]}",
             lambda w: f"20{w[2:4]}-W{w[4:]}"]
    rows = [(cpr, forms[i % len(forms)](column), code)
            for cpr, weeks in codes.items() for i, (column, code) in enumerate(weeks.items())]
    return pd.DataFrame(rows, columns=["PNR", "year_week", "code"])


def test_long_dream_gives_the_same_months_as_wide():
    long = long_rows(DREAM)
    result = denmark.dream_months(long, weeks=("2020-W01", "2020-W18"))
    assert result.accounting["form"] == "long"
    assert status(result.table) == EXPECTED_DREAM
    assert result.accounting["coded_weeks_by_group"] == denmark.dream_months(
        wide(DREAM)).accounting["coded_weeks_by_group"]


def test_long_dream_quarantines_repeated_weeks_and_counts_weeks_outside_the_months():
    long = long_rows({A: DREAM[A]})
    extra = pd.DataFrame([(A, "2001", 890), (A, "1952", 111), (A, 2004, None)],
                         columns=["PNR", "year_week", "code"])
    long = pd.concat([long, extra], ignore_index=True)
    result = denmark.dream_months(long, weeks=("2019-W52", "2020-W18"))
    assert result.accounting["outside_months"] == 1  # 2019-W52: December 2019 is incomplete
    assert result.accounting["quarantined"] == {"duplicate_week": 1}
    quarantined = result.quarantine
    assert quarantined[["row", "reason"]].values.tolist() == [[len(long) - 2,
                                                              "duplicate_week"]]
    # the first row of W01 (111) is kept, the repeated one (890) is not
    assert status(result.table)[(A, 202001)] == (3, 1)
    assert_accounted(result.accounting, quarantined, "dream")


def test_dream_rows_with_bad_cpr_numbers_are_quarantined_not_dropped():
    table = wide({A: DREAM[A], **{number: {"y_2001": 111} for number in BAD}, None: {}})
    result = denmark.dream_months(table)
    expected = {number: reason for number, reason in BAD.items()}
    reasons = result.quarantine.set_index("row")["reason"].to_dict()
    assert reasons == {i + 2: expected[number] for i, number in enumerate(BAD)} | {
        len(BAD) + 2: "cpr_missing"}
    assert result.accounting["quarantined"] == {"cpr_bad_date": 2, "cpr_malformed": 2,
                                                "cpr_missing": 1}
    assert set(result.table["cpr"]) == {A}
    assert_accounted(result.accounting, result.quarantine, "dream")
    assert_no_cpr(result.accounting, result.quarantine.to_string())


# --- DREAM: bad input ------------------------------------------------------------------------


def error_text(excinfo) -> str:
    text = str(excinfo.value)
    assert_no_cpr(text)
    return text


def test_a_week_column_outside_the_stated_range_is_named():
    with pytest.raises(ValueError) as excinfo:
        denmark.dream_months(wide(DREAM), weeks=("2020-W01", "2020-W17"))
    text = error_text(excinfo)
    assert "'y_2018'" in text and "outside the stated range 2020-W01 to 2020-W17" in text
    assert "weeks=" in text


def test_a_stated_range_wider_than_the_columns_names_the_missing_weeks():
    with pytest.raises(ValueError) as excinfo:
        denmark.dream_months(wide(DREAM), weeks=("2019-W50", "2020-W18"))
    text = error_text(excinfo)
    assert "y_1950" in text and "no column" in text


def test_a_gap_in_the_week_columns_is_refused():
    table = wide(DREAM).drop(columns=["y_2007"])
    with pytest.raises(ValueError) as excinfo:
        denmark.dream_months(table)
    assert "y_2007" in error_text(excinfo)


@pytest.mark.parametrize(("column", "message"), [
    ("y_2054", "week 54 is not an ISO week number"),
    ("y_2100", "week 00 is not an ISO week number"),
    ("y_2153", "2021 has no ISO week 53"),
])
def test_week_numbers_that_do_not_exist_are_named(column, message):
    table = wide(DREAM)
    table[column] = None
    with pytest.raises(ValueError) as excinfo:
        denmark.dream_months(table)
    text = error_text(excinfo)
    assert repr(column) in text and message in text


def test_unknown_columns_are_named_unless_ignored():
    table = wide(DREAM)
    table["KOMMUNE"] = "101"
    table["grad_2020_01"] = 0.5  # DREAM's monthly columns are left out on their own
    with pytest.raises(ValueError) as excinfo:
        denmark.dream_months(table)
    text = error_text(excinfo)
    assert "'KOMMUNE'" in text and "ignore_columns" in text
    result = denmark.dream_months(table, ignore_columns=["kommune"])
    assert status(result.table) == EXPECTED_DREAM
    assert result.accounting["columns_ignored"] == ["KOMMUNE", "grad_2020_01"]


def test_a_cell_that_is_no_dream_code_names_its_row_and_column():
    table = wide(DREAM)
    table.loc[1, "y_2003"] = "11A"
    with pytest.raises(ValueError) as excinfo:
        denmark.dream_months(table)
    assert "row 2, column 'y_2003'" in error_text(excinfo)


def test_long_weeks_outside_01_53_or_the_range_name_their_rows():
    long = pd.DataFrame([(A, "2001", 111), (A, "2054", 111), (A, "2153", 111),
                         (A, "2020-W19", 111), (A, "week1", 111)],
                        columns=["PNR", "year_week", "code"])
    with pytest.raises(ValueError) as excinfo:
        denmark.dream_months(long, weeks=("2020-W01", "2020-W18"))
    text = error_text(excinfo)
    assert "a week number outside 01-53 in row 2;" in text
    assert "week 53 in a year with 52 ISO weeks in row 3;" in text
    assert "outside the stated range 2020-W01 to 2020-W18 in row 4" in text
    assert "not readable as a week (YYWW, YYYYWW or YYYY-Www) in row 5;" in text
    assert "'year_week'" in text


def test_months_the_dream_weeks_do_not_cover_are_refused():
    with pytest.raises(ValueError) as excinfo:
        denmark.dream_months(wide(DREAM), months=("2019-12", "2020-04"))
    assert "2019-12" in error_text(excinfo)


# --- eIndkomst -------------------------------------------------------------------------------


WAGES = pd.DataFrame(
    [
        (A, "2020-01", "e1", 400.0, "2512"),
        (A, "202001", "e2", 400.0, "9112"),  # ties with e1: the larger code wins
        (A, "2020-01-31", "e3", 300.0, None),
        (B, "2020-01", "e1", 900.0, "251210"),  # DISCO-08 with six digits: unit group 2512
        (B, "2020-02", "e1", 5000.0, "ABC"),
        (B, "2020-02", "e2", -200.0, None),  # a correction
        (C, "2020-13", "e1", 3000.0, "3112"),
        (C, "2020-02", "e1", "12,5", "3112"),
        ("12345", "2020-02", "e1", 3000.0, None),
        (C, "2020-02", "e1", 2000.0, "3112"),
        (C, "2020-02", "e2", 2000.0, "5223"),
    ],
    columns=["PNR", "month", "employer", "wage", "occupation"],
).astype({"wage": object})


def test_wages_are_summed_over_employers_and_the_threshold_decides_employment():
    result = denmark.wage_months(WAGES)
    table = {(r.cpr, int(r.month)): (r.earnings, int(r.employed),
                                      None if pd.isna(r.occupation) else r.occupation)
             for r in result.table.itertuples()}
    assert table == {
        (A, 202001): (1100.0, 1, "9112"),  # 400 + 400 + 300, each below DKK 1,000
        (B, 202001): (900.0, 0, "2512"),
        (B, 202002): (4800.0, 1, None),
        (C, 202002): (4000.0, 1, "5223"),
    }
    accounting = result.accounting
    assert accounting["quarantined"] == {"bad_month": 1, "bad_wage": 1, "cpr_malformed": 1}
    assert accounting["occupation_invalid"] == 1
    assert accounting["rows_summed_into_person_months"] == 4
    rows = result.quarantine.set_index("row")["reason"].to_dict()
    assert rows == {7: "bad_month", 8: "bad_wage", 9: "cpr_malformed"}
    assert_accounted(accounting, result.quarantine, "wages")
    any_pay = denmark.wage_months(WAGES, wage_threshold=0)
    assert any_pay.table.set_index(["cpr", "month"]).loc[(B, 202001), "employed"] == 1


def test_wages_outside_the_months_are_counted_not_kept():
    result = denmark.wage_months(WAGES, months=("2020-02", "2020-02"))
    assert result.accounting["outside_months"] == 4
    assert set(result.table["month"]) == {202002}
    assert_accounted(result.accounting, result.quarantine, "wages")


# --- BEF -------------------------------------------------------------------------------------


def population() -> pd.DataFrame:
    rows = [
        # PNR, KOEN, FOED_DAG, FOEDSELSAAR, OPR_LAND, IE_TYPE, KOM, HFAUDD, IND_DATO
        (A, 1, "1990-01-01", None, "5128", 2, 101, "6520", "2015-03-01"),
        (B, 2, None, 1978, "5100", 1, "851", "3510", None),
        (C, 2, None, None, "5172", 3, "0461", "1009", None),
        (D, 9, "1988-11-11", None, "5180", 2, "abc", "9999", "1999-12-31"),
        (E, 1, None, None, "5100", None, 147, "1001", None),
        ("010190-1234", 1, None, None, "5128", 2, 101, None, None),  # A again
        *[(number, 1, None, None, "5100", 1, 101, None, None) for number in BAD],
        (None, 2, None, None, "5100", 1, 101, None, None),
        (F, 1, None, None, "5154", 2, 101, "4010", "2019-06-30"),
    ]
    return pd.DataFrame(rows, columns=["PNR", "KOEN", "FOED_DAG", "FOEDSELSAAR", "OPR_LAND",
                                       "IE_TYPE", "KOM", "HFAUDD", "IND_DATO"])


def test_population_with_every_ie_type():
    result = denmark.population_persons(population())
    persons = result.table.set_index("cpr")
    assert sorted(persons.index) == sorted([A, B, C, D, E, F])
    # immigrants keep their country of origin, the Danish-born (IE_TYPE 1 and 3) get Denmark
    assert values(persons["region_of_birth"]) == {
        A: "5128", B: "5100", C: "5100", D: "5180", E: None, F: "5154"}
    assert values(persons["ie_type"]) == {A: 2, B: 1, C: 3, D: 2, E: None, F: 2}
    assert persons.loc[C, "origin_country"] == "5172"  # kept beside the region
    assert values(persons["birth_year"]) == {A: 1990, B: 1978, C: 1995, D: 1988, E: 2000,
                                             F: 1972}
    assert values(persons["sex"]) == {A: "1", B: "2", C: "2", D: None, E: "1", F: "1"}
    assert values(persons["municipality"]) == {A: "0101", B: "0851", C: "0461", D: None,
                                               E: "0147", F: "0101"}
    assert values(persons["education_level"]) == {A: 6, B: 4, C: 2, D: None, E: None, F: 5}
    assert values(persons["immigration_year"]) == {A: 2015, B: None, C: None, D: 1999,
                                                   E: None, F: 2019}
    accounting = result.accounting
    assert accounting["ie_type"] == {"1": 1, "2": 3, "3": 1, "missing": 1}
    assert accounting["birth_year_source"] == {"birth_date": 2, "birth_year": 1, "cpr": 3}
    missing = accounting["missing_values"]
    assert (missing["sex_invalid"], missing["municipality_invalid"],
            missing["education_unmapped"], missing["ie_type"]) == (1, 1, 2, 1)
    assert accounting["columns_not_delivered"] == ["education_field"]
    assert_accounted(accounting, result.quarantine, "population")


@pytest.mark.parametrize(("code", "isced", "level"), [
    ("1009", 2, 2), ("2010", 3, 4), ("2510", 3, 4), ("3510", 3, 4), ("4010", 5, 5),
    ("5080", 6, 6), ("6020", 6, 6), ("6520", 7, 6), ("7010", 7, 6), ("8010", 8, 7),
    ("1001", None, None), ("0", None, None), ("9010", None, None),
])
def test_hfaudd_main_groups_map_to_isced_and_levels(code, isced, level):
    table = pd.DataFrame({"PNR": [A], "KOEN": [1], "OPR_LAND": ["5100"], "IE_TYPE": [1],
                          "KOM": ["101"], "HFAUDD": [code]})
    person = denmark.population_persons(table).table.iloc[0]
    got = [None if pd.isna(person[c]) else int(person[c]) for c in ("education_isced",
                                                                    "education_level")]
    assert got == [isced, level]


def test_an_isced_column_replaces_hfaudd():
    table = pd.DataFrame({"PNR": [A, B], "KOEN": [1, 2], "OPR_LAND": ["5100", "5100"],
                          "IE_TYPE": [1, 1], "KOM": ["101", "101"], "ISCED": [3, 8]})
    persons = denmark.population_persons(
        table, columns=denmark.PopulationColumns(education="HFAUDD", education_isced="ISCED")
    ).table.set_index("cpr")
    assert persons["education_level"].to_dict() == {A: 4, B: 7}


# --- CPR numbers -----------------------------------------------------------------------------


def test_cprs_that_fail_modulus_11_are_kept():
    assert all(stdnum_cpr.checksum(number) != 0 for number in VALID)
    assert stdnum_cpr.checksum(PASSES_MOD11) == 0
    result = denmark.population_persons(population())
    assert set(result.table["cpr"]) == set(VALID)


def test_malformed_cprs_are_quarantined_with_their_reason_and_counted():
    result = denmark.population_persons(population())
    quarantine = result.quarantine
    assert quarantine.columns.tolist() == ["input", "row", "reason", "detail"]
    rows = quarantine.set_index("row")["reason"].to_dict()
    assert rows == {6: "duplicate_cpr", 7: "cpr_malformed", 8: "cpr_malformed",
                    9: "cpr_bad_date", 10: "cpr_bad_date", 11: "cpr_missing"}
    assert result.accounting["quarantined"] == {"cpr_bad_date": 2, "cpr_malformed": 2,
                                                "cpr_missing": 1, "duplicate_cpr": 1}
    assert quarantine["detail"].notna().all()
    assert_no_cpr(quarantine.to_string(), result.accounting)


def test_sql_check_of_ten_digit_cprs_agrees_with_stdnum():
    rng = random.Random(20250101)
    numbers = [f"{rng.randint(0, 35):02d}{rng.randint(0, 13):02d}{rng.randint(0, 99):02d}"
               f"{rng.randint(0, 9999):04d}" for _ in range(4000)]
    numbers += ["2902961234", "2902001234", "2902004000", "2902005000", "0101585000",
                "0101575000", "0101364000", "0101374000", "3112999999"]
    con = duckdb.connect()
    con.register("numbers", pa.table({"PNR": numbers}))
    con.execute("CREATE TEMP TABLE t AS SELECT * FROM numbers")
    denmark._check_cprs(con, {"t": denmark._IdColumn("PNR", '"PNR"')})
    got = dict(con.execute("SELECT raw_id, coalesce(problem, 'ok') FROM cpr_check").fetchall())
    expected = {n: c.problem or "ok" for n, c in zip(numbers, check_identities(numbers, "dk"),
                                                    strict=True)}
    assert got == expected
    assert set(got.values()) == {"ok", "bad_date"}


# --- the canonical files ---------------------------------------------------------------------


def small_population() -> pd.DataFrame:
    return pd.DataFrame({
        "PNR": [A, B, C, "12345"],
        "KOEN": [1, 2, 2, 1],
        "FOED_DAG": ["1990-01-01", "1978-07-22", "1995-08-04", None],
        "OPR_LAND": ["5128", "5100", "5172", "5100"],
        "IE_TYPE": [2, 1, 3, 1],
        "KOM": [101, 851, 101, 101],
        "HFAUDD": ["6520", "3510", "1009", None],
        "IND_DATO": ["2015-03-01", None, None, None],
        "CIVST": ["G", "U", "U", "U"],
    })


def small_wages() -> pd.DataFrame:
    return pd.DataFrame({
        "PNR": [A, A, B, B, C, D],
        "month": ["2020-02", "2020-02", "2020-01", "2020-04", "2020-03", "2020-03"],
        "employer": ["e1", "e2", "e1", "e1", "e1", "e1"],
        "wage": [30000.0, 500.0, 900.0, 25000.0, 1500.0, 20000.0],
        "occupation": ["2512", "9112", None, "5223", None, None],
    })


def small_dream() -> pd.DataFrame:
    return wide({A: DREAM[A], B: DREAM[B], C: DREAM[C], D: DREAM[D]})


# (cpr, month) -> employed, earnings, jobseeker_category, occupation
EXPECTED_MONTHLY = {
    (A, 202001): (0, 0.0, 1, None), (A, 202002): (1, 30500.0, 2, "2512"),
    (A, 202003): (0, 0.0, 1, None), (A, 202004): (0, 0.0, 2, None),
    (B, 202001): (0, 900.0, 1, None), (B, 202002): (0, 0.0, 2, None),
    (B, 202003): (0, 0.0, 0, None), (B, 202004): (1, 25000.0, 0, "5223"),
    (C, 202001): (0, 0.0, 0, None), (C, 202002): (0, 0.0, 0, None),
    (C, 202003): (1, 1500.0, 2, None), (C, 202004): (0, 0.0, 0, None),
}


def monthly_values(monthly: pd.DataFrame) -> dict:
    return {(r.cpr, int(r.month)): (int(r.employed), float(r.earnings),
                                    int(r.jobseeker_category),
                                    None if pd.isna(r.occupation) else r.occupation)
            for r in monthly.itertuples()}


def test_build_extracts_writes_the_canonical_files(tmp_path):
    result = denmark.build_extracts(small_population(), small_dream(), small_wages(),
                                    tmp_path / "register")
    persons = pd.read_parquet(result.persons)
    monthly = pd.read_parquet(result.monthly)
    assert set(persons["cpr"]) == {A, B, C}
    assert monthly_values(monthly) == EXPECTED_MONTHLY
    assert (monthly["weeks"] == monthly["month"].map(WEEKS_PER_MONTH)).all()
    assert monthly["month"].dtype == "int32"
    accounting = result.accounting
    for name in ("population", "dream", "wages"):
        assert_accounted(accounting, result.quarantine, name)
    assert accounting["dream"]["quarantined"] == {"not_in_population": 1}  # D
    assert accounting["wages"]["quarantined"] == {"not_in_population": 1}
    assert accounting["population"]["quarantined"] == {"cpr_malformed": 1}
    assert accounting["population"]["columns_not_used"] == ["CIVST"]
    assert accounting["monthly"] == {
        "months": {"first": "2020-01", "last": "2020-04"}, "n_months": 4, "rows_written": 12,
        "employed_months": 3, "registered_unemployed_months": 3,
        "months_with_some_unemployment_weeks": 4}
    assert accounting["rules"]["wage_threshold_dkk"] == 1000.0
    assert_no_cpr(accounting, result.quarantine.to_string())
    # the mapping is one a study configuration accepts
    PersonColumns(**result.person_columns)
    MonthlyColumns(**result.monthly_columns)
    RegisterCodes(**result.codes)
    assert set(result.person_columns.values()) <= set(persons.columns)
    assert set(result.monthly_columns.values()) <= set(monthly.columns)


@pytest.mark.parametrize("population_format", ["csv", "dta"])
def test_files_of_every_format_give_the_same_extracts(tmp_path, population_format):
    from_frames = denmark.build_extracts(small_population(), small_dream(), small_wages(),
                                         tmp_path / "frames")
    raw = tmp_path / "raw"
    raw.mkdir()
    if population_format == "csv":
        small_population().to_csv(raw / "bef.csv", index=False, sep=";")
    else:
        pyreadstat.write_dta(small_population().astype({"IND_DATO": object}), raw / "bef.dta")
    small_dream().to_csv(raw / "dream.csv", index=False)
    wages = pa.Table.from_pandas(small_wages(), preserve_index=False)
    ids = pa.array([int(number) for number in small_wages()["PNR"]], pa.int64())  # 101901234
    pq.write_table(wages.set_column(0, "PNR", ids), raw / "wages.parquet")
    from_files = denmark.build_extracts(raw / f"bef.{population_format}", raw / "dream.csv",
                                        raw / "wages.parquet", tmp_path / "files")
    for name in ("persons", "monthly"):
        pd.testing.assert_frame_equal(pd.read_parquet(getattr(from_files, name)),
                                      pd.read_parquet(getattr(from_frames, name)))
    assert from_files.accounting == from_frames.accounting


def test_nan_codes_in_a_parquet_file_are_empty_weeks(tmp_path):
    codes = {f"y_20{week:02d}": pa.array([111.0 if week <= 3 else float("nan")], pa.float64())
             for week in WEEKS_2020}
    pq.write_table(pa.table({"PNR": [A], **codes}), tmp_path / "dream.parquet")
    assert pq.read_table(tmp_path / "dream.parquet").column("y_2005").null_count == 0
    result = denmark.dream_months(tmp_path / "dream.parquet")
    assert status(result.table)[(A, 202001)] == (3, 1)
    assert result.accounting["coded_weeks_by_group"] == {"unemployment_benefit": 3}


def test_the_same_inputs_give_the_same_bytes(tmp_path):
    first, second = (denmark.build_extracts(small_population(), small_dream(), small_wages(),
                                            tmp_path / name) for name in ("one", "two"))
    for name in ("persons", "monthly"):
        assert getattr(first, name).read_bytes() == getattr(second, name).read_bytes()


def test_stated_months_narrow_the_panel(tmp_path):
    result = denmark.build_extracts(small_population(), small_dream(), small_wages(),
                                    tmp_path, months=("2020-02", "2020-03"))
    monthly = pd.read_parquet(result.monthly)
    assert set(monthly["month"]) == {202002, 202003}
    assert result.accounting["wages"]["outside_months"] == 2  # B's January and April
    assert_accounted(result.accounting, result.quarantine, "wages")


# --- through the register stage --------------------------------------------------------------


def _danish_study(tmp_path, monkeypatch):
    monkeypatch.setenv("MENTOR_EVAL_KEY", TEST_KEY_HEX)
    raw = tmp_path / "raw"
    result = denmark.build_extracts(small_population(), small_dream(), small_wages(),
                                    raw / "register")
    settings = study_settings(tmp_path)
    settings["data"]["identity_country"] = "dk"
    settings["data"]["register"].update(result.register_settings(raw))
    settings["design"]["municipalities"] = ["0101", "0851"]
    return load_config(write_config(tmp_path, settings))


def test_the_register_stage_reads_the_canonical_files(tmp_path, monkeypatch):
    """The files, mapping and codes read by :func:`open_register` of a Danish study."""
    config = _danish_study(tmp_path, monkeypatch)
    con, keys = register_extract.open_register(config, load_key(config))
    assert (keys.n_persons, keys.n_invalid_ids, keys.n_person_months,
            keys.monthly_unknown_ids) == (3, 0, 12, 0)
    persons = con.execute("SELECT * FROM persons").df().set_index("birth_year")
    assert persons.loc[1990, ["female", "region_of_birth", "foreign_born", "immigration_year",
                              "education_level", "municipality"]].tolist() == [
        False, "5128", True, 2015, 6, "0101"]
    assert persons.loc[1978, ["female", "region_of_birth", "foreign_born",
                              "education_level", "municipality"]].tolist() == [
        True, "5100", False, 4, "0851"]
    assert persons.loc[1995, "foreign_born"] == False  # noqa: E712  (a descendant)
    assert persons["education_field"].isna().all()
    monthly = con.execute(
        "SELECT p.birth_year, m.* FROM monthly m JOIN persons p USING (person_key)"
    ).df()
    by = monthly.set_index(["birth_year", "month_index"])
    january, february = 2020 * 12, 2020 * 12 + 1
    assert by.loc[(1990, january), ["employed", "earnings", "registered_unemployed"]].tolist() \
        == [0, 0.0, True]
    assert by.loc[(1990, february), ["employed", "earnings", "registered_unemployed",
                                     "occupation"]].tolist() == [1, 30500.0, False, "2512"]
    assert by.loc[(1978, january), ["employed", "earnings", "registered_unemployed"]].tolist() \
        == [0, 900.0, True]
    assert int(monthly["registered_unemployed"].sum()) == 3
    assert int(monthly["employed"].sum()) == 3


def test_the_register_stage_keys_cprs_as_the_roster_does(tmp_path, monkeypatch):
    config = _danish_study(tmp_path, monkeypatch)
    key = load_key(config)
    con, keys = register_extract.open_register(config, key)
    assert keys.n_persons == 3
    pids = set(con.execute("SELECT pid FROM persons").df()["pid"])
    assert pids == set(pseudonymise([A, B, C], key, "DK"))
