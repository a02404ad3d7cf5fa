"""Register extract files as tables DuckDB can read: Parquet, CSV, SAS and Stata.

Which format a file is in comes from its extension (:data:`EXTENSIONS`) and is checked against
its first bytes, so a CSV file named ``.sas7bdat`` or an empty file is refused with a
:class:`RegisterReadError` naming it rather than failing somewhere inside a reader.

* **Parquet** is read by DuckDB as it is (``read_parquet``).
* **CSV** is read by DuckDB (``read_csv``) with explicit options: the first line is the header;
  the delimiter is whichever of comma, semicolon and tab the header line holds most often;
  ``"`` quotes fields; every column is read as text (VARCHAR), so identity numbers and codes
  such as municipality ``0180`` keep their leading zeros (numbers are cast later, in SQL); an
  empty field is missing. The encoding is UTF-8 (a byte-order mark is allowed) when the whole
  file is valid UTF-8 (checked in one pass over the file), otherwise Latin-1 (ISO 8859-1),
  which DuckDB reads natively. Windows-1252 files are read as Latin-1 too: they differ only in
  bytes 0x80-0x9F (``€``, typographic quotes), which DuckDB would need its ``encodings``
  extension for. UTF-16 files are refused.
* **SAS** (``.sas7bdat``) and **Stata** (``.dta``) files cannot be read by DuckDB. pyreadstat
  reads them in chunks of :data:`CHUNK_ROWS` rows (``read_file_in_chunks``), only the configured
  columns, and each chunk becomes one row group of a temporary Parquet file that DuckDB then
  reads; memory use is bounded by the chunk, whatever the size of the file. Column types are
  kept as stored: text as VARCHAR (empty text, SAS's and Stata's missing text, as missing, like
  an empty CSV field), SAS numbers and Stata doubles as DOUBLE, Stata floats as FLOAT, Stata
  byte/int/long as BIGINT; dates stay numbers. How a stored number becomes an identity number
  or a code (integer digits, leading zeros) is decided in SQL by
  :mod:`pipeline.register.extract`, the same way for Parquet files that store numbers. SAS
  transport files (``.xpt``) are not read: ReadStat skips to a chunk by reading every row
  before it, which makes chunked reading of a transport file quadratic in its length (the
  ``.dta`` and uncompressed ``.sas7bdat`` readers seek).

Temporary files are written in a private directory (:func:`scratch_directory`: mode 0700,
files 0600) that is removed when the block using it ends, also when reading fails. Raw identity
numbers are written nowhere else.
"""

from __future__ import annotations

import codecs
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyreadstat

from pipeline.privacy import redact
from pipeline.signatures import is_sas7bdat, is_stata

EXTENSIONS = {".parquet": "parquet", ".csv": "csv", ".sas7bdat": "sas7bdat", ".dta": "stata"}
CHUNK_ROWS = 100_000  # rows of a SAS or Stata file held in memory at a time

_NAMES = {"parquet": "Parquet", "csv": "CSV", "sas7bdat": "SAS", "stata": "Stata"}
_CONTENTS = {
    "parquet": "a Parquet file",
    "csv": "text",
    "sas7bdat": "a SAS data set",
    "stata": "a Stata data file",
    None: "binary data in none of the register formats (UTF-16 text or a spreadsheet?)",
}
_PYREADSTAT_READERS = {"sas7bdat": pyreadstat.read_sas7bdat, "stata": pyreadstat.read_dta}
# Arrow types for pyreadstat's storage types other than text ("string").
_STORED_TYPES = {
    "double": pa.float64(),
    "float": pa.float32(),
    "int8": pa.int64(),
    "int16": pa.int64(),
    "int32": pa.int64(),
}
_DELIMITERS = (",", ";", "\t")
_HEAD_BYTES = 4096
_HEADER_CHARS = 1 << 20
_BLOCK_BYTES = 1 << 20


class RegisterReadError(ValueError):
    """A register file that is missing, unreadable or lacks a configured column."""


@dataclass(frozen=True)
class ExtractSource:
    """A register file as DuckDB reads it.

    Attributes
    ----------
    path : Path
        The file, for messages.
    sql : str
        A table expression to put after ``FROM`` (a ``read_parquet`` or ``read_csv`` call).
    types : dict of str to str
        DuckDB's type of every column the expression gives, keyed by the file's column name.
    """

    path: Path
    sql: str
    types: dict[str, str]


