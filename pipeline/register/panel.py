"""Reducing the register to baseline rows and outcome paths, in SQL.

For every cohort start month, everyone eligible then becomes one baseline row (person x cohort):
participants of that cohort as treated, eligible non-participants as potential comparisons
with the cohort's start as their pseudo-start (dynamic, Sianesi-style pools). People who take
part in any cohort are kept out of every other cohort's comparison pool (documented rule; a
configurable alternative belongs to the comparison-group design).

A cohort starts in the month most of its participants started (ties: the earliest), so one
mistyped start date does not move a whole cohort; participants who started in another month
are counted.

Monthly panels may have gaps (months without a row). Windowed covariates (months employed,
earnings … over the last 12/24/36 months) are differences of cumulative sums taken from the
last history row at or before each window edge (ASOF joins), so a missing month simply adds
nothing. Point-in-time indicators (``employed_m1/m6/m12``) look up that exact month; a month
without a row counts as not employed (0).

Outcome paths (one row per baseline row and month relative to start) are written by DuckDB
straight to Parquet; pandas only ever holds the baseline table and aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.register.extract import sql_list

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
    """Who may be in a cohort's pool, evaluated at the cohort's start month.

    Foreign-born means a region of birth outside ``data.register.codes.native_born_regions``
    (the ``foreign_born`` column that :func:`~pipeline.register.extract.open_register` derives).
    """

    min_age: int
    max_age: int
    foreign_born_only: bool
    not_employed_month_before: bool
    municipalities: list[str] | None

    def static_sql(self) -> str:
        """Conditions on the person and the cohort only (no monthly history)."""
        parts = [f"age BETWEEN {int(self.min_age)} AND {int(self.max_age)}"]
        if self.foreign_born_only:
            parts.append("foreign_born")
        if self.municipalities:
            parts.append(f"municipality IN {sql_list(str(code) for code in self.municipalities)}")
        return " AND ".join(parts)

    def history_sql(self) -> str:
        """Conditions on the monthly history before start."""
        return "employed_m1 = 0" if self.not_employed_month_before else "true"


def month_index(year, month):
    """Months since year 0, so that consecutive months differ by one (scalars or Series)."""
    return year * 12 + month - 1


def register_cohorts(con: duckdb.DuckDBPyConnection, participants: pd.DataFrame) -> pd.DataFrame:
    """Register the participants and their cohorts' start months in DuckDB.

    ``participants`` needs ``pid``, ``cohort`` and ``start_date``. A cohort starts in the month
    most of its participants started (the mode; ties go to the earliest month).

    Returns
    -------
    DataFrame
        ``cohort, cohort_start`` (month index), ``n_participants`` and
        ``n_started_other_month`` (participants whose start date lies in another month than
        their cohort's start, or is missing), sorted by start.
    """
    start = pd.to_datetime(participants["start_date"])
    frame = participants.assign(start_index=month_index(start.dt.year, start.dt.month))
    per_month = (
        frame.dropna(subset=["start_index"])
        .groupby(["cohort", "start_index"], as_index=False).size()
        .sort_values(["cohort", "size", "start_index"], ascending=[True, False, True])
        .drop_duplicates("cohort")
    )
    cohorts = pd.DataFrame({
        "cohort": per_month["cohort"].to_numpy(),
        "cohort_start": per_month["start_index"].astype("int32").to_numpy(),
    })
    start_of = frame["cohort"].map(cohorts.set_index("cohort")["cohort_start"])
    other = frame.assign(other=~(frame["start_index"] == start_of))
    counts = other.groupby("cohort").agg(
        n_participants=("pid", "size"), n_started_other_month=("other", "sum")
    )
    cohorts = (
        cohorts.join(counts, on="cohort")
        .astype({"n_participants": "int64", "n_started_other_month": "int64"})
        .sort_values(["cohort_start", "cohort"], ignore_index=True)
    )
    con.register("participant_list", frame[["pid", "cohort"]])
    con.register("cohorts", cohorts)
    return cohorts


def build_history(con: duckdb.DuckDBPyConnection) -> None:
    """Cumulative monthly counts per person, so windows become differences of two lookups.

    ``history`` has one row per person and month present in ``monthly`` (gaps stay gaps); its
    ``cum_*`` columns sum everything up to and including the row's month. To hold the monthly
    data only once, the ``monthly`` table is then replaced by a view on ``history`` with the
    same columns. Calling this again leaves ``history`` as it is.
    """
    monthly_is_table = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'monthly' AND temporary"
    ).fetchall()[0][0]
    if not monthly_is_table:  # already folded into history
        return
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE history AS
        SELECT m.person_key, m.month_index, m.employed, m.earnings, m.registered_unemployed,
               m.occupation,
               CAST(m.employed = 1 AND {SKILL_LEVEL_SQL} >= {REQUIRED_SKILL_SQL} AS INTEGER)
                 AS employed_matching,
               CAST(sum(m.employed) OVER w AS INTEGER) AS cum_employed,
               sum(m.earnings) OVER w AS cum_earnings,
               CAST(sum(CAST(m.registered_unemployed AS INTEGER)) OVER w AS INTEGER)
                 AS cum_unemployed,
               CAST(count(*) OVER w AS INTEGER) AS cum_months
        FROM monthly m JOIN persons p USING (person_key)
        WINDOW w AS (PARTITION BY m.person_key ORDER BY m.month_index
                     ROWS UNBOUNDED PRECEDING)
        """
    )
    con.execute("DROP TABLE monthly")
    con.execute(
        """
        CREATE TEMP VIEW monthly AS
        SELECT person_key, month_index, employed, earnings, registered_unemployed, occupation
        FROM history
        """
    )


