"""Reducing the register to baseline rows and outcome paths, in SQL.

For every cohort start month, everyone eligible then becomes one baseline row (person x cohort):
participants of that cohort as treated, eligible non-participants as potential comparisons
with the cohort's start as their pseudo-start (dynamic, Sianesi-style pools). People who take
part in a later cohort are kept in earlier pools or left out of them, as the study configures
(``later_participants``, see :func:`build_baseline`); participants never serve as comparisons
for their own cohort or later ones.

A cohort starts in the month most of its participants started (ties: the earliest), so one
mistyped start date does not move a whole cohort; participants who started in another month
are counted.

Monthly panels may have gaps (months without a row). Windowed covariates (months employed,
earnings … over the last 12/24/36 months) are sums over the rows whose month lies in the
window, so a missing month simply adds nothing. Point-in-time indicators
(``employed_m1/m6/m12``) look up that exact month; a month without a row counts as not employed
(0). The month before start is looked up first, as it decides eligibility, and the windows are
summed only for the rows still eligible.

Outcome paths (one row per baseline row and month relative to start) are written by DuckDB
straight to Parquet, in no particular row order (sorting ~100 million rows would cost more than
the rest of the stage); pandas only ever holds the baseline table and aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.register.extract import OCCUPATION_TYPE, sql_list
from pipeline.register.outcomes import OUTCOMES

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
    women_only: bool = False
    min_education_level: int | None = None  # unknown education is then not eligible

    def static_sql(self) -> str:
        """Conditions on the person and the cohort only (no monthly history)."""
        parts = [f"age BETWEEN {int(self.min_age)} AND {int(self.max_age)}"]
        if self.foreign_born_only:
            parts.append("foreign_born")
        if self.women_only:
            parts.append("female")
        if self.min_education_level is not None:
            parts.append(f"education_level >= {int(self.min_education_level)}")
        if self.municipalities:
            parts.append(f"municipality IN {sql_list(str(code) for code in self.municipalities)}")
        return " AND ".join(parts)

    def history_sql(self) -> str:
        """Conditions on the monthly history before start."""
        return "employed_m1 = 0" if self.not_employed_month_before else "true"


def month_index(year, month):
    """Months since year 0, so that consecutive months differ by one (scalars or Series)."""
    return year * 12 + month - 1


def register_cohorts(
    con: duckdb.DuckDBPyConnection, participants: pd.DataFrame, time_unit: str = "month"
) -> pd.DataFrame:
    """Register the participants and their cohorts' start months in DuckDB.

    ``participants`` needs ``pid``, ``cohort`` and ``start_date``. A cohort starts in the month
    most of its participants started (the mode; ties go to the earliest month). With an annual
    register (``time_unit="year"``, one row per year at December: the status at the end of the
    year) a cohort starts in January of the year most of its participants started, so the last
    status before start is the end of the year before and year ``k`` after start is read at
    month ``12 k - 1``.

    Returns
    -------
    DataFrame
        ``cohort, cohort_start`` (month index), ``n_participants`` and
        ``n_started_other_month`` (participants whose start date lies in another month than
        their cohort's start, or is missing), sorted by start.
    """
    if time_unit not in ("month", "year"):
        raise ValueError(f"time_unit must be 'month' or 'year', got {time_unit!r}")
    start = pd.to_datetime(participants["start_date"])
    first_month = start.dt.month if time_unit == "month" else 1
    frame = participants.assign(start_index=month_index(start.dt.year, first_month))
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


def build_history(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The monthly history as outcomes use it: the view ``history``.

    ``history`` has the columns of ``monthly`` (one row per person and month present; gaps stay
    gaps) and ``employed_matching``: employed in an occupation whose skill level is at least
    the one the person's education calls for. It is a view, so the monthly data is held only
    once; calling this again changes nothing. A register that records no occupation at all
    (Finnish FOLK data) cannot tell a matching job: ``employed_matching`` is then missing in
    every row, not 0 for the months without a job.

    Returns
    -------
    tuple of str
        The outcomes (of :data:`~pipeline.register.outcomes.OUTCOMES`) this register records;
        the estimate stage estimates only those.
    """
    skill = _skill_level_sql(con)
    matching = (f"CAST(m.employed = 1 AND {skill} >= {REQUIRED_SKILL_SQL} AS INTEGER)"
                if skill is not None else "CAST(NULL AS INTEGER)")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW history AS
        SELECT m.person_key, m.month_index, m.employed, m.earnings, m.registered_unemployed,
               m.occupation, {matching} AS employed_matching
        FROM monthly m JOIN persons p USING (person_key)
        """
    )
    return OUTCOMES if skill is not None else tuple(
        name for name in OUTCOMES if name != "employed_matching")


def _skill_level_sql(con: duckdb.DuckDBPyConnection) -> str | None:
    """SQL for the skill level of ``m.occupation``, looked up by the code's position (None
    when the register holds no occupation code).

    ``occupation`` is an ENUM of the few hundred codes the register holds (see
    :func:`~pipeline.register.extract.open_register`). Deriving the level from the code's text
    for each of the ~100 million outcome rows costs more than looking it up in a list of the
    codes' levels, computed once here.
    """
    levels = [row[0] for row in con.execute(
        f"SELECT {SKILL_LEVEL_SQL} FROM "
        f"(SELECT unnest(enum_range(NULL::{OCCUPATION_TYPE})) AS occupation)"
    ).fetchall()]
    if not levels:
        return None
    listed = ", ".join(str(level) for level in levels)
    # enum_code is the 0-based position; a missing occupation gives NULL, as the CASE does.
    return f"CAST([{listed}] AS INTEGER[])[enum_code(m.occupation) + 1]"


# Windows of history before start, in months: months employed over each, earnings and months
# registered unemployed over the first, months with a row over the last.
WINDOWS = (12, 24, 36)
# Point-in-time lookups of exactly ``cohort_start - lag`` (lag 1 decides eligibility).
EXACT = (1, 6, 12)


LATER_PARTICIPANTS = ("exclude", "keep")


def build_baseline(
    con: duckdb.DuckDBPyConnection, eligibility: Eligibility, later_participants: str = "exclude"
) -> pd.DataFrame:
    """One row per eligible person and cohort, with covariates measured before start.

    Parameters
    ----------
    con : duckdb connection
        With ``persons``, ``monthly``, ``cohorts`` and ``participant_list``.
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
        history_months_36 (months with a row in the last 36), then ``treated``; sorted by
        ``cohort_start, pid``. DuckDB keeps the keys of these rows as the table ``baseline``
        (``person_key, pid, cohort, cohort_start, treated``), which
        :func:`participant_coverage` and :func:`write_outcomes` read.
    """
    if later_participants not in LATER_PARTICIPANTS:
        raise ValueError(
            f"later_participants must be one of {list(LATER_PARTICIPANTS)}, "
            f"got {later_participants!r}"
        )
    _build_pool(con, eligibility, later_participants)
    _build_windows(con)
    # Straight from the query to Arrow to pandas: DuckDB's own conversion to pandas makes a
    # Python object of every text value on the way, which at a national scale costs a
    # gigabyte more at its peak, and a full copy kept in DuckDB would cost another 300 MB.
    frame = con.sql(
        f"""
        SELECT p.pid, c.cohort, c.cohort_start, c.age,
               CAST(p.female AS INTEGER) AS female,
               p.region_of_birth,
               c.cohort_start // 12 - p.immigration_year AS years_since_immigration,
               CAST(p.education_level AS VARCHAR) AS education_level,
               p.education_field, p.municipality,
               c.employed_m1,
               coalesce(w.employed_m6, 0) AS employed_m6,
               coalesce(w.employed_m12, 0) AS employed_m12,
               -- counts as DOUBLE: the dtypes baseline.parquet had before
               {_window_sum('months_employed_12', 'DOUBLE')},
               {_window_sum('months_employed_24', 'DOUBLE')},
               {_window_sum('months_employed_36', 'DOUBLE')},
               {_window_sum('earnings_12', 'DOUBLE')},
               {_window_sum('months_unemployed_12', 'DOUBLE')},
               {_window_sum('history_months_36', 'BIGINT')},
               c.treated
        FROM pool c
        JOIN persons p USING (person_key)
        LEFT JOIN windows w USING (person_key, cohort_start)
        ORDER BY c.cohort_start, p.pid
        """
    ).to_arrow_table().to_pandas()
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE baseline AS
        SELECT c.person_key, p.pid, c.cohort, c.cohort_start, c.treated
        FROM pool c JOIN persons p USING (person_key)
        """
    )
    con.execute("DROP TABLE pool")
    con.execute("DROP TABLE windows")
    return frame


