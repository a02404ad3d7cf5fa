"""Cleaning survey exports into pseudonymised, tidy responses with a full row accounting.

Each export is matched to its source version in the codebook (:mod:`pipeline.surveys.codebook`),
which says which column holds what. Every input row ends in exactly one of three places:

excluded
    no consent (answered "no" or left empty): counted, nothing else kept (``refused_consent``).
quarantined
    kept aside for review in :attr:`SurveyCleaning.quarantine` with its pseudonym (never the
    raw number), its canonical answers and a reason:

    ``staff_test``
        a test number (also Finnish individual numbers 900-999), a name or e-mail address
        matching the codebook's staff patterns, an address at the programme's own domain, or a
        tool's preview flag (``staff_tests.column_values``);
    ``invalid_id``
        identity number missing or failing its country's check (detail: ``missing``,
        ``malformed``, ``bad_date``, ``bad_checksum``), unless the codebook allows repairs and
        the row's e-mail and name match exactly one roster participant: then the row is kept
        with that participant's pseudonym and the repair is logged in
        :attr:`SurveyCleaning.repairs`;
    ``missing_required``
        a required item not answered (detail lists the items);
    ``duplicate``
        another submission by the same person in the same wave was kept: the most complete one
        (answers plus "don't know"), then the latest, then the first in the input.
kept
    answers in :attr:`SurveyCleaning.responses` (long) and :attr:`SurveyCleaning.wide`.

Rules apply in that order (a staff test with a made-up number is ``staff_test``). Answers get a
status per item (:data:`pipeline.surveys.answers.STATUSES`): an out-of-range code becomes
missing with the flag ``out_of_range``; item non-response stays apart from "don't know".
Identity numbers become keyed pseudonyms; names, e-mail addresses and phone numbers are used
for staff detection and repair only and then dropped; free text is dropped, or kept scrubbed
(:mod:`pipeline.surveys.scrub`) when the codebook says ``free_text: scrub``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.identity import check_identities, check_identity
from pipeline.pseudonymise import pseudonymise
from pipeline.surveys.answers import STATUSES, map_answers
from pipeline.surveys.codebook import Codebook, CodebookError, Source
from pipeline.surveys.coverage import find_gaps, format_gaps, language_code
from pipeline.surveys.readers import SurveyExport, iter_survey
from pipeline.surveys.roster import RosterContacts
from pipeline.surveys.scrub import NameScrubber, scrub_text

EXCLUSION_REASONS = ("refused_consent",)
QUARANTINE_REASONS = ("staff_test", "invalid_id", "missing_required", "duplicate")
REPAIRABLE_PROBLEMS = ("malformed", "bad_date", "bad_checksum")


class SurveyCleaningError(ValueError):
    """Survey exports that cannot be cleaned as configured (message names file and fix)."""


class SurveyAccountingError(SurveyCleaningError):
    """Rows read do not add up to rows kept, quarantined and excluded."""


@dataclass(frozen=True)
class SurveyCleaning:
    """Result of :func:`clean_surveys`; construction checks the row accounting.

    Rows are numbered ``source_row`` = 1 for the first response of a file (header rows are not
    counted).

    Attributes
    ----------
    responses : DataFrame
        Long: ``pseudonym, wave, language, item, value, score, status`` for every kept row and
        item; ``score`` is ``value`` turned so that higher means more of the quality (scale
        direction and reverse coding applied).
    wide : DataFrame
        One row per ``pseudonym`` x ``wave`` with ``language, source_file, source_row,
        submitted, id_repaired`` and one column per item (NaN unless ``answered``).
    quarantine : DataFrame
        ``source_file, source_row, resp_id, pseudonym, wave, language, submitted, reason,
        detail`` and the canonical answers per quarantined row (``pseudonym`` None when the
        identity number is unusable).
    excluded : DataFrame
        ``source_file, source_row, resp_id, wave, reason`` per excluded row (no pseudonym:
        without consent nothing about the answers is processed further).
    repairs : DataFrame
        ``source_file, source_row, pseudonym, problem, matched_on`` per repaired identity number.
    free_text : DataFrame
        ``pseudonym, wave, column, text`` (scrubbed) of kept rows; empty unless the codebook
        keeps free text.
    accounting : DataFrame
        Per source file: ``source, wave, rows_read, rows_kept, rows_quarantined,
        rows_excluded``, a count per reason, ``ids_repaired`` and counts of item values by
        status (``values_<status>``).
    refused : DataFrame
        ``pseudonym, wave`` of valid numbers that refused consent; in memory only, for the
        response status of roster participants (:func:`response_status`). Never written.
    """

    responses: pd.DataFrame
    wide: pd.DataFrame
    quarantine: pd.DataFrame
    excluded: pd.DataFrame
    repairs: pd.DataFrame
    free_text: pd.DataFrame
    accounting: pd.DataFrame = field(repr=False)
    refused: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        self.check_accounting()

    def check_accounting(self) -> None:
        """Raise :class:`SurveyAccountingError` unless every row read is accounted for.

        Checks per file that ``rows_read == rows_kept + rows_quarantined + rows_excluded``, that
        the reason counts add up, and that the counts agree with the output tables.
        """
        problems = []
        tables = {
            "rows_quarantined": self.quarantine.groupby("source_file").size(),
            "rows_excluded": self.excluded.groupby("source_file").size(),
            "rows_kept": self.wide.groupby("source_file").size(),
        }
        for row in self.accounting.itertuples(index=False):
            name = row.source_file
            total = row.rows_kept + row.rows_quarantined + row.rows_excluded
            if row.rows_read != total:
                problems.append(
                    f"{name}: {row.rows_read} rows read but {row.rows_kept} kept + "
                    f"{row.rows_quarantined} quarantined + {row.rows_excluded} excluded = {total}"
                )
            for counted, reasons in (
                ("rows_quarantined", QUARANTINE_REASONS),
                ("rows_excluded", EXCLUSION_REASONS),
            ):
                by_reason = sum(getattr(row, r) for r in reasons)
                if by_reason != getattr(row, counted):
                    problems.append(f"{name}: {counted} reasons add up to {by_reason}")
            for counted, sizes in tables.items():
                if int(sizes.get(name, 0)) != getattr(row, counted):
                    problems.append(
                        f"{name}: output table has {int(sizes.get(name, 0))} rows, "
                        f"accounting says {counted} = {getattr(row, counted)}"
                    )
        seen = set().union(*(set(s.index) for s in tables.values()))
        unknown = seen - set(self.accounting["source_file"])
        if unknown:
            problems.append(f"rows from files missing in the accounting: {sorted(unknown)}")
        if problems:
            raise SurveyAccountingError(
                "survey row accounting does not balance: " + "; ".join(problems)
            )


def clean_surveys(
    paths: Iterable[str | Path],
    codebook: Codebook,
    key: bytes,
    *,
    roster: RosterContacts | None = None,
    chunksize: int = 50_000,
) -> SurveyCleaning:
    """Read survey exports in chunks and clean them (see the module docstring).

    Parameters
    ----------
    paths : iterable of path
        Survey exports; each must match exactly one source version of ``codebook``.
    codebook : Codebook
        The survey family's codebook.
    key : bytes
        Pseudonymisation key (at least 16 bytes).
    roster : RosterContacts, optional
        Roster names and e-mail addresses (identity repair, scrubbing names from free text).
    chunksize : int
        Rows read at a time.

    Returns
    -------
    SurveyCleaning

    Raises
    ------
    CodebookError
        If the codebook does not cover an export (every gap is listed with what to add).
    SurveyCleaningError
        If a file is given twice or the key is too short.
    SurveyReadError
        If a file cannot be read.
    """
    paths = [Path(p) for p in paths]
    _check_once(p.name for p in paths)
    chunks = (
        chunk
        for path in paths
        for chunk in iter_survey(
            path, chunksize=chunksize, encoding=codebook.source_for(path.name)[1].encoding
        )
    )
    return clean_exports(chunks, codebook, key, roster=roster)


def clean_exports(
    exports: Iterable[SurveyExport],
    codebook: Codebook,
    key: bytes,
    *,
    roster: RosterContacts | None = None,
) -> SurveyCleaning:
    """Clean exports already read (whole files, or consecutive chunks of the same file).

    Parameters are those of :func:`clean_surveys`; ``exports`` replaces the paths.
    """
    if len(key) < 16:
        raise SurveyCleaningError("pseudonymisation key must be at least 16 bytes")
    names = NameScrubber(roster.names if roster is not None else [])
    parts: list[_Classified] = []
    files: dict[str, str] = {}  # file -> source name, in input order
    read: dict[str, int] = {}
    for export in exports:
        source_name, source = codebook.source_for(export.source_file)
        first_chunk = export.source_file not in files
        files.setdefault(export.source_file, source_name)
        read[export.source_file] = read.get(export.source_file, 0) + len(export.data)
        gaps = find_gaps(export, codebook, columns=first_chunk)
        if gaps:
            raise CodebookError(
                f"the codebook '{codebook.family}' does not cover this export:\n"
                + format_gaps(gaps)
            )
        parts.append(_classify(export, source, codebook, key, roster, names))
    facts = pd.concat([p.facts for p in parts], ignore_index=True) if parts else _empty_facts()
    long = pd.concat([p.long for p in parts], ignore_index=True) if parts else _empty_long()
    facts = _mark_duplicates(facts)
    return _assemble(facts, long, parts, files, read, codebook)


@dataclass(frozen=True)
class _Classified:
    facts: pd.DataFrame  # one row per input row
    long: pd.DataFrame  # answers of rows not excluded
    repairs: pd.DataFrame
    free_text: pd.DataFrame


def _check_once(names: Iterable[str]) -> None:
    names = list(names)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SurveyCleaningError(
            f"survey files given more than once: {repeated}; list each export once"
        )


def _classify(
    export: SurveyExport,
    source: Source,
    codebook: Codebook,
    key: bytes,
    roster: RosterContacts | None,
    names: NameScrubber,
) -> _Classified:
    data = export.data
    n = len(data)
    rows = export.row_offset + np.arange(1, n + 1, dtype="int64")
    country = source.identity_country or "se"
    checks = check_identities(data[source.columns.identity].to_numpy(dtype=object), country)
    numbers = [c.normalised if c.problem in (None, "test_number") else None for c in checks]
    pseudonyms = np.array(pseudonymise(numbers, key, country.upper()), dtype=object)
    problems = np.array([c.problem for c in checks], dtype=object)

    reason = np.full(n, None, dtype=object)
    detail = np.full(n, None, dtype=object)
    invalid = np.array([p not in (None, "test_number") for p in problems], dtype=bool)
    reason[invalid] = "invalid_id"
    detail[invalid] = problems[invalid]
    staff = _staff_mask(data, source, codebook, numbers, problems)
    reason[staff] = "staff_test"
    detail[staff] = None
    consent = map_answers(
        data[source.columns.consent],
        export.value_labels.get(source.columns.consent),
        codebook.consent_item(),
        codebook,
        source,
    )
    refused = consent.value != codebook.consent_yes
    reason[refused] = "refused_consent"
    detail[refused] = None
    repairs = _repair(export, source, codebook, roster, problems, reason, detail, pseudonyms)

    long, n_answered, missing_required = _answers(export, source, codebook, rows, ~refused)
    needs = pd.isna(reason) & (missing_required != "")
    reason[needs] = "missing_required"
    detail[needs] = missing_required[needs]

    facts = pd.DataFrame(
        {
            "source_file": export.source_file,
            "source_row": rows,
            "resp_id": _text_column(data, source.columns.response_id, n),
            "wave": source.wave,
            "language": _languages(data, source, codebook),
            "submitted": _submitted(data, source.columns.submitted, n),
            "pseudonym": pseudonyms,
            "reason": reason,
            "detail": detail,
            "n_answered": n_answered,
            "valid_refusal": refused & pd.notna(pseudonyms) & ~staff,
        }
    )
    positions = repairs.pop("position").to_numpy(dtype="int64")
    repairs = repairs.assign(source_file=export.source_file, source_row=rows[positions])
    free_text = _free_text(export, source, codebook, names, pseudonyms, rows, pd.isna(reason))
    return _Classified(facts, long, repairs, free_text)


def _repair(
    export: SurveyExport,
    source: Source,
    codebook: Codebook,
    roster: RosterContacts | None,
    problems: np.ndarray,
    reason: np.ndarray,
    detail: np.ndarray,
    pseudonyms: np.ndarray,
) -> pd.DataFrame:
    """Repair numbers of rows otherwise kept that match one roster participant, in place."""
    records = []
    rule = codebook.identity_repair
    if rule.allowed and roster is not None:
        data = export.data
        columns = source.columns

        def cell(column: str | None, i: int) -> object:
            return data[column].iat[i] if column is not None else None

        repairable = np.isin(problems, REPAIRABLE_PROBLEMS) & (reason == "invalid_id")
        for i in np.flatnonzero(repairable):
            matches = roster.match(
                cell(columns.email, i),
                cell(columns.first_name, i),
                cell(columns.last_name, i),
                list(rule.keys),
            )
            if len(matches) == 1:
                pseudonyms[i] = matches.pop()
                reason[i] = None
                detail[i] = None
                records.append((int(i), pseudonyms[i], problems[i], "+".join(rule.keys)))
    return pd.DataFrame(records, columns=["position", "pseudonym", "problem", "matched_on"])


def _staff_mask(
    data: pd.DataFrame,
    source: Source,
    codebook: Codebook,
    numbers: list[str | None],
    problems: np.ndarray,
) -> np.ndarray:
    rules = codebook.staff_tests
    country = source.identity_country or "se"
    tests = {_test_key(check_identity(t, country).normalised, country) for t in rules.test_numbers}
    tests.discard(None)
    mask = problems == "test_number"
    mask |= np.array([_test_key(v, country) in tests for v in numbers], dtype=bool)
    columns = source.columns
    if rules.name_pattern:
        pattern = re.compile(rules.name_pattern, re.IGNORECASE)
        for column in (columns.first_name, columns.last_name):
            if column is not None and column in data:
                mask |= _text(data[column]).map(lambda s: bool(pattern.search(s))).to_numpy(bool)
    if columns.email is not None and columns.email in data:
        emails = _text(data[columns.email]).str.strip().str.lower()
        if rules.email_pattern:
            pattern = re.compile(rules.email_pattern, re.IGNORECASE)
            mask |= emails.map(lambda s: bool(pattern.search(s))).to_numpy(bool)
        domains = [d.lower().lstrip("@") for d in rules.email_domains]
        if domains:
            mask |= emails.str.rpartition("@")[2].isin(domains).to_numpy(bool)
    for column, values in rules.column_values.items():
        if column in data:
            wanted = {_plain(v) for v in values}
            mask |= data[column].map(_plain).isin(wanted).to_numpy(bool)
    return mask


def _test_key(number: str | None, country: str) -> str | None:
    """Swedish test numbers compare on the ten digits: the century is often typed wrongly."""
    if number is None:
        return None
    return number[-10:] if country == "se" else number


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None or value != value else str(value).strip()


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


def _text_column(data: pd.DataFrame, column: str | None, n: int) -> np.ndarray:
    if column is None or column not in data:
        return np.full(n, None, dtype=object)
    return np.array([_plain(v) or None for v in data[column]], dtype=object)


def _submitted(data: pd.DataFrame, column: str | None, n: int) -> np.ndarray:
    if column is None or column not in data:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    values = data[column]
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values, errors="coerce", format="mixed")
    return values.to_numpy(dtype="datetime64[us]")


def _languages(data: pd.DataFrame, source: Source, codebook: Codebook) -> np.ndarray:
    if source.language is not None:
        return np.full(len(data), source.language, dtype=object)
    return np.array(
        [
            language_code(v, source, codebook) if _plain(v) else None
            for v in data[source.columns.language]
        ],
        dtype=object,
    )


def _answers(
    export: SurveyExport,
    source: Source,
    codebook: Codebook,
    rows: np.ndarray,
    consenting: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Long answers of consenting rows, answers per row, and the required items left empty."""
    n = len(export.data)
    n_answered = np.zeros(n, dtype="int64")
    missing: list[list[str]] = [[] for _ in range(n)]
    parts = []
    for item_code, column in source.items.items():
        item = codebook.items[item_code]
        mapping = map_answers(
            export.data[column], export.value_labels.get(column), item, codebook, source
        )
        given = np.isin(mapping.status, ("answered", "dont_know"))
        n_answered += given
        if item.required:
            for i in np.flatnonzero(~given):
                missing[i].append(item_code)
        parts.append(
            pd.DataFrame(
                {
                    "source_file": export.source_file,
                    "source_row": rows[consenting],
                    "item": item_code,
                    "value": mapping.value[consenting],
                    "score": _score(mapping.value[consenting], item, codebook),
                    "status": mapping.status[consenting],
                }
            )
        )
    long = pd.concat(parts, ignore_index=True) if parts else _empty_long()
    return long, n_answered, np.array([",".join(m) for m in missing], dtype=object)


