"""Employment effects: the path around start, the effects table, subgroups, the event study.

Every effect shown carries its minimum detectable effect, and the headline outcome's is said
in words ("With 30 participants, only an effect larger than ±15 percentage points could have
been detected"). When the design does not support an estimate the chapter says why and shows
the participants' own outcomes instead (:mod:`pipeline.report.declined`), with no figure or
number that could be read as an effect. In an annual study horizons are years and the chapter
says that outcomes exist once a year.
"""

from __future__ import annotations

import pandas as pd

from pipeline.effects.table import STATUSES
from pipeline.register.outcomes import OUTCOMES
from pipeline.report import declined, figures, labels
from pipeline.report.chapters.comparison import cohorts_by_start
from pipeline.report.chapters.summary import detectable_sentence
from pipeline.report.context import Context
from pipeline.report.document import Section, note, paragraph, raw, table

ESTIMATOR = "matched_difference"


def register_end(context: Context) -> str:
    """The register's last month as text ("December 2025"), its year in an annual study
    ("2025"), or the missing-value symbol."""
    period = register_last_period(context)
    if period is None:
        return context.tr.missing()
    return str(period.year) if context.time.annual else context.tr.month(period)


def register_last_period(context: Context) -> pd.Period | None:
    """The register's last month (the panel stage's ``register_last_month``), or None."""
    month = context.evidence.facts("panel").get("register_last_month")
    if month is None:
        return None
    return pd.Period(year=int(month) // 12, month=int(month) % 12 + 1, freq="M")


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
    if status == "declined":
        return tr.t("status.declined")
    return tr.t("status.estimated")


def effect_cells(context: Context, row: pd.Series) -> dict[str, str]:
    """Participants' and comparisons' levels, effect, interval and minimum detectable
    effect, or the reason for none."""
    tr, outcome = context.tr, row["outcome"]
    if pd.isna(row["estimate"]):
        reason = status_text(context, row)
        return {"participants": tr.missing(), "comparison": tr.missing(), "effect": reason,
                "interval": tr.missing(), "mde": tr.missing()}
    if not context.publishable_row(row):
        reason = tr.t("status.suppressed", minimum=tr.count(context.rules.min_cell_count))
        return {"participants": tr.suppressed(), "comparison": tr.suppressed(),
                "effect": reason, "interval": tr.suppressed(), "mde": tr.suppressed()}
    mde = row.get("mde", float("nan"))
    return {
        "participants": context.level_text(outcome, row["mean_treated"]),
        "comparison": context.level_text(outcome, row["mean_control"]),
        "effect": context.effect_text(outcome, row["estimate"], short=True),
        "interval": context.interval_text(outcome, row["ci_low"], row["ci_high"]),
        "mde": tr.missing() if pd.isna(mde) else "±" + context.detectable_text(
            outcome, mde, short=True),
    }


def _columns(context: Context) -> dict[str, str]:
    tr = context.tr
    return {
        "participants": tr.t("effects.table.participants"),
        "comparison": tr.t("effects.table.comparison"),
        "effect": tr.t("effects.table.effect"),
        "interval": tr.t("effects.table.interval", level=context.level),
        "mde": tr.t("effects.table.mde"),
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
                 footnotes=[context.tr.t("effects.mde_note"), context.legend_suppressed(),
                            context.legend_missing()])


def by_outcome(context: Context) -> list:
    """The effects table at the headline horizon, one row per outcome, and what the
    headline outcome's sample could have detected."""
    tr = context.tr
    rows = context.headline.reindex([o for o in OUTCOMES if o in context.headline.index])
    if rows.empty:
        return [paragraph(tr.t("summary.no_estimate"))]
    labels = [context.outcome_name(o) for o in rows.index]
    blocks = [raw(effects_table(context, rows, tr.t("effects.table.outcome"), labels,
                                tr.t("effects.table.caption",
                                     duration=context.duration(context.horizon))))]
    left_out = int(rows["cohorts_not_observable"].max())
    if left_out:
        blocks.append(note(tr.plural("effects.cohorts_left_out", left_out,
                                     duration=context.duration(context.horizon))))
    outcome = context.headline_outcome
    detectable = (detectable_sentence(context, rows.loc[outcome])
                  if outcome in rows.index else None)
    if detectable:
        blocks.append(paragraph(detectable))
    blocks.append(note(tr.t("effects.n_note")))
    blocks.append(note(context.t("effects.earnings_note")))
    return blocks


def over_time(context: Context) -> list:
    """Effects on the headline outcome at every horizon, with the status of each."""
    effects = context.evidence.table("effects")
    tr, outcome = context.tr, context.headline_outcome
    about = context.about(outcome)
    rows = effects.loc[(effects["subgroup"] == "all") & (effects["estimator"] == ESTIMATOR)
                       & (effects["outcome"] == outcome)].sort_values("horizon_months")
    blocks = [paragraph(tr.t("effects.over_time.intro", about=about))]
    if not rows.empty:
        labels = [context.horizon_label(h) for h in rows["horizon_months"]]
        blocks.append(raw(effects_table(context, rows, tr.t("effects.table.horizon"), labels,
                                        tr.t("effects.over_time.caption", about=about))))
    absent = sorted(set(context.config.horizon_rel_months) - set(rows["horizon_months"]))
    if absent:
        blocks.append(paragraph(tr.t("effects.over_time.missing", horizons=tr.join(
            context.duration(h) for h in absent)), "missing"))
    return blocks


def path_section(context: Context) -> Section | None:
    """The headline outcome month by month (year by year) around start, both groups."""
    paths = context.evidence.table("paths")
    if paths is None or context.headline_outcome not in paths.columns:
        return None
    tr, outcome = context.tr, context.headline_outcome
    figure = figures.employment_path(paths, tr, context.rules, outcome=outcome,
                                     horizon_months=context.horizon,
                                     programme_months=context.programme_months,
                                     time_unit=context.time.unit)
    return Section("employment-path", context.t("effects.path.heading"), (
        paragraph(context.t("effects.path.intro", share=tr.t(f"figure.share_of.{outcome}"))),
        raw(figure.to_html())))


def subgroup_section(context: Context) -> Section:
    """The forest plot of the headline outcome by subgroup."""
    tr = context.tr
    return Section("subgroups", tr.t("effects.subgroups.heading"), (
        paragraph(tr.t("effects.subgroups.intro",
                       minimum=tr.count(context.config.estimation.min_treated_subgroup))),
        raw(figures.forest_plot(context.evidence.table("effects"), tr, context.rules,
                                outcome=context.headline_outcome,
                                horizon_months=context.horizon,
                                value_labels=forest_labels(context), currency=context.currency,
                                time_unit=context.time.unit).to_html()),
        note(tr.t("effects.subgroups.caution")),
    ))


def event_outcome(context: Context, event: pd.DataFrame) -> str:
    """The event study's outcome: the headline outcome if the table has it, else the first
    outcome it has (the estimate stage runs it for employment)."""
    available = list(pd.unique(event["outcome"]))
    return context.headline_outcome if context.headline_outcome in available else available[0]


def event_section(context: Context) -> Section | None:
    """The event study with the group-time aggregation and the pre-trend test."""
    event = context.evidence.table("event_study")
    if event is None or event.empty:
        return None
    outcome = event_outcome(context, event)
    figure = figures.event_study_plot(
        event, context.tr, context.rules, group_time=context.evidence.table("group_time_dynamic"),
        outcome=outcome, horizon_months=context.horizon, currency=context.currency,
        confidence_level=context.config.estimation.confidence_level,
        time_unit=context.time.unit)
    return Section("event-study", context.tr.t("effects.event.heading"), (
        paragraph(context.t("effects.event.intro", about=context.about(outcome))),
        raw(figure.to_html()),
        paragraph(pre_trend_sentence(context)),
    ))


def intro_blocks(context: Context) -> list:
    """What an effect is, and in an annual study that time runs in years."""
    blocks = [paragraph(context.tr.t("effects.intro"))]
    if context.time.annual:
        blocks.append(paragraph(context.tr.t("effects.annual_note")))
    return blocks


def build(context: Context) -> Section:
    tr, evidence = context.tr, context.evidence
    heading = tr.t("effects.heading")
    if context.declined:
        blocks = [*declined.effects_blocks(context)]
        if context.time.annual:
            blocks.append(paragraph(tr.t("effects.annual_note")))
        return Section("effects", heading, tuple(blocks))
    subsections = [s for s in (path_section(context),) if s is not None]
    blocks = intro_blocks(context)
    if evidence.table("effects") is None:
        blocks.append(paragraph(tr.t("summary.no_estimate")))
        return Section("effects", heading, tuple(blocks), tuple(subsections))
    subsections.append(Section(
        "effects-table",
        tr.t("effects.heading_horizon", duration=context.duration(context.horizon)),
        tuple(by_outcome(context)),
    ))
    subsections.append(Section("effects-over-time", tr.t("effects.over_time.heading"),
                               tuple(over_time(context))))
    subsections.append(subgroup_section(context))
    event = event_section(context)
    if event is not None:
        subsections.append(event)
    return Section("effects", heading, tuple(blocks), tuple(subsections))


def forest_labels(context: Context) -> dict[str, dict[str, str]]:
    """Names of the subgroup values, cohorts in the order they started."""
    effects = context.evidence.table("effects")
    subgroups = effects.loc[effects["subgroup"] != "all"]
    values = {name: part["subgroup_value"].unique()
              for name, part in subgroups.groupby("subgroup")}
    return labels.subgroup_labels(context.tr, values, cohorts_by_start(context, values.get(
        "cohort", [])), context.config.data.identity_country)


def pre_trend_sentence(context: Context) -> str:
    """The joint test of no difference before start, in words."""
    facts = context.evidence.facts("estimate")
    p_value = facts.get("pre_trend_p_value")
    if p_value is None:
        return context.tr.missing()
    key = "effects.event.pre_trend_ok" if p_value >= 0.05 else "effects.event.pre_trend_warning"
    return context.tr.t(key, p_value=context.tr.number(p_value, 2))