# Window edges, each looked up as the last history row at or before ``cohort_start - lag``.
EDGES = (1, 13, 25, 37)
# Point-in-time lookups of exactly ``cohort_start - lag`` (lag 1 comes from the first edge).
EXACT = (6, 12)


LATER_PARTICIPANTS = ("exclude", "keep")


def build_baseline(
    con: duckdb.DuckDBPyConnection, eligibility: Eligibility, later_participants: str = "exclude"
) -> pd.DataFrame:
    """One row per eligible person and cohort, with covariates measured before start.

    Parameters
    ----------
    con : duckdb connection
        With ``persons``, ``history``, ``cohorts`` and ``participant_list``.
    eligibility : Eligibility
        Who may be in a cohort's pool.
    later_participants : {"exclude", "keep"}
        People who join a later cohort: ``"exclude"`` keeps them out of every earlier pool
        (comparisons then never take part, which conditions on the future); ``"keep"`` leaves
        them in earlier pools as non-participants at that moment (Sianesi: the comparison is
        with not taking part *now*). Participants of a cohort never serve as comparisons for
        it or for later cohorts.

    Returns
    -------
    DataFrame
        ``pid, cohort, cohort_start`` and the baseline covariates: age, female,
        region_of_birth, years_since_immigration, education_level (the level's code as text:
        an ordered category, not a quantity, so models give each level its own term),
        education_field,
        municipality, employed_m1/m6/m12 (0 when that month has no row),
        months_employed_12/24/36, earnings_12 (SEK, last 12 months), months_unemployed_12 and
        history_months_36 (months with a row in the last 36), then ``treated``.
    """
    # All window edges go through one ASOF join (one sort of the history instead of four) and
    # are pivoted back to one row per candidate.
    lags = ", ".join(str(lag) for lag in EDGES)
    edge_columns = ",\n".join(
        f"max(h.{column}) FILTER (WHERE e.lag = {lag}) AS {column}_e{lag}"
        for lag in EDGES
        for column in ("cum_employed", "cum_earnings", "cum_unemployed", "cum_months")
    )
    exact = "\n".join(
        f"LEFT JOIN history m{lag} ON m{lag}.person_key = c.person_key "
        f"AND m{lag}.month_index = c.cohort_start - {lag}"
        for lag in EXACT
    )

    def window(column: str, length: int) -> str:
        return f"coalesce(d.{column}_e1, 0) - coalesce(d.{column}_e{length + 1}, 0)"

    if later_participants not in LATER_PARTICIPANTS:
        raise ValueError(
            f"later_participants must be one of {list(LATER_PARTICIPANTS)}, "
            f"got {later_participants!r}"
        )
    pool_rule = "first_start > cohort_start" if later_participants == "keep" else "false"

    query = f"""
        WITH listed AS (SELECT DISTINCT pid, cohort FROM participant_list),
        first_start AS (
            SELECT l.pid, min(c.cohort_start) AS first_start
            FROM listed l JOIN cohorts c USING (cohort) GROUP BY l.pid
        ),
        crossed AS (
            SELECT p.*, c.cohort, c.cohort_start,
                   c.cohort_start // 12 - p.birth_year AS age,
                   l.cohort IS NOT NULL AS treated,
                   f.first_start
            FROM persons p CROSS JOIN cohorts c
            LEFT JOIN listed l ON l.pid = p.pid AND l.cohort = c.cohort
            LEFT JOIN first_start f ON f.pid = p.pid
        ),
        candidates AS (
            SELECT * EXCLUDE (first_start) FROM crossed
            WHERE ({eligibility.static_sql()})
              AND (treated OR first_start IS NULL OR {pool_rule})
        ),
        edges AS (
            SELECT person_key, cohort_start, unnest([{lags}]) AS lag FROM candidates
        ),
        at_edges AS (
            SELECT e.person_key, e.cohort_start,
                   max(h.employed) FILTER (WHERE e.lag = 1 AND h.month_index = e.cohort_start - 1)
                     AS employed_m1,
                   {edge_columns}
            FROM edges e
            ASOF LEFT JOIN history h
              ON h.person_key = e.person_key AND h.month_index <= e.cohort_start - e.lag
            GROUP BY e.person_key, e.cohort_start
        ),
        measured AS (
            SELECT c.person_key, c.pid, c.cohort, c.cohort_start, c.age,
                   CAST(c.female AS INTEGER) AS female,
                   c.region_of_birth,
                   c.cohort_start // 12 - c.immigration_year AS years_since_immigration,
                   CAST(c.education_level AS VARCHAR) AS education_level,
                   c.education_field, c.municipality,
                   coalesce(d.employed_m1, 0) AS employed_m1,
                   coalesce(m6.employed, 0) AS employed_m6,
                   coalesce(m12.employed, 0) AS employed_m12,
                   -- counts as DOUBLE: the dtypes baseline.parquet had before
                   CAST({window('cum_employed', 12)} AS DOUBLE) AS months_employed_12,
                   CAST({window('cum_employed', 24)} AS DOUBLE) AS months_employed_24,
                   CAST({window('cum_employed', 36)} AS DOUBLE) AS months_employed_36,
                   CAST({window('cum_earnings', 12)} AS DOUBLE) AS earnings_12,
                   CAST({window('cum_unemployed', 12)} AS DOUBLE) AS months_unemployed_12,
                   CAST({window('cum_months', 36)} AS BIGINT) AS history_months_36,
                   c.treated
            FROM candidates c
            JOIN at_edges d ON d.person_key = c.person_key AND d.cohort_start = c.cohort_start
            {exact}
        )
        SELECT * FROM measured
        WHERE {eligibility.history_sql()}
        ORDER BY cohort_start, pid
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
    ).fetchall()[0]
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
        con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchall()[0][0]
    )