@contextmanager
def scratch_directory(parent: str | Path | None = None) -> Iterator[Path]:
    """A private temporary directory (mode 0700), removed with its contents on leaving.

    Parameters
    ----------
    parent : path, optional
        Where to create it (created if missing); the system's temporary directory when None.

    Yields
    ------
    Path
        The directory.
    """
    if parent is not None:
        Path(parent).mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="register-", dir=parent))
    try:
        yield directory
    finally:
        shutil.rmtree(directory)


def open_extract(
    con: duckdb.DuckDBPyConnection, path: Path, columns: dict[str, str], scratch: Path
) -> ExtractSource:
    """Make a register file readable by DuckDB and check it has the configured columns.

    Parameters
    ----------
    con : duckdb connection
        Used to learn the column names and types.
    path : Path
        The file: ``.parquet``, ``.csv``, ``.sas7bdat`` or ``.dta``.
    columns : dict of str to str
        The file's column name for each canonical name.
    scratch : Path
        Private directory for the temporary Parquet file of a SAS or Stata file; it must
        outlive every query of the returned source (see :func:`scratch_directory`).

    Returns
    -------
    ExtractSource
        The table expression and column types. A SAS or Stata source holds only the
        configured columns.

    Raises
    ------
    RegisterReadError
        If the file is missing, empty, in an unsupported format or not in the format its
        extension says, cannot be read, or lacks a configured column.
    """
    path = Path(path)
    kind = file_format(path)
    if kind in _PYREADSTAT_READERS:
        stored = _stored_types(path, kind)
        check_columns(path, stored, columns)
        sql = _to_parquet(path, kind, {column: stored[column] for column in columns.values()},
                          scratch)
    else:
        sql = _parquet_reader(path) if kind == "parquet" else _csv_reader(path)
    types = _describe(con, path, kind, sql)
    check_columns(path, types, columns)
    return ExtractSource(path, sql, types)


def file_format(path: Path) -> str:
    """The format of a register file: its extension's, after checking its first bytes.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    str
        ``"parquet"``, ``"csv"``, ``"sas7bdat"`` or ``"stata"``.

    Raises
    ------
    RegisterReadError
        If the file is missing or empty, its extension is not one of :data:`EXTENSIONS`, or its
        content is in another format than the extension says.
    """
    if not path.is_file():
        raise RegisterReadError(
            f"{path}: register file not found; check data.raw_dir and data.register in the "
            "study configuration"
        )
    kind = EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise RegisterReadError(
            f"{path}: unsupported register format '{path.suffix}'; use one of "
            f"{', '.join(EXTENSIONS)}"
        )
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head:
        raise RegisterReadError(f"{path}: the file is empty (0 bytes); deliver the extract again")
    found = _content_format(head)
    if found != kind:
        raise RegisterReadError(
            f"{path}: cannot be read as {_NAMES[kind]}, as its extension '{path.suffix}' says: "
            f"the file holds {_CONTENTS[found]}. Give it the extension of its format or deliver "
            "it again"
        )
    return kind


def check_columns(path: Path, present: Iterable[str], columns: dict[str, str]) -> None:
    """Refuse a file that lacks a configured column, naming every one missing.

    Parameters
    ----------
    path : Path
        The file, for the message.
    present : iterable of str
        The file's column names.
    columns : dict of str to str
        The file's column name expected for each canonical name.

    Raises
    ------
    RegisterReadError
        Naming the file, each missing column as ``canonical -> 'expected'``, and the columns
        the file has.
    """
    present = set(present)
    missing = [f"{canonical} -> '{column}'" for canonical, column in columns.items()
               if column not in present]
    if missing:
        raise RegisterReadError(
            f"{path}: configured columns not found: {', '.join(missing)}; the file has "
            f"{', '.join(sorted(present))}. Fix data.register.*_columns in the study configuration"
        )


def duckdb_error_text(exc: duckdb.Error) -> str:
    """The first line of a DuckDB error, with identity numbers redacted.

    DuckDB quotes offending values and, for CSV files, whole lines of the file in its messages;
    the first line says what went wrong, the rest is context that may hold personal data.
    """
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return redact(lines[0])


# --- format ----------------------------------------------------------------------------------


def _content_format(head: bytes) -> str | None:
    """The format the first bytes of a file show; None for unrecognised binary content."""
    if head.startswith(b"PAR1"):
        return "parquet"
    if is_sas7bdat(head):
        return "sas7bdat"
    if is_stata(head):
        return "stata"
    return "csv" if b"\x00" not in head else None


