"""Synthetic survey exports (SPSS ``.sav``) with the mess real survey tools produce.

:func:`write_surveys` writes an intake and an end-of-programme survey, each in a Swedish and an
English version (``intake_sv.sav``, ``intake_en.sav``, ``end_sv.sav``, ``end_en.sav``). Both
language versions share variable names and numeric codes; only the variable and value labels
differ. The files look like a survey tool's export: the identity number as the respondent typed
it, contact details, answers as numeric codes (9 = don't know, declared user-missing), a
free-text comment.

Planted problems (each returned as ``{"file", "resp_id", "problem"}``):

``refused_consent``
    consent answered "no" (code 2) or left empty; no answers.
``staff_test``
    a staff member testing the questionnaire (test number 19121212-1212, "Test" names, e-mail at
    :data:`PROGRAMME_EMAIL_DOMAIN`).
``duplicate``
    a second submission by the same person in the same wave (possibly in the other language);
    the *superseded* submission is recorded, i.e. the less complete one, or the earlier one when
    both are equally complete. This is the one cleaning must quarantine.
``invalid_id``
    a mistyped identity number (transposed or changed digit, dropped digit) that cannot be
    repaired: none at all, or typed with a private e-mail address the roster does not know, or
    by a person whose own roster entry is unusable (``unlinkable``).
``repaired_id``
    a mistyped identity number typed with the roster's e-mail address and name, so a codebook
    allowing repairs on e-mail and name links it to exactly one participant.
``out_of_range``
    a Likert code (6 or 7) outside the labelled scale.
``pii_in_text``
    a comment containing an e-mail address, a phone number or the respondent's name.
``item_nonresponse``
    some questions left unanswered (system-missing).

Response is selective: about 85% answer the intake survey; the end survey is answered more often
by people who are employed at the end of the programme (75% against 45%), so a naive comparison
of respondents overstates the employment rate. Outcomes reach the files only through answers.

The output is a pure function of ``participants``, the ``rng`` state and ``export_date``: the
creation date and time ReadStat stamps into the file header are overwritten with
``export_date`` 12:00:00, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from pipeline.identity import check_identity
from pipeline.synth.identity import mistyped_number, typed_number

PROGRAMME_EMAIL_DOMAIN = "mentorprogrammet.example"
"""E-mail domain of the (synthetic) programme's own staff."""

STAFF_TEST_NUMBER = "19121212-1212"
"""Skatteverket's well-known test number, as staff type it."""

WAVES = ("intake", "end")
LANGUAGES = ("sv", "en")

LIKERT_ITEMS = {
    "intake": ("conf_job", "know_market", "network", "motivated"),
    "end": ("conf_job", "know_market", "network", "motivated", "mentor_useful"),
}
DONT_KNOW = 9

_LIKERT_LABELS = {
    "sv": {
        1: "Instämmer inte alls",
        2: "Instämmer i liten grad",
        3: "Instämmer delvis",
        4: "Instämmer i stor grad",
        5: "Instämmer helt",
        DONT_KNOW: "Vet ej",
    },
    "en": {
        1: "Strongly disagree",
        2: "Disagree",
        3: "Neither agree nor disagree",
        4: "Agree",
        5: "Strongly agree",
        DONT_KNOW: "Don't know",
    },
}
_YES_NO = {"sv": {1: "Ja", 2: "Nej"}, "en": {1: "Yes", 2: "No"}}

