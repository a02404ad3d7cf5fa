"""Codebooks: validation, coverage of new exports (`codebook check`), and one survey cleaned
identically from every export format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.cli import main
from pipeline.surveys import (
    CodebookError,
    clean_surveys,
    find_gaps,
    format_gaps,
    load_codebook,
    read_survey,
)
from pipeline.surveys.codebook import item_table, label_table
from pipeline.synth.identity import make_personnummer
from tests import survey_files as files

DEMO_CODEBOOK = Path(__file__).resolve().parent.parent / "config/codebooks/mentor_survey.yml"
KEY = bytes(range(32))

# A codebook for the fixture files of tests/survey_files.py: items q1 and q2.
FIXTURE_SETTINGS = {
    "family": "fixture_survey",
    "title": "Fixture survey",
    "languages": ["sv", "ar"],
    "waves": ["intake"],
    "scales": {
        "agree5": {
            "kind": "likert",
            "direction": "ascending",
            "dont_know": 9,
            "labels": {c: {"sv": files.LIKERT_SV[c], "ar": files.LIKERT_AR[c]}
                       for c in files.LIKERT_SV},
        },
        "yes_no": {
            "kind": "categorical",
            "labels": {c: {"sv": files.CONSENT_SV[c], "ar": files.CONSENT_AR[c]}
                       for c in files.CONSENT_SV},
        },
    },
    "items": {
        "q1": {"scale": "agree5", "text": {"sv": files.QUESTIONS_SV["q1"],
                                           "ar": files.QUESTIONS_AR["q1"]}},
        "q2": {"scale": "agree5", "text": {"sv": files.QUESTIONS_SV["q2"],
                                           "ar": files.QUESTIONS_AR["q2"]}},
    },
    "free_text": "scrub",
    "sources": {
        name: {
            "files": [pattern],
            "tool": tool,
            "revision": "1",
            "wave": "intake",
            "language": language,
            "columns": {"identity": "pnr", "consent": "consent", "response_id": "resp_id",
                        "free_text": ["comment"]},
            "items": {"q1": "q1", "q2": "q2"},
        }
        for name, pattern, tool, language in [
            ("spss", "survey_sv.sav", "netigate", "sv"),
            ("spss_compressed", "survey.zsav", "netigate", "sv"),
            ("spss_arabic", "survey_ar.sav", "netigate", "ar"),
            ("stata", "survey.dta", "stata", "sv"),
            ("sas", "survey.sas7bdat", "sas", "sv"),
            ("sas_transport", "survey.xpt", "sas", "sv"),
            ("excel", "survey.xlsx", "surveymonkey", "sv"),
            ("csv_cp1252", "survey_cp1252.csv", "limesurvey", "sv"),
            ("qualtrics", "survey_qualtrics.csv", "qualtrics", "sv"),
        ]
    },
}


def write_codebook(folder: Path, settings: dict) -> Path:
    path = folder / "codebook.yml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return path


def valid_frame() -> pd.DataFrame:
    """The fixture answers with valid, distinct personnummer."""
    frame = files.survey_frame()
    frame["pnr"] = [make_personnummer(dt.date(1970 + k, 2 + k, 3 + k), 300 + k)
                    for k in range(len(frame))]
    return frame


# --- the demo codebook ------------------------------------------------------------------------


def test_demo_codebook_has_every_text_and_label_in_every_language(tmp_path):
    codebook = load_codebook(DEMO_CODEBOOK)
    assert codebook.languages == ["sv", "en", "da", "fi", "ar"]
    items = item_table(codebook)
    assert {f"text_{lang}" for lang in codebook.languages} <= set(items.columns)
    assert items[[f"text_{lang}" for lang in codebook.languages]].notna().all().all()
    labels = label_table(codebook)
    path = tmp_path / "labels.parquet"
    labels.to_parquet(path)
    arabic = pd.read_parquet(path).query("scale == 'agree5' and language == 'ar' and code == 5")
    assert arabic["label"].tolist() == ["أوافق بشدة"]
    assert items.set_index("item").loc["mentor_useful", "waves"] == "end"
    assert items.set_index("item").loc["meetings", "kind"] == "number"


def test_codebook_errors_name_the_key(tmp_path):
    settings = yaml.safe_load(DEMO_CODEBOOK.read_text(encoding="utf-8"))
    settings["items"]["conf_job"]["scael"] = "agree5"
    with pytest.raises(CodebookError, match=r"unknown key 'items\.conf_job\.scael'.*scale"):
        load_codebook(write_codebook(tmp_path, settings))
    settings = yaml.safe_load(DEMO_CODEBOOK.read_text(encoding="utf-8"))
    settings["scales"]["agree5"]["labels"][4]["en"] = "Strongly agree"
    with pytest.raises(CodebookError, match="'Strongly agree' means code 4 and code 5"):
        load_codebook(write_codebook(tmp_path, settings))
    settings = yaml.safe_load(DEMO_CODEBOOK.read_text(encoding="utf-8"))
    del settings["items"]["network"]["text"]["fi"]
    settings["sources"]["netigate_end_en"]["items"]["satisfaction"] = "sat"
    with pytest.raises(CodebookError) as error:
        load_codebook(write_codebook(tmp_path, settings))
    assert "item 'network' has no text in ['fi']" in str(error.value)
    assert "source 'netigate_end_en': unknown items ['satisfaction']" in str(error.value)


# --- codebook check on a new export -----------------------------------------------------------


def test_check_lists_every_unknown_column_and_label_with_what_to_add(tmp_path):
    frame = files.survey_text(valid_frame())
    frame["q1"] = ["Instämmer helt", "Vet inte", "Varken eller", None, "Instämmer helt", "??"]
    frame["Status"] = "IP Address"
    path = files.write_qualtrics_csv(tmp_path / "survey_qualtrics.csv", frame)
    codebook = load_codebook(write_codebook(tmp_path, FIXTURE_SETTINGS))
    gaps = find_gaps(read_survey(path), codebook)
    found = {(g.kind, g.column, g.label) for g in gaps}
    assert found == {
        ("unknown_column", "Status", None),
        ("unmapped_label", "q1", "Vet inte"),
        ("unmapped_label", "q1", "??"),
    }
    report = format_gaps(gaps)
    assert "survey_qualtrics.csv: 3 gap(s)" in report
    assert "sources.qualtrics.columns.free_text or columns.ignore" in report
    assert "scales.agree5.labels" in report and '{sv: "Vet inte"}' in report


def test_check_drafts_a_source_for_an_export_no_source_covers(tmp_path):
    path = files.write_sav(tmp_path / "followup_sv.sav", valid_frame())
    codebook = load_codebook(write_codebook(tmp_path, FIXTURE_SETTINGS))
    (gap,) = find_gaps(read_survey(path), codebook)
    assert gap.kind == "no_source"
    assert "files: ['followup_sv.sav']" in gap.fix
    assert "      q1: q1" in gap.fix and "<item code or move to columns.ignore>: pnr" in gap.fix


def test_cli_codebook_check_exit_status_and_report(tmp_path, capsys):
    codebook = write_codebook(tmp_path, FIXTURE_SETTINGS)
    covered = files.write_sav(tmp_path / "survey_sv.sav", valid_frame())
    assert main(["codebook", "check", str(covered), "--codebook", str(codebook)]) == 0
    assert "covers every column and answer label" in capsys.readouterr().out
    frame = valid_frame().assign(extra=1.0)
    uncovered = files.write_sav(tmp_path / "survey.zsav", frame, compress=True)
    assert main(["codebook", "check", str(uncovered), str(covered),
                 "--codebook", str(codebook)]) == 1
    out = capsys.readouterr().out
    assert "survey.zsav: 1 gap(s)" in out and "column 'extra': unknown column" in out
    assert main(["codebook", "check", str(covered)]) == 2  # neither --codebook nor --config
    assert "--codebook" in capsys.readouterr().err


def test_cli_codebook_check_passes_on_the_demo_exports(small_world, capsys):
    config_path, config = small_world
    paths = [str(p) for p in config.survey_paths]
    assert main(["codebook", "check", *paths, "--config", str(config_path)]) == 0


# --- one survey, every format -----------------------------------------------------------------


def test_every_export_format_gives_the_same_cleaned_answers(tmp_path):
    frame = valid_frame()
    text = files.survey_text(frame)
    paths = [
        files.write_sav(tmp_path / "survey_sv.sav", frame),
        files.write_zsav(tmp_path / "survey.zsav", frame),
        files.write_arabic_sav(tmp_path / "survey_ar.sav", frame),
        files.write_dta(tmp_path / "survey.dta", frame),
        files.write_xport(tmp_path / "survey.xpt", frame),
        files.write_xlsx(tmp_path / "survey.xlsx", text),
        files.write_csv(tmp_path / "survey_cp1252.csv", text, encoding="cp1252", sep=";"),
        files.write_qualtrics_csv(tmp_path / "survey_qualtrics.csv", text),
    ]
    codebook = load_codebook(write_codebook(tmp_path, FIXTURE_SETTINGS))
    cleaning = clean_surveys(paths, codebook, KEY)
    accounting = cleaning.accounting.set_index("source_file")
    assert (accounting["rows_read"] == 6).all()
    assert (accounting["refused_consent"] == 1).all()
    # the same person answered in every file: one kept, the others duplicates
    assert len(cleaning.wide) == 5
    quarantine = cleaning.quarantine
    assert set(quarantine["reason"]) == {"duplicate"} and len(quarantine) == 5 * 7
    answers = pd.concat([cleaning.wide[["pseudonym", "q1", "q2"]],
                         quarantine[["pseudonym", "q1", "q2"]]])
    per_person = answers.groupby("pseudonym")[["q1", "q2"]].nunique(dropna=False)
    assert (per_person == 1).all().all(), "a format changed an answer"
    statuses = cleaning.responses.groupby("status").size()
    assert statuses["dont_know"] == 1 and statuses["item_nonresponse"] == 2  # of kept rows
    texts = cleaning.free_text["text"].tolist()
    assert "Bra mentor – hjälpte mig söka jobb" in texts
    assert "Ærlig talt: for få møder" in texts


def test_a_sas_data_set_is_cleaned_as_canonical_codes(tmp_path):
    codebook = load_codebook(write_codebook(tmp_path, FIXTURE_SETTINGS))
    cleaning = clean_surveys([files.SURVEY_SAS7BDAT], codebook, KEY)
    row = cleaning.accounting.iloc[0]
    assert (row["rows_read"], row["rows_excluded"]) == (6, 1)
    assert row["rows_read"] == row["rows_kept"] + row["rows_quarantined"] + row["rows_excluded"]
    assert set(cleaning.quarantine["detail"]) == {"bad_checksum"}
    kept = cleaning.responses.set_index("item")
    assert len(cleaning.wide) == 2 and set(kept["status"]) <= {"answered", "dont_know",
                                                                "item_nonresponse"}
