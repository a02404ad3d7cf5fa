"""Synthetic survey exports: determinism, labels, planted mess, selective response."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from pipeline.pseudonymise import normalise_personnummer
from pipeline.synth.identity import luhn_check_digit, make_personnummer
from pipeline.synth.surveys import PROGRAMME_EMAIL_DOMAIN, write_surveys
from tests.factories import make_participants

EXPORT_DATE = dt.date(2024, 6, 30)
FILES = ("intake_sv.sav", "intake_en.sav", "end_sv.sav", "end_en.sav")
ROW_PROBLEMS = ("refused_consent", "staff_test", "duplicate", "invalid_id", "repaired_id")
ITEM_PROBLEMS = ("out_of_range", "pii_in_text", "item_nonresponse")


@pytest.fixture(scope="module")
def participants() -> pd.DataFrame:
    return make_participants(150)


@pytest.fixture(scope="module")
def written(participants, tmp_path_factory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("surveys")
    planted = write_surveys(participants, out, np.random.default_rng(7), EXPORT_DATE)
    return out, planted


def _read(path: Path) -> tuple[pd.DataFrame, object]:
    return pyreadstat.read_sav(str(path), user_missing=True)


# --- identity numbers -------------------------------------------------------------------------


def test_make_personnummer_is_valid_and_supports_coordination_numbers():
    number = make_personnummer(dt.date(1990, 1, 1), 123)
    assert number == "199001011239"
    assert normalise_personnummer(number) == number
    coordination = make_personnummer(dt.date(1985, 12, 31), 999, coordination=True)
    assert coordination[6:8] == "91"
    assert normalise_personnummer(coordination) == coordination
    assert make_personnummer(dt.date(1912, 12, 12), 121) == "191212121212"  # the test number
    assert luhn_check_digit("811228987") == 4  # Skatteverket's example 811228-9874
    with pytest.raises(ValueError):
        make_personnummer(dt.date(1990, 1, 1), 0)


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(participants, tmp_path):
    planted = []
    for name in ("a", "b"):
        planted.append(
            write_surveys(participants, tmp_path / name, np.random.default_rng(3), EXPORT_DATE)
        )
    assert planted[0] == planted[1]
    for file in FILES:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    write_surveys(participants, tmp_path / "c", np.random.default_rng(4), EXPORT_DATE)
    assert (tmp_path / "a" / FILES[0]).read_bytes() != (tmp_path / "c" / FILES[0]).read_bytes()


def test_header_carries_export_date_not_wall_clock(written):
    out, _ = written
    for file in FILES:
        raw = (out / file).read_bytes()
        assert raw[92:109] == b"30 Jun 2412:00:00"
        assert raw[84:92] == np.float64(100.0).tobytes()  # the compression bias is untouched
        _, meta = _read(out / file)
        assert meta.creation_time == dt.datetime(2024, 6, 30, 12, 0, 0)


# --- structure and labels ---------------------------------------------------------------------


def test_language_versions_share_names_and_codes_but_not_labels(written):
    out, _ = written
    for wave in ("intake", "end"):
        sv_data, sv = _read(out / f"{wave}_sv.sav")
        en_data, en = _read(out / f"{wave}_en.sav")
        assert list(sv_data.columns) == list(en_data.columns)
        assert sv.variable_value_labels.keys() == en.variable_value_labels.keys()
        for column, labels in sv.variable_value_labels.items():
            assert labels.keys() == en.variable_value_labels[column].keys()
        assert sv.variable_value_labels["conf_job"][5] == "Instämmer helt"
        assert sv.variable_value_labels["conf_job"][1] == "Instämmer inte alls"
        assert sv.variable_value_labels["conf_job"][9] == "Vet ej"
        assert en.variable_value_labels["conf_job"][5] == "Strongly agree"
        assert en.variable_value_labels["conf_job"][9] == "Don't know"
        assert sv.column_names_to_labels["know_market"].startswith("Jag vet hur")
        assert en.column_names_to_labels["know_market"] == (
            "I know how the Swedish labour market works"
        )
        assert sv.missing_ranges["conf_job"] == [{"lo": 9.0, "hi": 9.0}]
        assert set(sv_data["lang"]) == {"sv"} and set(en_data["lang"]) == {"en"}
    end, _ = _read(out / "end_sv.sav")
    assert {"mentor_useful", "job_now", "meetings"} <= set(end.columns)


def test_register_outcomes_only_reach_files_through_answers(written):
    out, _ = written
    for file in FILES:
        data, _ = _read(out / file)
        assert not {"employed_end", "completed", "female", "cohort", "personal_id", "phone"} & set(
            data.columns
        )


# --- planted mess -----------------------------------------------------------------------------


def test_every_problem_is_planted_in_every_file_and_points_at_a_real_row(written):
    out, planted = written
    kinds = Counter((p["file"], p["problem"]) for p in planted)
    for file in FILES:
        data, _ = _read(out / file)
        ids = set(data["resp_id"].astype(int))
        assert len(ids) == len(data), "response ids must be unique within a file"
        for kind in ROW_PROBLEMS + ITEM_PROBLEMS:
            assert kinds[(file, kind)] >= 1, (file, kind)
        assert {p["resp_id"] for p in planted if p["file"] == file} <= ids
    # a row has at most one row-level problem
    row_level = Counter((p["file"], p["resp_id"]) for p in planted if p["problem"] in ROW_PROBLEMS)
    assert max(row_level.values()) == 1


def test_planted_problems_are_visible_in_the_data(written, participants):
    out, planted = written
    frames = {file: _read(out / file)[0].set_index("resp_id") for file in FILES}
    contacts = set(participants["email"]) | set(participants["phone"])
    contacts |= {f"{f} {last}" for f, last in zip(participants["first_name"],
                                                  participants["last_name"], strict=True)}
    roster_email = dict(zip(participants["first_name"] + " " + participants["last_name"],
                            participants["email"], strict=True))
    for p in planted:
        row = frames[p["file"]].loc[float(p["resp_id"])]
        items = [
            c
            for c in row.index
            if c
            in {
                "conf_job",
                "know_market",
                "network",
                "motivated",
                "mentor_useful",
                "job_now",
                "meetings",
            }
        ]
        if p["problem"] == "refused_consent":
            assert row["consent"] != 1 and row[items].isna().all()
        elif p["problem"] == "invalid_id":
            assert normalise_personnummer(row["pnr"]) is None
            # no number at all, or an address the roster does not know
            full_name = f"{row['first_name']} {row['last_name']}"
            assert row["pnr"] == "" or row["email"] != roster_email[full_name]
        elif p["problem"] == "repaired_id":
            assert normalise_personnummer(row["pnr"]) is None and row["pnr"] != ""
            assert row["email"] == roster_email[f"{row['first_name']} {row['last_name']}"]
        elif p["problem"] == "staff_test":
            assert row["email"].endswith("@" + PROGRAMME_EMAIL_DOMAIN)
        elif p["problem"] == "out_of_range":
            assert row[items].isin([6.0, 7.0]).any()
        elif p["problem"] == "pii_in_text":
            assert any(c in row["comment"] for c in contacts)
        elif p["problem"] == "item_nonresponse":
            assert row[items].isna().any()
        elif p["problem"] == "duplicate":
            number = normalise_personnummer(row["pnr"])
            wave = p["file"].split("_")[0]
            same = [
                r
                for f in FILES
                if f.startswith(wave)
                for _, r in frames[f].iterrows()
                if normalise_personnummer(r["pnr"]) == number
            ]
            assert len(same) >= 2


def test_end_survey_response_depends_on_employment(tmp_path):
    people = make_participants(700, seed=2)
    write_surveys(people, tmp_path, np.random.default_rng(11), EXPORT_DATE)
    by_number = people.set_index("personal_id")
    rates = {}
    for wave in ("intake", "end"):
        numbers = set()
        for lang in ("sv", "en"):
            data, _ = _read(tmp_path / f"{wave}_{lang}.sav")
            numbers |= {normalise_personnummer(v) for v in data["pnr"]}
        responded = by_number.index.isin(list(numbers))
        rates[wave] = (
            pd.Series(responded, index=by_number.index)
            .groupby(by_number["employed_end"].to_numpy())
            .mean()
        )
    # mistyped numbers lose a few respondents; staff test numbers match nobody
    assert 0.75 < rates["intake"].mean() < 0.9
    assert 0.65 < rates["end"][1] < 0.82
    assert 0.35 < rates["end"][0] < 0.52
