"""Reading survey exports: every format round-trips, encodings are decided or refused, and every
bad file gives one clear error that names the file and never quotes a cell."""

from __future__ import annotations

import datetime as dt
import zipfile

import numpy as np
import openpyxl
import openpyxl.styles
import pandas as pd
import pytest

from pipeline.surveys.encoding import detect_encoding, find_mojibake
from pipeline.surveys.readers import (
    SurveyExport,
    SurveyReadError,
    iter_survey,
    read_survey,
    sniff_format,
)
from tests.survey_files import (
    CONSENT_SV,
    LIKERT_AR,
    LIKERT_SV,
    NORDIC_LETTERS,
    QUESTIONS_AR,
    QUESTIONS_SV,
    SURVEY_SAS7BDAT,
    survey_frame,
    survey_text,
    write_arabic_sav,
    write_csv,
    write_dta,
    write_qualtrics_csv,
    write_sav,
    write_xlsx,
    write_xport,
    write_zsav,
)

SENSITIVE = ["198005172345", "anna.svensson@example.se", "0701011234"]


def _sensitive_frame() -> pd.DataFrame:
    """Answers holding an identity number, an e-mail address and a phone number."""
    frame = survey_frame()
    frame.loc[0, "pnr"] = SENSITIVE[0]
    frame.loc[1, "comment"] = SENSITIVE[1]
    frame.loc[2, "comment"] = SENSITIVE[2]
    return frame


def _error(path, **options) -> str:
    with pytest.raises(SurveyReadError) as info:
        read_survey(path, **options)
    message = str(info.value)
    assert path.name in message
    for value in SENSITIVE:
        assert value not in message
    return message


# --- every format round-trips ------------------------------------------------------------------


def test_spss_keeps_codes_labels_user_missing_and_nordic_text(tmp_path):
    export = read_survey(write_sav(tmp_path / "intake.sav"))
    pd.testing.assert_frame_equal(export.data, survey_frame())
    assert export.data["q1"].tolist()[:3] == [1.0, 5.0, 9.0]  # 9 = don't know stays a value
    assert export.value_labels == {"consent": CONSENT_SV, "q1": LIKERT_SV, "q2": LIKERT_SV}
    assert export.value_labels["q1"][9] == "Vet ej"
    assert export.column_labels == QUESTIONS_SV
    assert export.user_missing == {"q1": [(9.0, 9.0)], "q2": [(9.0, 9.0)]}
    assert export.data["comment"].iloc[5] == "Ærlig talt: for få møder"
    assert export.data["pnr"].iloc[0] == "0012310123"
    assert (export.file_format, export.encoding, export.row_offset) == ("spss", "UTF-8", 0)
    assert export.source_file == "intake.sav"


def test_spss_missing_ranges_are_kept_as_ranges(tmp_path):
    path = write_sav(tmp_path / "s.sav", missing={"q1": [{"lo": 7, "hi": 9}], "q2": [8, 9]})
    assert sorted(read_survey(path).user_missing["q1"]) == [(7.0, 9.0)]
    assert sorted(read_survey(path).user_missing["q2"]) == [(8.0, 8.0), (9.0, 9.0)]


def test_zsav_is_read_like_sav(tmp_path):
    export = read_survey(write_zsav(tmp_path / "end.zsav"))
    pd.testing.assert_frame_equal(export.data, survey_frame())
    assert export.value_labels["q2"] == LIKERT_SV
    assert export.file_format == "spss_zsav"


def test_arabic_value_labels_and_questions_come_through(tmp_path):
    export = read_survey(write_arabic_sav(tmp_path / "intake_ar.sav"))
    assert export.value_labels["q1"][5] == "أوافق بشدة"
    assert export.value_labels["q2"] == LIKERT_AR
    assert export.column_labels == QUESTIONS_AR
    assert export.data["comment"].iloc[0] == "المرشد ساعدني كثيرا"
    assert export.data["q2"].tolist()[:3] == [2.0, 9.0, 4.0]


def test_stata_keeps_codes_and_labels(tmp_path):
    export = read_survey(write_dta(tmp_path / "intake.dta"))
    pd.testing.assert_frame_equal(export.data, survey_frame())
    assert export.value_labels == {"consent": CONSENT_SV, "q1": LIKERT_SV, "q2": LIKERT_SV}
    assert export.column_labels["q2"] == "Jag har ett nätverk i Sverige"
    assert export.file_format == "stata"


