"""Reading the programme roster into pseudonymised participants.

Every roster row ends up either in ``participants`` or in ``quarantine`` with a reason; names,
e-mail addresses, phone numbers and identity numbers are dropped once the pseudonym exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.config import RosterColumns
from pipeline.identity import birth_date, check_identities
from pipeline.pseudonymise import pseudonymise
from pipeline.surveys.codebook import normalise_label

YES = {"ja", "yes", "j", "y", "1", "true", "x"}
NO = {"nej", "no", "n", "0", "false", ""}


class RosterError(ValueError):
    """A roster that cannot be read, with the file and column named."""


@dataclass(frozen=True)
class RosterContacts:
    """Names and e-mail addresses of roster participants, held in memory only, never written.

    Used to repair a mistyped identity number in a survey (when the codebook allows it) and to
    scrub known names from free text.

    Attributes
    ----------
    keys : DataFrame
        ``pid, email, name`` with comparison forms: e-mail case-folded, name as
        ``normalise_label(first + " " + last)``.
    names : list of str
        Every first and last name on the roster.
    """

    keys: pd.DataFrame
    names: list[str]

    def match(self, email: object, first_name: object, last_name: object, on: list[str]) -> set:
        """Pseudonyms of roster participants agreeing on every key in ``on``."""
        wanted = {"email": email_key(email), "name": name_key(first_name, last_name)}
        if any(not wanted[k] for k in on):
            return set()
        mask = pd.Series(True, index=self.keys.index)
        for k in on:
            mask &= self.keys[k] == wanted[k]
        return set(self.keys.loc[mask, "pid"])


def email_key(value: object) -> str:
    """Comparison form of an e-mail address ('' when absent)."""
    return value.strip().casefold() if isinstance(value, str) else ""


def name_key(first_name: object, last_name: object) -> str:
    """Comparison form of a full name ('' when either part is absent)."""
    parts = [p for p in (first_name, last_name) if isinstance(p, str) and p.strip()]
    return normalise_label(" ".join(parts)) if len(parts) == 2 else ""


@dataclass(frozen=True)
class RosterCleaning:
    """Participants kept, rows quarantined, and the row accounting that ties them together."""

    participants: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int
    contacts: RosterContacts | None = field(default=None, repr=False)

    @property
    def accounting(self) -> dict[str, int]:
        reasons = self.quarantine["reason"].value_counts().to_dict() if len(self.quarantine) else {}
        return {
            "rows_read": self.rows_read,
            "rows_kept": len(self.participants),
            "rows_quarantined": len(self.quarantine),
            **{f"quarantined_{reason}": int(n) for reason, n in sorted(reasons.items())},
        }

    def check_balance(self) -> None:
        """Raise if any roster row is unaccounted for."""
        if self.rows_read != len(self.participants) + len(self.quarantine):
            raise AssertionError(
                f"roster accounting does not balance: read {self.rows_read}, kept "
                f"{len(self.participants)}, quarantined {len(self.quarantine)}"
            )


def read_roster(
    path: Path, columns: RosterColumns, key: bytes, country: str = "se"
) -> RosterCleaning:
    """Read a roster (.xlsx or .csv) and pseudonymise its participants.

    Parameters
    ----------
    path : Path
        The roster file.
    columns : RosterColumns
        Header of each canonical column in this roster.
    key : bytes
        Pseudonymisation key.
    country : str
        Country of the identity numbers (``se``, ``dk`` or ``fi``).

    Returns
    -------
    RosterCleaning
        ``participants`` has ``pid, cohort, city, start_date, end_date, mentor_matched,
        n_mentor_meetings, completed, female, birth_year``; ``quarantine`` has ``source_row,
        pid, reason`` (reasons: ``invalid_id``, ``duplicate``, ``missing_start_date``).
    """
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"{path}: roster not found; check data.roster in the study config")
    try:
        if path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
            raw = pd.read_excel(path, dtype=str)
        elif path.suffix.lower() == ".csv":
            raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        else:
            raise RosterError(f"{path}: unsupported roster format; use .xlsx or .csv")
    except RosterError:
        raise
    except Exception as exc:  # any parser failure is the file's problem, not ours
        raise RosterError(f"{path}: cannot be read as a roster ({type(exc).__name__})") from None

    headers = columns.model_dump()
    missing = [
        f"{canonical} ('{header}')"
        for canonical, header in headers.items()
        if header not in raw.columns
        and canonical not in {"first_name", "last_name", "email", "phone"}
    ]
    if missing:
        raise RosterError(
            f"{path}: missing roster columns {', '.join(missing)}; map them under "
            "data.roster_columns in the study config"
        )
    frame = raw.rename(columns={v: k for k, v in headers.items()})
    checks = check_identities(frame["personal_id"].to_numpy(dtype=object), country)
    normalised = [c.normalised if c.problem is None else None for c in checks]
    frame = frame.assign(
        source_row=range(2, len(frame) + 2),  # spreadsheet row numbers, header is row 1
        pid=pseudonymise(normalised, key, country.upper()),
        female=pd.array([_female(n, country) for n in normalised], dtype="boolean"),
        birth_year=pd.array(
            [birth_date(n, country).year if n else None for n in normalised], dtype="Int64"
        ),
        start_date=pd.to_datetime(frame["start_date"], errors="coerce"),
        end_date=pd.to_datetime(frame["end_date"], errors="coerce"),
        mentor_matched=_yes_no(frame["mentor_matched"], path, columns.mentor_matched),
        completed=_yes_no(frame["completed"], path, columns.completed),
        n_mentor_meetings=pd.to_numeric(frame["n_mentor_meetings"], errors="coerce"),
    )
    reason = pd.Series(pd.NA, index=frame.index, dtype="string")
    reason[frame["pid"].isna()] = "invalid_id"
    reason[reason.isna() & frame["start_date"].isna()] = "missing_start_date"
    duplicated = frame["pid"].notna() & frame.duplicated(["pid", "cohort"], keep="first")
    reason[reason.isna() & duplicated] = "duplicate"

    keep = [
        "pid",
        "cohort",
        "city",
        "start_date",
        "end_date",
        "mentor_matched",
        "n_mentor_meetings",
        "completed",
        "female",
        "birth_year",
    ]
    quarantined = reason.notna()
    contacts = _contacts(frame[~quarantined | (reason == "duplicate")])
    result = RosterCleaning(
        participants=frame.loc[~quarantined, keep].reset_index(drop=True),
        quarantine=frame.loc[quarantined, ["source_row", "pid"]]
        .assign(reason=reason[quarantined])
        .reset_index(drop=True),
        rows_read=len(frame),
        contacts=contacts,
    )
    result.check_balance()
    return result


def _female(number: str | None, country: str) -> bool | None:
    """Sex from the identity number: an even second-to-last (SE) or last (DK, FI: the
    individual number's last digit) digit means a woman."""
    if number is None:
        return None
    return int(number[-1] if country == "dk" else number[-2]) % 2 == 0


def _contacts(rows: pd.DataFrame) -> RosterContacts:
    """Comparison keys and names of usable roster rows (duplicates included: same person)."""
    column = {
        c: rows[c] if c in rows else pd.Series(None, index=rows.index, dtype=object)
        for c in ("email", "first_name", "last_name")
    }
    keys = pd.DataFrame(
        {
            "pid": rows["pid"].to_numpy(),
            "email": [email_key(v) for v in column["email"]],
            "name": [
                name_key(f, last)
                for f, last in zip(column["first_name"], column["last_name"], strict=True)
            ],
        }
    )
    names = [v for c in ("first_name", "last_name") for v in column[c].dropna().astype(str)]
    return RosterContacts(keys=keys, names=names)


def _yes_no(values: pd.Series, path: Path, header: str) -> pd.Series:
    text = values.fillna("").astype(str).str.strip().str.lower()
    unexpected = ~text.isin(YES | NO)
    if unexpected.any():
        # never echo the cells: a mis-mapped column may hold phone numbers or names
        rows = [int(position) + 2 for position in unexpected.to_numpy().nonzero()[0][:5]]
        more = ", ..." if unexpected.sum() > len(rows) else ""
        raise RosterError(
            f"{path}: column '{header}' has {int(unexpected.sum())} values other than yes/no "
            f"(spreadsheet rows {', '.join(map(str, rows))}{more}; the header is row 1); "
            "check the mapping under data.roster_columns in the study config"
        )
    return text.isin(YES)
