"""Building the evaluation report from the evidence, in one language.

:func:`build_report` assembles the chapters (:mod:`pipeline.report.chapters`) into a
:class:`~pipeline.report.document.Report`; :mod:`pipeline.report.render` writes it as HTML.
Every number is formatted by the :class:`~pipeline.report.i18n.Translator` and every count
passes the disclosure rules, here and nowhere else.
"""

from __future__ import annotations

from pipeline.report.chapters import (
    appendix,
    comparison,
    effects,
    participants,
    robustness,
    summary,
    survey,
)
from pipeline.report.context import Context
from pipeline.report.disclosure import DisclosureRules
from pipeline.report.document import Report
from pipeline.report.evidence import Evidence
from pipeline.report.i18n import translator
from pipeline.report.render import today

CHAPTERS = (summary, participants, survey, effects, comparison, robustness, appendix)


def build_report(evidence: Evidence, language: str, *, title: str,
                 min_cell_count: int = 5, date: str | None = None) -> Report:
    """The whole report for a study.

    Parameters
    ----------
    evidence : Evidence
        The stage outputs (:func:`pipeline.report.evidence.load_evidence`).
    language : {"en", "sv"}
        The report's language.
    title : str
        The programme's name as it should appear in the title.
    min_cell_count : int
        Smallest count shown; smaller ones (and any that would reveal them) are suppressed.
    date : str, optional
        Report date (ISO); today by default.

    Returns
    -------
    Report
        Sections in reading order, with facts for the index page.
    """
    tr = translator(language)
    context = Context(evidence=evidence, tr=tr, rules=DisclosureRules(min_cell_count))
    date = date or today()
    meta = [tr.t("report.study", study=evidence.config.study),
            tr.t("report.produced", date=tr.date(date))]
    last = effects.register_last_period(context)
    if last is not None:
        meta.append(context.t("report.data_vintage", month=effects.register_end(context)))
    meta.append(tr.t("report.follow_up",
                     before=context.length(evidence.config.design.pre_months),
                     after=context.length(evidence.config.design.post_months)))
    facts = {
        "study": evidence.config.study,
        "title": tr.t("report.title", programme=title),
        "language": language,
        "date": date,
        "data_vintage": None if last is None else (
            str(last.year) if context.time.annual else str(last)),
        "file": "report.html",
        "headline": headline_facts(context),
        "design": None if context.verdict is None else context.verdict.describe(),
        "missing": dict(sorted(evidence.missing.items())),
    }
    return Report(
        language=language,
        title=tr.t("report.title", programme=title),
        subtitle=tr.t("report.subtitle"),
        meta=tuple(meta),
        sections=tuple(chapter.build(context) for chapter in CHAPTERS),
        toc_heading=tr.t("toc.heading"),
        back_to_toc=tr.t("toc.back"),
        facts=facts,
    )


def headline_facts(context: Context) -> dict | None:
    """The headline effect for ``report.json`` (None when there is none, e.g. declined)."""
    row = summary.headline_row(context)
    if row is None:
        return None
    return {
        "outcome": str(row["outcome"]), "horizon_months": int(row["horizon_months"]),
        "estimate": float(row["estimate"]), "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]), "mean_treated": float(row["mean_treated"]),
        "mean_control": float(row["mean_control"]),
    }
