"""One page in plain language: who took part, the headline effect, how sure we are."""

from __future__ import annotations

import pandas as pd

from pipeline.report.context import Context
from pipeline.report.disclosure import protect_shares
from pipeline.report.document import Section, paragraph


def headline_sentence(context: Context, row: pd.Series) -> str:
    """"12 months after start, 54% of participants were employed, against 46% … +8 pp, 95%
    interval 4 to 12." for the employment row of the headline."""
    tr = context.tr
    return tr.t(
        "summary.headline",
        duration=context.duration(int(row["horizon_months"])),
        # one decimal: rounded to whole percent, 49.5% - 45.9% would read as 49 - 46 = +4
        treated=tr.percent(row["mean_treated"], 1),
        control=tr.percent(row["mean_control"], 1),
        effect=tr.percentage_points(row["estimate"], 1),
        level=context.level,
        low=context.signed(100 * row["ci_low"], 1),
        high=context.signed(100 * row["ci_high"], 1),
    )


def certainty_sentence(context: Context, row: pd.Series) -> str:
    """How sure: the interval above zero, below zero, or spanning it."""
    key = ("certainty.positive" if row["ci_low"] > 0
           else "certainty.negative" if row["ci_high"] < 0 else "certainty.inconclusive")
    return context.tr.t(key, level=context.level)


def employment_headline(context: Context) -> pd.Series | None:
    """The headline employment row, if it was estimated and may be shown."""
    if "employed" not in context.headline.index:
        return None
    row = context.headline.loc["employed"]
    if pd.isna(row["estimate"]) or not context.publishable_row(row):
        return None
    return row


def survey_sentence(context: Context) -> str | None:
    """The first agreement question of the last survey wave, as a share with its interval."""
    results = context.survey_results
    if results is None:
        return None
    codebook = context.codebook
    results = results.loc[(results["wave"] == codebook.waves[-1])
                          & (results["kind"] == "likert") & (results["n"] > 0)]
    if results.empty:
        return None
    protected = protect_shares(results.assign(numerator=results["numerator"].astype("int64"),
                                              n=results["n"].astype("int64")),
                               "numerator", "n", context.rules)
    row = protected.iloc[0]
    if row["share_suppressed"]:
        return None
    tr = context.tr
    return tr.t("summary.survey", share=tr.percent(row["share"]),
                question=tr.pick(codebook.items[row["item"]].text, what="question text"),
                n=context.count(row["n"]), level=context.level,
                interval=tr.interval(tr.number(100 * row["ci_low"]),
                                     tr.number(100 * row["ci_high"])))


def build(context: Context) -> Section:
    tr = context.tr
    blocks = []
    roster = context.evidence.table("participants")
    if roster is not None:
        blocks.append(paragraph(tr.t("summary.roster", n=context.count(roster["pid"].nunique()))))
    analysed = context.evidence.rows("panel").get("participants_in_analysis")
    if analysed is not None:
        blocks.append(paragraph(tr.t("summary.analysed", n=context.count(analysed))))
    match = context.evidence.rows("match")
    if "controls_matched" in match:
        blocks.append(paragraph(tr.t("summary.matched",
                                     controls=context.count(match["controls_matched"]),
                                     treated=context.count(match["treated_matched"]))))
    row = employment_headline(context)
    if row is None:
        blocks.append(paragraph(tr.t("summary.no_estimate"), "headline"))
    else:
        blocks.append(paragraph(headline_sentence(context, row), "headline"))
        blocks.append(paragraph(certainty_sentence(context, row)))
    survey = survey_sentence(context)
    if survey:
        blocks.append(paragraph(survey))
    if context.config.synth is not None:
        blocks.append(paragraph(tr.t("report.synthetic"), "note"))
    return Section("summary", tr.t("summary.heading"), tuple(blocks))
