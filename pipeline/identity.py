"""Normalising and validating Swedish, Danish and Finnish identity numbers as respondents type them.

Survey answers arrive with spaces, dashes of every kind, dots in the date, lower case, numbers
exported as floats and leading zeros lost in spreadsheets. :func:`check_identity` turns such a value
into the country's canonical form and says what is wrong when it is not a usable number:

- ``"se"`` personnummer and samordningsnummer (day + 60) -> ``YYYYMMDDNNNC``, exactly the form
  :func:`pipeline.pseudonymise.normalise_personnummer` (the ``personnummer`` package) gives, which
  is the form the register was pseudonymised with. The century of the 10-digit forms follows that
  package: the latest year not after this year, a ``+`` separator moves it back 100 years.
- ``"dk"`` CPR -> ``DDMMYYSSSS``. The century comes from the seventh digit (as in
  ``stdnum.dk.cpr``). The modulus-11 check is never applied: CPR numbers issued since 2007 need not
  pass it.
- ``"fi"`` HETU -> ``DDMMYYCZZZQ`` in upper case with the century sign as typed: since 2023 the
  signs ``Y X W V U`` (1900s) and ``B C D E F`` (2000s) make codes distinct from the same digits
  with ``-`` or ``A``. Individual numbers 900-999 are temporary or test codes.

For every country a birth date in the future (or before 1800) is ``"bad_date"``.

Whether a number is valid is decided by the well-kept packages: ``personnummer`` (Sweden; it
accepts samordningsnummer, which ``stdnum.se.personnummer`` rejects), ``stdnum.dk.cpr`` (whose
``validate`` applies no modulus-11 check) and ``stdnum.fi.hetu`` (which accepts the 2023 century
signs; temporary numbers allowed, then flagged). They only say "invalid", so the rules are also
written out here to tell *what* is wrong (``malformed``, ``bad_date``, ``bad_checksum``), and to
refuse birth dates in the future, which ``personnummer`` and ``stdnum.fi.hetu`` accept.
``tests/test_identity.py`` checks that both agree on thousands of generated numbers.
"""

from __future__ import annotations

import datetime
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd
from personnummer import personnummer as _personnummer
from stdnum.dk import cpr as _cpr
from stdnum.exceptions import ValidationError as _StdnumInvalid
from stdnum.fi import hetu as _hetu

COUNTRIES = ("se", "dk", "fi")
PROBLEMS = ("missing", "malformed", "bad_date", "bad_checksum", "test_number")


@dataclass(frozen=True)
class IdentityCheck:
    """The outcome of checking one identity number.

    Attributes
    ----------
    normalised : str or None
        The canonical form when the number is usable (valid, or a Finnish test number), else None.
    problem : str or None
        None when valid, else one of :data:`PROBLEMS`.
    """

    normalised: str | None
    problem: str | None


_MISSING = IdentityCheck(None, "missing")
_MALFORMED = IdentityCheck(None, "malformed")
_BAD_DATE = IdentityCheck(None, "bad_date")
_BAD_CHECKSUM = IdentityCheck(None, "bad_checksum")

_MISSING_WORDS = frozenset({"nan", "none", "null", "na", "n/a", "<na>", "nat"})
_FLOAT_TEXT = re.compile(r"(\d+)\.0+", re.ASCII)
_FIRST_YEAR = 1800
# Spreadsheets drop the leading zeros of numbers; Swedish and Danish short forms have 10 digits.
_NUMERIC_WIDTH = 10

_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")
_HETU = re.compile(r"(\d{6})([-+A-FU-Y])(\d{3})([0-9A-Z])", re.ASCII)
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU_CENTURY = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}


def check_identity(raw: object, country: str) -> IdentityCheck:
    """Normalise and validate one identity number.

    Parameters
    ----------
    raw : object
        The number as typed or exported: str, int or float (``199001011234.0`` is read as its
        integer digits; numbers shorter than 10 digits get their lost leading zeros back).
        None, NaN, pandas' NA, blank text and words like ``"n/a"`` count as missing. Whitespace,
        dots, slashes and Unicode dashes are tolerated; non-Latin digits are read as digits.
    country : str
        One of :data:`COUNTRIES`.

    Returns
    -------
    IdentityCheck
        The canonical form and None when valid, otherwise the problem (see the module docstring).

    Raises
    ------
    ValueError
        If ``country`` is not one of :data:`COUNTRIES`.
    """
    return _check(raw, _checker(country), datetime.date.today())


