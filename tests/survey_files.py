"""Small survey files in every format survey tools deliver, written for tests.

Each ``write_*`` function writes one file from a DataFrame (by default :func:`survey_frame`, six
responses in Swedish) and its labels, and returns the path. The numbers are what SPSS, Stata and
SAS hold (float codes, 9 = don't know); CSV and Excel files hold the same answers as text
(:func:`survey_text`). ``.sas7bdat`` cannot be written from Python: :data:`SURVEY_SAS7BDAT` is a
stored file made by ``tests/fixtures/surveys/make_survey_sas7bdat.R``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

SURVEY_SAS7BDAT = Path(__file__).parent / "fixtures" / "surveys" / "survey.sas7bdat"

LIKERT_SV = {
    1: "Instämmer inte alls",
    2: "Instämmer delvis inte",
    3: "Varken eller",
    4: "Instämmer delvis",
    5: "Instämmer helt",
    9: "Vet ej",
}
LIKERT_AR = {
    1: "لا أوافق بشدة",
    2: "لا أوافق",
    3: "محايد",
    4: "أوافق",
    5: "أوافق بشدة",
    9: "لا أعرف",
}
CONSENT_SV = {1: "Ja", 2: "Nej"}
CONSENT_AR = {1: "نعم", 2: "لا"}
QUESTIONS_SV = {
    "resp_id": "Svars-id",
    "pnr": "Personnummer",
    "consent": "Jag samtycker till att mina svar används i utvärderingen",
    "q1": "Jag vet vilka jobb jag kan söka",
    "q2": "Jag har ett nätverk i Sverige",
    "comment": "Övriga kommentarer",
}
QUESTIONS_AR = {
    "resp_id": "رقم الاستجابة",
    "pnr": "الرقم الشخصي",
    "consent": "أوافق على استخدام إجاباتي في التقييم",
    "q1": "أعرف الوظائف التي يمكنني التقدم إليها",
    "q2": "لدي شبكة علاقات في السويد",
    "comment": "تعليقات أخرى",
}
NORDIC_LETTERS = "å ä ö æ ø Å Ä Ö Æ Ø"


def survey_frame(n: int = 6) -> pd.DataFrame:
    """``n`` responses as SPSS holds them: float codes, text as str, missing as NaN.

    Parameters
    ----------
    n : int
        Number of responses; the first six are fixed, later ones repeat their answers.

    Returns
    -------
    DataFrame
        ``resp_id``, ``pnr`` (text with leading zeros), ``consent`` (1 yes, 2 no), ``q1`` and
        ``q2`` (1-5, 9 = don't know, NaN unanswered) and ``comment`` (Nordic letters, an
        en dash, empty answers).
    """
    pnr = [
        "0012310123",
        "198005172345",
        "0701011234",
        "19921103-8718",
        "200001019876",
        "0105051234",
    ]
    comments = [
        "Bra mentor – hjälpte mig söka jobb",
        None,
        "Ålder spelar roll",
        "Mødet var godt, tak",
        "Kävin kurssilla",
        "Ærlig talt: for få møder",
    ]
    cycle = [i % 6 for i in range(n)]
    return pd.DataFrame(
        {
            "resp_id": np.arange(101, 101 + n, dtype="float64"),
            "pnr": pd.Series([pnr[i] for i in cycle], dtype="str"),
            "consent": [[1.0, 1.0, 2.0, 1.0, 1.0, 1.0][i] for i in cycle],
            "q1": [[1.0, 5.0, 9.0, 3.0, np.nan, 4.0][i] for i in cycle],
            "q2": [[2.0, 9.0, 4.0, 5.0, 1.0, np.nan][i] for i in cycle],
            "comment": pd.Series([comments[i] for i in cycle], dtype="str"),
        }
    )


def survey_text(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The answers as a CSV or Excel export holds them: every cell as text, NaN when empty.

    Parameters
    ----------
    frame : DataFrame, optional
        Defaults to :func:`survey_frame`.

    Returns
    -------
    DataFrame
        Integral floats written without decimals (``1.0`` -> ``"1"``), columns of dtype str.
    """
    frame = survey_frame() if frame is None else frame

    def text(value: object) -> str | None:
        if pd.isna(value):
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return frame.apply(lambda column: column.map(text).astype("str"))


def write_sav(
    path: Path,
    frame: pd.DataFrame | None = None,
    *,
    value_labels: dict | None = None,
    column_labels: dict | None = None,
    missing: dict | None = None,
    compress: bool = False,
) -> Path:
    """Write an SPSS ``.sav`` (or, with ``compress``, ``.zsav``) export.

    Parameters
    ----------
    path : Path
        Where to write.
    frame : DataFrame, optional
        Defaults to :func:`survey_frame`.
    value_labels, column_labels : dict, optional
        Default to the Swedish consent and Likert labels and question texts.
    missing : dict, optional
        SPSS missing values per column; defaults to 9 = don't know for ``q1`` and ``q2``.
    compress : bool
        Write the zlib-compressed ``.zsav`` layout.

    Returns
    -------
    Path
    """
    frame = survey_frame() if frame is None else frame
    pyreadstat.write_sav(
        frame,
        path,
        column_labels=QUESTIONS_SV if column_labels is None else column_labels,
        variable_value_labels=_labels(value_labels, CONSENT_SV, LIKERT_SV),
        missing_ranges={"q1": [9], "q2": [9]} if missing is None else missing,
        compress=compress,
    )
    return Path(path)


