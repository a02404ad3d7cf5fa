"""Readable names for the codes the data carry: regions of birth, municipalities, education
levels, cohorts and covariate terms, in the report's language.

Register extracts carry codes ("1480", "Europe other", ``months_employed_12``,
``region_of_birth_Asia``); the report shows names. Names of places are proper nouns, the same
in both languages; everything else comes from the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.report.i18n import Translator

# Municipality codes of the programmes' cities as the register stage holds them (four digits):
# SCB's kommunkod, and the Danish KOM and Finnish kunta codes padded by their adapters. The
# codes of different countries overlap (0461 is Gnesta in Sweden, Odense in Denmark).
MUNICIPALITIES = {
    "se": {"0180": "Stockholm", "0380": "Uppsala", "1280": "Malmö", "1480": "Göteborg",
           "0580": "Linköping", "1880": "Örebro", "2480": "Umeå"},
    "dk": {"0101": "København", "0147": "Frederiksberg", "0751": "Aarhus", "0461": "Odense",
           "0851": "Aalborg", "0157": "Gentofte", "0159": "Gladsaxe"},
    "fi": {"0091": "Helsinki", "0049": "Espoo", "0837": "Tampere", "0853": "Turku",
           "0564": "Oulu", "0905": "Vaasa", "0598": "Pietarsaari", "0599": "Pedersöre"},
}
# Region-of-birth values of the register extracts -> catalogue key under subgroup.region_of_birth.
REGIONS = {
    "Sweden": "sweden", "Nordic countries": "nordic", "EU": "eu", "Europe other": "europe_non_eu",
    "Middle East and North Africa": "middle_east_north_africa",
    "Sub-Saharan Africa": "sub_saharan_africa", "Asia": "asia", "Latin America": "latin_america",
}
# Covariates whose dummy terms are named "<covariate>_<value>" in balance tables.
CATEGORICAL = ("region_of_birth", "education_level", "education_field", "municipality",
               "cohort")


def value_label(tr: Translator, covariate: str, value: object, country: str = "se") -> str:
    """One value of a categorical characteristic as a name (the code itself if unknown);
    ``country`` is the register's (``data.identity_country``)."""
    value = str(value)
    if covariate == "municipality":
        return MUNICIPALITIES.get(country, {}).get(value, value)
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
                    cohorts_in_order: Iterable[str] = (),
                    country: str = "se") -> dict[str, dict[str, str]]:
    """Labels (in display order) for the forest plot's subgroup values."""
    labels = {}
    for covariate, found in values.items():
        found = sorted({str(v) for v in found})
        if covariate == "female":  # women first, as statistics list them
            found = sorted(found, key=lambda v: v not in ("1", "True", "1.0"))
        if covariate == "cohort":
            order = [str(c) for c in cohorts_in_order]
            found = [c for c in order if c in found] + [c for c in found if c not in order]
        labels[covariate] = {v: value_label(tr, covariate, v, country) for v in found}
    return labels


def covariate_labels(tr: Translator, variables: Iterable[str], country: str = "se",
                     annual: bool = False) -> dict[str, str]:
    """Names for balance-table terms: ``age`` -> "Age", ``region_of_birth_Asia`` ->
    "Region of birth: Asia". With an ``annual`` register the history covariates count
    year-ends, not months, and are named so (``<key>_annual``)."""
    labels = {}
    for variable in variables:
        key = f"figure.covariate.{variable}"
        if annual and f"{key}_annual" in tr.keys:
            key = f"{key}_annual"
        if key in tr.keys:
            labels[variable] = tr.t(key)
            continue
        for covariate in CATEGORICAL:
            if variable.startswith(covariate + "_"):
                value = variable[len(covariate) + 1:]
                labels[variable] = tr.t("figure.covariate.category",
                                        covariate=tr.t(f"figure.covariate.{covariate}"),
                                        value=value_label(tr, covariate, value, country))
                break
    return labels
