"""Readable names for the codes the data carry: regions of birth, municipalities, education
levels, cohorts and covariate terms, in the report's language.

Register extracts carry codes ("1480", "Europe other", ``months_employed_12``,
``region_of_birth_Asia``); the report shows names. Names of places are proper nouns, the same
in both languages; everything else comes from the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.report.i18n import Translator

# Swedish municipality codes (SCB's kommunkod) of the programmes' cities.
MUNICIPALITIES = {"0180": "Stockholm", "0380": "Uppsala", "1280": "Malmö", "1480": "Göteborg"}
# Region-of-birth values of the register extracts -> catalogue key under subgroup.region_of_birth.
REGIONS = {
    "Sweden": "sweden", "Nordic countries": "nordic", "EU": "eu", "Europe other": "europe_non_eu",
    "Middle East and North Africa": "middle_east_north_africa",
    "Sub-Saharan Africa": "sub_saharan_africa", "Asia": "asia", "Latin America": "latin_america",
}
# Covariates whose dummy terms are named "<covariate>_<value>" in balance tables.
CATEGORICAL = ("region_of_birth", "education_level", "education_field", "municipality",
               "cohort")


def value_label(tr: Translator, covariate: str, value: object) -> str:
    """One value of a categorical characteristic as a name (the code itself if unknown)."""
    value = str(value)
    if covariate == "municipality":
        return MUNICIPALITIES.get(value, value)
    if covariate == "region_of_birth" and value in REGIONS:
        return tr.t(f"subgroup.region_of_birth.{REGIONS[value]}")
    if covariate == "education_level":
        key = f"figure.education_level.level_{value}"
        return tr.t(key) if key in tr.keys else value
    if covariate == "education_field":
        key = f"subgroup.education_field.broad_{value}"
        return tr.t(key) if key in tr.keys else value
    if covariate == "female":
        return tr.t("subgroup.sex.women" if value in ("1", "True", "1.0") else "subgroup.sex.men")
    return value


def subgroup_labels(tr: Translator, values: Mapping[str, Iterable[object]],
                    cohorts_in_order: Iterable[str] = ()) -> dict[str, dict[str, str]]:
    """Labels (in display order) for the forest plot's subgroup values."""
    labels = {}
    for covariate, found in values.items():
        found = sorted({str(v) for v in found})
        if covariate == "female":  # women first, as statistics list them
            found = sorted(found, key=lambda v: v not in ("1", "True", "1.0"))
        if covariate == "cohort":
            order = [str(c) for c in cohorts_in_order]
            found = [c for c in order if c in found] + [c for c in found if c not in order]
        labels[covariate] = {v: value_label(tr, covariate, v) for v in found}
    return labels


def covariate_labels(tr: Translator, variables: Iterable[str]) -> dict[str, str]:
    """Names for balance-table terms: ``age`` -> "Age", ``region_of_birth_Asia`` ->
    "Region of birth: Asia"."""
    labels = {}
    for variable in variables:
        key = f"figure.covariate.{variable}"
        if key in tr.keys:
            labels[variable] = tr.t(key)
            continue
        for covariate in CATEGORICAL:
            if variable.startswith(covariate + "_"):
                value = variable[len(covariate) + 1:]
                labels[variable] = tr.t("figure.covariate.category",
                                        covariate=tr.t(f"figure.covariate.{covariate}"),
                                        value=value_label(tr, covariate, value))
                break
    return labels
