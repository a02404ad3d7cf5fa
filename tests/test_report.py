"""The evaluation report on the demo study: numbers equal their sources, both languages render
completely, disclosure holds in every table, the page works offline in a real browser, and
awkward evidence (a missing horizon, no respondents, a single cohort) still gives a report."""

from __future__ import annotations

import dataclasses
import json
import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from pipeline.effects.table import headline
from pipeline.report.build import build_report
from pipeline.report.disclosure import DisclosureRules, find_disclosure_risks
from pipeline.report.evidence import load_evidence
from pipeline.report.i18n import find_catalogue_keys, translator
from pipeline.report.render import render_html, write_index

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def evidence(demo_pipeline):
    return load_evidence(demo_pipeline)


@pytest.fixture(scope="module")
def pages(evidence):
    """The demo report built and rendered in both languages."""
    out = {}
    for language in ("en", "sv"):
        report = build_report(evidence, language, title="Demo", date="2026-11-22")
        out[language] = (report, render_html(report))
    return out


def visible_text(page: str) -> str:
    soup = BeautifulSoup(page, "html.parser")
    for tag in soup(["style", "script"]):
        tag.decompose()
    return re.sub(r"[ \t\r\n]+", " ", soup.get_text(" "))  # keep no-break spaces


@pytest.mark.parametrize("language", ["en", "sv"])
def test_both_languages_render_without_untranslated_keys(pages, language):
    report, page = pages[language]
    assert f'<html lang="{language}">' in page
    assert find_catalogue_keys(page) == []
    soup = BeautifulSoup(page, "html.parser")
    assert len(soup.find_all("h1")) == 1
    ids = [section.id for section in report.sections]
    assert ids == ["summary", "participants", "survey", "effects", "comparison", "robustness",
                   "appendix"]
    toc = [a["href"] for a in soup.select("nav.toc a")]
    assert all(soup.find(id=href[1:]) is not None for href in toc)


@pytest.mark.parametrize("language", ["en", "sv"])
def test_headline_in_the_html_equals_the_effects_table(pages, evidence, language):
    _, page = pages[language]
    tr = translator(language)
    effects = headline(evidence.table("effects"), evidence.config.estimation.horizon_months)
    row = effects.loc[effects["outcome"] == "employed"].iloc[0]
    expected = tr.t(
        "summary.headline", duration=tr.plural("unit.months", int(row["horizon_months"])),
        treated=tr.percent(row["mean_treated"], 1), control=tr.percent(row["mean_control"], 1),
        effect=tr.percentage_points(row["estimate"], 1), level="95",
        low=tr.number(100 * row["ci_low"], 1, signed=True),
        high=tr.number(100 * row["ci_high"], 1, signed=True))
    assert expected in visible_text(page)
    # and the headline is not a stale copy: it moves with the table
    assert tr.percent(row["mean_treated"], 1) != tr.percent(row["mean_treated"] + 0.005, 1)


def test_swedish_numbers_use_a_decimal_comma_and_no_english_words(pages):
    _, page = pages["sv"]
    text = visible_text(page)
    assert re.search(r"\d,\d", text)
    for english in ("Participants", "Comparison group", "Employment effects", "Summary"):
        assert english not in text


def published_tables(page: str) -> list[pd.DataFrame]:
    """Every table of the page as text cells, caption as the name."""
    soup = BeautifulSoup(page, "html.parser")
    tables = []
    for element in soup.find_all("table"):
        header = [th.get_text(strip=True) for th in element.select("thead th")]
        rows = [[cell.get_text(strip=True) for cell in tr.find_all(["th", "td"])]
                for tr in element.select("tbody tr")]
        frame = pd.DataFrame(rows, columns=header)
        frame.attrs["caption"] = element.caption.get_text(strip=True) if element.caption else ""
        tables.append(frame)
    return tables


def as_counts(frame: pd.DataFrame, tr) -> pd.DataFrame | None:
    """A count table (first column labels, other columns counts or the marker) as numbers,
    or None if it is not a count table."""
    body = frame.set_index(frame.columns[0])
    values = body.replace({tr.suppressed(): None})
    try:
        numbers = values.apply(lambda c: c.map(
            lambda v: None if v is None else int(v.replace("\u00a0", "").replace(",", ""))))
    except (ValueError, AttributeError):
        return None
    return numbers.astype("Int64")


