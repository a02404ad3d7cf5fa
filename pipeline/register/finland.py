"""Finnish register data (FOLK-style annual basic data, HETU-keyed) as the canonical extracts.

A Finnish research extract in the shape of Statistics Finland's FOLK basic data holds one row
per person and statistical year: the main type of activity at the end of the year, the year's
wage income and the person's characteristics. :func:`build_extracts` reduces it, in DuckDB, to
the two files the register stage (:mod:`pipeline.register.extract`) reads for every country:
``persons`` (one row per person) and ``monthly`` (here one row per person and year, dated
December), and returns the study-configuration mapping that points at them
(:attr:`FinnishExtracts.person_columns`, :attr:`~FinnishExtracts.monthly_columns`,
:attr:`~FinnishExtracts.codes`, or :meth:`FinnishExtracts.register_settings` for the whole
``data.register`` section). It follows the Danish adapter (:mod:`pipeline.register.denmark`):
same canonical columns (the personal id column is ``hetu``), same quarantine table, same way of
reading files.

The files hold raw HETUs, as a Swedish LISA extract holds personnummer: the register stage
normalises and pseudonymises them itself. Write them beside the other raw data
(``data_raw/<study>/register/``), never under ``data_processed/``. No HETU is printed, logged,
put in an error message or in the quarantine table: rows are named by their number.

Input
-----
A pandas DataFrame, a pyarrow Table or a file (Parquet, CSV, SAS ``.sas7bdat``, Stata ``.dta``,
read as :func:`pipeline.register.formats.open_extract` reads register files: CSV as text,
whatever the delimiter, UTF-8 or Latin-1). One row per person and year. Column names are
matched case-insensitively; the defaults (:class:`FolkColumns`) are

* ``hetu`` or ``shnro``: the personal identity code (HETU);
* ``vuosi``: the statistical year;
* ``ptoim1``: main type of activity in the last week of the year (codes below);
* ``palk``: wage income of the year, EUR;
* ``sp`` or ``sukup``: sex, 1 man, 2 woman;
* ``syntyv`` (optional): birth year, otherwise taken from the HETU;
* ``maa`` (optional): country of birth, Statistics Finland's three-digit country code
  (ISO 3166-1 numeric, Finland ``246``);
* ``syntyp2`` (optional): origin, FOLK's four classes (below); at least one of ``maa`` and
  ``syntyp2`` is needed;
* ``kunta``: municipality of residence at the end of the year, three digits (``091``
  Helsinki);
* ``ututku_aste`` (optional): level of the highest qualification, FOLK's level 1 of the
  national classification of education, which is ISCED 2011's level: 3-8, 9 unknown;
* ``iala`` or ``ututku_ala`` (optional): field of the highest qualification, ISCED-F 2013
  (two-digit broad field ``00``-``10``, ``99`` unknown; three or four digits for the narrow and
  detailed fields);
* ``muuttovuosi`` (optional): year of the latest immigration.

Other columns are left out (listed in the accounting).

Rules
-----
HETU
    Checked with python-stdnum's ``fi.hetu`` through :func:`pipeline.identity.check_identities`
    (``DDMMYYCZZZQ``; the century signs ``+`` for the 1800s, ``-`` and, since 2023,
    ``Y X W V U`` for the 1900s, ``A`` and ``B C D E F`` for the 2000s; the check character
    is ``0123456789ABCDEFHJKLMNPRSTUVWXY[DDMMYYZZZ mod 31]``; upper case; spaces allowed). A
    number written with a 2023 sign is a different number from the same digits with ``-`` or
    ``A``, and is kept as written. A row whose number is missing, malformed, has an impossible
    or future date, or a wrong check character is not dropped: it goes to the quarantine table
    with its row number and reason (``hetu_missing``, ``hetu_malformed``, ``hetu_bad_date``,
    ``hetu_bad_checksum``) and is counted. Temporary and test numbers (individual number
    900-999) are quarantined as ``hetu_test_number``: they are nobody the roster can name. If
    no identity value at all is a HETU (FIONA's ``shnro`` and ``hid_e`` are protected keys, not
    HETUs), the run stops: such an extract cannot be linked to the roster.
Person-years
    The same (normalised) HETU and year twice: the later row is quarantined
    (``duplicate_year``); FOLK has one row per person and year. A row whose ``palk`` is given
    but is not a number is quarantined (``bad_earnings``).
Years
    ``years=(first, last)`` are the years the extract states it covers; by default the first
    and last ``vuosi`` of its rows. A ``vuosi`` that is not a year, or a row outside the stated
    years, stops the run, naming the rows. A year inside the range without any row stops the
    run too: a year missing from the file cannot be told from a year nobody was employed in;
    ask for the complete extract, or cut the range (remove the rows of the years left out and
    pass ``years=`` for the years kept). A person without a row in some year (not yet
    immigrated, emigrated, died, or not resident at the end of that year: FOLK covers the
    population permanently resident on 31 December) simply has no row for it; such persons are
    counted (``with_year_gaps`` when a year between their first and last is missing).
Annual status as one December row per year
    FOLK's main type of activity describes the last week of the year (Statistics Finland,
    "Main type of activity", stat.fi/meta/kas/tyovoima_ulkopu_en.html), so each person-year
    becomes exactly one canonical "monthly" row dated December: ``month = YYYY12`` (integer).
    No other month of the year gets a row: the year is the study's period (the register stage
    reads a yearly study's December rows as its years).
Main type of activity (``ptoim1``)
    ``employed`` is 1 when ``ptoim1`` is 11, else 0. ``jobseeker_category`` is the ``ptoim1``
    code itself, so ``codes.registered_unemployed = [12]`` marks the unemployed. The codes
    (:data:`PTOIM1_CODES`):

    ====  ==================================================================
    code  main type of activity in the last week of the year
    ====  ==================================================================
    11    employed
    12    unemployed
    21    aged 0-14
    22    student, pupil
    24    pensioner
    25    conscript, person in non-military service
    29    other outside the labour force
    99    unknown (kept: ``employed`` 0, counted)
    ====  ==================================================================

    FOLK's own variable description (FOLK perustieto 1987-2024, Tilastokeskus) reads 29 as
    "on unemployment pension" and 99 as "other outside the labour force"; neither is employed
    nor unemployed either way, which is all the adapter decides, and the accounting counts
    person-years by code. Any other value, or a missing one, stops the run naming the codes
    and rows: the file was probably misread (FOLK publishes the main activity a year after the
    population data, so the latest year of a fresh extract may lack it: cut the range).
Earnings
    ``earnings`` is ``palk``, the wage income of the **whole year** in EUR: it is not divided by
    12 and is not a monthly wage. A missing ``palk`` stays missing (unknown), not 0. Negative
    amounts (corrections) are kept.
Persons: the latest year with a value
    One row per HETU kept. Each characteristic (sex, birth year, country of birth, origin,
    municipality, immigration year, education level and field) is taken from the person's
    **latest year in the extract that holds a valid value for it**: the latest year, unless
    that year lacks the value (FOLK publishes education a year after the population data). An
    adapter that does not know the cohorts cannot take "the year before start". So the
    municipality is where the person lived at the end of their latest year, possibly after the
    programme. Besides the canonical columns the file holds ``birth_country``, ``origin``,
    ``education_isced``, ``education_field_code`` and ``latest_year`` (the person's last year
    in the extract).
Sex, birth year, municipality, immigration year
    Sex ``1`` man, ``2`` woman (``codes.female = 2``); other values are invalid (counted).
    Birth year from ``syntyv``, else from the HETU (its date and century sign; counted by
    source). ``kunta`` is written as text with three digits (``91`` becomes ``091``); the
    register stage pads municipality codes to four digits, so a study's
    ``design.municipalities`` lists Helsinki as ``"0091"``. ``immigration_year`` is
    ``muuttovuosi``, the latest immigration; missing for people who never immigrated.
Region of birth
    ``region_of_birth`` is the three-digit country of birth (``maa``, zero-padded: ``4`` is
    ``004``), so ``codes.native_born_regions = ["246"]`` makes ``foreign_born`` mean born
    abroad. Without a country, it comes from ``syntyp2`` (FOLK's origin: 11 Finnish background
    born in Finland, 12 Finnish background born abroad, 21 foreign background born in Finland,
    22 foreign background born abroad): ``246`` for 11 and 21, ``"abroad"``
    (:data:`BORN_ABROAD`) for 12 and 22. Otherwise it is missing, which the register stage
    counts as foreign-born. ``syntyp2`` is **not** a country code: a ``syntyp2`` column none of
    whose values is an origin class stops the run (pass ``FolkColumns(birth_country=
    "syntyp2", origin=None)`` if it does hold country codes).
Education
    ``ututku_aste`` 3-8 is the ISCED 2011 level (FOLK: level 1 of the national classification
    of education 2016 equals ISCED 2011's), written as ``education_isced`` and mapped to the
    pipeline's ``Sun2000niva_old``-like ``education_level`` as the Danish adapter maps ISCED
    (:data:`pipeline.register.denmark.ISCED_LEVEL`: 3 and 4 become 4, 5 is 5, 6 and 7 are 6,
    8 is 7). 9 (unknown) and other values become missing (counted). A missing
    ``ututku_aste`` means no qualification after basic education is registered; it is left
    missing, **not** read as basic education: the register of completed education covers
    qualifications taken in Finland but under-covers those taken abroad (FOLK's variable
    description), which matters for migrants. The field (ISCED-F 2013, two-digit broad field)
    is written as ``education_field_code`` and, as ``education_field``, the SUN 2000 broad
    group the register stage and the report read from its first digit
    (:data:`EDUCATION_FIELD_BROAD`: 00 general 0, 01 education 1, 02 arts and humanities 2,
    03 and 04 social sciences, business and law 3, 05 and 06 sciences and ICT 4, 07
    engineering 5, 08 agriculture 6, 09 health and welfare 7, 10 services 8, 99 unknown 9). A
    one-digit code lost its leading zero (``4`` is ``04``). Deliver field codes as text: a
    four-digit code stored as a number (``0413`` as ``413``) cannot be read and is counted as
    unmapped.

What the adapter cannot know
----------------------------
Anything between two year ends: a job held from February to November is invisible in the
December status (its wages are in ``palk``). Since 2019 FOLK infers employees from the Incomes
Register (a series break); a person on earnings-related unemployment benefit is coded 12 even
when also working part time (unemployment is inferred before employment), and a parent on
family leave is 11 only when paid by the employer (FOLK's variable description). Who lived in
Finland between year ends.

Accounting
----------
:attr:`FinnishExtracts.accounting` holds ``folk`` (``rows_read``, ``kept``, ``quarantined`` by
reason, with ``rows_read = kept + sum(quarantined)``; the columns used, not delivered and not
used; invalid values by column, counted in kept rows), ``years`` (first, last, number),
``person_years_by_year``, ``person_years_by_ptoim1`` (every code of :data:`PTOIM1_CODES`),
``persons`` (rows written, persons with year gaps, persons in every year, missing values by
column, the source of the birth year and of the region of birth), ``monthly`` (rows written,
employed and unemployed person-years, missing earnings) and the ``rules`` applied. Every
quarantined row is in :attr:`FinnishExtracts.quarantine` (``input`` ``"folk"``, ``row``,
``reason``, ``detail``; rows are data rows counted from 1, a CSV file's header not counted).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from pipeline.identity import check_identities
from pipeline.register import denmark
from pipeline.register.canonical import CanonicalExtracts
from pipeline.register.denmark import (
    _SHOWN,
    ISCED_LEVEL,
    _find,
    _literal,
    _load,
    _number_sql,
    _plausible_year,
    _quarantine,
    _reasons,
    _rows_text,
    _session,
    _text_sql,
    _types,
    _whole_sql,
    _write,
)
from pipeline.register.formats import duckdb_error_text

__all__ = [
    "BORN_ABROAD",
    "EDUCATION_FIELD_BROAD",
    "FINLAND",
    "MONTHLY_COLUMNS",
    "PERSON_COLUMNS",
    "PTOIM1_CODES",
    "REGISTER_CODES",
    "FinnishExtracts",
    "FolkColumns",
    "build_extracts",
]

Source = pd.DataFrame | pa.Table | str | Path

FINLAND = "246"  # Finland in Statistics Finland's (ISO 3166-1 numeric) country codes
BORN_ABROAD = "abroad"  # region of birth when only the origin says "born abroad"
EMPLOYED, UNEMPLOYED = 11, 12
# ptoim1 code -> main type of activity in the last week of the year (see the module docstring).
PTOIM1_CODES = {
    11: "employed",
    12: "unemployed",
    21: "aged 0-14",
    22: "student, pupil",
    24: "pensioner",
    25: "conscript, non-military service",
    29: "other outside the labour force",
    99: "unknown",
}
_ORIGIN_IN_FINLAND = (11, 21)  # syntyp2: born in Finland (Finnish or foreign background)
_ORIGIN_ABROAD = (12, 22)  # syntyp2: born abroad
# ISCED-F 2013 broad field (two digits) -> SUN 2000 broad group (one digit), as the register
# stage and the report read the first digit of education_field.
EDUCATION_FIELD_BROAD = {"00": "0", "01": "1", "02": "2", "03": "3", "04": "3", "05": "4",
                         "06": "4", "07": "5", "08": "6", "09": "7", "10": "8", "99": "9"}
_EDUCATION_UNKNOWN = 9  # ututku_aste: level unknown

PERSONS_FILE = "persons.parquet"
MONTHLY_FILE = "monthly.parquet"
# The canonical files' columns, keyed by the study configuration's canonical names.
PERSON_COLUMNS = {**denmark.PERSON_COLUMNS, "personal_id": "hetu"}
MONTHLY_COLUMNS = {**denmark.MONTHLY_COLUMNS, "personal_id": "hetu"}
REGISTER_CODES = {"female": 2, "native_born_regions": [FINLAND],
                  "registered_unemployed": [UNEMPLOYED]}

_INPUT = "folk"
_DETAILS = {
    "hetu_missing": "no HETU",
    "hetu_malformed": "not a HETU (DDMMYYCZZZQ)",
    "hetu_bad_date": "DDMMYY with the century sign is no date, or a date in the future",
    "hetu_bad_checksum": "the check character does not match",
    "hetu_test_number": "a temporary or test number (individual number 900-999)",
    "duplicate_year": "an earlier row has the same person and year",
    "bad_earnings": "palk is given but is not a number",
}


# --- public types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FolkColumns:
    """Column names of the FOLK-style file (matched case-insensitively).

    A name may be a tuple of alternatives: the one the file has is used (more than one is an
    error). An optional column (``None`` allowed) that the file lacks is simply not used;
    ``None`` says not to look for it. At least one of ``birth_country`` and ``origin`` must be
    found.
    """

    personal_id: str | tuple[str, ...] = ("hetu", "shnro")
    year: str = "vuosi"
    main_activity: str = "ptoim1"
    earnings: str = "palk"  # wage income of the year, EUR
    sex: str | tuple[str, ...] = ("sp", "sukup")
    municipality: str = "kunta"
    birth_year: str | tuple[str, ...] | None = "syntyv"
    birth_country: str | tuple[str, ...] | None = "maa"  # three-digit country code
    origin: str | tuple[str, ...] | None = "syntyp2"  # FOLK origin 11, 12, 21, 22
    education_level: str | tuple[str, ...] | None = "ututku_aste"  # ISCED 2011 level 3-8
    education_field: str | tuple[str, ...] | None = ("iala", "ututku_ala")  # ISCED-F 2013
    immigration_year: str | tuple[str, ...] | None = "muuttovuosi"


def _copy_codes() -> dict:
    return {key: list(value) if isinstance(value, list) else value
            for key, value in REGISTER_CODES.items()}


class FinnishExtracts(CanonicalExtracts):
    """The canonical files written by :func:`build_extracts` (they hold raw HETUs); see
    :class:`~pipeline.register.canonical.CanonicalExtracts`."""


# --- public function -------------------------------------------------------------------------


def build_extracts(
    folk: Source,
    out_dir: str | Path,
    *,
    years: tuple[int, int] | None = None,
    memory_limit: str = "4GB",
    temp_directory: str | Path | None = None,
    columns: FolkColumns = FolkColumns(),
) -> FinnishExtracts:
    """Write the canonical ``persons`` and ``monthly`` Parquet files from FOLK-style data.

    Parameters
    ----------
    folk : DataFrame, pyarrow Table or path
        One row per person and year (see the module docstring).
    out_dir : path
        Folder for ``persons.parquet`` and ``monthly.parquet`` (created if missing). They hold
        raw HETUs: keep them with the raw data.
    years : (int, int), optional
        First and last year the extract states it covers; every year between must have rows
        and no row may lie outside. By default the first and last ``vuosi`` of the rows.
    memory_limit : str
        DuckDB's memory limit; beyond it DuckDB spills to a private temporary folder.
    temp_directory : path, optional
        Where that folder is made (removed afterwards); the system's default when None.
    columns : FolkColumns
        Column names of the file.

    Returns
    -------
    FinnishExtracts

    Raises
    ------
    ValueError
        For input that cannot be reduced honestly: a missing column, a ``vuosi`` that is not a
        year or lies outside ``years``, a year of the range without rows, a ``ptoim1`` that is
        no main-activity code, a ``syntyp2`` column holding no origin class, identity values
        none of which is a HETU. The message names the column, years, codes or row numbers
        (data rows counted from 1), never a HETU.
    """
    stated = _stated_years(years)
    what = f"FOLK data ({Path(folk).name})" if isinstance(folk, str | Path) else "FOLK data"
    out_dir = Path(out_dir)
    with _finnish_session(memory_limit, temp_directory) as (con, scratch):
        _load(con, folk, "folk_in", scratch)
        layout = _layout(con, columns, what)
        _read_rows(con, layout)
        first, last = _check_years(con, layout, stated, what)
        _check_main_activity(con, layout, what)
        _check_origin(con, layout, what)
        _check_hetus(con, layout, what)
        _classify(con)
        folk_accounting = _folk_accounting(con, layout)
        _build_persons(con)
        out_dir.mkdir(parents=True, exist_ok=True)
        persons_path, monthly_path = out_dir / PERSONS_FILE, out_dir / MONTHLY_FILE
        n_persons = _write(con, _PERSONS_SQL, persons_path)
        _write(con, _MONTHLY_SQL, monthly_path)
        accounting = {
            "folk": folk_accounting,
            "years": {"first": first, "last": last, "n_years": last - first + 1},
            "person_years_by_year": _person_years_by_year(con, first, last),
            "person_years_by_ptoim1": _person_years_by_code(con),
            "persons": _persons_accounting(con, n_persons, last - first + 1),
            "monthly": _monthly_accounting(con, monthly_path),
            "rules": _rules(),
        }
        quarantine = _quarantine(con)
    return FinnishExtracts(persons=persons_path, monthly=monthly_path, accounting=accounting,
                           quarantine=quarantine, person_columns=dict(PERSON_COLUMNS),
                           monthly_columns=dict(MONTHLY_COLUMNS), codes=_copy_codes())


# --- session and layout ----------------------------------------------------------------------


@contextmanager
def _finnish_session(
    memory_limit: str, temp_directory: str | Path | None
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """The Danish adapter's private DuckDB session, its errors naming Finnish data."""
    with _session(memory_limit, temp_directory) as (con, scratch):
        try:
            yield con, scratch
        except duckdb.Error as exc:
            raise ValueError(
                f"Finnish register data could not be reduced: {duckdb_error_text(exc)}"
            ) from None