def test_stata_extended_missing_values_stay_as_letters(tmp_path):
    frame = survey_frame()
    frame["q1"] = pd.Series([1.0, "a", 9.0, "b", np.nan, 4.0], dtype=object)
    path = write_dta(tmp_path / "s.dta", frame, extended_missing={"q1": ["a", "b"]})
    assert read_survey(path).data["q1"].tolist()[:4] == [1.0, "a", 9.0, "b"]


def test_old_stata_holding_utf8_is_refused_until_declared(tmp_path):
    # Stata 12 files are Windows-1252 by definition, but pyreadstat writes UTF-8 bytes into them:
    # read by the book they would turn "hjälpte" into "hjÃ¤lpte".
    path = write_dta(tmp_path / "old.dta", version=12)
    message = _error(path)
    assert "encoding='utf-8'" in message
    export = read_survey(path, encoding="utf-8")
    assert export.data["comment"].iloc[2] == "Ålder spelar roll"
    assert export.value_labels["q1"][1] == "Instämmer inte alls"
    assert export.encoding == "utf-8"


def test_sas7bdat_written_by_haven_is_read(tmp_path):
    export = read_survey(SURVEY_SAS7BDAT)
    assert export.file_format == "sas7bdat"
    assert export.data.columns.tolist() == ["resp_id", "pnr", "consent", "q1", "q2", "comment"]
    assert export.data["resp_id"].tolist() == [101.0, 102.0, 103.0, 104.0, 105.0, 106.0]
    assert export.data["pnr"].iloc[0] == "0701234567"
    assert pd.isna(export.data["pnr"].iloc[2])
    assert export.data["q1"].tolist()[:4] == [1.0, 5.0, 9.0, 3.0]
    assert np.isnan(export.data["q1"].iloc[4])
    assert export.data["comment"].iloc[2] == "Ålder spelar roll"
    assert export.data["comment"].iloc[4] == "Mötena var för få"
    assert export.column_labels["q2"] == "Jag har ett nätverk i Sverige"
    assert export.value_labels == {}


def test_sas_transport_keeps_values_and_question_texts(tmp_path):
    export = read_survey(write_xport(tmp_path / "intake.xpt"))
    pd.testing.assert_frame_equal(export.data, survey_frame())
    assert export.column_labels["comment"] == "Övriga kommentarer"
    assert (export.file_format, export.value_labels) == ("xport", {})


def test_excel_cells_come_as_text(tmp_path):
    export = read_survey(write_xlsx(tmp_path / "intake.xlsx"))
    pd.testing.assert_frame_equal(export.data, survey_text())
    assert export.data["q1"].tolist()[:3] == ["1", "5", "9"]
    assert export.data["pnr"].iloc[0] == "0012310123"
    assert export.column_labels == dict.fromkeys(survey_frame().columns)
    assert (export.file_format, export.value_labels) == ("excel", {})


def test_excel_cells_as_a_csv_export_would_write_them(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "submitted", "ok", "score", "pnr"])
    sheet.append([1, dt.datetime(2024, 3, 1, 10, 15), True, 2.5, 198005172345])
    sheet.append([2, None, False, 3.0, "0701011234"])
    sheet["H1"].font = openpyxl.styles.Font(bold=True)  # formatted, empty: not a column
    sheet["A10"].font = openpyxl.styles.Font(bold=True)  # formatted, empty: not a response
    workbook.save(tmp_path / "cells.xlsx")
    data = read_survey(tmp_path / "cells.xlsx").data
    assert data.columns.tolist() == ["id", "submitted", "ok", "score", "pnr"]
    assert data.iloc[0].tolist() == ["1", "2024-03-01 10:15:00", "TRUE", "2.5", "198005172345"]
    assert data["score"].iloc[1] == "3" and data["pnr"].iloc[1] == "0701011234"
    assert pd.isna(data["submitted"].iloc[1]) and len(data) == 2


def test_excel_column_without_a_name_is_refused(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["id", None, "q1"])
    workbook.active.append([1, SENSITIVE[0], 2])
    workbook.save(tmp_path / "unnamed.xlsx")
    assert "column B has no name in the header row" in _error(tmp_path / "unnamed.xlsx")


@pytest.mark.parametrize(
    ("written", "sep", "detected"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ";", "utf-8-sig"),
        ("utf-16", "\t", "utf-16"),
        ("cp1252", ";", "cp1252"),
    ],
)
def test_csv_in_every_encoding_and_delimiter(tmp_path, written, sep, detected):
    export = read_survey(write_csv(tmp_path / "intake.csv", encoding=written, sep=sep))
    pd.testing.assert_frame_equal(export.data, survey_text())
    assert export.data["comment"].iloc[0] == "Bra mentor – hjälpte mig söka jobb"
    assert (export.file_format, export.encoding) == ("csv", detected)
    assert export.column_labels == dict.fromkeys(survey_frame().columns)


