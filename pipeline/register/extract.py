"""Opening register extracts in DuckDB under canonical column names, keyed by pseudonym.

An extract may be Parquet, CSV, SAS (``.sas7bdat``) or Stata (``.dta``):
:mod:`pipeline.register.formats` makes each readable by DuckDB (SAS and Stata through a
temporary Parquet file). The extract's own column names (``Kon``, ``FodelseAr`` …) are mapped
onto canonical ones from the study configuration, the same mapping whatever the format, and its
codes (which sex value means a woman, which job-seeker categories mean openly unemployed, which
regions of birth mean native-born) are read from ``data.register.codes``. Identity numbers are
normalised and replaced by the study's keyed pseudonym before any table leaves DuckDB; raw
numbers stay inside the connection and are dropped once the tables are built. Numbers in the
12-digit form, which is already normalised, are validated in SQL (the rules of
:func:`~pipeline.pseudonymise.normalise_personnummer`); only numbers written otherwise are
normalised in Python. The normalised numbers are pseudonymised in Python.

Columns get their canonical types in SQL, the same way whatever the file stores:

* years, months, states and amounts are cast to INTEGER or DOUBLE, from numbers or from text
  (CSV files are read as text);
* identity numbers and codes (sex, region of birth, education field, municipality, occupation)
  become text (``monthly.occupation`` then becomes an ENUM of the codes present,
  :data:`OCCUPATION_TYPE`: one or two bytes a row instead of sixteen). A code or number stored
  as a number becomes its integer digits (``198503150248``, not ``198503150248.0``). An
  identity number stored as a number that has fewer digits than the short form of the study's
  ``identity_country`` (:data:`ID_DIGITS`) lost its leading zeros, which are put back:
  ``503152381`` is ``0503152381``, the 10-digit number of someone born in 2005. Swedish
  12-digit numbers start with 19 or 20 and lose none. Identity numbers stored as 4-byte
  floating point numbers (FLOAT: 7 significant digits) are refused, as they are already
  corrupted.

Rules for imperfect extracts (counted in :class:`RegisterKeys`, never fatal):

* Person rows are keyed on the *normalised* identity number, so ``198503150248``,
  ``8503150248`` and ``850315-0248`` are one person. Rows whose number is invalid are dropped;
  of several rows for one person the first in file order is kept.
* Monthly rows are keyed the same way and reduced to one row per person and month:
  ``employed`` is the maximum, ``earnings`` the sum (several employers in one month),
  ``registered_unemployed`` true if any row says so, and ``occupation`` the code of the row with
  the highest earnings among rows that have a code (ties: the larger code). Monthly rows whose
  number is invalid or not among the persons are dropped.

Memory: ``persons`` and ``monthly`` are built in an in-memory database attached with COMPRESS
(:data:`DATABASE`) and checkpointed once built, which stores them compressed; for 96 million
person-months that is about 450 MB instead of 2.3 GB.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.config import RegisterCodes, StudyConfig
from pipeline.identity import check_identity
from pipeline.pseudonymise import normalise_personnummer, pseudonymise
from pipeline.register.formats import (
    ExtractSource,
    RegisterReadError,
    duckdb_error_text,
    open_extract,
    scratch_directory,
)

# Digits of the short form of each country's identity number: Swedish YYMMDDNNNC, Danish
# DDMMYYSSSS. A Finnish HETU holds a century sign, so it is never stored as a number.
ID_DIGITS = {"se": 10, "dk": 10}
# Canonical columns that are codes: read as text whatever the file stores.
_TEXT_COLUMNS = frozenset({"sex", "region_of_birth", "education_field", "municipality",
                           "occupation"})
_INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                            "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"})

# The in-memory database that holds ``persons`` and ``monthly`` (compressed).
DATABASE = "register"
# The ENUM type of ``monthly.occupation``: the occupation codes the monthly file holds, sorted.
OCCUPATION_TYPE = "occupation_code"

__all__ = ["DATABASE", "OCCUPATION_TYPE", "RegisterKeys", "RegisterReadError", "open_register",
           "sql_list", "sql_literal"]


@dataclass(frozen=True)
class RegisterKeys:
    """Outcome of pseudonymising and de-duplicating the register.

    Person rows: ``n_rows_read = n_persons + n_invalid_ids + n_duplicate_ids``.
    Monthly rows: ``monthly_rows_read = n_person_months + monthly_unknown_ids +
    monthly_duplicate_rows``.
    """

    n_persons: int  # persons kept: one row per normalised identity number
    n_invalid_ids: int  # person rows dropped: missing or invalid identity number
    n_duplicate_ids: int  # person rows dropped: another row of the same person came first
    n_rows_read: int = 0  # person rows in the file
    monthly_rows_read: int = 0  # monthly rows in the file
    n_person_months: int = 0  # monthly rows kept: one per person and month
    monthly_unknown_ids: int = 0  # monthly rows dropped: invalid number or not among the persons
    monthly_duplicate_rows: int = 0  # monthly rows merged into another row of the same month


def sql_literal(value: object) -> str:
    """``value`` as a SQL literal: integers as numbers, anything else as a quoted string."""
    if isinstance(value, bool):
        raise TypeError(f"no SQL literal for a boolean code: {value!r}")
    if isinstance(value, int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def sql_list(values) -> str:
    """A parenthesised SQL list of literals, for ``IN``; at least one value."""
    values = list(values)
    if not values:
        raise ValueError("an empty list of codes cannot be used in SQL IN (...)")
    return "(" + ", ".join(sql_literal(value) for value in values) + ")"


def open_register(
    config: StudyConfig,
    key: bytes,
    con: duckdb.DuckDBPyConnection | None = None,
    temp_directory: str | Path | None = None,
) -> tuple[duckdb.DuckDBPyConnection, RegisterKeys]:
    """Create the tables ``persons`` and ``monthly`` under canonical names.

    Both carry ``person_key``, a small integer that exists only inside the connection and makes
    joins cheap (one per normalised identity number); ``persons`` also carries ``pid``, the keyed
    pseudonym that outputs use, and ``foreign_born`` (region of birth not among
    ``codes.native_born_regions``; an unknown region counts as foreign-born).

    Parameters
    ----------
    config : StudyConfig
        Names the files (Parquet, CSV, SAS ``.sas7bdat`` or Stata ``.dta``), their column
        mapping, codes, identity country and DuckDB's memory limit.
    key : bytes
        Pseudonymisation key.
    con : duckdb connection, optional
        Connection to use; a new in-memory one by default.
    temp_directory : path, optional
        Where DuckDB spills when ``data.register.duckdb_memory_limit`` is reached, and where a
        SAS or Stata file is converted to Parquet (in a private folder removed before
        returning, also on error); DuckDB's and the system's defaults when None. A converted
        file takes about as much space as the configured columns of the extract.

    Returns
    -------
    connection, RegisterKeys
        The connection with tables ``persons(person_key, pid, …)`` (one row per person) and
        ``monthly(person_key, month_index, …)`` (one row per person and month) where
        ``month_index = year * 12 + month - 1``, and the counts of rows dropped or merged. The
        tables live in the compressed in-memory database :data:`DATABASE`, which the connection
        now uses by default; ``monthly.occupation`` is of the ENUM type
        :data:`OCCUPATION_TYPE`. The connection does not preserve insertion order: a query
        whose row order matters needs an ORDER BY.

    Raises
    ------
    RegisterReadError
        Naming the file, when one is missing, empty, in an unsupported format or not the format
        its extension says, lacks a configured column, or cannot be read.
    """
    con = con or duckdb.connect()
    files = config.data.register_files
    _configure(con, files.duckdb_memory_limit, temp_directory)
    _use_compressed_database(con)
    person_columns = files.person_columns.model_dump()
    monthly_columns = files.monthly_columns.model_dump()
    country = config.data.identity_country
    digits = ID_DIGITS.get(country, 0)
    with scratch_directory(temp_directory) as scratch:
        persons = open_extract(con, config.persons_path, person_columns, scratch)
        monthly = open_extract(con, config.monthly_path, monthly_columns, scratch)
        with _reading(persons.path):
            person_counts = _build_persons(
                con, persons, _canonical(persons, person_columns, "p", digits), files.codes, key,
                country,
            )
        with _reading(monthly.path):
            monthly_counts = _build_monthly(
                con, monthly, _canonical(monthly, monthly_columns, "m", digits), files.codes,
                country,
            )
    # Compresses persons and monthly; DuckDB frees the uncompressed blocks as it needs memory.
    con.execute(f"CHECKPOINT {DATABASE}")
    return con, RegisterKeys(**person_counts, **monthly_counts)


def _configure(
    con: duckdb.DuckDBPyConnection, memory_limit: str, temp_directory: str | Path | None
) -> None:
    con.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
    if temp_directory is not None:
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = {sql_literal(str(temp_directory))}")


def _use_compressed_database(con: duckdb.DuckDBPyConnection) -> None:
    """Make :data:`DATABASE`, an in-memory database compressed at checkpoint, the default.

    DuckDB keeps in-memory tables uncompressed, 2.3 GB for 96 million person-months; in a
    database attached with COMPRESS, a checkpoint stores them compressed in a fifth of that.
    After ``USE``, unqualified table names (the panel's queries) resolve to it; TEMP tables,
    which hold raw identity numbers while the tables are built, stay apart.
    """
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {DATABASE} (COMPRESS)")
    con.execute(f"USE {DATABASE}")


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn DuckDB's errors while reading ``path`` into a RegisterReadError naming it."""
    try:
        yield
    except duckdb.Error as exc:
        raise RegisterReadError(f"{path}: cannot be read ({duckdb_error_text(exc)})") from None


# --- canonical columns -----------------------------------------------------------------------


def _ident(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _canonical(
    source: ExtractSource, columns: dict[str, str], alias: str, digits: int
) -> dict[str, str]:
    """SQL for each canonical column: identity numbers and codes as text, others as stored."""
    sql = {}
    for canonical, column in columns.items():
        reference, stored = f"{alias}.{_ident(column)}", source.types[column]
        if canonical == "personal_id":
            sql[canonical] = _identity_text(source, column, reference, digits)
        elif canonical in _TEXT_COLUMNS:
            sql[canonical] = _text(reference, stored)
        else:
            sql[canonical] = reference
    return sql


def _identity_text(source: ExtractSource, column: str, reference: str, digits: int) -> str:
    if source.types[column] == "FLOAT":
        raise RegisterReadError(
            f"{source.path}: the identity numbers in '{column}' are stored as 4-byte floating "
            "point numbers, which keep only 7 significant digits, so they are already "
            "corrupted; deliver them as text or as 8-byte numbers (double)"
        )
    return _text(reference, source.types[column], digits)


def _text(reference: str, stored: str, digits: int = 0) -> str:
    """SQL giving a column as text; whole numbers as integer digits, zero-padded to ``digits``."""
    if stored == "VARCHAR":
        return reference
    if stored in _INTEGER_TYPES:
        return _zero_padded(f"CAST({reference} AS VARCHAR)", digits)
    if stored in ("DOUBLE", "FLOAT") or stored.startswith("DECIMAL"):
        whole = _zero_padded(f"CAST(CAST({reference} AS BIGINT) AS VARCHAR)", digits)
        return (
            f"CASE WHEN isfinite({reference}) AND {reference} = trunc({reference}) "
            f"AND abs({reference}) < 1e18 THEN {whole} ELSE CAST({reference} AS VARCHAR) END"
        )
    return f"CAST({reference} AS VARCHAR)"


def _zero_padded(text: str, digits: int) -> str:
    if not digits:
        return text
    return f"lpad({text}, CAST(greatest(length({text}), {digits}) AS INTEGER), '0')"


def _female_sql(sex: str, code: int | str) -> str:
    if isinstance(code, int) and not isinstance(code, bool):
        return f"CAST({sex} AS INTEGER) = {sql_literal(code)}"
    return f"trim({sex}) = {sql_literal(str(code).strip())}"


# --- persons ---------------------------------------------------------------------------------


def _build_persons(
    con: duckdb.DuckDBPyConnection,
    source: ExtractSource,
    p: dict[str, str],
    codes: RegisterCodes,
    key: bytes,
    country: str,
) -> dict[str, int]:
    """Create ``persons`` and ``keymap`` (raw identity text -> person_key, pid); the person counts
    of :class:`RegisterKeys`."""
    # persons_raw keeps the file's row order, so a row's rowid is its position in the file and
    # the first row of a person can be kept. No later result depends on the order rows are
    # stored or returned in (queries that need an order say ORDER BY), and not preserving it
    # lets DuckDB build and write the large tables in parallel without holding rows back.
    con.execute("SET preserve_insertion_order = true")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE persons_raw AS
        SELECT {p['personal_id']} AS raw_id,
               CAST({p['birth_year']} AS INTEGER) AS birth_year,
               {_female_sql(p['sex'], codes.female)} AS female,
               {p['region_of_birth']} AS region_of_birth,
               CAST({p['immigration_year']} AS INTEGER) AS immigration_year,
               CAST({p['education_level']} AS INTEGER) AS education_level,
               substr({p['education_field']}, 1, 1) AS education_field,
               lpad({p['municipality']}, 4, '0') AS municipality
        FROM {source.sql} p
        """
    )
    con.execute("SET preserve_insertion_order = false")
    n_persons = _build_keymap(con, key, country)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE persons AS
        WITH first_rows AS (  -- each person's first row in the file
            SELECT k.person_key, k.pid, min(r.rowid) AS first_row
            FROM persons_raw r JOIN keymap k USING (raw_id)
            GROUP BY k.person_key, k.pid
        )
        SELECT f.person_key, f.pid, r.birth_year, r.female, r.region_of_birth,
               coalesce(r.region_of_birth NOT IN {sql_list(codes.native_born_regions)}, true)
                 AS foreign_born,
               r.immigration_year, r.education_level, r.education_field, r.municipality
        FROM first_rows f JOIN persons_raw r ON r.rowid = f.first_row
        ORDER BY f.person_key
        """
    )
    n_rows_read, n_valid_rows = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE raw_id IN (SELECT raw_id FROM keymap)) "
        "FROM persons_raw"
    ).fetchall()[0]
    con.execute("DROP TABLE persons_raw")
    return {"n_persons": n_persons, "n_invalid_ids": n_rows_read - n_valid_rows,
            "n_duplicate_ids": n_valid_rows - n_persons, "n_rows_read": n_rows_read}


