"""Build a whole synthetic evaluation world and write it in the formats real data arrive in.

``build_world`` writes into the study's raw-data folder:

- ``register/persons.parquet``: one row per person (LISA-like column names);
- ``register/monthly.parquet``: one row per person and month;
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
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import StudyConfig
from pipeline.pseudonymise import normalise_personnummer
from pipeline.synth import names
from pipeline.synth.identity import make_personnummer
from pipeline.synth.labour_market import (
    MAX_HORIZON,
    OCCUPATIONS_BY_SKILL,
    PARTICIPATION,
    PROGRAMME_MONTHS,
    ChunkHistory,
    programme_effect,
    simulate_chunk,
)
from pipeline.synth.population import MUNICIPALITY_NAMES, draw_people
from pipeline.synth.surveys import write_surveys

CHUNK_SIZE = 50_000
COHORT_START_MONTHS = {3: "VT", 9: "HT"}  # spring (vårtermin) and autumn (hösttermin) intakes
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
    months = _months(settings)
    cohort_months = [
        i for i, m in enumerate(months) if m.year in settings.cohort_years and m.month in
        COHORT_START_MONTHS
    ]
    if not cohort_months:
        raise ValueError("synth.cohort_years has no spring or autumn start inside the register")
    n_chunks = -(-settings.n_persons // CHUNK_SIZE)
    if n_chunks > 100:
        raise ValueError("synth.n_persons is limited to 5,000,000 (100 chunks)")
    seeds = np.random.SeedSequence(settings.seed).spawn(n_chunks + 1)

    (staging / "register").mkdir()
    pcols = config.data.register_files.person_columns
    mcols = config.data.register_files.monthly_columns
    persons_writer = monthly_writer = None
    participants, effects = [], []
    n_rows = 0
    try:
        for chunk in range(n_chunks):
            rng = np.random.default_rng(seeds[chunk])
            size = min(CHUNK_SIZE, settings.n_persons - chunk * CHUNK_SIZE)
            heads = np.arange(chunk, 100, n_chunks)
            people = draw_people(size, rng, serial_heads=heads)
            history = simulate_chunk(
                people,
                months,
                cohort_months,
                settings.participants_per_cohort * size / settings.n_persons,
                settings.selection_on_unobservables,
                rng,
            )
            persons_table = _persons_table(people, pcols)
            monthly_table = _monthly_table(people, history, months, mcols)
            if persons_writer is None:
                persons_writer = pq.ParquetWriter(staging / config.data.register_files.persons,
                                                  persons_table.schema)
                monthly_writer = pq.ParquetWriter(staging / config.data.register_files.monthly,
                                                  monthly_table.schema)
            persons_writer.write_table(persons_table)
            monthly_writer.write_table(monthly_table, row_group_size=1_000_000)
            n_rows += monthly_table.num_rows
            joined = np.flatnonzero(history.start_month >= 0)
            participants.append(_participant_facts(people, history, joined, months))
            effects.append(_individual_effects(history, joined, len(months)))
    finally:
        for writer in (persons_writer, monthly_writer):
            if writer is not None:
                writer.close()

    roster_rng = np.random.default_rng(seeds[-1])
    facts = pd.concat(participants, ignore_index=True)
    facts["_chunk_position"] = np.arange(len(facts))
    roster = _roster(facts, roster_rng)
    export, roster_problems = _plant_roster_problems(_roster_export(roster), roster_rng)
    _write_excel(
        export.rename(columns=config.data.roster_columns.model_dump()),
        staging / config.data.roster,
    )
    survey_dir = staging / "surveys"
    survey_dir.mkdir()
    # participants whose roster number was mistyped: the roster cannot vouch for them
    unlinkable = frozenset(roster["personal_id"]) - {
        normalise_personnummer(v) for v in export["personal_id"]
    }
    planted = write_surveys(roster, survey_dir, roster_rng, EXPORT_DATE, unlinkable=unlinkable)
    truth = _truth(config, roster, np.vstack(effects), months, planted, final_dir)
    truth["planted_roster_problems"] = roster_problems
    return {
        "n_persons": settings.n_persons,
        "n_participants": len(roster),
        "n_person_months": n_rows,
        "truth": truth,
    }


def _persons_table(people: pd.DataFrame, cols) -> pa.Table:
    return pa.table(
        {
            cols.personal_id: pa.array(people["personal_id"].astype(str).tolist(), pa.string()),
            cols.birth_year: pa.array(people["birth_year"].to_numpy(), pa.int16()),
            cols.sex: pa.array(np.where(people["female"], 2, 1), pa.int8()),
            cols.region_of_birth: pa.array(people["region_of_birth"].tolist(), pa.string()),
            cols.immigration_year: pa.array(people["immigration_year"].astype("Int16"), pa.int16()),
            cols.education_level: pa.array(people["education_level"].to_numpy(), pa.int8()),
            cols.education_field: pa.array(people["education_field"].tolist(), pa.string()),
            cols.municipality: pa.array(people["municipality"].tolist(), pa.string()),
        }
    )


def _monthly_table(people: pd.DataFrame, history: ChunkHistory, months, cols) -> pa.Table:
    n, t = history.employed.shape
    ids = np.repeat(people["personal_id"].to_numpy().astype(str), t)
    month_codes = np.tile(np.array([m.year * 100 + m.month for m in months], np.int32), n)
    employed = history.employed.ravel()
    skill = history.skill_level.ravel()
    log_wage = np.repeat(people["log_wage"].to_numpy(), t)
    rng = np.random.default_rng(int(history.occupation_index.sum()) + n)
    wage = np.exp(log_wage + 0.1 * (skill - 2) + rng.normal(0, 0.05, size=n * t))
    earnings = np.where(employed == 1, np.round(wage, -2), 0).astype(np.int32)
    registers = np.repeat(people["registers_when_unemployed"].to_numpy(), t)
    part_time = rng.random(n * t) < 0.03
    category = np.where(employed == 0, np.where(registers, 11, 0), np.where(part_time, 21, 0))
    occupation = np.full(n * t, None, dtype=object)
    person_pick = np.repeat(history.occupation_index, t)
    for level, codes in OCCUPATIONS_BY_SKILL.items():
        here = skill == level
        occupation[here] = codes[person_pick[here] % len(codes)]
    return pa.table(
        {
            cols.personal_id: pa.array(ids, pa.string()),
            cols.month: pa.array(month_codes, pa.int32()),
            cols.employed: pa.array(employed, pa.int8()),
            cols.earnings: pa.array(earnings, pa.int32()),
            cols.jobseeker_category: pa.array(category, pa.int16(), mask=category == 0),
            cols.occupation: pa.array(occupation, pa.string()),
        }
    )


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


def _roster(facts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
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
        cohort=[f"{p.year}-{COHORT_START_MONTHS[p.month]}" for p in facts["start_period"]],
        city=facts["municipality"].map(MUNICIPALITY_NAMES),
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


def _roster_export(roster: pd.DataFrame) -> pd.DataFrame:
    """The roster as a programme would keep it: dashed numbers, Ja/Nej, dates without time."""
    out = roster[ROSTER_FIELDS].copy()
    out["personal_id"] = out["personal_id"].str[:8] + "-" + out["personal_id"].str[8:]
    for col in ("mentor_matched", "completed"):
        out[col] = np.where(out[col], "Ja", "Nej")
    out["start_date"] = out["start_date"].dt.date
    out["end_date"] = out["end_date"].dt.date
    return out


def _plant_roster_problems(
    export: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, list[dict]]:
    """Add what real rosters carry: rows entered twice, mistyped identity numbers, and people
    the register does not know (born after the register's youngest cohort)."""
    picks = rng.choice(len(export), size=4, replace=False)
    rows = export.to_dict("records")
    problems = {}
    for index in picks[2:]:  # mistyped: the last digit changed, so the Luhn check fails
        number = rows[index]["personal_id"]
        rows[index]["personal_id"] = number[:-1] + str((int(number[-1]) + 1) % 10)
        problems[id(rows[index])] = "invalid_id"
    for index in picks[:2]:  # entered twice: the second copy is the one to quarantine
        copy = dict(rows[index])
        rows.insert(rows.index(rows[index]) + 1, copy)
        problems[id(copy)] = "duplicate"
    for k in range(3):
        template = dict(rows[int(rng.integers(len(rows)))])
        number = make_personnummer(dt.date(2002, 1 + k, 10 + k), 100 + 2 * k)
        template.update(personal_id=number[:8] + "-" + number[8:],
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
    return {
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
            "eligibility": "foreign-born, age 20-64, in 0180/1480/1280/0380, "
            "not employed the month before start, not an earlier participant",
        },
        "planted_survey_problems": planted,
    }