def write_zsav(path: Path, frame: pd.DataFrame | None = None, **labels) -> Path:
    """Write a compressed SPSS ``.zsav`` export; keywords as for :func:`write_sav`."""
    return write_sav(path, frame, compress=True, **labels)


def write_arabic_sav(path: Path, frame: pd.DataFrame | None = None) -> Path:
    """Write an SPSS export whose value labels and question texts are in Arabic.

    Parameters
    ----------
    path : Path
        Where to write.
    frame : DataFrame, optional
        Defaults to :func:`survey_frame` with Arabic comments.

    Returns
    -------
    Path
    """
    if frame is None:
        frame = survey_frame()
        frame["comment"] = frame["comment"].where(frame["comment"].isna(), "المرشد ساعدني كثيرا")
    return write_sav(
        path,
        frame,
        value_labels=_labels(None, CONSENT_AR, LIKERT_AR),
        column_labels=QUESTIONS_AR,
    )


def write_dta(
    path: Path,
    frame: pd.DataFrame | None = None,
    *,
    value_labels: dict | None = None,
    column_labels: dict | None = None,
    extended_missing: dict[str, list[str]] | None = None,
    version: int = 15,
) -> Path:
    """Write a Stata ``.dta`` export.

    Parameters
    ----------
    path : Path
        Where to write.
    frame : DataFrame, optional
        Defaults to :func:`survey_frame`. Extended missing values are the strings ``"a"``-``"z"``
        in a numeric column.
    value_labels, column_labels : dict, optional
        Default to the Swedish labels.
    extended_missing : dict, optional
        ``{column: ["a", ...]}``: letters written as Stata's ``.a``-``.z``.
    version : int
        Stata file version; 14 and later (release 118+) are UTF-8, earlier ones Windows-1252,
        although pyreadstat writes UTF-8 bytes into them too.

    Returns
    -------
    Path
    """
    frame = survey_frame() if frame is None else frame
    pyreadstat.write_dta(
        frame,
        path,
        column_labels=QUESTIONS_SV if column_labels is None else column_labels,
        variable_value_labels=_labels(value_labels, CONSENT_SV, LIKERT_SV),
        missing_user_values=extended_missing,
        version=version,
    )
    return Path(path)


def write_xport(
    path: Path, frame: pd.DataFrame | None = None, *, column_labels: dict | None = None
) -> Path:
    """Write a SAS transport (``.xpt``, version 8) export; it holds no value labels.

    Parameters
    ----------
    path : Path
        Where to write.
    frame : DataFrame, optional
        Defaults to :func:`survey_frame`.
    column_labels : dict, optional
        Defaults to the Swedish question texts.

    Returns
    -------
    Path
    """
    frame = survey_frame() if frame is None else frame
    pyreadstat.write_xport(
        frame,
        path,
        column_labels=QUESTIONS_SV if column_labels is None else column_labels,
        table_name="SURVEY",
    )
    return Path(path)


def write_xlsx(path: Path, frame: pd.DataFrame | None = None) -> Path:
    """Write an Excel ``.xlsx`` export: numbers as number cells, text as text cells.

    Parameters
    ----------
    path : Path
        Where to write.
    frame : DataFrame, optional
        Defaults to :func:`survey_frame`.

    Returns
    -------
    Path
    """
    frame = survey_frame() if frame is None else frame
    frame.to_excel(path, index=False, sheet_name="Svar", engine="openpyxl")
    return Path(path)


def write_csv(
    path: Path,
    frame: pd.DataFrame | None = None,
    *,
    encoding: str = "utf-8",
    sep: str = ",",
) -> Path:
    """Write a CSV export of :func:`survey_text` in a given encoding and delimiter.

    Parameters
    ----------
    path : Path
        Where to write.
    frame : DataFrame, optional
        Defaults to :func:`survey_frame`.
    encoding : str
        ``"utf-8"``, ``"utf-8-sig"`` (with byte order mark), ``"utf-16"``, ``"cp1252"``,
        ``"latin-1"``, ... Characters the encoding lacks raise ``UnicodeEncodeError``.
    sep : str
        ``","``, ``";"`` (Nordic Excel) or ``"\\t"``.

    Returns
    -------
    Path
    """
    survey_text(frame).to_csv(path, index=False, sep=sep, encoding=encoding, lineterminator="\r\n")
    return Path(path)


def write_qualtrics_csv(
    path: Path,
    frame: pd.DataFrame | None = None,
    *,
    questions: dict[str, str] | None = None,
) -> Path:
    """Write a Qualtrics CSV export: UTF-8 with byte order mark and three header rows.

    Parameters
    ----------
    path : Path
        Where to write.
    frame : DataFrame, optional
        Defaults to :func:`survey_frame`; no rows gives a file of header rows only.
    questions : dict, optional
        Question text per column (the second header row); defaults to the Swedish ones.

    Returns
    -------
    Path
        Row 1 holds the column ids, row 2 the question texts, row 3 ``{"ImportId":"QID1"}``.
    """
    text = survey_text(frame)
    questions = QUESTIONS_SV if questions is None else questions
    import_ids = [
        json.dumps({"ImportId": f"QID{i}"}, separators=(",", ":"))
        for i in range(1, len(text.columns) + 1)
    ]
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(text.columns)
        writer.writerow([questions.get(c, c) for c in text.columns])
        writer.writerow(import_ids)
        writer.writerows(text.astype(object).where(text.notna(), "").itertuples(index=False))
    return Path(path)


def _labels(given: dict | None, consent: dict, likert: dict) -> dict:
    return {"consent": consent, "q1": likert, "q2": likert} if given is None else given
