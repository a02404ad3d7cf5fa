"""Survey codebooks: how every source version of a questionnaire maps onto canonical items.

A codebook (``config/codebooks/<family>.yml``, one per survey family) holds

``scales``
    answer scales with their canonical codes, a label per code in every language, the
    direction of Likert scales and the code of "don't know";
``items``
    canonical items: question text per language, scale (or a numeric range for counts),
    reverse coding and whether the item is required;
``sources``
    one entry per source version (tool x language x questionnaire revision): which files it
    covers (glob on the file name), wave, language, identity-number country, how answers are
    stored (``labels``: answer texts or value labels; ``codes``: canonical codes), and which
    export column holds each item and each role (consent, identity number, submission time,
    language, response id, contact details, free text);
``staff_tests``, ``free_text``, ``identity_repair``
    the cleaning rules that differ between programmes.

Answer labels are compared after Unicode NFKC normalisation, case folding and collapsing white
space, so "Instämmer helt", "instämmer  helt" and a decomposed "a" + ring all match. A label
must mean the same code in every language of a scale; the codebook refuses to load otherwise.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import Field, model_validator

from pipeline.config import ConfigError, _Strict, load_yaml_model

LANGUAGE_CODE = r"^[a-z]{2}$"
ROLES = (
    "identity",
    "consent",
    "submitted",
    "response_id",
    "language",
    "first_name",
    "last_name",
    "email",
    "phone",
)
"""Columns with a role other than an item or free text; contact details are used for staff-test
detection and identity repair only, then dropped."""


class CodebookError(ConfigError):
    """A codebook that cannot be used, or an export it does not cover (names file and fix)."""


Code = int


class Scale(_Strict):
    """An answer scale: canonical codes with labels per language."""

    kind: Literal["likert", "categorical"] = "likert"
    # ascending: a higher code means more of the quality (agreement, satisfaction)
    direction: Literal["ascending", "descending"] | None = None
    labels: dict[Code, dict[Annotated[str, Field(pattern=LANGUAGE_CODE)], str]]
    dont_know: Code | None = None  # code of "don't know": a valid answer that is not a value

    @property
    def codes(self) -> list[Code]:
        """Substantive codes (without "don't know"), ascending."""
        return sorted(c for c in self.labels if c != self.dont_know)

    @model_validator(mode="after")
    def _consistent(self) -> Scale:
        if self.dont_know is not None and self.dont_know not in self.labels:
            raise ValueError(f"dont_know code {self.dont_know} has no labels")
        if self.kind == "likert" and self.direction is None:
            raise ValueError("a likert scale needs a direction (ascending or descending)")
        seen: dict[str, Code] = {}
        for code, by_language in self.labels.items():
            for text in by_language.values():
                key = normalise_label(text)
                if seen.setdefault(key, code) != code:
                    raise ValueError(
                        f"label '{text}' means code {seen[key]} and code {code}; a label must "
                        "mean one code in every language"
                    )
        return self

    def code_of(self) -> dict[str, Code]:
        """Normalised label (any language) to canonical code."""
        return {
            normalise_label(text): code
            for code, by_language in self.labels.items()
            for text in by_language.values()
        }


class Item(_Strict):
    """A canonical questionnaire item."""

    text: dict[Annotated[str, Field(pattern=LANGUAGE_CODE)], str]
    scale: str | None = None
    range: tuple[float, float] | None = None  # for numeric items without a scale (counts)
    reverse: bool = False  # reverse-coded: the scored value runs against the scale
    required: bool = False  # a kept response must answer it (or say "don't know")

    @model_validator(mode="after")
    def _scale_or_range(self) -> Item:
        if (self.scale is None) == (self.range is None):
            raise ValueError("an item needs exactly one of 'scale' or 'range'")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range {list(self.range)} runs backwards")
        return self


class SourceColumns(_Strict):
    """Export columns holding each role; None when the export has no such column."""

    identity: str
    consent: str
    submitted: str | None = None
    response_id: str | None = None
    language: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    free_text: list[str] = []
    ignore: list[str] = []  # known columns deliberately not used (tool metadata)


class Source(_Strict):
    """One source version: a tool's export of one questionnaire revision in one language."""

    files: list[str] = Field(min_length=1)  # glob patterns on the file name
    tool: str
    revision: str
    wave: str
    language: Annotated[str, Field(pattern=LANGUAGE_CODE)] | None = None  # None: per row
    language_values: dict[str, Annotated[str, Field(pattern=LANGUAGE_CODE)]] = {}
    values: Literal["labels", "codes"] = "labels"
    encoding: str | None = None  # text exports only; None detects it
    # the identity numbers respondents type; None: the study's (data.identity_country)
    identity_country: Literal["se", "dk", "fi"] | None = None
    columns: SourceColumns
    items: dict[str, str]  # canonical item: export column

    def column_roles(self) -> dict[str, str]:
        """Export column to its role (a role name, ``item:<code>``, ``free_text`` or ``ignore``)."""
        roles = {
            column: role for role in ROLES if (column := getattr(self.columns, role)) is not None
        }
        roles.update({column: f"item:{item}" for item, column in self.items.items()})
        roles.update({column: "free_text" for column in self.columns.free_text})
        roles.update({column: "ignore" for column in self.columns.ignore})
        return roles


