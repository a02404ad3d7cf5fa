"""The report's language layer: catalogues, missing keys, number formats, plurals, key finding."""

from __future__ import annotations

import datetime as dt
import decimal
import doctest
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.report import i18n
from pipeline.report.i18n import (
    SUPPORTED_LANGUAGES,
    CatalogueError,
    MissingKeyError,
    catalogue_path,
    find_catalogue_keys,
    load_catalogue,
    placeholders,
    translator,
)

NBSP = "\u00a0"
MINUS = "\u2212"


@pytest.fixture(scope="module")
def en():
    return translator("en")


@pytest.fixture(scope="module")
def sv():
    return translator("sv")


def write_catalogues(folder: Path, en_text: str, sv_text: str) -> Path:
    (folder / "en.yml").write_text(en_text, encoding="utf-8")
    (folder / "sv.yml").write_text(sv_text, encoding="utf-8")
    return folder


# ---- catalogues ----------------------------------------------------------------------------


def test_docstring_examples_hold():
    result = doctest.testmod(i18n, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 20
    assert result.failed == 0


def test_catalogues_have_the_same_keys():
    keys = {language: set(load_catalogue(language)) for language in SUPPORTED_LANGUAGES}
    assert keys["en"] == keys["sv"], (
        f"only in en: {sorted(keys['en'] - keys['sv'])}; "
        f"only in sv: {sorted(keys['sv'] - keys['en'])}"
    )


def test_catalogues_have_the_same_placeholders_per_key():
    en, sv = load_catalogue("en"), load_catalogue("sv")
    different = {
        key: (sorted(placeholders(en[key])), sorted(placeholders(sv[key])))
        for key in en.keys() & sv.keys()
        if placeholders(en[key]) != placeholders(sv[key])
    }
    assert different == {}


def test_catalogues_cover_the_report_vocabulary():
    keys = set(load_catalogue("en"))
    needed = {
        "summary.heading", "summary.headline", "toc.heading", "participants.heading",
        "survey.heading", "nonresponse.heading", "effects.heading", "comparison.heading",
        "robustness.heading", "appendix.definitions.heading", "appendix.lineage.heading",
        "appendix.parameters.heading", "appendix.packages.heading",
        "appendix.code_version.heading", "appendix.input_hashes.heading",
        "certainty.positive", "certainty.negative", "certainty.inconclusive",
        "status.not_observable", "status.too_few", "status.suppressed",
        "robustness.placebo.explanation", "robustness.specifications.explanation",
        "robustness.rosenbaum.explanation", "robustness.evalue.explanation",
        "effects.small_n_one", "effects.small_n_other",
        "index.study", "index.date", "index.data_vintage",
        "figure.months_since_start", "figure.share_employed", "figure.participants",
        "figure.comparison_group", "figure.propensity_score", "figure.smd",
        "figure.before_matching", "figure.after_matching",
        "subgroup.sex.women", "subgroup.sex.men", "subgroup.sex.non_binary",
        "subgroup.region_of_birth.name", "subgroup.education_field.name",
        "subgroup.municipality.name", "subgroup.cohort.name",
        "esf.labour_market_status.unemployed", "esf.labour_market_status.long_term_unemployed",
        "esf.labour_market_status.inactive", "esf.labour_market_status.employed",
        "esf.age.under_18", "esf.age.from_18_to_29", "esf.age.from_55",
        "esf.education.isced_0_2", "esf.education.isced_3_4", "esf.education.isced_5_8",
    }
    # the pipeline's own names: outcomes, estimators and effect-table statuses
    needed |= {f"outcome.{name}.name" for name in
               ("employed", "earnings", "registered_unemployed", "employed_matching")}
    needed |= {f"estimator.{name}.name" for name in
               ("matched_difference", "regression", "abadie_imbens", "ipw", "aipw")}
    needed |= {"status.estimated", "status.partial"}
    assert sorted(needed - keys) == []


def test_estimator_and_status_keys_follow_the_pipelines_names(en):
    from pipeline.effects.att import ESTIMATORS
    from pipeline.effects.table import STATUSES

    for name in ESTIMATORS:
        assert en.t(f"estimator.{name}.name")
    for status in STATUSES:
        assert f"status.{status}" in en.keys


def test_keys_are_well_formed_and_no_key_looks_like_a_file_name():
    for key in load_catalogue("en"):
        segments = key.split(".")
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", s) for s in segments), key
        assert segments[-1] not in i18n.FILE_EXTENSIONS, key


def test_plural_keys_come_in_complete_pairs():
    for language in SUPPORTED_LANGUAGES:
        keys = set(load_catalogue(language))
        ones = {k[: -len("_one")] for k in keys if k.endswith("_one")}
        others = {k[: -len("_other")] for k in keys if k.endswith("_other")}
        assert ones == others and ones, language


def test_swedish_texts_are_translated_not_copied():
    en, sv = load_catalogue("en"), load_catalogue("sv")
    copied = [key for key, text in en.items() if len(text.split()) >= 3 and sv[key] == text]
    assert copied == []


def test_swedish_texts_follow_swedish_number_typography():
    for key, text in load_catalogue("sv").items():
        assert not re.search(r"\d\.\d", text), f"{key}: decimal point in {text!r}"
        assert not re.search(r"[\d}] ?%", text), f"{key}: % without a non-breaking space"
        assert not re.search(r"\d,\d{3}\b", text), f"{key}: comma thousands separator"
    for key, text in load_catalogue("en").items():
        assert not re.search(r"[\d}]\s%", text), f"{key}: space before % in English"


def test_catalogue_files_are_where_the_package_looks():
    for language in SUPPORTED_LANGUAGES:
        path = catalogue_path(language)
        assert path.is_file()
        assert path.parent == Path(i18n.__file__).parent / "locales"


# ---- broken catalogues are refused ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('a:\n  b: "x"\n  b: "y"\n', "duplicate key 'b'"),
        ("a:\n  b: yes\n", "texts must be quoted"),
        ('a:\n  "no": "x"\n  off: "y"\n', "beware YAML"),
        ('a:\n  B: "x"\n', "key segment 'B'"),
        ('a:\n  b: "{value:.1f}"\n', "not a bare name"),
        ('a:\n  b: "{0}"\n', "not a bare name"),
        ('a:\n  b_one: "{n} thing"\n', "plural key 'a.b'"),
        ('a:\n  b: "x"\n  b_one: "{n} thing"\n  b_other: "{n} things"\n', "both a message"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_a_broken_catalogue_is_an_error_naming_the_problem(tmp_path, text, message):
    folder = write_catalogues(tmp_path, text, text)
    with pytest.raises(CatalogueError, match=re.escape(message)) as caught:
        translator("en", folder)
    assert "en.yml" in str(caught.value)


# ---- languages and keys --------------------------------------------------------------------


@pytest.mark.parametrize("language", ["de", "SV", "sv_SE", "", "fi"])
def test_an_unsupported_language_is_refused_listing_the_supported_ones(language):
    with pytest.raises(ValueError, match=r"supported: en, sv"):
        translator(language)


def test_a_missing_key_names_the_key_and_the_catalogue(sv):
    with pytest.raises(KeyError) as caught:
        sv.t("summary.no_such_sentence")
    assert isinstance(caught.value, MissingKeyError)
    message = str(caught.value)
    assert "summary.no_such_sentence" in message
    assert str(catalogue_path("sv")) in message


def test_a_key_only_english_has_does_not_fall_back_to_english(tmp_path):
    folder = write_catalogues(tmp_path, 'a:\n  b: "English"\n  c: "Only English"\n',
                              'a:\n  b: "Svenska"\n')
    assert translator("en", folder).t("a.c") == "Only English"
    sv = translator("sv", folder)
    assert sv.t("a.b") == "Svenska"
    with pytest.raises(MissingKeyError, match=r"'a\.c'.*sv\.yml"):
        sv.t("a.c")


def test_plural_and_group_keys_are_not_messages(en):
    with pytest.raises(MissingKeyError, match="use plural"):
        en.t("unit.participants")
    with pytest.raises(MissingKeyError, match="group of keys"):
        en.t("effects.table")


def test_placeholders_are_filled_by_name(en, sv):
    assert en.t("status.suppressed", minimum="5") == "Suppressed: fewer than 5 people."
    assert sv.t("status.not_observable", month=sv.month("2025-12")) == (
        "Kan ännu inte observeras: registerdata finns bara till och med december 2025."
    )


def test_placeholder_values_must_be_complete_known_and_text(en):
    with pytest.raises(KeyError, match=r"needs values for \['high'\]"):
        en.t("format.interval", low="1")
    with pytest.raises(TypeError, match=r"no placeholders \['extra'\]"):
        en.t("format.interval", low="1", high="2", extra="3")
    with pytest.raises(TypeError, match="format it with the Translator"):
        en.t("format.interval", low=1, high="2")


def test_every_message_renders_in_both_languages():
    for language in SUPPORTED_LANGUAGES:
        tr = translator(language)
        for key, text in tr.messages.items():
            values = {name: "X" for name in placeholders(text)}
            out = tr.t(key, **values)
            assert out and "{" not in out and "}" not in out, (language, key)


def test_codebook_texts_are_picked_in_the_report_language(sv, en):
    texts = {"sv": "Jag är motiverad att söka jobb", "en": "I am motivated to look for jobs"}
    assert sv.pick(texts) == texts["sv"]
    assert en.pick(texts) == texts["en"]
    with pytest.raises(KeyError, match="item conf_job has no sv text"):
        sv.pick({"en": "only English"}, "item conf_job")


# ---- numbers -------------------------------------------------------------------------------


def test_decimal_comma_and_non_breaking_thousands_separator_in_swedish(sv, en):
    assert sv.number(1234567.891, 2) == f"1{NBSP}234{NBSP}567,89"
    assert en.number(1234567.891, 2) == "1,234,567.89"
    assert sv.number(0.5, 1) == "0,5"
    assert sv.count(12300) == f"12{NBSP}300"
    assert en.count(12300) == "12,300"
    assert " " not in sv.count(1_000_000)  # never an ordinary, breakable space


def test_counts_must_be_whole(sv):
    assert sv.count(np.int64(4500)) == f"4{NBSP}500"
    assert sv.count(12.0) == "12"
    with pytest.raises(ValueError, match="whole"):
        sv.count(2.5)


def test_rounding_is_half_away_from_zero_and_zero_has_no_sign(en, sv):
    assert en.number(0.545, 2) == "0.55"
    assert en.number(2.5) == "3"
    assert en.number(-2.5) == f"{MINUS}3"
    assert en.number(-0.004, 2) == "0.00"
    assert en.number(-0.004, 2, signed=True) == "0.00"
    assert sv.percentage_points(-0.001) == "0 procentenheter"


def test_negative_numbers_use_the_true_minus_sign_in_both_languages(en, sv):
    outputs = [
        sv.number(-1.5, 1), en.number(-1.5, 1), sv.percent(-0.2), en.percent(-0.2),
        sv.percentage_points(-0.08), en.percentage_points(-0.08),
        sv.percentage_points(-0.08, short=True), en.interval(-4, -1), sv.money(-100),
        en.money(-100),
    ]
    for out in outputs:
        assert MINUS in out, out
        assert "-" not in out, out
    assert sv.number(-1.5, 1) == f"{MINUS}1,5"


def test_percent(sv, en):
    assert sv.percent(0.54) == f"54{NBSP}%"
    assert en.percent(0.54) == "54%"
    assert sv.percent(0.5432, 1) == f"54,3{NBSP}%"
    assert en.percent(0.5432, 1) == "54.3%"
    assert sv.percent(1) == f"100{NBSP}%"
    assert en.percent(0.05, signed=True) == "+5%"


def test_percentage_points_are_signed_and_pluralised(sv, en):
    assert sv.percentage_points(0.08) == "+8 procentenheter"
    assert en.percentage_points(0.08) == "+8 percentage points"
    assert sv.percentage_points(-0.08) == f"{MINUS}8 procentenheter"
    assert sv.percentage_points(0.01) == "+1 procentenhet"
    assert en.percentage_points(-0.01) == f"{MINUS}1 percentage point"
    assert en.percentage_points(0.01, 1) == "+1.0 percentage points"
    assert sv.percentage_points(0.0125, 1) == "+1,3 procentenheter"
    assert sv.percentage_points(0.08, signed=False) == "8 procentenheter"


def test_percentage_points_short_forms_for_tables(sv, en):
    assert sv.percentage_points(0.08, short=True) == f"+8{NBSP}p.e."
    assert en.percentage_points(-0.035, 1, short=True) == f"{MINUS}3.5{NBSP}pp"


def test_interval(sv, en):
    assert en.interval(4, 12) == "4 to 12"
    assert sv.interval(4, 12) == "4 till 12"
    assert sv.interval(-3.5, 12.25, 1) == f"{MINUS}3,5 till 12,3"
    assert en.interval(-2, 5, signed=True) == f"{MINUS}2 to +5"
    assert sv.interval(sv.percent(0.4), sv.percent(0.6)) == f"40{NBSP}% till 60{NBSP}%"


def test_money(sv, en):
    assert sv.money(12300) == f"12{NBSP}300{NBSP}kr"
    assert en.money(12300) == f"SEK{NBSP}12,300"
    assert sv.money(1200, signed=True) == f"+1{NBSP}200{NBSP}kr"
    assert sv.money(99.5, "DKK", decimals=2) == f"99,50{NBSP}DKK"
    assert en.money(-250, "EUR") == f"EUR{NBSP}{MINUS}250"
    with pytest.raises(MissingKeyError, match="format.currency.usd"):
        sv.money(1, "USD")


SWEDISH_MONTHS = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                  "september", "oktober", "november", "december"]
ENGLISH_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December"]


@pytest.mark.parametrize("month", range(1, 13))
def test_month_names_in_both_languages(sv, en, month):
    period = pd.Period(f"2024-{month:02d}", "M")
    assert sv.month(period) == f"{SWEDISH_MONTHS[month - 1]} 2024"
    assert en.month(period) == f"{ENGLISH_MONTHS[month - 1]} 2024"


def test_month_accepts_the_usual_date_types(sv):
    for value in ("2024-03", "2024-03-31", dt.date(2024, 3, 1), dt.datetime(2024, 3, 9, 12),
                  pd.Timestamp("2024-03-15"), pd.Period("2024-03", "M")):
        assert sv.month(value) == "mars 2024", value
    with pytest.raises(TypeError):
        sv.month(202403)


def test_dates(sv, en):
    assert sv.date(dt.date(2026, 11, 21)) == "21 november 2026"
    assert en.date(dt.date(2026, 11, 21)) == "21 November 2026"


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, pd.NA, decimal.Decimal("NaN")])
def test_missing_values_become_the_missing_symbol(sv, en, value):
    for tr in (sv, en):
        assert tr.missing() == "–"
        assert tr.suppressed() not in ("–", "") and "<" not in tr.suppressed()
        for out in (tr.number(value, 1), tr.count(value), tr.percent(value),
                    tr.percentage_points(value), tr.percentage_points(value, short=True),
                    tr.money(value), tr.month(value), tr.date(value)):
            assert out == "–"
    assert sv.interval(np.nan, 3) == "– till 3"


