"""Synthetic identity numbers: Swedish personnummer and samordningsnummer, Danish CPR, Finnish HETU.

Only for synthetic data: the numbers are valid (real date, Luhn check digit) and may therefore
collide with real people's numbers. They must never be mixed with real data.
"""

from __future__ import annotations

import datetime

import numpy as np

from pipeline.pseudonymise import normalise_personnummer
from pipeline.synth.population import luhn_check_digits


def luhn_check_digit(digits: str) -> int:
    """Return the Luhn check digit for ``digits`` (the 9 digits ``YYMMDDNNN``).

    Parameters
    ----------
    digits : str
        Digits only, weights 2, 1, 2, ... from the left as in the Swedish personnummer.

    Returns
    -------
    int
        The check digit 0-9.
    """
    if not digits.isdigit():
        raise ValueError(f"luhn_check_digit needs digits only, got {digits!r}")
    return int(luhn_check_digits(np.array([[int(c) for c in digits]]))[0])


def make_personnummer(birth_date: datetime.date, serial: int, *, coordination: bool = False) -> str:
    """Build a valid 12-digit Swedish identity number ``YYYYMMDDNNNC``.

    Parameters
    ----------
    birth_date : datetime.date
        Date of birth (a ``datetime`` or ``pandas.Timestamp`` also works).
    serial : int
        Birth serial ``NNN``, 1-999 (``000`` is never issued). Its last digit gives the legal sex:
        odd for men, even for women.
    coordination : bool
        Build a samordningsnummer instead: the day is increased by 60.

    Returns
    -------
    str
        Twelve digits whose check digit passes the Luhn test.
    """
    if not 1 <= int(serial) <= 999:
        raise ValueError(f"serial must be between 1 and 999, got {serial}")
    day = birth_date.day + (60 if coordination else 0)
    body = f"{birth_date.year:04d}{birth_date.month:02d}{day:02d}{int(serial):03d}"
    return body + str(luhn_check_digit(body[2:]))


# --- Danish and Finnish numbers ----------------------------------------------------------------

HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
# Century signs: the old ones first, then those in use since 2023 (Finnish Digital Agency).
HETU_SIGNS = {19: ("-", "Y", "X", "W", "V", "U"), 20: ("A", "B", "C", "D", "E", "F")}
NEW_SIGN_SHARE = 0.25  # share of synthetic HETUs written with a 2023 century sign


def make_cpr(birth_date: datetime.date, serial: int) -> str:
    """A Danish CPR number ``DDMMYYSSSS`` with the seventh digit giving the century.

    ``serial`` (0-999) is the last three digits; its last digit is odd for men. The seventh
    digit is 0 for births 1900-1999 and 4 for 2000-2036 (``stdnum.dk.cpr``'s rule). No
    modulus-11 check digit: numbers issued since 2007 need not have one.
    """
    if not 0 <= int(serial) <= 999:
        raise ValueError(f"serial must be between 0 and 999, got {serial}")
    seventh = 0 if birth_date.year < 2000 else 4
    return f"{birth_date.day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}" \
        f"{seventh}{int(serial):03d}"


def make_hetu(birth_date: datetime.date, individual: int, sign: str | None = None) -> str:
    """A Finnish HETU ``DDMMYYCZZZQ``; ``individual`` 2-899 is odd for men.

    ``sign`` defaults to the old century sign (``-`` or ``A``); any of the 2023 signs of the
    birth's century may be given.
    """
    if not 2 <= int(individual) <= 899:
        raise ValueError(f"individual number must be between 2 and 899, got {individual}")
    century = birth_date.year // 100
    sign = sign or HETU_SIGNS[century][0]
    if sign not in HETU_SIGNS[century]:
        raise ValueError(f"{sign!r} is not a century sign of the {century}00s")
    date = f"{birth_date.day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"
    body = f"{date}{sign}{int(individual):03d}"
    return body + make_hetu_check(body)


