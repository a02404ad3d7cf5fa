"""The report's figures: valid, deterministic PNGs with translated, data-driven texts, and
nothing drawn that rests on fewer people than the minimum cell size."""

from __future__ import annotations

import functools
import io

import matplotlib as mpl
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from pipeline.report import figures as F
from pipeline.report.disclosure import DisclosureRules
from pipeline.report.i18n import find_catalogue_keys, translator

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NBSP, MINUS = "\u00a0", "\u2212"
RULES = DisclosureRules(min_cell_count=5)


@pytest.fixture(scope="module", params=["sv", "en"])
def tr(request):
    return translator(request.param)


# ---- small hand-made inputs, shaped like the stages' outputs -------------------------------


def paths_frame() -> pd.DataFrame:
    months = np.arange(-6, 14)
    rows = []
    for group, n, level in (("participants", 50, 0.30), ("comparison", 150, 0.28)):
        for m in months:
            share = level + 0.02 * max(m, 0)
            rows.append(dict(rel_month=m, group=group, n=n, employed=share, earnings=1000.0 * m,
                             registered_unemployed=0.5, employed_matching=0.2))
    frame = pd.DataFrame(rows)
    at = (frame["rel_month"] == 12).to_numpy()
    frame.loc[at & (frame["group"] == "participants").to_numpy(), "employed"] = 0.54
    frame.loc[at & (frame["group"] == "comparison").to_numpy(), "employed"] = 0.46
    # month 3: only 3 participants; month 4: 48 of 50 participants employed (2 are not)
    frame.loc[(frame["rel_month"] == 3) & (frame["group"] == "participants"), "n"] = 3
    frame.loc[(frame["rel_month"] == 4) & (frame["group"] == "participants"), "employed"] = 0.96
    return frame


def event_frame() -> pd.DataFrame:
    times = np.arange(-6, 14)
    estimate = np.where(times < 0, 0.005 * np.sin(times), 0.006 * times)
    estimate[times == -1] = 0.0
    frame = pd.DataFrame({"relative_time": times, "estimate": estimate, "std_error": 0.01,
                          "ci_low": estimate - 0.02, "ci_high": estimate + 0.02,
                          "p_value": 0.5, "outcome": "employed"})
    frame.loc[frame["relative_time"] == 12, ["estimate", "ci_low", "ci_high"]] = [
        0.08, 0.02, 0.14]
    frame.loc[frame["relative_time"] == -1, ["std_error", "ci_low", "ci_high", "p_value"]] = (
        np.nan)
    return frame


def group_time_frame() -> pd.DataFrame:
    event = event_frame()
    return pd.DataFrame({"event_time": event["relative_time"], "estimate": event["estimate"] - 0.01,
                         "std_error": 0.012, "ci_low": event["ci_low"] - 0.01,
                         "ci_high": event["ci_high"] - 0.01, "outcome": "employed"})


def effects_frame() -> pd.DataFrame:
    base = dict(outcome="employed", horizon_months=12, estimator="matched_difference",
                std_error=0.03, p_value=0.01, confidence_level=0.95)
    rows = [
        dict(subgroup="all", subgroup_value="all", status="estimated", estimate=0.08,
             ci_low=0.02, ci_high=0.14, n_t=120, n_c=360),
        dict(subgroup="female", subgroup_value="0", status="estimated", estimate=0.05,
             ci_low=-0.03, ci_high=0.13, n_t=55, n_c=160),
        dict(subgroup="female", subgroup_value="1", status="partial", estimate=0.11,
             ci_low=0.03, ci_high=0.19, n_t=65, n_c=200),
        dict(subgroup="region_of_birth", subgroup_value="Asia", status="estimated",
             estimate=0.02, ci_low=-0.10, ci_high=0.14, n_t=40, n_c=110),
        dict(subgroup="region_of_birth", subgroup_value="Latin America", status="too_few",
             estimate=np.nan, ci_low=np.nan, ci_high=np.nan, n_t=6, n_c=15),
        dict(subgroup="region_of_birth", subgroup_value="Oceania", status="estimated",
             estimate=0.40, ci_low=0.1, ci_high=0.7, n_t=3, n_c=9),
        dict(subgroup="education_field", subgroup_value="3", status="estimated",
             estimate=-0.04, ci_low=-0.15, ci_high=0.07, n_t=30, n_c=90),
    ]
    frame = pd.DataFrame([{**base, **row} for row in rows])
    other = frame.assign(horizon_months=24, status="not_observable", estimate=np.nan)
    return pd.concat([frame, other], ignore_index=True)


