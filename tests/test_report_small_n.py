"""The report where the design is thin: a declined design says so and shows the participants'
own outcomes (never an effect), every effect carries its minimum detectable effect, an annual
register speaks in years, and the headline follows the configured headline outcome.

Built from the demo study's evidence, altered the way the estimate stage would write it.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from bs4 import BeautifulSoup

from pipeline.effects.descriptive import descriptive_outcomes
from pipeline.effects.table import headline
from pipeline.effects.verdict import decline, design_verdict
from pipeline.report import figures
from pipeline.report.build import build_report
from pipeline.report.context import Context
from pipeline.report.declined import reason_sentence
from pipeline.report.disclosure import DisclosureRules, share_withheld
from pipeline.report.evidence import load_evidence
from pipeline.report.i18n import find_catalogue_keys, translator
from pipeline.report.render import render_html
from pipeline.report.timescale import ANNUAL_VARIANTS, TimeScale
from tests.test_report import disclosure_risks, published_tables, visible_text

pytestmark = pytest.mark.slow
LANGUAGES = ("en", "sv")


@pytest.fixture(scope="module")
def evidence(demo_pipeline):
    return load_evidence(demo_pipeline)


_RENDERED: dict = {}  # (evidence, language) -> (report, page): evidence objects live all module


def render(evidence, language: str) -> tuple:
    """Build and render the report once per evidence object and language."""
    key = (id(evidence), language)
    if key not in _RENDERED:
        report = build_report(evidence, language, title="Demo", date="2026-11-22")
        page = render_html(report)
        assert find_catalogue_keys(page) == []
        _RENDERED[key] = (evidence, report, page)  # the evidence kept alive: ids stay unique
    return _RENDERED[key][1:]


def section_text(page: str, section_id: str) -> str:
    soup = BeautifulSoup(page, "html.parser")
    return visible_text(str(soup.find(id=section_id)))


def with_manifest(evidence, part: str, **stages: dict) -> dict:
    """The manifests with ``part`` ("rows" or "facts") of each stage updated (copies)."""
    manifests = {name: dict(m) for name, m in evidence.manifests.items()}
    for stage, values in stages.items():
        manifests[stage] = {**manifests.get(stage, {}),
                            part: {**manifests.get(stage, {}).get(part, {}), **values}}
    return manifests


# ---- (i) a declined design ---------------------------------------------------------------


@pytest.fixture(scope="module")
def declined(evidence):
    """The demo as a programme of 30 participants of whom only 12 had a comparable
    non-participant: the estimate stage declines and writes the descriptive outcomes."""
    config = evidence.config
    verdict = design_verdict(30, 12, config.estimation.min_participants,
                             config.estimation.min_share_matched)
    participants = evidence.table("baseline")[["pid", "cohort"]].sort_values("pid").head(30)
    descriptive = descriptive_outcomes(config.processed_dir / "outcomes.parquet", participants,
                                       config.horizon_rel_months,
                                       confidence_level=config.estimation.confidence_level)
    tables = {**evidence.tables, "design_verdict": verdict.to_frame(),
              "effects": decline(evidence.table("effects"), verdict),
              "descriptive": descriptive}
    manifests = with_manifest(evidence, "rows", panel={"participants_in_analysis": 30},
                              match={"treated_matched": 12, "treated_unmatched": 18})
    return dataclasses.replace(evidence, tables=tables, manifests=manifests)


def context_free_effect(tr, row) -> str:
    """An estimated effect as the report would write it."""
    if row["outcome"] == "earnings":
        return tr.money(row["estimate"], signed=True)
    return tr.percentage_points(row["estimate"], 1)


def share_line(tr, row, level="95") -> str:
    outcome = tr.t(f"outcome.{row['outcome']}.name")
    return tr.t("declined.line", outcome=outcome,
                duration=tr.plural("unit.months", int(row["horizon_months"])),
                value=tr.percent(row["mean"]), level=level,
                interval=tr.interval(tr.percent(row["ci_low"]), tr.percent(row["ci_high"])))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_declined_design_says_why_and_shows_outcomes_not_effects(declined, evidence,
                                                                   language):
    report, page = render(declined, language)
    tr = translator(language)
    text = visible_text(page)
    reason = tr.t("declined.no_overlap", matched="12", n="30", share=tr.percent(0.5))
    assert reason in section_text(page, "summary")
    assert reason in section_text(page, "effects")
    assert tr.t("declined.not_effects", level="95") in text
    # the headline outcome at every horizon, with its Wilson interval
    rows = declined.table("descriptive")
    employed = rows.loc[rows["outcome"] == "employed"]
    assert len(employed) == len(declined.config.horizon_rel_months)
    rules = DisclosureRules(declined.config.report.min_cell_count)
    shown = [row for _, row in employed.iterrows() if row["n_observed"] > 0
             and not share_withheld(row["mean"], row["n_observed"], rules)]
    assert shown
    for row in shown:
        assert share_line(tr, row) in section_text(page, "summary")
    # no effect anywhere: no headline, no effect tables or figures, nothing to test
    assert report.facts["headline"] is None
    assert report.facts["design"]["reason"] == "no_overlap"
    for _, row in headline(evidence.table("effects"), 12).iterrows():
        assert context_free_effect(tr, row) not in text
    effects = BeautifulSoup(page, "html.parser").find(id="effects")
    assert effects.find_all("img") == []
    headers = {c for f in published_tables(str(effects)) for c in f.columns}
    assert tr.t("effects.table.effect") not in headers
    assert tr.t("declined.table.value") in headers
    assert tr.t("declined.robustness") in section_text(page, "robustness")
    assert tr.t("robustness.placebo.name") not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_declined_report_passes_disclosure_control(declined, language):
    _, page = render(declined, language)
    rules = DisclosureRules(declined.config.report.min_cell_count)
    checked, risks = disclosure_risks(page, translator(language), rules)
    assert risks == []
    assert checked >= 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_share_that_would_reveal_a_small_count_is_withheld(declined, language):
    """6 of 7 employed tells that one person is not: neither the share nor its interval is
    shown, in the table or in the summary."""
    tr = translator(language)
    descriptive = declined.table("descriptive").copy()
    chosen = (descriptive["outcome"] == "employed") & (descriptive["horizon_months"] == 12)
    descriptive.loc[chosen, ["n_observed", "mean", "ci_low", "ci_high"]] = [7, 6 / 7, 0.49,
                                                                            0.97]
    changed = dataclasses.replace(declined, tables={**declined.tables,
                                                    "descriptive": descriptive})
    _, page = render(changed, language)
    assert tr.percent(6 / 7) not in visible_text(page)
    assert tr.t("declined.line_withheld", outcome=tr.t("outcome.employed.name"),
                duration=tr.plural("unit.months", 12), minimum="5") in visible_text(page)
    table = next(f for f in published_tables(page)
                 if f.attrs["caption"] == tr.t("declined.table.caption"))
    withheld = table.loc[(table.iloc[:, 0] == tr.t("outcome.employed.name"))
                         & (table.iloc[:, 1] == tr.plural("unit.months", 12))]
    assert (withheld.iloc[0, 2:4] == tr.suppressed()).all()


@pytest.mark.parametrize("reason, n, matched", [("too_few_participants", 8, 8),
                                                ("too_few_participants", 3, 3),
                                                ("too_few_participants", 30, 18)])
def test_every_reason_is_said_without_revealing_small_counts(declined, reason, n, matched):
    verdict = design_verdict(n, matched, 20, 0.5)
    assert verdict.reason == reason
    changed = dataclasses.replace(declined, tables={**declined.tables,
                                                    "design_verdict": verdict.to_frame()})
    for language in LANGUAGES:
        tr = translator(language)
        # the sentence itself (the declined tests above find it in the rendered summary)
        text = reason_sentence(Context(evidence=changed, tr=tr, rules=DisclosureRules(5)))
        if n == 3:
            expected = tr.t("declined.too_few_participants_vague", minimum="20")
        elif matched == n:
            expected = tr.t("declined.too_few_participants", n="8", minimum="20")
        else:
            expected = tr.t("declined.too_few_matched", matched="18", n="30", minimum="20")
        assert expected in text, (language, expected)


def test_old_outputs_without_a_verdict_count_as_estimable(evidence):
    assert evidence.design_verdict is None or evidence.design_verdict.estimable
    tables = {k: v for k, v in evidence.tables.items()
              if k not in ("design_verdict", "descriptive")}
    older = dataclasses.replace(evidence, tables=tables)
    report, _ = render(older, "en")
    assert report.facts["headline"]["outcome"] == "employed"
    assert report.facts["design"] is None


# ---- (ii) small n: the minimum detectable effect -----------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_effect_row_carries_its_minimum_detectable_effect(evidence, language):
    _, page = render(evidence, language)
    tr = translator(language)
    column = tr.t("effects.table.mde")
    captions = {tr.t("effects.table.caption", duration=tr.plural("unit.months", 12)),
                tr.t("effects.over_time.caption", about=tr.t("figure.about.employed"))}
    tables = [f for f in published_tables(page) if f.attrs["caption"] in captions]
    assert len(tables) == 2
    for frame in tables:
        effect = frame[tr.t("effects.table.effect")]
        estimated = effect.str.contains(r"\d", regex=True)
        assert estimated.any()
        assert frame.loc[estimated, column].str.startswith("±").all(), frame


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_detectable_effect_is_said_for_the_headline_with_its_own_n(evidence, language):
    """A programme of 30: the sentence uses the headline row's n_t and mde."""
    effects = evidence.table("effects").copy()
    row = ((effects["outcome"] == "employed") & (effects["subgroup"] == "all")
           & (effects["horizon_months"] == 12) & (effects["estimator"] == "matched_difference"))
    effects.loc[row, ["n_t", "n_c", "mde"]] = [30, 90, 0.153]
    changed = dataclasses.replace(evidence, tables={**evidence.tables, "effects": effects})
    _, page = render(changed, language)
    tr = translator(language)
    expected = tr.plural("effects.small_n", 30, mde=tr.percentage_points(0.153, 1, signed=False))
    assert expected in section_text(page, "effects")
    assert "±15" in expected.replace(",", ".")


