"""Robustness: placebo, alternative specifications, Rosenbaum bounds and E-value."""

from __future__ import annotations

import pandas as pd

from pipeline.report.chapters.effects import effect_cells
from pipeline.report.context import Context
from pipeline.report.document import Section, definition_list, paragraph, raw, table


def headline_rows(context: Context, name: str) -> pd.DataFrame | None:
    """The rows of a robustness table (``placebo``, ``specifications``, ``robustness``) for
    the headline outcome; None when the table is missing or has none."""
    frame = context.evidence.table(name)
    if frame is None:
        return None
    rows = frame.loc[frame["outcome"] == context.headline_outcome]
    return None if rows.empty else rows


def placebo_sentence(context: Context) -> str | None:
    """The placebo 'effect' on the headline outcome before start, with its interval."""
    rows = headline_rows(context, "placebo")
    if rows is None or pd.isna(rows.iloc[0]["estimate"]):
        return None
    row, outcome = rows.iloc[0], context.headline_outcome
    if not context.publishable_row(row):
        return context.tr.t("status.suppressed",
                            minimum=context.tr.count(context.rules.min_cell_count))
    return context.tr.t(
        "robustness.placebo.result",
        duration=context.duration(int(row["horizon_months"])),
        about=context.about(outcome),
        effect=context.effect_text(outcome, row["estimate"]),
        level=context.level,
        interval=context.interval_text(outcome, row["ci_low"], row["ci_high"]),
    )


def specifications_table(context: Context) -> list:
    """The headline effect under each alternative specification."""
    tr = context.tr
    rows = headline_rows(context, "specifications")
    if rows is None:
        return []
    rows = rows.copy()
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
                                  about=context.about(context.headline_outcome),
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
    pairs = [(tr.t("robustness.rosenbaum.name"), tr.t("robustness.rosenbaum.explanation")),
             (tr.t("robustness.evalue.name"), tr.t("robustness.evalue.explanation"))]
    blocks = [definition_list(pairs)]
    rows = headline_rows(context, "robustness")
    if rows is None:
        return blocks
    row = rows.iloc[0]
    if not pd.isna(row["critical_gamma"]):
        # Gamma = 1: no significant positive effect even without hidden bias, nothing to test
        blocks.append(paragraph(
            tr.t("robustness.rosenbaum.result", gamma=tr.number(row["critical_gamma"], 2))
            if row["critical_gamma"] > 1 else tr.t("robustness.rosenbaum.no_positive_conclusion")))
    if not pd.isna(row["e_value"]):
        blocks.append(paragraph(tr.t("robustness.evalue.result",
                                     evalue=tr.number(row["e_value"], 2))))
        if not pd.isna(row.get("e_value_ci")) and row["e_value_ci"] <= 1:
            blocks.append(paragraph(tr.t("robustness.evalue.interval_includes_null")))
    return blocks


def build(context: Context) -> Section:
    tr = context.tr
    if context.declined:
        return Section("robustness", tr.t("robustness.heading"),
                       (paragraph(tr.t("declined.robustness")),))
    placebo = placebo_sentence(context)
    subsections = [
        Section("placebo", tr.t("robustness.placebo.name"), tuple(
            [paragraph(tr.t("robustness.placebo.explanation",
                            duration=context.duration(context.config.placebo_rel_month)))]
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