def balance_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "variable": ["distance", "age", "female", "months_employed_12", "constant"],
        "type": ["distance", "continuous", "binary", "continuous", "binary"],
        "smd_before": [0.63, -0.45, 0.12, 0.30, np.nan],
        "smd_after": [0.01, -0.03, 0.02, -0.12, np.nan],
    })


def histogram_frame() -> pd.DataFrame:
    edges = np.linspace(-8.0, -1.0, 8)
    counts = {"treated": [0, 2, 10, 30, 40, 15, 3],
              "control": [500, 900, 700, 300, 80, 12, 0],
              "matched_control": [0, 3, 20, 70, 90, 40, 4]}
    frames = []
    for group, n in counts.items():
        n = np.array(n)
        weight = n / 3 if group == "matched_control" else n.astype(float)
        frames.append(pd.DataFrame({"group": group, "bin": range(7), "logit_low": edges[:-1],
                                    "logit_high": edges[1:], "n": n, "weight": weight}))
    return pd.concat(frames, ignore_index=True)


LIKERT_LABELS = {"sv": ["Instämmer inte alls", "Instämmer i liten grad", "Instämmer delvis",
                        "Instämmer i stor grad", "Instämmer helt"],
                 "en": ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]}


def likert_frame(language: str) -> pd.DataFrame:
    counts = {("network", "intake"): [10, 20, 10, 8, 2],   # 50 answers: 20% agree
              ("network", "end"): [5, 10, 10, 15, 10],     # 50 answers: 50% agree
              ("mentor", "end"): [0, 1, 1, 1, 0]}          # 3 answers: not drawn
    texts = {"network": {"sv": "Jag har ett yrkesnätverk i Sverige",
                         "en": "I have a professional network in Sweden"},
             "mentor": {"sv": "Min mentor har varit till nytta", "en": "My mentor was useful"}}
    rows = []
    for (item, wave), n in counts.items():
        total = sum(n)
        for category, count in enumerate(n, start=1):
            rows.append(dict(item=item, item_text=texts[item][language], wave=wave,
                             category=category, label=LIKERT_LABELS[language][category - 1],
                             n=count, share=count / total))
    return pd.DataFrame(rows)


def shares_frame() -> pd.DataFrame:
    return pd.DataFrame({"label": ["Har ett arbete", "Skulle rekommendera programmet",
                                   "Liten grupp"],
                         "share": [0.54, 0.80, 0.5], "ci_low": [0.44, 0.70, 0.15],
                         "ci_high": [0.64, 0.87, 0.85], "n": [100, 100, 4]})


FIGURES = {
    "employment_path": lambda tr: F.employment_path(paths_frame(), tr, RULES,
                                                    programme_months=6),
    "event_study_plot": lambda tr: F.event_study_plot(event_frame(), tr, RULES,
                                                      group_time_frame()),
    "forest_plot": lambda tr: F.forest_plot(effects_frame(), tr, RULES),
    "love_plot": lambda tr: F.love_plot(balance_frame(), tr),
    "overlap_plot": lambda tr: F.overlap_plot(histogram_frame(), tr, RULES),
    "likert_bars": lambda tr: F.likert_bars(likert_frame(tr.language), tr, RULES),
    "share_bars": lambda tr: F.share_bars(shares_frame(), tr, RULES),
}