def test_latin1_csv_keeps_nordic_letters(tmp_path):
    frame = survey_frame().assign(comment=NORDIC_LETTERS)
    export = read_survey(write_csv(tmp_path / "intake.csv", frame, encoding="latin-1", sep=";"))
    assert export.encoding == "latin-1"
    assert export.data["comment"].tolist() == [NORDIC_LETTERS] * 6


def test_csv_guesses_no_types(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text("id;pnr;answer;score\n1;0701011234;NA;1.0\n2;;NULL;007\n", encoding="utf-8")
    data = read_survey(path).data
    assert data["pnr"].iloc[0] == "0701011234"
    assert data["answer"].tolist() == ["NA", "NULL"]
    assert data["score"].tolist() == ["1.0", "007"]
    assert pd.isna(data["pnr"].iloc[1])


# --- encodings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xef\xbb\xbfnamn\nG\xc3\xb6teborg\n", "utf-8-sig"),
        ("namn\nGöteborg\n".encode("utf-16"), "utf-16"),
        ("namn\nأوافق بشدة\n".encode(), "utf-8"),
        ("namn\nGöteborg – Malmö’s\n".encode("cp1252"), "cp1252"),
        ("namn\nSäätiö, Ødegård, Åsa\n".encode("latin-1"), "latin-1"),
        (b"plain,ascii\n1,2\n", "utf-8"),
    ],
)
def test_detect_encoding(tmp_path, raw, expected):
    assert detect_encoding(raw, tmp_path / "x.csv") == expected


@pytest.mark.parametrize(
    ("text", "encoding", "line"),
    [
        ("namn\nok\nGöteborg säga\n", "cp850", 3),  # DOS: "G”teborg s„ga"
        ("namn\nأوافق بشدة\n", "cp1256", 2),  # Arabic Windows: "ÃæÇÝÞ ÈÔÏÉ"
        ("namn\n\nПривет мир\n", "cp1251", 3),  # Cyrillic Windows: "Ïðèâåò ìèð"
        ("namn\nGöteborg\n", "mac_roman", 2),  # "Gšteborg"
    ],
)
def test_undecidable_encoding_is_refused_with_its_line(tmp_path, text, encoding, line):
    path = tmp_path / "answers.csv"
    path.write_bytes(text.encode(encoding))
    message = _error(path)
    assert f"line {line}" in message and "cannot tell the text encoding" in message
    assert "encoding=" in message
    assert text.split("\n")[line - 1].encode(encoding).decode("cp1252", "replace") not in message


def test_double_encoded_utf8_is_refused(tmp_path):
    path = tmp_path / "resaved.csv"
    path.write_text("namn;ort\nAnna;GÃ¶teborg\n", encoding="utf-8")
    message = _error(path)
    assert "line 2" in message and "twice" in message
    assert "GÃ¶teborg" not in message


def test_find_mojibake_spots_double_encoding_but_not_nordic_text():
    assert find_mojibake("Ã¥r och dag") == 0
    assert find_mojibake("svar â€“ inget") == 5
    assert find_mojibake("Ø£ÙˆØ§ÙÙ‚") == 0
    assert find_mojibake(f"{NORDIC_LETTERS} Göteborg – Malmö «Ødegård» 5 °C, 10 €") is None


def test_declared_encoding_skips_detection(tmp_path):
    path = tmp_path / "dos.csv"
    path.write_bytes("namn;ort\nÅsa;Göteborg\n".encode("cp850"))
    export = read_survey(path, encoding="cp850")
    assert export.data["ort"].tolist() == ["Göteborg"]
    assert export.encoding == "cp850"


def test_declared_encoding_that_does_not_decode_is_refused_with_its_line(tmp_path):
    path = write_csv(tmp_path / "intake.csv", _sensitive_frame(), encoding="cp1252", sep=";")
    message = _error(path, encoding="utf-8")
    assert "line 2 cannot be decoded as utf-8" in message


def test_declared_encoding_producing_mojibake_is_refused(tmp_path):
    message = _error(write_csv(tmp_path / "intake.csv", _sensitive_frame()), encoding="cp1252")
    assert "line 2" in message and "twice" in message