_COLUMN_LABELS = {
    "sv": {
        "resp_id": "Svars-ID",
        "submitted": "Inskickat",
        "lang": "Språk",
        "pnr": "Personnummer (ÅÅÅÅMMDD-NNNN)",
        "first_name": "Förnamn",
        "last_name": "Efternamn",
        "email": "E-postadress",
        "consent": "Jag samtycker till att mina svar används i utvärderingen",
        "conf_job": (
            "Jag är säker på att jag kommer att hitta ett jobb som motsvarar min utbildning"
        ),
        "know_market": "Jag vet hur den svenska arbetsmarknaden fungerar",
        "network": "Jag har ett yrkesnätverk i Sverige",
        "motivated": "Jag är motiverad att söka jobb",
        "mentor_useful": "Träffarna med min mentor har varit till nytta för mig",
        "job_now": "Har du ett arbete just nu?",
        "meetings": "Hur många gånger har du träffat din mentor?",
        "comment": "Övriga synpunkter",
    },
    "en": {
        "resp_id": "Response ID",
        "submitted": "Submitted",
        "lang": "Language",
        "pnr": "Swedish personal identity number (YYYYMMDD-NNNN)",
        "first_name": "First name",
        "last_name": "Last name",
        "email": "E-mail address",
        "consent": "I agree that my answers are used in the evaluation",
        "conf_job": "I am confident I will find a job that matches my education",
        "know_market": "I know how the Swedish labour market works",
        "network": "I have a professional network in Sweden",
        "motivated": "I am motivated to look for jobs",
        "mentor_useful": "The meetings with my mentor have been useful to me",
        "job_now": "Do you have a job right now?",
        "meetings": "How many times have you met your mentor?",
        "comment": "Other comments",
    },
}

_COMMENTS = {
    "sv": (
        "Bra program, tack!",
        "Mer tid för intervjuträning hade varit bra.",
        "Jag hade gärna träffat mentorn oftare.",
        "Workshopen om CV var mycket givande.",
        "Svårt att hitta tider som passade.",
    ),
    "en": (
        "Great programme, thank you!",
        "More interview practice would have helped.",
        "I would have liked to meet my mentor more often.",
        "The CV workshop was very useful.",
        "Hard to find meeting times that suited me.",
    ),
}
_PII_COMMENTS = {
    "sv": (
        "Kontakta mig gärna på {email}",
        "Ring mig på {phone} om ni har frågor",
        "Hälsningar {first_name} {last_name}",
    ),
    "en": (
        "Please contact me at {email}",
        "Call me on {phone} if you have questions",
        "Best regards, {first_name} {last_name}",
    ),
}
PRIVATE_EMAIL_DOMAIN = "privat.example"
"""Domain of e-mail addresses respondents type that the roster does not know."""

