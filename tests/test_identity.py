"""Identity numbers as respondents type them: normalisation, validation and what is wrong."""

from __future__ import annotations

import datetime
import random
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from stdnum.dk import cpr as stdnum_cpr
from stdnum.fi import hetu as stdnum_hetu

from pipeline.identity import (
    COUNTRIES,
    PROBLEMS,
    IdentityCheck,
    birth_date,
    check_identities,
    check_identity,
    is_valid_identity,
)
from pipeline.pseudonymise import normalise_personnummer

HETU_TABLE = "0123456789ABCDEFHJKLMNPRSTUVWXY"
TODAY = datetime.date.today()


def luhn_digit(nine: str) -> str:
    """The Swedish check digit: Luhn over YYMMDDNNN, weights 2, 1, 2, ... from the left."""
    total = 0
    for position, char in enumerate(nine):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return str(-total % 10)


def swedish(yymmdd: str, serial: str) -> str:
    """A 10-digit Swedish number with a correct check digit."""
    return yymmdd + serial + luhn_digit(yymmdd + serial)


def hetu(ddmmyy: str, sign: str, individual: str) -> str:
    """A HETU with the check character from the 31-symbol table over DDMMYYZZZ."""
    return f"{ddmmyy}{sign}{individual}{HETU_TABLE[int(ddmmyy + individual) % 31]}"


def modulus_11(cpr: str) -> int:
    return sum(w * int(d) for w, d in zip((4, 3, 2, 7, 6, 5, 4, 3, 2, 1), cpr, strict=True)) % 11


def valid(normalised: str) -> IdentityCheck:
    return IdentityCheck(normalised, None)


# --- Sweden ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "198803200016",
        "19880320-0016",
        "880320-0016",
        "8803200016",
        " 880320 - 0016 ",
        "880320\u20130016",  # en dash
        "8803\u00a0200016",  # no-break space
        "88.03.20-0016",
        "1988-03-20-0016",
        "19880320+0016",  # the separator of a 12-digit form does not matter
        198803200016,
        198803200016.0,
        8803200016,
        np.int64(198803200016),
        np.float64(198803200016.0),
        "198803200016.0",
        "\u0661\u0669\u0668\u0668\u0660\u0663\u0662\u0660-\u0660\u0660\u0661\u0666",  # Arabic-Indic
    ],
)
def test_swedish_forms_normalise_to_twelve_digits(raw):
    assert check_identity(raw, "se") == valid("198803200016")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("890102-3286", "198901023286"),
        ("811228-9841", "198112289841"),
        ("880320+0016", "188803200016"),  # + means 100 years or older
        ("880380-0013", "198803800013"),  # samordningsnummer: day 20 + 60
        ("8803800013", "198803800013"),
        ("198803800013", "198803800013"),
        ("19880380-0013", "198803800013"),
        ("880380+0013", "188803800013"),
        ("701063-2391", "197010632391"),
    ],
)
def test_swedish_personnummer_and_samordningsnummer(raw, expected):
    assert check_identity(raw, "se") == valid(expected)
    assert normalise_personnummer(raw) == expected


def test_samordningsnummer_birth_date_subtracts_sixty():
    assert birth_date("198803800013", "se") == datetime.date(1988, 3, 20)
    assert birth_date("188803200016", "se") == datetime.date(1888, 3, 20)


def test_leading_zeros_lost_in_a_spreadsheet_come_back():
    number = swedish("050101", "238")  # born 2005: the number starts with 0
    assert check_identity(int(number), "se") == valid("20" + number)
    assert check_identity(float(number), "se") == valid(normalise_personnummer(number))


@pytest.mark.parametrize(
    "raw", ["880320-0017", "19880320-0018", "880320-0061", "880380-0014", "8803200010"]
)
def test_swedish_luhn_failure(raw):
    assert check_identity(raw, "se") == IdentityCheck(None, "bad_checksum")


@pytest.mark.parametrize(
    "raw",
    [
        "880320-016",  # dropped digit in the serial
        "88032-0016",  # dropped digit in the date
        "19880320016",
        "1988032-0016",
        "880320001",
        "88032000161",
        "88O320-0016",  # letter O
        "880320*0016",
        swedish("880320", "000"),  # serial 000 is never issued
        880320001.6,  # "880320001.6" without the dot would be a valid number
        float("inf"),
        True,
    ],
)
def test_swedish_malformed(raw):
    assert check_identity(raw, "se") == IdentityCheck(None, "malformed")


