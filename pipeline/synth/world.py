"""Build a whole synthetic evaluation world and write it in the formats real data arrive in.

``build_world`` writes into the study's raw-data folder:

- the register in the shape of the study's country (:mod:`pipeline.synth.registers`): for
  Sweden ``register/persons.parquet`` (one row per person, LISA-like column names) and
  ``register/monthly.parquet`` (one row per person and month); for Denmark BEF, DREAM and
  eIndkomst files; for Finland FOLK annual rows;
- ``roster.xlsx``: the programme's participant list;
- ``surveys/*.sav``: intake and end-of-programme surveys (Swedish and English versions);

and, separately, the truth file that only tests and validation read.

People are generated in fixed-size chunks, each from its own child seed, so the same seed gives
the same bytes and a national-scale world never needs more memory than one chunk.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import StudyConfig
from pipeline.identity import check_identity
from pipeline.synth import names
from pipeline.synth.identity import (
    export_form,
    make_cpr,
    make_hetu,
    make_personnummer,
    national_numbers,
)
from pipeline.synth.labour_market import (
    MAX_HORIZON,
    PARTICIPATION,
    PROGRAMME_MONTHS,
    ChunkHistory,
    Intake,
    programme_effect,
    simulate_chunk,
)
from pipeline.synth.population import COUNTRIES, draw_people
from pipeline.synth.registers import DanishWriter, FinnishWriter, SwedishWriter
from pipeline.synth.surveys import write_surveys

CHUNK_SIZE = 50_000
COHORT_START_MONTHS = {3: "VT", 9: "HT"}  # spring (vårtermin) and autumn (hösttermin) intakes


def cohort_label(period: pd.Period) -> str:
    """``2024-VT`` / ``2024-HT`` for spring and autumn intakes, else ``2024-05``."""
    term = COHORT_START_MONTHS.get(period.month)
    return f"{period.year}-{term}" if term else f"{period.year}-{period.month:02d}"
EXPORT_DATE = dt.date(2026, 1, 15)


@dataclass(frozen=True)
class WorldSummary:
    """What :func:`build_world` wrote."""

    n_persons: int
    n_participants: int
    n_person_months: int
    files: list[Path]
    truth_file: Path


def build_world(config: StudyConfig, out_dir: Path | None = None) -> WorldSummary:
    """Generate the synthetic world described by ``config.synth``.

    Parameters
    ----------
    config : StudyConfig
        A study configuration with a ``synth`` section.
    out_dir : Path, optional
        Where to write; defaults to the study's raw-data folder. The folder is written into a
        temporary sibling first and moved into place only when complete.

    Returns
    -------
    WorldSummary
    """
    settings = config.synth
    if settings is None:
        raise ValueError(f"study '{config.study}' has no synth section: it uses real data")
    shape = {"se": "canonical", "dk": "denmark", "fi": "finland"}[config.data.identity_country]
    if config.data.register_files.shape != shape:
        raise ValueError(
            f"a synthetic {config.data.identity_country} world is written as a {shape} "
            f"register, but data.register.shape is {config.data.register_files.shape}"
        )
    target = Path(out_dir) if out_dir is not None else config.raw_dir
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        summary = _write_world(config, staging, target)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    truth_path = config.truth_path if out_dir is None else target.with_suffix(".truth.json")
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = truth_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary.pop("truth"), indent=2, sort_keys=True) + "\n")
    tmp.replace(truth_path)
    files = sorted(p for p in target.rglob("*") if p.is_file())
    return WorldSummary(truth_file=truth_path, files=files, **summary)


def _months(settings) -> pd.PeriodIndex:
    return pd.period_range(settings.first_month, settings.last_month, freq="M")


def _write_world(config: StudyConfig, staging: Path, final_dir: Path) -> dict:
    settings = config.synth
    country = config.data.identity_country
    months = _months(settings)
    cohort_months = [i for i, m in enumerate(months) if settings.starts(m)]
    if not cohort_months:
        raise ValueError("synth.cohort_years has no cohort start month inside the register")
    n_chunks = -(-settings.n_persons // CHUNK_SIZE)
    if n_chunks > 100:
        raise ValueError("synth.n_persons is limited to 5,000,000 (100 chunks)")
    seeds = np.random.SeedSequence(settings.seed).spawn(n_chunks + 1)
    intake = _intake(config)
    writer = _register_writer(config, staging, months)
    participants, effects = [], []
    try:
        for chunk in range(n_chunks):
            rng = np.random.default_rng(seeds[chunk])
            size = min(CHUNK_SIZE, settings.n_persons - chunk * CHUNK_SIZE)
            heads = np.arange(chunk, 100, n_chunks)
            people = draw_people(size, rng, serial_heads=heads, country=country)
            history = simulate_chunk(
                people,
                months,
                cohort_months,
                settings.participants_per_cohort * size / settings.n_persons,
                settings.selection_on_unobservables,
                rng,
                intake,
            )
            ids = national_numbers(people["personal_id"].to_numpy(), country,
                                   np.random.default_rng(seeds[chunk].spawn(1)[0]))
            people = people.assign(personal_id=ids)
            writer.write(people, ids, history, months)
            joined = np.flatnonzero(history.start_month >= 0)
            participants.append(_participant_facts(people, history, joined, months))
            effects.append(_individual_effects(history, joined, len(months)))
    finally:
        writer.close()

    roster_rng = np.random.default_rng(seeds[-1])
    facts = pd.concat(participants, ignore_index=True)
    facts["_chunk_position"] = np.arange(len(facts))
    roster = _roster(facts, roster_rng, country)
    export, roster_problems = _plant_roster_problems(_roster_export(roster, country),
                                                     roster_rng, country)
    _write_excel(
        export.rename(columns=config.data.roster_columns.model_dump()),
        staging / config.data.roster,
    )
    survey_dir = staging / "surveys"
    survey_dir.mkdir()
    # participants whose roster number was mistyped: the roster cannot vouch for them
    unlinkable = frozenset(roster["personal_id"]) - {
        check_identity(v, country).normalised for v in export["personal_id"]
    }
    planted = write_surveys(roster, survey_dir, roster_rng, EXPORT_DATE, unlinkable=unlinkable,
                            country=country)
    truth = _truth(config, roster, np.vstack(effects), months, planted, final_dir)
    truth["planted_roster_problems"] = roster_problems
    return {
        "n_persons": settings.n_persons,
        "n_participants": len(roster),
        "n_person_months": writer.n_rows,
        "truth": truth,
    }


def _intake(config: StudyConfig) -> Intake:
    """The study's eligibility rules as the synthetic programme applies them at intake.

    Municipality codes are compared as the population draws them: the Danish adapter writes
    KOM with four digits (``0101``), the synthetic BEF holds three (``101``).
    """
    design = config.design
    cities = None
    if design.municipalities:
        width = 3 if config.data.identity_country in ("dk", "fi") else 4
        cities = tuple(code[-width:] for code in design.municipalities)
    return Intake(design.min_age, design.max_age, cities, design.women_only,
                  design.min_education_level)


def _register_writer(config: StudyConfig, staging: Path, months: pd.PeriodIndex):
    files = config.data.register_files
    if files.shape == "denmark":
        return DanishWriter(staging, files.files, months)
    if files.shape == "finland":
        return FinnishWriter(staging, files.files)
    return SwedishWriter(staging, files.files, files.person_columns, files.monthly_columns)


def _participant_facts(people, history: ChunkHistory, joined, months) -> pd.DataFrame:
    start = history.start_month[joined]
    end_idx = np.minimum(start + PROGRAMME_MONTHS - 1, len(months) - 1)
    return pd.DataFrame(
        {
            "personal_id": people["personal_id"].to_numpy()[joined],
            "birth_date": people["birth_date"].to_numpy()[joined],
            "female": people["female"].to_numpy()[joined],
            "municipality": people["municipality"].to_numpy()[joined],
            "u": people["u"].to_numpy()[joined],
            "start_period": [months[i] for i in start],
            "employed_end": history.employed[joined, end_idx],
        }
    )


def _individual_effects(history: ChunkHistory, joined, n_months: int) -> np.ndarray:
    """Per participant, the true effect (employed_1 - employed_0) at horizons 0..MAX_HORIZON.

    Columns ``0..MAX_HORIZON`` hold employment effects, the next block effects on employment
    matching one's education; NaN where the horizon lies beyond the register.
    """
    horizons = np.arange(MAX_HORIZON + 1)
    start = history.start_month[joined]
    month_idx = start[:, None] + horizons[None, :]
    observable = month_idx < n_months
    safe = np.minimum(month_idx, n_months - 1)
    rows = joined[:, None]
    employment = (history.employed[rows, safe] - history.employed_0[rows, safe]).astype(float)
    matched = (history.matched_job[rows, safe] - history.matched_job_0[rows, safe]).astype(float)
    employment[~observable] = np.nan
    matched[~observable] = np.nan
    return np.hstack([employment, matched])


def _roster(facts: pd.DataFrame, rng: np.random.Generator, country: str = "se") -> pd.DataFrame:
    """Programme roster facts for every participant, in a stable order."""
    facts = facts.sort_values(["start_period", "personal_id"], ignore_index=True)
    n = len(facts)
    first, last = names.draw_names(facts["female"].to_numpy(), rng)
    start = pd.to_datetime([p.to_timestamp() for p in facts["start_period"]])
    start = start + pd.to_timedelta(rng.integers(0, 7, size=n), unit="D")
    completed = rng.random(n) < 0.85
    months_attended = np.where(completed, PROGRAMME_MONTHS, rng.integers(1, PROGRAMME_MONTHS, n))
    end = start + pd.to_timedelta(months_attended * 30, unit="D")
    mentor = rng.random(n) < 0.93
    meetings = np.where(mentor, rng.poisson(6.5 * months_attended / PROGRAMME_MONTHS), 0)
    facts = facts.assign(
        first_name=first,
        last_name=last,
        email=names.emails(first, last, rng),
        phone=names.phones(n, rng),
        cohort=[cohort_label(p) for p in facts["start_period"]],
        city=facts["municipality"].map(COUNTRIES[country].municipalities),
        start_date=start,
        end_date=end,
        mentor_matched=mentor,
        n_mentor_meetings=meetings.astype(int),
        completed=completed,
        language=np.where(rng.random(n) < 0.4, "sv", "en"),
    )
    return facts


ROSTER_FIELDS = [
    "personal_id", "first_name", "last_name", "email", "phone", "cohort", "city", "start_date",
    "end_date", "mentor_matched", "n_mentor_meetings", "completed",
]


def _roster_export(roster: pd.DataFrame, country: str = "se") -> pd.DataFrame:
    """The roster as a programme would keep it: dashed numbers, Ja/Nej, dates without time."""
    out = roster[ROSTER_FIELDS].copy()
    out["personal_id"] = [export_form(v, country) for v in out["personal_id"]]
    for col in ("mentor_matched", "completed"):
        out[col] = np.where(out[col], "Ja", "Nej")
    out["start_date"] = out["start_date"].dt.date
    out["end_date"] = out["end_date"].dt.date
    return out


def _plant_roster_problems(
    export: pd.DataFrame, rng: np.random.Generator, country: str = "se"
) -> tuple[pd.DataFrame, list[dict]]:
    """Add what real rosters carry: rows entered twice, mistyped identity numbers, and people
    the register does not know (born after the register's youngest cohort)."""
    picks = rng.choice(len(export), size=4, replace=False)
    rows = export.to_dict("records")
    problems = {}
    for index in picks[2:]:  # mistyped so that the country's check fails
        rows[index]["personal_id"] = _mistyped_on_roster(rows[index]["personal_id"], country)
        problems[id(rows[index])] = "invalid_id"
    for index in picks[:2]:  # entered twice: the second copy is the one to quarantine
        copy = dict(rows[index])
        rows.insert(rows.index(rows[index]) + 1, copy)
        problems[id(copy)] = "duplicate"
    for k in range(3):
        template = dict(rows[int(rng.integers(len(rows)))])
        number = _unknown_person(dt.date(2002, 1 + k, 10 + k), 100 + 2 * k, country)
        template.update(personal_id=export_form(number, country),
                        first_name="Nadia", last_name=f"Okafor{k}",
                        email=f"nadia.okafor{k}@gmail.com", phone=f"073-555 0{k} 0{k}")
        rows.append(template)
        problems[id(template)] = "not_in_register"
    planted = [
        {"source_row": position + 2, "problem": problems[id(row)]}  # header is row 1
        for position, row in enumerate(rows)
        if id(row) in problems
    ]
    return pd.DataFrame(rows, columns=export.columns), planted


def _mistyped_on_roster(number: str, country: str) -> str:
    """The last character changed (Luhn or HETU check fails); a Danish number has no check
    digit, so its month becomes impossible."""
    if country == "dk":
        return f"{number[:2]}1{3 + int(number[3]) % 7}{number[4:]}"
    if country == "fi":
        return number[:-1] + ("0" if number[-1] != "0" else "1")
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def _unknown_person(birth: dt.date, serial: int, country: str) -> str:
    """A valid number of someone born after the register's youngest cohort."""
    if country == "dk":
        return make_cpr(birth, serial)
    if country == "fi":
        return make_hetu(birth, serial, "B")
    return make_personnummer(birth, serial)


def _write_excel(frame: pd.DataFrame, path: Path) -> None:
    """Write an .xlsx whose bytes depend only on its content (fixed timestamps).

    openpyxl stamps the save time into ``docProps/core.xml`` and into every zip entry; both are
    replaced by the fixed export time so the same seed gives the same bytes.
    """
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Deltagare"
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([_excel_value(v) for v in row])
    fixed = dt.datetime(2026, 1, 15, 12, 0, 0)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    workbook.properties.creator = "Programme office"
    tmp = path.with_suffix(".unstable.xlsx")
    workbook.save(tmp)
    with zipfile.ZipFile(tmp) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2026, 1, 15, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + fixed.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    content,
                )
            out.writestr(info, content)
    tmp.unlink()


