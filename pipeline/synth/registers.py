"""Writing a synthetic world's register in the shape each country delivers it.

The labour market is simulated month by month in every country
(:mod:`pipeline.synth.labour_market`); what differs is how a research extract arrives:

- Sweden (``canonical``): a LISA-like person table and a monthly table (``persons.parquet``,
  ``monthly.parquet``, column names from the study configuration);
- Denmark: BEF-style population data (``bef.parquet``), a wide DREAM table of one benefit
  code per person and ISO week (``dream.parquet``, columns ``y_YYWW``) and eIndkomst-style
  monthly wages per employer (``eindkomst.parquet``), as :mod:`pipeline.register.denmark`
  reads them;
- Finland: FOLK-style annual data, one row per person and year with the main activity at the
  end of the year (``ptoim1``) and the year's wage income (``folk.parquet``), as
  :mod:`pipeline.register.finland` reads it.

Each writer takes the world chunk by chunk, so a large world never needs more memory than one
chunk, and writes with fixed row-group sizes so the same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.synth.labour_market import OCCUPATIONS_BY_SKILL, ChunkHistory

# Danish DREAM codes written: 111 (unemployment benefit, openly unemployed) in the weeks of a
# registered-unemployed month; 890 (sickness benefit) overwrites some of those weeks, as
# DREAM's priority rule does when both meet in a week.
DREAM_UNEMPLOYED = "111"
DREAM_SICK = "890"
SICK_WEEK_SHARE = 0.06
# Sun2000niva_old level -> an HFAUDD code whose main group the Danish adapter maps back.
HFAUDD_BY_LEVEL = {1: "1010", 2: "1010", 3: "2010", 4: "3510", 5: "4010", 6: "6010", 7: "8010"}
# Sun2000niva_old level -> FOLK ututku_aste (level of the highest degree; none below upper
# secondary).
FOLK_EDUCATION_BY_LEVEL = {1: None, 2: None, 3: 3, 4: 3, 5: 5, 6: 6, 7: 8}
# SUN 2000 broad field (first digit) -> ISCED-F 2013 broad field, as FOLK's iala codes it.
ISCED_F_BROAD = {"1": "01", "2": "02", "3": "04", "4": "06", "5": "07", "6": "08", "7": "09",
                 "8": "10"}
SEK_PER_UNIT = {"se": 1.0, "dk": 1.45, "fi": 11.5}  # synthetic wages in DKK and EUR


class RegisterWriter:
    """Writes one country's register files chunk by chunk; :meth:`close` when done."""

    def __init__(self, folder: Path, files: dict[str, str]):
        self.folder = folder
        self.files = files
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.n_rows = 0

    def _write(self, role: str, table: pa.Table) -> None:
        writer = self._writers.get(role)
        if writer is None:
            path = self.folder / self.files[role]
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = self._writers[role] = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=1_000_000)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()

    def write(self, people: pd.DataFrame, ids: np.ndarray, history: ChunkHistory,
              months: pd.PeriodIndex) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def monthly_earnings(people: pd.DataFrame, history: ChunkHistory,
                     rng: np.random.Generator | None = None) -> np.ndarray:
    """Gross monthly wages in SEK (persons x months): zero when not employed.

    ``rng`` defaults to one seeded from the chunk, so every writer draws the same wages.
    """
    n, t = history.employed.shape
    rng = rng or _chunk_rng(history)
    log_wage = people["log_wage"].to_numpy()[:, None]
    wage = np.exp(log_wage + 0.1 * (history.skill_level - 2) + rng.normal(0, 0.05, size=(n, t)))
    return np.where(history.employed == 1, np.round(wage, -2), 0).astype(np.int64)


def _chunk_rng(history: ChunkHistory) -> np.random.Generator:
    return np.random.default_rng(int(history.occupation_index.sum()) + len(history.employed))


def occupations(history: ChunkHistory) -> np.ndarray:
    """The occupation code of every person-month (None when not employed)."""
    n, t = history.employed.shape
    skill = history.skill_level.ravel()
    occupation = np.full(n * t, None, dtype=object)
    person_pick = np.repeat(history.occupation_index, t)
    for level, codes in OCCUPATIONS_BY_SKILL.items():
        here = skill == level
        occupation[here] = codes[person_pick[here] % len(codes)]
    return occupation.reshape(n, t)