def _stated_years(years: tuple[int, int] | None) -> tuple[int, int] | None:
    if years is None:
        return None
    try:
        first, last = (int(year) for year in years)
    except (TypeError, ValueError):
        raise ValueError(f"years must be (first, last) as integers, got {years!r}") from None
    if first > last:
        raise ValueError(f"years: the first year ({first}) is after the last ({last})")
    return first, last


@dataclass(frozen=True)
class _Layout:
    columns: dict[str, str | None]  # part -> the input's column (None: not delivered)
    sql: dict[str, str]  # part -> SQL over folk_in ("NULL" when not delivered)
    unused: list[str]

    def name(self, part: str) -> str:
        return self.columns[part] or part


_REQUIRED = ("personal_id", "year", "main_activity", "earnings", "sex", "municipality")


def _pick(types: Mapping[str, str], names: str | tuple[str, ...] | None, part: str,
          what: str, required: bool) -> str | None:
    """The input's column for one part: one of the alternative names, in any case."""
    if names is None:
        if required:
            raise ValueError(f"FolkColumns.{part} cannot be None: the column is required")
        return None
    alternatives = (names,) if isinstance(names, str) else tuple(names)
    found = [column for name in alternatives
             if (column := _find(types, name, what, required=False)) is not None]
    if len(found) > 1:
        raise ValueError(f"{what}: columns {found} could all be {part}; name the one to use "
                         f"with FolkColumns({part}=...)")
    if not found and required:
        raise ValueError(f"{what}: no column {' or '.join(repr(n) for n in alternatives)} "
                         f"({part}); the input has {', '.join(sorted(types))}")
    return found[0] if found else None


