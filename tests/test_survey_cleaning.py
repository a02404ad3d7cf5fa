"""Cleaning survey exports: quarantine, exclusions, repairs, accounting, no personal data."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.pseudonymise import normalise_personnummer, pseudonymise
from pipeline.surveys import (
    Codebook,
    CodebookError,
    SurveyAccountingError,
    SurveyCleaningError,
    SurveyExport,
    clean_exports,
    clean_surveys,
    load_codebook,
    response_status,
)
from pipeline.surveys.roster import RosterContacts, email_key, name_key
from pipeline.synth.identity import make_personnummer
from pipeline.synth.surveys import write_surveys
from tests.factories import make_participants

KEY = bytes(range(32))
FILES = ("intake_sv.sav", "intake_en.sav", "end_sv.sav", "end_en.sav")
QUARANTINE_KINDS = {"staff_test", "invalid_id", "duplicate"}
DEMO_CODEBOOK = Path(__file__).resolve().parent.parent / "config/codebooks/mentor_survey.yml"

PNR_A = make_personnummer(dt.date(1980, 5, 17), 234)
PNR_B = make_personnummer(dt.date(1992, 11, 3), 871, coordination=True)
PNR_C = make_personnummer(dt.date(1975, 2, 8), 418)


# --- a small codebook for hand-made exports ---------------------------------------------------

AGREE = {
    1: {"sv": "Instämmer inte alls", "en": "Strongly disagree"},
    2: {"sv": "Instämmer i liten grad", "en": "Disagree"},
    3: {"sv": "Instämmer delvis", "en": "Neutral"},
    4: {"sv": "Instämmer i stor grad", "en": "Agree"},
    5: {"sv": "Instämmer helt", "en": "Strongly agree"},
    9: {"sv": "Vet ej", "en": "Don't know"},
}
SETTINGS = {
    "family": "test_survey",
    "title": "Test survey",
    "languages": ["sv", "en"],
    "waves": ["intake", "end"],
    "scales": {
        "agree5": {"kind": "likert", "direction": "ascending", "dont_know": 9, "labels": AGREE},
        "yes_no": {
            "kind": "categorical",
            "labels": {1: {"sv": "Ja", "en": "Yes"}, 2: {"sv": "Nej", "en": "No"}},
        },
    },
    "items": {
        "conf_job": {"scale": "agree5", "text": {"sv": "Säker", "en": "Confident"}},
        "network": {"scale": "agree5", "text": {"sv": "Nätverk", "en": "Network"},
                    "reverse": True},
        "meetings": {"range": [0, 50], "text": {"sv": "Träffar", "en": "Meetings"}},
    },
    "staff_tests": {
        "test_numbers": ["19121212-1212"],
        "name_pattern": r"\btest(person|sson)?\b",
        "email_pattern": "^test[^@]*@",
    },
    "sources": {
        f"{wave}_{lang}": {
            "files": [f"{wave}_{lang}.*"],
            "tool": "test",
            "revision": "1",
            "wave": wave,
            "language": lang,
            "columns": {
                "identity": "pnr",
                "consent": "consent",
                "submitted": "submitted",
                "response_id": "resp_id",
                "first_name": "first_name",
                "last_name": "last_name",
                "email": "email",
                "free_text": ["comment"],
            },
            "items": {"conf_job": "conf_job", "network": "network", "meetings": "meetings"},
        }
        for wave in ("intake", "end")
        for lang in ("sv", "en")
    },
}


def make_codebook(**changes) -> Codebook:
    settings = copy.deepcopy(SETTINGS)
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        target = settings
        for part in path:
            target = target[part]
        target[last] = value
    return Codebook.model_validate(settings)


def labels(lang: str) -> dict:
    agree = {code: text[lang] for code, text in AGREE.items()}
    yes_no = {1: "Ja", 2: "Nej"} if lang == "sv" else {1: "Yes", 2: "No"}
    return {"conf_job": agree, "network": agree, "consent": yes_no}


def export(name: str, rows: list[dict], value_labels: dict | None = None) -> SurveyExport:
    """A hand-made SPSS-like export: every column of the source present."""
    columns = ["resp_id", "submitted", "pnr", "first_name", "last_name", "email", "consent",
               "conf_job", "network", "meetings", "comment"]
    data = pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)
    data["submitted"] = pd.to_datetime(data["submitted"])
    for c in ("consent", "conf_job", "network", "meetings"):
        data[c] = pd.to_numeric(data[c]).astype("float64")
    lang = name.split("_")[1][:2]
    return SurveyExport(
        path=Path(name),
        data=data,
        value_labels=value_labels if value_labels is not None else labels(lang),
        column_labels={},
    )


def row(pnr, consent=1, conf_job=4, network=3, meetings=2, **extra) -> dict:
    return {"pnr": pnr, "consent": consent, "conf_job": conf_job, "network": network,
            "meetings": meetings, **extra}


# --- the synthetic exports end to end ---------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("surveys")
    people = make_participants(160)
    unlinkable = frozenset(people["personal_id"].iloc[:3])
    planted = write_surveys(
        people, out, np.random.default_rng(21), dt.date(2024, 6, 30), unlinkable=unlinkable
    )
    pids = pseudonymise(list(people["personal_id"]), KEY)
    usable = ~people["personal_id"].isin(unlinkable)
    contacts = RosterContacts(
        keys=pd.DataFrame(
            {
                "pid": np.array(pids, dtype=object)[usable.to_numpy()],
                "email": [email_key(e) for e in people.loc[usable, "email"]],
                "name": [name_key(f, la) for f, la in
                         zip(people.loc[usable, "first_name"], people.loc[usable, "last_name"],
                             strict=True)],
            }
        ),
        names=list(people["first_name"]) + list(people["last_name"]),
    )
    codebook = load_codebook(DEMO_CODEBOOK)
    cleaning = clean_surveys([out / f for f in FILES], codebook, KEY, roster=contacts,
                             chunksize=40)
    raw = {f: _read_raw(out / f) for f in FILES}
    return people, planted, raw, cleaning, pids


def _read_raw(path: Path) -> pd.DataFrame:
    import pyreadstat

    data, _ = pyreadstat.read_sav(str(path), user_missing=True)
    return data


def _resp_id(raw, file, source_row) -> int:
    return int(raw[file]["resp_id"].iloc[source_row - 1])


def test_quarantine_is_exactly_the_planted_problems(synthetic):
    _, planted, raw, cleaning, _ = synthetic
    q = cleaning.quarantine
    found = {
        (f, _resp_id(raw, f, r), reason)
        for f, r, reason in q[["source_file", "source_row", "reason"]].itertuples(index=False)
    }
    expected = {
        (p["file"], p["resp_id"], p["problem"]) for p in planted if p["problem"] in QUARANTINE_KINDS
    }
    assert found == expected
    assert set(q["reason"]) == QUARANTINE_KINDS
    invalid = q[q["reason"] == "invalid_id"]
    assert invalid["pseudonym"].isna().all()
    assert set(invalid["detail"]) <= {"missing", "malformed", "bad_date", "bad_checksum"}
    duplicates = q[q["reason"] == "duplicate"]
    assert duplicates["pseudonym"].map(lambda v: isinstance(v, str) and len(v) == 32).all()
    assert duplicates["detail"].str.match(r"kept \S+\.sav row \d+").all()
    # the quarantine keeps the canonical answers, so nothing is lost
    assert {"conf_job", "mentor_useful", "meetings"} <= set(q.columns)


def test_repairs_are_exactly_the_planted_repairable_numbers(synthetic):
    _, planted, raw, cleaning, pids = synthetic
    repairs = cleaning.repairs
    found = {(f, _resp_id(raw, f, r)) for f, r in zip(repairs["source_file"],
                                                       repairs["source_row"], strict=True)}
    expected = {(p["file"], p["resp_id"]) for p in planted if p["problem"] == "repaired_id"}
    assert expected and found == expected
    assert set(repairs["matched_on"]) == {"email+name"}
    assert set(repairs["pseudonym"]) <= set(pids)
    wide = cleaning.wide
    assert wide["id_repaired"].sum() == len(expected)
    assert cleaning.accounting["ids_repaired"].sum() == len(expected)


def test_exclusions_are_exactly_the_refused_consents(synthetic):
    _, planted, raw, cleaning, _ = synthetic
    found = {
        (f, _resp_id(raw, f, r))
        for f, r in cleaning.excluded[["source_file", "source_row"]].itertuples(index=False)
    }
    expected = {(p["file"], p["resp_id"]) for p in planted if p["problem"] == "refused_consent"}
    assert found == expected
    assert set(cleaning.excluded["reason"]) == {"refused_consent"}
    assert "pseudonym" not in cleaning.excluded.columns


def test_accounting_balances_by_reason_and_the_check_catches_a_gap(synthetic):
    _, planted, raw, cleaning, _ = synthetic
    acc = cleaning.accounting.set_index("source_file")
    assert list(acc.index) == list(FILES)
    assert list(acc["source"]) == [f"netigate_{f[:-4]}" for f in FILES]
    for file, data in raw.items():
        row = acc.loc[file]
        assert row["rows_read"] == len(data)
        assert row["rows_read"] == row["rows_kept"] + row["rows_quarantined"] + row["rows_excluded"]
        for kind in ("refused_consent", *QUARANTINE_KINDS):
            n = sum(p["file"] == file and p["problem"] == kind for p in planted)
            assert row[kind] == n, (file, kind)
    assert acc["values_out_of_range"].sum() >= 4
    cleaning.check_accounting()
    broken = cleaning.accounting.copy()
    broken.loc[0, "rows_kept"] += 1
    with pytest.raises(SurveyAccountingError, match=r"intake_sv.sav: .* rows read"):
        dataclasses.replace(cleaning, accounting=broken)
    with pytest.raises(SurveyAccountingError, match="rows_quarantined"):
        dataclasses.replace(cleaning, quarantine=cleaning.quarantine.iloc[1:])


def test_one_row_per_person_and_wave_with_long_and_wide_views(synthetic):
    cleaning = synthetic[3]
    wide = cleaning.wide
    assert not wide.duplicated(["pseudonym", "wave"]).any()
    assert list(wide["wave"].unique()) == ["intake", "end"]
    assert list(wide.columns[:7]) == [
        "pseudonym", "wave", "language", "source_file", "source_row", "submitted", "id_repaired",
    ]
    assert wide.loc[wide["wave"] == "intake", "mentor_useful"].isna().all()
    long = cleaning.responses
    assert list(long.columns) == [
        "pseudonym", "wave", "language", "item", "value", "score", "status",
    ]
    assert len(long.groupby(["pseudonym", "wave"])) == len(wide)
    assert set(long["language"]) == {"sv", "en"}


def test_item_statuses_keep_dont_know_apart_from_nonresponse(synthetic):
    _, planted, raw, cleaning, _ = synthetic
    long = cleaning.responses
    assert set(long["status"]) == {"answered", "dont_know", "item_nonresponse", "out_of_range"}
    assert long.loc[long["status"] != "answered", "value"].isna().all()
    likert = long[long["item"].isin(["conf_job", "know_market", "network", "motivated"])]
    assert likert.loc[likert["status"] == "answered", "value"].between(1, 5).all()
    for p in (p for p in planted if p["problem"] == "out_of_range"):
        data = raw[p["file"]]
        number = data.loc[data["resp_id"] == p["resp_id"], "pnr"].iloc[0]
        pseudonym = pseudonymise([normalise_personnummer(number)], KEY)[0]
        mine = long[long["pseudonym"] == pseudonym]
        assert (mine["status"] == "out_of_range").any(), p
    meetings = long[long["item"] == "meetings"]
    assert meetings["status"].isin(["answered", "item_nonresponse"]).all()


def test_free_text_is_scrubbed_of_every_planted_identifier(synthetic):
    people, planted, raw, cleaning, _ = synthetic
    texts = cleaning.free_text
    assert len(texts) > 20 and list(texts.columns) == ["pseudonym", "wave", "column", "text"]
    joined = "\n".join(texts["text"])
    for value in [*people["email"], *people["phone"], *people["first_name"], *people["last_name"]]:
        assert value not in joined
    assert "[redacted e-mail address]" in joined or "[redacted phone number]" in joined
    assert "[redacted name]" in joined


def test_response_status_of_roster_participants(synthetic):
    people, _, _, cleaning, pids = synthetic
    status = response_status(pd.DataFrame({"pid": pids}), cleaning, ["intake", "end"])
    assert len(status) == 2 * len(pids)
    counts = status.groupby(["wave", "status"]).size()
    intake_kept = cleaning.wide.loc[cleaning.wide["wave"] == "intake", "pseudonym"]
    assert counts[("intake", "responded")] == intake_kept.isin(pids).sum()
    assert counts[("intake", "refused")] >= 1 and counts[("intake", "not_reached")] >= 1


# --- rules on hand-made exports ---------------------------------------------------------------


def test_missing_and_refused_consent_are_excluded_before_anything_else():
    rows = [
        row(PNR_A, resp_id=1),
        row(PNR_B, consent=np.nan, resp_id=2),
        row("", consent=2, resp_id=3),
        row("123", consent=0, resp_id=4),
    ]
    cleaning = clean_exports([export("intake_sv.sav", rows)], make_codebook(), KEY)
    assert list(cleaning.excluded["resp_id"]) == ["2", "3", "4"]
    assert cleaning.quarantine.empty
    acc = cleaning.accounting.iloc[0]
    assert (acc["rows_read"], acc["rows_kept"], acc["rows_excluded"]) == (4, 1, 3)
    assert list(cleaning.wide["pseudonym"]) == pseudonymise([PNR_A], KEY)
    assert list(cleaning.refused["pseudonym"]) == pseudonymise([PNR_B], KEY)


def test_duplicates_keep_most_complete_then_latest_across_languages():
    sv = export("end_sv.sav", [
        row(PNR_A, submitted="2024-01-01", conf_job=4, network=9, resp_id=1),  # complete
        row(PNR_A[2:], submitted="2024-01-05", conf_job=5, network=None, resp_id=2),
        row(PNR_B, submitted="2024-01-02", conf_job=2, network=2, resp_id=3),
    ])
    en = export("end_en.sav", [
        row(f"{PNR_B[:8]}-{PNR_B[8:]}", submitted="2024-01-03", conf_job=3, network=3, resp_id=7),
    ])
    intake = export("intake_sv.sav", [row(PNR_A, submitted="2023-06-01", resp_id=1)])
    cleaning = clean_exports([intake, sv, en], make_codebook(), KEY)
    q = cleaning.quarantine
    assert set(zip(q["source_file"], q["resp_id"], q["reason"], q["detail"], strict=True)) == {
        ("end_sv.sav", "2", "duplicate", "kept end_sv.sav row 1"),
        ("end_sv.sav", "3", "duplicate", "kept end_en.sav row 1"),
    }
    wide = cleaning.wide.set_index(["pseudonym", "wave"])
    a, b = pseudonymise([PNR_A, PNR_B], KEY)
    assert wide.loc[(a, "end"), "conf_job"] == 4.0
    assert np.isnan(wide.loc[(a, "end"), "network"])  # don't know
    assert wide.loc[(b, "end"), "language"] == "en"


def test_staff_tests_come_before_invalid_numbers_and_domains_are_configurable():
    rows = [
        row("121212-1212", first_name="Karin", last_name="Berg", email="karin@x.example"),
        row("", first_name="test", last_name="", email=""),
        row(PNR_A, first_name="Anna", last_name="Lind", email="anna.lind@mentor.example"),
        row(PNR_B, first_name="Tesfaye", last_name="Testa", email="tesfaye@mail.example"),
    ]
    default = clean_exports([export("intake_sv.sav", rows)], make_codebook(), KEY)
    assert list(default.quarantine["reason"]) == ["staff_test", "staff_test"]
    assert list(default.quarantine["source_row"]) == [1, 2]
    with_domain = clean_exports(
        [export("intake_sv.sav", rows)],
        make_codebook(staff_tests__email_domains=["mentor.example"]),
        KEY,
    )
    assert list(with_domain.quarantine["source_row"]) == [1, 2, 3]
    assert list(with_domain.wide["pseudonym"]) == pseudonymise([PNR_B], KEY)


def test_tool_preview_flags_mark_staff_tests():
    data = export("intake_en.csv", [row(PNR_A), row(PNR_B)]).data.assign(
        Status=["Survey Preview", "IP Address"]
    )
    base = export("intake_en.csv", [row(PNR_A), row(PNR_B)])
    preview = dataclasses.replace(base, data=data)
    codebook = make_codebook(
        staff_tests__column_values={"Status": ["Survey Preview"]},
        sources__intake_en__columns__ignore=["Status"],
    )
    cleaning = clean_exports([preview], codebook, KEY)
    assert list(cleaning.quarantine["reason"]) == ["staff_test"]


def test_out_of_range_codes_are_flagged_and_the_row_kept():
    rows = [row(PNR_A, conf_job=6, meetings=9), row(PNR_B, conf_job=2.5, meetings=-1)]
    cleaning = clean_exports([export("intake_en.sav", rows)], make_codebook(), KEY)
    status = cleaning.responses.set_index(["pseudonym", "item"])["status"]
    a, b = pseudonymise([PNR_A, PNR_B], KEY)
    assert status[(a, "conf_job")] == "out_of_range"
    assert status[(a, "meetings")] == "answered"
    assert status[(b, "conf_job")] == "out_of_range"
    assert status[(b, "meetings")] == "out_of_range"
    assert cleaning.accounting.loc[0, "values_out_of_range"] == 3
    assert len(cleaning.wide) == 2


def test_reverse_coded_items_are_scored_the_other_way():
    cleaning = clean_exports(
        [export("intake_en.sav", [row(PNR_A, conf_job=4, network=4)])], make_codebook(), KEY
    )
    scores = cleaning.responses.set_index("item")["score"]
    assert scores["conf_job"] == 4 and scores["network"] == 2  # 1 + 5 - 4


def test_required_items_left_empty_are_quarantined():
    codebook = make_codebook(items__conf_job__required=True)
    rows = [row(PNR_A, conf_job=None), row(PNR_B, conf_job=9), row(PNR_C, conf_job=6)]
    cleaning = clean_exports([export("intake_en.sav", rows)], codebook, KEY)
    q = cleaning.quarantine
    assert list(zip(q["source_row"], q["reason"], q["detail"], strict=True)) == [
        (1, "missing_required", "conf_job"),
        (3, "missing_required", "conf_job"),
    ]
    assert list(cleaning.wide["pseudonym"]) == pseudonymise([PNR_B], KEY)  # don't know counts


def _contacts(pnr: str, email: str, first: str, last: str, extra: int = 0) -> RosterContacts:
    people = [(pnr, email, first, last)] + [
        (make_personnummer(dt.date(1990, 1, 1 + k), 100 + k), f"p{k}@x.example", "Ali", f"K{k}")
        for k in range(extra)
    ]
    return RosterContacts(
        keys=pd.DataFrame({
            "pid": pseudonymise([p[0] for p in people], KEY),
            "email": [email_key(p[1]) for p in people],
            "name": [name_key(p[2], p[3]) for p in people],
        }),
        names=[n for p in people for n in p[2:]],
    )


def test_a_mistyped_number_is_repaired_only_when_allowed_and_unambiguous():
    mistyped = PNR_A[:-1] + str((int(PNR_A[-1]) + 1) % 10)
    rows = [
        row(mistyped, first_name="Amina", last_name="Haddad", email="Amina.H@Mail.example"),
        row(mistyped[:-1], first_name="Amina", last_name="Haddad", email="other@mail.example"),
        row("", first_name="Amina", last_name="Haddad", email="amina.h@mail.example"),
    ]
    roster = _contacts(PNR_A, "amina.h@mail.example", "Amina", "Haddad", extra=3)
    refused = clean_exports([export("end_sv.sav", rows)], make_codebook(), KEY, roster=roster)
    assert list(refused.quarantine["reason"]) == ["invalid_id"] * 3  # repairs not allowed
    allowed = make_codebook(identity_repair={"allowed": True, "keys": ["email", "name"]})
    cleaning = clean_exports([export("end_sv.sav", rows)], allowed, KEY, roster=roster)
    assert list(cleaning.repairs["source_row"]) == [1]
    assert list(cleaning.repairs["problem"]) == ["bad_checksum"]
    assert list(cleaning.wide["pseudonym"]) == pseudonymise([PNR_A], KEY)
    # row 2: e-mail differs; row 3: no number at all is never "repaired"
    assert list(zip(cleaning.quarantine["source_row"], cleaning.quarantine["detail"],
                    strict=True)) == [(2, "malformed"), (3, "missing")]
    # two roster entries with the same name and address: ambiguous, no repair
    twins = _contacts(PNR_A, "amina.h@mail.example", "Amina", "Haddad")
    twins = RosterContacts(
        keys=pd.concat([twins.keys, twins.keys.assign(pid="another")]), names=twins.names
    )
    ambiguous = clean_exports([export("end_sv.sav", rows[:1])], allowed, KEY, roster=twins)
    assert ambiguous.repairs.empty and list(ambiguous.quarantine["reason"]) == ["invalid_id"]


def test_danish_and_finnish_numbers_are_checked_by_their_country():
    codebook = make_codebook(sources__intake_en__identity_country="dk",
                             sources__end_en__identity_country="fi")
    dk = export("intake_en.sav", [row("070761-4285"), row("0707614286"), row("320161-4285")])
    fi = export("end_en.sav", [row("131052-308T"), row("131052Y308T"), row("131052-308U"),
                               row("010594Y9032")])
    cleaning = clean_exports([dk, fi], codebook, KEY)
    q = cleaning.quarantine
    assert list(zip(q["source_file"], q["source_row"], q["reason"], strict=True)) == [
        ("intake_en.sav", 3, "invalid_id"),  # 32 January
        ("end_en.sav", 3, "invalid_id"),  # wrong check character
        ("end_en.sav", 4, "staff_test"),  # individual number 900-999
    ]
    kept = cleaning.wide.groupby("source_file").size()
    assert kept["intake_en.sav"] == 2  # a CPR failing modulus 11 is still a CPR
    assert kept["end_en.sav"] == 2  # '-' and 'Y' are two different people
    dk_pseudonym = pseudonymise(["0707614285"], KEY, "DK")[0]
    assert dk_pseudonym in set(cleaning.wide["pseudonym"])


def test_text_answers_are_mapped_through_the_labels_of_any_language():
    base = export("intake_en.csv", [row(PNR_A), row(PNR_B), row(PNR_C)])
    data = base.data.astype(object)
    data["conf_job"] = ["  strongly AGREE ", "Instämmer helt", "Don\u2019t know"]
    data["consent"] = ["Yes", "Ja", "yes"]
    text = dataclasses.replace(base, data=data, value_labels={}, file_format="csv")
    with pytest.raises(CodebookError) as error:
        clean_exports([text], make_codebook(), KEY)
    message = str(error.value)
    assert "intake_en.csv" in message and "conf_job" in message
    assert "Don\u2019t know" in message and "scales.agree5.labels" in message
    data["conf_job"] = ["  strongly AGREE ", "Instämmer helt", "Don't know"]
    cleaning = clean_exports([dataclasses.replace(text, data=data)], make_codebook(), KEY)
    values = cleaning.responses.query("item == 'conf_job'")["status"].tolist()
    assert values == ["answered", "answered", "dont_know"]


def test_unknown_and_missing_columns_name_the_file_and_the_fix():
    base = export("end_sv.sav", [row(PNR_A)])
    extra = dataclasses.replace(base, data=base.data.assign(new_question=1.0))
    unknown = r"(?s)end_sv\.sav: 1 gap.*'new_question': unknown column.*sources\.end_sv\.items"
    with pytest.raises(CodebookError, match=unknown):
        clean_exports([extra], make_codebook(), KEY)
    fewer = dataclasses.replace(base, data=base.data.drop(columns="consent"))
    with pytest.raises(CodebookError, match=r"column 'consent': missing column.*lacks"):
        clean_exports([fewer], make_codebook(), KEY)
    nowhere = dataclasses.replace(base, path=Path("followup_sv.sav"))
    with pytest.raises(CodebookError, match=r"followup_sv\.sav: no source.*files: \['followup"):
        clean_exports([nowhere], make_codebook(), KEY)


def test_an_unmapped_value_label_in_an_spss_export_is_a_gap():
    value_labels = labels("sv")
    value_labels["conf_job"] = {**value_labels["conf_job"], 4: "Instämmer till stor del"}
    base = export("end_sv.sav", [row(PNR_A)], value_labels)
    with pytest.raises(CodebookError, match="Instämmer till stor del"):
        clean_exports([base], make_codebook(), KEY)


def test_chunks_give_the_same_result_as_whole_files():
    rows = [row(make_personnummer(dt.date(1970 + k, 1 + k % 12, 1 + k), 200 + k),
                conf_job=1 + k % 5, resp_id=k) for k in range(25)]
    rows.append(row(rows[3]["pnr"], conf_job=None, network=None, resp_id=99))  # a duplicate
    whole = clean_exports([export("intake_sv.sav", rows)], make_codebook(), KEY)
    chunks = [
        dataclasses.replace(export("intake_sv.sav", rows[i:i + 7]), row_offset=i)
        for i in range(0, len(rows), 7)
    ]
    chunked = clean_exports(chunks, make_codebook(), KEY)
    pd.testing.assert_frame_equal(whole.wide, chunked.wide)
    pd.testing.assert_frame_equal(whole.quarantine, chunked.quarantine)
    pd.testing.assert_frame_equal(whole.accounting, chunked.accounting)
    assert list(chunked.quarantine["source_row"]) == [26]


def test_same_file_twice_and_short_keys_are_errors(tmp_path):
    with pytest.raises(SurveyCleaningError, match="more than once"):
        clean_surveys([tmp_path / "intake_sv.sav", tmp_path / "intake_sv.sav"],
                      make_codebook(), KEY)
    with pytest.raises(SurveyCleaningError, match="16 bytes"):
        clean_exports([export("intake_sv.sav", [row(PNR_A)])], make_codebook(), b"short")
