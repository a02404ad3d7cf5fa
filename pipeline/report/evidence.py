"""What the report shows, read from the stages' outputs, with what is missing and why.

The report never estimates anything: it reads finished outputs (Parquet tables and stage
manifests). A study whose estimate stage could not produce every table (a horizon not yet
observable, no survey respondents, a single cohort) still gets a report; each absent table is
recorded in :attr:`Evidence.missing` so the report can say what is missing instead of failing.

Two tables tell whether there is an effect to report at all: ``design_verdict`` (one row,
:meth:`pipeline.effects.verdict.DesignVerdict.to_frame`) and ``descriptive`` (the
participants' own outcomes, :func:`pipeline.effects.descriptive.descriptive_outcomes`).
Outputs written before they existed lack both: the design then counts as estimable
(:attr:`Evidence.design_verdict` is None) and there is no descriptive table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.config import StudyConfig
from pipeline.effects.verdict import DesignVerdict
from pipeline.stage import StageRun, manifest_path

STAGES = ("clean", "panel", "match", "estimate")
# Every table the report may read, with the stage that writes it.
TABLES = {
    "participants": "clean",
    "survey_accounting": "clean",
    "survey_responses": "clean",
    "survey_response_status": "clean",
    "survey_items": "clean",
    "survey_labels": "clean",
    "baseline": "panel",  # only the participants' rows are kept
    "matched": "match",
    "balance": "match",
    "match_counts_by_cohort": "match",
    "common_support": "match",
    "score_histogram": "match",
    "effects": "estimate",
    "paths": "estimate",
    "placebo": "estimate",
    "robustness": "estimate",
    "specifications": "estimate",
    "event_study": "estimate",
    "group_time_dynamic": "estimate",
    "design_verdict": "estimate",
    "descriptive": "estimate",
}


@dataclass(frozen=True)
class Evidence:
    """The stage outputs a report is built from.

    Attributes
    ----------
    config : StudyConfig
        The study.
    manifests : dict
        Stage name to its manifest (``rows``, ``facts``, ``parameters``, ``inputs`` …).
    tables : dict
        Table name (see :data:`TABLES`) to DataFrame, for the tables that exist.
    missing : dict
        Table name to the reason it is absent.
    """

    config: StudyConfig
    manifests: dict[str, dict]
    tables: dict[str, pd.DataFrame] = field(repr=False)
    missing: dict[str, str]

    def table(self, name: str) -> pd.DataFrame | None:
        """The table, or None when it is missing (the reason is in :attr:`missing`)."""
        if name not in TABLES:
            raise KeyError(f"unknown report table {name!r}; known: {sorted(TABLES)}")
        return self.tables.get(name)

    @property
    def design_verdict(self) -> DesignVerdict | None:
        """Whether the design supports an effect estimate; None when the estimate stage
        wrote no verdict (older outputs), which counts as estimable."""
        frame = self.tables.get("design_verdict")
        if frame is None or frame.empty:
            return None
        return DesignVerdict.from_frame(frame)

    def rows(self, stage: str) -> dict:
        """The row counts a stage recorded (empty if the stage has no manifest)."""
        return self.manifests.get(stage, {}).get("rows", {})

    def facts(self, stage: str) -> dict:
        """The facts a stage recorded (empty if the stage has no manifest)."""
        return self.manifests.get(stage, {}).get("facts", {})


def load_evidence(config: StudyConfig, stage: StageRun | None = None) -> Evidence:
    """Read every stage output the report may use; record each as an input of ``stage``.

    Parameters
    ----------
    config : StudyConfig
        The study.
    stage : StageRun, optional
        The report stage, whose manifest then lists every file read with its hash.

    Returns
    -------
    Evidence
        Missing files are listed in ``missing``, not raised: the report says what is absent.
    """
    folder = config.processed_dir

    def note(path: Path) -> Path:
        return stage.add_input(path) if stage is not None else path

    manifests, missing = {}, {}
    for name in STAGES:
        path = manifest_path(config, name)
        if path.is_file():
            manifests[name] = json.loads(note(path).read_text())
    tables = {}
    for name, producer in TABLES.items():
        path = folder / f"{name}.parquet"
        if not path.is_file():
            missing[name] = (f"stage '{producer}' has not written {path.name}"
                             if producer in manifests else f"stage '{producer}' has not run")
            continue
        # of the baseline (every eligible person x cohort) only participants' rows are used:
        # the filter is applied while reading, so the pool is never loaded
        filters = [("treated", "==", True)] if name == "baseline" else None
        tables[name] = pd.read_parquet(note(path), filters=filters)
    return Evidence(config=config, manifests=manifests, tables=tables, missing=missing)