def test_infinite_and_non_numeric_values_are_errors(sv):
    with pytest.raises(ValueError, match="non-finite"):
        sv.number(float("inf"))
    with pytest.raises(TypeError):
        sv.number("12")
    with pytest.raises(TypeError):
        sv.number(True)


# ---- plurals -------------------------------------------------------------------------------


def test_plural_variants(sv, en):
    assert en.plural("unit.participants", 1) == "1 participant"
    assert en.plural("unit.participants", 2) == "2 participants"
    assert en.plural("unit.participants", 0) == "0 participants"
    assert sv.plural("unit.participants", 1) == "1 deltagare"
    assert sv.plural("unit.participants", 2) == "2 deltagare"
    assert sv.plural("unit.months", 1) == "1 månad"
    assert sv.plural("unit.months", 12) == "12 månader"
    assert sv.plural("unit.people", 1500) == f"1{NBSP}500 personer"


def test_plural_sentence_agrees_with_its_count(en, sv):
    one = en.plural("effects.cohorts_left_out", 1, duration=en.plural("unit.months", 36))
    many = en.plural("effects.cohorts_left_out", 2, duration=en.plural("unit.months", 36))
    assert one.startswith("1 cohort started") and "and is not part" in one
    assert many.startswith("2 cohorts started") and "and are not part" in many
    assert sv.plural("effects.cohorts_left_out", 2, duration="36 månader").startswith(
        "2 kohorter startade"
    )


