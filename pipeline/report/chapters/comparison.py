"""How good the comparison is: matched counts per cohort, balance, overlap."""

from __future__ import annotations

from pipeline.matching.result import SMD_THRESHOLD
from pipeline.report import figures, labels
from pipeline.report.context import Context
from pipeline.report.disclosure import protect_counts
from pipeline.report.document import Section, note, paragraph, raw, table


def cohorts_by_start(context: Context, cohorts) -> list:
    """Cohorts in the order they started (by name where the start is unknown)."""
    baseline = context.evidence.table("baseline")
    starts = ({} if baseline is None
              else baseline.groupby("cohort")["cohort_start"].min().to_dict())
    return sorted(cohorts, key=lambda c: (starts.get(c, float("inf")), str(c)))


def matched_counts(context: Context) -> list:
    """Participants and comparison persons per cohort, with totals, protected."""
    tr = context.tr
    matched = context.evidence.table("matched")
    if matched is None:
        return []
    # comparison persons only: matched participants per cohort beside the roster's
    # participants per cohort would reveal how many of a cohort have no register data
    counts = (matched.loc[~matched["treated"].astype(bool)].groupby("cohort").size()
              .rename("comparison").to_frame())
    counts = counts.reindex(cohorts_by_start(context, counts.index))
    protected = protect_counts(counts, context.rules, total_row=True, total_column=False,
                               total_label=tr.t("common.total"))
    shown = protected.formatted(tr.count, marker=tr.suppressed())
    shown = shown.rename(columns={"comparison": tr.t("comparison.table.comparison")})
    shown = shown.rename_axis(tr.t("comparison.table.cohort")).reset_index()
    return [raw(table(shown, tr.t("comparison.matched_per_cohort"),
                      numeric=list(shown.columns[1:]),
                      footnotes=[context.legend_suppressed()]))]


def balance_sentences(context: Context) -> list:
    """Largest SMD before and after, and which covariates stay apart."""
    tr = context.tr
    balance = context.evidence.table("balance")
    if balance is None:
        return []
    covariates = balance.set_index("variable").drop(index="distance", errors="ignore")
    blocks = [paragraph(tr.t(
        "comparison.smd",
        before=tr.number(covariates["smd_before"].abs().max(), 2),
        after=tr.number(covariates["smd_after"].abs().max(), 2),
    ))]
    apart = covariates.index[covariates["smd_after"].abs() > SMD_THRESHOLD].tolist()
    names = labels.covariate_labels(tr, apart, context.config.data.identity_country,
                                    context.time.annual)
    apart = [names.get(term, term) for term in apart]
    threshold = tr.number(SMD_THRESHOLD, 1)
    if apart:
        blocks.append(paragraph(tr.t("comparison.unbalanced", threshold=threshold,
                                     covariates=tr.join(apart))))
    else:
        blocks.append(paragraph(tr.t("comparison.balanced", threshold=threshold)))
    return blocks


def unmatched_sentence(context: Context) -> str | None:
    """How many participants had no comparable non-participant (None if all had one).

    The count is not given when it is small, nor when the matched participants are few: the
    summary gives the participants in the analysis, and the difference would tell."""
    tr, rules = context.tr, context.rules
    match = context.evidence.rows("match")
    unmatched = int(match.get("treated_unmatched") or 0)
    if not unmatched:
        return None
    minimum = tr.count(rules.min_cell_count)
    if rules.is_small(unmatched):
        return tr.t("comparison.unmatched_few", minimum=minimum)
    if rules.is_small(int(match.get("treated_matched") or 0)):
        return tr.t("comparison.unmatched_most", minimum=minimum)
    return tr.plural("comparison.unmatched", unmatched)


def build(context: Context) -> Section:
    tr, evidence = context.tr, context.evidence
    blocks = [paragraph(tr.t("comparison.intro")), *matched_counts(context)]
    unmatched = unmatched_sentence(context)
    if unmatched:
        blocks.append(paragraph(unmatched))
    blocks += balance_sentences(context)
    balance = evidence.table("balance")
    if balance is not None:
        blocks += [paragraph(tr.t("comparison.balance_figure")),
                   raw(figures.love_plot(balance, tr, threshold=SMD_THRESHOLD,
                                         labels=labels.covariate_labels(
                                             tr, balance["variable"].astype(str),
                                             context.config.data.identity_country,
                                             context.time.annual))
                       .to_html())]
    histogram = evidence.table("score_histogram")
    if histogram is not None:
        blocks += [paragraph(tr.t("comparison.overlap")),
                   raw(figures.overlap_plot(histogram, tr, context.rules).to_html())]
    blocks.append(note(tr.t("comparison.unobserved")))
    return Section("comparison", tr.t("comparison.heading"), tuple(blocks))
