"""Employment effects: the path around start, the effects table, subgroups, the event study."""

from __future__ import annotations

import pandas as pd

from pipeline.effects.table import STATUSES
from pipeline.register.outcomes import OUTCOMES
from pipeline.report import figures, labels
from pipeline.report.chapters.comparison import cohorts_by_start
from pipeline.report.context import Context
from pipeline.report.document import Section, note, paragraph, raw, table

ESTIMATOR = "matched_difference"


def register_end(context: Context) -> str:
    """The register's last month as text, or the missing-value symbol."""
    month = context.evidence.facts("panel").get("register_last_month")
    if month is None:
        return context.tr.missing()
    return context.tr.month(pd.Period(year=int(month) // 12, month=int(month) % 12 + 1,
                                      freq="M"))


def status_text(context: Context, row: pd.Series) -> str:
    """Why a row has no number (or only a partial one), in words."""
    tr, status = context.tr, row["status"]
    if status not in STATUSES:
        raise ValueError(f"unknown effects status {status!r}")
    if status == "partial":
        total = int(row["cohorts_observed"]) + int(row["cohorts_not_observable"])
        return tr.t("status.partial", observed=tr.count(int(row["cohorts_observed"])),
                    total=tr.count(total))
    if status == "not_observable":
        return tr.t("status.not_observable", month=register_end(context))
    if status == "too_few":
        return tr.t("status.too_few",
                    minimum=tr.count(context.config.estimation.min_treated_subgroup))
    return tr.t("status.estimated")


def effect_cells(context: Context, row: pd.Series) -> dict[str, str]:
    """Participants' and comparisons' levels, effect and interval, or the reason for none."""
    tr, outcome = context.tr, row["outcome"]
    if pd.isna(row["estimate"]):
        reason = status_text(context, row)
        return {"participants": tr.missing(), "comparison": tr.missing(), "effect": reason,
                "interval": tr.missing()}
    if not context.publishable_row(row):
        reason = tr.t("status.suppressed", minimum=tr.count(context.rules.min_cell_count))
        return {"participants": tr.suppressed(), "comparison": tr.suppressed(),
                "effect": reason, "interval": tr.suppressed()}
    return {
        "participants": context.level_text(outcome, row["mean_treated"]),
        "comparison": context.level_text(outcome, row["mean_control"]),
        "effect": context.effect_text(outcome, row["estimate"], short=True),
        "interval": context.interval_text(outcome, row["ci_low"], row["ci_high"]),
    }


def _columns(context: Context) -> dict[str, str]:
    tr = context.tr
    return {
        "participants": tr.t("effects.table.participants"),
        "comparison": tr.t("effects.table.comparison"),
        "effect": tr.t("effects.table.effect"),
        "interval": tr.t("effects.table.interval", level=context.level),
        "n_t": tr.t("effects.table.n_participants"),
        "n_c": tr.t("effects.table.n_comparison"),
    }


def effects_table(context: Context, rows: pd.DataFrame, first_column: str,
                  labels: list[str], caption: str) -> str:
    """A table of effects rows, one line each, with counts protected."""
    columns = _columns(context)
    lines = []
    for label, (_, row) in zip(labels, rows.iterrows(), strict=True):
        cells = effect_cells(context, row)
        lines.append({first_column: label, **{columns[k]: v for k, v in cells.items()},
                      columns["n_t"]: context.count(row["n_t"]),
                      columns["n_c"]: context.count(row["n_c"])})
    frame = pd.DataFrame(lines, columns=[first_column, *columns.values()])
    return table(frame, caption, numeric=list(columns.values()),
                 footnotes=[context.legend_suppressed(),
                            context.legend_missing()])


def by_outcome(context: Context) -> list:
    """The effects table at the headline horizon, one row per outcome."""
    tr = context.tr
    rows = context.headline.reindex([o for o in OUTCOMES if o in context.headline.index])
    if rows.empty:
        return [paragraph(tr.t("summary.no_estimate"))]
    labels = [tr.t(f"outcome.{o}.name") for o in rows.index]
    blocks = [raw(effects_table(context, rows, tr.t("effects.table.outcome"), labels,
                                tr.t("effects.table.caption",
                                     duration=context.duration(context.horizon))))]
    left_out = int(rows["cohorts_not_observable"].max())
    if left_out:
        blocks.append(note(tr.plural("effects.cohorts_left_out", left_out,
                                     duration=context.duration(context.horizon))))
    detectable = (detectable_sentence(context, rows.loc["employed"])
                  if "employed" in rows.index else None)
    if detectable:
        blocks.append(paragraph(detectable))
    blocks.append(note(tr.t("effects.n_note")))
    blocks.append(note(tr.t("effects.earnings_note")))
    return blocks