class SwedishWriter(RegisterWriter):
    """LISA-like ``persons`` and ``monthly`` tables under the configured column names."""

    def __init__(self, folder: Path, files: dict[str, str], person_columns, monthly_columns):
        super().__init__(folder, files)
        self.pcols, self.mcols = person_columns, monthly_columns

    def write(self, people, ids, history, months) -> None:
        cols = self.pcols
        self._write("persons", pa.table({
            cols.personal_id: pa.array(ids.astype(str).tolist(), pa.string()),
            cols.birth_year: pa.array(people["birth_year"].to_numpy(), pa.int16()),
            cols.sex: pa.array(np.where(people["female"], 2, 1), pa.int8()),
            cols.region_of_birth: pa.array(people["region_of_birth"].tolist(), pa.string()),
            cols.immigration_year: pa.array(people["immigration_year"].astype("Int16"),
                                            pa.int16()),
            cols.education_level: pa.array(people["education_level"].to_numpy(), pa.int8()),
            cols.education_field: pa.array(people["education_field"].tolist(), pa.string()),
            cols.municipality: pa.array(people["municipality"].tolist(), pa.string()),
        }))
        n, t = history.employed.shape
        employed = history.employed.ravel()
        rng = _chunk_rng(history)
        earnings = monthly_earnings(people, history, rng)  # then part-time from the same rng
        registers = np.repeat(people["registers_when_unemployed"].to_numpy(), t)
        part_time = rng.random(n * t) < 0.03
        category = np.where(employed == 0, np.where(registers, 11, 0),
                            np.where(part_time, 21, 0))
        cols = self.mcols
        table = pa.table({
            cols.personal_id: pa.array(np.repeat(ids.astype(str), t), pa.string()),
            cols.month: pa.array(np.tile(_month_codes(months), n), pa.int32()),
            cols.employed: pa.array(employed, pa.int8()),
            cols.earnings: pa.array(earnings.ravel(), pa.int32()),
            cols.jobseeker_category: pa.array(category, pa.int16(), mask=category == 0),
            cols.occupation: pa.array(occupations(history).ravel(), pa.string()),
        })
        self._write("monthly", table)
        self.n_rows += table.num_rows


class DanishWriter(RegisterWriter):
    """BEF population, wide DREAM weekly codes and eIndkomst monthly wages."""

    def __init__(self, folder: Path, files: dict[str, str], months: pd.PeriodIndex):
        super().__init__(folder, files)
        self.weeks = dream_weeks(months)

    def write(self, people, ids, history, months) -> None:
        n, t = history.employed.shape
        rng = np.random.default_rng(int(history.occupation_index.sum()) + 11 * n)
        native = people["region_idx"].to_numpy() == 0
        immigration = people["immigration_year"].to_numpy()
        arrival = [None if np.isnan(y) else dt.date(int(y), 1, 1) + dt.timedelta(days=int(d))
                   for y, d in zip(immigration, rng.integers(0, 365, n), strict=True)]
        self._write("population", pa.table({
            "PNR": pa.array(ids.astype(str).tolist(), pa.string()),
            "KOEN": pa.array(np.where(people["female"], 2, 1), pa.int8()),
            "FOED_DAG": pa.array(pd.to_datetime(people["birth_date"]).dt.date.tolist(),
                                 pa.date32()),
            "OPR_LAND": pa.array(people["region_of_birth"].tolist(), pa.string()),
            "IE_TYPE": pa.array(np.where(native, 1, 2), pa.int8()),
            "KOM": pa.array(people["municipality"].astype(int).tolist(), pa.int16()),
            "HFAUDD": pa.array([HFAUDD_BY_LEVEL[int(v)] for v in people["education_level"]],
                               pa.string()),
            "IND_DATO": pa.array(arrival, pa.date32()),
        }))
        # DREAM: every week of a registered-unemployed month carries 111, some overwritten by
        # a sickness-benefit week (890); other weeks are empty (self-support).
        unemployed = (history.employed == 0) & people["registers_when_unemployed"].to_numpy()[
            :, None]
        month_of = {period: i for i, period in enumerate(months)}
        columns = {"PNR": pa.array(ids.astype(str).tolist(), pa.string())}
        for (year, week), month in self.weeks.items():
            status = unemployed[:, month_of[month]]
            sick = rng.random(n) < SICK_WEEK_SHARE
            code = np.where(status, np.where(sick, DREAM_SICK, DREAM_UNEMPLOYED), None)
            columns[f"y_{year % 100:02d}{week:02d}"] = pa.array(code.tolist(), pa.string())
        self._write("dream", pa.table(columns))
        earnings = np.round(monthly_earnings(people, history) / SEK_PER_UNIT["dk"], -1)
        person, month = np.nonzero(history.employed == 1)
        occupation = occupations(history)
        table = pa.table({
            "PNR": pa.array(ids.astype(str)[person].tolist(), pa.string()),
            "month": pa.array([str(months[m]) for m in month], pa.string()),
            "employer": pa.array((history.occupation_index[person] % 97 + 10_000).tolist(),
                                 pa.int32()),
            "wage": pa.array(earnings[person, month].tolist(), pa.float64()),
            "occupation": pa.array(occupation[person, month].tolist(), pa.string()),
        })
        self._write("wages", table)
        self.n_rows += table.num_rows