def national_numbers(personnummer: np.ndarray, country: str,
                     rng: np.random.Generator) -> np.ndarray:
    """The people's identity numbers in ``country``'s form, from their synthetic personnummer.

    The birth date and legal sex are kept (a samordningsnummer's day is taken back by 60); the
    serial is derived from the personnummer's, so distinct people stay distinct. Sweden returns
    the input. A quarter of Finnish numbers use a 2023 century sign.
    """
    if country == "se":
        return personnummer
    out = np.empty(len(personnummer), dtype=object)
    seen: set[str] = set()
    for i, number in enumerate(personnummer):
        year, month, day = int(number[:4]), int(number[4:6]), int(number[6:8])
        birth = datetime.date(year, month, day - 60 if day > 60 else day)
        serial = int(number[8:11])
        male = serial % 2 == 1
        for bump in range(1000):
            if country == "dk":
                candidate = make_cpr(birth, (serial + 2 * bump) % 1000)
            else:
                individual = 2 + 2 * ((serial // 2 + bump) % 449) + int(male)
                signs = HETU_SIGNS[year // 100]
                sign = signs[1 + int(rng.integers(len(signs) - 1))] \
                    if rng.random() < NEW_SIGN_SHARE else signs[0]
                candidate = make_hetu(birth, individual, sign)
            if candidate not in seen:
                break
        seen.add(candidate)
        out[i] = candidate
    return out


def export_form(number: str, country: str) -> str:
    """How a programme's roster writes the number: ``YYYYMMDD-NNNN``, ``DDMMYY-SSSS`` or the
    HETU as it is."""
    if country == "se":
        return f"{number[:8]}-{number[8:]}"
    if country == "dk":
        return f"{number[:6]}-{number[6:]}"
    return number


def typed_number(number: str, country: str, rng: np.random.Generator) -> str:
    """The number as a respondent might type it (spaces, dashes, lower case)."""
    if country == "se":
        date10 = number[2:8]
        forms = (number, f"{number[:8]}-{number[8:]}", f"{date10}-{number[8:]}", number[2:],
                 f"{date10} {number[8:]}", f" {number[:8]} {number[8:]} ")
    elif country == "dk":
        forms = (number, f"{number[:6]}-{number[6:]}", f"{number[:6]} {number[6:]}",
                 f" {number} ")
    else:
        forms = (number, number.lower(), f" {number} ")
    return forms[int(rng.integers(len(forms)))]


def mistyped_number(number: str, country: str, rng: np.random.Generator,
                    allow_missing: bool = True) -> str:
    """A typing error that the country's check catches, or (if allowed) no number at all.

    Sweden: a transposition, changed or dropped digit (Luhn or length). Denmark has no check
    digit since 2007, so only errors in the date or the length are caught: a dropped digit or
    a month of 13 or more. Finland: a changed individual number (the check character fails)
    or a dropped character.
    """
    if country == "se":
        return _mistyped_personnummer(number, rng, allow_missing)
    kinds = (0, 1, 2) if allow_missing else (0, 1)
    kind = kinds[int(rng.integers(len(kinds)))]
    if kind == 2:
        return ""
    if kind == 0:  # dropped character
        j = int(rng.integers(0, len(number)))
        return number[:j] + number[j + 1:]
    if country == "dk":  # an impossible month
        return f"{number[:2]}{13 + int(rng.integers(0, 7))}{number[4:]}"
    digits = int(number[7:10])
    changed = 2 + (digits - 2 + 1 + int(rng.integers(0, 5))) % 898
    typed = f"{number[:7]}{changed:03d}{number[10]}"
    return typed if typed[-1] != make_hetu_check(typed) else number[:-1]


def make_hetu_check(hetu: str) -> str:
    """The check character a HETU's date and individual number call for (``hetu`` with or
    without its check character)."""
    return HETU_CHECK[int(hetu[:6] + hetu[7:10]) % 31]


def _mistyped_personnummer(pnr12: str, rng: np.random.Generator, allow_missing: bool) -> str:
    kind = int(rng.integers(4)) if allow_missing else (0, 1, 3)[int(rng.integers(3))]
    digits = list(pnr12)
    if kind == 0:  # adjacent transposition in the 10-digit part
        j = int(rng.integers(2, 11))
        digits[j], digits[j + 1] = digits[j + 1], digits[j]
    elif kind == 1:  # one changed digit
        j = int(rng.integers(2, 12))
        digits[j] = str((int(digits[j]) + int(rng.integers(1, 10))) % 10)
    elif kind == 2:
        return ""
    else:  # dropped digit
        del digits[int(rng.integers(8, 12))]
    typed = "".join(digits)
    if len(typed) == 12:
        typed = f"{typed[:8]}-{typed[8:]}"
    if normalise_personnummer(typed) is not None:  # transposition Luhn cannot see (09 <-> 90)
        typed = pnr12[:11] + str((int(pnr12[11]) + 1) % 10)
    return typed
