"""Reading and cleaning survey exports: quarantine, exclusions, accounting, no personal data."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.pseudonymise import normalise_personnummer, pseudonymise
from pipeline.surveys import (
    StaffTestRules,
    SurveyAccountingError,
    SurveyCleaningError,
    SurveyExport,
    SurveyReadError,
    clean_surveys,
    read_survey,
)
from pipeline.synth.identity import make_personnummer
from pipeline.synth.surveys import PROGRAMME_EMAIL_DOMAIN, write_surveys
from tests.factories import make_participants

KEY = bytes(range(32))
FILES = ("intake_sv.sav", "intake_en.sav", "end_sv.sav", "end_en.sav")
QUARANTINE_KINDS = {"staff_test", "invalid_id", "duplicate"}
LIKERT = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neutral",
    4: "Agree",
    5: "Strongly agree",
    9: "Don't know",
}




@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("surveys")
    people = make_participants(160)
    planted = write_surveys(people, out, np.random.default_rng(21), dt.date(2024, 6, 30))
    exports = [read_survey(out / f) for f in FILES]
    rules = StaffTestRules(email_domains=(PROGRAMME_EMAIL_DOMAIN,))
    cleaning = clean_surveys(exports, KEY, staff_rules=rules)
    return people, planted, exports, cleaning


def _resp_id(exports, file, row) -> int:
    export = next(e for e in exports if e.source_file == file)
    return int(export.data["resp_id"].iloc[row])


def _export(name: str, rows: list[dict], labels: dict | None = None) -> SurveyExport:
    """A hand-made export (no file needed)."""
    data = pd.DataFrame(rows)
    if "submitted" in data:
        data["submitted"] = pd.to_datetime(data["submitted"])
    labels = labels if labels is not None else {"conf_job": LIKERT, "consent": {1: "Yes", 2: "No"}}
    return SurveyExport(
        path=Path(name), data=data, value_labels=labels, column_labels={}, language=name[-6:-4]
    )


PNR_A = make_personnummer(dt.date(1980, 5, 17), 234)
PNR_B = make_personnummer(dt.date(1992, 11, 3), 871, coordination=True)


# --- reading ----------------------------------------------------------------------------------


def test_read_survey_returns_raw_codes_labels_and_language(synthetic):
    _, _, exports, _ = synthetic
    intake_sv = exports[0]
    assert intake_sv.language == "sv" and intake_sv.wave == "intake"
    assert intake_sv.value_labels["conf_job"][9] == "Vet ej"
    assert intake_sv.column_labels["network"] == "Jag har ett yrkesnätverk i Sverige"
    assert (intake_sv.data["conf_job"] == 9).any(), "user-missing 9 must stay a code"
    assert intake_sv.user_missing["conf_job"] == [(9.0, 9.0)]


def test_read_survey_errors_name_the_file(tmp_path):
    with pytest.raises(SurveyReadError, match=r"end_sv\.sav.*not found.*Export"):
        read_survey(tmp_path / "end_sv.sav")
    broken = tmp_path / "intake_sv.sav"
    broken.write_bytes(b"this is not an SPSS file")
    with pytest.raises(SurveyReadError, match=r"intake_sv\.sav.*cannot be read"):
        read_survey(broken)
    csv = tmp_path / "intake_sv.csv"
    csv.write_text("a,b\n1,2\n")
    with pytest.raises(SurveyReadError, match=r"intake_sv\.csv.*SPSS"):
        read_survey(csv)


# --- the synthetic exports end to end ---------------------------------------------------------


def test_quarantine_is_exactly_the_planted_problems(synthetic):
    _, planted, exports, cleaning = synthetic
    found = {
        (f, _resp_id(exports, f, r), reason)
        for f, r, reason in cleaning.quarantine[["source_file", "source_row", "reason"]].itertuples(
            index=False
        )
    }
    expected = {
        (p["file"], p["resp_id"], p["problem"]) for p in planted if p["problem"] in QUARANTINE_KINDS
    }
    assert found == expected
    assert set(cleaning.quarantine["reason"]) == QUARANTINE_KINDS
    invalid = cleaning.quarantine[cleaning.quarantine["reason"] == "invalid_id"]
    assert invalid["pseudonym"].map(lambda v: v is None).all()
    # duplicates always have a valid number; staff tests may have none
    rest = cleaning.quarantine[cleaning.quarantine["reason"] == "duplicate"]
    assert rest["pseudonym"].map(lambda v: isinstance(v, str) and len(v) == 32).all()


def test_exclusions_are_exactly_the_refused_consents(synthetic):
    _, planted, exports, cleaning = synthetic
    found = {
        (f, _resp_id(exports, f, r))
        for f, r in cleaning.excluded[["source_file", "source_row"]].itertuples(index=False)
    }
    expected = {(p["file"], p["resp_id"]) for p in planted if p["problem"] == "refused_consent"}
    assert found == expected
    assert set(cleaning.excluded["reason"]) == {"refused_consent"}
    assert "pseudonym" not in cleaning.excluded.columns


def test_accounting_balances_and_the_check_catches_a_gap(synthetic):
    _, planted, exports, cleaning = synthetic
    acc = cleaning.accounting.set_index("source_file")
    assert list(acc.index) == list(FILES)
    for export in exports:
        row = acc.loc[export.source_file]
        assert row["rows_read"] == len(export.data)
        assert row["rows_read"] == row["rows_kept"] + row["rows_quarantined"] + row["rows_excluded"]
        for kind in ("refused_consent", *QUARANTINE_KINDS):
            n = sum(p["file"] == export.source_file and p["problem"] == kind for p in planted)
            assert row[kind] == n, (export.source_file, kind)
    assert acc["values_out_of_range"].sum() >= 4
    cleaning.check_accounting()
    broken = cleaning.accounting.copy()
    broken.loc[0, "rows_kept"] += 1
    with pytest.raises(SurveyAccountingError, match="intake_sv.sav: .* rows read"):
        dataclasses.replace(cleaning, accounting=broken)
    with pytest.raises(SurveyAccountingError, match="quarantine table"):
        dataclasses.replace(cleaning, quarantine=cleaning.quarantine.iloc[1:])


def test_one_row_per_person_and_wave(synthetic):
    _, _, _, cleaning = synthetic
    wide = cleaning.wide
    assert not wide.duplicated(["pseudonym", "wave"]).any()
    assert set(wide["wave"]) == {"intake", "end"}
    assert list(wide.columns[:6]) == [
        "pseudonym",
        "wave",
        "language",
        "source_file",
        "source_row",
        "submitted",
    ]
    assert {"conf_job", "mentor_useful", "job_now", "meetings"} <= set(wide.columns)
    assert wide.loc[wide["wave"] == "intake", "mentor_useful"].isna().all()
    long = cleaning.responses
    assert list(long.columns) == ["pseudonym", "wave", "language", "item", "value", "status"]
    assert long["value"].dtype == "float64"
    assert len(long.groupby(["pseudonym", "wave"])) == len(wide)


def test_item_statuses(synthetic):
    _, planted, exports, cleaning = synthetic
    long = cleaning.responses
    assert set(long["status"]) == {"answered", "dont_know", "item_nonresponse", "out_of_range"}
    assert long.loc[long["status"] != "answered", "value"].isna().all()
    assert long.loc[long["status"] == "answered", "value"].notna().all()
    likert = long[long["item"].isin(["conf_job", "know_market", "network", "motivated"])]
    assert likert.loc[likert["status"] == "answered", "value"].between(1, 5).all()
    # each planted out-of-range row is kept, with the bad code flagged
    for p in (p for p in planted if p["problem"] == "out_of_range"):
        export = next(e for e in exports if e.source_file == p["file"])
        row = export.data[export.data["resp_id"] == p["resp_id"]].iloc[0]
        pseudonym = pseudonymise([normalise_personnummer(row["pnr"])], KEY)[0]
        mine = long[(long["pseudonym"] == pseudonym) & (long["wave"] == export.wave)]
        assert (mine["status"] == "out_of_range").any(), p
    # meetings is a count: 9 meetings is an answer, not "don't know"
    meetings = long[long["item"] == "meetings"]
    assert meetings["status"].isin(["answered", "item_nonresponse"]).all()


def test_no_personal_data_or_free_text_in_any_output(synthetic):
    people, _, exports, cleaning = synthetic
    forbidden = set()
    for export in exports:
        data = export.data
        for column in ("pnr", "first_name", "last_name", "email", "comment"):
            forbidden |= {str(v).strip() for v in data[column] if str(v).strip()}
    for number in people["personal_id"]:
        forbidden |= {number, number[2:], f"{number[2:8]}-{number[8:]}"}
    forbidden |= set(people["first_name"]) | set(people["last_name"])
    forbidden |= set(people["email"]) | set(people["phone"])
    forbidden -= {"test", "Test"}  # staff test names also occur in the reason "staff_test"
    frames = {
        "responses": cleaning.responses,
        "wide": cleaning.wide,
        "quarantine": cleaning.quarantine,
        "excluded": cleaning.excluded,
        "accounting": cleaning.accounting,
    }
    for name, frame in frames.items():
        assert not {"pnr", "first_name", "last_name", "email", "comment", "phone"} & set(
            frame.columns
        ), name
        cells = {str(v) for c in frame.columns for v in frame[c].dropna().unique()}
        cells |= {str(c) for c in frame.columns}
        leaks = {c for c in cells for f in forbidden if f in c}
        assert not leaks, (name, sorted(leaks)[:5])
        numeric = frame.select_dtypes("number")
        assert not (numeric.abs() > 1e8).any().any(), f"{name}: identity number as a number?"


# --- rules on hand-made exports ---------------------------------------------------------------


def test_missing_and_refused_consent_are_excluded():
    export = _export(
        "intake_sv.sav",
        [
            {"resp_id": 1, "pnr": PNR_A, "consent": 1.0, "conf_job": 4.0},
            {"resp_id": 2, "pnr": PNR_B, "consent": np.nan, "conf_job": 3.0},
            {"resp_id": 3, "pnr": "", "consent": 2.0, "conf_job": np.nan},
            {"resp_id": 4, "pnr": "123", "consent": 0.0, "conf_job": 2.0},
        ],
    )
    cleaning = clean_surveys([export], KEY)
    assert list(cleaning.excluded["resp_id"]) == [2, 3, 4]
    assert cleaning.quarantine.empty  # excluded first, even with an invalid number
    acc = cleaning.accounting.iloc[0]
    assert (acc["rows_read"], acc["rows_kept"], acc["rows_excluded"]) == (4, 1, 3)
    assert list(cleaning.wide["pseudonym"]) == pseudonymise([PNR_A], KEY)


def test_missing_consent_column_is_an_error():
    export = _export("end_en.sav", [{"resp_id": 1, "pnr": PNR_A, "conf_job": 4.0}])
    with pytest.raises(SurveyCleaningError, match=r"end_en\.sav.*consent"):
        clean_surveys([export], KEY)


def test_duplicates_keep_most_complete_then_latest_across_languages():
    two_items = {"conf_job": LIKERT, "network": LIKERT, "consent": {1: "Ja", 2: "Nej"}}
    sv = _export(
        "end_sv.sav",
        [
            # A: earlier but complete beats later partial
            {
                "resp_id": 1,
                "submitted": "2024-01-01",
                "pnr": PNR_A,
                "consent": 1,
                "conf_job": 4.0,
                "network": 9.0,
            },
            {
                "resp_id": 2,
                "submitted": "2024-01-05",
                "pnr": PNR_A[2:],
                "consent": 1,
                "conf_job": 5.0,
                "network": np.nan,
            },
            # B: equally complete, the later one (in the English file) wins
            {
                "resp_id": 3,
                "submitted": "2024-01-02",
                "pnr": PNR_B,
                "consent": 1,
                "conf_job": 2.0,
                "network": 2.0,
            },
        ],
        two_items,
    )
    en = _export(
        "end_en.sav",
        [
            {
                "resp_id": 7,
                "submitted": "2024-01-03",
                "pnr": f"{PNR_B[:8]}-{PNR_B[8:]}",
                "consent": 1,
                "conf_job": 3.0,
                "network": 3.0,
            }
        ],
        two_items,
    )
    intake = _export(  # the same person in another wave is not a duplicate
        "intake_sv.sav",
        [
            {
                "resp_id": 1,
                "submitted": "2023-06-01",
                "pnr": PNR_A,
                "consent": 1,
                "conf_job": 2.0,
                "network": 1.0,
            }
        ],
        two_items,
    )
    cleaning = clean_surveys([intake, sv, en], KEY)
    q = cleaning.quarantine
    assert set(zip(q["source_file"], q["resp_id"], q["reason"], strict=True)) == {
        ("end_sv.sav", 2, "duplicate"),
        ("end_sv.sav", 3, "duplicate"),
    }
    wide = cleaning.wide.set_index(["pseudonym", "wave"])
    a, b = pseudonymise([PNR_A, PNR_B], KEY)
    assert wide.loc[(a, "end"), "conf_job"] == 4.0
    assert np.isnan(wide.loc[(a, "end"), "network"])  # don't know
    assert wide.loc[(b, "end"), "language"] == "en"
    assert list(cleaning.wide["wave"].unique()) == ["intake", "end"]


def test_staff_tests_are_recognised_before_invalid_numbers():
    export = _export(
        "intake_sv.sav",
        [
            {
                "pnr": "121212-1212",
                "first_name": "Karin",
                "last_name": "Berg",
                "email": "karin@x.example",
                "consent": 1,
                "conf_job": 3.0,
            },
            {
                "pnr": "",
                "first_name": "test",
                "last_name": "",
                "email": "",
                "consent": 1,
                "conf_job": 3.0,
            },
            {
                "pnr": PNR_A,
                "first_name": "Anna",
                "last_name": "Lind",
                "email": "anna.lind@mentorprogrammet.example",
                "consent": 1,
                "conf_job": 3.0,
            },
            {
                "pnr": PNR_B,
                "first_name": "Tesfaye",
                "last_name": "Testa",
                "email": "tesfaye@mail.example",
                "consent": 1,
                "conf_job": 3.0,
            },
        ],
    )
    default = clean_surveys([export], KEY)
    assert list(default.quarantine["reason"]) == ["staff_test", "staff_test"]
    assert list(default.quarantine["source_row"]) == [0, 1]
    assert "resp_id" in default.quarantine.columns
    assert default.accounting.loc[0, "rows_kept"] == 2  # Anna counts until we know the domain
    rules = StaffTestRules(email_domains=("mentorprogrammet.example",))
    with_domain = clean_surveys([export], KEY, staff_rules=rules)
    assert list(with_domain.quarantine["source_row"]) == [0, 1, 2]
    assert list(with_domain.wide["pseudonym"]) == pseudonymise([PNR_B], KEY)


def test_out_of_range_codes_are_flagged_and_the_row_kept():
    export = _export(
        "intake_en.sav",
        [
            {"pnr": PNR_A, "consent": 1, "conf_job": 6.0, "meetings": 9.0},
            {"pnr": PNR_B, "consent": 1, "conf_job": 2.5, "meetings": -1.0},
        ],
    )
    cleaning = clean_surveys([export], KEY, dont_know_code=9)
    status = cleaning.responses.set_index(["pseudonym", "item"])["status"]
    a, b = pseudonymise([PNR_A, PNR_B], KEY)
    assert status[(a, "conf_job")] == "out_of_range"
    assert status[(a, "meetings")] == "answered"
    assert status[(b, "conf_job")] == "out_of_range"
    assert status[(b, "meetings")] == "out_of_range"
    assert cleaning.accounting.loc[0, "values_out_of_range"] == 3
    narrow = clean_surveys([export], KEY, item_ranges={"meetings": (0, 8)})
    assert narrow.responses.set_index(["pseudonym", "item"])["status"][(a, "meetings")] == (
        "out_of_range"
    )


def test_same_file_twice_is_an_error():
    export = _export("intake_sv.sav", [{"pnr": PNR_A, "consent": 1, "conf_job": 3.0}])
    with pytest.raises(SurveyCleaningError, match="more than once"):
        clean_surveys([export, export], KEY)