def _layout(con: duckdb.DuckDBPyConnection, columns: FolkColumns, what: str) -> _Layout:
    types = _types(con, "folk_in")
    parts = ("personal_id", "year", "main_activity", "earnings", "sex", "municipality",
             "birth_year", "birth_country", "origin", "education_level", "education_field",
             "immigration_year")
    found = {part: _pick(types, getattr(columns, part), part, what, part in _REQUIRED)
             for part in parts}
    if found["birth_country"] is None and found["origin"] is None:
        raise ValueError(
            f"{what}: neither a country of birth ({columns.birth_country!r}) nor an origin "
            f"column ({columns.origin!r}); the region of birth needs one of them "
            "(FolkColumns(birth_country=...) or FolkColumns(origin=...))"
        )
    readers = {
        "personal_id": lambda c, t: _text_sql(c, t),
        "year": _whole_sql,
        "main_activity": _whole_sql,
        "earnings": _number_sql,
        "sex": lambda c, t: _text_sql(c, t),
        "municipality": lambda c, t: _text_sql(c, t),
        "birth_year": lambda c, t: _plausible_year(_whole_sql(c, t)),
        "birth_country": lambda c, t: _text_sql(c, t),
        "origin": _whole_sql,
        "education_level": _whole_sql,
        "education_field": lambda c, t: _text_sql(c, t),
        "immigration_year": lambda c, t: _plausible_year(_whole_sql(c, t)),
    }
    text = ("personal_id", "sex", "municipality", "birth_country", "education_field")
    sql = {part: readers[part](column, types[column]) if column
           else f"CAST(NULL AS {'VARCHAR' if part in text else 'INTEGER'})"
           for part, column in found.items()}
    # The values as given (text), to tell a missing value from an unreadable one.
    for part in ("main_activity", "earnings", "birth_year", "origin", "education_level",
                 "immigration_year"):
        column = found[part]
        sql[f"{part}_given"] = (_text_sql(column, types[column]) if column
                                else "CAST(NULL AS VARCHAR)")
    used = {column for column in found.values() if column}
    return _Layout(found, sql, sorted(set(types) - used))


