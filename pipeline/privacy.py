"""Guards that keep identity numbers, e-mail addresses and phone numbers out of outputs.

Two kinds of tools live here:

* **Scanners** refuse an output that holds an identifier: :func:`assert_no_identifiers` (a
  table about to be written), :func:`scan_parquet` (a Parquet file, e.g. written by DuckDB),
  :func:`scan_text` (HTML, Markdown, JSON) and :func:`scan_notebook` (an executed notebook).
  They raise :class:`IdentifierLeak` naming the output, the column or place and the kind of
  identifier, never the offending value.
* **Redactors** rewrite text that is about to be shown or kept although it may hold raw values
  (error messages, tracebacks of failed stage runs): :func:`redact` and
  :func:`redact_notebook`.

What counts as an identifier in text
------------------------------------
Identity numbers (candidates are digit groups bounded by non-word characters, never the
fractional or integer part of a decimal number such as ``0.1988032000``):

* with a separator (``-``, ``+`` or a space) before the last four digits, the date part alone
  decides: ``YYYYMMDD-NNNN`` and ``YYMMDD-NNNN`` with a real month and day (day + 60 for a
  samordningsnummer), or ``DDMMYY-SSSS`` with a real date (Danish CPR: its modulus-11 check is
  not reliable, so none is applied);
* without a separator (``YYYYMMDDNNNN``, ``YYMMDDNNNN``) the date must be real *and* the Swedish
  Luhn check digit (over the last ten digits) must pass, so that arbitrary 10- and 12-digit
  numbers do not trigger;
* Finnish HETU ``DDMMYYCNNNQ`` with a real date and a correct check character.

E-mail addresses: ``local@domain.tld`` with an alphabetic top-level domain.

Phone numbers: Swedish/Finnish mobile numbers with the trunk zero (``070-123 45 67``,
``0701234567``, ``040 123 4567``), other national numbers written with a hyphen or slash after
the area code (``08-123 456 78``) or in space-separated groups (``031 12 34 56``; subscriber
numbers never start with 0, so lists of municipality codes such as ``0180 0380`` do not
trigger), and international numbers (``+46 70 123 45 67``, ``0046701234567``) with 8 to 15
digits. Danish national numbers (eight bare digits) are not recognised: they cannot be told
from other numbers.

:func:`redact` replaces every *candidate* of these shapes, valid or not (a mistyped identity
number is still personal data), so its output always passes the scanners.

What counts as an identifier in an integer column
-------------------------------------------------
Only the distinct values between 10**8 and 10**13 are examined (vectorised numpy), so counts,
months, codes and earnings never trigger. An integer column holds one kind of quantity, so the
rules look at the share of its large values that have an identifier's shape; a column of
personnummer or phone numbers stored as integers is nearly all such values, while a column of
arbitrary large numbers (hashes, sums) has a few by chance (about 0.7% of random 10-digit
numbers pass the date and Luhn tests):

* identity number: at least one, and at least half, of the column's distinct 10- and 12-digit
  values have a real date part (``YYMMDD`` or ``YYYYMMDD`` with year 1850-2099; day + 60
  allowed) and pass the Luhn check over their last ten digits, i.e. are Swedish personnummer
  or samordningsnummer stored as numbers. A single such value among small numbers is refused;
  a single one among many other 10- or 12-digit numbers is not. Danish CPR numbers stored as
  integers cannot be told from other numbers and are not flagged.
* phone number: at least half of the examined values are phone numbers with a country code
  but no ``+`` (``46`` + nine digits, ``45`` + eight digits, Finnish mobile ``3584...`` or
  ``35850...``); or at least three, and at least half, are those or nine-digit values that lost
  a leading zero: Swedish mobile numbers ``7[02369]XXXXXXX`` or personnummer of people born
  2000-2009 (date and Luhn valid). So a sum of earnings such as 720,000,000 or 46,123,456,789
  next to other totals does not trigger, a column of phone numbers does.

Float columns are examined the same way for their integral values (an SPSS numeric identity
number column arrives as float64).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

FORBIDDEN_COLUMNS = re.compile(
    r"^(personnummer|person_?nr|pnr|personal_?id|personal_?number|person_?number|"
    r"samordningsnummer|cpr|cpr_?nr|cpr_?nummer|hetu|henkil[öo]tunnus|ssn|"
    r"e[-_]?mail|e[-_]?mail_?address|e[-_]?post|epostadress|"
    r"phone|phone_?number|telephone|telefon|telefonnummer|mobil|mobile|mobilnummer|tel|tfn|"
    r"first_?name|last_?name|full_?name|f[öo]rnamn|efternamn|name|namn)$",
    re.IGNORECASE,
)

# Candidates. Separators inside a candidate are single spaces or hyphens, never newlines, so
# values joined by newlines are scanned one by one.
_LEFT = r"(?<![\w])(?<!\d[.,])"
_RIGHT = r"(?![\w])(?![.,]\d)"
_IDENTITY = (
    _LEFT
    + r"(?:(?:\d{8}|\d{6})[-+ ]?\d{4}|\d{6}[-+ABCDEFYXWVU]\d{3}[0-9A-Y])"
    + _RIGHT
)
_EMAIL = r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w])"
_PHONE = (
    # international: +46 70 123 45 67, +46 (0)70-123 45 67, 0046701234567
    r"(?<![\w+])(?<!\d[.,])(?:\+|00(?=[1-9]))\d{1,3}(?:[ -]?\(0\))?(?:[ -]?\d{1,4}){2,6}"
    + _RIGHT
    # Swedish mobile 07x and Finnish mobile 04x/050, any single separators
    + r"|" + _LEFT + r"0(?:7[02369]|4\d|50)(?:[ -]?\d){7,8}" + _RIGHT
    # area code, hyphen or slash, subscriber number
    + r"|" + _LEFT + r"0[1-9]\d{0,2}[-/][1-9]\d{1,2}(?: ?\d{2,3}){1,3}" + _RIGHT
    # area code and subscriber number in space-separated groups
    + r"|" + _LEFT + r"0[1-9]\d{0,2} [1-9]\d{1,2}(?: \d{2,3}){1,3}" + _RIGHT
    # Swedish mobile number with country code but without +
    + r"|" + _LEFT + r"467[02369]\d{7}" + _RIGHT
)
_CANDIDATES = re.compile(
    f"(?P<identity>{_IDENTITY})|(?P<email>{_EMAIL})|(?P<phone>{_PHONE})"
)
KINDS = {"identity": "identity number", "email": "e-mail address", "phone": "phone number"}

# Kept for callers of the previous version.
IDENTITY_NUMBER = re.compile(_IDENTITY)
EMAIL = re.compile(_EMAIL)
PHONE = re.compile(_PHONE)

_DATA_URI = re.compile(r"data:[\w/+.-]+(?:;[\w=.-]+)*;base64,[A-Za-z0-9+/=\s]*")
_LONG_BASE64 = re.compile(r"[A-Za-z0-9+/]{200,}={0,2}")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class IdentifierLeak(ValueError):
    """An output about to be written holds something that identifies a person."""


# --- validation of candidates -------------------------------------------------------------


def _real_day(month: int, day: int, coordination: bool = True) -> bool:
    if not 1 <= month <= 12:
        return False
    if coordination and day > 60:
        day -= 60
    return 1 <= day <= _MONTH_DAYS[month - 1]


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _is_identity_number(token: str) -> bool:
    """Whether an identity-number candidate is a plausible SE, DK or FI number (see module)."""
    if token[-1].isalpha() or any(c.isalpha() for c in token[6:7]):
        return _is_hetu(token)
    digits = re.sub(r"\D", "", token)
    separated = len(digits) != len(token)
    if len(digits) == 12:
        if not 1850 <= int(digits[:4]) <= 2099:
            return False
        dated = _real_day(int(digits[4:6]), int(digits[6:8]))
        return dated and (separated or _luhn(digits[2:]))
    swedish = _real_day(int(digits[2:4]), int(digits[4:6])) and (separated or _luhn(digits))
    danish = separated and _real_day(int(digits[2:4]), int(digits[:2]), coordination=False)
    return swedish or danish or (separated and _is_hetu(token))


def _is_hetu(token: str) -> bool:
    if len(token) != 11 or token[6] not in "-+ABCDEFYXWVU":
        return False
    if not token[:6].isdigit() or not token[7:10].isdigit():
        return False
    if not _real_day(int(token[2:4]), int(token[:2]), coordination=False):
        return False
    return _HETU_CHECK[int(token[:6] + token[7:10]) % 31] == token[10]


def _is_phone(token: str) -> bool:
    digits = re.sub(r"\D", "", token)
    if token.startswith("+"):
        return 8 <= len(digits) <= 15
    if digits.startswith("00"):
        return 10 <= len(digits) <= 17
    if digits.startswith("46"):
        return len(digits) == 11
    return 8 <= len(digits) <= 11


def _accept(kind: str, token: str) -> bool:
    if kind == "identity":
        return _is_identity_number(token)
    if kind == "phone":
        return _is_phone(token)
    return True


_BY_KIND = {"identity": IDENTITY_NUMBER, "email": EMAIL, "phone": PHONE}


def _findings(text: str) -> Iterator[tuple[str, int]]:
    """(kind, offset) of identifiers in ``text`` that pass validation, kind by kind."""
    for key, pattern in _BY_KIND.items():
        for match in pattern.finditer(text):
            if _accept(key, match.group()):
                yield KINDS[key], match.start()


def find_identifiers(text: str) -> list[str]:
    """Names of the identifier kinds found in ``text`` (empty when clean), in a fixed order."""
    found = {kind for kind, _ in _findings(text)}
    return [kind for kind in KINDS.values() if kind in found]


def redact(text: str) -> str:
    """Replace identity numbers, e-mail addresses and phone numbers by ``[redacted <kind>]``.

    Meant for error messages and tracebacks before they are printed, logged or kept. Every
    candidate of an identifier's shape is replaced, valid or not (a mistyped identity number
    is still personal data), e.g. ``Could not convert string '197903100415' to INT32`` becomes
    ``Could not convert string '[redacted identity number]' to INT32``. The result always
    passes :func:`scan_text`. Names cannot be recognised and are left alone.
    """

    def replace(match: re.Match) -> str:
        kind, token = match.lastgroup, match.group()
        if kind == "identity" and not _is_identity_number(token) and PHONE.fullmatch(token):
            kind = "phone"  # e.g. 0701234567
        return f"[redacted {KINDS[kind]}]"

    text = _CANDIDATES.sub(replace, text)
    # a candidate of one kind may overlap one of another kind that the combined pattern
    # skipped: replace whatever any single pattern still finds
    for key, pattern in _BY_KIND.items():
        text = pattern.sub(f"[redacted {KINDS[key]}]", text)
    return text


# --- tables ---------------------------------------------------------------------------------

_MIN_EXAMINED = 10**8
# Every identifier candidate contains one of these: "@", "+" and a digit, or after a non-word
# character (or the start) a zero and a digit or six digits. Pseudonyms mostly do not.
_PREFILTER = r"@|\+\p{Nd}|(?:^|[^0-9A-Za-z_])(?:0\p{Nd}|\p{Nd}{6})"
_POWERS = np.power(np.int64(10), np.arange(1, 14, dtype=np.int64))


def _digit(values: np.ndarray, position: int) -> np.ndarray:
    """Decimal digit ``position`` (0 = units) of non-negative int64 values."""
    return (values // np.int64(10) ** position) % 10


def _luhn_ok(values: np.ndarray) -> np.ndarray:
    """Luhn check over the last ten digits, vectorised."""
    total = np.zeros(values.shape, dtype=np.int64)
    for position in range(10):
        digit = _digit(values, position)
        if position % 2:
            digit = digit * 2
            digit = np.where(digit > 9, digit - 9, digit)
        total += digit
    return total % 10 == 0


def _date_ok(month: np.ndarray, day: np.ndarray) -> np.ndarray:
    day = np.where(day > 60, day - 60, day)
    valid_month = (month >= 1) & (month <= 12)
    limit = np.asarray(_MONTH_DAYS)[np.clip(month - 1, 0, 11)]
    return valid_month & (day >= 1) & (day <= limit)


def _identity_ints(values: np.ndarray) -> np.ndarray:
    """Mask of 10- and 12-digit values that are date-valid, Luhn-valid personnummer."""
    ten = (values >= 10**9) & (values < 10**10)
    twelve = (values >= 10**11) & (values < 10**12)
    year = values // 10**8
    twelve &= (year >= 1850) & (year <= 2099)
    month = (values // 10**6) % 100
    day = (values // 10**4) % 100
    return (ten | twelve) & _date_ok(month, day) & _luhn_ok(values % 10**10)


def _leading(values: np.ndarray, length: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` digits of values that have ``length`` digits."""
    return values // np.power(np.int64(10), np.maximum(length - count, 0))