# ---- (iii) annual registers --------------------------------------------------------------


def annual_config(config):
    register = config.data.register_files.model_copy(update={"shape": "finland"})
    data = config.data.model_copy(update={"register_files": register})
    estimation = config.estimation.model_copy(update={"horizon_years": 1,
                                                      "horizons_years": [1, 2],
                                                      "placebo_year": -1})
    return config.model_copy(update={"data": data, "estimation": estimation})


@pytest.fixture(scope="module")
def annual(evidence):
    """The demo as if its register were annual: outcomes read at December (months 11, 23)."""
    config = annual_config(evidence.config)
    assert config.time_unit == "year" and config.horizon_rel_months == [11, 23]
    months = {12: 11, 24: 23}
    effects = evidence.table("effects")
    effects = effects.loc[effects["horizon_months"].isin(months)].assign(
        horizon_months=lambda f: f["horizon_months"].map(months))
    tables = {**evidence.tables, "effects": effects,
              "placebo": evidence.table("placebo").assign(horizon_months=-13)}
    manifests = with_manifest(evidence, "facts",
                              panel={"register_last_month": 2025 * 12 + 11})
    return dataclasses.replace(evidence, config=config, tables=tables, manifests=manifests)


MONTH_WORDS = {"en": re.compile(r"\bmonth(s|ly)?\b", re.I), "sv": re.compile(r"månad", re.I)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_annual_register_speaks_in_years(annual, language):
    report, page = render(annual, language)
    tr = translator(language)
    effects = section_text(page, "effects")
    assert tr.t("effects.annual_note") in effects
    assert tr.t("horizon.year_first", duration=tr.plural("unit.years", 1)) in effects
    assert tr.t("horizon.year_later", duration=tr.plural("unit.years", 2), year="2") in effects
    assert tr.t("outcome.earnings.name_annual") in effects
    soup = BeautifulSoup(page, "html.parser").find(id="effects")
    alts = " ".join(img["alt"] for img in soup.find_all("img"))
    assert len(soup.find_all("img")) >= 2
    assert not MONTH_WORDS[language].search(effects), MONTH_WORDS[language].findall(effects)
    assert not MONTH_WORDS[language].search(alts)
    assert tr.t("report.data_vintage_annual", month="2025") in report.meta
    assert report.facts["data_vintage"] == "2025"
    assert report.facts["headline"]["horizon_months"] == 11
    headline_text = section_text(page, "summary")
    assert tr.plural("unit.years", 1) in headline_text
    assert tr.t("robustness.placebo.explanation", duration=tr.plural("unit.years", 1)) in (
        section_text(page, "robustness"))


def test_annual_charts_draw_years_and_say_years(annual):
    paths = annual.table("paths")
    on_grid = figures._on_grid(paths, "rel_month", TimeScale("year"))
    kept = paths.loc[(paths["rel_month"] + 1) % 12 == 0]
    assert sorted(on_grid["rel_month"].unique()) == sorted(
        ((kept["rel_month"] + 1) // 12).unique())
    assert set(on_grid["rel_month"]) >= {0, 1, 2}
    for language in LANGUAGES:
        tr = translator(language)
        rules = DisclosureRules(5)
        path = figures.employment_path(paths, tr, rules, horizon_months=11, time_unit="year")
        event = figures.event_study_plot(annual.table("event_study"), tr, rules,
                                         group_time=annual.table("group_time_dynamic"),
                                         horizon_months=11, time_unit="year")
        forest = figures.forest_plot(annual.table("effects"), tr, rules, horizon_months=11,
                                     outcome="earnings", time_unit="year")
        for figure in (path, event, forest):
            assert not MONTH_WORDS[language].search(figure.alt + figure.caption), figure.alt
        assert tr.t("figure.caption.event_study_annual", about=tr.t("figure.about.employed"),
                    level="95") in event.caption
        assert tr.plural("unit.years", 1) in path.alt


def test_every_month_text_has_an_annual_variant_with_the_same_placeholders():
    from pipeline.report.i18n import load_catalogue, placeholders

    for language in LANGUAGES:
        catalogue = load_catalogue(language)
        for key in ANNUAL_VARIANTS:
            assert placeholders(catalogue[key]) == placeholders(catalogue[f"{key}_annual"])
    en = load_catalogue("en")
    texts = " ".join(re.sub(r"\{\w+\}", "", en[f"{k}_annual"]) for k in ANNUAL_VARIANTS)
    assert not re.search(r"\bmonth", texts)


# ---- (iv) the headline outcome -----------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_headline_follows_the_configured_headline_outcome(evidence, language):
    config = evidence.config
    estimation = config.estimation.model_copy(update={"headline_outcome": "employed_matching"})
    changed = dataclasses.replace(
        evidence, config=config.model_copy(update={"estimation": estimation}))
    report, page = render(changed, language)
    tr = translator(language)
    rows = headline(evidence.table("effects"), config.headline_rel_month)
    row = rows.loc[rows["outcome"] == "employed_matching"].iloc[0]
    expected = tr.t(
        "summary.headline_matching", duration=tr.plural("unit.months", 12),
        treated=tr.percent(row["mean_treated"], 1), control=tr.percent(row["mean_control"], 1),
        effect=tr.percentage_points(row["estimate"], 1), level="95",
        low=tr.number(100 * row["ci_low"], 1, signed=True),
        high=tr.number(100 * row["ci_high"], 1, signed=True))
    assert expected in section_text(page, "summary")
    facts = report.facts["headline"]
    assert facts["outcome"] == "employed_matching"
    assert facts["estimate"] == pytest.approx(row["estimate"])
    assert (facts["ci_low"], facts["ci_high"]) == pytest.approx((row["ci_low"], row["ci_high"]))
    effects = section_text(page, "effects")
    assert tr.t("effects.over_time.caption",
                about=tr.t("figure.about.employed_matching")) in effects
    detectable = tr.plural("effects.small_n", int(row["n_t"]),
                           mde=tr.percentage_points(row["mde"], 1, signed=False))
    assert detectable in effects
