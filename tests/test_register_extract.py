"""One small register delivered as Parquet, CSV, SAS and Stata gives the same tables.

The register is ``tests/fixtures/register/{persons,monthly}.csv``: five people, one of them born
in 2005 and written in the 10-digit form with its leading zero (``0503152381``), a person row
repeated in another form and one repeated as it is, an invalid and a missing number, several rows
for some person-months and monthly rows of people who are not in the person table. The SAS files
beside them were made from the CSV files by ``make_register_sas7bdat.R`` (R's haven); every other
format is written here from the same CSV files.
"""

from __future__ import annotations

import csv
import io
import shutil
import stat
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from pipeline.config import load_config
from pipeline.pseudonymise import load_key, pseudonymise
from pipeline.register import formats
from pipeline.register.extract import RegisterKeys, RegisterReadError, open_register
from tests.conftest import TEST_KEY_HEX, study_settings, write_config

FIXTURES = Path(__file__).parent / "fixtures" / "register"
TEXT_COLUMNS = {"Personnummer", "FodelseRegion", "Sun2000Inr", "Kommun", "SSYK4_2012"}
A, B, C, D, E = "198503150248", "198207230130", "199001010249", "197711110135", "200503152381"
KEYS = RegisterKeys(
    n_persons=5, n_invalid_ids=2, n_duplicate_ids=2, n_rows_read=9, monthly_rows_read=20,
    n_person_months=15, monthly_unknown_ids=3, monthly_duplicate_rows=2,
)


# --- the register in every format ------------------------------------------------------------


def _rows(name: str) -> list[list[str]]:
    with (FIXTURES / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _frame(name: str, numeric_id: bool = False) -> pd.DataFrame:
    """A fixture table: codes as text (None when empty), everything else as float."""
    header, *rows = _rows(name)
    columns = {}
    for index, column in enumerate(header):
        values = [row[index] for row in rows]
        if column in TEXT_COLUMNS and not (numeric_id and column == "Personnummer"):
            columns[column] = pd.Series([value or None for value in values], dtype=object)
        else:
            columns[column] = pd.Series([float(value) if value else np.nan for value in values])
    return pd.DataFrame(columns)


def _write_csv(name: str, target: Path, delimiter: str = ",", encoding: str = "utf-8",
               newline: str = "\n") -> None:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator=newline).writerows(_rows(name))
    target.write_bytes(text.getvalue().encode(encoding))


def _write_parquet(name: str, target: Path, integer_id: bool = False) -> None:
    table = pa.Table.from_pandas(_frame(name), preserve_index=False)
    if integer_id:
        ids = pa.array([int(v) if v else None for v in _frame(name)["Personnummer"]], pa.int64())
        table = table.set_column(0, "Personnummer", ids)
    pq.write_table(table, target)


WRITERS = {
    "csv_comma": (".csv", lambda name, target: shutil.copy(FIXTURES / f"{name}.csv", target)),
    "csv_semicolon_bom_crlf": (".csv", lambda name, target: _write_csv(
        name, target, ";", "utf-8-sig", "\r\n")),
    "csv_tab": (".csv", lambda name, target: _write_csv(name, target, "\t")),
    "csv_latin1": (".csv", lambda name, target: _write_csv(name, target, encoding="latin-1")),
    "parquet_text_id": (".parquet", _write_parquet),
    "parquet_integer_id": (".parquet", lambda name, target: _write_parquet(name, target, True)),
    "sas7bdat_text_id": (".sas7bdat", lambda name, target: shutil.copy(
        FIXTURES / f"{name}_text_id.sas7bdat", target)),
    "sas7bdat_numeric_id": (".sas7bdat", lambda name, target: shutil.copy(
        FIXTURES / f"{name}_numeric_id.sas7bdat", target)),
    "dta_text_id": (".dta", lambda name, target: pyreadstat.write_dta(_frame(name), target)),
    "dta_numeric_id": (".dta", lambda name, target: pyreadstat.write_dta(
        _frame(name, numeric_id=True), target)),
}


@pytest.fixture()
def study(tmp_path, monkeypatch):
    """``make(fmt, files, **person_columns)``: the register in one format and its configuration.

    ``files`` maps ``"persons"`` or ``"monthly"`` to another file name, which the test writes.
    """
    monkeypatch.setenv("MENTOR_EVAL_KEY", TEST_KEY_HEX)
    (tmp_path / "raw" / "register").mkdir(parents=True)

    def make(fmt: str, files: dict[str, str] | None = None, **person_columns):
        extension, write = WRITERS[fmt]
        settings = study_settings(tmp_path)
        register = settings["data"]["register"]
        for table in ("persons", "monthly"):
            register[table] = f"register/{(files or {}).get(table, table + extension)}"
        register["person_columns"].update(person_columns)
        register["codes"]["native_born_regions"] = ["Sverige"]
        config = load_config(write_config(tmp_path, settings))
        for table, path in (("persons", config.persons_path), ("monthly", config.monthly_path)):
            if table not in (files or {}):
                write(table, path)
        return config

    return make