def _excel_value(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _truth(config, roster, effects: np.ndarray, months, planted, final_dir: Path) -> dict:
    """True effects by horizon and subgroup, selection parameters and planted survey problems."""
    settings = config.synth
    h = MAX_HORIZON + 1
    # effects were stacked in chunk order; realign them to the roster's order
    order = roster["_chunk_position"].to_numpy()
    employment, matched = effects[order, :h], effects[order, h:]
    female = roster["female"].to_numpy()

    def by_horizon(values: np.ndarray, mask: np.ndarray) -> list[dict]:
        rows = []
        for horizon in range(h):
            column = values[mask, horizon]
            observed = ~np.isnan(column)
            rows.append(
                {
                    "horizon_months": horizon,
                    "att": float(column[observed].mean()) if observed.any() else None,
                    "n_treated": int(observed.sum()),
                }
            )
        return rows

    everyone = np.ones(len(roster), dtype=bool)
    annual = {}
    if config.time_unit == "year":
        # year k after start is the status at the end of calendar year start + k - 1
        start_month = np.array([p.month for p in roster["start_period"]])
        annual = {"att_years": {
            "employed": {"all": _by_year(employment, start_month, everyone)},
            "employed_matching_education": {"all": _by_year(matched, start_month, everyone)},
        }}
    return {
        **annual,
        "time_unit": config.time_unit,
        "description": "Synthetic world truth. Read only by tests and validation, never by "
        "pipeline stages. ATT = mean over participants of Y(1) - Y(0).",
        "seed": settings.seed,
        "raw_dir": str(final_dir),
        "n_persons": settings.n_persons,
        "n_participants": int(len(roster)),
        "months": [str(months[0]), str(months[-1])],
        "att": {
            "employed": {
                "all": by_horizon(employment, everyone),
                "women": by_horizon(employment, female),
                "men": by_horizon(employment, ~female),
            },
            "employed_matching_education": {"all": by_horizon(matched, everyone)},
        },
        "effect_parameters": {
            "log_odds_job_finding_during_programme": -0.10,
            "log_odds_job_finding_after_men": float(programme_effect(np.array([12]),
                                                                     np.array([False]))[0]),
            "log_odds_job_finding_after_women": float(programme_effect(np.array([12]),
                                                                       np.array([True]))[0]),
            "programme_months": PROGRAMME_MONTHS,
        },
        "selection": {
            "participation_log_odds": PARTICIPATION,
            "mean_unobserved_trait_participants": float(roster["u"].mean()),
            "selection_on_unobservables": settings.selection_on_unobservables,
            "eligibility": {
                **config.design.model_dump(include={
                    "min_age", "max_age", "municipalities", "women_only", "min_education_level"}),
                "also": "foreign-born, not employed the month before start, not an earlier "
                        "participant",
            },
        },
        "planted_survey_problems": planted,
    }


def _by_year(values: np.ndarray, start_month: np.ndarray, mask: np.ndarray) -> list[dict]:
    """Mean effect at the end of each calendar year after start (year 1: the start year)."""
    rows = []
    for year in range(1, MAX_HORIZON // 12 + 1):
        months_after = 12 * year - start_month  # December of the year, from the start month
        column = values[np.arange(len(values)), np.minimum(months_after, MAX_HORIZON)]
        column = np.where(months_after <= MAX_HORIZON, column, np.nan)[mask]
        observed = ~np.isnan(column)
        rows.append({"horizon_years": year,
                     "att": float(column[observed].mean()) if observed.any() else None,
                     "n_treated": int(observed.sum())})
    return rows