def disclosure_risks(page: str, tr, rules: DisclosureRules) -> tuple[int, list]:
    """The number of count tables in the page and every disclosure risk found in them
    (as ``(caption, risks)``), totals recognised by their labels."""
    total = tr.t("common.total")
    checked, found = 0, []
    for frame in published_tables(page):
        counts = as_counts(frame, tr)
        if counts is None:
            continue
        has_total_row = counts.index[-1] == total
        has_total_column = counts.columns[-1] in (total, tr.t("appendix.lineage.read"))
        if counts.columns[0] == tr.t("appendix.lineage.read"):  # lineage: total first
            counts = counts[[*counts.columns[1:], counts.columns[0]]]
            has_total_column = True
        risks = find_disclosure_risks(counts, rules, total_row=has_total_row,
                                      total_column=has_total_column)
        if risks:
            found.append((frame.attrs["caption"], risks))
        checked += 1
    return checked, found


@pytest.mark.parametrize("language", ["en", "sv"])
def test_no_count_below_the_minimum_is_shown_or_recoverable(pages, evidence, language):
    _, page = pages[language]
    rules = DisclosureRules(evidence.config.report.min_cell_count)
    checked, risks = disclosure_risks(page, translator(language), rules)
    assert risks == []
    assert checked >= 3


def test_the_report_opens_offline_in_chromium_without_problems(pages, tmp_path):
    from pipeline.report.browser import check_offline

    path = tmp_path / "report.html"
    path.write_text(pages["sv"][1], encoding="utf-8")
    result = check_offline(path, screenshot=tmp_path / "first-screen.png")
    assert result.problems() == []
    assert (tmp_path / "first-screen.png").stat().st_size > 10_000


@pytest.mark.parametrize("change, says", [
    ("drop_horizon", "effects.over_time.missing"),
    ("no_respondents", "survey.no_respondents"),
    ("single_cohort", "comparison.heading"),
])
def test_awkward_evidence_still_renders_and_says_what_is_missing(evidence, change, says):
    tables = dict(evidence.tables)
    if change == "drop_horizon":
        effects = tables["effects"]
        tables["effects"] = effects.loc[effects["horizon_months"] != 24]
    elif change == "no_respondents":
        for name in ("survey_responses", "survey_response_status"):
            if name in tables:
                tables[name] = tables[name].iloc[0:0]
    else:
        first = tables["matched"]["cohort"].min()
        for name in ("matched", "participants", "baseline"):
            tables[name] = tables[name].loc[tables[name]["cohort"] == first]
    changed = dataclasses.replace(evidence, tables=tables)
    for language in ("en", "sv"):
        page = render_html(build_report(changed, language, title="Demo"))
        assert find_catalogue_keys(page) == []
        tr = translator(language)
        fixed = {"horizons": tr.plural("unit.months", 24)}
        expected = tr.t(says, **{k: v for k, v in fixed.items() if "{" + k + "}" in
                                 tr._text(says)})
        assert expected in visible_text(page), (language, expected)


def test_index_lists_every_report(tmp_path, pages):
    for study, (report, page) in zip(("alpha", "beta"), pages.values(), strict=True):
        folder = tmp_path / study
        folder.mkdir()
        (folder / "report.html").write_text(page, encoding="utf-8")
        facts = {**report.facts, "study": study}
        (folder / "report.json").write_text(json.dumps(facts), encoding="utf-8")
    index = write_index(tmp_path).read_text(encoding="utf-8")
    links = [a["href"] for a in BeautifulSoup(index, "html.parser").select("tbody a")]
    assert sorted(links) == ["alpha/report.html", "beta/report.html"]


@pytest.mark.parametrize("language", ["en", "sv"])
def test_survey_headline_in_the_html_equals_the_survey_results(pages, evidence, language):
    from pipeline.surveys.codebook import load_codebook
    from pipeline.surveys.results import key_results

    _, page = pages[language]
    tr = translator(language)
    codebook = load_codebook(evidence.config.codebook_path)
    results = key_results(evidence.table("survey_responses"), codebook,
                          waves=[codebook.waves[-1]])
    row = results.loc[(results["kind"] == "likert") & (results["n"] > 0)].iloc[0]
    expected = tr.t("summary.survey", share=tr.percent(row["share"]),
                    question=tr.pick(codebook.items[row["item"]].text),
                    n=tr.count(int(row["n"])), level="95",
                    interval=tr.interval(tr.number(100 * row["ci_low"]),
                                         tr.number(100 * row["ci_high"])))
    assert expected in visible_text(page)