def _open(config, spill: Path):
    con, keys = open_register(config, load_key(config), temp_directory=spill)
    persons = con.execute("SELECT * FROM persons ORDER BY person_key").df()
    monthly = con.execute("SELECT * FROM monthly ORDER BY person_key, month_index").df()
    return con, keys, persons, monthly


@pytest.fixture()
def reference(study, tmp_path):
    """The register read from the comma-separated fixture files."""
    return _open(study("csv_comma"), tmp_path / "spill")


# --- what the register holds -----------------------------------------------------------------


def test_reference_register_is_read_as_written(reference, study):
    con, keys, persons, monthly = reference
    key = load_key(study("csv_comma"))
    assert keys == KEYS
    assert persons["pid"].tolist() == pseudonymise(sorted([A, B, C, D, E]), key)
    by_pid = persons.set_index("pid")
    e = by_pid.loc[pseudonymise([E], key)[0]]  # 0503152381: the leading zero was kept
    assert (e["birth_year"], e["region_of_birth"], e["municipality"]) == (2005, "Övriga Europa",
                                                                          "0380")
    assert pd.isna(e["education_level"]) and e["education_field"] == "2" and e["foreign_born"]
    a = by_pid.loc[pseudonymise([A], key)[0]]  # her first row wins over 8503150248's
    assert (a["birth_year"], a["female"], a["municipality"]) == (1985, True, "0180")
    assert not by_pid.loc[pseudonymise([C], key)[0], "foreign_born"]  # Sverige
    months = monthly.set_index([monthly["person_key"].map(persons["pid"]), "month_index"])
    a_feb = months.loc[(pseudonymise([A], key)[0], 2020 * 12 + 1)]
    assert (a_feb["employed"], a_feb["earnings"], a_feb["occupation"]) == (1, 30000.5, "2512")
    assert months.loc[(pseudonymise([A], key)[0], 2020 * 12), "registered_unemployed"]
    assert months.loc[(pseudonymise([B], key)[0], 2020 * 12 + 1), "registered_unemployed"]
    assert not months.loc[(pseudonymise([D], key)[0], 2020 * 12 + 1), "registered_unemployed"]
    assert months.loc[(pseudonymise([E], key)[0], 2020 * 12 + 1), "occupation"] == "0110"
    assert len(monthly) == KEYS.n_person_months
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == {"persons", "monthly"}  # no table with raw identity numbers is left


@pytest.mark.parametrize("fmt", [name for name in WRITERS if name != "csv_comma"])
def test_every_format_gives_the_same_tables(fmt, study, reference, tmp_path):
    _, keys, persons, monthly = _open(study(fmt), tmp_path / "spill")
    _, reference_keys, reference_persons, reference_monthly = reference
    assert keys == reference_keys
    pd.testing.assert_frame_equal(persons, reference_persons)
    pd.testing.assert_frame_equal(monthly, reference_monthly)


def test_csv_columns_are_read_as_text_whatever_they_hold(study, tmp_path):
    config = study("csv_semicolon_bom_crlf")
    with formats.scratch_directory(tmp_path / "spill") as scratch:
        source = formats.open_extract(duckdb.connect(), config.monthly_path,
                                      {"personal_id": "Personnummer"}, scratch)
    assert list(source.types) == _rows("monthly")[0]  # the byte-order mark is not a name
    assert set(source.types.values()) == {"VARCHAR"}


# --- SAS and Stata through a temporary Parquet file ------------------------------------------


@pytest.fixture()
def conversions(monkeypatch):
    """Each temporary Parquet file written, with its mode, its folder's and its row groups."""
    written = []
    convert = formats._to_parquet

    def spy(path, kind, stored, scratch):
        sql = convert(path, kind, stored, scratch)
        (target,) = _new(scratch, written)
        written.append({
            "path": target,
            "mode": stat.S_IMODE(target.stat().st_mode),
            "folder_mode": stat.S_IMODE(scratch.stat().st_mode),
            "row_groups": pq.ParquetFile(target).num_row_groups,
            "rows": pq.ParquetFile(target).metadata.num_rows,
        })
        return sql

    monkeypatch.setattr(formats, "_to_parquet", spy)
    return written


def _new(scratch: Path, written: list[dict]) -> list[Path]:
    seen = {entry["path"] for entry in written}
    return [path for path in scratch.glob("*.parquet") if path not in seen]