def _phone_ints(values: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Mask of phone numbers with a country code but no ``+`` (SE, DK, FI mobile)."""
    swedish = (length == 11) & (_leading(values, length, 2) == 46)
    danish = (length == 10) & (_leading(values, length, 2) == 45)
    finnish = ((length == 11) | (length == 12)) & (
        (_leading(values, length, 4) == 3584) | (_leading(values, length, 5) == 35850)
    )
    return swedish | danish | finnish


def _weak_phone_ints(values: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Mask of nine-digit values that lost a leading zero: Swedish mobile numbers
    (``7[02369]XXXXXXX``) and personnummer of people born 2000-2009 (date and Luhn valid)."""
    nine = length == 9
    mobile = nine & np.isin(_leading(values, length, 2), [70, 72, 73, 76, 79])
    month, day = (values // 10**6) % 100, (values // 10**4) % 100
    return mobile | (nine & _date_ok(month, day) & _luhn_ok(values))


def _integer_finding(values: np.ndarray) -> str | None:
    """The identifier kind found among distinct integer values, or None (rules: module doc)."""
    values = values[(values >= _MIN_EXAMINED) & (values < 10**13)].astype(np.int64)
    if values.size == 0:
        return None
    length = np.searchsorted(_POWERS, values, side="right") + 1
    identity = int(_identity_ints(values).sum())
    if identity and 2 * identity >= int(((length == 10) | (length == 12)).sum()):
        return KINDS["identity"]
    strong = int(_phone_ints(values, length).sum())
    weak = int(_weak_phone_ints(values, length).sum())
    if (strong and 2 * strong >= values.size) or (
        strong + weak >= 3 and 2 * (strong + weak) >= values.size
    ):
        return KINDS["phone"]
    return None


def _text_finding(values: list) -> str | None:
    texts = [value for value in values if value]
    if not texts:
        return None
    for kind, _ in _findings("\n".join(texts)):
        return kind
    return None


def _is_text_type(kind_of: pa.DataType) -> bool:
    is_view = getattr(pa.types, "is_string_view", lambda _: False)
    return pa.types.is_string(kind_of) or pa.types.is_large_string(kind_of) or is_view(kind_of)


def _array_finding(array: pa.Array | pa.ChunkedArray) -> str | None:
    """The identifier kind found among an array's distinct values, or None."""
    kind_of = array.type
    if isinstance(array, pa.ChunkedArray) and pa.types.is_dictionary(kind_of):
        # chunks read from Parquet may share one dictionary: scan each distinct one once
        seen = set()
        for chunk in array.chunks:
            dictionary = chunk.dictionary
            identity = tuple(buffer.address if buffer else 0 for buffer in dictionary.buffers())
            if identity in seen:
                continue
            seen.add(identity)
            if found := _array_finding(dictionary):
                return found
        return None
    if pa.types.is_dictionary(kind_of):
        return _array_finding(array.dictionary)
    if _is_text_type(kind_of):
        if not (pa.types.is_string(kind_of) or pa.types.is_large_string(kind_of)):
            array = array.cast(pa.large_string())
        unique = pc.unique(array)
        # cheap necessary condition (RE2, in C++) before the Python patterns
        unique = pc.filter(unique, pc.match_substring_regex(unique, _PREFILTER))
        return _text_finding(unique.to_pylist())
    if pa.types.is_integer(kind_of):
        if pa.types.is_unsigned_integer(kind_of) and kind_of.bit_width == 64:
            array = pc.filter(array, pc.less(array, pa.scalar(10**13, kind_of)))
            array = array.cast(pa.int64())
        if kind_of.bit_width < 32:
            return None  # cannot hold 10**8
        unique = pc.unique(pc.drop_null(array))
        return _integer_finding(unique.to_numpy(zero_copy_only=False).astype(np.int64))
    if pa.types.is_floating(kind_of):
        unique = pc.unique(pc.drop_null(array)).to_numpy(zero_copy_only=False)
        unique = unique[np.isfinite(unique) & (unique >= _MIN_EXAMINED) & (unique < 10**13)]
        unique = unique[unique == np.floor(unique)]
        return _integer_finding(unique.astype(np.int64)) if unique.size else None
    if pa.types.is_list(kind_of) or pa.types.is_large_list(kind_of) or pa.types.is_fixed_size_list(
        kind_of
    ):
        chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
        for chunk in chunks:
            if found := _array_finding(chunk.flatten()):
                return found
        return None
    if pa.types.is_map(kind_of):
        chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
        for chunk in chunks:
            if found := _array_finding(chunk.keys) or _array_finding(chunk.items):
                return found
        return None
    return None


def _column_findings(name: str, array) -> Iterator[tuple[str, str]]:
    """(column path, kind) for a column, descending into struct fields."""
    kind_of = array.type
    if pa.types.is_struct(kind_of):
        chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
        for index in range(kind_of.num_fields):
            field = kind_of.field(index)
            if FORBIDDEN_COLUMNS.match(field.name):
                yield f"{name}.{field.name}", "column"
                return
            children = pa.chunked_array(
                [chunk.field(index) for chunk in chunks], type=field.type
            )
            yield from _column_findings(f"{name}.{field.name}", children)
        return
    if found := _array_finding(array):
        yield name, found


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def _leak(where: str, column: str, kind: str) -> IdentifierLeak:
    if kind == "column":
        return IdentifierLeak(f"{where}: column '{column}' would write personal identifiers")
    return IdentifierLeak(
        f"{where}: column '{column}' holds what looks like {_article(kind)} {kind}; "
        "scrub or pseudonymise it before writing"
    )


def _check_names(schema: pa.Schema, where: str) -> None:
    def walk(prefix: str, field: pa.Field) -> None:
        name = f"{prefix}{field.name}"
        if FORBIDDEN_COLUMNS.match(field.name):
            raise _leak(where, name, "column")
        if pa.types.is_struct(field.type):
            for index in range(field.type.num_fields):
                walk(f"{name}.", field.type.field(index))

    for field in schema:
        walk("", field)


def assert_no_identifiers(table: pa.Table, where: str) -> None:
    """Refuse a table with identifying columns or values.

    Column names are matched against :data:`FORBIDDEN_COLUMNS` (also inside structs). The
    distinct values of string, large string, dictionary (its dictionary values), list, map and
    struct columns are scanned as text; integer and float columns by the numeric rules in the
    module docstring.

    Parameters
    ----------
    table : pyarrow.Table
        The table about to be written.
    where : str
        Name of the output, used in the error message.

    Raises
    ------
    IdentifierLeak
        Naming the output, the column and the kind (never the offending value).
    """
    _check_names(table.schema, where)
    for name in table.column_names:
        for column, kind in _column_findings(name, table.column(name)):
            raise _leak(where, column, kind)


def scan_parquet(path: Path, where: str) -> None:
    """Refuse a Parquet file with identifying columns or values.

    Reads one column at a time (string columns as dictionaries, so a 10-million-row file with
    few distinct values costs little memory) and skips integer columns whose statistics show
    no value of at least 10**8. Same rules as :func:`assert_no_identifiers`.

    Raises
    ------
    IdentifierLeak
        Naming ``where``, the column and the kind (never the offending value).
    """
    path = Path(path)
    schema = pq.ParquetFile(path).schema_arrow
    _check_names(schema, where)
    text_columns = [
        field.name for field in schema
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
    ]
    parquet = pq.ParquetFile(path, read_dictionary=text_columns)
    for field in schema:
        if not _may_hold_identifiers(field.type):
            continue
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        if numeric and _small_numbers(parquet, field.name):
            continue
        table = parquet.read(columns=[field.name])
        if field.name in text_columns:
            table = table.unify_dictionaries()
        for name, kind in _column_findings(field.name, table.column(0)):
            raise _leak(where, name, kind)


def _may_hold_identifiers(kind_of: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind_of):
        return _may_hold_identifiers(kind_of.value_type)
    if pa.types.is_integer(kind_of):
        return kind_of.bit_width >= 32
    if pa.types.is_floating(kind_of):
        return kind_of.bit_width == 64
    if _is_text_type(kind_of):
        return True
    return pa.types.is_nested(kind_of)


def _small_numbers(parquet: pq.ParquetFile, name: str) -> bool:
    """Whether row-group statistics prove that a numeric column has no value >= 10**8."""
    metadata = parquet.metadata
    paths = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
    if name not in paths:
        return False
    leaf = paths.index(name)
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(leaf).statistics
        if statistics is None or not statistics.has_min_max or statistics.max is None:
            return False
        if not statistics.max < _MIN_EXAMINED:  # also catches NaN
            return False
    return True


# --- text and notebooks ---------------------------------------------------------------------


def _scannable(text: str) -> str:
    """Text without embedded images (data URIs, long base64 runs) or terminal colour codes."""
    text = _DATA_URI.sub(" ", text)
    text = _LONG_BASE64.sub(" ", text)
    return _ANSI.sub("", text)


def scan_text(text: str, where: str) -> None:
    """Refuse HTML, Markdown or JSON text that holds an identifier.

    Embedded images (``data:...;base64,`` URIs and other long base64 runs) and terminal colour
    codes are removed first; HTML entities are decoded too, so ``&#64;`` cannot hide an
    address. Pseudonyms (32 hex characters), hashes, dates, cohort names such as ``2020-VT``,
    counts such as ``1,463`` and package versions do not trigger (rules in the module
    docstring).

    Raises
    ------
    IdentifierLeak
        Naming ``where``, the line and the kind (never the offending value).
    """
    cleaned = _scannable(text)
    for candidate in (cleaned, html.unescape(cleaned)):
        found = min(_findings(candidate), key=lambda finding: finding[1], default=None)
        if found:
            kind, offset = found
            line = candidate.count("\n", 0, offset) + 1
            raise IdentifierLeak(
                f"{where}: line {line} holds what looks like {_article(kind)} {kind}; "
                "remove it from the output"
            )


def _as_text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _is_text_mime(mime: str) -> bool:
    return mime.startswith("text/") or mime == "image/svg+xml" or mime.endswith("json")


def _notebook_texts(notebook: dict) -> Iterator[tuple[str, str]]:
    """(place, text) of every text output of a notebook."""
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        for output in cell.get("outputs", []) or []:
            place = f"cell {number}, {output.get('output_type', 'output')} output"
            if "text" in output:
                yield place, _as_text(output["text"])
            for mime, value in (output.get("data") or {}).items():
                if _is_text_mime(mime):
                    text = value if isinstance(value, (str, list)) else json.dumps(value)
                    yield f"{place} ({mime})", _as_text(text)
            if output.get("output_type") == "error":
                yield place, f"{output.get('ename', '')}: {output.get('evalue', '')}"
                yield place, "\n".join(output.get("traceback", []))


def scan_notebook(path: Path, where: str) -> None:
    """Refuse an executed notebook whose text outputs hold an identifier.

    Looks at stream text, every ``text/*`` representation (plain, HTML, Markdown, LaTeX), SVG
    and JSON outputs, and error name, value and traceback. PNG and other binary images are
    not looked at. Cell sources are not scanned (they are code from the repository).

    Raises
    ------
    IdentifierLeak
        Naming ``where``, the cell, the output and the kind (never the offending value).
    """
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    for place, text in _notebook_texts(notebook):
        try:
            scan_text(text, where=f"{where}: {place}")
        except IdentifierLeak as leak:
            message = str(leak)
            # the line number inside one output is of little use; keep place and kind
            raise IdentifierLeak(re.sub(r": line \d+ holds", " holds", message)) from None


def _redact_value(value, *, keep_colours: bool = True):
    """Redact a notebook text value (string or list of strings) keeping its shape."""
    if isinstance(value, list):
        return [_redact_value(item, keep_colours=keep_colours) for item in value]
    if not isinstance(value, str):
        return value
    redacted = redact(value)
    if find_identifiers(_scannable(redacted)) or find_identifiers(
        html.unescape(_scannable(redacted))
    ):
        # colour codes or entities split a value: give up the colours to be safe
        redacted = redact(html.unescape(_ANSI.sub("", value)))
    return redacted


def _redact_json(value):
    if isinstance(value, str):
        return _redact_value(value)
    if isinstance(value, list):
        return [_redact_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_json(item) for key, item in value.items()}
    return value


def redact_notebook(path: Path) -> None:
    """Rewrite a notebook in place with :func:`redact` applied to every text output.

    Stream text, ``text/*`` and SVG representations, JSON outputs (their strings) and error
    values and tracebacks are redacted; PNG/JPEG images, cell sources and metadata are left
    as they are. Used on the executed notebook of a failed stage run before it is kept.
    """
    path = Path(path)
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            if "text" in output:
                output["text"] = _redact_value(output["text"])
            data = output.get("data") or {}
            for mime in list(data):
                if _is_text_mime(mime):
                    value = data[mime]
                    data[mime] = (
                        _redact_value(value) if isinstance(value, (str, list))
                        else _redact_json(value)
                    )
            if output.get("output_type") == "error":
                output["evalue"] = _redact_value(output.get("evalue", ""))
                output["traceback"] = _redact_value(output.get("traceback", []))
    text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