@pytest.mark.parametrize(
    "raw",
    [
        swedish("881320", "001"),  # month 13
        swedish("880230", "001"),  # 30 February
        swedish("870229", "001"),  # 29 February, not a leap year
        swedish("880300", "001"),  # day 0
        swedish("880332", "001"),  # day 32
        swedish("880360", "001"),  # samordningsnummer for day 0
        swedish("880392", "001"),  # samordningsnummer for day 32
        "20" + swedish("990101", "123"),  # born in the future
        "17" + swedish("990101", "123"),  # before 1800
    ],
)
def test_swedish_impossible_dates(raw):
    # the personnummer package rejects these too, except the future and pre-1800 12-digit ones
    assert normalise_personnummer(raw) is None or raw[:2] in ("17", "20")
    assert check_identity(raw, "se") == IdentityCheck(None, "bad_date")


def test_leap_day_is_a_date():
    assert check_identity(swedish("880229", "001"), "se").problem is None


def _random_swedish(rng: random.Random) -> str:
    day = rng.choice([rng.randrange(33), rng.randrange(60, 93)])  # samordningsnummer: + 60
    yymmdd = f"{rng.randrange(100):02d}{rng.randrange(14):02d}{day:02d}"
    serial = f"{rng.randrange(1000):03d}"
    check = luhn_digit(yymmdd + serial) if rng.random() < 0.7 else str(rng.randrange(10))
    century = rng.choice(["", "", "18", "19", "20"])
    separator = rng.choice(["", "-", "+"]) if not century else rng.choice(["", "-"])
    return f"{century}{yymmdd}{separator}{serial}{check}"


def _plausible(number12: str) -> bool:
    day = int(number12[6:8])
    try:
        born = datetime.date(int(number12[:4]), int(number12[4:6]), day - 60 if day > 60 else day)
    except ValueError:
        return False
    return born <= TODAY


def test_swedish_normalisation_equals_the_pseudonymisation_form_on_many_inputs():
    rng = random.Random(20240601)
    inputs = [_random_swedish(rng) for _ in range(6000)]
    results = check_identities(inputs, "se")
    for raw, result in zip(inputs, results, strict=True):
        expected = normalise_personnummer(raw)
        if result.problem is None:
            assert result.normalised == expected, raw
        else:
            assert result.normalised is None
            assert expected is None or not _plausible(expected), raw
    assert 1500 < sum(result.problem is None for result in results) < 4500


# --- Denmark -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("211062-5629", "2110625629"),
        ("0707614285", "0707614285"),
        (" 21 10 62 - 5629 ", "2110625629"),
        ("21.10.62-5629", "2110625629"),
        (707614285, "0707614285"),  # leading zero lost in a spreadsheet
        (707614285.0, "0707614285"),
        ("707614285.0", "0707614285"),
        (2110625629.0, "2110625629"),
    ],
)
def test_danish_cpr_valid(raw, expected):
    assert check_identity(raw, "dk") == valid(expected)


@pytest.mark.parametrize("raw", ["1502804213", "2304952021", "0905023719", "1811874016"])
def test_danish_cpr_failing_modulus_11_is_accepted(raw):
    assert modulus_11(raw) != 0
    assert check_identity(raw, "dk") == valid(raw)
    assert check_identity(f"{raw[:6]}-{raw[6:]}", "dk") == valid(raw)


@pytest.mark.parametrize(
    ("raw", "born"),
    [
        ("0101004000", datetime.date(2000, 1, 1)),  # 4 and year <= 36: 2000s
        ("0101374000", datetime.date(1937, 1, 1)),
        ("0101379000", datetime.date(1937, 1, 1)),
        ("0101585000", datetime.date(1858, 1, 1)),  # 5-8 and year >= 58: 1800s
        ("0101575000", None),  # 2057
        ("0101369000", None),  # 2036
        ("0101993000", datetime.date(1999, 1, 1)),
        ("2902004000", datetime.date(2000, 2, 29)),
        ("2902001234", None),  # 1900 was not a leap year
        ("3102901234", None),
        ("0013901234", None),
        ("0000901234", None),
        ("3204901234", None),
    ],
)
def test_danish_century_from_seventh_digit_and_bad_dates(raw, born):
    result = check_identity(raw, "dk")
    if born is None:
        assert result == IdentityCheck(None, "bad_date")
    else:
        assert result == valid(raw)
        assert birth_date(raw, "dk") == born