_STAFF = (
    # (first name, last name, typed number, e-mail local part)
    ("Test", "Testsson", STAFF_TEST_NUMBER, "test"),
    ("Karin", "Berg", "121212-1212", "karin.berg"),
    ("test", "", "", "karin.berg"),
    ("Anna", "Test", STAFF_TEST_NUMBER, "anna.lind"),
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# SPSS system file header: "$FL2" + 60-byte product name, five int32 fields, a float64 bias,
# then creation date (9 chars) and creation time (8 chars).
_HEADER_DATE_OFFSET = 92
_HEADER_TIME_OFFSET = 101


@dataclass(frozen=True)
class SurveyRates:
    """Response probabilities and the share of rows that get each planted problem.

    Problem shares are per file; every file with enough rows gets at least one of each.
    """

    intake_response: float = 0.85
    end_response_employed: float = 0.75
    end_response_not_employed: float = 0.45
    dont_know: float = 0.04
    refused_consent: float = 0.03
    staff_test: float = 0.02
    duplicate: float = 0.04
    invalid_id: float = 0.03
    repaired_id: float = 0.02
    out_of_range: float = 0.03
    pii_in_text: float = 0.04
    item_nonresponse: float = 0.05


def write_surveys(
    participants: pd.DataFrame,
    out_dir: Path,
    rng: np.random.Generator,
    export_date: datetime.date,
    *,
    rates: SurveyRates | None = None,
    unlinkable: frozenset[str] = frozenset(),
    country: str = "se",
) -> list[dict]:
    """Write the four synthetic survey exports and return the planted problems.

    Parameters
    ----------
    participants : DataFrame
        One row per participant: ``personal_id`` (12 digits), ``first_name``, ``last_name``,
        ``email``, ``phone``, ``cohort``, ``start_date``, ``end_date``, ``language`` ("sv"/"en"),
        ``female``, ``employed_end`` (0/1), ``completed``, ``n_mentor_meetings``.
    out_dir : Path
        Directory for ``intake_sv.sav``, ``intake_en.sav``, ``end_sv.sav``, ``end_en.sav``
        (created if missing; existing files are overwritten).
    rng : numpy.random.Generator
        The only source of randomness.
    export_date : datetime.date
        Day of the export: nothing is submitted within a week before it, and it is stamped into
        the file headers.
    rates : SurveyRates, optional
        Response and problem rates; defaults to :class:`SurveyRates`.
    unlinkable : frozenset of str
        ``personal_id`` of participants whose roster entry is unusable (a mistyped number
        there), so a mistyped number in their survey cannot be repaired from the roster.
    country : {"se", "dk", "fi"}
        Whose identity numbers ``personal_id`` holds (canonical form) and respondents type.

    Returns
    -------
    list of dict
        ``{"file": "intake_sv.sav", "resp_id": 123, "problem": "duplicate"}`` per planted
        problem, sorted by file, resp_id and problem.
    """
    rates = rates or SurveyRates()
    _check_participants(participants, country)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    people = participants.reset_index(drop=True)
    cutoff = pd.Timestamp(export_date) - pd.Timedelta(days=7)
    trait = rng.normal(size=len(people))

    planted: list[dict] = []
    for wave in WAVES:
        rows = _answers(wave, people, trait, rng, cutoff, rates, country)
        by_file: dict[str, list[dict]] = {f"{wave}_{lang}.sav": [] for lang in LANGUAGES}
        for row in rows:
            by_file[row["file"]].append(row)
        extra: list[dict] = []
        for file_name, file_rows in by_file.items():
            extra.extend(_plant(file_name, file_rows, people, rng, rates, cutoff, unlinkable,
                                country))
        for row in extra:
            by_file[row["file"]].append(row)
        for file_name, file_rows in by_file.items():
            lang = file_name[-6:-4]
            frame, problems = _to_frame(wave, file_rows, rng)
            path = out_dir / file_name
            _write_sav(frame, path, wave, lang)
            _stamp_header(path, export_date)
            planted.extend({"file": file_name, "resp_id": r, "problem": p} for r, p in problems)
    return sorted(planted, key=lambda d: (d["file"], d["resp_id"], d["problem"]))


def _check_participants(participants: pd.DataFrame, country: str) -> None:
    required = {
        "personal_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "start_date",
        "end_date",
        "language",
        "employed_end",
        "completed",
        "n_mentor_meetings",
    }
    missing = sorted(required - set(participants.columns))
    if missing:
        raise ValueError(f"write_surveys: participants lack columns {missing}")
    numbers = participants["personal_id"].astype(str)
    if numbers.duplicated().any():
        raise ValueError("write_surveys: personal_id must be unique per participant")
    if any(check_identity(v, country).normalised != v for v in numbers):
        raise ValueError(
            f"write_surveys: personal_id must be valid identity numbers of {country!r} in "
            "canonical form"
        )
    bad = sorted(set(participants["language"]) - set(LANGUAGES))
    if bad:
        raise ValueError(f"write_surveys: unknown questionnaire languages {bad}; use 'sv' or 'en'")


def _answers(
    wave: str,
    people: pd.DataFrame,
    trait: np.ndarray,
    rng: np.random.Generator,
    cutoff: pd.Timestamp,
    rates: SurveyRates,
    country: str,
) -> list[dict]:
    """One clean response per responding participant, in participant order."""
    rows = []
    for i, person in enumerate(people.itertuples(index=False)):
        employed = int(person.employed_end)
        if wave == "intake":
            p_respond = rates.intake_response
            anchor = pd.Timestamp(person.start_date)
        else:
            p_respond = rates.end_response_employed if employed else rates.end_response_not_employed
            anchor = pd.Timestamp(person.end_date)
        responds = rng.random() < p_respond
        lag = pd.Timedelta(seconds=int(rng.integers(3600, 14 * 86400)))
        answers = _draw_items(wave, trait[i], employed, int(person.n_mentor_meetings), rng)
        comment = _comment(person.language, rng)
        typed = typed_number(person.personal_id, country, rng)
        if not responds or anchor + lag >= cutoff:
            continue
        rows.append(
            {
                "file": f"{wave}_{person.language}.sav",
                "person": i,
                "submitted": anchor + lag,
                "lang": person.language,
                "pnr": typed,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": person.email,
                "consent": 1.0,
                **answers,
                "comment": comment,
                "problems": [],
            }
        )
    return rows


def _draw_items(
    wave: str, trait: float, employed: int, meetings: int, rng: np.random.Generator
) -> dict[str, float]:
    means = {"conf_job": 3.1, "know_market": 2.6, "network": 2.0, "motivated": 3.9}
    if wave == "end":
        means = {k: v + 0.4 + 0.6 * employed for k, v in means.items()}
        means["mentor_useful"] = 3.4 + 0.08 * min(meetings, 12)
    out: dict[str, float] = {}
    for item in LIKERT_ITEMS[wave]:
        value = means[item] + 0.8 * trait + rng.normal(scale=0.8)
        code = float(np.clip(np.rint(value), 1, 5))
        out[item] = float(DONT_KNOW) if rng.random() < 0.04 else code
    if wave == "end":
        truthful = rng.random() < 0.95
        out["job_now"] = 1.0 if (employed == 1) == truthful else 2.0
        misremember = int(rng.integers(-1, 2)) if rng.random() < 0.15 else 0
        out["meetings"] = float(max(0, meetings + misremember))
    return out


def _comment(lang: str, rng: np.random.Generator) -> str:
    if rng.random() < 0.5:
        return ""
    options = _COMMENTS[lang]
    return options[int(rng.integers(len(options)))]


def _pick(pool: list[int], rate: float, rng: np.random.Generator) -> list[int]:
    """Take max(1, Binomial(n, rate)) indices off the front of ``pool`` (fewer if it runs out)."""
    n = min(len(pool), max(1, int(rng.binomial(len(pool), rate)))) if pool else 0
    taken = pool[:n]
    del pool[:n]
    return taken


def _plant(
    file_name: str,
    rows: list[dict],
    people: pd.DataFrame,
    rng: np.random.Generator,
    rates: SurveyRates,
    cutoff: pd.Timestamp,
    unlinkable: frozenset[str],
    country: str,
) -> list[dict]:
    """Plant problems on ``rows`` in place; return new rows (duplicates, staff tests)."""
    wave, lang = file_name[:-4].split("_")
    items = _item_names(wave)
    likert = list(LIKERT_ITEMS[wave])
    pool = [int(i) for i in rng.permutation(len(rows))]
    # Row-level problems on disjoint rows; item-level problems on other, otherwise clean rows.
    refused = _pick(pool, rates.refused_consent, rng)
    invalid = _pick(pool, rates.invalid_id, rng)
    repairable = _pick(pool, rates.repaired_id, rng)
    duplicated = _pick(pool, rates.duplicate, rng)
    out_of_range = _pick(pool, rates.out_of_range, rng)
    pii = _pick(pool, rates.pii_in_text, rng)
    nonresponse = _pick(pool, rates.item_nonresponse, rng)

    for i in refused:
        row = rows[i]
        row["consent"] = np.nan if rng.random() < 0.2 else 2.0
        row.update({item: np.nan for item in items})
        row["comment"] = ""
        row["problems"].append("refused_consent")
    for i in invalid:
        row = rows[i]
        row["pnr"] = mistyped_number(people.at[row["person"], "personal_id"], country, rng)
        if row["pnr"]:  # typed with an address the roster does not know
            local = f"{row['first_name'].lower()}{int(rng.integers(10, 99))}"
            row["email"] = f"{local}@{PRIVATE_EMAIL_DOMAIN}"
        row["problems"].append("invalid_id")
    for i in repairable:
        row = rows[i]
        number = people.at[row["person"], "personal_id"]
        row["pnr"] = mistyped_number(number, country, rng, allow_missing=False)
        row["problems"].append("invalid_id" if number in unlinkable else "repaired_id")
    for i in out_of_range:
        row = rows[i]
        row[likert[int(rng.integers(len(likert)))]] = float(rng.choice([6, 7]))
        row["problems"].append("out_of_range")
    for i in pii:
        row = rows[i]
        template = _PII_COMMENTS[lang][int(rng.integers(3))]
        person = people.loc[row["person"]]
        row["comment"] = template.format(
            email=person["email"],
            phone=person["phone"],
            first_name=person["first_name"],
            last_name=person["last_name"],
        )
        row["problems"].append("pii_in_text")
    for i in nonresponse:
        row = rows[i]
        k = int(rng.integers(1, 4))
        for item in rng.choice(items, size=k, replace=False):
            row[str(item)] = np.nan
        row["problems"].append("item_nonresponse")

    new_rows = [_resubmission(rows[i], wave, people, rng, items, cutoff, country)
                for i in duplicated]
    if rows:
        first = min(r["submitted"] for r in rows)
        for _ in range(max(1, int(rng.binomial(len(rows), rates.staff_test)))):
            new_rows.append(_staff_row(file_name, wave, lang, first, rng))
    return new_rows


def _resubmission(
    original: dict,
    wave: str,
    people: pd.DataFrame,
    rng: np.random.Generator,
    items: list[str],
    cutoff: pd.Timestamp,
    country: str,
) -> dict:
    """A second submission by the same person; marks the superseded one of the pair."""
    person = people.loc[original["person"]]
    copy = dict(original)
    copy["problems"] = []
    copy["pnr"] = typed_number(person["personal_id"], country, rng)
    variant = int(rng.integers(4))
    if variant == 0:  # abandoned first attempt, completed later
        copy["submitted"] = original["submitted"] - pd.Timedelta(
            seconds=int(rng.integers(600, 3 * 86400))
        )
    else:  # complete resubmission or abandoned second attempt, later
        copy["submitted"] = min(
            original["submitted"] + pd.Timedelta(seconds=int(rng.integers(600, 5 * 86400))),
            cutoff,
        )
        copy.update(
            _draw_items(
                wave, 0.0, int(person["employed_end"]), int(person["n_mentor_meetings"]), rng
            )
        )
    if variant in (0, 2):  # partial: a few answers missing
        k = int(rng.integers(2, min(5, len(items))))
        for item in rng.choice(items, size=k, replace=False):
            copy[str(item)] = np.nan
    if variant == 3:  # answered the other language version the second time
        other = "en" if original["lang"] == "sv" else "sv"
        copy["lang"] = other
        copy["file"] = f"{wave}_{other}.sav"
    complete_original = sum(not np.isnan(original[i]) for i in items)
    complete_copy = sum(not np.isnan(copy[i]) for i in items)
    if complete_copy != complete_original:
        superseded = copy if complete_copy < complete_original else original
    else:
        superseded = copy if copy["submitted"] < original["submitted"] else original
    superseded["problems"].append("duplicate")
    return copy


def _staff_row(
    file_name: str, wave: str, lang: str, first: pd.Timestamp, rng: np.random.Generator
) -> dict:
    first_name, last_name, typed, local = _STAFF[int(rng.integers(len(_STAFF)))]
    row = {
        "file": file_name,
        "person": -1,
        "submitted": first - pd.Timedelta(seconds=int(rng.integers(3600, 5 * 86400))),
        "lang": lang,
        "pnr": typed,
        "first_name": first_name,
        "last_name": last_name,
        "email": f"{local}@{PROGRAMME_EMAIL_DOMAIN}",
        "consent": 1.0,
        **_draw_items(wave, 0.0, 0, 0, rng),
        "comment": "test" if rng.random() < 0.5 else "",
        "problems": ["staff_test"],
    }
    return row


def _item_names(wave: str) -> list[str]:
    return list(LIKERT_ITEMS[wave]) + (["job_now", "meetings"] if wave == "end" else [])


def _columns(wave: str) -> list[str]:
    return [
        "resp_id",
        "submitted",
        "lang",
        "pnr",
        "first_name",
        "last_name",
        "email",
        "consent",
        *_item_names(wave),
        "comment",
    ]


def _to_frame(
    wave: str, rows: list[dict], rng: np.random.Generator
) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Order rows by submission, give them the tool's increasing response ids."""
    rows = sorted(rows, key=lambda r: (r["submitted"], r["person"], r["pnr"]))
    start = int(rng.integers(10_000, 90_000))
    steps = rng.integers(1, 40, size=len(rows))
    resp_ids = start + np.cumsum(steps)
    problems = []
    for row, resp_id in zip(rows, resp_ids, strict=True):
        row["resp_id"] = int(resp_id)
        problems.extend((int(resp_id), p) for p in row["problems"])
    columns = _columns(wave)
    frame = pd.DataFrame({c: [r[c] for r in rows] for c in columns})
    frame["resp_id"] = frame["resp_id"].astype("int64")
    frame["submitted"] = pd.to_datetime(frame["submitted"]).astype("datetime64[us]")
    for c in ("lang", "pnr", "first_name", "last_name", "email", "comment"):
        frame[c] = frame[c].astype(str)
    for c in ["consent", *_item_names(wave)]:
        frame[c] = frame[c].astype("float64")
    return frame, problems


def _write_sav(frame: pd.DataFrame, path: Path, wave: str, lang: str) -> None:
    likert = list(LIKERT_ITEMS[wave])
    value_labels = {"consent": _YES_NO[lang], **{i: _LIKERT_LABELS[lang] for i in likert}}
    measure = {"consent": "nominal", **{i: "ordinal" for i in likert}}
    if wave == "end":
        value_labels["job_now"] = _YES_NO[lang]
        measure.update(job_now="nominal", meetings="scale")
    labels = _COLUMN_LABELS[lang]
    title = {
        "sv": {"intake": "Startenkät", "end": "Slutenkät"},
        "en": {"intake": "Intake survey", "end": "End-of-programme survey"},
    }[lang][wave]
    pyreadstat.write_sav(
        frame,
        str(path),
        file_label=title,
        column_labels=[labels[c] for c in frame.columns],
        variable_value_labels=value_labels,
        missing_ranges={i: [DONT_KNOW] for i in likert},
        variable_measure=measure,
    )


def _stamp_header(path: Path, export_date: datetime.date) -> None:
    """Replace the creation date and time ReadStat writes with ``export_date`` 12:00:00."""
    date = f"{export_date.day:02d} {_MONTHS[export_date.month - 1]} {export_date.year % 100:02d}"
    with open(path, "r+b") as handle:
        header = handle.read(_HEADER_TIME_OFFSET + 8)
        stamp = header[_HEADER_DATE_OFFSET : _HEADER_TIME_OFFSET + 8].decode("ascii", "replace")
        if not header.startswith(b"$FL2") or not re.fullmatch(
            r"\d\d [A-Z][a-z]{2} \d\d\d\d:\d\d:\d\d", stamp
        ):
            raise RuntimeError(f"{path}: unexpected SPSS header layout, cannot set creation date")
        handle.seek(_HEADER_DATE_OFFSET)
        handle.write(date.encode("ascii"))
        handle.seek(_HEADER_TIME_OFFSET)
        handle.write(b"12:00:00")