# --- rows and checks -------------------------------------------------------------------------


def _read_rows(con: duckdb.DuckDBPyConnection, layout: _Layout) -> None:
    """Create ``folk_rows``: every input row with its values read."""
    s = layout.sql
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE folk_rows AS
        SELECT rowid + 1 AS row_no, {s['personal_id']} AS raw_id,
               {s['year']} AS year, {s['main_activity']} AS ptoim1,
               {s['main_activity_given']} AS ptoim1_given,
               {s['earnings']} AS palk, {s['earnings_given']} AS palk_given,
               {s['sex']} AS sex_raw, {s['municipality']} AS municipality_raw,
               {s['birth_year']} AS birth_year_column,
               {s['birth_year_given']} AS birth_year_given,
               {s['birth_country']} AS country_raw,
               {s['origin']} AS origin_raw, {s['origin_given']} AS origin_given,
               {s['education_level']} AS education_raw,
               {s['education_level_given']} AS education_given,
               {s['education_field']} AS field_raw,
               {s['immigration_year']} AS immigration_year_column,
               {s['immigration_year_given']} AS immigration_year_given
        FROM folk_in
        """
    )


def _rows_where(con: duckdb.DuckDBPyConnection, condition: str) -> tuple[list[int], int]:
    found = con.execute(
        f"SELECT row_no, count(*) OVER () FROM folk_rows WHERE {condition} "
        f"ORDER BY row_no LIMIT {_SHOWN}"
    ).fetchall()
    return [row for row, _ in found], (found[0][1] if found else 0)


def _check_years(con: duckdb.DuckDBPyConnection, layout: _Layout,
                 stated: tuple[int, int] | None, what: str) -> tuple[int, int]:
    """The extract's first and last year; refuse unreadable years, rows outside the stated
    years and years of the range without rows."""
    column = layout.name("year")
    this_year = datetime.date.today().year
    rows, total = _rows_where(con, f"year IS NULL OR year NOT BETWEEN 1800 AND {this_year}")
    if total:
        raise ValueError(
            f"{what}: column {column!r}: not a year in {_rows_text(rows, total)} (data rows "
            "counted from 1). Check the export of the year column"
        )
    low, high = con.execute("SELECT min(year), max(year) FROM folk_rows").fetchall()[0]
    if stated is None:
        if low is None:
            raise ValueError(f"{what}: no rows, and no stated years (years=(first, last))")
        first, last = int(low), int(high)
    else:
        first, last = stated
        rows, total = _rows_where(con, f"year NOT BETWEEN {first} AND {last}")
        if total:
            outside = sorted(int(y) for (y,) in con.execute(
                f"SELECT DISTINCT year FROM folk_rows WHERE year NOT BETWEEN {first} AND {last}"
            ).fetchall())
            raise ValueError(
                f"{what}: {_rows_text(rows, total)} (data rows counted from 1) have a "
                f"{column!r} outside the stated years {first} to {last} "
                f"({', '.join(map(str, outside[:_SHOWN]))}{' …' if len(outside) > _SHOWN else ''}"
                "); state the years the extract really covers (years=...) or remove the rows"
            )
    present = {int(y) for (y,) in con.execute("SELECT DISTINCT year FROM folk_rows").fetchall()}
    missing = [year for year in range(first, last + 1) if year not in present]
    if missing:
        shown = ", ".join(map(str, missing[:_SHOWN])) + (" …" if len(missing) > _SHOWN else "")
        raise ValueError(
            f"{what}: no rows for {len(missing)} year(s) of {first} to {last}: {shown}. A year "
            "missing from the file cannot be told from a year in which nobody was employed: "
            "ask for the complete extract, or cut the range to years that all have rows: "
            "remove the rows of the years left out and pass years=(first, last) for the "
            "years kept"
        )
    return first, last


def _check_main_activity(con: duckdb.DuckDBPyConnection, layout: _Layout, what: str) -> None:
    """Refuse a missing ptoim1 or one that is no main-activity code, naming codes and rows."""
    codes = ", ".join(str(code) for code in PTOIM1_CODES)
    bad = f"ptoim1 IS NULL OR ptoim1 NOT IN ({codes})"
    rows, total = _rows_where(con, bad)
    if not total:
        return
    # Only short numbers are shown: a misread column could hold anything, even a HETU.
    found = con.execute(
        f"""
        SELECT CASE WHEN ptoim1_given IS NULL THEN 'missing'
                    WHEN regexp_full_match(ptoim1_given, '-?[0-9]{{1,4}}(\\.0+)?')
                      THEN CAST(ptoim1 AS VARCHAR)
                    ELSE 'not a number' END AS value,
               min(row_no) AS first_row, count(*) AS n
        FROM folk_rows WHERE {bad} GROUP BY value ORDER BY first_row LIMIT {_SHOWN}
        """
    ).fetchall()
    values = "; ".join(f"{value} ({n} row{'s' if n > 1 else ''}, first row {row})"
                       for value, row, n in found)
    missing_years = [int(y) for (y,) in con.execute(
        "SELECT DISTINCT year FROM folk_rows WHERE ptoim1_given IS NULL ORDER BY year"
    ).fetchall()]
    hint = (f" Rows without it are in year(s) {', '.join(map(str, missing_years[:_SHOWN]))}: "
            "FOLK publishes the main activity a year after the population data; if the "
            "latest year lacks it, cut the range: remove that year's rows and pass "
            "years=(first, last) for the years kept."
            if missing_years else "")
    raise ValueError(
        f"{what}: column {layout.name('main_activity')!r} holds values that are not "
        f"main-activity codes ({codes}) in {_rows_text(rows, total)} (data rows counted from "
        f"1): {values}. Check that the file was read with the right delimiter and that the "
        f"column is the main type of activity.{hint}"
    )


def _check_origin(con: duckdb.DuckDBPyConnection, layout: _Layout, what: str) -> None:
    """Refuse an origin column none of whose values is one of FOLK's origin classes."""
    if layout.columns["origin"] is None:
        return
    classes = ", ".join(str(c) for c in sorted((*_ORIGIN_IN_FINLAND, *_ORIGIN_ABROAD)))
    given, valid = con.execute(
        f"SELECT count(origin_given), count(*) FILTER (WHERE origin_raw IN ({classes})) "
        "FROM folk_rows"
    ).fetchall()[0]
    if given and not valid:
        column = layout.name("origin")
        raise ValueError(
            f"{what}: column {column!r} holds no origin class ({classes}: FOLK's syntyp2, "
            "Finnish or foreign background, born in Finland or abroad) in any of its "
            f"{given} values. If it holds country codes, pass FolkColumns(birth_country="
            f"{column!r}, origin=None)"
        )