def _score(values: np.ndarray, item, codebook: Codebook) -> np.ndarray:
    """Values turned so that a higher score means more of the quality the item measures."""
    if item.scale is None:
        return values
    scale = codebook.scales[item.scale]
    flip = (scale.direction == "descending") != item.reverse
    if scale.kind != "likert" or not flip:
        return values
    codes = scale.codes
    return min(codes) + max(codes) - values


def _free_text(
    export: SurveyExport,
    source: Source,
    codebook: Codebook,
    names: NameScrubber,
    pseudonyms: np.ndarray,
    rows: np.ndarray,
    candidates: np.ndarray,
) -> pd.DataFrame:
    data = export.data
    records = []
    if codebook.free_text == "scrub":
        own = [_objects(data, c) for c in (source.columns.first_name, source.columns.last_name)]
        for column in source.columns.free_text:
            texts = _objects(data, column)
            for i in np.flatnonzero(candidates):
                text = scrub_text(texts[i], names, [names_[i] for names_ in own])
                if text is not None:
                    records.append((pseudonyms[i], int(rows[i]), column, text))
    frame = pd.DataFrame(records, columns=["pseudonym", "source_row", "column", "text"])
    return frame.assign(wave=source.wave, source_file=export.source_file)


def _objects(data: pd.DataFrame, column: str | None) -> np.ndarray:
    """A column as a plain object array (fast to index), all None when there is no column."""
    if column is None or column not in data:
        return np.full(len(data), None, dtype=object)
    return data[column].to_numpy(dtype=object)


