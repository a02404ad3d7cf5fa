"""Reading survey exports faithfully: raw values with their labels, whatever the format.

Survey tools (Netigate, Qualtrics, SurveyMonkey, LimeSurvey) deliver SPSS (``.sav``,
``.zsav``), Stata (``.dta``), SAS (``.sas7bdat``, ``.xpt``), Excel (``.xlsx``), CSV in several
encodings, and Qualtrics' CSV with three header rows. The format is decided from the file's
content; an extension that disagrees with it is an error rather than a guess. Every problem is
one :class:`SurveyReadError` naming the file and saying what to do, and never quoting cell
contents (they may be identity numbers or e-mail addresses).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat

from pipeline.signatures import is_sas7bdat, is_stata
from pipeline.surveys.encoding import SurveyReadError, decode_text, find_mojibake

__all__ = ["SurveyExport", "SurveyReadError", "iter_survey", "read_survey", "sniff_format"]

_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# What an extension promises, and how formats are named in messages.
_EXTENSION_FORMATS = {
    ".sav": "spss",
    ".zsav": "spss",
    ".dta": "stata",
    ".sas7bdat": "sas7bdat",
    ".xpt": "xport",
    ".xport": "xport",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "xls",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
}
_FORMAT_NAMES = {
    "spss": "SPSS",
    "stata": "Stata",
    "sas7bdat": "SAS",
    "xport": "SAS transport",
    "excel": "Excel",
    "xls": "old Excel",
    "csv": "CSV",
}
_CONTENT_DESCRIPTIONS = {
    "spss": ("an SPSS file", ".sav"),
    "spss_zsav": ("a compressed SPSS file", ".zsav"),
    "stata": ("a Stata file", ".dta"),
    "sas7bdat": ("a SAS data set", ".sas7bdat"),
    "xport": ("a SAS transport file", ".xpt"),
    "excel": ("an Excel workbook", ".xlsx"),
    "csv": ("a CSV text file", ".csv"),
}


@dataclass(frozen=True)
class SurveyExport:
    """One survey export (or one chunk of it) as delivered by the survey tool.

    Attributes
    ----------
    path : Path
        The file read.
    data : DataFrame
        One row per submission, columns exactly as exported, index ``row_offset, row_offset + 1,
        ...``. SPSS, Stata and SAS: numeric variables as float (user-missing codes such as
        9 = don't know kept as values, Stata's extended missing values ``.a``-``.z`` as the
        strings ``"a"``-``"z"``), text as str, dates as pyreadstat converts them, empty text
        as NaN. CSV, Excel and Qualtrics: every cell as str, or NaN when empty.
    value_labels : dict
        ``{column: {code: label}}`` (SPSS, Stata; integral codes as int); ``{}`` for the other
        formats.
    column_labels : dict
        ``{column: question text or None}``: SPSS/Stata/SAS variable labels, Qualtrics' second
        header row; all None for plain CSV and Excel.
    user_missing : dict
        ``{column: [(lo, hi), ...]}``: SPSS missing ranges, a discrete value ``v`` as ``(v, v)``.
    file_format : str
        ``"spss"``, ``"spss_zsav"``, ``"stata"``, ``"sas7bdat"``, ``"xport"``, ``"excel"``,
        ``"csv"`` or ``"qualtrics"``.
    encoding : str or None
        The text encoding used (CSV) or reported by the file (SPSS, SAS); the declared one when
        given.
    row_offset : int
        0-based position of the first row of ``data`` among all rows of the file.
    """

    path: Path
    data: pd.DataFrame
    value_labels: dict[str, dict[float | int | str, str]]
    column_labels: dict[str, str | None]
    user_missing: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    file_format: str = "spss"
    encoding: str | None = None
    row_offset: int = 0

    @property
    def source_file(self) -> str:
        """File name used to refer to this export in quarantine and accounting tables."""
        return self.path.name


def sniff_format(path: Path) -> str:
    """Decide a survey file's format from its first bytes, whatever its extension.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    str
        ``"spss"``, ``"spss_zsav"``, ``"stata"``, ``"sas7bdat"``, ``"xport"``, ``"excel"`` or
        ``"csv"`` (any delimited text; Qualtrics' layout is recognised when it is read).

    Raises
    ------
    SurveyReadError
        If the file is missing or empty, is an old ``.xls`` workbook, a zip archive that is not
        an ``.xlsx`` workbook, or an unrecognised binary file.
    """
    path = Path(path)
    if not path.is_file():
        raise SurveyReadError(
            f"{path.name}: survey export not found in {path.parent}. Put the export there, or "
            f"correct the list of survey files in the study configuration."
        )
    with path.open("rb") as handle:
        head = handle.read(1024)
    if not head:
        raise SurveyReadError(
            f"{path.name}: the file is empty (0 bytes), so the export did not finish; export it "
            f"again from the survey tool."
        )
    if head.startswith(b"$FL2"):
        return "spss"
    if head.startswith(b"$FL3"):
        return "spss_zsav"
    if is_stata(head):
        return "stata"
    if is_sas7bdat(head):
        return "sas7bdat"
    if head.startswith(b"HEADER RECORD*******LIB"):
        return "xport"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path)
    if head.startswith(_OLE_MAGIC):
        raise SurveyReadError(
            f"{path.name}: an old-format Excel workbook (.xls) or a password-protected workbook, "
            f"which cannot be read. Open it in Excel and save it as Excel Workbook (.xlsx) "
            f"without a password, or as CSV UTF-8."
        )
    if head.startswith(_UTF16_BOMS) or b"\x00" not in head:
        return "csv"
    raise SurveyReadError(
        f"{path.name}: not a survey export this pipeline can read (an unrecognised binary "
        f"file). Export the survey as SPSS (.sav), Stata (.dta), Excel (.xlsx) or CSV UTF-8."
    )


def read_survey(path: Path, *, encoding: str | None = None) -> SurveyExport:
    """Read a whole survey export with its labels.

    Parameters
    ----------
    path : Path
        The export: SPSS, Stata, SAS, SAS transport, Excel ``.xlsx``, CSV or Qualtrics CSV.
    encoding : str, optional
        The text encoding, to skip detection (CSV) or override what the file declares (SPSS,
        Stata, SAS). Ignored for Excel.

    Returns
    -------
    SurveyExport
        Raw values, labels and user-missing codes; ``row_offset`` 0.

    Raises
    ------
    SurveyReadError
        If the file is missing, empty, has no responses, is in an unknown or mismatching format,
        cannot be parsed, or its text encoding cannot be decided.
    """
    path = Path(path)
    (export,) = _exports(path, _checked_format(path), None, encoding)
    return export


def iter_survey(
    path: Path, *, chunksize: int = 50_000, encoding: str | None = None
) -> Iterator[SurveyExport]:
    """Read a survey export in chunks of rows.

    Parameters
    ----------
    path : Path
        The export, as for :func:`read_survey`.
    chunksize : int
        Rows per chunk. Excel workbooks come in one chunk.
    encoding : str, optional
        As for :func:`read_survey`.

    Returns
    -------
    Iterator of SurveyExport
        Consecutive chunks, each with ``row_offset`` set and the value and column labels.
        Concatenating their ``data`` gives :func:`read_survey`'s.

    Raises
    ------
    SurveyReadError
        At once for a missing, empty or mismatching file; while iterating for content that
        cannot be parsed.
    """
    if chunksize < 1:
        raise ValueError(f"chunksize must be a positive number of rows, got {chunksize}")
    path = Path(path)
    return _exports(path, _checked_format(path), chunksize, encoding)


# --- format ----------------------------------------------------------------------------------


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise SurveyReadError(
            f"{path.name}: a damaged zip or Excel file (it may have been cut off while copying); "
            f"export it again from the survey tool."
        ) from None
    if "xl/workbook.xml" in names:
        return "excel"
    raise SurveyReadError(
        f"{path.name}: a zip archive but not an Excel workbook (.xlsx). Unpack it and read the "
        f"survey file inside, or save the survey as .xlsx or CSV UTF-8."
    )


def _checked_format(path: Path) -> str:
    """The content's format, after checking that the extension does not promise another one."""
    kind = sniff_format(path)
    expected = _EXTENSION_FORMATS.get(path.suffix.lower())
    if expected is None or expected == kind or (expected, kind) == ("spss", "spss_zsav"):
        return kind
    description, extension = _CONTENT_DESCRIPTIONS[kind]
    name = _FORMAT_NAMES[expected]
    raise SurveyReadError(
        f"{path.name}: the extension says {name} ({path.suffix}) but the file is {description}; "
        f"rename it to {extension} or export it again as {name}."
    )


def _exports(
    path: Path, kind: str, chunksize: int | None, encoding: str | None
) -> Iterator[SurveyExport]:
    """The file's chunks (one when ``chunksize`` is None), refusing a file without responses."""
    if kind == "excel":
        chunks = _excel_exports(path)
    elif kind == "csv":
        chunks = _text_exports(path, chunksize, encoding)
    else:
        chunks = _statistical_exports(path, kind, chunksize, encoding)
    responded = False
    for export in chunks:
        if len(export.data):
            responded = True
            yield export
    if not responded:
        raise _no_responses(path, "only the column definitions")


# --- SPSS, Stata, SAS ------------------------------------------------------------------------

_PYREADSTAT_READERS: dict[str, Callable] = {
    "spss": pyreadstat.read_sav,
    "spss_zsav": pyreadstat.read_sav,
    "stata": pyreadstat.read_dta,
    "sas7bdat": pyreadstat.read_sas7bdat,
    "xport": pyreadstat.read_xport,
}


def _statistical_exports(
    path: Path, kind: str, chunksize: int | None, encoding: str | None
) -> Iterator[SurveyExport]:
    options: dict[str, object] = {} if kind == "xport" else {"user_missing": True}
    if encoding:
        options["encoding"] = encoding
    offset = 0
    for frame, meta in _pyreadstat_chunks(path, kind, chunksize, options):
        yield _statistical_export(path, kind, frame, meta, offset, encoding)
        offset += len(frame)


def _pyreadstat_chunks(
    path: Path, kind: str, chunksize: int | None, options: dict[str, object]
) -> Iterator[tuple[pd.DataFrame, object]]:
    read = _PYREADSTAT_READERS[kind]
    description = _CONTENT_DESCRIPTIONS[kind][0]
    try:
        if chunksize is None:
            yield read(path, **options)
        else:
            yield from pyreadstat.read_file_in_chunks(read, path, chunksize=chunksize, **options)
    except pyreadstat.ReadstatError as exc:
        # ReadStat's messages are fixed texts ("Unable to read from file"), never file content.
        reason = str(exc)
        if "encoding" in reason or "character set" in reason:
            advice = "declare the text encoding the file really uses (for example 'cp1252')"
        else:
            advice = "it may be truncated or damaged: export it again from the survey tool"
        raise SurveyReadError(
            f"{path.name}: cannot be read as {description} ({reason}); {advice}."
        ) from None
    except pyreadstat.PyreadstatError as exc:
        raise SurveyReadError(
            f"{path.name}: cannot be read as {description} ({type(exc).__name__}); export it "
            f"again from the survey tool."
        ) from None


def _statistical_export(
    path: Path, kind: str, frame: pd.DataFrame, meta, offset: int, encoding: str | None
) -> SurveyExport:
    data = frame.apply(_empty_text_as_missing)
    data.index = pd.RangeIndex(offset, offset + len(data))
    value_labels = {
        column: {_code(code): str(label) for code, label in labels.items()}
        for column, labels in meta.variable_value_labels.items()
    }
    column_labels = {c: meta.column_names_to_labels.get(c) or None for c in data.columns}
    user_missing = {}
    if kind.startswith("spss"):
        user_missing = {
            column: [(float(r["lo"]), float(r["hi"])) for r in ranges]
            for column, ranges in (meta.missing_ranges or {}).items()
        }
    _refuse_mojibake(path, data, value_labels, column_labels)
    return SurveyExport(
        path=path,
        data=data,
        value_labels=value_labels,
        column_labels=column_labels,
        user_missing=user_missing,
        file_format=kind,
        encoding=encoding or meta.file_encoding,
        row_offset=offset,
    )


def _is_text(column: pd.Series) -> bool:
    return column.dtype == object or isinstance(column.dtype, pd.StringDtype)


def _empty_text_as_missing(column: pd.Series) -> pd.Series:
    """SPSS, Stata and SAS store missing text as ""; return it as NaN like the other formats."""
    return column.mask(column.eq("")) if _is_text(column) else column


def _code(code: object) -> float | int | str:
    if isinstance(code, float) and code.is_integer():
        return int(code)
    return code  # type: ignore[return-value]


def _refuse_mojibake(
    path: Path,
    data: pd.DataFrame,
    value_labels: dict[str, dict[float | int | str, str]],
    column_labels: dict[str, str | None],
) -> None:
    """Refuse UTF-8 text decoded as Windows-1252 (old Stata releases written in UTF-8)."""
    for column, label in column_labels.items():
        if label and find_mojibake(label) is not None:
            raise _mojibake(path, f"the question text of column '{column}'")
    for column, labels in value_labels.items():
        if any(find_mojibake(label) is not None for label in labels.values()):
            raise _mojibake(path, f"the value labels of column '{column}'")
    for column in data.columns:
        if _is_text(data[column]):
            hits = data[column].map(lambda v: isinstance(v, str) and find_mojibake(v) is not None)
            if hits.any():
                raise _mojibake(path, f"column '{column}', row {hits.idxmax() + 1}")


def _mojibake(path: Path, place: str) -> SurveyReadError:
    return SurveyReadError(
        f"{path.name}: the text in {place} is UTF-8 read with the wrong encoding (å shown as "
        f"Ã¥). Read it again declaring encoding='utf-8', or export it again from the survey tool."
    )


# --- Excel -----------------------------------------------------------------------------------


def _excel_exports(path: Path) -> Iterator[SurveyExport]:
    rows = _excel_rows(path)
    # Formatted but empty cells right of the data make rows longer than the data is wide.
    width = max(
        (max(i for i, cell in enumerate(row) if cell is not None) + 1 for row in rows), default=0
    )
    cells = [list(row[:width]) + [None] * (width - len(row)) for row in rows]
    columns = _excel_columns(path, cells[0]) if cells else []
    data = pd.DataFrame(cells[1:], columns=columns, dtype="str")
    yield SurveyExport(
        path=path,
        data=data,
        value_labels={},
        column_labels=dict.fromkeys(columns),
        file_format="excel",
    )


def _excel_rows(path: Path) -> list[tuple[str | None, ...]]:
    """Rows of the first sheet that hold anything, every cell as text or None."""
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = [tuple(map(_cell_text, row)) for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    except Exception as exc:  # openpyxl raises KeyError, ValueError, XML and zip errors, ...
        raise SurveyReadError(
            f"{path.name}: cannot be read as an Excel workbook ({type(exc).__name__}); open it in "
            f"Excel and save it again as .xlsx, or export the survey as CSV UTF-8."
        ) from None
    return [row for row in rows if any(cell is not None for cell in row)]


def _cell_text(value: object) -> str | None:
    """An Excel cell as the text a CSV export would hold: 5.0 -> "5", TRUE, ISO dates."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _excel_columns(path: Path, header: list[str | None]) -> list[str]:
    """The header row's names, refusing unnamed and duplicate columns."""
    for i, name in enumerate(header):
        if name is None:
            raise SurveyReadError(
                f"{path.name}: column {openpyxl.utils.get_column_letter(i + 1)} has no name in the "
                f"header row; name it in the survey tool or the workbook and read it again."
            )
    _refuse_duplicates(path, header)
    return header  # type: ignore[return-value]


def _refuse_duplicates(path: Path, columns: list[str]) -> None:
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise SurveyReadError(
                f"{path.name}: column '{column}' appears more than once in the header row; give "
                f"the columns distinct names in the survey tool and export again."
            )
        seen.add(column)


# --- CSV and Qualtrics -----------------------------------------------------------------------


@dataclass(frozen=True)
class _TextLayout:
    delimiter: str
    columns: list[str]
    labels: list[str | None]
    skip: int  # records before the first response: header rows and blank lines
    file_format: str


def _text_exports(
    path: Path, chunksize: int | None, encoding: str | None
) -> Iterator[SurveyExport]:
    text, encoding = decode_text(path.read_bytes(), path, encoding)
    layout = _text_layout(path, text)
    del text
    column_labels = dict(zip(layout.columns, layout.labels, strict=True))
    offset = 0
    for frame in _csv_frames(path, layout, chunksize, encoding):
        yield SurveyExport(
            path=path,
            data=frame,
            value_labels={},
            column_labels=column_labels,
            file_format=layout.file_format,
            encoding=encoding,
            row_offset=offset,
        )
        offset += len(frame)


def _text_layout(path: Path, text: str) -> _TextLayout:
    """Delimiter, column names and (Qualtrics) question texts, from the first records."""
    first_line = text.lstrip("\r\n")
    delimiter = max(
        ",;\t", key=lambda d: len(next(csv.reader(io.StringIO(first_line), delimiter=d), []))
    )
    records = enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)
    filled = ((n, r) for n, r in records if any(cell.strip() for cell in r))
    try:
        found = list(itertools.islice(filled, 3))
        qualtrics = len(found) == 3 and all(map(_is_import_id, found[2][1]))
        header_rows = 3 if qualtrics else 1
        responded = len(found) > header_rows or next(filled, None) is not None
    except csv.Error as exc:  # "line contains NUL", "field larger than field limit"
        raise SurveyReadError(
            f"{path.name}: cannot be read as CSV ({exc}); export the file again."
        ) from None
    if not responded:
        what = "only Qualtrics' three header rows" if qualtrics else "only a header row"
        raise _no_responses(path, what if found else "only blank lines")
    columns = found[0][1]
    _refuse_duplicates(path, columns)
    labels: list[str | None] = [None] * len(columns)
    if qualtrics:
        texts = found[1][1]
        labels = [texts[i] or None if i < len(texts) else None for i in range(len(columns))]
    return _TextLayout(
        delimiter, columns, labels, found[header_rows - 1][0], "qualtrics" if qualtrics else "csv"
    )


def _is_import_id(cell: str) -> bool:
    """Qualtrics' third header row holds JSON such as ``{"ImportId":"QID1"}`` in every cell."""
    try:
        value = json.loads(cell)
    except ValueError:
        return False
    return isinstance(value, dict) and "ImportId" in value


def _csv_frames(
    path: Path, layout: _TextLayout, chunksize: int | None, encoding: str
) -> Iterator[pd.DataFrame]:
    """The responses as text, with pandas guessing nothing (no types, no "NA" as missing)."""
    reader = pd.read_csv(
        path,
        sep=layout.delimiter,
        header=None,
        names=layout.columns,
        skiprows=layout.skip,
        index_col=False,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        encoding=encoding,
        iterator=True,
    )
    with reader:
        while True:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", pd.errors.ParserWarning)
                    frame = reader.get_chunk(chunksize)
            except StopIteration:
                return
            except pd.errors.ParserWarning:
                raise SurveyReadError(
                    f"{path.name}: the first response has more fields than the header row has "
                    f"columns; make sure text containing '{layout.delimiter}' is quoted, or "
                    f"export the file again."
                ) from None
            except pd.errors.ParserError as exc:
                # pandas' C parser reports positions ("Expected 3 fields in line 5, saw 4").
                raise SurveyReadError(
                    f"{path.name}: cannot be read as CSV ({exc}); make sure text containing "
                    f"'{layout.delimiter}' is quoted, or export the file again."
                ) from None
            yield frame


def _no_responses(path: Path, what: str) -> SurveyReadError:
    return SurveyReadError(
        f"{path.name}: contains no responses ({what}). Check the export settings in the survey "
        f"tool (date range, completed responses only) and export it again."
    )