def check_identities(values: Iterable[object], country: str) -> list[IdentityCheck]:
    """Check many identity numbers of one country (a few microseconds each).

    Parameters
    ----------
    values : iterable of object
        Numbers as accepted by :func:`check_identity`, e.g. a pandas Series.
    country : str
        One of :data:`COUNTRIES`.

    Returns
    -------
    list of IdentityCheck
        One result per value, in input order.

    Raises
    ------
    ValueError
        If ``country`` is not one of :data:`COUNTRIES`.
    """
    checker = _checker(country)
    today = datetime.date.today()
    return [_check(raw, checker, today) for raw in values]


def is_valid_identity(raw: object, country: str) -> bool:
    """Tell whether ``raw`` is a valid identity number of ``country``.

    Parameters
    ----------
    raw : object
        The number as typed or exported (see :func:`check_identity`).
    country : str
        One of :data:`COUNTRIES`.

    Returns
    -------
    bool
        True when :func:`check_identity` finds no problem; Finnish temporary/test numbers
        (900-999) are not valid.
    """
    return check_identity(raw, country).problem is None


def birth_date(normalised: str, country: str) -> datetime.date:
    """Return the birth date encoded in a normalised identity number.

    Parameters
    ----------
    normalised : str
        A number in the canonical form of :func:`check_identity` (Finnish test numbers included).
    country : str
        One of :data:`COUNTRIES`.

    Returns
    -------
    datetime.date
        The birth date; for a samordningsnummer the day with 60 subtracted.

    Raises
    ------
    ValueError
        If the country is unknown or ``normalised`` is not a usable number in canonical form. The
        message never contains the number.
    """
    if check_identity(normalised, country).normalised != normalised:
        raise ValueError(f"not a normalised, usable identity number for country {country!r}")
    return _BIRTH[country](normalised)


def _checker(country: str) -> Callable[[str, datetime.date], IdentityCheck]:
    try:
        return _CHECKS[country]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown country {country!r}; expected one of {', '.join(COUNTRIES)}"
        ) from None


def _check(
    raw: object, checker: Callable[[str, datetime.date], IdentityCheck], today: datetime.date
) -> IdentityCheck:
    text = _text(raw)
    return _MISSING if text is None else checker(text, today)


def _text(raw: object) -> str | None:
    """The value as compact text, or None if it is missing."""
    if isinstance(raw, str):
        return _clean_text(raw)
    if raw is None:
        return None
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, numbers.Integral):
        return str(int(raw)).zfill(_NUMERIC_WIDTH)
    if isinstance(raw, numbers.Real):
        value = float(raw)
        if math.isnan(value):
            return None
        # A fraction or infinity stays as text with "." or letters, which no country accepts.
        return str(int(value)).zfill(_NUMERIC_WIDTH) if value.is_integer() else str(raw)
    missing = pd.isna(raw)
    return None if missing is True else str(raw)


def _clean_text(text: str) -> str | None:
    text = "".join(text.split())
    if not text.isascii():
        text = _ascii(text)
    if not text.strip("-+") or text.lower() in _MISSING_WORDS:
        return None
    if text.endswith("0") and (number := _FLOAT_TEXT.fullmatch(text)):
        return number[1].zfill(_NUMERIC_WIDTH)
    return text.replace(".", "").replace("/", "")


def _ascii(text: str) -> str:
    """Fold full-width forms, Unicode dashes and non-Latin decimal digits to ASCII."""
    return "".join(_ascii_char(char) for char in unicodedata.normalize("NFKC", text))


def _ascii_char(char: str) -> str:
    if char.isascii():
        return char
    if char == "\u2212" or unicodedata.category(char) == "Pd":
        return "-"
    digit = unicodedata.decimal(char, None)
    return char if digit is None else str(digit)


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _plausible_birth(
    born: Callable[[str], datetime.date], number: str, today: datetime.date
) -> bool:
    try:
        date = born(number)
    except ValueError:
        return False
    return _FIRST_YEAR <= date.year and date <= today


