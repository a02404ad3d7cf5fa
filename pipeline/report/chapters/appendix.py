"""Appendix: definitions, data lineage, parameters, versions and input hashes."""

from __future__ import annotations

import json

import pandas as pd

from pipeline.report.context import Context
from pipeline.report.disclosure import protect_counts
from pipeline.report.document import Section, definition_list, note, paragraph, raw, table

DEFINITIONS = ("att", "comparison_group", "matched_set", "eligible", "cohort", "horizon",
               "confidence_interval", "percentage_point", "mde", "smd", "propensity_score")
STAGES = ("clean", "panel", "match", "estimate")


def definitions(context: Context) -> Section:
    tr = context.tr
    values = {"confidence_interval": {"level": context.level}}
    pairs = [(context.t(f"appendix.definitions.{name}.term", **values.get(name, {})),
              context.t(f"appendix.definitions.{name}.text", **values.get(name, {})))
             for name in DEFINITIONS]
    return Section("definitions", tr.t("appendix.definitions.heading"),
                   (definition_list(pairs),))


REASONS = ("refused_consent", "staff_test", "invalid_id", "missing_required", "duplicate")


def lineage_counts(context: Context) -> pd.DataFrame:
    """Rows kept, excluded (no consent) and quarantined by reason, per raw file.

    The roster and every survey file; the rows of a file add up to the rows read.
    """
    rows = []
    roster = context.evidence.rows("clean").get("roster")
    if isinstance(roster, dict):
        rows.append({"source": context.tr.t("appendix.lineage.roster"),
                     "kept": roster.get("rows_kept", 0),
                     **{reason: roster.get(f"quarantined_{reason}", 0) for reason in REASONS}})
    accounting = context.evidence.table("survey_accounting")
    if accounting is not None:
        for row in accounting.to_dict("records"):
            rows.append({"source": row["source_file"], "kept": row["rows_kept"],
                         **{reason: row.get(reason, 0) for reason in REASONS}})
    frame = pd.DataFrame(rows, columns=["source", "kept", *REASONS]).fillna(0)
    # a reason no file has is left out rather than shown as a column of zeros
    empty = [r for r in REASONS if frame[r].sum() == 0]
    return frame.drop(columns=empty)


def lineage(context: Context) -> Section:
    """Row accounting from each raw file, protected: read = kept + excluded + quarantined."""
    tr = context.tr
    counts = lineage_counts(context).set_index("source")
    blocks = [paragraph(tr.t("appendix.lineage.intro"))]
    if not counts.empty:
        read = tr.t("appendix.lineage.read")
        protected = protect_counts(counts.astype("int64"), context.rules, total_row=False,
                                   total_column=True, total_label=read)
        shown = protected.formatted(tr.count, marker=tr.suppressed())
        shown = shown[[read, *shown.columns[:-1]]].rename(columns={
            "kept": tr.t("appendix.lineage.kept"),
            **{reason: tr.t(f"appendix.lineage.reasons.{reason}") for reason in REASONS},
        }).rename_axis(tr.t("appendix.lineage.source")).reset_index()
        blocks.append(raw(table(shown, tr.t("appendix.lineage.heading"),
                                numeric=list(shown.columns[1:]),
                                footnotes=[tr.t("appendix.lineage.reasons_note"),
                                           context.legend_suppressed()])))
    panel = context.evidence.rows("panel")
    if panel:
        register = [
            (tr.t("appendix.lineage.register_persons"), panel.get("register_persons")),
            (tr.t("appendix.lineage.eligible_rows"), panel.get("baseline")),
            (tr.t("appendix.lineage.eligible_participants"), panel.get("baseline_treated")),
        ]
        blocks.append(definition_list((label, context.count(n)) for label, n in register))
    return Section("lineage", tr.t("appendix.lineage.heading"), tuple(blocks))


def parameters(context: Context) -> Section:
    tr = context.tr
    lines = []
    for stage in STAGES:
        manifest = context.evidence.manifests.get(stage)
        if manifest is None:
            continue
        shown = {k: v for k, v in manifest["parameters"].items() if k != "config_path"}
        lines.append({tr.t("appendix.parameters.stage"):
                      tr.t(f"appendix.parameters.stages.{stage}"),
                      tr.t("appendix.parameters.parameters"):
                      json.dumps(shown, ensure_ascii=False, sort_keys=True)})
    frame = pd.DataFrame(lines)
    blocks = [raw(table(frame, tr.t("appendix.parameters.heading")))] if lines else []
    return Section("parameters", tr.t("appendix.parameters.heading"), tuple(blocks))


def versions(context: Context) -> Section:
    """Code version of every stage (they may differ) and the packages of the estimation."""
    tr = context.tr
    manifests = context.evidence.manifests
    codes = [(stage, manifests[stage].get("code_version", tr.missing()))
             for stage in STAGES if stage in manifests]
    blocks = []
    if codes:
        frame = pd.DataFrame({
            tr.t("appendix.parameters.stage"):
                [tr.t(f"appendix.parameters.stages.{stage}") for stage, _ in codes],
            tr.t("appendix.code_version.heading"): [str(version) for _, version in codes],
        })
        blocks.append(raw(table(frame, tr.t("appendix.code_version.heading"))))
        if any(str(version).endswith("-dirty") for _, version in codes):
            blocks.append(note(tr.t("appendix.code_version.uncommitted")))
    manifest = manifests.get("estimate") or next(iter(manifests.values()), {})
    packages = manifest.get("packages", {})
    if packages:
        frame = pd.DataFrame({tr.t("appendix.packages.package"): list(packages),
                              tr.t("appendix.packages.version"): list(packages.values())})
        blocks.append(raw(table(frame, tr.t("appendix.packages.heading"))))
    return Section("versions", tr.t("appendix.packages.heading"), tuple(blocks))


def input_hashes(context: Context) -> Section:
    """SHA-256 of every raw input, as recorded by the stages that read them."""
    tr = context.tr
    lines = []
    for stage in ("clean", "panel"):
        for name, facts in context.evidence.manifests.get(stage, {}).get("inputs", {}).items():
            if "data_processed" in name:
                continue
            lines.append({tr.t("appendix.input_hashes.file"): name,
                          tr.t("appendix.input_hashes.sha256"): facts["sha256"][:16],
                          tr.t("appendix.input_hashes.size"): tr.count(facts["bytes"])})
    blocks = [paragraph(tr.t("appendix.input_hashes.intro"))]
    if lines:
        frame = pd.DataFrame(lines)
        blocks.append(raw(table(frame, tr.t("appendix.input_hashes.heading"),
                                numeric=[tr.t("appendix.input_hashes.size")])))
    return Section("inputs", tr.t("appendix.input_hashes.heading"), tuple(blocks))


def build(context: Context) -> Section:
    tr = context.tr
    return Section("appendix", tr.t("appendix.heading"), (), (
        definitions(context), lineage(context), parameters(context), versions(context),
        input_hashes(context),
    ))
