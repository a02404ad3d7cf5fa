"""The whole pipeline on the demo world: truth recovered, lineage recorded, nothing leaked."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.effects.table import headline
from pipeline.runner import STAGES
from pipeline.stage import file_sha256, manifest_path

pytestmark = pytest.mark.slow


def _truth_att(config, horizon: int) -> float:
    truth = json.loads(config.truth_path.read_text())
    return next(r["att"] for r in truth["att"]["employed"]["all"]
                if r["horizon_months"] == horizon)


def test_twelve_month_interval_covers_the_true_effect(demo_pipeline):
    effects = headline(pd.read_parquet(demo_pipeline.processed_dir / "effects.parquet"), 12)
    employed = effects.loc[effects["outcome"] == "employed"].iloc[0]
    assert employed["horizon_months"] == 12 and employed["confidence_level"] == 0.95
    truth = _truth_att(demo_pipeline, 12)
    assert employed["ci_low"] <= truth <= employed["ci_high"], (employed.to_dict(), truth)
    assert employed["n_t"] > 1000 and employed["n_c"] >= employed["n_t"]


def test_every_stage_has_a_manifest_matching_its_outputs(demo_pipeline):
    for stage in STAGES:
        manifest = json.loads(manifest_path(demo_pipeline, stage).read_text())
        assert manifest["stage"] == stage and manifest["inputs"] and manifest["outputs"]
        assert manifest["packages"]["pandas"] == pd.__version__
        root = demo_pipeline.processed_dir.parent.parent
        for name, facts in manifest["outputs"].items():
            path = root / name if not name.startswith("/") else pd.io.common.Path(name)
            assert file_sha256(path) == facts["sha256"], name
            if name.endswith(".parquet"):
                assert pq.ParquetFile(path).metadata.num_rows == facts["rows"]
    clean = json.loads(manifest_path(demo_pipeline, "clean").read_text())["rows"]
    roster = clean["roster"]
    assert roster["rows_read"] == roster["rows_kept"] + roster["rows_quarantined"]
    for counts in clean["surveys"].values():
        assert counts["rows_read"] == (counts["rows_kept"] + counts["rows_quarantined"]
                                       + counts["rows_excluded"])
    assert not (demo_pipeline.processed_dir / ".staging").exists() or not any(
        (demo_pipeline.processed_dir / ".staging").iterdir())


def _raw_identifiers(config) -> dict[str, set]:
    """Every raw identifier of the demo world, normalised for comparison with output tokens.

    ``identity``: all register ids and roster/survey numbers as 12-digit normalised numbers and
    as the raw digits (12- and 10-digit forms, so mistyped numbers count too); ``email``:
    lower-cased roster and survey addresses and those inside survey comments; ``phone``: roster
    phones and phones inside survey comments as national (``07...``), international (``467...``)
    and leading-zero-stripped (``7...``) digits; ``name``: "first last" word tuples, lower-cased,
    from the roster and the surveys.
    """
    import pyarrow.compute as pc
    import pyreadstat

    from pipeline.pseudonymise import normalise_personnummer

    identity, email, phone, name = set(), set(), set(), set()

    def add_identity(raw) -> None:
        if raw is None or raw != raw or not str(raw).strip():
            return
        digits = re.sub(r"\D", "", str(raw))
        if len(digits) in (10, 12):
            identity.update({digits, digits[-10:]})
        if normalised := normalise_personnummer(raw):
            identity.update({normalised, normalised[2:]})

    def add_phone(raw) -> None:
        digits = re.sub(r"\D", "", str(raw))
        if digits.startswith("00"):
            digits = digits[2:]
        if digits.startswith("46") and len(digits) == 11:
            digits = "0" + digits[2:]
        if len(digits) >= 8 and digits.startswith("0"):
            phone.update({digits, "46" + digits[1:], digits[1:]})

    def add_name(first, last) -> None:
        words = tuple(re.findall(r"[^\W\d_]+", f"{first or ''} {last or ''}".lower()))
        if len(words) >= 2 and first and last and first == first and last == last:
            name.add(words)

    def add_free_text(text) -> None:
        if not isinstance(text, str):
            return
        email.update(address.lower() for address in re.findall(r"[\w.+-]+@[\w.-]+\.\w+", text))
        for number in re.findall(r"\+?\d[\d \-]{6,}\d", text):
            add_phone(number)

    roster = pd.read_excel(config.roster_path, dtype=str)
    for value in roster["Personnummer"]:
        add_identity(value)
    email.update(roster["E-post"].dropna().str.lower())
    for value in roster["Telefon"].dropna():
        add_phone(value)
    for first, last in zip(roster["Förnamn"], roster["Efternamn"], strict=True):
        add_name(first, last)
    for path in config.survey_paths:
        survey, _ = pyreadstat.read_sav(
            str(path), usecols=["pnr", "first_name", "last_name", "email", "comment"]
        )
        for value in survey["pnr"]:
            add_identity(value)
        email.update(survey["email"].dropna().str.strip().str.lower())
        email.discard("")
        for first, last in zip(survey["first_name"], survey["last_name"], strict=True):
            add_name(first, last)
        for text in survey["comment"]:
            add_free_text(text)
    persons = pq.read_table(config.persons_path, columns=["Personnummer"]).column(0)
    register = set(pc.unique(persons).to_pylist())  # 12 digits, as the extract holds them
    assert all(len(value) == 12 and value.isdigit() for value in register)
    identity |= register | {value[2:] for value in register}
    return {"identity": identity, "email": email, "phone": phone, "name": name}


def test_no_raw_identifier_reaches_processed_data_or_the_report(demo_pipeline):
    import functools

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from pipeline.privacy import scan_notebook, scan_parquet, scan_text
    from pipeline.pseudonymise import normalise_personnummer

    raw = _raw_identifiers(demo_pipeline)
    assert len(raw["identity"]) >= 200_000 and raw["email"] and raw["phone"] and raw["name"]
    outputs = sorted(
        path
        for folder in (demo_pipeline.processed_dir, demo_pipeline.report_dir)
        for path in folder.rglob("*")
        if path.is_file()
    )
    texts = []
    for path in outputs:
        where = str(path.relative_to(path.parents[1]))
        if path.suffix == ".parquet":
            scan_parquet(path, where=where)
            schema = pq.ParquetFile(path).schema_arrow
            strings = [f.name for f in schema if pa.types.is_string(f.type)
                       or pa.types.is_large_string(f.type)]
            table = pq.ParquetFile(path, read_dictionary=strings).read().unify_dictionaries()
            texts.append(" ".join(table.column_names))
            for column in table.columns:
                kind = column.type
                if pa.types.is_dictionary(kind) and column.num_chunks:
                    column, kind = column.chunk(0).dictionary, kind.value_type
                if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                    texts.extend(pc.unique(column).drop_null().to_pylist())
                elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
                    values = pc.unique(column).drop_null().to_numpy(zero_copy_only=False)
                    values = values[np.isfinite(values) & (values == np.floor(values))]
                    # one value per line: values joined by spaces would form digit runs
                    texts.append("\n".join(map(str, values.astype(np.int64))))
        elif path.suffix == ".ipynb":
            scan_notebook(path, where=where)
            notebook = json.loads(path.read_text(encoding="utf-8"))
            for cell in notebook["cells"]:
                for output in cell.get("outputs", []):
                    for mime in [m for m in output.get("data", {}) if m.startswith("image/")]:
                        if mime != "image/svg+xml":
                            del output["data"][mime]  # base64 pixels, not text
            texts.append(json.dumps(notebook, ensure_ascii=False))
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix in {".html", ".json", ".md"}:
                scan_text(text, where=where)
            texts.append(re.sub(r"data:image/[\w+.-]+;base64,[A-Za-z0-9+/=]+", " ", text))
    blob = html.unescape("\n".join(texts))

    @functools.cache
    def normalised(token: str) -> str | None:
        return normalise_personnummer(token)

    leaked: dict[str, set] = {"identity": set(), "email": set(), "phone": set(), "name": set()}
    # digit runs with optional single -, + or space separators; every stretch of 9-13 digits
    # inside a run is a candidate (so "0180 19880320-0016" still yields the number). A run
    # inside a word is not one: hexadecimal pseudonyms hold digit runs by chance. (The run
    # must not touch a word character on either side, so backtracking cannot cut a run
    # short inside a pseudonym.)
    for run in re.finditer(r"(?<!\w)\+?\d+(?:[ +\-]\d+)*(?!\w)", blob):
        if run.end() - run.start() < 9:
            continue  # fewer than nine digits
        groups = re.findall(r"\d+", run.group())
        for start in range(len(groups)):
            digits = ""
            for end in range(start, len(groups)):
                digits += groups[end]
                if len(digits) > 13:
                    break
                if len(digits) < 9:
                    continue
                if digits in raw["phone"]:
                    leaked["phone"].add(digits)
                if len(digits) in (10, 12) and (
                    digits in raw["identity"] or normalised(digits) in raw["identity"]
                ):
                    leaked["identity"].add(digits)
    for address in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", blob):
        if address.lower() in raw["email"]:
            leaked["email"].add(address)
    words = re.findall(r"[^\W\d_]+", blob.lower())
    lengths = {len(name) for name in raw["name"]}
    for length in lengths:
        grams = set(zip(*(words[i:] for i in range(length)), strict=False))
        leaked["name"] |= grams & raw["name"]
    counts = {kind: len(values) for kind, values in leaked.items() if values}
    assert not counts, f"raw identifiers found in outputs (count by kind): {counts}"


def test_report_headline_equals_the_effects_table(demo_pipeline):
    from bs4 import BeautifulSoup

    from pipeline.report.i18n import translator

    page = (demo_pipeline.report_dir / "report.html").read_text(encoding="utf-8")
    text = re.sub(r"[ \t\r\n]+", " ", BeautifulSoup(page, "html.parser").get_text(" "))
    effects = headline(pd.read_parquet(demo_pipeline.processed_dir / "effects.parquet"), 12)
    row = effects.loc[effects["outcome"] == "employed"].iloc[0]
    tr = translator(demo_pipeline.language)
    expected = tr.t(
        "summary.headline", duration=tr.plural("unit.months", 12),
        treated=tr.percent(row["mean_treated"], 1), control=tr.percent(row["mean_control"], 1),
        effect=tr.percentage_points(row["estimate"], 1), level="95",
        low=tr.number(100 * row["ci_low"], 1, signed=True),
        high=tr.number(100 * row["ci_high"], 1, signed=True))
    assert expected in text
    facts = json.loads((demo_pipeline.report_dir / "report.json").read_text())
    assert facts["headline"]["estimate"] == pytest.approx(row["estimate"], abs=1e-12)


def test_report_is_self_contained_without_code_and_indexed(demo_pipeline):
    page = (demo_pipeline.report_dir / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)
    images = re.findall(r"<img[^>]+src=\"([^\"]{0,30})", page)
    assert len(images) >= 4 and all(src.startswith("data:image/png;base64") for src in images)
    assert "<script" not in page and "import pandas" not in page
    index = (demo_pipeline.report_dir.parent / "index.html").read_text(encoding="utf-8")
    assert f'href="{demo_pipeline.study}/report.html"' in index


def test_planted_roster_problems_are_accounted_for(demo_pipeline):
    truth = json.loads(demo_pipeline.truth_path.read_text())
    planted = pd.DataFrame(truth["planted_roster_problems"])
    quarantine = pd.read_parquet(demo_pipeline.processed_dir / "roster_quarantine.parquet")
    expected = planted.loc[planted["problem"] != "not_in_register"]
    assert sorted(zip(quarantine["source_row"], quarantine["reason"], strict=True)) == sorted(
        zip(expected["source_row"], expected["problem"], strict=True))
    panel = json.loads(manifest_path(demo_pipeline, "panel").read_text())["rows"]
    assert panel["participants_not_in_register"] == (planted["problem"] == "not_in_register").sum()
    assert panel["participants_listed"] == (panel["participants_in_analysis"]
                                            + panel["participants_not_in_register"]
                                            + panel["participants_not_eligible_at_start"])


def test_survey_quarantine_repairs_and_exclusions_are_exactly_the_planted_problems(demo_pipeline):
    import pyreadstat

    truth = json.loads(demo_pipeline.truth_path.read_text())
    planted = pd.DataFrame(truth["planted_survey_problems"]).astype({"resp_id": str})
    folder = demo_pipeline.processed_dir
    quarantine = pd.read_parquet(folder / "survey_quarantine.parquet")
    excluded = pd.read_parquet(folder / "survey_excluded.parquet")
    repairs = pd.read_parquet(folder / "survey_repairs.parquet")
    wide = pd.read_parquet(folder / "survey_clean.parquet")

    def expected(*problems: str) -> set:
        rows = planted[planted["problem"].isin(problems)]
        return set(zip(rows["file"], rows["resp_id"], rows["problem"], strict=True))

    found = set(zip(quarantine["source_file"], quarantine["resp_id"], quarantine["reason"],
                    strict=True))
    assert found == expected("staff_test", "invalid_id", "duplicate")
    assert set(zip(excluded["source_file"], excluded["resp_id"], excluded["reason"],
                   strict=True)) == expected("refused_consent")
    # a repaired row is kept: find its response id through its file and row number
    raw_ids = {}
    for path in demo_pipeline.survey_paths:
        data, _ = pyreadstat.read_sav(str(path), usecols=["resp_id"])
        raw_ids[path.name] = data["resp_id"].astype(int).astype(str).tolist()
    repaired = {(f, raw_ids[f][r - 1], "repaired_id")
                for f, r in zip(repairs["source_file"], repairs["source_row"], strict=True)}
    assert repaired == expected("repaired_id") and repaired
    assert wide["id_repaired"].sum() == len(repaired)

    accounting = pd.read_parquet(folder / "survey_accounting.parquet").set_index("source_file")
    manifest = json.loads(manifest_path(demo_pipeline, "clean").read_text())["rows"]["surveys"]
    for file, row in accounting.iterrows():
        assert row["rows_read"] == row["rows_kept"] + row["rows_quarantined"] + row["rows_excluded"]
        assert manifest[file]["rows_read"] == row["rows_read"]
        for reason in ("refused_consent", "staff_test", "invalid_id", "duplicate"):
            assert manifest[file][reason] == (planted[planted["file"] == file]["problem"]
                                              == reason).sum()


def test_clean_stage_writes_item_metadata_and_response_status(demo_pipeline):
    folder = demo_pipeline.processed_dir
    items = pd.read_parquet(folder / "survey_items.parquet").set_index("item")
    assert items.loc["conf_job", "text_sv"].startswith("Jag är säker")
    assert items.loc["conf_job", "text_ar"] == "أنا واثق من أنني سأجد عملاً يناسب تعليمي"
    status = pd.read_parquet(folder / "survey_response_status.parquet")
    participants = pd.read_parquet(folder / "participants.parquet")
    assert len(status) == 2 * participants["pid"].nunique()
    assert set(status["status"]) == {"responded", "refused", "not_reached"}
    texts = pd.read_parquet(folder / "survey_free_text.parquet")
    assert texts["text"].str.contains(r"\[redacted (?:name|e-mail address|phone number)\]").any()


def test_effects_table_covers_every_horizon_and_subgroup_honestly(demo_pipeline):
    truth = json.loads(demo_pipeline.truth_path.read_text())["att"]["employed"]
    effects = pd.read_parquet(demo_pipeline.processed_dir / "effects.parquet")
    everyone = effects.query("subgroup == 'all' and outcome == 'employed'").set_index(
        "horizon_months")
    assert list(everyone.index) == [6, 12, 24, 36]
    # the demo register ends 2025-12 and the last cohort starts in autumn 2024: 36 months is
    # reached by the earlier cohorts only, and says so
    assert everyone.loc[12, "status"] == "estimated"
    assert everyone.loc[36, "status"] == "partial" and everyone.loc[36, "cohorts_not_observable"]
    for horizon in (6, 12, 24):
        true = next(r["att"] for r in truth["all"] if r["horizon_months"] == horizon)
        row = everyone.loc[horizon]
        assert row["ci_low"] - 0.01 <= true <= row["ci_high"] + 0.01, (horizon, true)
    women = effects.query(
        "subgroup == 'female' and subgroup_value == '1' and outcome == 'employed' "
        "and horizon_months == 12")
    true_women = next(r["att"] for r in truth["women"] if r["horizon_months"] == 12)
    assert women["ci_low"].iloc[0] - 0.01 <= true_women <= women["ci_high"].iloc[0] + 0.01
    # every matched set belongs to one cohort: the cohorts add up to everyone
    by_cohort = effects.query("subgroup == 'cohort' and outcome == 'employed' and "
                              "horizon_months == 12")
    assert by_cohort["n_t"].sum() == everyone.loc[12, "n_t"]


def test_event_study_placebo_and_robustness_are_written_and_agree(demo_pipeline):
    folder = demo_pipeline.processed_dir
    effects = headline(pd.read_parquet(folder / "effects.parquet"), 12)
    employed = effects.loc[effects["outcome"] == "employed"].iloc[0]
    event = pd.read_parquet(folder / "event_study.parquet").set_index("relative_time")
    # nobody is employed the month before start (eligibility), every set is observed at both
    # months: the event-study coefficient at 12 is the matched difference in means at 12
    assert event.loc[12, "estimate"] == pytest.approx(employed["estimate"], abs=1e-9)
    assert event.loc[-1, "estimate"] == 0 and list(event.index[[0, -1]]) == [-24, 36]
    facts = json.loads(manifest_path(demo_pipeline, "estimate").read_text())["facts"]
    assert facts["pre_trend_df"] == 23 and facts["pre_trend_p_value"] > 0.01
    placebo = pd.read_parquet(folder / "placebo.parquet").set_index("outcome")
    assert placebo.loc["employed", "horizon_months"] == -18
    assert placebo.loc["employed", "ci_low"] <= 0 <= placebo.loc["employed", "ci_high"]
    robustness = pd.read_parquet(folder / "robustness.parquet").set_index("outcome")
    assert robustness.loc["employed", "e_value"] > 1
    assert robustness.loc["employed", "n_sets"] == employed["n_t"]


def test_group_time_effects_agree_with_the_matched_estimates_and_cover_the_truth(demo_pipeline):
    folder = demo_pipeline.processed_dir
    effects = headline(pd.read_parquet(folder / "effects.parquet"), 12)
    employed = effects.loc[effects["outcome"] == "employed"].iloc[0]
    dynamic = pd.read_parquet(folder / "group_time_dynamic.parquet").set_index("event_time")
    # every start month observed 12 months on, nobody employed the month before start: the
    # share-weighted mean of the cohorts' changes is the matched difference in means at 12
    assert dynamic.loc[12, "estimate"] == pytest.approx(employed["estimate"], abs=1e-9)
    assert dynamic.loc[-1, "estimate"] == 0 and list(dynamic.index[[0, -1]]) == [-24, 36]
    truth = _truth_att(demo_pipeline, 12)
    assert dynamic.loc[12, "ci_low"] <= truth <= dynamic.loc[12, "ci_high"]
    cells = pd.read_parquet(folder / "group_time.parquet")
    assert cells["group"].nunique() == pd.read_parquet(folder / "baseline.parquet")[
        "cohort_start"].nunique()
    facts = json.loads(manifest_path(demo_pipeline, "estimate").read_text())["facts"]
    assert facts["group_time_pre_trend_p_value"] > 0.01


def test_match_stage_reports_common_support(demo_pipeline):
    support = pd.read_parquet(demo_pipeline.processed_dir / "common_support.parquet")
    support = support.set_index("group")
    rows = json.loads(manifest_path(demo_pipeline, "match").read_text())["rows"]
    assert rows["treated_off_support"] == support.loc["treated", "n_off_support"]
    assert support.loc["treated", "n"] >= rows["treated_matched"]


def test_alternative_specifications_include_the_headline(demo_pipeline):
    folder = demo_pipeline.processed_dir
    effects = headline(pd.read_parquet(folder / "effects.parquet"), 12).set_index("outcome")
    specs = pd.read_parquet(folder / "specifications.parquet")
    configured = specs.query("specification == 'as configured'").set_index("outcome")
    for outcome in ("employed", "earnings"):
        assert configured.loc[outcome, "estimate"] == pytest.approx(
            effects.loc[outcome, "estimate"], rel=1e-9)
    assert {"no caliper", "1:1 matching", "without labour-market history",
            "regression adjustment"} <= set(specs["specification"])
    assert set(specs["status"]) == {"estimated"}