def _build_keymap(con: duckdb.DuckDBPyConnection, key: bytes, country: str) -> int:
    """Create ``idmap`` (raw -> normalised) and ``keymap`` from ``persons_raw``; persons found.

    Pseudonyms carry the country prefix the roster and surveys use, so a person has one
    pseudonym in all of them."""
    con.execute("CREATE OR REPLACE TEMP TABLE idmap (raw_id VARCHAR, norm_id VARCHAR)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE new_ids AS "
        "SELECT DISTINCT raw_id FROM persons_raw WHERE raw_id IS NOT NULL"
    )
    _normalise_new_ids(con, country)
    norms = [row[0] for row in con.execute(
        "SELECT DISTINCT norm_id FROM idmap ORDER BY norm_id").fetchall()]
    con.register("key_list", pa.table({
        "norm_id": pa.array(norms, pa.string()),
        "person_key": pa.array(range(len(norms)), pa.int32()),
        "pid": pa.array(pseudonymise(norms, key, country.upper()), pa.string()),
    }))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE keymap AS
        SELECT i.raw_id, k.person_key, k.pid FROM idmap i JOIN key_list k USING (norm_id)
        """
    )
    con.unregister("key_list")
    return len(norms)


# --- identity numbers ------------------------------------------------------------------------

# The 12-digit form YYYYMMDDNNNC, which is its own normalised form.
_LONG_FORM = "regexp_full_match(raw_id, '[0-9]{12}')"
# A Luhn digit d at a doubled position counts as the digit sum of 2d: [d + 1] (1-based).
_LUHN_DOUBLED = "[0, 2, 4, 6, 8, 1, 3, 5, 7, 9]"


def _normalise_new_ids(con: duckdb.DuckDBPyConnection, country: str) -> int:
    """Add the identity texts in ``new_ids`` to ``idmap`` with their normalised numbers, leaving
    out invalid ones; drop ``new_ids``. Returns the number of texts added.

    Registers mostly write every number in the 12-digit form; those are checked in SQL
    (:func:`_valid_long_form_sql`), which keeps them inside DuckDB and is far faster than a
    million calls of :func:`normalise_personnummer`. Other forms (10 digits, a separator,
    spaces) are normalised in Python. Danish and Finnish numbers are all checked by
    :func:`pipeline.identity.check_identity` (stdnum ``dk.cpr`` without the modulus-11 test,
    ``fi.hetu``), as the roster's are.
    """
    added = 0
    if country == "se":
        added = con.execute(
            f"INSERT INTO idmap SELECT raw_id, raw_id FROM new_ids "
            f"WHERE {_LONG_FORM} AND {_valid_long_form_sql('raw_id')}"
        ).fetchall()[0][0]
        pending = f"SELECT raw_id FROM new_ids WHERE NOT {_LONG_FORM}"
    else:
        pending = "SELECT raw_id FROM new_ids"
    other = [row[0] for row in con.execute(pending).fetchall()]
    if other:
        normalised = _normalised(other, country)
        con.register("id_text", normalised)
        con.execute("INSERT INTO idmap SELECT raw_id, norm_id FROM id_text")
        con.unregister("id_text")
        added += normalised.num_rows
    con.execute("DROP TABLE new_ids")
    return added


def _valid_long_form_sql(text: str) -> str:
    """SQL: whether ``text``, 12 ASCII digits ``YYYYMMDDNNNC``, is a valid personnummer.

    The rules :func:`normalise_personnummer` applies (through the ``personnummer`` package):
    the serial number NNN is not 000, the check digit C is the Luhn check digit of YYMMDDNNN,
    and YYYY-MM-DD is a date, a day above 60 being a samordningsnummer's (day + 60). The test
    suite checks that both agree.
    """
    def number(start: int, length: int) -> str:
        return f"CAST(substr({text}, {start}, {length}) AS INTEGER)"

    # Luhn over YYMMDDNNN (characters 3-11): the 1st, 3rd … digits doubled.
    terms = [f"{_LUHN_DOUBLED}[{number(3 + i, 1)} + 1]" if i % 2 == 0 else number(3 + i, 1)
             for i in range(9)]
    check = f"(10 - ({' + '.join(terms)}) % 10) % 10"
    year, month, day = number(1, 4), number(5, 2), number(7, 2)
    day_of_month = f"CASE WHEN {day} > 60 THEN {day} - 60 ELSE {day} END"
    # CASE: make_date is only evaluated for a valid year and month.
    real_date = (
        f"CASE WHEN {year} >= 1 AND {month} BETWEEN 1 AND 12 THEN ({day_of_month}) BETWEEN 1 "
        f"AND dayofmonth(last_day(make_date({year}, {month}, 1))) ELSE false END"
    )
    return f"(substr({text}, 9, 3) <> '000' AND {check} = {number(12, 1)} AND {real_date})"


def _normalised(raw: list[str | None], country: str) -> pa.Table:
    """Map raw identity texts to normalised numbers; invalid ones are left out."""
    if country == "se":
        pairs = [(r, normalise_personnummer(r)) for r in raw]
    else:
        pairs = [(r, check_identity(r, country).normalised) for r in raw]
    valid = [(r, n) for r, n in pairs if n is not None]
    return pa.table(
        {"raw_id": pa.array([r for r, _ in valid], pa.string()),
         "norm_id": pa.array([n for _, n in valid], pa.string())}
    )


# --- monthly ---------------------------------------------------------------------------------

# Widest span of months (100 years) for which repeated months are counted with one bitstring
# per person; a wider span (a mistyped year) falls back to sorting every person-month.
_BITSTRING_MONTHS = 1200


def _build_monthly(
    con: duckdb.DuckDBPyConnection, source: ExtractSource, m: dict[str, str],
    codes: RegisterCodes, country: str,
) -> dict[str, int]:
    """Create ``monthly``, one row per person and month, and drop ``idmap`` and ``keymap``; the
    monthly counts of :class:`RegisterKeys`."""
    _extend_keymap(con, source, m["personal_id"], country)
    _create_occupation_type(con, source, m["occupation"])
    month = f"CAST({m['month']} AS INTEGER)"
    unemployed_codes = sql_list(int(code) for code in codes.registered_unemployed)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE monthly AS
        SELECT k.person_key,
               CAST({month} // 100 * 12 + {month} % 100 - 1 AS INTEGER) AS month_index,
               CAST({m['employed']} AS INTEGER) AS employed,
               CAST({m['earnings']} AS DOUBLE) AS earnings,
               coalesce(CAST({m['jobseeker_category']} AS INTEGER) IN {unemployed_codes},
                        false) AS registered_unemployed,
               CAST({m['occupation']} AS {OCCUPATION_TYPE}) AS occupation
        FROM {source.sql} m
        JOIN keymap k ON {m['personal_id']} = k.raw_id
        """
    )
    con.execute("DROP TABLE keymap")
    monthly_rows_read = con.execute(f"SELECT count(*) FROM {source.sql}").fetchall()[0][0]
    n_matched = con.execute("SELECT count(*) FROM monthly").fetchall()[0][0]
    n_repeated = _count_repeated_months(con)
    if n_repeated:
        _merge_repeated_months(con)
    return {"monthly_rows_read": monthly_rows_read, "n_person_months": n_matched - n_repeated,
            "monthly_unknown_ids": monthly_rows_read - n_matched,
            "monthly_duplicate_rows": n_repeated}