def _diagnose_se(text: str, today: datetime.date) -> IdentityCheck:
    separator = text[-5] if len(text) >= 5 and text[-5] in "-+" else ""
    digits = (text[:-5] + text[-4:] if separator else text).replace("-", "")
    if len(digits) not in (10, 12) or not _is_digits(digits) or digits[-4:-1] == "000":
        return _MALFORMED
    short = digits[-10:]
    if len(digits) == 12:
        year = int(digits[:4])
    else:
        year = _se_full_year(int(short[:2]), separator == "+", today)
    number = f"{year:04d}{short[2:]}"
    if not _plausible_birth(_se_birth, number, today):
        return _BAD_DATE
    if _luhn_sum(short) % 10:
        return _BAD_CHECKSUM
    return IdentityCheck(number, None)


def _se_full_year(two_digits: int, plus: bool, today: datetime.date) -> int:
    """The century rule of the ``personnummer`` package for the 10-digit forms."""
    base = today.year - 100 if plus else today.year
    return base - (base - two_digits) % 100


def _luhn_sum(digits: str) -> int:
    return sum(map(int, digits[-2::-2].translate(_LUHN_DOUBLED) + digits[::-2]))


def _se_birth(number: str) -> datetime.date:
    day = int(number[6:8])
    return datetime.date(int(number[:4]), int(number[4:6]), day - 60 if day > 60 else day)


def _diagnose_dk(text: str, today: datetime.date) -> IdentityCheck:
    digits = text.replace("-", "")
    if len(digits) != 10 or not _is_digits(digits):
        return _MALFORMED
    if not _plausible_birth(_dk_birth, digits, today):
        return _BAD_DATE
    return IdentityCheck(digits, None)


def _dk_birth(number: str) -> datetime.date:
    """The birth date with the century from the seventh digit (the rule of ``stdnum.dk.cpr``)."""
    year, century_digit = int(number[4:6]), number[6]
    if century_digit in "5678" and year >= 58:
        century = 1800
    elif century_digit in "0123" or (century_digit in "49" and year >= 37):
        century = 1900
    else:
        century = 2000
    return datetime.date(century + year, int(number[2:4]), int(number[:2]))


def _diagnose_fi(text: str, today: datetime.date) -> IdentityCheck:
    code = text.upper()
    parts = _HETU.fullmatch(code)
    if parts is None:
        return _MALFORMED
    date_digits, _, individual, check = parts.groups()
    if not _plausible_birth(_fi_birth, code, today):
        return _BAD_DATE
    if int(individual) < 2:  # individual numbers start at 002
        return _MALFORMED
    if check != _HETU_CHECK[int(date_digits + individual) % 31]:
        return _BAD_CHECKSUM
    return IdentityCheck(code, "test_number" if int(individual) >= 900 else None)


def _fi_birth(code: str) -> datetime.date:
    return datetime.date(_HETU_CENTURY[code[6]] + int(code[4:6]), int(code[2:4]), int(code[:2]))


def _validate_se(text: str) -> str:
    if not re.fullmatch(r"[0-9+-]+", text):
        raise ValueError("not a personnummer")
    digits = text.replace("-", "").replace("+", "")
    separator = "+" if "+" in text else "-"  # "+": the 10-digit form of someone aged 100+
    try:
        return _personnummer.parse(f"{digits[:-4]}{separator}{digits[-4:]}").format(
            long_format=True
        )
    except _personnummer.PersonnummerException:
        raise ValueError("invalid personnummer") from None


def _validate_dk(text: str) -> str:
    return _cpr.validate(text)


def _validate_fi(text: str) -> str:
    return _hetu.validate(text, allow_temporary=True)


def _library_check(
    validate: Callable[[str], str], diagnose: Callable[[str, datetime.date], IdentityCheck]
) -> Callable[[str, datetime.date], IdentityCheck]:
    """The library decides validity and the normalised form; the diagnosis names the problem
    and adds the rule the library lacks (no birth dates in the future)."""

    def check(text: str, today: datetime.date) -> IdentityCheck:
        diagnosis = diagnose(text, today)
        try:
            normalised = validate(text)
        except (ValueError, _StdnumInvalid):
            return diagnosis if diagnosis.normalised is None else _MALFORMED
        if diagnosis.normalised is None:  # e.g. a birth date in the future
            return diagnosis
        return IdentityCheck(normalised, diagnosis.problem)

    return check


_CHECKS = {
    "se": _library_check(_validate_se, _diagnose_se),
    "dk": _library_check(_validate_dk, _diagnose_dk),
    "fi": _library_check(_validate_fi, _diagnose_fi),
}
_BIRTH = {"se": _se_birth, "dk": _dk_birth, "fi": _fi_birth}
