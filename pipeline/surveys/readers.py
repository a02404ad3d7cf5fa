"""Reading survey exports (SPSS ``.sav``) as raw codes with their labels."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyreadstat


class SurveyReadError(RuntimeError):
    """A survey export that is missing or cannot be read; the message names the file."""


@dataclass(frozen=True)
class SurveyExport:
    """One survey export as delivered by the survey tool.

    Attributes
    ----------
    path : Path
        The file read.
    data : DataFrame
        One row per submission, answers as raw numeric codes (user-missing codes such as
        9 = don't know are kept, not turned into NaN).
    value_labels : dict
        ``{column: {code: label}}`` in the export's language.
    column_labels : dict
        ``{column: question text or None}``.
    language : str or None
        From the file name suffix (``intake_sv.sav`` → ``"sv"``), else from a single-valued
        ``lang`` column, else None.
    user_missing : dict
        ``{column: [codes]}`` declared as user-missing in the file (discrete values and ranges
        as ``(lo, hi)``).
    """

    path: Path
    data: pd.DataFrame
    value_labels: dict[str, dict[float | int, str]]
    column_labels: dict[str, str | None]
    language: str | None
    user_missing: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def source_file(self) -> str:
        """File name used to refer to this export in quarantine and accounting tables."""
        return self.path.name

    @property
    def wave(self) -> str:
        """Survey wave from the file name prefix: ``end_sv.sav`` → ``"end"``."""
        return self.path.stem.split("_")[0].lower()


def read_survey(path: Path) -> SurveyExport:
    """Read an SPSS survey export with its value and variable labels.

    Parameters
    ----------
    path : Path
        An ``.sav`` file exported from the survey tool.

    Returns
    -------
    SurveyExport
        Raw codes, labels and the questionnaire language.

    Raises
    ------
    SurveyReadError
        If the file is missing, is not an ``.sav`` file or cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise SurveyReadError(
            f"{path}: survey export not found. Export the survey from the survey tool as SPSS "
            f"(.sav) into this location, or correct the file list (data.surveys) in the study "
            f"configuration."
        )
    if path.suffix.lower() != ".sav":
        raise SurveyReadError(
            f"{path}: expected an SPSS export (.sav), got '{path.suffix or 'no suffix'}'. "
            f"Export the survey again as SPSS (.sav) with value labels."
        )
    try:
        data, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except Exception as exc:  # pyreadstat raises several unrelated exception types
        raise SurveyReadError(
            f"{path}: cannot be read as an SPSS file ({type(exc).__name__}: {exc}). The export "
            f"may be incomplete or in another format; export it again from the survey tool as "
            f"SPSS (.sav)."
        ) from exc
    value_labels = {
        column: {_code(code): str(label) for code, label in labels.items()}
        for column, labels in meta.variable_value_labels.items()
    }
    user_missing = {
        column: [(float(r["lo"]), float(r["hi"])) for r in ranges]
        for column, ranges in (meta.missing_ranges or {}).items()
    }
    return SurveyExport(
        path=path,
        data=data,
        value_labels=value_labels,
        column_labels=dict(meta.column_names_to_labels),
        language=_language(path, data),
        user_missing=user_missing,
    )


def _code(code: object) -> float | int:
    if isinstance(code, float) and code.is_integer():
        return int(code)
    return code  # type: ignore[return-value]


def _language(path: Path, data: pd.DataFrame) -> str | None:
    match = re.search(r"_([a-z]{2})$", path.stem.lower())
    if match:
        return match.group(1)
    if "lang" in data.columns:
        values = {str(v).strip().lower() for v in data["lang"].dropna() if str(v).strip()}
        if len(values) == 1:
            return values.pop()
    return None
