"""Cleaning survey exports into pseudonymised, tidy responses with a full row accounting.

Every input row ends in exactly one of three places:

excluded
    no consent (answered "no" or left empty): counted, nothing else kept (reason
    ``refused_consent``).
quarantined
    kept aside for review in :attr:`SurveyCleaning.quarantine` with a reason: ``staff_test``
    (test number, "test" names, staff e-mail), ``invalid_id`` (identity number missing or failing
    the date or Luhn check), ``duplicate`` (another submission by the same person in the same
    wave was kept: the most complete one, then the latest).
kept
    answers in :attr:`SurveyCleaning.responses` (long) and :attr:`SurveyCleaning.wide`.

Rules are applied in that order, so a staff test with a made-up number is ``staff_test``, not
``invalid_id``. Answers are classified per item as ``answered``, ``dont_know``,
``item_nonresponse`` (system-missing) or ``out_of_range`` (a code outside the scale; the row is
kept, the value becomes NaN). Identity numbers are replaced by keyed pseudonyms; names, e-mail
addresses, phone numbers and all free text (string columns) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.pseudonymise import normalise_personnummer, pseudonymise
from pipeline.surveys.readers import SurveyExport

EXCLUSION_REASONS = ("refused_consent",)
QUARANTINE_REASONS = ("staff_test", "invalid_id", "duplicate")
STATUSES = ("answered", "dont_know", "item_nonresponse", "out_of_range")


class SurveyCleaningError(ValueError):
    """Survey exports that cannot be cleaned as configured (message names file and fix)."""


class SurveyAccountingError(SurveyCleaningError):
    """Rows read do not add up to rows kept, quarantined and excluded."""


@dataclass(frozen=True)
class SurveyColumns:
    """Names of the non-item columns in the exports.

    Numeric columns not named here (and not datetimes) are questionnaire items; string columns
    are personal data or free text and are dropped.
    """

    identity: str = "pnr"
    consent: str = "consent"
    consent_yes: float = 1
    submitted: str = "submitted"
    response_id: str = "resp_id"
    first_name: str = "first_name"
    last_name: str = "last_name"
    email: str = "email"
    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class StaffTestRules:
    """How staff test responses are recognised (any one rule suffices).

    Attributes
    ----------
    test_numbers : tuple of str
        Identity numbers used for testing, compared on the 10 digits ``YYMMDDNNNC`` of the
        normalised number (``121212-1212`` and ``19121212-1212`` are the same test number).
    name_pattern : str
        Regular expression (case-insensitive, searched) for first or last name.
    email_pattern : str
        Regular expression (case-insensitive, searched) for the e-mail address.
    email_domains : tuple of str
        The programme's own e-mail domains: any address there is staff.
    """

    test_numbers: tuple[str, ...] = ("1212121212",)
    name_pattern: str = r"\btest(person|sson)?\b"
    email_pattern: str = r"^test[^@]*@"
    email_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class SurveyCleaning:
    """Result of :func:`clean_surveys`; construction checks the row accounting.

    Attributes
    ----------
    responses : DataFrame
        Long: ``pseudonym, wave, language, item, value, status`` for every kept row and item.
    wide : DataFrame
        One row per ``pseudonym`` × ``wave`` with ``language, source_file, source_row,
        submitted`` and one column per item (NaN unless ``answered``).
    quarantine : DataFrame
        ``source_file, source_row, resp_id, pseudonym, reason`` per quarantined row
        (``pseudonym`` None when the identity number is invalid).
    excluded : DataFrame
        ``source_file, source_row, resp_id, reason`` per excluded row (no pseudonym: without
        consent nothing about the person is processed further).
    accounting : DataFrame
        Per source file: ``rows_read, rows_kept, rows_quarantined, rows_excluded``, a count per
        reason and counts of item values by status (``values_<status>``).
    """

    responses: pd.DataFrame
    wide: pd.DataFrame
    quarantine: pd.DataFrame
    excluded: pd.DataFrame
    accounting: pd.DataFrame = field(repr=False)

    def __post_init__(self) -> None:
        self.check_accounting()

    def check_accounting(self) -> None:
        """Raise :class:`SurveyAccountingError` unless every row read is accounted for.

        Checks per file that ``rows_read == rows_kept + rows_quarantined + rows_excluded``, that
        the reason counts add up, and that the counts agree with ``quarantine`` and ``wide``.
        """
        problems = []
        quarantined = self.quarantine.groupby("source_file").size()
        excluded_rows = self.excluded.groupby("source_file").size()
        kept = self.wide.groupby("source_file").size()
        for row in self.accounting.itertuples(index=False):
            name = row.source_file
            total = row.rows_kept + row.rows_quarantined + row.rows_excluded
            if row.rows_read != total:
                problems.append(
                    f"{name}: {row.rows_read} rows read but {row.rows_kept} kept + "
                    f"{row.rows_quarantined} quarantined + {row.rows_excluded} excluded = {total}"
                )
            by_reason = sum(getattr(row, r) for r in QUARANTINE_REASONS)
            if by_reason != row.rows_quarantined:
                problems.append(
                    f"{name}: quarantine reasons add up to {by_reason}, not {row.rows_quarantined}"
                )
            excluded = sum(getattr(row, r) for r in EXCLUSION_REASONS)
            if excluded != row.rows_excluded:
                problems.append(
                    f"{name}: exclusion reasons add up to {excluded}, not {row.rows_excluded}"
                )
            if int(quarantined.get(name, 0)) != row.rows_quarantined:
                problems.append(
                    f"{name}: quarantine table has {int(quarantined.get(name, 0))} "
                    f"rows, accounting says {row.rows_quarantined}"
                )
            if int(excluded_rows.get(name, 0)) != row.rows_excluded:
                problems.append(
                    f"{name}: exclusion table has "
                    f"{int(excluded_rows.get(name, 0))} rows, accounting says "
                    f"{row.rows_excluded}"
                )
            if int(kept.get(name, 0)) != row.rows_kept:
                problems.append(
                    f"{name}: wide table has {int(kept.get(name, 0))} rows, "
                    f"accounting says {row.rows_kept}"
                )
        seen = set(quarantined.index) | set(excluded_rows.index) | set(kept.index)
        unknown = seen - set(self.accounting["source_file"])
        if unknown:
            problems.append(f"rows from files missing in the accounting: {sorted(unknown)}")
        if problems:
            raise SurveyAccountingError(
                "survey row accounting does not balance: " + "; ".join(problems)
            )


def clean_surveys(
    exports: list[SurveyExport],
    key: bytes,
    *,
    valid_range: tuple[float, float] = (1, 5),
    dont_know_code: float = 9,
    item_ranges: Mapping[str, tuple[float, float]] | None = None,
    staff_rules: StaffTestRules | None = None,
    columns: SurveyColumns | None = None,
) -> SurveyCleaning:
    """Pseudonymise, de-duplicate and classify survey responses.

    Parameters
    ----------
    exports : list of SurveyExport
        From :func:`pipeline.surveys.read_survey`; the wave is the file name prefix
        (``intake_sv.sav`` → ``intake``). Language versions of a wave are cleaned together, so a
        person answering both is a duplicate.
    key : bytes
        Pseudonymisation key (at least 16 bytes).
    valid_range : (low, high)
        Valid codes of labelled items (Likert scales); a code must also have a value label.
    dont_know_code : float
        Code of "don't know" in labelled items (status ``dont_know``, value NaN).
    item_ranges : mapping, optional
        Per-item ``(low, high)`` overriding ``valid_range``; for unlabelled numeric items (counts)
        the default is "not negative".
    staff_rules : StaffTestRules, optional
        How staff test responses are recognised.
    columns : SurveyColumns, optional
        Names of the non-item columns.

    Returns
    -------
    SurveyCleaning

    Raises
    ------
    SurveyCleaningError
        If an export lacks the identity or consent column, a file appears twice, or the key is
        too short.
    """
    if len(key) < 16:
        raise SurveyCleaningError("pseudonymisation key must be at least 16 bytes")
    staff_rules = staff_rules or StaffTestRules()
    columns = columns or SurveyColumns()
    item_ranges = dict(item_ranges or {})
    names = [e.source_file for e in exports]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SurveyCleaningError(
            f"survey files given more than once: {repeated}; list each export once"
        )

    rows: list[pd.DataFrame] = []  # one frame of row-level facts per export
    statuses: list[pd.DataFrame] = []  # long item statuses of candidate rows
    item_order: list[str] = []
    for export in exports:
        facts, long = _classify_export(
            export, key, valid_range, dont_know_code, item_ranges, staff_rules, columns
        )
        rows.append(facts)
        statuses.append(long)
        item_order.extend(i for i in long["item"].unique() if i not in item_order)

    facts = pd.concat(rows, ignore_index=True) if rows else _empty_facts()
    long = pd.concat(statuses, ignore_index=True) if statuses else _empty_long()
    facts = _mark_duplicates(facts, long)

    kept = facts[facts["reason"].isna()]
    wave_order = list(dict.fromkeys(e.wave for e in exports))
    responses = _responses(long, kept, wave_order)
    wide = _wide(responses, kept, item_order, wave_order)
    quarantine = (
        facts[facts["reason"].isin(QUARANTINE_REASONS)]
        .loc[:, ["source_file", "source_row", "resp_id", "pseudonym", "reason"]]
        .sort_values(["source_file", "source_row"], kind="stable")
        .reset_index(drop=True)
    )
    quarantine["pseudonym"] = pd.Series(
        [v if isinstance(v, str) else None for v in quarantine["pseudonym"]], dtype=object
    )
    excluded = (
        facts[facts["reason"].isin(EXCLUSION_REASONS)]
        .loc[:, ["source_file", "source_row", "resp_id", "reason"]]
        .sort_values(["source_file", "source_row"], kind="stable")
        .reset_index(drop=True)
    )
    kept_long = long.merge(kept[["source_file", "source_row"]], on=["source_file", "source_row"])
    accounting = _accounting(exports, facts, kept_long)
    return SurveyCleaning(
        responses=responses,
        wide=wide,
        quarantine=quarantine,
        excluded=excluded,
        accounting=accounting,
    )


def _classify_export(
    export: SurveyExport,
    key: bytes,
    valid_range: tuple[float, float],
    dont_know_code: float,
    item_ranges: dict[str, tuple[float, float]],
    staff_rules: StaffTestRules,
    columns: SurveyColumns,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = export.data
    name = export.source_file
    missing = [c for c in (columns.identity, columns.consent) if c not in data.columns]
    if missing:
        raise SurveyCleaningError(
            f"{name}: required columns {missing} not found (columns are "
            f"{list(data.columns)}); rename them in the export or set SurveyColumns"
        )
    n = len(data)
    normalised = [normalise_personnummer(_as_text(v)) for v in data[columns.identity]]
    pseudonyms = pseudonymise(normalised, key)
    consent = pd.to_numeric(data[columns.consent], errors="coerce")
    refused = ~(consent == columns.consent_yes).to_numpy()
    staff = _staff_mask(data, normalised, staff_rules, columns)
    invalid = np.array([v is None for v in normalised])

    reason = np.full(n, None, dtype=object)
    reason[invalid] = "invalid_id"
    reason[staff] = "staff_test"
    reason[refused] = "refused_consent"

    submitted = (
        pd.to_datetime(data[columns.submitted], errors="coerce")
        if columns.submitted in data.columns
        else pd.Series(pd.NaT, index=data.index, dtype="datetime64[us]")
    )
    resp_id = (
        pd.to_numeric(data[columns.response_id], errors="coerce").astype("Int64")
        if columns.response_id in data.columns
        else pd.Series(pd.NA, index=data.index, dtype="Int64")
    )
    facts = pd.DataFrame(
        {
            "source_file": name,
            "source_row": np.arange(n, dtype="int64"),
            "resp_id": resp_id.to_numpy(),
            "wave": export.wave,
            "language": export.language,
            "submitted": submitted.to_numpy(),
            "pseudonym": pd.Series(pseudonyms, dtype=object).to_numpy(),
            "reason": reason,
        }
    )

    items = _item_columns(data, columns)
    candidates = np.flatnonzero(pd.isna(reason))
    parts = []
    for item in items:
        values = pd.to_numeric(data[item], errors="coerce").to_numpy(dtype="float64")[candidates]
        status = _status(
            values,
            export.value_labels.get(item),
            item_ranges.get(item, valid_range),
            item in item_ranges,
            dont_know_code,
        )
        parts.append(
            pd.DataFrame(
                {
                    "source_file": name,
                    "source_row": candidates,
                    "item": item,
                    "value": np.where(status == "answered", values, np.nan),
                    "status": status,
                }
            )
        )
    long = pd.concat(parts, ignore_index=True) if parts else _empty_long()
    return facts, long


def _as_text(value: object) -> object:
    """Identity numbers exported as numbers come back as floats: 199001011234.0."""
    if isinstance(value, float) and value == value and value.is_integer():
        return str(int(value))
    return value


def _staff_mask(
    data: pd.DataFrame,
    normalised: list[str | None],
    rules: StaffTestRules,
    columns: SurveyColumns,
) -> np.ndarray:
    test_numbers = {re.sub(r"\D", "", t)[-10:] for t in rules.test_numbers}
    mask = np.array([v is not None and v[2:] in test_numbers for v in normalised], dtype=bool)
    name_re = re.compile(rules.name_pattern, re.IGNORECASE)
    for column in (columns.first_name, columns.last_name):
        if column in data.columns:
            mask |= _text(data[column]).map(lambda s: bool(name_re.search(s))).to_numpy(bool)
    if columns.email in data.columns:
        emails = _text(data[columns.email]).str.strip().str.lower()
        email_re = re.compile(rules.email_pattern, re.IGNORECASE)
        mask |= emails.map(lambda s: bool(email_re.search(s))).to_numpy(bool)
        domains = tuple(d.lower().lstrip("@") for d in rules.email_domains)
        if domains:
            domain = emails.str.rpartition("@")[2]
            mask |= domain.isin(domains).to_numpy(bool)
    return mask


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


def _item_columns(data: pd.DataFrame, columns: SurveyColumns) -> list[str]:
    meta = {
        columns.identity,
        columns.consent,
        columns.submitted,
        columns.response_id,
        *columns.other,
    }
    return [
        c
        for c in data.columns
        if c not in meta
        and pd.api.types.is_numeric_dtype(data[c])
        and not pd.api.types.is_bool_dtype(data[c])
    ]


def _status(
    values: np.ndarray,
    labels: dict | None,
    value_range: tuple[float, float],
    explicit_range: bool,
    dont_know_code: float,
) -> np.ndarray:
    low, high = value_range
    missing = np.isnan(values)
    if labels:
        labelled = np.isin(values, [float(k) for k in labels])
        dont_know = values == dont_know_code
        valid = labelled & (values >= low) & (values <= high) & ~dont_know
    else:  # counts and other unlabelled numbers
        dont_know = np.zeros(len(values), dtype=bool)
        valid = (values >= low) & (values <= high) if explicit_range else values >= 0
    status = np.full(len(values), "out_of_range", dtype=object)
    status[valid] = "answered"
    status[dont_know] = "dont_know"
    status[missing] = "item_nonresponse"
    return status


def _mark_duplicates(facts: pd.DataFrame, long: pd.DataFrame) -> pd.DataFrame:
    """Among candidate rows sharing pseudonym and wave keep the most complete, then latest."""
    candidates = facts[facts["reason"].isna()]
    complete = (
        long[long["status"].isin(["answered", "dont_know"])]
        .groupby(["source_file", "source_row"])
        .size()
        .rename("n_complete")
    )
    ranked = candidates.join(complete, on=["source_file", "source_row"])
    ranked["n_complete"] = ranked["n_complete"].fillna(0)
    ranked["order"] = ranked.index  # input order breaks the remaining ties
    ranked = ranked.sort_values(
        ["pseudonym", "wave", "n_complete", "submitted", "order"],
        ascending=[True, True, False, False, True],
        na_position="last",
        kind="stable",
    )
    superseded = ranked.duplicated(["pseudonym", "wave"], keep="first")
    facts = facts.copy()
    facts.loc[superseded[superseded].index, "reason"] = "duplicate"
    return facts


def _by_wave(wave_order: list[str]):
    return lambda col: col.map(wave_order.index) if col.name == "wave" else col


def _responses(long: pd.DataFrame, kept: pd.DataFrame, wave_order: list[str]) -> pd.DataFrame:
    keys = kept[["source_file", "source_row", "pseudonym", "wave", "language"]]
    merged = long.merge(keys, on=["source_file", "source_row"], how="inner", validate="m:1")
    out = merged[["pseudonym", "wave", "language", "item", "value", "status"]]
    out = out.sort_values(["wave", "pseudonym"], kind="stable", key=_by_wave(wave_order))
    out = out.reset_index(drop=True)
    out["value"] = out["value"].astype("float64")
    return out


def _wide(
    responses: pd.DataFrame, kept: pd.DataFrame, item_order: list[str], wave_order: list[str]
) -> pd.DataFrame:
    base = kept[["pseudonym", "wave", "language", "source_file", "source_row", "submitted"]]
    values = responses.pivot(index=["pseudonym", "wave"], columns="item", values="value")
    values = values.reindex(columns=item_order)
    values.columns.name = None
    wide = base.join(values, on=["pseudonym", "wave"])
    wide = wide.sort_values(["wave", "pseudonym"], kind="stable", key=_by_wave(wave_order))
    return wide.reset_index(drop=True)


def _accounting(
    exports: list[SurveyExport],
    facts: pd.DataFrame,
    kept_long: pd.DataFrame,
) -> pd.DataFrame:
    status_counts = kept_long.groupby(["source_file", "status"]).size()
    records = []
    for export in exports:
        name = export.source_file
        mine = facts[facts["source_file"] == name]
        reasons = mine["reason"].value_counts()
        record = {
            "source_file": name,
            "wave": export.wave,
            "language": export.language,
            "rows_read": len(export.data),
            "rows_kept": int(mine["reason"].isna().sum()),
            "rows_quarantined": int(mine["reason"].isin(QUARANTINE_REASONS).sum()),
            "rows_excluded": int(mine["reason"].isin(EXCLUSION_REASONS).sum()),
        }
        for reason in (*EXCLUSION_REASONS, *QUARANTINE_REASONS):
            record[reason] = int(reasons.get(reason, 0))
        for status in STATUSES:
            record[f"values_{status}"] = int(status_counts.get((name, status), 0))
        records.append(record)
    columns = [
        "source_file",
        "wave",
        "language",
        "rows_read",
        "rows_kept",
        "rows_quarantined",
        "rows_excluded",
        *EXCLUSION_REASONS,
        *QUARANTINE_REASONS,
        *(f"values_{s}" for s in STATUSES),
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def _empty_facts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": pd.Series(dtype=object),
            "source_row": pd.Series(dtype="int64"),
            "resp_id": pd.Series(dtype="Int64"),
            "wave": pd.Series(dtype=object),
            "language": pd.Series(dtype=object),
            "submitted": pd.Series(dtype="datetime64[us]"),
            "pseudonym": pd.Series(dtype=object),
            "reason": pd.Series(dtype=object),
        }
    )


def _empty_long() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": pd.Series(dtype=object),
            "source_row": pd.Series(dtype="int64"),
            "item": pd.Series(dtype=object),
            "value": pd.Series(dtype="float64"),
            "status": pd.Series(dtype=object),
        }
    )