def _build_pool(
    con: duckdb.DuckDBPyConnection, eligibility: Eligibility, later_participants: str
) -> None:
    """Create ``pool``: the eligible person x cohort rows, with ``age``, ``treated`` and
    ``employed_m1``.

    The conditions on the person come first, then the month before start (the one history
    condition), so the windows are only summed for the rows that remain.
    """
    pool_rule = "first_start > cohort_start" if later_participants == "keep" else "false"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE pool AS
        WITH listed AS (  -- participants found in the register, by their integer key
            SELECT DISTINCT p.person_key, l.cohort
            FROM participant_list l JOIN persons p USING (pid)
        ),
        first_start AS (
            SELECT l.person_key, min(c.cohort_start) AS first_start
            FROM listed l JOIN cohorts c USING (cohort) GROUP BY l.person_key
        ),
        crossed AS (
            SELECT p.person_key, p.foreign_born, p.female, p.education_level, p.municipality,
                   c.cohort, c.cohort_start,
                   c.cohort_start // 12 - p.birth_year AS age,
                   l.cohort IS NOT NULL AS treated,
                   f.first_start
            FROM persons p CROSS JOIN cohorts c
            LEFT JOIN listed l ON l.person_key = p.person_key AND l.cohort = c.cohort
            LEFT JOIN first_start f ON f.person_key = p.person_key
        ),
        candidates AS (
            SELECT person_key, cohort, cohort_start, age, treated FROM crossed
            WHERE ({eligibility.static_sql()})
              AND (treated OR first_start IS NULL OR {pool_rule})
        ),
        -- only the months before some cohort's start are looked up
        month_before AS (
            SELECT person_key, month_index, employed FROM monthly
            WHERE month_index IN (SELECT cohort_start - 1 FROM cohorts)
        )
        SELECT c.*, coalesce(m.employed, 0) AS employed_m1
        FROM candidates c
        LEFT JOIN month_before m
          ON m.person_key = c.person_key AND m.month_index = c.cohort_start - 1
        WHERE {eligibility.history_sql()}
        """
    )


def _build_windows(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``windows``: sums over the months before start for every person and start month
    in ``pool`` (no row where none of the last 36 months has a row).

    A window of L months is the rows with ``cohort_start - L <= month_index < cohort_start``,
    so a month without a row adds nothing; an exact month without a row gives NULL.
    """
    longest = max(WINDOWS)
    exact = "\n".join(
        f"max(m.employed) FILTER (WHERE m.month_index = s.cohort_start - {lag}) "
        f"AS employed_m{lag},"
        for lag in EXACT if lag != 1  # employed_m1 is in pool already
    )
    employed = "\n".join(
        f"sum(m.employed) FILTER (WHERE m.month_index >= s.cohort_start - {length}) "
        f"AS months_employed_{length},"
        for length in WINDOWS
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE windows AS
        SELECT s.person_key, s.cohort_start,
               {exact}
               {employed}
               sum(m.earnings) FILTER (WHERE m.month_index >= s.cohort_start - 12)
                 AS earnings_12,
               sum(CAST(m.registered_unemployed AS INTEGER))
                 FILTER (WHERE m.month_index >= s.cohort_start - 12) AS months_unemployed_12,
               count(*) AS history_months_{longest}
        -- one row per person and start month, even if two cohorts start in the same month
        FROM (SELECT DISTINCT person_key, cohort_start FROM pool) s
        JOIN monthly m
          ON m.person_key = s.person_key
         AND m.month_index BETWEEN s.cohort_start - {longest} AND s.cohort_start - 1
        GROUP BY s.person_key, s.cohort_start
        """
    )


def _window_sum(column: str, kind: str) -> str:
    """A column of ``windows`` as ``kind``, 0 where the window has no row."""
    return f"CAST(coalesce(w.{column}, 0) AS {kind}) AS {column}"


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
    whose skill level is at least the one the person's education calls for). One row per
    baseline row and month of ``history`` within the window, in no particular order: readers
    join on ``pid, cohort, rel_month``.
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
        ) TO '{target}' (FORMAT parquet, COMPRESSION zstd)
        """
    )
    return int(
        con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchall()[0][0]
    )


def last_month(con: duckdb.DuckDBPyConnection) -> int | None:
    """The register's last month with any monthly row (month index), or None if it has none:
    the data vintage a report states."""
    value = con.execute("SELECT max(month_index) FROM monthly").fetchone()[0]
    return None if value is None else int(value)