@pytest.mark.parametrize("fmt", ["sas7bdat_numeric_id", "dta_text_id"])
def test_conversion_is_chunked_private_and_removed(fmt, study, reference, conversions,
                                                   monkeypatch, tmp_path):
    monkeypatch.setattr(formats, "CHUNK_ROWS", 4)
    spill = tmp_path / "spill"
    _, _, persons, monthly = _open(study(fmt), spill)
    pd.testing.assert_frame_equal(persons, reference[2])
    pd.testing.assert_frame_equal(monthly, reference[3])
    assert [entry["rows"] for entry in conversions] == [9, 20]
    assert [entry["row_groups"] for entry in conversions] == [3, 5]  # one per chunk of 4 rows
    assert {(entry["mode"], entry["folder_mode"]) for entry in conversions} == {(0o600, 0o700)}
    assert all(entry["path"].parent.parent == spill for entry in conversions)
    assert not any(entry["path"].parent.exists() for entry in conversions)


def test_temporary_files_are_removed_when_reading_fails(study, conversions, tmp_path):
    config = study("sas7bdat_text_id", {"monthly": "monthly.csv"})
    rows = _rows("monthly")
    rows[3][1] = "2020-02"  # a month DuckDB cannot cast to a number
    text = "\n".join(",".join(row) for row in rows) + "\n"
    config.monthly_path.write_text(text, encoding="utf-8")
    with pytest.raises(RegisterReadError, match=r"monthly\.csv: cannot be read") as raised:
        open_register(config, load_key(config), temp_directory=tmp_path / "spill")
    assert A not in str(raised.value)
    assert len(conversions) == 1 and not any(entry["path"].exists() for entry in conversions)
    assert not list((tmp_path / "spill").glob("register-*"))


def test_temporary_files_are_removed_when_conversion_fails(study, monkeypatch, tmp_path):
    config = study("dta_numeric_id")
    written = []

    def fail(frame, schema):
        written.extend((tmp_path / "spill").glob("register-*/*.parquet"))
        raise MemoryError("chunk too large")

    monkeypatch.setattr(formats, "_arrow_chunk", fail)
    with pytest.raises(MemoryError):
        open_register(config, load_key(config), temp_directory=tmp_path / "spill")
    assert written and not any(path.exists() for path in written)
    assert not list((tmp_path / "spill").glob("register-*"))


# --- files that cannot be read ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv_semicolon_bom_crlf", "parquet_text_id",
                                 "sas7bdat_text_id", "dta_text_id"])
def test_missing_column_names_file_expected_column_and_columns_present(fmt, study, tmp_path):
    config = study(fmt, sex="KON")
    with pytest.raises(RegisterReadError) as raised:
        open_register(config, load_key(config), temp_directory=tmp_path / "spill")
    message = str(raised.value)
    assert str(config.persons_path) in message
    assert "sex -> 'KON'" in message and "the file has FodelseAr, FodelseRegion, Kommun, Kon," \
        in message
    assert not list((tmp_path / "spill").glob("register-*"))


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("persons.xlsx", b"PK\x03\x04", r"unsupported register format '\.xlsx'"),
    ("persons.sas7bdat", b"Personnummer,Kon\n198503150248,2\n",
     r"cannot be read as SAS, as its extension '\.sas7bdat' says: the file holds text"),
    ("persons.dta", (FIXTURES / "persons_text_id.sas7bdat").read_bytes(),
     r"cannot be read as Stata.*holds a SAS data set"),
    ("persons.csv", b"PAR1\x00\x00", r"cannot be read as CSV.*holds a Parquet file"),
    ("persons.csv", "Personnummer,Kon".encode("utf-16"), r"cannot be read as CSV.*UTF-16"),
    ("persons.csv", b"", r"the file is empty"),
    ("persons.sas7bdat", b"", r"the file is empty"),
    ("persons.parquet", b"PAR1 cut off while copying", r"cannot be read as Parquet"),
    ("persons.sas7bdat", (FIXTURES / "persons_text_id.sas7bdat").read_bytes()[:2000],
     r"cannot be read as SAS"),
    ("persons.csv", b"Personnummer|Kon\n198503150248|2\n", r"no comma, semicolon or tab"),
])
def test_bad_file_is_refused_naming_it(name, content, expected, study, tmp_path):
    config = study("csv_comma", {"persons": name})
    path = config.persons_path
    path.write_bytes(content)
    with pytest.raises(RegisterReadError, match=expected) as raised:
        open_register(config, load_key(config), temp_directory=tmp_path / "spill")
    assert str(raised.value).startswith(f"{path}: ")
    assert not list((tmp_path / "spill").glob("register-*"))