def _extend_keymap(
    con: duckdb.DuckDBPyConnection, source: ExtractSource, raw_id: str, country: str
) -> None:
    """Add monthly identity texts not written as in the person file (other form); drop idmap."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE new_ids AS
        SELECT DISTINCT {raw_id} AS raw_id FROM {source.sql} m
        WHERE raw_id IS NOT NULL AND raw_id NOT IN (SELECT raw_id FROM keymap)
        """
    )
    if _normalise_new_ids(con, country):  # idmap now also holds the other forms
        con.execute(
            """
            INSERT INTO keymap
            SELECT i.raw_id, k.person_key, k.pid
            FROM idmap i JOIN (SELECT DISTINCT norm_id, person_key, pid
                               FROM idmap JOIN keymap USING (raw_id)) k USING (norm_id)
            WHERE i.raw_id NOT IN (SELECT raw_id FROM keymap)
            """
        )
    con.execute("DROP TABLE idmap")


def _create_occupation_type(
    con: duckdb.DuckDBPyConnection, source: ExtractSource, occupation: str
) -> None:
    """Create :data:`OCCUPATION_TYPE`, an ENUM of the occupation codes in the monthly file.

    An ENUM stores a code in one or two bytes where text takes 16, which makes ``monthly`` a
    third smaller. Its values are sorted, so codes compare as text does (which the merge of
    repeated months relies on).
    """
    con.execute(
        f"""
        CREATE OR REPLACE TYPE {OCCUPATION_TYPE} AS ENUM (
            SELECT DISTINCT {occupation} AS code FROM {source.sql} m
            WHERE {occupation} IS NOT NULL ORDER BY code)
        """
    )