# the key number each figure's alt text must quote, formatted by the Translator
KEY_NUMBERS = {
    "employment_path": lambda tr: [tr.percent(0.54), tr.percent(0.46)],
    "event_study_plot": lambda tr: [tr.percentage_points(0.08)],
    "forest_plot": lambda tr: [tr.percentage_points(0.08), tr.t("subgroup.sex.women")],
    "love_plot": lambda tr: [tr.number(0.63, 2), tr.number(0.12, 2)],
    "overlap_plot": lambda tr: [tr.percent(0.95), tr.percent(0.12)],
    "likert_bars": lambda tr: [tr.percent(0.2), tr.percent(0.5)],
    "share_bars": lambda tr: [tr.percent(0.54), tr.percent(0.8)],
}
# the first word of the alt text (the kind of chart) in each language
CHART_WORDS = {"sv": ("Linjediagram", "Diagram", "Punktdiagram", "Histogram", "Stapeldiagram"),
               "en": ("Line chart", "Chart", "Dot chart", "Histograms", "Bar chart")}


@functools.cache
def render(name: str, language: str) -> F.Figure:
    """Each demo figure rendered once per language (figures are immutable)."""
    return FIGURES[name](translator(language))


@pytest.fixture(scope="module")
def rendered(tr):
    return {name: render(name, tr.language) for name in FIGURES}


# ---- every figure --------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIGURES)
def test_figure_is_a_readable_png(rendered, name):
    figure = rendered[name]
    assert figure.mime == "image/png"
    assert figure.image.startswith(PNG_SIGNATURE)
    pixels = mpimg.imread(io.BytesIO(figure.image), format="png")
    assert pixels.shape[1] == round(F.WIDTH_IN * F.DPI)  # 960 px wide
    assert pixels.shape[0] > 300
    assert len(figure.image) < 150_000


@pytest.mark.parametrize("name", FIGURES)
def test_alt_text_and_caption_are_translated_and_quote_the_data(rendered, tr, name):
    figure = rendered[name]
    assert figure.alt.startswith(CHART_WORDS[tr.language])
    assert figure.caption.strip()
    for number in KEY_NUMBERS[name](tr):
        assert number in figure.alt, (number, figure.alt)
    if tr.language == "sv":
        assert "%" not in figure.alt.replace(NBSP + "%", "")  # Swedish: "54 %", never "54%"
    page = figure.to_html()
    assert find_catalogue_keys(page) == []
    assert "{" not in figure.alt + figure.caption


@pytest.mark.parametrize("name", FIGURES)
def test_rendering_again_gives_identical_bytes(name):
    assert FIGURES[name](translator("sv")).image == render(name, "sv").image


def test_languages_differ_only_in_texts():
    sv, en = (render("employment_path", lang) for lang in ("sv", "en"))
    assert sv.image != en.image
    assert "av deltagarna" in sv.alt and "of the participants" in en.alt
    assert f"54{NBSP}%" in sv.alt and "54%" in en.alt


def test_rendering_leaves_matplotlib_state_alone():
    import matplotlib.pyplot as plt

    before = {k: mpl.rcParams[k] for k in ("font.size", "axes.grid", "lines.linewidth",
                                           "font.sans-serif", "axes.spines.top")}
    open_figures = plt.get_fignums()
    with mpl.rc_context({"font.size": 31, "axes.grid": False}):
        a = F.love_plot(balance_frame(), translator("en"))
    b = F.love_plot(balance_frame(), translator("en"))
    assert a.image == b.image  # a caller's style does not leak into the figure
    assert {k: mpl.rcParams[k] for k in before} == before
    assert plt.get_fignums() == open_figures  # nothing registered with pyplot


# ---- the Figure object ---------------------------------------------------------------------