def _check_hetus(con: duckdb.DuckDBPyConnection, layout: _Layout, what: str) -> None:
    """Create ``hetu_check(raw_id, hetu, problem)`` for every identity text of the input, with
    :func:`pipeline.identity.check_identities` (stdnum's ``fi.hetu``); ``hetu`` is the
    normalised number of a valid one (not of a test number)."""
    raw = [row[0] for row in con.execute(
        "SELECT DISTINCT raw_id FROM folk_rows WHERE raw_id IS NOT NULL ORDER BY raw_id"
    ).fetchall()]
    checks = check_identities(raw, "fi")
    con.register("hetu_list", pa.table({
        "raw_id": pa.array(raw, pa.string()),
        "hetu": pa.array([c.normalised if c.problem is None else None for c in checks],
                         pa.string()),
        "problem": pa.array([c.problem for c in checks], pa.string()),
    }))
    con.execute("CREATE OR REPLACE TEMP TABLE hetu_check AS SELECT * FROM hetu_list")
    con.unregister("hetu_list")
    if raw and all(check.problem == "malformed" for check in checks):
        raise ValueError(
            f"{what}: none of the {len(raw)} different values in column "
            f"{layout.name('personal_id')!r} is a HETU (DDMMYYCZZZQ). An extract keyed by "
            "another identifier (FIONA's shnro or hid_e are protected keys) cannot be linked "
            "to the roster's HETUs; ask for the extract keyed by HETU, or check the column"
        )