def detectable_sentence(context: Context, row: pd.Series) -> str | None:
    """"With 1,461 participants, only an effect larger than ±3.9 percentage points could have
    been detected." (80% power at the interval's level)."""
    tr = context.tr
    mde = row.get("mde", float("nan"))
    if pd.isna(mde) or not context.publishable_row(row):
        return None
    sentence = tr.plural("effects.small_n", int(row["n_t"]),
                         mde=tr.percentage_points(mde, 1, signed=False))
    detail = tr.t("effects.small_n_detail", power="80",
                  significance=tr.number(100 * (1 - context.config.estimation.confidence_level)))
    return f"{sentence} {detail}"


def over_time(context: Context) -> list:
    """Employment effects at every horizon, with the status of each."""
    effects = context.evidence.table("effects")
    tr = context.tr
    rows = effects.loc[(effects["subgroup"] == "all") & (effects["estimator"] == ESTIMATOR)
                       & (effects["outcome"] == "employed")].sort_values("horizon_months")
    blocks = [paragraph(tr.t("effects.over_time.intro"))]
    if not rows.empty:
        labels = [context.duration(h) for h in rows["horizon_months"]]
        blocks.append(raw(effects_table(context, rows, tr.t("effects.table.horizon"), labels,
                                        tr.t("effects.over_time.caption"))))
    absent = sorted(set(context.config.estimation.horizons) - set(rows["horizon_months"]))
    if absent:
        blocks.append(paragraph(tr.t("effects.over_time.missing", horizons=tr.join(
            context.duration(h) for h in absent)), "missing"))
    return blocks


def build(context: Context) -> Section:
    tr, evidence = context.tr, context.evidence
    subsections = []
    paths = evidence.table("paths")
    if paths is not None:
        subsections.append(Section(
            "employment-path", tr.t("effects.path.heading"),
            (paragraph(tr.t("effects.path.intro")),
             raw(figures.employment_path(paths, tr, context.rules,
                                         horizon_months=context.horizon,
                                         programme_months=context.programme_months)
                 .to_html())),
        ))
    blocks = [paragraph(tr.t("effects.intro"))]
    if evidence.table("effects") is None:
        blocks.append(paragraph(tr.t("summary.no_estimate")))
        return Section("effects", tr.t("effects.heading"), tuple(blocks), tuple(subsections))
    subsections.append(Section(
        "effects-table",
        tr.t("effects.heading_horizon", duration=context.duration(context.horizon)),
        tuple(by_outcome(context)),
    ))
    subsections.append(Section("effects-over-time", tr.t("effects.over_time.heading"),
                               tuple(over_time(context))))
    subsections.append(Section("subgroups", tr.t("effects.subgroups.heading"), (
        paragraph(tr.t("effects.subgroups.intro",
                       minimum=tr.count(context.config.estimation.min_treated_subgroup))),
        raw(figures.forest_plot(evidence.table("effects"), tr, context.rules,
                                horizon_months=context.horizon,
                                value_labels=forest_labels(context)).to_html()),
        note(tr.t("effects.subgroups.caution")),
    )))
    event = evidence.table("event_study")
    if event is not None:
        subsections.append(Section("event-study", tr.t("effects.event.heading"), (
            paragraph(tr.t("effects.event.intro")),
            raw(figures.event_study_plot(event, tr, context.rules,
                                         group_time=evidence.table("group_time_dynamic"),
                                         horizon_months=context.horizon)
                .to_html()),
            paragraph(pre_trend_sentence(context)),
        )))
    return Section("effects", tr.t("effects.heading"), tuple(blocks), tuple(subsections))


def forest_labels(context: Context) -> dict[str, dict[str, str]]:
    """Names of the subgroup values, cohorts in the order they started."""
    effects = context.evidence.table("effects")
    subgroups = effects.loc[effects["subgroup"] != "all"]
    values = {name: part["subgroup_value"].unique()
              for name, part in subgroups.groupby("subgroup")}
    return labels.subgroup_labels(context.tr, values, cohorts_by_start(context, values.get(
        "cohort", [])))


def pre_trend_sentence(context: Context) -> str:
    """The joint test of no difference before start, in words."""
    facts = context.evidence.facts("estimate")
    p_value = facts.get("pre_trend_p_value")
    if p_value is None:
        return context.tr.missing()
    key = "effects.event.pre_trend_ok" if p_value >= 0.05 else "effects.event.pre_trend_warning"
    return context.tr.t(key, p_value=context.tr.number(p_value, 2))
