"""What the report says when the design does not support an effect estimate.

The estimate stage decides (:mod:`pipeline.effects.verdict`): too few participants, or too
few of them with a comparable non-participant. The report then says plainly that it does not
estimate an effect and why, and shows the participants' own outcomes at every horizon with
their intervals (:mod:`pipeline.effects.descriptive`), stating that these are not effects.
Levels pass the same disclosure rule as everywhere else (:meth:`Context.level_withheld`), and
counts in the reason are given only when neither they nor their complement are small.
"""

from __future__ import annotations

import pandas as pd

from pipeline.register.outcomes import OUTCOMES
from pipeline.report.context import Context
from pipeline.report.document import bullet_list, note, paragraph, raw, table


def reason_sentence(context: Context) -> str:
    """Why no effect is estimated, with the numbers when they may be shown."""
    tr, verdict = context.tr, context.verdict
    if verdict is None or verdict.reason is None:
        return tr.t("declined.unspecified")
    minimum = tr.count(verdict.min_participants)
    n, matched = verdict.n_participants, verdict.n_matched
    if verdict.reason == "no_overlap":
        share = tr.percent(verdict.min_share_matched)
        if _pair_shown(context, matched, n):
            return tr.t("declined.no_overlap", matched=tr.count(matched), n=tr.count(n),
                        share=share)
        return tr.t("declined.no_overlap_vague", share=share)
    if n < verdict.min_participants:
        if context.rules.is_small(n):
            return tr.t("declined.too_few_participants_vague", minimum=minimum)
        return tr.t("declined.too_few_participants", n=tr.count(n), minimum=minimum)
    if _pair_shown(context, matched, n):
        return tr.t("declined.too_few_matched", matched=tr.count(matched), n=tr.count(n),
                    minimum=minimum)
    return tr.t("declined.too_few_matched_vague", minimum=minimum)


def _pair_shown(context: Context, part: int, whole: int) -> bool:
    """Whether "part of whole" may be written: neither the part nor the rest is small."""
    return not (context.rules.is_small(whole) or context.rules.is_small(part)
                or context.rules.is_small(whole - part))


def descriptive_rows(context: Context, outcomes: list[str] | None = None) -> pd.DataFrame:
    """The descriptive table's rows for ``outcomes`` (all by default), in the report's
    outcome order and by horizon; empty without a descriptive table."""
    frame = context.evidence.table("descriptive")
    if frame is None:
        return pd.DataFrame(columns=["outcome", "horizon_months"])
    order = {o: i for i, o in enumerate(OUTCOMES)}
    if outcomes is not None:
        frame = frame.loc[frame["outcome"].isin(outcomes)]
    ranked = frame.assign(_rank=frame["outcome"].map(order).fillna(len(order)))
    return ranked.sort_values(["_rank", "horizon_months"]).drop(columns="_rank")


def level_cells(context: Context, row: pd.Series) -> tuple[str, str] | None:
    """The level and its interval as text; None when the level may not be shown (small
    numbers); the missing symbol when nobody was observed."""
    tr = context.tr
    if int(row["n_observed"]) == 0 or pd.isna(row["mean"]):
        return tr.missing(), tr.missing()
    if context.level_withheld(row["outcome"], row["mean"], int(row["n_observed"])):
        return None
    interval = (tr.missing() if pd.isna(row["ci_low"]) else
                context.level_interval_text(row["outcome"], row["ci_low"], row["ci_high"]))
    return context.level_text(row["outcome"], row["mean"]), interval


def outcome_line(context: Context, row: pd.Series) -> str:
    """"Employed, 12 months after start: 41% (95% interval 25% to 59%)." or why not."""
    tr = context.tr
    values = {"outcome": context.outcome_name(row["outcome"]),
              "duration": context.duration(int(row["horizon_months"]))}
    cells = level_cells(context, row)
    if cells is None:
        return tr.t("declined.line_withheld", minimum=tr.count(context.rules.min_cell_count),
                    **values)
    if cells[0] == tr.missing():
        return tr.t("declined.line_unobserved", **values)
    return tr.t("declined.line", value=cells[0], interval=cells[1], level=context.level,
                **values)


def descriptive_table(context: Context) -> str:
    """Every outcome at every horizon: level, interval and participants observed."""
    tr = context.tr
    columns = {"outcome": tr.t("effects.table.outcome"),
               "horizon": tr.t("effects.table.horizon"),
               "value": tr.t("declined.table.value"),
               "interval": tr.t("effects.table.interval", level=context.level),
               "n": tr.t("declined.table.n_observed")}
    lines = []
    for _, row in descriptive_rows(context).iterrows():
        cells = level_cells(context, row) or (tr.suppressed(), tr.suppressed())
        lines.append({columns["outcome"]: context.outcome_name(row["outcome"]),
                      columns["horizon"]: context.horizon_label(int(row["horizon_months"])),
                      columns["value"]: cells[0], columns["interval"]: cells[1],
                      columns["n"]: context.count(row["n_observed"])})
    frame = pd.DataFrame(lines, columns=list(columns.values()))
    return table(frame, tr.t("declined.table.caption"),
                 numeric=[columns["value"], columns["interval"], columns["n"]],
                 footnotes=[context.legend_suppressed(), context.legend_missing()])


def reason_blocks(context: Context, css_class: str | None = None) -> list:
    """Why there is no effect, and that what follows are not effects."""
    return [paragraph(reason_sentence(context), css_class),
            paragraph(context.tr.t("declined.not_effects", level=context.level))]


def summary_blocks(context: Context) -> list:
    """For the summary: the reason, what is shown instead, and the headline outcome at
    every horizon."""
    tr = context.tr
    blocks = reason_blocks(context, "headline")
    rows = descriptive_rows(context, [context.headline_outcome])
    if rows.empty:
        blocks.append(paragraph(tr.t("declined.no_outcomes")))
    else:
        blocks.append(bullet_list(outcome_line(context, row) for _, row in rows.iterrows()))
    return blocks


def effects_blocks(context: Context) -> list:
    """For the effects chapter: the reason, what is shown instead, and every outcome."""
    tr = context.tr
    blocks = reason_blocks(context)
    if descriptive_rows(context).empty:
        blocks.append(paragraph(tr.t("declined.no_outcomes")))
        return blocks
    blocks.append(raw(descriptive_table(context)))
    blocks.append(note(tr.t("declined.intervals_note")))
    blocks.append(note(context.t("effects.earnings_note")))
    return blocks