def _classify(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``folk_classified`` (every row with its quarantine reason, NULL when kept) and
    ``folk_kept``; add the quarantined rows to the quarantine table."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE folk_classified AS
        WITH checked AS (
            SELECT r.*, c.hetu,
                   CASE WHEN r.raw_id IS NULL THEN 'hetu_missing'
                        WHEN c.problem IS NOT NULL THEN 'hetu_' || c.problem
                        WHEN r.palk IS NULL AND r.palk_given IS NOT NULL THEN 'bad_earnings'
                   END AS row_reason
            FROM folk_rows r LEFT JOIN hetu_check c USING (raw_id)
        )
        SELECT *, coalesce(row_reason, CASE WHEN row_number() OVER (
                      PARTITION BY hetu, year, row_reason IS NULL ORDER BY row_no) > 1
                    THEN 'duplicate_year' END) AS reason
        FROM checked
        """
    )
    details = " ".join(f"WHEN {_literal(key)} THEN {_literal(text)}"
                       for key, text in _DETAILS.items())
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS quarantine "
        "(input VARCHAR, row BIGINT, reason VARCHAR, detail VARCHAR)"
    )
    con.execute(
        f"INSERT INTO quarantine SELECT {_literal(_INPUT)}, row_no, reason, "
        f"CASE reason {details} END FROM folk_classified WHERE reason IS NOT NULL"
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE folk_kept AS
        SELECT *,
               CASE WHEN sex_raw IN ('1', '2') THEN sex_raw END AS sex,
               CASE WHEN regexp_full_match(municipality_raw, '[0-9]{1,3}')
                    THEN lpad(municipality_raw, 3, '0') END AS municipality,
               CASE WHEN regexp_full_match(country_raw, '[0-9]{1,3}')
                    THEN lpad(country_raw, 3, '0') END AS birth_country,
               CASE WHEN origin_raw IN (11, 12, 21, 22) THEN origin_raw END AS origin,
               CASE WHEN education_raw BETWEEN 3 AND 8 THEN education_raw END AS isced,
               CASE WHEN regexp_full_match(field_raw, '[0-9]{1,4}')
                    THEN CASE WHEN length(field_raw) = 1 THEN '0' || field_raw
                              ELSE field_raw END END AS field_code
        FROM folk_classified WHERE reason IS NULL
        """
    )
    con.execute("DROP TABLE folk_rows")