def _mark_duplicates(facts: pd.DataFrame) -> pd.DataFrame:
    """Among candidate rows sharing pseudonym and wave keep the most complete, then latest."""
    candidates = facts[facts["reason"].isna()].assign(order=lambda f: f.index)
    ranked = candidates.sort_values(
        ["pseudonym", "wave", "n_answered", "submitted", "order"],
        ascending=[True, True, False, False, True],
        na_position="last",
        kind="stable",
    )
    superseded = ranked.duplicated(["pseudonym", "wave"], keep="first")
    kept = ranked[~superseded].set_index(["pseudonym", "wave"])
    facts = facts.copy()
    losers = ranked[superseded]
    facts.loc[losers.index, "reason"] = "duplicate"
    winners = kept.loc[list(zip(losers["pseudonym"], losers["wave"], strict=True))]
    facts.loc[losers.index, "detail"] = [
        f"kept {f} row {r}"
        for f, r in zip(winners["source_file"], winners["source_row"], strict=True)
    ]
    return facts


def _assemble(
    facts: pd.DataFrame,
    long: pd.DataFrame,
    parts: list[_Classified],
    files: dict[str, str],
    read: dict[str, int],
    codebook: Codebook,
) -> SurveyCleaning:
    wave_order = list(codebook.waves)
    present = set(long["item"].unique())
    item_order = [i for i in codebook.items if i in present]
    kept = facts[facts["reason"].isna()]
    repairs = pd.concat([p.repairs for p in parts], ignore_index=True) if parts else None
    repairs = repairs if repairs is not None else _empty_repairs()
    kept = kept.assign(id_repaired=_rows_in(kept, repairs))
    responses = _responses(long, kept, wave_order)
    wide = _wide(responses, kept, item_order, wave_order)
    quarantine = _quarantine(facts, long, item_order)
    excluded = (
        facts[facts["reason"].isin(EXCLUSION_REASONS)]
        .loc[:, ["source_file", "source_row", "resp_id", "wave", "reason"]]
        .reset_index(drop=True)
    )
    free_text = pd.concat([p.free_text for p in parts], ignore_index=True) if parts else None
    text_columns = ["pseudonym", "wave", "column", "text"]
    if free_text is None or free_text.empty:
        free_text = pd.DataFrame(columns=text_columns, dtype=object)
    else:  # only rows that survived de-duplication
        free_text = free_text.loc[_rows_in(free_text, kept), text_columns].reset_index(drop=True)
    kept_long = long.merge(kept[["source_file", "source_row"]], on=["source_file", "source_row"])
    accounting = _accounting(files, read, facts, kept_long, repairs)
    refused = facts.loc[facts["valid_refusal"], ["pseudonym", "wave"]].drop_duplicates()
    return SurveyCleaning(
        responses=_text_typed(responses),
        wide=_text_typed(wide),
        quarantine=_text_typed(quarantine),
        excluded=_text_typed(excluded),
        repairs=_text_typed(repairs),
        free_text=_text_typed(free_text),
        accounting=_text_typed(accounting),
        refused=_text_typed(refused.reset_index(drop=True)),
    )


