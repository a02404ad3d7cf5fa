"""Reducing the register to baseline rows and outcome paths, in SQL.

For every cohort start month, everyone eligible then becomes one baseline row (person x cohort):
participants of that cohort as treated, eligible non-participants as potential comparisons
with the cohort's start as their pseudo-start (dynamic, Sianesi-style pools). People who take
part in any cohort are kept out of every other cohort's comparison pool (documented rule; a
configurable alternative belongs to the comparison-group design).

Outcome paths (one row per baseline row and month relative to start) are written by DuckDB
straight to Parquet; pandas only ever holds the baseline table and aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

NATIVE_REGION = "Sweden"

# SSYK 2012 major group (first digit) -> occupational skill level (1-4).
SKILL_LEVEL_SQL = """CASE WHEN occupation IS NULL THEN NULL
    WHEN substr(occupation, 1, 1) IN ('1', '2') THEN 4
    WHEN substr(occupation, 1, 1) = '3' THEN 3
    WHEN substr(occupation, 1, 1) = '9' THEN 1
    ELSE 2 END"""
# Education level (Sun2000niva_old) -> lowest skill level counted as matching it.
REQUIRED_SKILL_SQL = """CASE WHEN education_level >= 5 THEN 3
    WHEN education_level >= 3 THEN 2 ELSE 1 END"""


@dataclass(frozen=True)
class Eligibility:
    """Who may be in a cohort's pool, evaluated at the cohort's start month."""

    min_age: int
    max_age: int
    foreign_born_only: bool
    not_employed_month_before: bool
    municipalities: list[str] | None

    def sql(self) -> str:
        """A SQL condition over the candidate columns."""
        parts = [f"age BETWEEN {int(self.min_age)} AND {int(self.max_age)}"]
        if self.foreign_born_only:
            parts.append(f"region_of_birth IS DISTINCT FROM '{NATIVE_REGION}'")
        if self.not_employed_month_before:
            parts.append("coalesce(employed_m1, 0) = 0")
        if self.municipalities:
            codes = ", ".join(f"'{code}'" for code in self.municipalities)
            parts.append(f"municipality IN ({codes})")
        return " AND ".join(parts)


def month_index(year: int, month: int) -> int:
    """Months since year 0, so that consecutive months differ by one."""
    return year * 12 + month - 1


def register_cohorts(con: duckdb.DuckDBPyConnection, participants: pd.DataFrame) -> pd.DataFrame:
    """Register the participants and their cohorts' start months in DuckDB.

    ``participants`` needs ``pid``, ``cohort`` and ``start_date``. A cohort starts in the month
    its earliest participant started.
    """
    start = pd.to_datetime(participants["start_date"])
    frame = participants.assign(start_index=start.dt.year * 12 + start.dt.month - 1)
    cohorts = (
        frame.groupby("cohort", as_index=False)["start_index"].min()
        .rename(columns={"start_index": "cohort_start"})
        .sort_values("cohort_start", ignore_index=True)
    )
    con.register("participant_list", frame[["pid", "cohort"]])
    con.register("cohorts", cohorts)
    return cohorts


def build_history(con: duckdb.DuckDBPyConnection) -> None:
    """Cumulative monthly counts per person, so windows become differences of two lookups."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE history AS
        SELECT m.person_key, m.month_index, m.employed, m.earnings, m.registered_unemployed,
               CAST(m.employed = 1 AND {SKILL_LEVEL_SQL} >= {REQUIRED_SKILL_SQL} AS INTEGER)
                 AS employed_matching,
               sum(m.employed) OVER w AS cum_employed,
               sum(m.earnings) OVER w AS cum_earnings,
               sum(CAST(m.registered_unemployed AS INTEGER)) OVER w AS cum_unemployed,
               count(*) OVER w AS cum_months
        FROM monthly m JOIN persons p USING (person_key)
        WINDOW w AS (PARTITION BY m.person_key ORDER BY m.month_index
                     ROWS UNBOUNDED PRECEDING)
        """
    )


def build_baseline(con: duckdb.DuckDBPyConnection, eligibility: Eligibility) -> pd.DataFrame:
    """One row per eligible person and cohort, with covariates measured before start.

    Returns
    -------
    DataFrame
        ``pid, cohort, cohort_start, treated`` and the baseline covariates: age, female,
        region_of_birth, years_since_immigration, education_level, education_field,
        municipality, employed_m1/m6/m12, months_employed_12/36, earnings_12 (SEK, last 12
        months), months_unemployed_12 and history_months_36 (months observed in the last 36).
    """
    lookups = {"m1": 1, "m6": 6, "m12": 12, "m13": 13, "m37": 37}
    joins = "\n".join(
        f"LEFT JOIN history {alias} ON {alias}.person_key = c.person_key "
        f"AND {alias}.month_index = c.cohort_start - {lag}"
        for alias, lag in lookups.items()
    )

    def window(column: str, length: int) -> str:
        end, before = "m1", f"m{length + 1}"
        return f"coalesce({end}.{column}, 0) - coalesce({before}.{column}, 0)"

    query = f"""
        WITH candidates AS (
            SELECT p.*, c.cohort, c.cohort_start,
                   c.cohort_start // 12 - p.birth_year AS age
            FROM persons p CROSS JOIN cohorts c
        ),
        measured AS (
            SELECT c.person_key, c.pid, c.cohort, c.cohort_start, c.age,
                   CAST(c.female AS INTEGER) AS female,
                   c.region_of_birth,
                   c.cohort_start // 12 - c.immigration_year AS years_since_immigration,
                   c.education_level, c.education_field, c.municipality,
                   m1.employed AS employed_m1, m6.employed AS employed_m6,
                   m12.employed AS employed_m12,
                   {window('cum_employed', 12)} AS months_employed_12,
                   {window('cum_employed', 36)} AS months_employed_36,
                   {window('cum_earnings', 12)} AS earnings_12,
                   {window('cum_unemployed', 12)} AS months_unemployed_12,
                   {window('cum_months', 36)} AS history_months_36
            FROM candidates c
            {joins}
        )
        SELECT m.*,
               pl.cohort IS NOT NULL AS treated
        FROM measured m
        LEFT JOIN participant_list pl ON pl.pid = m.pid AND pl.cohort = m.cohort
        WHERE ({eligibility.sql()})
          AND (pl.cohort IS NOT NULL
               OR m.pid NOT IN (SELECT pid FROM participant_list))
        ORDER BY m.cohort_start, m.pid
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE baseline AS {query}")
    return con.execute("SELECT * EXCLUDE (person_key) FROM baseline").df()


