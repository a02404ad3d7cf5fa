"""Who took part: count tables and the ESF+ common output indicators, on hand-made data."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.report.disclosure import DisclosureRules, protect_frequency_table
from pipeline.report.participants import (
    ISCED_OF_LEVEL,
    classify_participants,
    cohort_order,
    esf_indicators,
    labour_market_counts,
    participant_counts,
)

NA = pd.NA

# pid, cohort, city, start_date, female, birth_year (age at start in the comment)
ROSTER = [
    ("p1", "B", "Uppsala", "2021-03-01", True, 2004),  # 17
    ("p2", "B", "Uppsala", "2021-03-01", False, 2003),  # 18
    ("p3", "B", "Malmö", "2021-03-01", True, 1992),  # 29
    ("p4", "B", "Malmö", "2021-03-01", False, 1991),  # 30
    ("p10", "B", "Uppsala", "2021-03-01", False, NA),  # no birth year: register age 60
    ("p5", "A", "Malmö", "2021-09-01", True, 1967),  # 54
    ("p6", "A", "Malmö", "2021-09-01", True, 1966),  # 55
    ("p7", "A", "Uppsala", "2021-09-01", NA, 1997),  # 24; sex from the register (woman)
    ("p8", "A", "Uppsala", "2021-09-14", False, 1996),  # 25
    ("p9", "A", "Uppsala", "2021-09-01", False, 1980),  # 41; not in the register data
    ("p11", "A", "Göteborg", "2021-09-01", True, 1981),  # 40
]
# pid, cohort, treated, age, female, education_level, education_field, employed_m1,
# months_unemployed_12, region_of_birth
BASELINE = [
    ("p1", "B", True, 17, 1, "1", "0", 0, 0, "Sweden"),  # inactive
    ("p2", "B", True, 18, 0, "2", "3", 1, 0, None),  # employed
    ("p3", "B", True, 29, 1, "3", "345", 0, 12, "Asia"),  # long-term unemployed (25+)
    ("p4", "B", True, 30, 0, "4", "4", 0, 11, "Asia"),  # unemployed
    ("p10", "B", True, 60, 0, "6.0", "2", 0, 6, "EU"),  # unemployed
    ("p5", "A", True, 54, 1, "5", "5", 0, 1, "Asia"),  # unemployed
    ("p6", "A", True, 55, 1, "6", "7", 0, 12, "Asia"),  # long-term unemployed
    ("p7", "A", True, 24, 1, "7", "9", 0, 7, "Asia"),  # long-term unemployed (< 25)
    ("p8", "A", True, 25, 0, None, None, 0, 11, "Asia"),  # unemployed, education unknown
    ("p11", "A", True, 40, 1, "5", "3", 0, 0, "Asia"),  # inactive
    # eligible non-participants: never counted
    ("q1", "B", False, 40, 1, "1", "1", 0, 12, "Asia"),
    ("p1", "A", False, 17, 1, "1", "0", 0, 12, "Sweden"),
]
BASELINE_COLUMNS = [
    "pid", "cohort", "treated", "age", "female", "education_level", "education_field",
    "employed_m1", "months_unemployed_12", "region_of_birth",
]


def roster(rows=ROSTER) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["pid", "cohort", "city", "start_date", "female", "birth_year"]
    )
    return frame.assign(
        start_date=pd.to_datetime(frame["start_date"]),
        end_date=pd.to_datetime(frame["start_date"]) + pd.DateOffset(months=6),
        mentor_matched=True,
        n_mentor_meetings=6,
        completed=True,
        female=pd.array(frame["female"], dtype="boolean"),
        birth_year=pd.array(frame["birth_year"], dtype="Int64"),
    )


def baseline(rows=BASELINE) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=BASELINE_COLUMNS)
    return frame.assign(
        cohort_start=2021 * 12 + 2,
        years_since_immigration=5,
        municipality="0380",
        employed_m6=0,
        employed_m12=0,
        months_employed_12=0.0,
        earnings_12=0.0,
        history_months_36=36,
        months_unemployed_12=frame["months_unemployed_12"].astype(float),
    )


def as_dict(table: pd.DataFrame, key: str) -> dict:
    return {str(k): (None if pd.isna(n) else int(n)) for k, n in zip(table[key], table["n"],
                                                                        strict=True)}


# --- roster breakdowns ---------------------------------------------------------------------


def test_counts_by_cohort_follow_start_order_not_name():
    table = participant_counts(roster(), ["cohort"])
    assert list(table["cohort"]) == ["B", "A"]
    assert list(table["n"]) == [5, 6]
    assert isinstance(table["cohort"].dtype, pd.CategoricalDtype)
    assert table["cohort"].cat.ordered
    assert cohort_order(roster()) == ["B", "A"]


def test_counts_by_city_sex_and_age_band():
    p, b = roster(), baseline()
    assert as_dict(participant_counts(p, ["city"]), "city") == {
        "Göteborg": 1, "Malmö": 4, "Uppsala": 6}
    # p7's sex is missing in the roster and taken from the register
    assert as_dict(participant_counts(p, ["sex"], b), "sex") == {"women": 6, "men": 5}
    # p10's birth year is missing in the roster: the register's age (60) is used
    assert as_dict(participant_counts(p, ["age_band"], b), "age_band") == {
        "under_18": 1, "from_18_to_29": 4, "from_30_to_54": 4, "from_55": 2}


def test_without_the_register_missing_values_are_not_known_and_listed_last():
    sex = participant_counts(roster(), ["sex"])
    assert as_dict(sex, "sex") == {"women": 5, "men": 5, "not_known": 1}
    ages = participant_counts(roster(), ["age_band"])
    assert list(ages["age_band"].cat.categories)[-1] == "not_known"
    assert as_dict(ages, "age_band")["not_known"] == 1
    # a category with a missing value only appears when something is missing
    assert "not_known" not in participant_counts(roster(), ["city"])["city"].cat.categories


def test_cohort_by_age_band_has_every_cell_zeros_included():
    table = participant_counts(roster(), ["cohort", "age_band"], baseline())
    assert len(table) == 2 * 4
    wide = table.pivot(index="cohort", columns="age_band", values="n")
    assert wide.loc["B"].tolist() == [1, 2, 1, 1]
    assert wide.loc["A"].tolist() == [0, 2, 3, 1]


def test_age_is_taken_at_the_participants_own_start():
    rows = [("a", "X", "Uppsala", "2021-12-31", True, 2004),
            ("b", "X", "Uppsala", "2022-01-01", True, 2004)]
    classified = classify_participants(roster(rows))
    assert classified["age"].tolist() == [17, 18]
    assert classified["age_band"].tolist() == ["under_18", "from_18_to_29"]


def test_missing_city_and_cohort_are_labelled_not_known():
    rows = [("a", "X", None, "2021-03-01", True, 1990),
            ("b", None, "Malmö", "2021-03-01", True, 1990)]
    classified = classify_participants(roster(rows))
    assert classified["city"].tolist() == ["not_known", "Malmö"]
    assert list(classified["city"].cat.categories) == ["Malmö", "not_known"]
    assert classified["cohort"].tolist() == ["X", "not_known"]


def test_tables_go_through_disclosure_control_as_they_are():
    table = participant_counts(roster(), ["cohort", "age_band"], baseline())
    protected = protect_frequency_table(
        table, "n", ["cohort", "age_band"], DisclosureRules(min_cell_count=1)
    )
    assert list(protected.values.index) == ["B", "A", "Total"]
    assert list(protected.values.columns) == [
        "under_18", "from_18_to_29", "from_30_to_54", "from_55", "Total"]
    assert protected.values.loc["A", "under_18"] == 0
    assert protected.values.loc["Total", "Total"] == 11


def test_participant_counts_refuses_unknown_or_too_many_breakdowns():
    with pytest.raises(ValueError, match="needs the baseline"):
        participant_counts(roster(), ["isced"])
    with pytest.raises(ValueError, match="income"):
        participant_counts(roster(), ["income"])
    with pytest.raises(ValueError, match="one or two"):
        participant_counts(roster(), ["cohort", "city", "sex"])
    with pytest.raises(ValueError, match="native_born_regions"):
        participant_counts(roster(), ["background"], baseline())


# --- ESF+ indicators -----------------------------------------------------------------------


def esf_block(table: pd.DataFrame, indicator: str) -> dict:
    return as_dict(table[table["indicator"] == indicator], "category")


def test_esf_indicators_known_counts():
    table = esf_indicators(roster(), baseline(), native_born_regions=["Sweden"])
    assert esf_block(table, "total") == {"participants": 11}
    assert esf_block(table, "labour_market_status") == {
        "unemployed": 7, "long_term_unemployed": 3, "inactive": 2, "employed": 1,
        "not_in_register_data": 1}
    assert esf_block(table, "age") == {
        "under_18": 1, "from_18_to_29": 4, "from_30_to_54": 4, "from_55": 2}
    assert esf_block(table, "education") == {
        "isced_0_2": 2, "isced_3_4": 2, "isced_5_8": 5, "not_known": 1,
        "not_in_register_data": 1}
    assert esf_block(table, "sex") == {"women": 6, "men": 5, "non_binary": None}
    assert esf_block(table, "background") == {
        "foreign_background": 8, "born_in_country": 1, "not_known": 1,
        "not_in_register_data": 1}
    assert table.attrs["labour_market_source"] == "baseline_approximation"


def test_esf_blocks_other_than_labour_market_add_up_to_the_total():
    table = esf_indicators(roster(), baseline(), native_born_regions=["Sweden"])
    for indicator in ["age", "education", "sex", "background"]:
        assert table.loc[table["indicator"] == indicator, "n"].sum() == 11, indicator
    labour = esf_block(table, "labour_market_status")
    assert labour["unemployed"] + labour["inactive"] + labour["employed"] + labour[
        "not_in_register_data"] == 11


def test_esf_indicators_not_recorded_are_missing_never_zero():
    table = esf_indicators(roster(), baseline())
    missing = table.loc[table["n"].isna(), "category"].tolist()
    assert missing == ["non_binary", "foreign_background", "disabilities",
                       "third_country_nationals", "minorities", "homeless", "rural_areas"]
    assert (table.loc[table["n"].isna(), "esf"]).all()


def test_esf_codes_and_order_follow_annex_one():
    table = esf_indicators(roster(), baseline(), native_born_regions=["Sweden"])
    coded = table.dropna(subset=["code"])
    assert dict(zip(coded["category"], coded["code"], strict=True)) == {
        "participants": "EECO01", "unemployed": "EECO02", "long_term_unemployed": "EECO03",
        "inactive": "EECO04", "employed": "EECO05", "under_18": "EECO06",
        "from_18_to_29": "EECO07", "from_55": "EECO08", "isced_0_2": "EECO09",
        "isced_3_4": "EECO10", "isced_5_8": "EECO11", "foreign_background": "EECO14",
        "disabilities": "EECO12", "third_country_nationals": "EECO13", "minorities": "EECO15",
        "homeless": "EECO16", "rural_areas": "EECO17"}
    complements = table.loc[~table["esf"], "category"].tolist()
    assert complements == ["not_in_register_data", "from_30_to_54", "not_known",
                           "not_in_register_data", "born_in_country", "not_known",
                           "not_in_register_data"]
    assert list(table["indicator"].cat.categories) == [
        "total", "labour_market_status", "age", "education", "sex", "background", "other"]


def test_an_esf_block_goes_through_disclosure_control_in_row_order():
    table = esf_indicators(roster(), baseline())
    block = table[table["indicator"] == "education"]
    protected = protect_frequency_table(block, "n", "category", DisclosureRules(1))
    assert list(protected.values.index) == [
        "isced_0_2", "isced_3_4", "isced_5_8", "not_known", "not_in_register_data", "Total"]
    assert protected.values.loc["Total", "n"] == 11


def test_labour_market_counts_nest_long_term_unemployment():
    table = labour_market_counts(roster(), baseline())
    wide = table.pivot(index="labour_market_status", columns="long_term", values="n")
    assert list(wide.index) == ["unemployed", "inactive", "employed", "not_in_register_data"]
    assert wide.loc["unemployed"].tolist() == [3, 4]
    assert wide.loc["inactive"].tolist() == [0, 2]
    assert wide.loc["employed"].tolist() == [0, 1]
    assert wide.loc["not_in_register_data"].tolist() == [0, 1]


def one_person(age: int, employed_m1: int, months_unemployed: int):
    start_year = 2021
    p = roster([("x", "C", "Malmö", f"{start_year}-05-01", True, start_year - age)])
    b = baseline([("x", "C", True, age, 1, "4", "3", employed_m1, months_unemployed, "Asia")])
    return p, b


@pytest.mark.parametrize(
    ("age", "employed_m1", "months", "status", "long_term"),
    [
        (24, 0, 7, "unemployed", "long_term_unemployed"),  # under 25: more than 6 months
        (24, 0, 6, "unemployed", "other"),
        (25, 0, 12, "unemployed", "long_term_unemployed"),  # 25+: all 12 months
        (25, 0, 11, "unemployed", "other"),
        (30, 1, 12, "employed", "other"),  # employed the month before wins
        (30, 0, 0, "inactive", "other"),
    ],
)
def test_long_term_unemployment_from_the_baseline(age, employed_m1, months, status, long_term):
    classified = classify_participants(*one_person(age, employed_m1, months))
    assert classified["labour_market_status"].tolist() == [status]
    assert classified["long_term"].tolist() == [long_term]


def history_of(unemployed_months_back: list[int], horizon: int = 24) -> pd.DataFrame:
    """Monthly rows from 24 months before to 6 after start; registered unemployed in the given
    months before start, and after start (which must not count)."""
    rel = list(range(-horizon, 7))
    return pd.DataFrame({
        "pid": "x", "cohort": "C", "rel_month": rel,
        "registered_unemployed": [int(-m in unemployed_months_back or m >= 0) for m in rel],
        "employed": 0,
    })


@pytest.mark.parametrize(
    ("age", "months_back", "status", "long_term"),
    [
        (24, range(1, 8), "unemployed", "long_term_unemployed"),  # 7 > 6 months
        (24, range(1, 7), "unemployed", "other"),  # 6 months: not more than 6
        (25, range(1, 14), "unemployed", "long_term_unemployed"),  # 13 > 12 months
        (25, range(1, 13), "unemployed", "other"),  # exactly 12: not more than 12
        (25, [*range(1, 6), *range(7, 21)], "unemployed", "other"),  # broken at month 6
        (25, range(2, 21), "inactive", "other"),  # left the register the month before
    ],
)
def test_long_term_unemployment_from_the_monthly_history(age, months_back, status, long_term):
    p, b = one_person(age, 0, 12)
    classified = classify_participants(p, b, history=history_of(list(months_back)))
    assert classified["labour_market_status"].tolist() == [status]
    assert classified["long_term"].tolist() == [long_term]
    assert classified.attrs["labour_market_source"] == "history"


def test_history_must_reach_thirteen_months_back():
    p, b = one_person(30, 0, 12)
    with pytest.raises(ValueError, match="13 months"):
        classify_participants(p, b, history=history_of([1, 2], horizon=12))


def test_isced_mapping_of_every_level():
    assert ISCED_OF_LEVEL == {
        "level_1": "isced_0_2", "level_2": "isced_0_2",
        "level_3": "isced_3_4", "level_4": "isced_3_4",
        "level_5": "isced_5_8", "level_6": "isced_5_8", "level_7": "isced_5_8",
    }
    rows = [(f"x{code}", "C", "Malmö", "2021-05-01", True, 1990) for code in range(1, 8)]
    levels = [(f"x{code}", "C", True, 31, 1, code, "3", 0, 0, "Asia")
              for code in ["1", "2", "3", "4", "5", "6", "7"]]
    classified = classify_participants(roster(rows), baseline(levels))
    assert classified["isced"].tolist() == [
        "isced_0_2", "isced_0_2", "isced_3_4", "isced_3_4", "isced_5_8", "isced_5_8",
        "isced_5_8"]
    assert classified["education_level"].tolist() == [f"level_{k}" for k in range(1, 8)]


def test_unknown_education_level_is_an_error():
    rows = [(p, c, t, a, f, "9" if p == "p1" and t else lvl, fld, e, m, r)
            for p, c, t, a, f, lvl, fld, e, m, r in BASELINE]
    with pytest.raises(ValueError, match="'9'"):
        esf_indicators(roster(), baseline(rows))


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["pid", "cohort", "city", "start_date", "female",
                                    "birth_year"])
def test_missing_roster_column_is_named(column):
    with pytest.raises(ValueError, match=f"participants is missing column.*{column}"):
        esf_indicators(roster().drop(columns=column), baseline())


@pytest.mark.parametrize("column", ["treated", "education_level", "months_unemployed_12",
                                    "employed_m1"])
def test_missing_baseline_column_is_named(column):
    with pytest.raises(ValueError, match=f"baseline is missing column.*{column}"):
        esf_indicators(roster(), baseline().drop(columns=column))


def test_region_of_birth_is_needed_only_for_background():
    b = baseline().drop(columns="region_of_birth")
    esf_indicators(roster(), b)
    with pytest.raises(ValueError, match="region_of_birth"):
        esf_indicators(roster(), b, native_born_regions=["Sweden"])


def test_missing_history_column_is_named():
    p, b = one_person(30, 0, 12)
    with pytest.raises(ValueError, match="history is missing column.*registered_unemployed"):
        classify_participants(p, b, history=history_of([1]).drop(
            columns="registered_unemployed"))


def test_duplicate_roster_rows_and_unlisted_participants_are_errors():
    doubled = pd.concat([roster(), roster().iloc[[0]]])
    with pytest.raises(ValueError, match="more than once"):
        participant_counts(doubled, ["cohort"])
    with pytest.raises(ValueError, match="does not list"):
        esf_indicators(roster().iloc[1:], baseline())
