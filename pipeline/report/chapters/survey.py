"""What participants said: response, key results with intervals, intake against end, and
non-response compared and re-weighted on register data.

Question texts and answer labels come from the survey's codebook in the report's language;
every share passes :func:`~pipeline.report.disclosure.protect_shares`.
"""

from __future__ import annotations

import warnings

import pandas as pd

from pipeline.report import figures
from pipeline.report.context import Context
from pipeline.report.disclosure import protect_frequency_table, protect_shares
from pipeline.report.document import Section, note, paragraph, raw, table
from pipeline.surveys import nonresponse
from pipeline.surveys.codebook import Codebook
from pipeline.surveys.results import intake_vs_end, likert_distribution

# Register characteristics on which respondents and non-respondents are compared and
# non-response weights are modelled.
NONRESPONSE_COVARIATES = ("age", "female", "years_since_immigration", "employed_m12",
                          "months_employed_12", "months_unemployed_12")
# An annual register has no row 12 months before start (January): employed_m12 is left out,
# and the 12-month windows hold the status at the end of the year before start.
ANNUAL_LEFT_OUT = ("employed_m12",)


def _question(context: Context, codebook: Codebook, item: str) -> str:
    return context.tr.pick(codebook.items[item].text, what=f"text of survey item {item!r}")


def response_table(context: Context, indicator: pd.DataFrame, waves: list[str]) -> list:
    """Invited, respondents and non-respondents per wave, protected."""
    tr = context.tr
    frame = indicator.assign(
        wave=pd.Categorical(indicator["wave"], categories=waves, ordered=True),
        group=pd.Categorical(indicator["responded"].map({True: "respondents",
                                                         False: "non_respondents"}),
                             categories=["respondents", "non_respondents"]),
        n=1)
    protected = protect_frequency_table(frame, "n", ["wave", "group"], context.rules,
                                        total_row=False, total_label="invited")
    shown = protected.formatted(tr.count, marker=tr.suppressed()).rename(
        index={w: tr.t(f"survey.wave.{w}") for w in waves},
        columns={"respondents": tr.t("nonresponse.table.respondents"),
                 "non_respondents": tr.t("nonresponse.table.non_respondents"),
                 "invited": tr.t("nonresponse.table.invited")})
    shown = shown.rename_axis(tr.t("nonresponse.table.group")).reset_index()
    return [raw(table(shown, tr.t("nonresponse.table.caption"),
                      numeric=list(shown.columns[1:]),
                      footnotes=[context.legend_suppressed()]))]


def _share_cell(context: Context, share: float, low: float, high: float) -> str:
    tr = context.tr
    if pd.isna(share):
        return tr.suppressed() if not pd.isna(low) else tr.missing()
    return tr.t("survey.table.share_interval", share=tr.percent(share),
                interval=tr.interval(tr.number(100 * low), tr.number(100 * high)))


def key_results_table(context: Context, codebook: Codebook, results: pd.DataFrame,
                      waves: list[str], caption: str, *, weighted: bool = False) -> str:
    """Share agreeing (or answering yes) per question and wave, interval and n."""
    tr = context.tr
    rows = {}
    suffix = "_weighted" if weighted else ""
    for wave in waves:
        part = results.loc[results["wave"] == wave].copy()
        part["numerator"] = part["numerator"].fillna(0).astype("int64")
        part["n"] = part["n"].fillna(0).astype("int64")
        protected = protect_shares(part, "numerator", "n", context.rules)
        for row in protected.itertuples(index=False):
            hidden = row.share_suppressed or row.n == 0
            share = float("nan") if hidden else getattr(row, "share" + suffix)
            low = getattr(row, "ci_low" + suffix)
            high = getattr(row, "ci_high" + suffix)
            cell = (tr.suppressed() if row.share_suppressed
                    else _share_cell(context, share, low, high))
            rows.setdefault(row.item, {})[tr.t(f"survey.wave.{wave}")] = cell
            rows[row.item][tr.t("survey.table.n_wave",
                                wave=tr.t(f"figure.wave_in_text.{wave}"))] = (
                context.count(row.n))
    frame = pd.DataFrame.from_dict(rows, orient="index").fillna(tr.missing())  # not asked
    frame.index = [_question(context, codebook, item) for item in frame.index]
    frame = frame.rename_axis(tr.t("survey.table.question")).reset_index()
    return table(frame, caption, numeric=list(frame.columns[1:]),
                 footnotes=[tr.t("survey.table.agree_rule"),
                            context.legend_suppressed(),
                            context.legend_missing()])