def test_plural_needs_a_whole_count(en):
    with pytest.raises(ValueError, match="whole count"):
        en.plural("unit.participants", 1.5)
    with pytest.raises(MissingKeyError, match="unit.nothing_one"):
        en.plural("unit.nothing", 1)


# ---- finding untranslated keys in a page ---------------------------------------------------


def test_find_catalogue_keys_finds_key_shaped_text():
    page = (
        "<html><head><style>.summary.headline { color: red }</style>"
        "<script>effects.table.horizon = 1</script></head><body>"
        "<h2>summary.heading</h2><p>Read from effects.parquet and report.html, e.g. 0.1.</p>"
        "<p>See the table: effects.table.not_in_any_catalogue.</p>"
        '<img alt="figure.alt.balance" src="data:image/png;base64,AAAA">'
        "<p>pipeline.report.i18n and Summary.Heading are not keys</p>"
        "</body></html>"
    )
    assert find_catalogue_keys(page) == [
        "effects.table.not_in_any_catalogue", "figure.alt.balance", "summary.heading",
    ]
    assert "effects.table.horizon" in find_catalogue_keys(page, visible_only=False)


def test_a_page_of_every_translated_message_has_no_keys():
    for language in SUPPORTED_LANGUAGES:
        tr = translator(language)
        page = "\n".join(
            f"<p>{tr.t(key, **{name: tr.count(3) for name in placeholders(text)})}</p>"
            for key, text in tr.messages.items()
        )
        assert find_catalogue_keys(page) == [], language


def test_a_page_with_a_printed_key_is_caught(sv):
    page = f"<h1>{sv.t('report.kind')}</h1><p>outcome.employed_matching.name</p>"
    assert find_catalogue_keys(page) == ["outcome.employed_matching.name"]