def _count_repeated_months(con: duckdb.DuckDBPyConnection) -> int:
    """Monthly rows that repeat a person-month already present (rows without a month aside)."""
    low, high = con.execute("SELECT min(month_index), max(month_index) FROM monthly").fetchall()[0]
    if low is None:
        return 0
    if high - low < _BITSTRING_MONTHS:
        # One bit per month a person has rows in: rows beyond the bits set are repeats. An
        # aggregation over persons, several times cheaper than sorting every person-month.
        query = f"""
            SELECT sum(n_rows - bit_count(months)) FROM (
                SELECT count(month_index) AS n_rows,
                       bitstring_agg(month_index, {low}, {high}) AS months
                FROM monthly GROUP BY person_key)
        """
    else:
        query = """
            SELECT count(*) FROM (
                SELECT month_index,
                       lag(month_index) OVER (PARTITION BY person_key ORDER BY month_index)
                         AS prev
                FROM monthly)
            WHERE prev = month_index
        """
    return int(con.execute(query).fetchall()[0][0] or 0)


def _merge_repeated_months(con: duckdb.DuckDBPyConnection) -> None:
    """Merge the rows of a person-month into one."""
    con.execute(
        """
        CREATE OR REPLACE TABLE monthly_merged AS
        SELECT person_key, month_index,
               max(employed) AS employed,
               sum(earnings) AS earnings,
               bool_or(registered_unemployed) AS registered_unemployed,
               arg_max(occupation, (coalesce(earnings, 0), occupation)) AS occupation
        FROM monthly
        GROUP BY person_key, month_index
        """
    )
    con.execute("DROP TABLE monthly")
    con.execute("ALTER TABLE monthly_merged RENAME TO monthly")