def test_truncated_stata_file_is_refused_naming_it(study, tmp_path):
    config = study("dta_text_id")
    content = config.persons_path.read_bytes()
    config.persons_path.write_bytes(content[: len(content) // 2])
    with pytest.raises(RegisterReadError, match=r"persons\.dta: cannot be read as Stata"):
        open_register(config, load_key(config), temp_directory=tmp_path / "spill")


def test_identity_numbers_stored_as_4_byte_floats_are_refused(study, tmp_path):
    config = study("parquet_integer_id")
    table = pq.read_table(config.persons_path)
    ids = table["Personnummer"].cast(pa.float32(), safe=False)
    pq.write_table(table.set_column(0, "Personnummer", ids), config.persons_path)
    with pytest.raises(RegisterReadError, match=r"persons\.parquet: the identity numbers in "
                                                r"'Personnummer' are stored as 4-byte"):
        open_register(config, load_key(config), temp_directory=tmp_path / "spill")


STORED = {  # the monthly file as stored, read without the pipeline
    "parquet_integer_id": lambda path: pq.read_table(path).to_pandas(),
    "sas7bdat_numeric_id": lambda path: pyreadstat.read_sas7bdat(path)[0],
    "dta_numeric_id": lambda path: pyreadstat.read_dta(path)[0],
}


@pytest.mark.parametrize("fmt", list(STORED))
def test_numeric_identity_numbers_regain_their_leading_zeros(fmt, study, tmp_path):
    config = study(fmt)
    assert 503152381 in STORED[fmt](config.monthly_path)["Personnummer"].tolist()
    _, _, persons, monthly = _open(config, tmp_path / "spill")
    e_key = persons.set_index("pid").loc[pseudonymise([E], load_key(config))[0], "person_key"]
    assert monthly.loc[monthly["person_key"] == e_key, "month_index"].tolist() == [
        2020 * 12, 2020 * 12 + 1, 2020 * 12 + 2]


# --- the 12-digit form checked in SQL ---------------------------------------------------------


def _long_forms(n: int, seed: int = 7) -> list[str]:
    """Random 12-digit texts near the edges: years 0000/1900/2000, months 00/13, days 00, 29-31
    and 60-92 (samordningsnummer), serial 000; about half with a correct Luhn check digit."""
    rng = np.random.default_rng(seed)
    doubled = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]
    texts = []
    for _ in range(n):
        year = rng.choice(["0000", "0004", "1900", "2000", "2100", f"{rng.integers(1800, 2030)}"])
        month = f"{rng.choice([0, 1, 2, 4, 12, 13, rng.integers(0, 100)]):02d}"
        days = [0, 1, 28, 29, 30, 31, 32, 60, 61, 89, 91, 92, rng.integers(0, 100)]
        day = f"{rng.choice(days):02d}"
        serial = rng.choice(["000", "001", f"{rng.integers(0, 1000):03d}"])
        digits = [int(c) for c in (year + month + day + serial)[2:]]
        luhn = sum(doubled[d] if i % 2 == 0 else d for i, d in enumerate(digits))
        check = (10 - luhn % 10) % 10 if rng.random() < 0.5 else rng.integers(0, 10)
        texts.append(f"{year}{month}{day}{serial}{check}")
    return texts


def test_long_form_check_in_sql_agrees_with_the_personnummer_package():
    from pipeline.pseudonymise import normalise_personnummer
    from pipeline.register.extract import _LONG_FORM, _valid_long_form_sql

    texts = _long_forms(20_000) + [A, B, C, D, E, "198503150249", "190002290000"]
    con = duckdb.connect()
    con.register("texts", pa.table({"raw_id": texts}))
    valid = con.execute(
        f"SELECT raw_id, {_LONG_FORM} AND {_valid_long_form_sql('raw_id')} FROM texts"
    ).fetchall()
    expected = [(text, normalise_personnummer(text) == text) for text in texts]
    assert valid == expected
    assert 0.1 < sum(ok for _, ok in valid) / len(valid) < 0.9  # both outcomes are exercised


def test_repeated_months_are_counted_alike_by_bitstring_and_by_sorting(reference, monkeypatch):
    from pipeline.register import extract

    con, keys, _, _ = reference
    con.execute("CREATE TABLE monthly_copy AS SELECT * FROM monthly")
    con.execute("INSERT INTO monthly SELECT * FROM monthly_copy WHERE month_index % 2 = 0")
    by_bitstring = extract._count_repeated_months(con)
    monkeypatch.setattr(extract, "_BITSTRING_MONTHS", 0)
    assert extract._count_repeated_months(con) == by_bitstring > 0


def test_register_tables_are_compressed(reference):
    con, _, _, _ = reference
    tables = con.execute(
        "SELECT database_name, table_name, temporary FROM duckdb_tables() ORDER BY table_name"
    ).fetchall()
    assert tables == [("register", "monthly", False), ("register", "persons", False)]
    assert con.execute("SELECT current_database()").fetchall()[0][0] == "register"
    occupation_type = con.execute(
        "SELECT data_type FROM duckdb_columns() WHERE table_name = 'monthly' "
        "AND column_name = 'occupation'").fetchall()[0][0]
    assert occupation_type.startswith("ENUM(")