# --- persons ---------------------------------------------------------------------------------


def _hetu_year_sql(hetu: str) -> str:
    """SQL: the birth year in a normalised HETU, its century from the century sign."""
    sign = f"substr({hetu}, 7, 1)"
    century = (f"CASE WHEN {sign} = '+' THEN 1800 "
               f"WHEN {sign} IN ('-', 'Y', 'X', 'W', 'V', 'U') THEN 1900 ELSE 2000 END")
    return f"({century} + CAST(substr({hetu}, 5, 2) AS INTEGER))"


def _latest(value: str) -> str:
    """SQL aggregate: the value of the person's latest year that has one."""
    return f"arg_max({value}, year) FILTER (WHERE {value} IS NOT NULL)"


def _build_persons(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``persons``: one row per kept HETU, each value from its latest year."""
    levels = " ".join(f"WHEN {isced} THEN {level}" for isced, level in ISCED_LEVEL.items())
    fields = " ".join(f"WHEN {_literal(code)} THEN {_literal(group)}"
                      for code, group in EDUCATION_FIELD_BROAD.items())
    in_finland = ", ".join(map(str, _ORIGIN_IN_FINLAND))
    abroad = ", ".join(map(str, _ORIGIN_ABROAD))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE persons AS
        WITH latest AS (
            SELECT hetu, max(year) AS latest_year, min(year) AS first_year,
                   count(*) AS n_years,
                   {_latest('birth_year_column')} AS birth_year_column,
                   {_latest('sex')} AS sex,
                   {_latest('birth_country')} AS birth_country,
                   {_latest('origin')} AS origin,
                   {_latest('municipality')} AS municipality,
                   {_latest('immigration_year_column')} AS immigration_year,
                   {_latest('isced')} AS isced,
                   {_latest(f"CASE substr(field_code, 1, 2) {fields} END")} AS education_field,
                   arg_max(field_code, year) FILTER (
                       WHERE (CASE substr(field_code, 1, 2) {fields} END) IS NOT NULL)
                     AS education_field_code
            FROM folk_kept GROUP BY hetu
        )
        SELECT hetu,
               CAST(coalesce(birth_year_column, {_hetu_year_sql('hetu')}) AS INTEGER)
                 AS birth_year,
               CASE WHEN birth_year_column IS NOT NULL THEN 'syntyv' ELSE 'hetu' END
                 AS birth_year_source,
               sex,
               coalesce(birth_country,
                        CASE WHEN origin IN ({in_finland}) THEN '{FINLAND}'
                             WHEN origin IN ({abroad}) THEN '{BORN_ABROAD}' END)
                 AS region_of_birth,
               CASE WHEN birth_country IS NOT NULL THEN 'birth_country'
                    WHEN origin IS NOT NULL THEN 'origin' ELSE 'missing' END
                 AS region_of_birth_source,
               CAST(immigration_year AS INTEGER) AS immigration_year,
               CAST(CASE isced {levels} END AS INTEGER) AS education_level,
               education_field, municipality,
               birth_country, CAST(origin AS INTEGER) AS origin,
               CAST(isced AS INTEGER) AS education_isced, education_field_code,
               CAST(latest_year AS INTEGER) AS latest_year,
               CAST(n_years AS INTEGER) AS n_years, CAST(first_year AS INTEGER) AS first_year
        FROM latest
        """
    )


# Both files are sorted, so the same input gives the same bytes (the pipeline's manifests
# compare checksums of raw inputs).
_PERSONS_SQL = """
    SELECT hetu, birth_year, sex, region_of_birth, immigration_year, education_level,
           education_field, municipality, birth_country, origin, education_isced,
           education_field_code, latest_year
    FROM persons ORDER BY hetu
"""
_MONTHLY_SQL = f"""
    SELECT hetu, CAST(year * 100 + 12 AS INTEGER) AS month,
           CAST(ptoim1 = {EMPLOYED} AS INTEGER) AS employed,
           CAST(palk AS DOUBLE) AS earnings,
           CAST(ptoim1 AS INTEGER) AS jobseeker_category,
           CAST(NULL AS VARCHAR) AS occupation
    FROM folk_kept ORDER BY hetu, month
"""