TEXT_COLUMNS = frozenset({
    "pseudonym", "wave", "language", "source_file", "source", "resp_id", "item", "status",
    "reason", "detail", "column", "text", "problem", "matched_on",
})


def _text_typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as pandas' string dtype (missing = NaN), whatever the inputs' types were,
    so results do not depend on which chunks or files happened to be empty."""
    return frame.astype({c: "str" for c in frame.columns if c in TEXT_COLUMNS})


def _rows_in(frame: pd.DataFrame, other: pd.DataFrame) -> np.ndarray:
    """Whether each row of ``frame`` (by source file and row) is among the rows of ``other``."""
    keys = ["source_file", "source_row"]
    return pd.MultiIndex.from_frame(frame[keys]).isin(pd.MultiIndex.from_frame(other[keys]))


def _by_wave(wave_order: list[str]):
    return lambda col: col.map(wave_order.index) if col.name == "wave" else col


def _responses(long: pd.DataFrame, kept: pd.DataFrame, wave_order: list[str]) -> pd.DataFrame:
    keys = kept[["source_file", "source_row", "pseudonym", "wave", "language"]]
    merged = long.merge(keys, on=["source_file", "source_row"], how="inner", validate="m:1")
    out = merged[["pseudonym", "wave", "language", "item", "value", "score", "status"]]
    out = out.sort_values(["wave", "pseudonym"], kind="stable", key=_by_wave(wave_order))
    return out.reset_index(drop=True).astype({"value": "float64", "score": "float64"})


def _wide(
    responses: pd.DataFrame, kept: pd.DataFrame, item_order: list[str], wave_order: list[str]
) -> pd.DataFrame:
    base = kept[
        ["pseudonym", "wave", "language", "source_file", "source_row", "submitted", "id_repaired"]
    ]
    values = responses.pivot(index=["pseudonym", "wave"], columns="item", values="value")
    values = values.reindex(columns=item_order)
    values.columns.name = None
    wide = base.join(values, on=["pseudonym", "wave"])
    wide = wide.sort_values(["wave", "pseudonym"], kind="stable", key=_by_wave(wave_order))
    return wide.reset_index(drop=True)


def _quarantine(facts: pd.DataFrame, long: pd.DataFrame, item_order: list[str]) -> pd.DataFrame:
    columns = [
        "source_file",
        "source_row",
        "resp_id",
        "pseudonym",
        "wave",
        "language",
        "submitted",
        "reason",
        "detail",
    ]
    held = facts[facts["reason"].isin(QUARANTINE_REASONS)].loc[:, columns]
    answers = long.pivot_table(
        index=["source_file", "source_row"],
        columns="item",
        values="value",
        aggfunc="first",
        dropna=False,
    ).reindex(columns=item_order)
    answers.columns.name = None
    held = held.join(answers, on=["source_file", "source_row"])
    return held.reset_index(drop=True)


def _accounting(
    files: dict[str, str],
    read: dict[str, int],
    facts: pd.DataFrame,
    kept_long: pd.DataFrame,
    repairs: pd.DataFrame,
) -> pd.DataFrame:
    status_counts = kept_long.groupby(["source_file", "status"]).size()
    repaired = repairs.groupby("source_file").size()
    records = []
    for name, source in files.items():
        mine = facts[facts["source_file"] == name]
        reasons = mine["reason"].value_counts()
        record = {
            "source_file": name,
            "source": source,
            "wave": mine["wave"].iat[0] if len(mine) else None,
            "rows_read": read[name],
            "rows_kept": int(mine["reason"].isna().sum()),
            "rows_quarantined": int(mine["reason"].isin(QUARANTINE_REASONS).sum()),
            "rows_excluded": int(mine["reason"].isin(EXCLUSION_REASONS).sum()),
        }
        for reason in (*EXCLUSION_REASONS, *QUARANTINE_REASONS):
            record[reason] = int(reasons.get(reason, 0))
        record["ids_repaired"] = int(repaired.get(name, 0))
        for status in STATUSES:
            record[f"values_{status}"] = int(status_counts.get((name, status), 0))
        records.append(record)
    return pd.DataFrame.from_records(
        records,
        columns=[
            "source_file",
            "source",
            "wave",
            "rows_read",
            "rows_kept",
            "rows_quarantined",
            "rows_excluded",
            *EXCLUSION_REASONS,
            *QUARANTINE_REASONS,
            "ids_repaired",
            *(f"values_{s}" for s in STATUSES),
        ],
    )


def response_status(
    participants: pd.DataFrame, cleaning: SurveyCleaning, waves: Iterable[str]
) -> pd.DataFrame:
    """Survey response status of every roster participant in every wave.

    Parameters
    ----------
    participants : DataFrame
        Roster participants with a ``pid`` column (pseudonyms made with the same key).
    cleaning : SurveyCleaning
        The cleaned surveys.
    waves : iterable of str
        The codebook's waves.

    Returns
    -------
    DataFrame
        ``pid, wave, status`` with status ``responded`` (a kept response), ``refused``
        (answered but refused consent, and no kept response) or ``not_reached`` (no usable
        response; includes quarantined submissions that cannot be linked to the person).
    """
    pids = participants["pid"].drop_duplicates().to_numpy()
    grid = pd.MultiIndex.from_product([pids, list(waves)], names=["pid", "wave"]).to_frame(
        index=False
    )
    responded = set(zip(cleaning.wide["pseudonym"], cleaning.wide["wave"], strict=True))
    refused = set(zip(cleaning.refused["pseudonym"], cleaning.refused["wave"], strict=True))
    keys = list(zip(grid["pid"], grid["wave"], strict=True))
    grid["status"] = [
        "responded" if k in responded else "refused" if k in refused else "not_reached"
        for k in keys
    ]
    return grid


def _empty_facts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": pd.Series(dtype=object),
            "source_row": pd.Series(dtype="int64"),
            "resp_id": pd.Series(dtype=object),
            "wave": pd.Series(dtype=object),
            "language": pd.Series(dtype=object),
            "submitted": pd.Series(dtype="datetime64[us]"),
            "pseudonym": pd.Series(dtype=object),
            "reason": pd.Series(dtype=object),
            "detail": pd.Series(dtype=object),
            "n_answered": pd.Series(dtype="int64"),
            "valid_refusal": pd.Series(dtype=bool),
        }
    )


def _empty_long() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": pd.Series(dtype=object),
            "source_row": pd.Series(dtype="int64"),
            "item": pd.Series(dtype=object),
            "value": pd.Series(dtype="float64"),
            "score": pd.Series(dtype="float64"),
            "status": pd.Series(dtype=object),
        }
    )


def _empty_repairs() -> pd.DataFrame:
    return pd.DataFrame(columns=["pseudonym", "problem", "matched_on", "source_file", "source_row"])
