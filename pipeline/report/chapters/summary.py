"""One page in plain language: who took part, the headline effect, how sure we are.

The headline is the effect on the study's headline outcome (``estimation.headline_outcome``,
the share employed by default) at the headline horizon. When the design cannot support an
estimate, the summary says so and why, and shows the participants' own outcomes instead,
never an effect.
"""

from __future__ import annotations

import pandas as pd

from pipeline.report import declined
from pipeline.report.context import Context
from pipeline.report.disclosure import protect_shares
from pipeline.report.document import Section, paragraph

# The headline sentence for each possible headline outcome.
HEADLINE_KEYS = {"employed": "summary.headline", "employed_matching": "summary.headline_matching"}


def headline_sentence(context: Context, row: pd.Series) -> str:
    """"12 months after start, 54% of participants were employed, against 46% … +8 pp, 95%
    interval 4 to 12." for the headline row."""
    tr = context.tr
    return tr.t(
        HEADLINE_KEYS[row["outcome"]],
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
    return context.tr.t(certainty_key(row), level=context.level)


def certainty_key(row: pd.Series) -> str:
    """``certainty.positive``, ``.negative`` or ``.inconclusive`` for an effects row."""
    if row["ci_low"] > 0:
        return "certainty.positive"
    return "certainty.negative" if row["ci_high"] < 0 else "certainty.inconclusive"


def headline_row(context: Context) -> pd.Series | None:
    """The headline outcome's row at the headline horizon, if it was estimated and may be
    shown; never a declined row."""
    outcome = context.headline_outcome
    if context.declined or outcome not in context.headline.index:
        return None
    row = context.headline.loc[outcome]
    if row["status"] == "declined" or pd.isna(row["estimate"]):
        return None
    return row if context.publishable_row(row) else None


def detectable_sentence(context: Context, row: pd.Series) -> str | None:
    """"With 1,461 participants, only an effect larger than ±3.9 percentage points could have
    been detected." (80% power at the interval's level), with the participants of ``row``
    (its ``n_t``); None without a minimum detectable effect or for a row that may not be
    shown."""
    tr = context.tr
    mde = row.get("mde", float("nan"))
    if pd.isna(mde) or pd.isna(row["estimate"]) or not context.publishable_row(row):
        return None
    sentence = tr.plural("effects.small_n", int(row["n_t"]),
                         mde=context.detectable_text(row["outcome"], mde))
    detail = tr.t("effects.small_n_detail", power="80",
                  significance=tr.number(100 * (1 - context.config.estimation.confidence_level)))
    return f"{sentence} {detail}"


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


def who_took_part(context: Context) -> list:
    """Participants in the roster, in the analysis, and the comparison group."""
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
    return blocks


def the_headline(context: Context) -> list:
    """The headline effect and how sure it is; the reason and the participants' outcomes
    when the study declines; a pointer to the effects chapter when there is no number."""
    tr = context.tr
    if context.declined:
        return declined.summary_blocks(context)
    row = headline_row(context)
    if row is None:
        return [paragraph(tr.t("summary.no_estimate"), "headline")]
    blocks = [paragraph(headline_sentence(context, row), "headline"),
              paragraph(certainty_sentence(context, row))]
    detectable = detectable_sentence(context, row)
    if detectable and certainty_key(row) == "certainty.inconclusive":
        blocks.append(paragraph(detectable))
    return blocks


def build(context: Context) -> Section:
    tr = context.tr
    blocks = [*who_took_part(context), *the_headline(context)]
    survey = survey_sentence(context)
    if survey:
        blocks.append(paragraph(survey))
    if context.config.synth is not None:
        blocks.append(paragraph(tr.t("report.synthetic"), "note"))
    return Section("summary", tr.t("summary.heading"), tuple(blocks))
