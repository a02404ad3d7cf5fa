"""The identifier guards that every stage output, report and error message passes through."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from stdnum.fi import hetu

from pipeline.privacy import (
    IdentifierLeak,
    assert_no_identifiers,
    find_identifiers,
    redact,
    redact_notebook,
    scan_notebook,
    scan_parquet,
    scan_text,
)
from pipeline.pseudonymise import pseudonymise
from pipeline.synth.identity import make_personnummer

PNR = make_personnummer(dt.date(1988, 3, 20), 1)  # 12 digits, Luhn-valid
SAMORDNING = make_personnummer(dt.date(1990, 1, 1), 123, coordination=True)
BORN_2004 = make_personnummer(dt.date(2004, 6, 15), 42)


def _hetu(birth: str, serial: str, sign: str = "-") -> str:
    table = "0123456789ABCDEFHJKLMNPRSTUVWXY"
    number = f"{birth}{sign}{serial}{table[int(birth + serial) % 31]}"
    assert hetu.is_valid(number)
    return number


def _bad_luhn(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


# --- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind",
    [
        ("my number is 19880320-0016", "identity number"),
        ("880320-0016", "identity number"),
        (f"pnr {PNR} in a sentence", "identity number"),
        (f"ten digits {PNR[2:]}.", "identity number"),
        (f"{PNR[:8]}+{PNR[8:]}", "identity number"),
        (f"{SAMORDNING[2:8]}-{SAMORDNING[8:]}", "identity number"),
        ("typed with a space 950807 3948", "identity number"),
        ("19950110 5366", "identity number"),
        (f"'{_bad_luhn(PNR)[:8]}-{_bad_luhn(PNR)[8:]}' mistyped but separated", "identity number"),
        ("HETU 131052-308T here", "identity number"),
        (f"new century sign {_hetu('010105', '123', 'B')}", "identity number"),
        ("CPR 010203-1234", "identity number"),
        ("Could not convert string '197903100415' to INT32", "identity number"),
        ("write to amina.ali12@gmail.com", "e-mail address"),
        ("<td>Karin.Berg@mentorprogrammet.example</td>", "e-mail address"),
        ("ring 070-123 45 67", "phone number"),
        ("0701234567", "phone number"),
        ("+46 70 123 45 67", "phone number"),
        ("+46 (0)70-123 45 67", "phone number"),
        ("0046701234567", "phone number"),
        ("46701234567", "phone number"),
        ("kontor 08-123 456 78", "phone number"),
        ("031 12 34 56", "phone number"),
        ("Finnish mobile 040 123 4567", "phone number"),
        ("Ring mig på 079-179 49 13 om ni har frågor", "phone number"),
    ],
)
def test_finds_identifiers_in_text(text, kind):
    assert kind in find_identifiers(text)


@pytest.mark.parametrize(
    "text",
    [
        "2021-HT",
        "2020-VT",
        "0180",
        "0180 0380 1480 1280",
        "Göteborg",
        "employed 12 months",
        "2020-03-01",
        "2026-11-21",
        "2026-11-21T20:41:57+00:00",
        "1,463 participants",
        "n = 100000 persons, 9600000 person-months",
        "+3.4 percentage points (95% interval -1.2 to +8.0)",
        "p = 0.1988032000",
        "1988032000.5",
        "1234567890",
        f"{_bad_luhn(PNR)} without separator and with a wrong check digit",
        "202611212054",
        "pandas 2.2.3, numpy 2.1.0, pyarrow 18.0.0",
        "9983ec543b117a68e3662ddf2bee64f3866c3a1f3fd4f0f1dae24273d3d86b90",
        "@property decorator",
    ],
)
def test_leaves_ordinary_values_alone(text):
    assert find_identifiers(text) == []


def test_hex_pseudonyms_and_hashes_never_trigger():
    pids = pseudonymise([make_personnummer(dt.date(1970, 1, 1), i) for i in range(1, 1000)],
                        bytes(32))
    digests = [f"{i:064x}" for i in range(0, 10**64, 10**61)]
    assert find_identifiers("\n".join(pids + digests)) == []


@pytest.mark.parametrize(
    "text",
    [
        "Could not convert string '197903100415' to INT32",
        "Conversion Error: Could not convert string '19790310-0415' to INT32",
        f"KeyError: '{_bad_luhn(PNR)}'",  # mistyped numbers are redacted too
        "ValueError: bad row: Amina, amina.ali12@gmail.com, 070-123 45 67, 131052-308T",
        "+46 70 123 45 67 / 0701234567 / 0046701234567",
    ],
)
def test_redact_leaves_nothing_a_scanner_would_find(text):
    redacted = redact(text)
    assert find_identifiers(redacted) == []
    scan_text(redacted, where="message")
    assert not re.search(r"\d{6}", redacted.replace("INT32", ""))
    assert "[redacted " in redacted


def test_redact_names_the_kind_and_keeps_the_rest():
    assert redact("Could not convert string '197903100415' to INT32") == (
        "Could not convert string '[redacted identity number]' to INT32"
    )
    assert redact("mail amina.ali12@gmail.com or call 0701234567 in 2020-VT") == (
        "mail [redacted e-mail address] or call [redacted phone number] in 2020-VT"
    )
    ordinary = "stage 'match' failed: 1,463 rows, caliper 0.2, cohort 2021-HT, 2026-11-21"
    assert redact(ordinary) == ordinary


def _demo_like_html() -> str:
    png = "iVBORw0KGgo" + "A1b2C3d4E5f6g7H8" * 400 + "=="
    return (
        "<html><body><h1>Demo programme</h1>"
        "<p>1,463 participants started between 2020-VT and 2024-HT; report built 2026-11-21.</p>"
        f'<img src="data:image/png;base64,{png}">'
        "<table><tr><td>9983ec543b117a68e3662ddf2bee64f3</td><td>0.1988032000</td></tr></table>"
        "<p>code version abfc28467c38-dirty, pandas 2.2.3</p></body></html>"
    )


@pytest.mark.parametrize("injected", ["19880320-0016", "amina.ali12@gmail.com", "070-123 45 67"])
def test_report_html_with_an_identifier_is_refused_without_echoing_it(injected):
    page = _demo_like_html()
    scan_text(page, where="report.html")
    leaky = page.replace("</body>", f"<p>Contact: {injected}</p></body>")
    with pytest.raises(IdentifierLeak, match="report.html: line 1") as error:
        scan_text(leaky, where="report.html")
    assert injected not in str(error.value)


def test_html_entities_cannot_hide_an_address():
    with pytest.raises(IdentifierLeak, match="e-mail address"):
        scan_text("<p>amina.ali12&#64;gmail.com</p>", where="report.html")


def test_base64_images_are_not_scanned():
    # a base64 image may hold any digit run; it must not count as an identifier
    png = "AAAA/" + PNR + "+BBBB" + "QUJD" * 100
    scan_text(f'<img src="data:image/png;base64,{png}">', where="report.html")
    scan_text(json.dumps({"image/png": png * 2}), where="notebook.json")


@pytest.mark.slow
@pytest.mark.parametrize("injected", ["19880320-0016", "amina.ali12@gmail.com", "070-123 45 67"])
def test_the_real_demo_report_passes_and_fails_once_an_identifier_is_injected(
    injected, demo_pipeline
):
    page = (demo_pipeline.report_dir / "report.html").read_text(encoding="utf-8")
    scan_text(page, where="report.html")
    leaky = page.replace("</body>", f"<p>{injected}</p></body>", 1)
    with pytest.raises(IdentifierLeak) as error:
        scan_text(leaky, where="report.html")
    assert injected not in str(error.value) and "report.html" in str(error.value)


def test_manifest_like_json_passes():
    manifest = {
        "stage": "clean",
        "started": "2026-11-21T20:41:57+00:00",
        "code_version": "abfc28467c38-dirty",
        "inputs": {"data_raw/demo/roster.xlsx": {
            "sha256": "d073509418bc77e25cdd476a2159ffdd40c218aaefe66ab2fcb329efa205489a",
            "bytes": 113976}},
        "rows": {"roster": {"rows_read": 1463}, "persons": 100000, "months": 9600000},
        "parameters": {"municipalities": ["0180", "1480", "1280", "0380"], "caliper": 0.2},
        "packages": {"pandas": "2.2.3", "python-stdnum": "1.20"},
    }
    scan_text(json.dumps(manifest, indent=2), where="manifests/clean.json")


# --- tables ---------------------------------------------------------------------------------


def test_pseudonyms_pass_the_guard():
    pids = pseudonymise([f"1988032{i:05d}" for i in range(2000)], bytes(32))
    assert_no_identifiers(pa.table({"pid": pids}), where="test")


def test_identifying_column_or_value_is_refused_without_echoing_it():
    with pytest.raises(IdentifierLeak, match="column 'email'"):
        assert_no_identifiers(pa.table({"email": ["x"]}), where="out")
    with pytest.raises(IdentifierLeak, match="column 'Mobil'"):
        assert_no_identifiers(pa.table({"Mobil": ["x"]}), where="out")
    with pytest.raises(IdentifierLeak) as error:
        assert_no_identifiers(pa.table({"note": ["call 070-123 45 67"]}), where="out")
    assert "070" not in str(error.value)
    assert "out: column 'note'" in str(error.value) and "phone number" in str(error.value)


@pytest.mark.parametrize(
    "array",
    [
        pa.array(["a", PNR, "b"], type=pa.large_string()),
        pa.array(["a", PNR, "b"]).dictionary_encode(),
        pa.array(["a", "amina.ali12@gmail.com"], pa.dictionary(pa.int8(), pa.large_string())),
        pa.array([["ok"], ["mail amina.ali12@gmail.com"]]),
        pa.array([{"text": "ok"}, {"text": "070-123 45 67"}]),
    ],
    ids=["large_string", "dictionary", "dictionary-large", "list", "struct"],
)
def test_every_text_layout_is_scanned(array):
    with pytest.raises(IdentifierLeak, match="column 'c"):
        assert_no_identifiers(pa.table({"c": array}), where="out")


def test_unused_dictionary_values_count_too():
    array = pa.DictionaryArray.from_arrays(pa.array([0, 0], pa.int8()), pa.array(["ok", PNR]))
    with pytest.raises(IdentifierLeak):
        assert_no_identifiers(pa.table({"c": array}), where="out")


def test_forbidden_name_inside_a_struct_is_refused():
    array = pa.array([{"email": "x", "n": 1}])
    with pytest.raises(IdentifierLeak, match="c.email"):
        assert_no_identifiers(pa.table({"c": array}), where="out")


@pytest.mark.parametrize(
    "values, kind",
    [
        ([int(PNR)], "identity number"),
        ([int(PNR[2:])], "identity number"),
        ([int(PNR), 5, 12, 300_000], "identity number"),
        ([int(SAMORDNING)] * 3 + [1, 2], "identity number"),
        ([46701234567], "phone number"),
        ([701234567, 731234567, 761234567, 12, 15], "phone number"),
        ([int(BORN_2004[2:]), 701234567, 791112233], "phone number"),
    ],
)
def test_integer_identity_and_phone_numbers_are_refused(values, kind):
    for type_ in (pa.int64(), pa.uint64(), pa.float64()):
        with pytest.raises(IdentifierLeak, match=f"column 'n' holds what looks like an? {kind}"):
            assert_no_identifiers(pa.table({"n": pa.array(values, type_)}), where="out")


def test_integer_identity_numbers_in_a_dictionary_column_are_refused():
    array = pa.array([int(PNR), 1, 1]).dictionary_encode()
    with pytest.raises(IdentifierLeak, match="identity number"):
        assert_no_identifiers(pa.table({"n": array}), where="out")


def test_ordinary_large_numbers_pass():
    rng = np.random.default_rng(1)
    columns = {
        "earnings": rng.integers(0, 2_000_000, 100_000),
        "month": np.repeat(np.arange(201801, 202513), 10),
        "sum_earnings": np.array([720_000_000, 46_123_456_789, 1_463_000_000] * 10),
        "row_hash": rng.integers(10**9, 10**13, 100_000),  # ~0.7% pass date+Luhn by chance
        "bytes": np.array([113976, 5137290, 10131152] * 10),
        "share": rng.random(100_000),
        "big_float": rng.integers(10**9, 10**12, 1000).astype(float) + 0.5,
    }
    for name, values in columns.items():
        assert_no_identifiers(pa.table({name: values}), where="out")


def test_a_lone_luhn_valid_value_among_many_large_numbers_passes():
    values = np.arange(2_000_000_001, 2_000_000_001 + 50 * 7919, 7919)
    assert_no_identifiers(pa.table({"n": np.append(values, int(PNR))}), where="out")


# --- Parquet files ------------------------------------------------------------------------


def test_scan_parquet_passes_clean_files_and_refuses_leaky_ones(tmp_path):
    pids = pseudonymise([make_personnummer(dt.date(1980, 1, 1), i) for i in range(1, 500)],
                        bytes(32))
    n = 200_000
    table = pa.table({
        "pid": pa.array([pids[i % len(pids)] for i in range(n)]),
        "cohort": pa.array(["2020-VT", "2021-HT"] * (n // 2)).dictionary_encode(),
        "rel_month": np.arange(n, dtype=np.int32) % 48,
        "earnings": np.arange(n, dtype=np.int64) * 3,
        "employed": np.arange(n) % 2 == 0,
    })
    clean = tmp_path / "clean.parquet"
    pq.write_table(table, clean, row_group_size=50_000)
    scan_parquet(clean, where="panel/outcomes.parquet")

    leaky = tmp_path / "leaky.parquet"
    pq.write_table(
        table.append_column("ref", pa.array([None] * (n - 1) + [int(PNR)], pa.int64())),
        leaky, row_group_size=50_000,
    )
    with pytest.raises(IdentifierLeak, match="outcomes.parquet: column 'ref'") as error:
        scan_parquet(leaky, where="panel/outcomes.parquet")
    assert PNR not in str(error.value)

    named = tmp_path / "named.parquet"
    pq.write_table(pa.table({"Personnummer": ["x"]}), named)
    with pytest.raises(IdentifierLeak, match="column 'Personnummer'"):
        scan_parquet(named, where="named")

    texts = tmp_path / "texts.parquet"
    pq.write_table(table.set_column(1, "cohort", pa.array(["2020-VT"] * (n - 1) + [
        "ring 070-123 45 67"])), texts, row_group_size=50_000)
    with pytest.raises(IdentifierLeak, match="column 'cohort' holds what looks like a phone"):
        scan_parquet(texts, where="texts")


def test_scan_parquet_reads_duckdb_output(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    target = tmp_path / "duck.parquet"
    duckdb.sql(
        f"COPY (SELECT md5(CAST(i % 1000 AS VARCHAR)) AS pid, i AS n, "
        f"CASE WHEN i = 4321 THEN '{PNR[:8]}-{PNR[8:]}' ELSE 'ok' END AS note "
        f"FROM range(100000) t(i)) TO '{target}' (FORMAT parquet)"
    )
    with pytest.raises(IdentifierLeak, match="column 'note' holds what looks like an? identity"):
        scan_parquet(target, where="duck")


# --- notebooks ----------------------------------------------------------------------------


def _notebook(path: Path, *outputs: dict) -> Path:
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": 1, "id": "a", "metadata": {},
             "source": ["print(1)"], "outputs": list(outputs)},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))
    return path


PNG = "iVBORw0KGgo" + "0" * 12 + "AAAA/" + "198803200016" + "+BBBB"


def _failed_run(path: Path) -> Path:
    return _notebook(
        path,
        {"output_type": "stream", "name": "stdout",
         "text": ["rows read 1463\n", "bad id 19880320-0016\n"]},
        {"output_type": "display_data", "metadata": {},
         "data": {"image/png": PNG, "text/plain": ["<Figure>"],
                  "text/html": "<td>amina.ali12@gmail.com</td>"}},
        {"output_type": "execute_result", "execution_count": 1, "metadata": {},
         "data": {"text/markdown": "Call 070-123 45 67",
                  "application/json": {"a": ["0701234567"]}}},
        {"output_type": "error", "ename": "ConversionException",
         "evalue": "Could not convert string '197903100415' to INT32",
         "traceback": ["\x1b[0;31mConversionException\x1b[0m: Could not convert string "
                       "'\x1b[1m197903100415\x1b[0m' to INT32"]},
    )


def test_scan_notebook_refuses_identifiers_in_outputs_without_echoing_them(tmp_path):
    path = _failed_run(tmp_path / "run.ipynb")
    with pytest.raises(IdentifierLeak, match="run.ipynb: cell 1, stream output") as error:
        scan_notebook(path, where="run.ipynb")
    assert "0016" not in str(error.value)


def test_scan_notebook_ignores_images_and_passes_clean_outputs(tmp_path):
    path = _notebook(
        tmp_path / "ok.ipynb",
        {"output_type": "stream", "name": "stdout", "text": "1,463 rows; 2020-VT\n"},
        {"output_type": "display_data", "metadata": {},
         "data": {"image/png": PNG, "text/plain": "<Figure size 640x480>"}},
    )
    scan_notebook(path, where="ok.ipynb")


def test_redact_notebook_removes_every_identifier_and_keeps_images(tmp_path):
    path = _failed_run(tmp_path / "run.ipynb")
    redact_notebook(path)
    scan_notebook(path, where="run.ipynb")
    notebook = json.loads(path.read_text())
    outputs = notebook["cells"][0]["outputs"]
    assert outputs[0]["text"] == ["rows read 1463\n", "bad id [redacted identity number]\n"]
    assert outputs[1]["data"]["image/png"] == PNG
    assert outputs[1]["data"]["text/html"] == "<td>[redacted e-mail address]</td>"
    assert outputs[2]["data"]["application/json"] == {"a": ["[redacted phone number]"]}
    assert outputs[3]["evalue"] == "Could not convert string '[redacted identity number]' to INT32"
    assert "197903100415" not in json.dumps(outputs[3]["traceback"])
    assert notebook["cells"][0]["source"] == ["print(1)"]


def test_redact_notebook_keeps_the_notebook_structure(tmp_path):
    path = _failed_run(tmp_path / "run.ipynb")
    before = json.loads(path.read_text())
    redact_notebook(path)
    after = json.loads(path.read_text())
    assert after.keys() == before.keys() and after["metadata"] == before["metadata"]
    for old, new in zip(before["cells"][0]["outputs"], after["cells"][0]["outputs"], strict=True):
        assert old.keys() == new.keys()
        assert old.get("data", {}).keys() == new.get("data", {}).keys()


# --- error messages elsewhere -------------------------------------------------------------


def test_a_mis_mapped_yes_no_column_is_reported_by_row_not_by_value(tmp_path):
    from pipeline.config import RosterColumns
    from pipeline.surveys.roster import RosterError, read_roster

    people = [make_personnummer(dt.date(1980, 1, 1 + i), 10 + i) for i in range(8)]
    phones = ["070-123 45 67", "Ja", "Nej", "073-765 43 21", "Ja", "Amina Ali", "x1", "x2"]
    lines = ["Personnummer,Kohort,Ort,Startdatum,Slutdatum,Mentor matchad,"
             "Antal mentorsträffar,Fullföljt"]
    lines += [f"{pnr},2020-VT,Malmö,2020-03-01,2020-09-01,{phone},3,Ja"
              for pnr, phone in zip(people, phones, strict=True)]
    roster = tmp_path / "roster.csv"
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    columns = RosterColumns(mentor_matched="Mentor matchad")
    with pytest.raises(RosterError) as error:
        read_roster(roster, columns, bytes(32))
    message = str(error.value)
    assert "column 'Mentor matchad' has 5 values other than yes/no" in message
    assert "rows 2, 5, 7, 8, 9" in message
    assert "070" not in message and "Amina" not in message and "x1" not in message
