"""Guards that keep identity numbers, e-mail addresses and phone numbers out of outputs."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

# Swedish personnummer / samordningsnummer (10 or 12 digits, optional - or +), Danish CPR
# (DDMMYY-SSSS) and Finnish HETU (DDMMYY, century sign, NNN, check character).
IDENTITY_NUMBER = re.compile(
    r"(?<![\w])(?:\d{6}|\d{8})[-+ ]?\d{4}(?![\w])"
    r"|(?<![\w])\d{6}[-+ABCDEFYXWVU]\d{3}[0-9A-Y](?![\w])"
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"(?<![\w])(?:\+\d{2}[ -]?|0)\d{1,3}[ -]?\d{2,3}[ -]?\d{2}[ -]?\d{2,3}(?![\w])")
FORBIDDEN_COLUMNS = re.compile(
    r"^(personnummer|personal_?id|pnr|cpr|hetu|ssn|e[-_]?mail|e[-_]?post|phone|telefon|"
    r"first_?name|last_?name|f[öo]rnamn|efternamn|name|namn)$",
    re.IGNORECASE,
)

PATTERNS = {"identity number": IDENTITY_NUMBER, "e-mail address": EMAIL, "phone number": PHONE}


class IdentifierLeak(ValueError):
    """A table about to be written holds something that identifies a person."""


def find_identifiers(text: str) -> list[str]:
    """Names of the identifier kinds found in ``text`` (empty when clean)."""
    return [kind for kind, pattern in PATTERNS.items() if pattern.search(text)]


def assert_no_identifiers(table: pa.Table, where: str) -> None:
    """Refuse a table with identifying columns or values.

    Parameters
    ----------
    table : pyarrow.Table
        The table about to be written.
    where : str
        Name of the output, used in the error message.

    Raises
    ------
    IdentifierLeak
        Naming the output and column (never the offending value).
    """
    for name in table.column_names:
        if FORBIDDEN_COLUMNS.match(name):
            raise IdentifierLeak(f"{where}: column '{name}' would write personal identifiers")
        column = table.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        values = pc.unique(column.combine_chunks() if column.num_chunks else column)
        for value in values.to_pylist():
            if value is None:
                continue
            kinds = find_identifiers(value)
            if kinds:
                raise IdentifierLeak(
                    f"{where}: column '{name}' holds what looks like a {kinds[0]}; "
                    "scrub or pseudonymise it before writing"
                )