def likert_figure(context: Context, codebook: Codebook, responses: pd.DataFrame,
                  waves: list[str]) -> list:
    tr = context.tr
    distribution = likert_distribution(responses, codebook, waves=waves)
    if distribution.empty:
        return []
    labels = {(row.scale, row.category): tr.pick(
        codebook.scales[row.scale].labels[int(row.category)], what="answer label")
        for row in distribution.drop_duplicates(["scale", "category"]).itertuples()}
    frame = distribution.assign(
        item_text=[_question(context, codebook, item) for item in distribution["item"]],
        label=[labels[(s, c)] for s, c in zip(distribution["scale"], distribution["category"],
                                              strict=True)],
        category=distribution["rank"],
    )
    return [raw(figures.likert_bars(frame, tr, context.rules).to_html())]


def nonresponse_section(context: Context, codebook: Codebook, responses: pd.DataFrame,
                        indicator: pd.DataFrame, waves: list[str]) -> Section:
    """Respondents against non-respondents on register data; key results re-weighted."""
    tr = context.tr
    blocks = [paragraph(tr.t("nonresponse.intro"))]
    for wave in waves:
        part = indicator.loc[indicator["wave"] == wave]
        if len(part):
            blocks.append(paragraph(tr.t(
                f"nonresponse.rate_{wave}", rate=tr.percent(part["responded"].mean()),
                responded=context.count(part["responded"].sum()),
                invited=context.count(len(part)))))
    baseline = context.evidence.table("baseline")
    if baseline is None or indicator["responded"].sum() == 0:
        return Section("nonresponse", tr.t("nonresponse.heading"), tuple(blocks))
    blocks.append(paragraph(tr.t("nonresponse.comparison")))
    left_out = ANNUAL_LEFT_OUT if context.time.annual else ()
    covariates = [c for c in NONRESPONSE_COVARIATES
                  if c in baseline.columns and c not in left_out]
    comparison = nonresponse.compare_respondents(indicator, baseline, covariates,
                                                 waves=waves)
    blocks.append(raw(comparison_table(context, comparison, waves[-1])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a separated response model is said in the table
        try:
            weights = nonresponse.nonresponse_weights(indicator, baseline, covariates,
                                                      waves=waves)
        except ValueError:  # e.g. a category without respondents: no weights, said so
            blocks.append(note(tr.t("nonresponse.weights_failed")))
            return Section("nonresponse", tr.t("nonresponse.heading"), tuple(blocks))
    reweighted = nonresponse.reweighted_key_results(responses, codebook, weights, waves=waves)
    blocks += [paragraph(tr.t("nonresponse.reweighted")),
               raw(key_results_table(context, codebook, reweighted, waves,
                                     tr.t("nonresponse.reweighted_caption"), weighted=True)),
               note(tr.t("nonresponse.weights_limit"))]
    return Section("nonresponse", tr.t("nonresponse.heading"), tuple(blocks))


def _group_mean(context: Context, value: float, *, small: bool, binary: bool) -> str:
    """A group's mean in the non-response table: hidden for a small group."""
    tr = context.tr
    if small:
        return tr.suppressed()
    if pd.isna(value):
        return tr.missing()
    return tr.percent(value) if binary else tr.number(value, 1)


def _variable_name(context: Context, covariate: str) -> str:
    """A register characteristic's name; an annual register's windows hold year-ends."""
    key = f"nonresponse.variables.{covariate}"
    if context.time.annual and f"{key}_annual" in context.tr.keys:
        key = f"{key}_annual"
    return context.tr.t(key)


def comparison_table(context: Context, comparison: pd.DataFrame, wave: str) -> str:
    """Means of respondents and non-respondents (groups of at least the minimum) and SMD."""
    tr = context.tr
    part = comparison.loc[comparison["wave"] == wave]
    lines = []
    for row in part.itertuples(index=False):
        small = (context.rules.is_small(int(row.n_respondents))
                 or context.rules.is_small(int(row.n_nonrespondents)))
        shape = {"small": small, "binary": row.type == "binary"}
        lines.append({
            tr.t("nonresponse.table.characteristic"): _variable_name(context, row.covariate),
            tr.t("nonresponse.table.respondents"):
                _group_mean(context, row.mean_respondents, **shape),
            tr.t("nonresponse.table.non_respondents"):
                _group_mean(context, row.mean_nonrespondents, **shape),
            tr.t("figure.smd"): tr.missing() if small or pd.isna(row.smd)
            else tr.number(row.smd, 2, signed=True),
        })
    frame = pd.DataFrame(lines)
    return table(frame, tr.t("nonresponse.table.comparison_caption",
                             wave=tr.t(f"survey.wave.{wave}")),
                 numeric=list(frame.columns[1:]))


def build(context: Context) -> Section:
    tr, evidence = context.tr, context.evidence
    blocks = [paragraph(tr.t("survey.intro"))]
    responses = evidence.table("survey_responses")
    roster = evidence.table("participants")
    if responses is None or roster is None:
        blocks.append(paragraph(tr.t("survey.none")))
        return Section("survey", tr.t("survey.heading"), tuple(blocks))
    codebook = context.codebook
    waves = list(codebook.waves)
    answered = [language for language in codebook.languages
                if language in set(responses["language"].astype(str))]
    if answered:  # the languages people actually answered in, not all the codebook knows
        blocks.append(paragraph(tr.t("survey.answered_in", languages=tr.join(
            tr.t(f"language.{language}") for language in answered))))
    indicator = nonresponse.response_indicator(
        evidence.table("survey_response_status"), participants=roster, responses=responses,
        waves=waves)
    blocks += response_table(context, indicator, waves)
    if responses.empty:
        blocks.append(paragraph(tr.t("survey.no_respondents")))
    else:
        blocks.append(raw(key_results_table(context, codebook, context.survey_results, waves,
                                            tr.t("survey.table.caption"))))
        blocks += likert_figure(context, codebook, responses, waves)
        if len(waves) >= 2:
            paired = intake_vs_end(responses, codebook, first=waves[0], second=waves[-1])
            blocks.append(paragraph(paired_sentence(context, codebook, paired)))
    blocks.append(note(tr.t("survey.free_text")))
    subsections = (nonresponse_section(context, codebook, responses, indicator, waves),)
    return Section("survey", tr.t("survey.heading"), tuple(blocks), subsections)


def paired_sentence(context: Context, codebook: Codebook, paired: pd.DataFrame) -> str:
    """How many answered both waves, and for which question the share changed most."""
    tr = context.tr
    usable = paired.loc[paired["n_pairs"] >= context.rules.min_cell_count].dropna(
        subset=["difference"])
    if usable.empty:
        return tr.t("survey.paired_none", minimum=tr.count(context.rules.min_cell_count))
    row = usable.loc[usable["difference"].abs().idxmax()]
    return tr.t("survey.paired", n=context.count(row["n_pairs"]),
                question=_question(context, codebook, row["item"]),
                change=tr.percentage_points(row["difference"]),
                interval=tr.interval(tr.number(100 * row["difference_ci_low"], signed=True),
                                     tr.number(100 * row["difference_ci_high"], signed=True)),
                level=context.level)
