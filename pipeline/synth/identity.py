"""Synthetic Swedish identity numbers (personnummer and samordningsnummer).

Only for synthetic data: the numbers are valid (real date, Luhn check digit) and may therefore
collide with real people's numbers. They must never be mixed with real data.
"""

from __future__ import annotations

import datetime

import numpy as np

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
