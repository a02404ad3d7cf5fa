"""Opening register extracts in DuckDB under canonical column names, keyed by pseudonym.

The extract's own column names (``Kon``, ``FodelseAr`` …) are mapped onto canonical ones from
the study configuration, and its codes (which sex value means a woman, which job-seeker
categories mean openly unemployed, which regions of birth mean native-born) are read from
``data.register.codes``. Identity numbers are normalised and replaced by the study's keyed
pseudonym before any table leaves DuckDB; raw numbers stay inside the connection and are
dropped once the tables are built.

Rules for imperfect extracts (counted in :class:`RegisterKeys`, never fatal):

* Person rows are keyed on the *normalised* identity number, so ``198503150248``,
  ``8503150248`` and ``850315-0248`` are one person. Rows whose number is invalid are dropped;
  of several rows for one person the first in file order is kept.
* Monthly rows are keyed the same way and reduced to one row per person and month:
  ``employed`` is the maximum, ``earnings`` the sum (several employers in one month),
  ``registered_unemployed`` true if any row says so, and ``occupation`` the code of the row with
  the highest earnings among rows that have a code (ties: the larger code). Monthly rows whose
  number is invalid or not among the persons are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.config import StudyConfig
from pipeline.pseudonymise import normalise_personnummer, pseudonymise

READERS = {
    ".parquet": "read_parquet",
    ".csv": "read_csv_auto",
}


class RegisterReadError(ValueError):
    """A register file that is missing, unreadable or lacks a configured column."""


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


def _reader(path: Path) -> str:
    if not path.is_file():
        raise RegisterReadError(
            f"{path}: register file not found; check data.raw_dir and data.register in the "
            "study configuration"
        )
    function = READERS.get(path.suffix.lower())
    if function is None:
        raise RegisterReadError(
            f"{path}: unsupported register format '{path.suffix}'; use one of "
            f"{', '.join(sorted(READERS))}"
        )
    return f"{function}({sql_literal(str(path))})"


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


def _ident(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _check_columns(con: duckdb.DuckDBPyConnection, path: Path, source: str, mapping: dict) -> None:
    try:
        present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    except duckdb.Error as exc:
        raise RegisterReadError(f"{path}: cannot be read as {path.suffix} ({exc})") from exc
    missing = [f"{canonical} -> '{column}'" for canonical, column in mapping.items()
               if column not in present]
    if missing:
        raise RegisterReadError(
            f"{path}: configured columns not found: {', '.join(missing)}; the file has "
            f"{', '.join(sorted(present))}. Fix data.register.*_columns in the study configuration"
        )


def _female_sql(column: str, code: int | str) -> str:
    if isinstance(code, int) and not isinstance(code, bool):
        return f"CAST({column} AS INTEGER) = {sql_literal(code)}"
    return f"trim(CAST({column} AS VARCHAR)) = {sql_literal(str(code).strip())}"


def _normalised(raw: list[str | None]) -> pa.Table:
    """Map raw identity texts to normalised numbers; invalid ones are left out."""
    pairs = [(r, normalise_personnummer(r)) for r in raw]
    valid = [(r, n) for r, n in pairs if n is not None]
    return pa.table(
        {"raw_id": pa.array([r for r, _ in valid], pa.string()),
         "norm_id": pa.array([n for _, n in valid], pa.string())}
    )


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
        Names the files, their column mapping, codes and DuckDB's memory limit.
    key : bytes
        Pseudonymisation key.
    con : duckdb connection, optional
        Connection to use; a new in-memory one by default.
    temp_directory : path, optional
        Where DuckDB spills when ``data.register.duckdb_memory_limit`` is reached; DuckDB's
        default when None.

    Returns
    -------
    connection, RegisterKeys
        The connection with tables ``persons(person_key, pid, …)`` (one row per person) and
        ``monthly(person_key, month_index, …)`` (one row per person and month) where
        ``month_index = year * 12 + month - 1``, and the counts of rows dropped or merged.
    """
    con = con or duckdb.connect()
    files = config.data.register_files
    con.execute(f"SET memory_limit = {sql_literal(files.duckdb_memory_limit)}")
    if temp_directory is not None:
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = {sql_literal(str(temp_directory))}")
    # Tables built from a file keep its row order, so a row's rowid is its position in the file.
    con.execute("SET preserve_insertion_order = true")
    codes = files.codes
    person_columns = files.person_columns.model_dump()
    monthly_columns = files.monthly_columns.model_dump()
    pcols = {name: f"p.{_ident(column)}" for name, column in person_columns.items()}
    mcols = {name: f"m.{_ident(column)}" for name, column in monthly_columns.items()}
    persons_src, monthly_src = _reader(config.persons_path), _reader(config.monthly_path)
    _check_columns(con, config.persons_path, persons_src, person_columns)
    _check_columns(con, config.monthly_path, monthly_src, monthly_columns)

    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE persons_raw AS
        SELECT CAST({pcols['personal_id']} AS VARCHAR) AS raw_id,
               CAST({pcols['birth_year']} AS INTEGER) AS birth_year,
               {_female_sql(pcols['sex'], codes.female)} AS female,
               CAST({pcols['region_of_birth']} AS VARCHAR) AS region_of_birth,
               CAST({pcols['immigration_year']} AS INTEGER) AS immigration_year,
               CAST({pcols['education_level']} AS INTEGER) AS education_level,
               substr(CAST({pcols['education_field']} AS VARCHAR), 1, 1) AS education_field,
               lpad(CAST({pcols['municipality']} AS VARCHAR), 4, '0') AS municipality
        FROM {persons_src} p
        """
    )
    raw = [row[0] for row in con.execute(
        "SELECT DISTINCT raw_id FROM persons_raw WHERE raw_id IS NOT NULL").fetchall()]
    con.register("id_text", _normalised(raw))
    con.execute("CREATE OR REPLACE TEMP TABLE idmap AS SELECT * FROM id_text")
    con.unregister("id_text")
    norms = [row[0] for row in con.execute(
        "SELECT DISTINCT norm_id FROM idmap ORDER BY norm_id").fetchall()]
    con.register("key_list", pa.table({
        "norm_id": pa.array(norms, pa.string()),
        "person_key": pa.array(range(len(norms)), pa.int32()),
        "pid": pa.array(pseudonymise(norms, key), pa.string()),
    }))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE keymap AS
        SELECT i.raw_id, k.person_key, k.pid FROM idmap i JOIN key_list k USING (norm_id)
        """
    )
    con.unregister("key_list")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE persons AS
        SELECT k.person_key, k.pid, r.birth_year, r.female, r.region_of_birth,
               coalesce(r.region_of_birth NOT IN {sql_list(codes.native_born_regions)}, true)
                 AS foreign_born,
               r.immigration_year, r.education_level, r.education_field, r.municipality
        FROM persons_raw r JOIN keymap k USING (raw_id)
        QUALIFY row_number() OVER (PARTITION BY k.person_key ORDER BY r.rowid) = 1
        ORDER BY k.person_key
        """
    )
    n_rows_read, n_valid_rows = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE raw_id IN (SELECT raw_id FROM keymap)) "
        "FROM persons_raw"
    ).fetchall()[0]
    con.execute("DROP TABLE persons_raw")
    n_persons = len(norms)

    # Monthly identity texts not written as in the person file (other form, invalid, absent).
    other = [row[0] for row in con.execute(
        f"""
        SELECT DISTINCT CAST({mcols['personal_id']} AS VARCHAR) AS raw_id FROM {monthly_src} m
        WHERE raw_id IS NOT NULL AND raw_id NOT IN (SELECT raw_id FROM keymap)
        """
    ).fetchall()]
    if other:
        con.register("id_text", _normalised(other))
        con.execute(
            """
            INSERT INTO keymap
            SELECT i.raw_id, k.person_key, k.pid
            FROM id_text i JOIN (SELECT DISTINCT norm_id, person_key, pid
                                 FROM idmap JOIN keymap USING (raw_id)) k USING (norm_id)
            """
        )
        con.unregister("id_text")
    con.execute("DROP TABLE idmap")
    month = f"CAST({mcols['month']} AS INTEGER)"
    unemployed_codes = sql_list(int(code) for code in codes.registered_unemployed)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE monthly AS
        SELECT k.person_key,
               CAST({month} // 100 * 12 + {month} % 100 - 1 AS INTEGER) AS month_index,
               CAST({mcols['employed']} AS INTEGER) AS employed,
               CAST({mcols['earnings']} AS DOUBLE) AS earnings,
               coalesce(CAST({mcols['jobseeker_category']} AS INTEGER) IN {unemployed_codes},
                        false) AS registered_unemployed,
               CAST({mcols['occupation']} AS VARCHAR) AS occupation
        FROM {monthly_src} m
        JOIN keymap k ON CAST({mcols['personal_id']} AS VARCHAR) = k.raw_id
        """
    )
    con.execute("DROP TABLE keymap")
    monthly_rows_read = con.execute(f"SELECT count(*) FROM {monthly_src}").fetchall()[0][0]
    n_matched = con.execute("SELECT count(*) FROM monthly").fetchall()[0][0]
    # A sort-based check is much cheaper than a hash aggregation over every person-month, so
    # the aggregation only runs when some person-month has several rows.
    n_repeated = con.execute(
        """
        SELECT count(*) FROM (
            SELECT month_index,
                   lag(month_index) OVER (PARTITION BY person_key ORDER BY month_index) AS prev
            FROM monthly)
        WHERE prev = month_index
        """
    ).fetchall()[0][0]
    if n_repeated:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE monthly_merged AS
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
    n_person_months = n_matched - n_repeated
    return con, RegisterKeys(
        n_persons=int(n_persons),
        n_invalid_ids=int(n_rows_read - n_valid_rows),
        n_duplicate_ids=int(n_valid_rows - n_persons),
        n_rows_read=int(n_rows_read),
        monthly_rows_read=int(monthly_rows_read),
        n_person_months=int(n_person_months),
        monthly_unknown_ids=int(monthly_rows_read - n_matched),
        monthly_duplicate_rows=int(n_matched - n_person_months),
    )
