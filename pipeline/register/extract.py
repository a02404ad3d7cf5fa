"""Opening register extracts in DuckDB under canonical column names, keyed by pseudonym.

The extract's own column names (``Kon``, ``FodelseAr`` …) are mapped onto canonical ones from
the study configuration. Identity numbers are normalised and replaced by the study's keyed
pseudonym before any table leaves DuckDB; raw numbers stay inside the connection.
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
    """Outcome of pseudonymising the register's person table."""

    n_persons: int
    n_invalid_ids: int
    n_duplicate_ids: int


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
    return f"{function}('{_sql_string(path)}')"


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")


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


def open_register(
    config: StudyConfig, key: bytes, con: duckdb.DuckDBPyConnection | None = None
) -> tuple[duckdb.DuckDBPyConnection, RegisterKeys]:
    """Create the views ``persons`` and ``monthly`` under canonical names.

    Both carry ``person_key``, a small integer that exists only inside the connection and makes
    joins cheap; ``persons`` also carries ``pid``, the keyed pseudonym that outputs use.

    Parameters
    ----------
    config : StudyConfig
        Names the files and their column mapping.
    key : bytes
        Pseudonymisation key.
    con : duckdb connection, optional
        Connection to use; a new in-memory one by default.

    Returns
    -------
    connection, RegisterKeys
        The connection with views ``persons(person_key, pid, …)`` and
        ``monthly(person_key, month_index, …)``
        where ``month_index = year * 12 + month - 1``, and counts from pseudonymisation.
    """
    con = con or duckdb.connect()
    files = config.data.register_files
    pcols = files.person_columns.model_dump()
    mcols = files.monthly_columns.model_dump()
    persons_src, monthly_src = _reader(config.persons_path), _reader(config.monthly_path)
    _check_columns(con, config.persons_path, persons_src, pcols)
    _check_columns(con, config.monthly_path, monthly_src, mcols)

    raw_ids = con.execute(
        f'SELECT DISTINCT CAST("{pcols["personal_id"]}" AS VARCHAR) FROM {persons_src}'
    ).fetchall()
    raw = [row[0] for row in raw_ids]
    normalised = [normalise_personnummer(value) for value in raw]
    valid = [(r, n) for r, n in zip(raw, normalised, strict=True) if n is not None]
    pids = pseudonymise([n for _, n in valid], key)
    keymap = pa.table(
        {
            "raw_id": [r for r, _ in valid],
            "person_key": pa.array(range(len(valid)), pa.int32()),
            "pid": pids,
        }
    )
    con.register("keymap", keymap)
    n_rows = con.execute(f"SELECT count(*) FROM {persons_src}").fetchone()[0]

    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW persons AS
        SELECT k.person_key, k.pid,
               CAST(p."{pcols['birth_year']}" AS INTEGER) AS birth_year,
               CAST(p."{pcols['sex']}" AS INTEGER) = 2 AS female,
               CAST(p."{pcols['region_of_birth']}" AS VARCHAR) AS region_of_birth,
               CAST(p."{pcols['immigration_year']}" AS INTEGER) AS immigration_year,
               CAST(p."{pcols['education_level']}" AS INTEGER) AS education_level,
               substr(CAST(p."{pcols['education_field']}" AS VARCHAR), 1, 1) AS education_field,
               lpad(CAST(p."{pcols['municipality']}" AS VARCHAR), 4, '0') AS municipality
        FROM {persons_src} p
        JOIN keymap k ON CAST(p."{pcols['personal_id']}" AS VARCHAR) = k.raw_id
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW monthly AS
        SELECT k.person_key,
               CAST(m."{mcols['month']}" AS INTEGER) // 100 * 12
                 + CAST(m."{mcols['month']}" AS INTEGER) % 100 - 1 AS month_index,
               CAST(m."{mcols['employed']}" AS INTEGER) AS employed,
               CAST(m."{mcols['earnings']}" AS DOUBLE) AS earnings,
               coalesce(CAST(m."{mcols['jobseeker_category']}" AS INTEGER) = 11, false)
                 AS registered_unemployed,
               CAST(m."{mcols['occupation']}" AS VARCHAR) AS occupation
        FROM {monthly_src} m
        JOIN keymap k ON CAST(m."{mcols['personal_id']}" AS VARCHAR) = k.raw_id
        """
    )
    return con, RegisterKeys(
        n_persons=int(n_rows),
        n_invalid_ids=len(raw) - len(valid),
        n_duplicate_ids=int(n_rows) - len(raw),
    )
