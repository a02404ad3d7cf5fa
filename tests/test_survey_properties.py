"""Properties of survey cleaning on generated exports (hypothesis).

Whatever the rows look like, cleaning never loses a row, never adds one, never emits a raw
identity number or e-mail address, gives a person the same pseudonym in every file, and is
idempotent: cleaning again gives the same result, and cleaning the kept rows again keeps all of
them unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.identity import check_identity
from pipeline.pseudonymise import pseudonymise
from pipeline.surveys import clean_exports
from pipeline.synth.identity import make_personnummer
from tests.test_survey_cleaning import KEY, export, make_codebook

PEOPLE = [make_personnummer(dt.date(1960 + k, 1 + k % 12, 1 + k % 28), 100 + 7 * k)
          for k in range(12)]
FILES = ("intake_sv.sav", "intake_en.sav", "end_sv.sav", "end_en.sav")


def typed_forms(number: str) -> list[str]:
    return [number, f"{number[:8]}-{number[8:]}", f"{number[2:8]}-{number[8:]}", number[2:],
            f" {number[:8]} {number[8:]} "]


identity_numbers = st.one_of(
    st.builds(lambda p, k: typed_forms(p)[k], st.sampled_from(PEOPLE), st.integers(0, 4)),
    st.sampled_from(["", "123", "19121212-1212", "not a number"]),
    st.builds(lambda p: p[:-1] + str((int(p[-1]) + 1) % 10), st.sampled_from(PEOPLE)),
)
codes = st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, 9.0, 6.0, np.nan])
rows = st.fixed_dictionaries(
    {
        "pnr": identity_numbers,
        "consent": st.sampled_from([1.0, 1.0, 1.0, 2.0, np.nan]),
        "conf_job": codes,
        "network": codes,
        "meetings": st.sampled_from([0.0, 3.0, 12.0, -1.0, 80.0, np.nan]),
        "submitted": st.dates(dt.date(2023, 1, 1), dt.date(2024, 12, 31)).map(str),
        "first_name": st.sampled_from(["Amina", "Test", "Jonas", ""]),
        "last_name": st.sampled_from(["Haddad", "Berg", ""]),
        "email": st.sampled_from(["amina@mail.example", "test@x.example", "", "j.b@a.example"]),
        "comment": st.sampled_from(["", "Ring 070-123 45 67", "bra", "mejla a@b.example"]),
    }
)
exports = st.lists(
    st.tuples(st.sampled_from(FILES), st.lists(rows, min_size=0, max_size=12)),
    min_size=1,
    max_size=4,
    unique_by=lambda t: t[0],
).map(lambda files: [export(name, rs) for name, rs in files])

PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _row_keys(frame: pd.DataFrame) -> list[tuple[str, int]]:
    return list(zip(frame["source_file"], frame["source_row"], strict=True))


@PROPERTY
@given(exports)
def test_every_row_ends_in_exactly_one_place(survey_exports):
    cleaning = clean_exports(survey_exports, make_codebook(), KEY)
    read = [(e.source_file, r) for e in survey_exports for r in range(1, len(e.data) + 1)]
    placed = _row_keys(cleaning.wide) + _row_keys(cleaning.quarantine) + _row_keys(
        cleaning.excluded
    )
    assert sorted(placed) == sorted(read)  # none lost, none added, none twice
    for e in survey_exports:
        assert cleaning.accounting.set_index("source_file").loc[e.source_file, "rows_read"] == (
            len(e.data)
        )


@PROPERTY
@given(exports)
def test_no_raw_identity_number_or_address_is_emitted(survey_exports):
    cleaning = clean_exports(survey_exports, make_codebook(free_text="scrub"), KEY)
    raw = set()
    for e in survey_exports:
        for value in e.data["pnr"]:
            digits = re.sub(r"\D", "", str(value))
            if len(digits) >= 6:
                raw |= {digits, str(value).strip()}
        raw |= {v for v in e.data["email"] if v}
    tables = [cleaning.responses, cleaning.wide, cleaning.quarantine, cleaning.excluded,
              cleaning.repairs, cleaning.free_text, cleaning.accounting]
    cells = {str(v) for t in tables for c in t.columns for v in t[c].dropna()}
    assert not {c for c in cells for r in raw if r in c}
    for table in (cleaning.wide, cleaning.quarantine):
        pseudonyms = table["pseudonym"].dropna()
        assert pseudonyms.str.fullmatch(r"[0-9a-f]{32}").all()


@PROPERTY
@given(exports)
def test_a_person_has_one_pseudonym_in_every_file(survey_exports):
    cleaning = clean_exports(survey_exports, make_codebook(), KEY)
    by_file = {e.source_file: e.data for e in survey_exports}
    for file, source_row, pseudonym in zip(cleaning.wide["source_file"],
                                           cleaning.wide["source_row"],
                                           cleaning.wide["pseudonym"], strict=True):
        typed = by_file[file]["pnr"].iloc[source_row - 1]
        number = check_identity(typed, "se").normalised
        assert pseudonym == pseudonymise([number], KEY)[0]


@PROPERTY
@given(exports)
def test_cleaning_is_idempotent(survey_exports):
    codebook = make_codebook()
    first = clean_exports(survey_exports, codebook, KEY)
    again = clean_exports(survey_exports, codebook, KEY)
    for name in ("responses", "wide", "quarantine", "excluded", "accounting"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name))
    # the kept rows, cleaned once more, are all kept with the same answers
    kept_exports = []
    for e in survey_exports:
        rows = first.wide.loc[first.wide["source_file"] == e.source_file, "source_row"]
        if len(rows):
            data = e.data.iloc[sorted(rows - 1)].reset_index(drop=True)
            kept_exports.append(dataclasses.replace(e, data=data))
    if not kept_exports:
        return
    second = clean_exports(kept_exports, codebook, KEY)
    assert second.quarantine.empty and second.excluded.empty
    items = [c for c in ("conf_job", "network", "meetings") if c in first.wide]
    left = first.wide.set_index(["pseudonym", "wave"])[items].sort_index()
    right = second.wide.set_index(["pseudonym", "wave"])[items].sort_index()
    pd.testing.assert_frame_equal(left, right)