def test_to_html_embeds_the_image_and_escapes_texts():
    figure = F.Figure(image=PNG_SIGNATURE + b"rest", mime="image/png",
                      alt='Share < 5 & "quoted"', caption="a <b>caption</b> & more")
    page = figure.to_html()
    assert page.startswith('<figure><img src="data:image/png;base64,iVBORw0KGg')
    assert 'alt="Share &lt; 5 &amp; &quot;quoted&quot;"' in page
    assert "<figcaption>a &lt;b&gt;caption&lt;/b&gt; &amp; more</figcaption></figure>" in page
    assert "<b>" not in page and "< 5" not in page
    assert figure._repr_html_() == page


def test_figure_needs_alt_text_and_a_known_type():
    with pytest.raises(ValueError, match="alt"):
        F.Figure(image=b"", mime="image/png", alt=" ", caption="")
    with pytest.raises(ValueError, match="unsupported"):
        F.Figure(image=b"", mime="image/gif", alt="x", caption="")


# ---- what gets drawn: the pure functions ---------------------------------------------------


def test_path_withholds_small_months_and_shares_that_reveal_a_small_count():
    data = F._drawable_path(paths_frame(), RULES)
    participants = data[data["group"] == "participants"].set_index("rel_month")
    assert participants.loc[3, "withheld"] and not participants.loc[3, "drawn"]  # n = 3
    assert participants.loc[4, "withheld"]  # 48 of 50: the 2 not employed would show
    assert np.isnan(participants.loc[3, "value"]) and np.isnan(participants.loc[4, "value"])
    assert participants.drop(index=[3, 4])["drawn"].all()
    assert data.loc[data["group"] == "comparison", "drawn"].all()


def test_path_caption_says_months_were_withheld(rendered, tr):
    withheld = tr.t("figure.withheld.months", minimum=tr.count(5))
    assert withheld in rendered["employment_path"].caption
    if tr.language == "sv":
        clean = paths_frame().query("rel_month not in (3, 4)")
        assert withheld not in F.employment_path(clean, tr, RULES).caption


def test_path_leaves_a_gap_for_missing_months():
    frame = paths_frame().query("not (rel_month == 7 and group == 'comparison')")
    data = F._drawable_path(frame, RULES)
    row = data[(data["group"] == "comparison") & (data["rel_month"] == 7)].iloc[0]
    assert row["n"] == 0 and not row["drawn"] and not row["withheld"]


def test_path_rejects_non_share_outcomes():
    with pytest.raises(ValueError, match="shares"):
        F.employment_path(paths_frame(), translator("en"), RULES, outcome="earnings")


def test_event_study_draws_every_point_without_counts_and_withholds_small_ones():
    data = F._drawable_event(event_frame(), RULES, time="relative_time", outcome="employed")
    assert data["drawn"].all() and not data["withheld"].any()
    counted = event_frame().assign(n=lambda f: np.where(f["relative_time"] == 5, 2, 80))
    data = F._drawable_event(counted, RULES, time="relative_time", outcome="employed")
    assert data.loc[data["withheld"], "time"].tolist() == [5]
    figure = F.event_study_plot(counted, translator("en"), RULES)
    assert "Points based on fewer than 5 people are not shown." in figure.caption
    with pytest.raises(ValueError, match="no event-study rows"):
        F._drawable_event(event_frame(), RULES, time="relative_time", outcome="earnings")


