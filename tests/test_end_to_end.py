"""The whole pipeline on the demo world: truth recovered, lineage recorded, nothing leaked."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.runner import STAGES
from pipeline.stage import file_sha256, manifest_path

pytestmark = pytest.mark.slow


def _truth_att(config, horizon: int) -> float:
    truth = json.loads(config.truth_path.read_text())
    return next(r["att"] for r in truth["att"]["employed"]["all"]
                if r["horizon_months"] == horizon)


def test_twelve_month_interval_covers_the_true_effect(demo_pipeline):
    effects = pd.read_parquet(demo_pipeline.processed_dir / "effects.parquet")
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


def _raw_identifiers(config) -> set[str]:
    roster = pd.read_excel(config.roster_path, dtype=str)
    values = set()
    for column in ("Personnummer", "E-post", "Telefon"):
        values |= set(roster[column])
    values |= {pnr.replace("-", "") for pnr in roster["Personnummer"]}
    values |= {pnr.replace("-", "")[2:] for pnr in roster["Personnummer"]}
    values |= {f"{f} {e}" for f, e in zip(roster["Förnamn"], roster["Efternamn"], strict=True)}
    persons = pd.read_parquet(config.persons_path, columns=["Personnummer"])
    values |= set(persons["Personnummer"].sample(2000, random_state=1))
    return values


def test_no_raw_identifier_reaches_processed_data_or_the_report(demo_pipeline):
    identifiers = _raw_identifiers(demo_pipeline)
    texts = []
    for path in demo_pipeline.processed_dir.rglob("*.parquet"):
        table = pd.read_parquet(path)
        texts.append(" ".join(table.columns))
        for column in table.select_dtypes(include=["object", "string"]).columns:
            texts.append(" ".join(table[column].dropna().astype(str).unique()))
    for path in demo_pipeline.processed_dir.rglob("*.ipynb"):
        texts.append(path.read_text())
    texts.append((demo_pipeline.report_dir / "report.html").read_text())
    blob = "\n".join(texts)
    leaked = [value for value in identifiers if value in blob]
    assert not leaked, f"{len(leaked)} raw identifiers found in outputs"


def test_report_headline_equals_the_effects_table(demo_pipeline):
    page = html.unescape((demo_pipeline.report_dir / "report.html").read_text())
    effects = pd.read_parquet(demo_pipeline.processed_dir / "effects.parquet")
    row = effects.loc[effects["outcome"] == "employed"].iloc[0]
    match = re.search(
        r"12 months after start, (\d+)% of participants were employed, against (\d+)% of the "
        r"comparison group: ([+-]\d+\.\d) percentage points \(95% interval ([+-]?\d+\.\d) to "
        r"([+-]?\d+\.\d)\)", page)
    assert match, "headline sentence not found"
    treated, control, estimate, low, high = match.groups()
    assert int(treated) == round(100 * row["mean_treated"])
    assert int(control) == round(100 * row["mean_control"])
    assert float(estimate) == pytest.approx(100 * row["estimate"], abs=0.051)
    assert float(low) == pytest.approx(100 * row["ci_low"], abs=0.051)
    assert float(high) == pytest.approx(100 * row["ci_high"], abs=0.051)


def test_report_is_self_contained_without_code(demo_pipeline):
    page = (demo_pipeline.report_dir / "report.html").read_text()
    assert not re.search(r"""(src|href)=["']https?://""", page)
    images = re.findall(r"<img[^>]+src=\"([^\"]{0,30})", page)
    assert len(images) >= 2 and all(src.startswith("data:image/png;base64") for src in images)
    assert "import pandas" not in page and "load_config(" not in page
    assert "Employment month by month around programme start" in page
