"""Who took part: counts by cohort, sex and age, and the ESF+ common output indicators.

Counts come from :mod:`pipeline.report.participants` (one row per roster row) and every table
passes :mod:`pipeline.report.disclosure` with its totals, so no small count is shown or can be
worked out from them.
"""

from __future__ import annotations

import pandas as pd

from pipeline.report import participants as counts
from pipeline.report.context import Context
from pipeline.report.disclosure import ProtectedTable, protect_frequency_table
from pipeline.report.document import Section, bullet_list, note, paragraph, raw, table


def _shown(context: Context, protected: ProtectedTable, row_label: str,
           row_labels: dict[str, str], column_labels: dict[str, str], caption: str) -> str:
    tr = context.tr
    total = tr.t("common.total")
    frame = protected.formatted(tr.count, marker=tr.suppressed())
    frame = frame.rename(index={**row_labels, "Total": total},
                         columns={**column_labels, "Total": total})
    frame = frame.rename_axis(row_label).reset_index()
    return table(frame, caption, numeric=list(frame.columns[1:]),
                 footnotes=[context.legend_suppressed()])


def _sex_labels(context: Context) -> dict[str, str]:
    tr = context.tr
    return {key: tr.t(f"esf.sex.{key}") for key in ("women", "men", "non_binary", "not_known")}


def by_cohort_and_sex(context: Context, roster: pd.DataFrame) -> list:
    """Participants per cohort, women and men, with totals."""
    tr = context.tr
    table_ = counts.participant_counts(roster, ["cohort", "sex"])
    table_ = table_.loc[table_["sex"] != "non_binary"]  # not recorded: no column of zeros
    table_["sex"] = table_["sex"].cat.remove_unused_categories()
    protected = protect_frequency_table(table_, "n", ["cohort", "sex"], context.rules)
    return [raw(_shown(context, protected, tr.t("comparison.table.cohort"), {},
                       _sex_labels(context), tr.t("participants.by_cohort")))]


def by_city(context: Context, roster: pd.DataFrame) -> list:
    """Participants per city, with the total."""
    tr = context.tr
    table_ = counts.participant_counts(roster, ["city"])
    protected = protect_frequency_table(table_, "n", "city", context.rules)
    return [raw(_shown(context, protected, tr.t("participants.city"), {},
                       {"n": tr.t("participants.table.participants")},
                       tr.t("participants.by_city")))]


def esf_block(context: Context, indicators: pd.DataFrame, indicator: str) -> list:
    """One ESF+ indicator block as a protected one-way table (rows not recorded are said)."""
    tr = context.tr
    block = indicators.loc[indicators["indicator"] == indicator]
    recorded = block.loc[block["n"].notna()]
    blocks = []
    if not recorded.empty:
        frame = recorded.assign(n=recorded["n"].astype("int64"))[["category", "n"]]
        protected = protect_frequency_table(frame, "n", "category", context.rules)
        labels = {c: tr.t(f"esf.{indicator}.{c}") for c in frame["category"]}
        blocks.append(raw(_shown(context, protected, tr.t(f"esf.{indicator}.name"), labels,
                                 {"n": tr.t("participants.table.participants")},
                                 tr.t(f"esf.{indicator}.name"))))
    missing = block.loc[block["n"].isna(), "category"].tolist()
    if missing:
        blocks.append(note(tr.t("esf.not_recorded", items=tr.join(
            tr.t(f"esf.{indicator}.{c}") for c in missing))))
    return blocks


def labour_market(context: Context, roster: pd.DataFrame, baseline: pd.DataFrame) -> list:
    """Status at entry by long-term unemployment: both ESF+ rows as margins of one table."""
    tr = context.tr
    table_ = counts.labour_market_counts(roster, baseline)
    rows = {c: tr.t(f"esf.labour_market_status.{c}")
            for c in table_["labour_market_status"].astype(str).unique()}
    if context.time.annual:  # one status a year: long-term unemployment cannot be told
        status = table_.groupby("labour_market_status", observed=True, as_index=False)["n"].sum()
        protected = protect_frequency_table(status, "n", "labour_market_status", context.rules)
        return [raw(_shown(context, protected, tr.t("esf.labour_market_status.name"), rows,
                           {"n": tr.t("participants.table.participants")},
                           tr.t("esf.labour_market_status.name"))),
                note(tr.t("esf.approximation_annual"))]
    protected = protect_frequency_table(table_, "n", ["labour_market_status", "long_term"],
                                        context.rules)
    columns = {"long_term_unemployed": tr.t("esf.labour_market_status.long_term_unemployed"),
               "other": tr.t("esf.labour_market_status.other")}
    return [raw(_shown(context, protected, tr.t("esf.labour_market_status.name"), rows,
                       columns, tr.t("esf.labour_market_status.name"))),
            note(tr.t("esf.approximation"))]


def build(context: Context) -> Section:
    tr = context.tr
    roster = context.evidence.table("participants")
    blocks = [paragraph(tr.t("participants.intro"))]
    subsections = []
    if roster is None or roster.empty:
        return Section("participants", tr.t("participants.heading"), tuple(blocks))
    blocks += by_cohort_and_sex(context, roster)
    blocks += by_city(context, roster)
    baseline = context.evidence.table("baseline")
    if baseline is not None:
        native = context.config.data.register_files.codes.native_born_regions
        indicators = counts.esf_indicators(roster, baseline, native_born_regions=native)
        esf = [paragraph(tr.t("esf.intro")), *labour_market(context, roster, baseline)]
        for indicator in ("age", "education", "sex", "background"):
            esf += esf_block(context, indicators, indicator)
        other = indicators.loc[indicators["indicator"] == "other", "category"].tolist()
        esf.append(paragraph(tr.t("esf.other.name")))
        esf.append(bullet_list(tr.t(f"esf.other.{c}") for c in other))
        esf.append(note(tr.t("esf.not_recorded_note")))
        subsections.append(Section("esf", tr.t("esf.heading"), tuple(esf)))
    return Section("participants", tr.t("participants.heading"), tuple(blocks),
                   tuple(subsections))
