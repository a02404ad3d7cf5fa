"""Robustness: placebo, alternative specifications, Rosenbaum bounds and E-value."""

from __future__ import annotations

import pandas as pd

from pipeline.report.chapters.effects import effect_cells
from pipeline.report.context import Context
from pipeline.report.document import Section, definition_list, paragraph, raw, table


def placebo_sentence(context: Context) -> str | None:
    """The placebo 'effect' on employment before start, with its interval."""
    placebo = context.evidence.table("placebo")
    if placebo is None:
        return None
    rows = placebo.loc[placebo["outcome"] == "employed"]
    if rows.empty or pd.isna(rows.iloc[0]["estimate"]):
        return None
    row = rows.iloc[0]
    if not context.publishable_row(row):
        return context.tr.t("status.suppressed",
                            minimum=context.tr.count(context.rules.min_cell_count))
    return context.tr.t(
        "robustness.placebo.result",
        duration=context.duration(-int(row["horizon_months"])),
        effect=context.effect_text("employed", row["estimate"]),
        level=context.level,
        interval=context.interval_text("employed", row["ci_low"], row["ci_high"]),
    )


def specifications_table(context: Context) -> list:
    """The headline employment effect under each alternative specification."""
    tr = context.tr
    specs = context.evidence.table("specifications")
    if specs is None:
        return []
    rows = specs.loc[specs["outcome"] == "employed"].copy()
    if rows.empty:
        return []
    rows[["mean_treated", "mean_control"]] = float("nan")  # levels are not in this table
    lines = []
    for _, row in rows.iterrows():
        if row["status"] != "estimated":
            cells = {"effect": tr.t("robustness.specifications.not_estimable"),
                     "interval": tr.missing()}
        else:
            cells = effect_cells(context, row)
        name_key = f"robustness.specifications.names.{_key(row['specification'])}"
        lines.append({
            tr.t("robustness.specifications.column"): tr.t(name_key),
            tr.t("effects.table.effect"): cells["effect"],
            tr.t("effects.table.interval", level=context.level): cells["interval"],
            tr.t("effects.table.n_participants"): context.count(row["n_t"]),
            tr.t("effects.table.n_comparison"): context.count(row["n_c"]),
        })
    frame = pd.DataFrame(lines)
    return [raw(table(frame, tr.t("robustness.specifications.caption",
                                  duration=context.duration(context.horizon)),
                      numeric=list(frame.columns[1:])))]


def _key(specification: str) -> str:
    """Catalogue key of a specification's name ("1:5 matching" -> "ratio_5")."""
    return SPECIFICATION_KEYS.get(specification, "other")


SPECIFICATION_KEYS = {
    "as configured": "as_configured",
    "no caliper": "no_caliper",
    "caliper 0.1 SD": "caliper_0_1",
    "1:1 matching": "ratio_1",
    "1:5 matching": "ratio_5",
    "without labour-market history": "without_history",
    "regression adjustment": "regression",
}


def sensitivity(context: Context) -> list:
    """Rosenbaum's critical Gamma and the E-value of the headline, explained."""
    tr = context.tr
    robustness = context.evidence.table("robustness")
    pairs = [(tr.t("robustness.rosenbaum.name"), tr.t("robustness.rosenbaum.explanation")),
             (tr.t("robustness.evalue.name"), tr.t("robustness.evalue.explanation"))]
    blocks = [definition_list(pairs)]
    if robustness is None:
        return blocks
    rows = robustness.loc[robustness["outcome"] == "employed"]
    if rows.empty:
        return blocks
    row = rows.iloc[0]
    if not pd.isna(row["critical_gamma"]):
        blocks.append(paragraph(tr.t("robustness.rosenbaum.result",
                                     gamma=tr.number(row["critical_gamma"], 2))))
    if not pd.isna(row["e_value"]):
        blocks.append(paragraph(tr.t("robustness.evalue.result",
                                     evalue=tr.number(row["e_value"], 2))))
    return blocks


def build(context: Context) -> Section:
    tr = context.tr
    placebo = placebo_sentence(context)
    subsections = [
        Section("placebo", tr.t("robustness.placebo.name"), tuple(
            [paragraph(tr.t("robustness.placebo.explanation",
                            duration=context.duration(-context.config.estimation.placebo_month)))]
            + ([paragraph(placebo)] if placebo else [])
        )),
        Section("specifications", tr.t("robustness.specifications.name"), (
            paragraph(tr.t("robustness.specifications.explanation")),
            *specifications_table(context),
        )),
        Section("sensitivity", tr.t("robustness.sensitivity_heading"),
                tuple(sensitivity(context))),
    ]
    return Section("robustness", tr.t("robustness.heading"),
                   (paragraph(tr.t("robustness.intro")),), tuple(subsections))