class StaffTests(_Strict):
    """How staff test responses are recognised (any one rule suffices)."""

    test_numbers: list[str] = []
    name_pattern: str | None = None  # regular expression, case-insensitive, on either name
    email_pattern: str | None = None  # regular expression, case-insensitive
    email_domains: list[str] = []  # the programme's own domains: any address there is staff
    column_values: dict[str, list[str]] = {}  # e.g. Qualtrics {"Status": ["Survey Preview"]}


class IdentityRepair(_Strict):
    """Whether a number failing its check may be repaired from the roster, and on what."""

    allowed: bool = False
    keys: list[Literal["email", "name"]] = Field(default=["email", "name"], min_length=1)


class Codebook(_Strict):
    """A survey family's codebook; see the module docstring."""

    family: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    title: str
    languages: list[Annotated[str, Field(pattern=LANGUAGE_CODE)]] = Field(min_length=1)
    waves: list[str] = Field(min_length=1)
    consent: Annotated[str, Field(description="scale of the consent question")] = "yes_no"
    consent_yes: Code = 1
    scales: dict[str, Scale]
    items: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Item]
    sources: dict[str, Source] = Field(min_length=1)
    staff_tests: StaffTests = StaffTests()
    free_text: Literal["drop", "scrub"] = "drop"
    identity_repair: IdentityRepair = IdentityRepair()

    @model_validator(mode="after")
    def _references(self) -> Codebook:
        problems = []
        if self.consent not in self.scales:
            problems.append(f"consent scale '{self.consent}' is not among scales")
        elif self.consent_yes not in self.scales[self.consent].labels:
            problems.append(f"consent_yes {self.consent_yes} is not a code of '{self.consent}'")
        for name, item in self.items.items():
            if item.scale is not None and item.scale not in self.scales:
                problems.append(f"item '{name}' uses unknown scale '{item.scale}'")
            missing = [lang for lang in self.languages if lang not in item.text]
            if missing:
                problems.append(f"item '{name}' has no text in {missing}")
        for name, scale in self.scales.items():
            for code, by_language in scale.labels.items():
                missing = [lang for lang in self.languages if lang not in by_language]
                if missing:
                    problems.append(f"scale '{name}' code {code} has no label in {missing}")
        for name, source in self.sources.items():
            if source.wave not in self.waves:
                problems.append(f"source '{name}': wave '{source.wave}' is not in waves")
            unknown = sorted(set(source.items) - set(self.items))
            if unknown:
                problems.append(f"source '{name}': unknown items {unknown}")
            if source.language is None and source.columns.language is None:
                problems.append(
                    f"source '{name}': give a fixed 'language' or a 'columns.language' column"
                )
            if source.language is not None and source.language not in self.languages:
                problems.append(f"source '{name}': language '{source.language}' not in languages")
            columns = [source.columns.identity, source.columns.consent, *source.items.values()]
            repeated = sorted({c for c in columns if columns.count(c) > 1})
            if repeated:
                problems.append(f"source '{name}': columns used twice: {repeated}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def source_for(self, file_name: str) -> tuple[str, Source]:
        """Return the one source version whose file patterns match ``file_name``.

        Raises
        ------
        CodebookError
            If no source or more than one matches; the message says what to add.
        """
        matches = [
            (name, source)
            for name, source in self.sources.items()
            if any(fnmatch.fnmatch(file_name.lower(), p.lower()) for p in source.files)
        ]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise CodebookError(
                f"{file_name}: no source in codebook '{self.family}' covers this file; add a "
                f"source under 'sources:' with files: ['{file_name}'] (run "
                f"`python -m pipeline codebook check {file_name}` for a draft)"
            )
        raise CodebookError(
            f"{file_name}: matches several sources of codebook '{self.family}' "
            f"({', '.join(n for n, _ in matches)}); make their 'files' patterns exclusive"
        )

    def consent_item(self) -> Item:
        """The consent question as an item on the consent scale."""
        return Item(text={lang: "consent" for lang in self.languages}, scale=self.consent)

    def label_codes(self, scale: str) -> dict[str, Code]:
        """Normalised answer label (any language) to the canonical code of ``scale``."""
        return self.scales[scale].code_of()


def normalise_label(text: object) -> str:
    """Compare form of an answer label: NFKC, case-folded, single spaces, no outer spaces."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(text))).strip().casefold()


def for_study_country(codebook: Codebook, country: str) -> Codebook:
    """The codebook with ``country`` as the identity country of every source that names none.

    A survey family's codebook describes its exports; which identity numbers respondents type
    depends on where the programme runs, so it comes from the study (``data.identity_country``)
    unless a source says otherwise.
    """
    sources = {
        name: source if source.identity_country else source.model_copy(
            update={"identity_country": country})
        for name, source in codebook.sources.items()
    }
    return codebook.model_copy(update={"sources": sources})


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook.

    Parameters
    ----------
    path : str or Path
        The codebook YAML, e.g. ``config/codebooks/mentor_survey.yml``.

    Returns
    -------
    Codebook

    Raises
    ------
    CodebookError
        If the file is missing, not YAML, or breaks the schema; names the file and each key.
    """
    return load_yaml_model(path, Codebook, "codebook", CodebookError)


def item_table(codebook: Codebook) -> pd.DataFrame:
    """Item metadata: one row per canonical item with its scale and its text per language.

    Returns
    -------
    DataFrame
        ``item, scale, kind, direction, reverse, required, low, high, dont_know, waves`` and
        ``text_<language>`` for every codebook language.
    """
    records = []
    for code, item in codebook.items.items():
        scale = codebook.scales.get(item.scale) if item.scale else None
        low, high = (min(scale.codes), max(scale.codes)) if scale else item.range
        waves = [
            w
            for w in codebook.waves
            if any(s.wave == w and code in s.items for s in codebook.sources.values())
        ]
        records.append(
            {
                "item": code,
                "scale": item.scale,
                "kind": scale.kind if scale else "number",
                "direction": scale.direction if scale else None,
                "reverse": item.reverse,
                "required": item.required,
                "low": float(low),
                "high": float(high),
                "dont_know": scale.dont_know if scale else None,
                "waves": ",".join(waves),
                **{f"text_{lang}": item.text.get(lang) for lang in codebook.languages},
            }
        )
    return pd.DataFrame.from_records(records)


def label_table(codebook: Codebook) -> pd.DataFrame:
    """Answer labels: ``scale, code, language, label`` for every scale, code and language."""
    return pd.DataFrame.from_records(
        [
            {"scale": name, "code": code, "language": lang, "label": text}
            for name, scale in codebook.scales.items()
            for code, by_language in sorted(scale.labels.items())
            for lang, text in by_language.items()
        ],
        columns=["scale", "code", "language", "label"],
    )