# --- accounting ------------------------------------------------------------------------------


def _folk_accounting(con: duckdb.DuckDBPyConnection, layout: _Layout) -> dict:
    rows_read, kept = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE reason IS NULL) FROM folk_classified"
    ).fetchall()[0]
    invalid = {
        "sex": "sex IS NULL AND sex_raw IS NOT NULL",
        "municipality": "municipality IS NULL AND municipality_raw IS NOT NULL",
        "birth_year": "birth_year_column IS NULL AND birth_year_given IS NOT NULL",
        "birth_country": "birth_country IS NULL AND country_raw IS NOT NULL",
        "origin": "origin IS NULL AND origin_given IS NOT NULL",
        "education_level": (f"isced IS NULL AND education_given IS NOT NULL "
                            f"AND education_raw IS DISTINCT FROM {_EDUCATION_UNKNOWN}"),
        "education_level_unknown": f"education_raw = {_EDUCATION_UNKNOWN}",
        "education_field": ("field_raw IS NOT NULL AND (field_code IS NULL OR "
                            "substr(field_code, 1, 2) NOT IN ("
                            + ", ".join(_literal(c) for c in EDUCATION_FIELD_BROAD) + "))"),
        "immigration_year": ("immigration_year_column IS NULL "
                             "AND immigration_year_given IS NOT NULL"),
    }
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for c in invalid.values())
        + " FROM folk_kept"
    ).fetchall()[0]
    return {
        "rows_read": int(rows_read), "kept": int(kept),
        "quarantined": _reasons(con, _INPUT),
        "columns": dict(layout.columns),
        "columns_not_delivered": sorted(p for p, c in layout.columns.items() if c is None),
        "columns_not_used": layout.unused,
        "invalid_values_in_kept_rows": dict(zip(invalid, (int(n) for n in counts),
                                                strict=True)),
    }


def _person_years_by_year(con: duckdb.DuckDBPyConnection, first: int, last: int) -> dict:
    found = dict(con.execute("SELECT year, count(*) FROM folk_kept GROUP BY year").fetchall())
    return {year: int(found.get(year, 0)) for year in range(first, last + 1)}


def _person_years_by_code(con: duckdb.DuckDBPyConnection) -> dict:
    found = dict(con.execute("SELECT ptoim1, count(*) FROM folk_kept GROUP BY 1").fetchall())
    return {code: int(found.get(code, 0)) for code in PTOIM1_CODES}


def _persons_accounting(con: duckdb.DuckDBPyConnection, n_persons: int, n_years: int) -> dict:
    missing = {
        "sex": "sex IS NULL",
        "region_of_birth": "region_of_birth IS NULL",
        "municipality": "municipality IS NULL",
        "education_level": "education_level IS NULL",
        "education_field": "education_field IS NULL",
        "immigration_year": "immigration_year IS NULL",
        "immigration_year_of_foreign_born": (f"immigration_year IS NULL AND "
                                             f"coalesce(region_of_birth <> '{FINLAND}', true)"),
    }
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for c in missing.values())
        + ", count(*) FILTER (WHERE latest_year - first_year + 1 > n_years)"
        + f", count(*) FILTER (WHERE n_years = {n_years}) FROM persons"
    ).fetchall()[0]
    *missing_counts, with_gaps, every_year = (int(n) for n in counts)

    def by(column: str) -> dict[str, int]:
        return {str(value): int(n) for value, n in con.execute(
            f"SELECT {column}, count(*) FROM persons GROUP BY 1 ORDER BY 1").fetchall()}

    return {
        "rows_written": n_persons,
        "with_year_gaps": with_gaps,
        "in_every_year": every_year,
        "missing_values": dict(zip(missing, missing_counts, strict=True)),
        "birth_year_source": by("birth_year_source"),
        "region_of_birth_source": by("region_of_birth_source"),
    }


def _monthly_accounting(con: duckdb.DuckDBPyConnection, path: Path) -> dict:
    rows, employed, unemployed, no_earnings = con.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE employed = 1),
               count(*) FILTER (WHERE jobseeker_category = {UNEMPLOYED}),
               count(*) FILTER (WHERE earnings IS NULL)
        FROM read_parquet({_literal(str(path))})
        """
    ).fetchall()[0]
    return {"rows_written": int(rows), "employed_person_years": int(employed),
            "unemployed_person_years": int(unemployed),
            "earnings_missing": int(no_earnings)}


def _rules() -> dict:
    return {
        "period": "one row per person and year, month = YYYY12 (ptoim1 describes the last "
                  "week of the year)",
        "employed": f"ptoim1 = {EMPLOYED}",
        "jobseeker_category": "the ptoim1 code; registered_unemployed = "
                              f"[{UNEMPLOYED}]",
        "earnings": "palk, annual wage income in EUR (not divided by 12); missing stays "
                    "missing",
        "persons": "each characteristic from the person's latest year that has a valid value",
        "region_of_birth": f"country of birth; else {FINLAND} for origin 11 and 21, "
                           f"{BORN_ABROAD!r} for 12 and 22",
        "education_level": "ututku_aste 3-8 as ISCED 2011, mapped as ISCED_LEVEL; missing "
                           "and 9 stay missing",
        "education_field": "ISCED-F 2013 broad field mapped to the SUN 2000 broad group",
    }