@pytest.mark.parametrize(
    "raw", ["211062562", "21106256291", "21106256AB", "211062_5629", "211062+5629", 21106256.5]
)
def test_danish_malformed(raw):
    assert check_identity(raw, "dk") == IdentityCheck(None, "malformed")


def test_danish_validity_agrees_with_stdnum():
    rng = random.Random(7)
    inputs = [
        f"{rng.randrange(33):02d}{rng.randrange(14):02d}{rng.randrange(100):02d}"
        f"{rng.randrange(10000):04d}"
        for _ in range(4000)
    ]
    ours = [result.problem is None for result in check_identities(inputs, "dk")]
    assert ours == [stdnum_cpr.is_valid(raw) for raw in inputs]
    assert 1000 < sum(ours) < 3900


# --- Finland -----------------------------------------------------------------------------------


def test_finnish_known_examples():
    assert check_identity("131052-308T", "fi") == valid("131052-308T")
    assert check_identity("131052-308U", "fi") == IdentityCheck(None, "bad_checksum")
    assert check_identity("310252-308Y", "fi") == IdentityCheck(None, "bad_date")
    # the example of the 2023 reform (DVV): a temporary number with the new sign Y
    assert check_identity("010594Y9032", "fi") == IdentityCheck("010594Y9032", "test_number")


@pytest.mark.parametrize(
    ("sign", "century"),
    [("+", 1800), *((sign, 1900) for sign in "-YXWVU"), *((sign, 2000) for sign in "ABCDEF")],
)
def test_finnish_every_century_sign(sign, century):
    ddmmyy = "131052" if century < 2000 else "131012"
    code = hetu(ddmmyy, sign, "308")
    assert check_identity(code, "fi") == valid(code)
    assert birth_date(code, "fi") == datetime.date(century + int(ddmmyy[4:]), 10, 13)
    assert stdnum_hetu.is_valid(code)


def test_new_signs_are_different_codes_from_the_same_digits():
    old, new = check_identity("131052-308T", "fi"), check_identity("131052Y308T", "fi")
    assert old.problem is None and new.problem is None
    assert (old.normalised, new.normalised) == ("131052-308T", "131052Y308T")
    code_a, code_b = hetu("131012", "A", "308"), hetu("131012", "B", "308")
    assert check_identity(code_a, "fi") == valid(code_a)
    assert check_identity(code_b.lower(), "fi") == valid(code_b)
    assert code_a != code_b


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("131052-308t", "131052-308T"),
        ("131052y308t", "131052Y308T"),
        (hetu("131012", "B", "308").lower(), hetu("131012", "B", "308")),
        (" 131052 \u2013 308T ", "131052-308T"),
        ("13.10.52-308T", "131052-308T"),
    ],
)
def test_finnish_lower_case_and_separators(raw, expected):
    assert check_identity(raw, "fi") == valid(expected)


def test_finnish_every_wrong_check_character_is_a_checksum_problem():
    code = hetu("010594", "X", "202")
    for char in HETU_TABLE + "GZ":
        expected = valid(code) if char == code[-1] else IdentityCheck(None, "bad_checksum")
        assert check_identity(code[:-1] + char, "fi") == expected


@pytest.mark.parametrize("individual", ["900", "901", "950", "999"])
def test_finnish_temporary_numbers(individual):
    code = hetu("010594", "-", individual)
    assert check_identity(code, "fi") == IdentityCheck(code, "test_number")
    assert not is_valid_identity(code, "fi")
    assert birth_date(code, "fi") == datetime.date(1994, 5, 1)


def test_finnish_temporary_number_with_wrong_check_character():
    code = hetu("010594", "-", "900")
    wrong = code[:-1] + ("1" if code[-1] != "1" else "2")
    assert check_identity(wrong, "fi") == IdentityCheck(None, "bad_checksum")


