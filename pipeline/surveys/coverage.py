"""What a codebook does not cover in an export, and what to add: ``codebook check``.

:func:`find_gaps` lists, for one export, every column the matching source version does not
place, every column it expects but the export lacks, every answer label (cell text or value
label) its scales do not know, and every language value it cannot map, each with the YAML to
add. Cleaning refuses an export with gaps; ``python -m pipeline codebook check FILE...`` prints
them all at once so a researcher meeting a new export knows in one run what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.privacy import redact
from pipeline.surveys.answers import map_answers, unlabelled_value_labels
from pipeline.surveys.codebook import Codebook, CodebookError, Source
from pipeline.surveys.readers import SurveyExport


@dataclass(frozen=True)
class Gap:
    """One thing the codebook does not cover in one export.

    Attributes
    ----------
    file : str
        Export file name.
    kind : str
        ``no_source``, ``unknown_column``, ``missing_column``, ``unmapped_label`` or
        ``unmapped_language``.
    column : str or None
        Export column concerned.
    label : str or None
        Answer label or language value concerned (identifiers redacted).
    fix : str
        What to add to the codebook, as YAML where possible.
    """

    file: str
    kind: str
    column: str | None
    label: str | None
    fix: str

    def __str__(self) -> str:
        where = f", column '{self.column}'" if self.column else ""
        what = f", label '{self.label}'" if self.label is not None else ""
        return f"{self.file}{where}{what}: {self.kind.replace('_', ' ')}. {self.fix}"


def find_gaps(export: SurveyExport, codebook: Codebook, *, columns: bool = True) -> list[Gap]:
    """Everything in ``export`` that ``codebook`` does not cover.

    Parameters
    ----------
    export : SurveyExport
        The export (or one chunk of it).
    codebook : Codebook
        The survey family's codebook.
    columns : bool
        Check columns too (once per file is enough when reading in chunks).

    Returns
    -------
    list of Gap
        Empty when the codebook covers the export.
    """
    name = export.source_file
    try:
        source_name, source = codebook.source_for(name)
    except CodebookError as exc:
        return [Gap(name, "no_source", None, None, f"{exc}\n{draft_source(export, codebook)}")]
    gaps = _column_gaps(export, source_name, source) if columns else []
    present = set(export.data.columns)
    for item_code, column in source.items.items():
        if column not in present:
            continue
        item = codebook.items[item_code]
        labels = export.value_labels.get(column)
        mapping = map_answers(export.data[column], labels, item, codebook, source)
        declared = (
            unlabelled_value_labels(labels, item, codebook) if source.values == "labels" else []
        )
        for label in sorted(set(mapping.unmapped) | set(declared)):
            gaps.append(_label_gap(name, column, label, item.scale, source))
    consent = source.columns.consent
    if consent in present:
        consent_item = codebook.consent_item()
        mapping = map_answers(
            export.data[consent], export.value_labels.get(consent), consent_item, codebook, source
        )
        for label in mapping.unmapped:
            gaps.append(_label_gap(name, consent, label, codebook.consent, source))
    if source.language is None and source.columns.language in present:
        for value in unmapped_languages(export.data[source.columns.language], source, codebook):
            gaps.append(
                Gap(
                    name,
                    "unmapped_language",
                    source.columns.language,
                    value,
                    f"add it under sources.{source_name}.language_values, e.g. "
                    f"language_values: {{'{value}': <two-letter code>}}",
                )
            )
    return gaps


def unmapped_languages(values: pd.Series, source: Source, codebook: Codebook) -> list[str]:
    """Values of a language column that map to none of the codebook's languages."""
    seen = {str(v).strip() for v in values.dropna() if str(v).strip()}
    return sorted(v for v in seen if language_code(v, source, codebook) is None)


def language_code(value: object, source: Source, codebook: Codebook) -> str | None:
    """Codebook language of one language-column value, or None."""
    text = str(value).strip()
    if text in source.language_values:
        return source.language_values[text]
    code = text.lower()
    return code if code in codebook.languages else None


def _column_gaps(export: SurveyExport, source_name: str, source: Source) -> list[Gap]:
    name = export.source_file
    roles = source.column_roles()
    gaps = [
        Gap(
            name,
            "unknown_column",
            column,
            None,
            f"map it to an item under sources.{source_name}.items (e.g. "
            f"'<item code>: {column}', with the item defined under items:), or list it under "
            f"sources.{source_name}.columns.free_text or columns.ignore",
        )
        for column in export.data.columns
        if column not in roles
    ]
    for column, role in roles.items():
        if column not in export.data.columns and role != "ignore":
            gaps.append(
                Gap(
                    name,
                    "missing_column",
                    column,
                    None,
                    f"sources.{source_name} maps {role.replace('item:', 'item ')} to column "
                    f"'{column}', which the export lacks; correct the mapping for this "
                    f"revision or add a new source version",
                )
            )
    return gaps


def _label_gap(name: str, column: str, label: str, scale: str | None, source: Source) -> Gap:
    language = source.language or "<language>"
    return Gap(
        name,
        "unmapped_label",
        column,
        redact(label),
        f"add it to scales.{scale}.labels under the code it means, e.g. "
        f"'<code>: {{{language}: \"{redact(label)}\"}}'",
    )


def draft_source(export: SurveyExport, codebook: Codebook) -> str:
    """A YAML draft of a source entry for an export no source covers."""
    known = set(codebook.items)
    lines = [
        "A draft to complete and add under sources: (columns named like an item are mapped):",
        f"  {export.path.stem.lower()}:",
        f"    files: ['{export.source_file}']",
        f"    tool: <survey tool>  # export format: {export.file_format}",
        "    revision: '<questionnaire revision>'",
        f"    wave: <one of {', '.join(codebook.waves)}>",
        "    language: <two-letter code, or give columns.language>",
        "    columns: {identity: <column>, consent: <column>}",
        "    items:",
    ]
    for column in export.data.columns:
        item = column if column in known else "<item code or move to columns.ignore>"
        lines.append(f"      {item}: {column}")
    return "\n".join(lines)


def format_gaps(gaps: list[Gap]) -> str:
    """Human-readable report of gaps, grouped by file."""
    if not gaps:
        return "the codebook covers every column and answer label"
    lines = []
    for file in dict.fromkeys(g.file for g in gaps):
        mine = [g for g in gaps if g.file == file]
        lines.append(f"{file}: {len(mine)} gap(s)")
        for gap in mine:
            lines.append("  - " + str(gap).removeprefix(f"{file}, ").removeprefix(f"{file}: "))
    return "\n".join(lines)