def participant_coverage(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many listed participants were found in the register and were eligible at start."""
    row = con.execute(
        """
        SELECT count(*) AS listed,
               count(*) FILTER (WHERE pl.pid IN (SELECT pid FROM persons)) AS in_register,
               count(*) FILTER (WHERE b.pid IS NOT NULL) AS eligible_at_start
        FROM participant_list pl
        LEFT JOIN baseline b ON b.pid = pl.pid AND b.cohort = pl.cohort AND b.treated
        """
    ).fetchone()
    listed, in_register, eligible = (int(v) for v in row)
    return {
        "participants_listed": listed,
        "participants_not_in_register": listed - in_register,
        "participants_not_eligible_at_start": in_register - eligible,
        "participants_in_analysis": eligible,
    }


def write_outcomes(con: duckdb.DuckDBPyConnection, path, pre_months: int, post_months: int) -> int:
    """Write outcome paths for every baseline row to Parquet; return the number of rows.

    Columns: ``pid, cohort, rel_month`` (month minus start month), ``employed``,
    ``earnings``, ``registered_unemployed``, ``employed_matching`` (employed in an occupation
    whose skill level is at least the one the person's education calls for).
    """
    target = str(path).replace("'", "''")
    con.execute(
        f"""
        COPY (
            SELECT b.pid, b.cohort, h.month_index - b.cohort_start AS rel_month,
                   h.employed, h.earnings,
                   CAST(h.registered_unemployed AS INTEGER) AS registered_unemployed,
                   h.employed_matching
            FROM baseline b
            JOIN history h ON h.person_key = b.person_key
             AND h.month_index BETWEEN b.cohort_start - {int(pre_months)}
                                   AND b.cohort_start + {int(post_months)}
            ORDER BY b.cohort_start, b.pid, rel_month
        ) TO '{target}' (FORMAT parquet, COMPRESSION zstd)
        """
    )
    return int(
        con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
    )