def test_unknown_declared_encoding_is_refused(tmp_path):
    message = _error(write_csv(tmp_path / "intake.csv"), encoding="klingon")
    assert "'klingon' is not a known text encoding" in message


# --- Qualtrics ---------------------------------------------------------------------------------


def test_qualtrics_three_header_rows(tmp_path):
    questions = {**QUESTIONS_SV, "q1": 'Jag vet, "ärligt talat", vilka jobb\njag kan söka'}
    export = read_survey(write_qualtrics_csv(tmp_path / "qualtrics.csv", questions=questions))
    assert export.file_format == "qualtrics"
    assert export.data.columns.tolist() == survey_frame().columns.tolist()
    assert export.column_labels["q1"] == 'Jag vet, "ärligt talat", vilka jobb\njag kan söka'
    assert export.column_labels["comment"] == "Övriga kommentarer"
    pd.testing.assert_frame_equal(export.data, survey_text())
    assert export.encoding == "utf-8-sig"


def test_plain_csv_with_json_in_its_third_line_only_partly_is_not_qualtrics(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text('id,meta\n1,x\n2,"{""ImportId"":""QID1""}"\n3,y\n', encoding="utf-8")
    export = read_survey(path)
    assert export.file_format == "csv"
    assert export.data["id"].tolist() == ["1", "2", "3"]


# --- chunks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("s.sav", write_sav),
        ("s.zsav", write_zsav),
        ("s.dta", write_dta),
        ("s.xpt", write_xport),
        ("s.csv", write_csv),
        ("q.csv", write_qualtrics_csv),
    ],
)
def test_chunks_add_up_to_the_whole_file(tmp_path, name, write):
    path = write(tmp_path / name, survey_frame(11))
    whole = read_survey(path)
    chunks = list(iter_survey(path, chunksize=4))
    assert [c.row_offset for c in chunks] == [0, 4, 8]
    assert [len(c.data) for c in chunks] == [4, 4, 3]
    pd.testing.assert_frame_equal(pd.concat([c.data for c in chunks]), whole.data)
    assert chunks[2].data["resp_id"].iloc[0] in (109.0, "109")
    for chunk in chunks:
        assert chunk.value_labels == whole.value_labels
        assert chunk.column_labels == whole.column_labels
        assert chunk.file_format == whole.file_format


def test_sas7bdat_chunks():
    chunks = list(iter_survey(SURVEY_SAS7BDAT, chunksize=4))
    assert [(c.row_offset, len(c.data)) for c in chunks] == [(0, 4), (4, 2)]
    assert chunks[1].data.index.tolist() == [4, 5]
    assert chunks[1].data["resp_id"].tolist() == [105.0, 106.0]


def test_excel_comes_in_one_chunk(tmp_path):
    chunks = list(iter_survey(write_xlsx(tmp_path / "s.xlsx", survey_frame(11)), chunksize=4))
    assert [(c.row_offset, len(c.data)) for c in chunks] == [(0, 11)]


def test_chunksize_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="chunksize"):
        iter_survey(write_csv(tmp_path / "s.csv"), chunksize=0)


# --- format from content -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("write", "expected"),
    [
        (write_sav, "spss"),
        (write_zsav, "spss_zsav"),
        (write_dta, "stata"),
        (write_xport, "xport"),
        (write_xlsx, "excel"),
        (write_csv, "csv"),
        (write_qualtrics_csv, "csv"),
    ],
)
def test_sniff_format_reads_the_content_not_the_extension(tmp_path, write, expected):
    assert sniff_format(write(tmp_path / "export.dat")) == expected


def test_sniff_format_knows_sas7bdat_and_old_stata(tmp_path):
    assert sniff_format(SURVEY_SAS7BDAT) == "sas7bdat"
    assert sniff_format(write_dta(tmp_path / "old.dta", version=12)) == "stata"


def test_unknown_extension_is_read_by_content(tmp_path):
    export = read_survey(write_sav(tmp_path / "export.dat"))
    assert export.file_format == "spss" and len(export.data) == 6


def test_csv_named_sav_is_refused(tmp_path):
    message = _error(write_csv(tmp_path / "intake.sav", _sensitive_frame()))
    assert message == (
        "intake.sav: the extension says SPSS (.sav) but the file is a CSV text file; rename it "
        "to .csv or export it again as SPSS."
    )