class FinnishWriter(RegisterWriter):
    """FOLK-style annual rows: the main activity at the end of each year and its wage income."""

    def write(self, people, ids, history, months) -> None:
        n, t = history.employed.shape
        earnings = monthly_earnings(people, history) / SEK_PER_UNIT["fi"]
        # one row per year whose December the world holds (the status at the end of the year)
        decembers = {m.year: i for i, m in enumerate(months) if m.month == 12}
        years = np.array([m.year for m in months])
        registers = people["registers_when_unemployed"].to_numpy()
        birth_year = people["birth_year"].to_numpy()
        frames = []
        for year, december in decembers.items():
            in_year = years == year
            employed = history.employed[:, december] == 1
            activity = np.select(
                [employed, registers, (year - birth_year) < 30], [11, 12, 22], default=29
            )
            frames.append(pd.DataFrame({
                "hetu": ids.astype(str),
                "vuosi": year,
                "ptoim1": activity,
                "palk": np.round(earnings[:, in_year].sum(axis=1), 0),
                "sp": np.where(people["female"], 2, 1),
                "syntyv": birth_year,
                "maa": people["region_of_birth"].to_numpy(),
                "syntyp2": np.where(people["region_idx"].to_numpy() == 0, 11, 22),
                "kunta": people["municipality"].to_numpy(),
                "ututku_aste": [FOLK_EDUCATION_BY_LEVEL[int(v)]
                                for v in people["education_level"]],
                "iala": [ISCED_F_BROAD[field[0]] for field in people["education_field"]],
                "muuttovuosi": people["immigration_year"].astype("Int16"),
            }))
        table = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), preserve_index=False)
        self._write("folk", table)
        self.n_rows += table.num_rows


def dream_weeks(months: pd.PeriodIndex) -> dict[tuple[int, int], pd.Period]:
    """Every ISO week whose Thursday lies in one of ``months``, with that month (the rule the
    Danish adapter reduces weeks by)."""
    first = months[0].to_timestamp().date()
    last = months[-1].to_timestamp(how="end").date()
    monday = first - dt.timedelta(days=first.weekday())
    weeks = {}
    while monday <= last:
        thursday = monday + dt.timedelta(days=3)
        period = pd.Period(thursday, freq="M")
        if months[0] <= period <= months[-1]:
            year, week, _ = thursday.isocalendar()
            weeks[(year, week)] = period
        monday += dt.timedelta(days=7)
    return weeks


def _month_codes(months: pd.PeriodIndex) -> np.ndarray:
    return np.array([m.year * 100 + m.month for m in months], np.int32)