def _describe(
    con: duckdb.DuckDBPyConnection, path: Path, kind: str, sql: str
) -> dict[str, str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {sql}").fetchall()
    except duckdb.Error as exc:
        raise RegisterReadError(
            f"{path}: cannot be read as {_NAMES[kind]} ({duckdb_error_text(exc)})"
        ) from None
    return {row[0]: row[1] for row in rows}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- Parquet and CSV -------------------------------------------------------------------------


def _parquet_reader(path: Path) -> str:
    return f"read_parquet({_literal(str(path))})"


def _csv_reader(path: Path) -> str:
    encoding = _text_encoding(path)
    options = {
        "delim": _literal(_delimiter(path, encoding)),
        "header": "true",
        "quote": _literal('"'),
        "escape": _literal('"'),
        "all_varchar": "true",
        "encoding": _literal(encoding),
    }
    listed = ", ".join(f"{name} = {value}" for name, value in options.items())
    return f"read_csv({_literal(str(path))}, {listed})"


def _text_encoding(path: Path) -> str:
    """``"utf-8"`` when the whole file is valid UTF-8, else ``"latin-1"`` (any bytes are)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while block := handle.read(_BLOCK_BYTES):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8"


def _delimiter(path: Path, encoding: str) -> str:
    """The comma, semicolon or tab that the header line holds most often."""
    with path.open(encoding=encoding, newline="") as handle:
        header = handle.readline(_HEADER_CHARS)
    counts = {delimiter: header.count(delimiter) for delimiter in _DELIMITERS}
    delimiter = max(counts, key=counts.__getitem__)
    if not counts[delimiter]:
        raise RegisterReadError(
            f"{path}: no comma, semicolon or tab between the column names of the first line; a "
            "register CSV file needs a header line with the column names"
        )
    return delimiter


# --- SAS and Stata ---------------------------------------------------------------------------


def _stored_types(path: Path, kind: str) -> dict[str, str]:
    """pyreadstat's storage type of every column (``"string"``, ``"double"``, …)."""
    try:
        _, meta = _PYREADSTAT_READERS[kind](path, metadataonly=True)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise _unreadable(path, kind, exc) from None
    return dict(meta.readstat_variable_types)


def _to_parquet(path: Path, kind: str, stored: dict[str, str], scratch: Path) -> str:
    """Copy ``stored``'s columns of a SAS or Stata file into a Parquet file in ``scratch``."""
    schema = pa.schema([(column, _arrow_type(type_)) for column, type_ in stored.items()])
    handle, target = tempfile.mkstemp(suffix=".parquet", dir=scratch)  # mode 0600
    with os.fdopen(handle, "wb") as sink, pq.ParquetWriter(sink, schema) as writer:
        for frame in _chunks(path, kind, list(stored)):
            writer.write_table(_arrow_chunk(frame, schema), row_group_size=len(frame))
    return _parquet_reader(Path(target))


def _arrow_type(stored: str) -> pa.DataType:
    return pa.string() if stored == "string" else _STORED_TYPES[stored]


def _chunks(path: Path, kind: str, columns: list[str]) -> Iterator[pd.DataFrame]:
    try:
        for frame, _ in pyreadstat.read_file_in_chunks(
            _PYREADSTAT_READERS[kind], path, chunksize=CHUNK_ROWS, usecols=columns,
            disable_datetime_conversion=True,
        ):
            yield frame
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise _unreadable(path, kind, exc) from None


def _arrow_chunk(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    return pa.table([_arrow_column(frame[field.name], field.type) for field in schema],
                    schema=schema)


def _arrow_column(values: pd.Series, target: pa.DataType) -> pa.Array:
    """A chunk's column as Arrow: missing numbers (NaN) and empty text become nulls."""
    if pa.types.is_string(target):
        text = pa.array(values, type=target, from_pandas=True)
        return pc.if_else(pc.equal(text, ""), pa.scalar(None, target), text)
    return pa.array(values, from_pandas=True).cast(target)


def _unreadable(path: Path, kind: str, exc: Exception) -> RegisterReadError:
    # ReadStat's messages are fixed texts ("Invalid file, or file has unsupported features"),
    # never file content.
    return RegisterReadError(
        f"{path}: cannot be read as {_NAMES[kind]} ({exc}); it may be truncated or damaged: "
        "deliver it again"
    )