def test_forest_rows_list_groups_not_estimated_instead_of_drawing_them():
    tr = translator("sv")
    rows = F._forest_rows(effects_frame(), tr, RULES, outcome="employed", horizon_months=12,
                          estimator="matched_difference")
    assert rows["kind"].tolist() == ["overall", "header", "value", "value", "header", "value",
                                     "value", "value", "header", "value"]
    labels = rows.set_index("label")
    assert rows["label"].tolist()[1:4] == ["Kön", "Kvinnor", "Män"]  # women first
    assert labels.loc["Samtliga deltagare", "drawn"]
    assert labels.loc["Kvinnor", "status"] == "partial" and labels.loc["Kvinnor", "drawn"]
    assert labels.loc["Latinamerika", "note"] == "Ingen skattning: för få deltagare"
    assert not labels.loc["Latinamerika", "withheld"]
    # an estimate from 3 participants is not drawn, and says why without giving the count
    assert labels.loc["Oceania", "withheld"] and not labels.loc["Oceania", "drawn"]
    assert labels.loc["Oceania", "note"] == "Visas inte: färre än 5 personer"
    assert tr.t("subgroup.education_field.broad_3") in labels.index
    figure = render("forest_plot", "sv")
    assert "Grupper med färre än 5 deltagare eller jämförelsepersoner visas inte." in (
        figure.caption)
    assert "2 grupper visas inte." in figure.alt
    assert "0,4" not in figure.alt and "+40" not in figure.alt  # the withheld estimate


def test_forest_plot_checks_its_selection():
    en = translator("en")
    with pytest.raises(ValueError, match="no rows for outcome='earnings'"):
        F.forest_plot(effects_frame(), en, RULES, outcome="earnings")
    with pytest.raises(ValueError, match="not in effects"):
        F.forest_plot(effects_frame(), en, RULES, subgroups=["municipality"])
    only_sex = F._forest_rows(effects_frame(), en, RULES, outcome="employed",
                              horizon_months=12, estimator="matched_difference",
                              subgroups=["female"])
    assert only_sex["label"].tolist() == ["All participants", "Sex", "Women", "Men"]
    nothing = F.forest_plot(effects_frame(), en, RULES, horizon_months=24)
    assert "6 groups are not shown." in nothing.alt
    assert "All participants:" not in nothing.alt


@pytest.mark.parametrize(("subgroup", "value", "expected"), [
    ("female", "1", "Kvinnor"), ("female", "0", "Män"), ("female", "True", "Kvinnor"),
    ("education_field", "7", "Hälso- och sjukvård samt social omsorg"),
    ("region_of_birth", "Sub-Saharan Africa", "Afrika söder om Sahara"),
    ("region_of_birth", "Nordic countries", "Nordic countries"),  # no key: as it is
    ("municipality", "0180", "0180"), ("cohort", "2023-HT", "2023-HT"),
])
def test_subgroup_values_are_named_from_the_catalogue(subgroup, value, expected):
    assert F._value_label(subgroup, value, translator("sv")) == expected


def test_caller_can_name_subgroup_values():
    labels = {"municipality": {"0180": "Stockholm"}}
    assert F._value_label("municipality", "0180", translator("sv"), labels) == "Stockholm"


def test_love_rows_are_absolute_sorted_and_labelled():
    rows = F._love_rows(balance_frame(), translator("en"), {"age": "Age"})
    assert rows["variable"].tolist() == ["distance", "age", "months_employed_12", "female"]
    assert rows["label"].tolist()[:2] == ["Propensity score", "Age"]
    assert (rows[["before", "after"]] >= 0).all().all()
    figure = render("love_plot", "en")
    assert "Above 0.1: 4 before matching and 1 after." in figure.alt
    assert "4 background characteristics" in figure.alt


def test_overlap_withholds_small_bins_and_uses_shares_of_each_group():
    data = F._drawable_overlap(histogram_frame(), RULES)
    treated = data[data["group"] == "treated"]
    assert treated["share"].sum() == pytest.approx(1.0)
    assert treated.loc[treated["withheld"], "n"].tolist() == [2, 3]
    assert not data.loc[data["withheld"], "drawn"].any()
    assert not data.loc[data["n"] == 0, "drawn"].any()
    matched = data[data["group"] == "matched_control"]
    assert matched.loc[matched["withheld"], "n"].tolist() == [3, 4]
    figure = render("overlap_plot", "sv")
    assert "Intervall med färre än 5 personer visas inte." in figure.caption
    # 95 of the 100 participants are in bins with at least 5 non-participants
    assert f"95{NBSP}% av deltagarna" in figure.alt