@pytest.mark.parametrize(
    ("write", "name", "says", "is_", "rename"),
    [
        (write_sav, "intake.csv", "CSV (.csv)", "an SPSS file", ".sav"),
        (write_xlsx, "intake.xls", "old Excel (.xls)", "an Excel workbook", ".xlsx"),
        (write_dta, "intake.sav", "SPSS (.sav)", "a Stata file", ".dta"),
        (write_csv, "intake.xlsx", "Excel (.xlsx)", "a CSV text file", ".csv"),
    ],
)
def test_extension_disagreeing_with_content_is_refused(tmp_path, write, name, says, is_, rename):
    message = _error(write(tmp_path / name, _sensitive_frame()))
    assert f"the extension says {says} but the file is {is_}; rename it to {rename}" in message


def test_zsav_content_in_a_sav_file_is_accepted(tmp_path):
    assert read_survey(write_zsav(tmp_path / "intake.sav")).file_format == "spss_zsav"


# --- bad files ---------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    message = _error(tmp_path / "intake.sav")
    assert "not found" in message and str(tmp_path) in message


def test_missing_file_is_reported_at_once_when_iterating(tmp_path):
    with pytest.raises(SurveyReadError, match="intake.csv: survey export not found"):
        iter_survey(tmp_path / "intake.csv")


def test_empty_file(tmp_path):
    path = tmp_path / "intake.csv"
    path.write_bytes(b"")
    assert "empty (0 bytes)" in _error(path)


@pytest.mark.parametrize(
    ("write", "name", "what"),
    [
        (write_csv, "header.csv", "only a header row"),
        (write_qualtrics_csv, "qualtrics.csv", "only Qualtrics' three header rows"),
        (write_sav, "header.sav", "only the column definitions"),
        (write_dta, "header.dta", "only the column definitions"),
        (write_xlsx, "header.xlsx", "only the column definitions"),
    ],
)
def test_file_without_responses(tmp_path, write, name, what):
    path = write(tmp_path / name, survey_frame().iloc[:0])
    message = _error(path)
    assert f"contains no responses ({what})" in message
    with pytest.raises(SurveyReadError, match="no responses"):
        list(iter_survey(path, chunksize=2))


def test_csv_with_blank_lines_after_the_header_has_no_responses(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("id;pnr\n\n;\n\n", encoding="utf-8")
    assert "only a header row" in _error(path)


def test_unknown_binary_file(tmp_path):
    path = tmp_path / "intake.sav"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    assert "unrecognised binary file" in _error(path)


def test_old_xls_workbook(tmp_path):
    path = tmp_path / "intake.xls"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600))
    message = _error(path)
    assert ".xls" in message and "save it as Excel Workbook (.xlsx)" in message


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "intake.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("intake.csv", "id\n1\n")
    assert "a zip archive but not an Excel workbook" in _error(path)


@pytest.mark.parametrize(
    ("write", "name", "keep"),
    [(write_sav, "cut.sav", 0.5), (write_sav, "cut.sav", 0.95), (write_xport, "cut.xpt", 0.5)],
)
def test_truncated_file(tmp_path, write, name, keep):
    path = write(tmp_path / name, _sensitive_frame())
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    message = _error(path)
    assert "cannot be read as" in message and "export it again" in message


def test_truncated_workbook(tmp_path):
    path = write_xlsx(tmp_path / "cut.xlsx", _sensitive_frame())
    path.write_bytes(path.read_bytes()[:2000])
    assert "damaged" in _error(path)


def test_truncated_file_fails_when_iterated(tmp_path):
    path = write_sav(tmp_path / "cut.sav", _sensitive_frame())
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(SurveyReadError, match="cut.sav: cannot be read as an SPSS file"):
        list(iter_survey(path, chunksize=2))


def test_csv_row_with_too_many_fields(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(f"id;pnr\n1;{SENSITIVE[0]}\n2;{SENSITIVE[2]};extra\n", encoding="utf-8")
    assert "line 3" in _error(path)


def test_csv_first_row_with_too_many_fields(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(f"id;pnr\n1;{SENSITIVE[0]};{SENSITIVE[1]}\n", encoding="utf-8")
    assert "more fields than the header row" in _error(path)


def test_duplicate_column_names(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(f"id,q1,q1\n1,{SENSITIVE[0]},2\n", encoding="utf-8")
    assert "column 'q1' appears more than once" in _error(path)


def test_export_is_frozen(tmp_path):
    export = read_survey(write_csv(tmp_path / "s.csv"))
    assert isinstance(export, SurveyExport)
    with pytest.raises(AttributeError):
        export.row_offset = 3  # type: ignore[misc]