@pytest.mark.parametrize(
    "raw",
    [
        "131052308T",  # no century sign
        "131052Z308T",
        "131052G308T",
        "131052-30T",
        "13105-308T",
        "131052-308?",
        "131052--308T",
        hetu("131052", "-", "000"),  # individual numbers start at 002
        hetu("131052", "-", "001"),
        1310523080,
    ],
)
def test_finnish_malformed(raw):
    assert check_identity(raw, "fi") == IdentityCheck(None, "malformed")


@pytest.mark.parametrize(
    "raw",
    [
        hetu("290223", "A", "123"),  # 29 February 2023
        hetu("310452", "-", "123"),  # 31 April
        hetu("010130", "A", "123"),  # 2030, in the future
        hetu("001052", "-", "123"),
    ],
)
def test_finnish_bad_dates(raw):
    assert check_identity(raw, "fi") == IdentityCheck(None, "bad_date")


def test_finnish_validity_agrees_with_stdnum():
    centuries = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
    rng = random.Random(31)
    inputs = []
    for _ in range(4000):
        ddmmyy = f"{rng.randrange(33):02d}{rng.randrange(14):02d}{rng.randrange(100):02d}"
        code = hetu(ddmmyy, rng.choice(list(centuries)), f"{rng.randrange(1000):03d}")
        inputs.append(code if rng.random() < 0.7 else code[:-1] + rng.choice(HETU_TABLE))
    results = check_identities(inputs, "fi")
    for raw, result in zip(inputs, results, strict=True):
        usable = result.problem in (None, "test_number")
        year = centuries[raw[6]] + int(raw[4:6])
        expected = stdnum_hetu.is_valid(raw, allow_temporary=True)
        if expected and datetime.date(year, int(raw[2:4]), int(raw[:2])) > TODAY:
            expected = False
        assert usable == expected, raw
        assert result.normalised == (raw if usable else None)
    assert 1000 < sum(result.problem is None for result in results) < 3900


# --- every country -----------------------------------------------------------------------------


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize(
    "raw", [None, float("nan"), np.nan, pd.NA, "", "   ", "nan", "N/A", "None", "-"]
)
def test_missing(raw, country):
    assert check_identity(raw, country) == IdentityCheck(None, "missing")


@pytest.mark.parametrize("country", ["no", "SE", "", None])
def test_unknown_country_names_the_allowed_ones(country):
    with pytest.raises(ValueError, match="se, dk, fi"):
        check_identity("880320-0016", country)
    with pytest.raises(ValueError, match="se, dk, fi"):
        check_identities([], country)


def test_batch_matches_single_checks_in_order():
    values = pd.Series(["880320-0016", None, "880320-0017", 198803800013.0, "880320-016"])
    results = check_identities(values, "se")
    assert results == [check_identity(value, "se") for value in values]
    assert [result.problem for result in results] == [
        None,
        "missing",
        "bad_checksum",
        None,
        "malformed",
    ]


def test_batch_of_a_hundred_thousand():
    values = ["880320-0016", "880320-0017", "880320-016", None] * 25_000
    results = check_identities(values, "se")
    assert len(results) == 100_000
    problems = Counter(result.problem for result in results)
    assert problems == {
        None: 25_000,
        "bad_checksum": 25_000,
        "malformed": 25_000,
        "missing": 25_000,
    }
    assert set(problems) - {None} <= set(PROBLEMS)


@pytest.mark.parametrize(
    ("raw", "country"), [("880320-0016", "se"), ("211062-5629", "dk"), ("131052-308U", "fi")]
)
def test_birth_date_needs_a_normalised_usable_number_and_does_not_echo_it(raw, country):
    with pytest.raises(ValueError, match="not a normalised") as error:
        birth_date(raw, country)
    assert raw not in str(error.value)


def test_is_valid_identity():
    assert is_valid_identity("880320-0016", "se")
    assert is_valid_identity("1502804213", "dk")
    assert is_valid_identity("131052Y308T", "fi")
    assert not is_valid_identity("880320-0017", "se")
    assert not is_valid_identity(None, "dk")