def test_overlap_accepts_bins_on_the_probability_scale():
    frame = histogram_frame().drop(columns=["logit_low", "logit_high"])
    frame["bin_low"] = frame["bin"] / 10
    frame["bin_high"] = (frame["bin"] + 1) / 10
    figure = F.overlap_plot(frame, translator("en"), RULES)
    assert "from 20% to 60% among participants" in figure.alt
    with pytest.raises(ValueError, match="logit_low"):
        F.overlap_plot(frame.drop(columns=["bin_low"]), translator("en"), RULES)


def test_likert_bars_are_centred_on_the_neutral_answer_and_small_ones_withheld():
    data = F._likert_segments(likert_frame("en"), RULES)
    network = data[(data["item"] == "network") & (data["wave"] == "intake")]
    neutral = network[network["category"] == 3].iloc[0]
    assert neutral["left"] == pytest.approx(-neutral["share"] / 2)
    assert network["agree"].iloc[0] == pytest.approx(0.2)
    assert network["disagree"].iloc[0] == pytest.approx(0.6)
    assert network["left"].iloc[0] == pytest.approx(-0.7)
    mentor = data[data["item"] == "mentor"]
    assert mentor["withheld"].all() and not mentor["drawn"].any()
    assert data[["item", "wave"]].drop_duplicates().values.tolist() == [
        ["network", "intake"], ["network", "end"], ["mentor", "end"]]
    figure = render("likert_bars", "sv")
    assert "Frågor som färre än 5 personer har besvarat visas inte." in figure.caption
    assert "vid start instämmer 20\u00a0% och 60\u00a0% instämmer inte" in figure.alt
    assert "svarade för få" in figure.alt


def test_share_bars_withhold_small_rows_and_rows_revealing_a_small_count():
    frame = pd.concat([shares_frame(), pd.DataFrame(
        {"label": ["Nästan alla"], "share": [0.95], "ci_low": [0.83], "ci_high": [0.99],
         "n": [40]})], ignore_index=True)
    data = F._drawable_shares(frame, RULES)
    assert data["withheld"].tolist() == [False, False, True, True]  # n = 4; 2 of 40 not
    figure = F.share_bars(frame, translator("en"), RULES,
                          description="Participants at the end of the programme.")
    assert figure.caption.startswith("Participants at the end of the programme.")
    assert "95%" not in figure.alt.replace("95% interval", "")
    assert "Liten grupp" not in figure.alt


# ---- formats -------------------------------------------------------------------------------


def test_ticks_use_the_report_languages_number_formats():
    sv = translator("sv")
    assert F._percent_ticks(sv).format_ticks([0, 0.25, 0.5]) == [
        f"0{NBSP}%", f"25{NBSP}%", f"50{NBSP}%"]
    assert F._percent_ticks(sv, absolute=True).format_ticks([-0.1, 0]) == [
        f"10{NBSP}%", f"0{NBSP}%"]
    assert F._percent_ticks(sv).format_ticks([0.005, 0.01]) == [f"0,5{NBSP}%", f"1,0{NBSP}%"]
    assert F._number_ticks(sv, signed=True, scale=100).format_ticks([-0.05, 0, 0.05]) == [
        f"{MINUS}5", "0", "+5"]
    assert F._number_ticks(translator("en")).format_ticks([-12, 0, 1.5]) == [
        f"{MINUS}12.0", "0.0", "1.5"]


def test_probability_ticks_are_round():
    ticks = F._probability_ticks(F._logit(0.00005), F._logit(0.3))
    assert [round(F._expit(t), 6) for t in ticks] == [0.0001, 0.001, 0.01, 0.1]
    assert F._probability_text(translator("sv"), 0.001) == f"0,1{NBSP}%"
    assert F._probability_rounded(translator("en"), 0.18913) == "19%"
    assert F._probability_rounded(translator("en"), 0.00069) == "0.069%"
