"""Danish register data (DREAM, eIndkomst, BEF) turned into the pipeline's canonical extracts.

Danish research extracts arrive keyed by CPR number in three shapes that the register stage
(:mod:`pipeline.register.extract`) does not read directly: a DREAM-style table of one benefit
code per person and week, eIndkomst-style monthly wages (per employer), and BEF-style population
data. :func:`build_extracts` reduces them, in DuckDB, to the two files the register stage reads
for every country: ``persons`` (one row per person) and ``monthly`` (one row per person and
calendar month), and returns the study-configuration mapping that points at them
(:attr:`DanishExtracts.person_columns`, :attr:`~DanishExtracts.monthly_columns`,
:attr:`~DanishExtracts.codes`, or :meth:`DanishExtracts.register_settings` for the whole
``data.register`` section). Everything downstream is unchanged. :func:`dream_months`,
:func:`wage_months` and :func:`population_persons` reduce one input on its own (small tables,
tests); :func:`iso_week_month` is the week-to-month rule.

The files hold raw CPR numbers, as a Swedish LISA extract holds personnummer: the register stage
normalises and pseudonymises them itself. Write them beside the other raw data
(``data_raw/<study>/register/``), never under ``data_processed/``. No CPR number is printed,
logged, put in an error message or in the quarantine table: rows are named by their number.

Inputs
------
Each input is a pandas DataFrame, a pyarrow Table or a file (Parquet, CSV, SAS ``.sas7bdat``,
Stata ``.dta``, read as :func:`pipeline.register.formats.open_extract` reads register files:
CSV as text, whatever the delimiter and encoding). Column names are matched case-insensitively;
the person number is the column ``PNR`` or ``CPR``.

* **DREAM**, wide: the person number and one column ``y_YYWW`` per week (two-digit year, ISO
  week: ``y_9201`` is 1992-W01). Years ``91``-``99`` are 1991-1999, ``00``-``90`` 2000-2090
  (DREAM starts in mid-1991). Monthly DREAM columns ``grad_YYYY_MM`` and ``branche_YYYY_MM``
  are left out (listed in the accounting); any other column is an error unless named in
  ``ignore_columns``. **Long**: ``PNR, year_week, code`` with the week as ``YYWW`` (as in the
  column names, ``y_`` allowed), ``YYYYWW`` or ``YYYY-Www``. A long extract lists the weeks
  with a code; a person-week it does not list has no code, and a second row for the same
  person and week is quarantined (``duplicate_week``): DREAM holds one code per week.
  Only the weeks of the panel's months are read and checked (DREAM goes back to 1991).
* **eIndkomst**: ``PNR, month, wage`` or one row per employer ``PNR, month, employer, wage``
  (and optionally ``occupation``, DISCO-08). The month is ``YYYY-MM``, ``YYYYMM``, a date or
  ``YYYY-MM-DD``; the wage is an amount in DKK for that month.
* **BEF**: ``PNR, KOEN, FOED_DAG`` or ``FOEDSELSAAR``, ``OPR_LAND, IE_TYPE, KOM``, optionally
  ``HFAUDD`` (highest completed education) and ``IND_DATO`` (date of the latest immigration).
  Names can be changed through :class:`PopulationColumns`.

Rules (each a parameter where a choice was made)
------------------------------------------------
CPR numbers
    Validated with python-stdnum's ``dk.cpr`` through :func:`pipeline.identity.check_identities`
    (ten digits, ``DDMMYY`` a real date not in the future, century from the seventh digit as in
    ``stdnum.dk.cpr.get_birth_date``; separators and spaces allowed). The modulus-11 check is
    **never** applied: numbers issued since 2007 need not pass it (``stdnum.dk.cpr``'s
    documentation: the checksum was abandoned in 2007 when serial numbers ran out). Plain
    ten-digit numbers are checked by the same rule in SQL, for speed; the tests check that both
    agree. A number that is missing, malformed (wrong length, not digits) or
    has an impossible date is not dropped: its row goes to the quarantine table with the input,
    row number and reason (``cpr_missing``, ``cpr_malformed``, ``cpr_bad_date``) and is counted.
    Numbers stored as numbers get their lost leading zeros back (``101901234`` is
    ``0101901234``); numbers stored as 4-byte floats are refused (already corrupted).
Persons
    One row per CPR number of the population file; a later row of the same (normalised) number
    is quarantined as ``duplicate_cpr``. DREAM and wage rows of people not in the population
    are quarantined as ``not_in_population``: the population file decides who is studied.
Weeks to months (DREAM)
    An ISO week belongs to the calendar month that holds its **Thursday**: the month holding
    four or more of its days, the rule that assigns ISO weeks to years (ISO 8601) and the one
    DREAMtoolsR uses to link DREAM weeks to its monthly variables (``y_2grad_``: the week's
    Thursday, ``ISOweek2date(..., "-4")``; github.com/carstennielsen/DREAMtoolsR). So week
    2020-W05 (Monday 27 January to Sunday 2 February) is a January week. Every month has four
    or five weeks. A month enters the panel only if all its weeks are inside the DREAM extract's
    range (a complete month).
Registered unemployed (DREAM)
    A month counts as registered unemployed when at least ``min_unemployed_share`` (default
    one half) of its weeks carry one of ``unemployment_codes``: 2 of 4 weeks, 3 of 5. The
    canonical ``jobseeker_category`` is 1 for such months, 2 when some but fewer weeks carry an
    unemployment code, 0 when none does; ``codes.registered_unemployed`` is ``[1]`` (a study
    that wants "any week" uses ``[1, 2]`` without re-running the adapter). The month's count of
    unemployment weeks and of weeks are written as ``unemployment_weeks`` and ``weeks``.
Priority overwriting (DREAM)
    DREAM holds one code per person and week. A week is coded when the person received a
    benefit on at least one day of it, and when several benefits meet in one week only the one
    of highest priority is kept: unemployment information outranks cash benefit
    (kontanthjælp), sickness benefit outranks activation (DREAM documentation, Beskæftigelses-
    ministeriet, version June 2015, docplayer.dk/3576558). Consequences for this adapter: a week
    shows only one status, so a person on unemployment benefit who was also sick, or also in
    education, shows only the code that won and that week does not count as an unemployment
    week when the winner is not an unemployment code; a coded week need not be a whole week on
    the benefit. DREAM is built for spells, not for stock counts, and the monthly share of
    unemployed is a spell measure, not an official unemployment rate. The overwritten code
    cannot be recovered from DREAM.
DREAM codes
    Codes are three-digit numbers (100-999); an empty cell is a week without any of the
    transfers DREAM records (self-support: work, own means or a partner's). Employment is not
    in the weekly codes. A code that is not a three-digit number stops the run (the file was
    misread). The groups below are used for the accounting (weeks by group, and every code in
    no group listed with its number of weeks); only ``unemployment_codes`` decides the status.

    =============================  ==========================================  ==============
    codes                          group                                       source
    =============================  ==========================================  ==============
    empty                          self-support, no transfer that week         [D], [B]
    111-113                        unemployment insurance benefit (dagpenge),  [I]
                                   openly unemployed: **the default
                                   ``unemployment_codes``**
    121                            grouped with "not a benefit recipient"      [B]
    114-120, 122-299               other unemployment-related benefits,        [I]
                                   activation of the insured unemployed
                                   (around 130); not counted as registered
                                   unemployed by default
    651, 652, 661                  education grants (our reading: SU);         [B], [T]
                                   "not a benefit recipient" in [B], an exit
                                   other than to employment in [T]
    750-758, 760-768, 771, 775,    health-related benefits ("health benefit    [B]
    781, 783, 785, 810-818,        recipient" in [B]; sickness benefit among
    890, 893                       them)
    881                            grouped with "not a benefit recipient"      [B]
    997-999                        censoring codes in [T]                      [T]
    =============================  ==========================================  ==============

    [D] DREAM documentation (above). [B] BMC Public Health 23:224 (2023),
    doi:10.1186/s12889-023-15106-y, Table 2 "Mapping between outcome groups and DREAM-codes"
    (pmc.ncbi.nlm.nih.gov/articles/PMC9893621). [T] DREAMtoolsR (``u.spells``:
    ``other.exit = c(651, 652)``, ``other.censor = c(997, 998, 999)``). [I] the project's
    issue text; **not verified against the official DREAM code list**, which comes with the
    extract (STAR / DST format catalogue): check ``unemployment_codes`` against it before real
    use.
Employed, earnings, occupation (eIndkomst)
    Earnings are the month's wages summed over employers (negative corrections included).
    A month counts as employed when they exceed ``wage_threshold``, default DKK 1,000:
    less than ten hours' pay at Danish collectively agreed hourly wages, so any real work in
    the month counts, while small trailing payments after a job ended (final settlements, back pay,
    corrections) do not. The Swedish definition (LISA since 2019) is more than 99 SEK, i.e.
    any pay; ``wage_threshold=0`` gives that. A person-month without wage rows has earnings 0.
    The occupation is the DISCO-08 code of the employer row with the highest wage (ties: the
    larger code, as the register stage merges rows), cut to its four-digit unit group (DISCO-08
    extends ISCO-08, whose first digit the panel's skill levels read, as SSYK 2012's);
    missing when no row has one. Rows whose month or wage cannot be read are quarantined
    (``bad_month``, ``bad_wage``).
Months in the panel
    ``months=(first, last)`` (``YYYY-MM``), or by default the complete DREAM months inside the
    span of months the wage rows cover. Every person of the population gets a row for every
    month: having no DREAM code and no wage in a month is an observation (not employed, not
    unemployed). Wage rows and long-form DREAM rows outside these months are counted as
    ``outside_months``, not kept and not quarantined. The month is written as the integer
    ``YYYYMM``, as the register stage reads it.
Population (BEF)
    ``KOEN`` 1 man, 2 woman (``codes.female = 2``); other values become missing (counted).
    Birth year from ``FOED_DAG`` (a date; SAS/Stata day numbers count from 1960-01-01), else
    ``FOEDSELSAAR``, else the birth date in the CPR number (counted by source). ``IE_TYPE``
    1 Danish origin, 2 immigrant, 3 descendant (DST, IE_TYPE: immigrants are born abroad,
    descendants in Denmark). ``region_of_birth`` is ``OPR_LAND`` for immigrants, whose country
    of origin is their country of birth (DST, OPR_LAND), and ``5100`` (Denmark in DST's and
    CPR's country codes) for descendants and people of Danish origin, so
    ``codes.native_born_regions = ["5100"]`` makes ``foreign_born`` mean immigrant. A missing
    or invalid ``IE_TYPE`` leaves the region missing, which the register stage counts as
    foreign-born. ``KOM`` (three digits, 101 Copenhagen) is written with four digits (``0101``)
    as the register stage pads it: a study's ``design.municipalities`` lists ``"0101"``.
    ``immigration_year`` is the year of ``IND_DATO``, assumed to be the date of the *latest*
    immigration (as LISA's ``SenInvAr``), derived by whoever made the extract from the
    migration register (VNDS); missing for people who never immigrated.
Education (HFAUDD)
    Mapped to the pipeline's ``Sun2000niva_old``-like levels 1-7 through ISCED 2011. The main
    group (hovedgruppe) is the first two digits of the code, as DST groups highest completed
    education (TIMES, FAMHOEJSTUDDA: 20 and 25 upper secondary general, 35 vocational, 40
    short-cycle tertiary, 50 and 60 medium-cycle tertiary including bachelor, 65 and 70
    long-cycle tertiary; 0 and 1001 unknown); DISCED-15's levels follow ISCED (DST, DISCED-15).

    ==========  =====================================  =====  ===============================
    main group  education                              ISCED  level (Sun2000niva_old-like)
    ==========  =====================================  =====  ===============================
    10          grundskole (primary and lower          2      2 (compulsory 9-10 years; less
                secondary)                                    than 9 years, level 1, cannot be
                                                              told from the main group)
    20, 25      gymnasiale uddannelser                 3      4 (upper secondary 3 years)
    35          erhvervsuddannelser (vocational)       3      4
    40          korte videregående (KVU)               5      5 (post-secondary < 3 years)
    50, 60      mellemlange videregående, bachelor     6      6 (post-secondary >= 3 years)
    65, 70      lange videregående (LVU)               7      6
    80          forskeruddannelser (PhD)               8      7 (not in the FAMHOEJSTUDDA list:
                                                              DISCED's research level)
    ==========  =====================================  =====  ===============================

    ISCED 3 and 4 become level 4: the main group does not tell a two-year programme (level 3)
    from a three-year one, and both fall in the report's ISCED 3-4 group. The ISCED level is
    also written (``education_isced``). If the extract's HFAUDD is a four-digit ``AUDD`` code
    whose first two digits are not its main group, or the extract holds ISCED levels, pass
    ``PopulationColumns(education_isced=...)`` with the ISCED level instead. A code in no main
    group becomes missing (counted). The education field is not derived from HFAUDD: it is
    missing unless ``PopulationColumns.education_field`` names a column holding it.

What the adapter cannot know
----------------------------
Who lived in Denmark in which month (a BEF snapshot says nothing about months before the latest
immigration or after an emigration: those months read as not employed, not unemployed); the
benefit a higher-priority DREAM code overwrote; hours and whether a wage was paid for work done
in that month; whether the DREAM code list of the extract matches the default groups above.

Accounting
----------
:attr:`DanishExtracts.accounting` holds, for each input (``population``, ``dream``,
``wages``), ``rows_read``, ``kept``, ``outside_months`` and ``quarantined`` by reason, with
``rows_read = kept + outside_months + sum(quarantined)`` (a wide DREAM row is a person, a long
one a person-week); for the population the values set missing by column (``*_invalid``: a
value was given but is not a valid code; ``education_unmapped`` includes DST's "unknown"
codes), the source of the birth year, the persons by IE_TYPE and the columns not delivered or
not used; for DREAM its range, complete months, the coded weeks of the panel by group and the
unmapped codes with their weeks; for the wages the months they cover and the invalid
occupation codes; then the panel's months, the rows written and the rules applied. Every
quarantined row is in :attr:`DanishExtracts.quarantine` (``input, row, reason, detail``; rows
are data rows counted from 1, a CSV file's header not counted).
"""

from __future__ import annotations

import calendar
import datetime
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyreadstat

from pipeline.identity import check_identities
from pipeline.register.canonical import CanonicalExtracts
from pipeline.register.formats import (
    duckdb_error_text,
    file_format,
    open_extract,
    scratch_directory,
)

__all__ = [
    "DEFAULT_MIN_UNEMPLOYED_SHARE",
    "DEFAULT_UNEMPLOYMENT_CODES",
    "DEFAULT_WAGE_THRESHOLD",
    "DENMARK",
    "DREAM_GROUPS",
    "EDUCATION_ISCED",
    "ISCED_LEVEL",
    "MONTHLY_COLUMNS",
    "PERSON_COLUMNS",
    "REGISTER_CODES",
    "DanishExtracts",
    "PopulationColumns",
    "Reduced",
    "WageColumns",
    "build_extracts",
    "dream_months",
    "iso_week_month",
    "population_persons",
    "wage_months",
]

Source = pd.DataFrame | pa.Table | str | Path

DEFAULT_UNEMPLOYMENT_CODES = (111, 112, 113)
DEFAULT_MIN_UNEMPLOYED_SHARE = 0.5
DEFAULT_WAGE_THRESHOLD = 1000.0  # DKK per month; see the module docstring
DENMARK = "5100"  # Denmark in DST's and CPR's country codes: region of birth of the Danish-born

# (first code, last code, group) for the accounting; the first range holding a code wins.
DREAM_GROUPS: tuple[tuple[int, int, str], ...] = (
    (111, 113, "unemployment_benefit"),
    (121, 121, "not_a_benefit_recipient"),
    (114, 299, "other_unemployment_related"),
    (651, 652, "education_grant"),
    (661, 661, "education_grant"),
    (750, 750, "health_related"),
    (753, 758, "health_related"),
    (760, 760, "health_related"),
    (763, 768, "health_related"),
    (771, 771, "health_related"),
    (775, 775, "health_related"),
    (781, 781, "health_related"),
    (783, 783, "health_related"),
    (785, 785, "health_related"),
    (810, 810, "health_related"),
    (813, 818, "health_related"),
    (890, 890, "health_related"),
    (893, 893, "health_related"),
    (881, 881, "not_a_benefit_recipient"),
    (997, 999, "censoring"),
)
# HFAUDD main group (its first two digits) -> ISCED 2011 level; sources in the docstring.
EDUCATION_ISCED = {"10": 2, "20": 3, "25": 3, "35": 3, "40": 5, "50": 6, "60": 6, "65": 7,
                   "70": 7, "80": 8}
# ISCED 2011 level -> the pipeline's Sun2000niva_old-like level.
ISCED_LEVEL = {0: 1, 1: 1, 2: 2, 3: 4, 4: 4, 5: 5, 6: 6, 7: 6, 8: 7}
_UNKNOWN_EDUCATION = (0, 1001)  # HFAUDD codes meaning "not known" (FAMHOEJSTUDDA)

PERSONS_FILE = "persons.parquet"
MONTHLY_FILE = "monthly.parquet"
# The canonical files' columns, keyed by the study configuration's canonical names.
PERSON_COLUMNS = {
    "personal_id": "cpr",
    "birth_year": "birth_year",
    "sex": "sex",
    "region_of_birth": "region_of_birth",
    "immigration_year": "immigration_year",
    "education_level": "education_level",
    "education_field": "education_field",
    "municipality": "municipality",
}
MONTHLY_COLUMNS = {
    "personal_id": "cpr",
    "month": "month",
    "employed": "employed",
    "earnings": "earnings",
    "jobseeker_category": "jobseeker_category",
    "occupation": "occupation",
}
REGISTER_CODES = {"female": 2, "native_born_regions": [DENMARK], "registered_unemployed": [1]}

_ID_NAMES = ("PNR", "CPR")
_WEEK_COLUMN = re.compile(r"y_(\d{2})(\d{2})", re.IGNORECASE)
_DREAM_MONTHLY_COLUMN = re.compile(r"(grad|branche)_\d{4}_\d{2}", re.IGNORECASE)
_CENTURY_PIVOT = 91  # two-digit DREAM years from 91 are 19xx, below 91 they are 20xx
_INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                            "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"})
_SHOWN = 5  # rows or columns named in an error message
_DETAILS = {
    "cpr_missing": "no CPR number",
    "cpr_malformed": "not 10 digits (DDMMYYSSSS)",
    "cpr_bad_date": "DDMMYY is no date, or a date in the future",
    "duplicate_cpr": "an earlier row has the same CPR number",
    "duplicate_week": "an earlier row has the same person and week",
    "not_in_population": "CPR number not in the population file",
    "bad_month": "the month is not YYYY-MM, YYYYMM or a date",
    "bad_wage": "the wage is not a number",
}
_QUARANTINE_COLUMNS = ["input", "row", "reason", "detail"]


# --- public types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PopulationColumns:
    """Column names of the BEF-style population file (matched case-insensitively).

    An optional column (``str | None``) that the file lacks is simply not used; ``None`` says
    not to look for it. The person number is ``PNR`` or ``CPR``.
    """

    sex: str = "KOEN"
    birth_date: str | None = "FOED_DAG"  # a date; wins over the birth year
    birth_year: str | None = "FOEDSELSAAR"
    origin_country: str = "OPR_LAND"
    origin_type: str = "IE_TYPE"
    municipality: str = "KOM"
    education: str | None = "HFAUDD"  # highest completed education (DST code)
    education_isced: str | None = None  # ISCED 2011 level 0-8; replaces ``education``
    education_field: str | None = None  # a field code, written as it is
    immigration_date: str | None = "IND_DATO"  # date of the latest immigration
    immigration_year: str | None = None  # year of the latest immigration


@dataclass(frozen=True)
class WageColumns:
    """Column names of the eIndkomst-style wage file (matched case-insensitively)."""

    month: str = "month"
    wage: str = "wage"
    employer: str | None = "employer"  # optional; a month's rows are summed whatever it says
    occupation: str | None = "occupation"  # optional: DISCO-08


@dataclass(frozen=True)
class Reduced:
    """One input reduced on its own (for small tables and tests).

    Attributes
    ----------
    table : DataFrame
        The reduced rows, with raw CPR numbers in ``cpr``: do not print it.
    accounting : dict
        Rows read, kept, outside the months, quarantined by reason, and what else was counted.
    quarantine : DataFrame
        ``input, row, reason, detail``: one row per quarantined input row, no CPR number.
    """

    table: pd.DataFrame
    accounting: dict
    quarantine: pd.DataFrame


def _copy_codes() -> dict:
    return {key: list(value) if isinstance(value, list) else value
            for key, value in REGISTER_CODES.items()}


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({"input": pd.Series(dtype=object), "row": pd.Series(dtype="int64"),
                         "reason": pd.Series(dtype=object), "detail": pd.Series(dtype=object)})


class DanishExtracts(CanonicalExtracts):
    """The canonical files written by :func:`build_extracts` (they hold raw CPR numbers); see
    :class:`~pipeline.register.canonical.CanonicalExtracts`."""


# --- public functions ------------------------------------------------------------------------


def build_extracts(
    population: Source,
    dream: Source,
    wages: Source,
    out_dir: str | Path,
    *,
    months: tuple[str, str] | None = None,
    weeks: tuple[str, str] | None = None,
    unemployment_codes: Iterable[int] = DEFAULT_UNEMPLOYMENT_CODES,
    min_unemployed_share: float = DEFAULT_MIN_UNEMPLOYED_SHARE,
    wage_threshold: float = DEFAULT_WAGE_THRESHOLD,
    population_columns: PopulationColumns = PopulationColumns(),
    wage_columns: WageColumns = WageColumns(),
    dream_form: str = "auto",
    dream_week_column: str = "year_week",
    dream_code_column: str = "code",
    ignore_columns: Iterable[str] = (),
    memory_limit: str = "4GB",
    temp_directory: str | Path | None = None,
) -> DanishExtracts:
    """Write the canonical ``persons`` and ``monthly`` Parquet files from Danish register data.

    Parameters
    ----------
    population, dream, wages : DataFrame, pyarrow Table or path
        BEF-style population, DREAM extract (wide or long) and eIndkomst-style wages.
    out_dir : path
        Folder for ``persons.parquet`` and ``monthly.parquet`` (created if missing). They hold
        raw CPR numbers: keep them with the raw data.
    months : (str, str), optional
        First and last month of the panel, ``YYYY-MM``; each must be a complete DREAM month.
        By default the complete DREAM months inside the span of months the wage rows cover.
    weeks : (str, str), optional
        The weeks the DREAM extract states it covers (``YYYY-Www`` or ``y_YYWW``). A wide
        extract must have exactly these week columns, a long one no week outside them. By
        default the range of the columns (wide) or of the rows (long).
    unemployment_codes : iterable of int
        DREAM codes that make a week an unemployment week.
    min_unemployed_share : float
        Share of a month's weeks (0 < share <= 1) that must be unemployment weeks.
    wage_threshold : float
        A month counts as employed when its summed wages exceed this amount (DKK).
    population_columns, wage_columns : PopulationColumns, WageColumns
        Column names of the population and wage files.
    dream_form : {"auto", "wide", "long"}
        The DREAM layout; ``auto`` decides from the columns.
    dream_week_column, dream_code_column : str
        Column names of a long DREAM extract.
    ignore_columns : iterable of str
        Other columns of the DREAM extract to leave out (any other column is an error).
    memory_limit : str
        DuckDB's memory limit; beyond it DuckDB spills to a private temporary folder.
    temp_directory : path, optional
        Where that folder is made (removed afterwards); the system's default when None.

    Returns
    -------
    DanishExtracts

    Raises
    ------
    ValueError
        For input that cannot be reduced honestly: a DREAM column that is not a week, a week
        number outside 01-53 or outside the stated range, a gap in the week columns, a code
        that is not a DREAM code, a panel month the DREAM weeks do not cover, a missing
        column. The message names the column or the row numbers (data rows counted from 1),
        never a CPR number.
    """
    rules = _Rules.make(unemployment_codes, min_unemployed_share, wage_threshold)
    out_dir = Path(out_dir)
    with _session(memory_limit, temp_directory) as (con, scratch):
        _load(con, population, "population_in", scratch)
        _load(con, dream, "dream_in", scratch)
        _load(con, wages, "wages_in", scratch)
        population_layout = _population_layout(con, population_columns)
        dream_layout = _dream_layout(con, dream_form, dream_week_column, dream_code_column,
                                     ignore_columns, weeks)
        wage_layout = _wage_layout(con, wage_columns)
        _check_cprs(con, {"population_in": population_layout.id, "dream_in": dream_layout.id,
                          "wages_in": wage_layout.id})
        population_accounting = _build_persons(con, population_layout)
        wage_span = _read_wages(con, wage_layout, restrict_to_persons=True)
        window = _window(months, dream_layout, wage_span)
        _create_months(con, window)
        dream_accounting = _reduce_dream(con, dream_layout, window, rules,
                                         restrict_to_persons=True)
        wage_accounting = _reduce_wages(con, wage_span)
        out_dir.mkdir(parents=True, exist_ok=True)
        persons_path, monthly_path = out_dir / PERSONS_FILE, out_dir / MONTHLY_FILE
        n_persons = _write(con, _PERSONS_SQL, persons_path)
        _write(con, _monthly_sql(rules), monthly_path)
        monthly_accounting = _monthly_accounting(con, window, monthly_path)
        quarantine = _quarantine(con)
    accounting = {
        "population": population_accounting,
        "dream": dream_accounting,
        "wages": wage_accounting,
        "persons": {"rows_written": n_persons},
        "monthly": monthly_accounting,
        "rules": rules.describe(),
    }
    return DanishExtracts(persons=persons_path, monthly=monthly_path, accounting=accounting,
                          quarantine=quarantine, person_columns=dict(PERSON_COLUMNS),
                          monthly_columns=dict(MONTHLY_COLUMNS), codes=_copy_codes())


def dream_months(
    dream: Source,
    *,
    months: tuple[str, str] | None = None,
    weeks: tuple[str, str] | None = None,
    unemployment_codes: Iterable[int] = DEFAULT_UNEMPLOYMENT_CODES,
    min_unemployed_share: float = DEFAULT_MIN_UNEMPLOYED_SHARE,
    form: str = "auto",
    week_column: str = "year_week",
    code_column: str = "code",
    ignore_columns: Iterable[str] = (),
) -> Reduced:
    """Reduce a DREAM extract on its own to person x month (small tables and tests).

    Parameters are those of :func:`build_extracts`; ``months`` defaults to every complete
    month of the DREAM range, and there is no population, so nobody is ``not_in_population``.
    The table has ``cpr, month`` (``YYYYMM``), ``weeks``, ``unemployment_weeks`` and
    ``jobseeker_category`` for every person with a kept row, and every month.
    """
    rules = _Rules.make(unemployment_codes, min_unemployed_share, DEFAULT_WAGE_THRESHOLD)
    with _session("1GB", None) as (con, scratch):
        _load(con, dream, "dream_in", scratch)
        layout = _dream_layout(con, form, week_column, code_column, ignore_columns, weeks)
        _check_cprs(con, {"dream_in": layout.id})
        window = _window(months, layout, None)
        _create_months(con, window)
        accounting = _reduce_dream(con, layout, window, rules, restrict_to_persons=False)
        table = con.execute(
            f"""
            SELECT p.cpr, m.month, m.weeks,
                   coalesce(d.unemployment_weeks, 0) AS unemployment_weeks,
                   {_status_sql(rules, 'coalesce(d.unemployment_weeks, 0)', 'm.weeks')}
                     AS jobseeker_category
            FROM (SELECT DISTINCT cpr FROM dream_kept) p CROSS JOIN months m
            LEFT JOIN dream_month d ON d.cpr = p.cpr AND d.month = m.month
            ORDER BY p.cpr, m.month
            """
        ).df()
        return Reduced(table, accounting, _quarantine(con))


def wage_months(
    wages: Source,
    *,
    months: tuple[str, str] | None = None,
    wage_threshold: float = DEFAULT_WAGE_THRESHOLD,
    columns: WageColumns = WageColumns(),
) -> Reduced:
    """Reduce eIndkomst-style wages on their own to person x month (small tables and tests).

    The table has ``cpr, month, earnings, employed, occupation`` for every person-month with a
    kept wage row (the canonical file also has the months without rows, with earnings 0).
    ``months`` defaults to the span of months the rows cover.
    """
    rules = _Rules.make(DEFAULT_UNEMPLOYMENT_CODES, DEFAULT_MIN_UNEMPLOYED_SHARE, wage_threshold)
    with _session("1GB", None) as (con, scratch):
        _load(con, wages, "wages_in", scratch)
        layout = _wage_layout(con, columns)
        _check_cprs(con, {"wages_in": layout.id})
        span = _read_wages(con, layout, restrict_to_persons=False)
        _create_months(con, _window(months, None, span))
        accounting = _reduce_wages(con, span)
        table = con.execute(
            f"""
            SELECT cpr, month, earnings, {_employed_sql(rules, 'earnings')} AS employed,
                   occupation
            FROM wage_month ORDER BY cpr, month
            """
        ).df()
        return Reduced(table, accounting, _quarantine(con))


def population_persons(
    population: Source, *, columns: PopulationColumns = PopulationColumns()
) -> Reduced:
    """Reduce BEF-style population data on its own to the canonical person rows."""
    with _session("1GB", None) as (con, scratch):
        _load(con, population, "population_in", scratch)
        layout = _population_layout(con, columns)
        _check_cprs(con, {"population_in": layout.id})
        accounting = _build_persons(con, layout)
        table = con.execute(_PERSONS_SQL).df()
        return Reduced(table, accounting, _quarantine(con))


def iso_week_month(year: int, week: int) -> int:
    """The month (``YYYYMM``) an ISO week belongs to: the month of its Thursday.

    Raises
    ------
    ValueError
        If ``year`` has no ISO week ``week``.
    """
    thursday = datetime.date.fromisocalendar(year, week, 4)
    return thursday.year * 100 + thursday.month


# --- rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    unemployment_codes: tuple[int, ...]
    min_share: float
    wage_threshold: float

    @classmethod
    def make(cls, codes: Iterable[int], share: float, threshold: float) -> _Rules:
        codes = tuple(sorted({int(code) for code in codes}))
        if not codes or any(not 100 <= code <= 999 for code in codes):
            raise ValueError("unemployment_codes must be DREAM codes (three-digit numbers "
                             f"100-999), got {list(codes)}")
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            raise ValueError(f"min_unemployed_share must be in (0, 1], got {share!r}")
        if (isinstance(threshold, bool) or not isinstance(threshold, int | float)
                or not math.isfinite(threshold)):
            raise ValueError(f"wage_threshold must be a finite amount, got {threshold!r}")
        return cls(codes, float(share), float(threshold))

    def describe(self) -> dict:
        return {
            "unemployment_codes": list(self.unemployment_codes),
            "min_unemployed_share": self.min_share,
            "wage_threshold_dkk": self.wage_threshold,
            "employed": "summed wages of the month above wage_threshold_dkk",
            "week_to_month": "the month of the ISO week's Thursday",
            "jobseeker_category": {1: "unemployment weeks reach min_unemployed_share",
                                   2: "some unemployment weeks, fewer than the share",
                                   0: "no unemployment week"},
        }


def _status_sql(rules: _Rules, unemployment_weeks: str, weeks: str) -> str:
    # The tolerance keeps e.g. 0.6 * 5 from missing 3 by a rounding error.
    return (f"CASE WHEN {unemployment_weeks} >= {rules.min_share!r} * {weeks} - 1e-9 THEN 1 "
            f"WHEN {unemployment_weeks} > 0 THEN 2 ELSE 0 END")


def _employed_sql(rules: _Rules, earnings: str) -> str:
    return f"CAST({earnings} > {rules.wage_threshold!r} AS INTEGER)"


# --- DuckDB session and inputs ---------------------------------------------------------------


@contextmanager
def _session(
    memory_limit: str, temp_directory: str | Path | None
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """A private DuckDB connection and scratch folder; DuckDB errors without personal data."""
    con = duckdb.connect()
    try:
        with scratch_directory(temp_directory) as scratch:
            con.execute(f"SET memory_limit = {_literal(memory_limit)}")
            con.execute(f"SET temp_directory = {_literal(str(scratch / 'spill'))}")
            try:
                yield con, scratch
            except duckdb.Error as exc:
                raise ValueError(
                    f"Danish register data could not be reduced: {duckdb_error_text(exc)}"
                ) from None
    finally:
        con.close()


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _load(con: duckdb.DuckDBPyConnection, source: Source, table: str, scratch: Path) -> None:
    """Copy an input into a temporary table in its row order (``rowid`` is data row - 1)."""
    con.execute("SET preserve_insertion_order = true")
    if isinstance(source, pd.DataFrame | pa.Table):
        con.register(f"{table}_view", source)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_view")
        finally:
            con.unregister(f"{table}_view")
        return
    path = Path(source)
    kind = file_format(path)
    columns: dict[str, str] = {}
    if kind in ("sas7bdat", "stata"):  # converted column by column: name them all
        reader = pyreadstat.read_sas7bdat if kind == "sas7bdat" else pyreadstat.read_dta
        _, meta = reader(str(path), metadataonly=True)
        columns = {name: name for name in meta.column_names}
    extract = open_extract(con, path, columns, scratch)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {extract.sql}")


def _types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {table}").fetchall()}


def _find(types: Mapping[str, str], name: str | None, what: str,
          required: bool = True) -> str | None:
    """The input's column called ``name`` in any case; None when optional and absent."""
    if name is None:
        return None
    found = [column for column in types if column.lower() == name.lower()]
    if len(found) > 1:
        raise ValueError(f"{what}: several columns are called {name!r} (in different case): "
                         f"{found}; keep one")
    if not found:
        if required:
            raise ValueError(f"{what}: no column {name!r}; the input has "
                             f"{', '.join(sorted(types))}")
        return None
    return found[0]


@dataclass(frozen=True)
class _IdColumn:
    name: str
    sql: str  # the identity number as text, over the input table


def _id_column(types: Mapping[str, str], what: str) -> _IdColumn:
    found = [column for column in types if column.upper() in _ID_NAMES]
    if len(found) != 1:
        raise ValueError(f"{what}: expected one person-number column, PNR or CPR; found "
                         f"{found or 'none'} among {', '.join(sorted(types))}")
    column = found[0]
    if types[column] == "FLOAT":
        raise ValueError(
            f"{what}: the CPR numbers in {column!r} are stored as 4-byte floating point "
            "numbers, which keep only 7 significant digits, so they are already corrupted; "
            "deliver them as text or as 8-byte numbers"
        )
    return _IdColumn(column, _text_sql(column, types[column], 10))


def _is_number(stored: str) -> bool:
    return (stored in _INTEGER_TYPES or stored in ("DOUBLE", "FLOAT")
            or stored.startswith("DECIMAL"))


def _text_sql(column: str, stored: str, digits: int = 0) -> str:
    """SQL for a column as trimmed text (NULL when empty); a whole number as its integer
    digits, zero-padded to ``digits`` (a number has lost its leading zeros)."""
    ref = _ident(column)
    if stored == "VARCHAR":
        return f"nullif(trim({ref}), '')"
    if stored in _INTEGER_TYPES:
        return _padded(f"CAST({ref} AS VARCHAR)", digits)
    if _is_number(stored):
        number = f"CAST({ref} AS DOUBLE)"
        whole = _padded(f"CAST(CAST({number} AS BIGINT) AS VARCHAR)", digits)
        # NaN (a missing value in pandas) and infinities are no value: NULL.
        return (f"CASE WHEN isfinite({number}) AND {number} = trunc({number}) "
                f"AND abs({number}) < 1e18 THEN {whole} "
                f"WHEN isfinite({number}) THEN CAST({ref} AS VARCHAR) END")
    return f"nullif(trim(CAST({ref} AS VARCHAR)), '')"


def _padded(text: str, digits: int) -> str:
    if not digits:
        return text
    return f"lpad({text}, CAST(greatest(length({text}), {digits}) AS INTEGER), '0')"


def _number_sql(column: str, stored: str) -> str:
    """SQL for a column as DOUBLE; NULL when it is not a finite number."""
    ref = _ident(column)
    if _is_number(stored):
        value = f"CAST({ref} AS DOUBLE)"
    else:
        value = f"TRY_CAST(trim(CAST({ref} AS VARCHAR)) AS DOUBLE)"
    return f"CASE WHEN isfinite({value}) THEN {value} END"


def _whole_sql(column: str, stored: str) -> str:
    """SQL for a column as INTEGER when it holds a whole number; else NULL."""
    value = _number_sql(column, stored)
    return (f"CASE WHEN {value} = trunc({value}) AND abs({value}) < 2e9 "
            f"THEN CAST({value} AS INTEGER) END")


def _date_year_sql(column: str, stored: str) -> str:
    """SQL for the year of a date: a date, text, or SAS/Stata days since 1960-01-01."""
    ref = _ident(column)
    if stored == "DATE" or stored.startswith("TIMESTAMP"):
        return f"year({ref})"
    if _is_number(stored):
        days = _whole_sql(column, stored)
        return f"CASE WHEN abs({days}) < 100000 THEN year(DATE '1960-01-01' + {days}) END"
    text = f"trim(CAST({ref} AS VARCHAR))"
    formats = "['%d-%m-%Y', '%d.%m.%Y', '%d/%m/%Y', '%d%b%Y', '%Y%m%d']"
    return (f"year(coalesce(TRY_CAST({text} AS DATE), "
            f"CAST(try_strptime({text}, {formats}) AS DATE)))")


def _plausible_year(year: str) -> str:
    return f"CASE WHEN {year} BETWEEN 1800 AND {datetime.date.today().year} THEN {year} END"


# --- CPR numbers and quarantine --------------------------------------------------------------


def _check_cprs(con: duckdb.DuckDBPyConnection, ids: Mapping[str, _IdColumn]) -> None:
    """Create ``cpr_check(raw_id, cpr, problem)`` for every identity text of the inputs.

    Ten-digit texts are checked in SQL (:func:`_cpr_date_ok_sql`), every other text by
    :func:`pipeline.identity.check_identities` (stdnum's ``dk.cpr``).
    """
    selects = " UNION ALL ".join(f"SELECT {column.sql} AS raw_id FROM {table}"
                                 for table, column in ids.items())
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE cpr_ids AS SELECT DISTINCT raw_id FROM ({selects}) "
        "WHERE raw_id IS NOT NULL"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE cpr_check AS
        SELECT raw_id, CASE WHEN ok THEN raw_id END AS cpr,
               CASE WHEN ok THEN NULL ELSE 'bad_date' END AS problem
        FROM (SELECT raw_id, {_cpr_date_ok_sql('raw_id', datetime.date.today())} AS ok
              FROM cpr_ids WHERE regexp_full_match(raw_id, '[0-9]{{10}}'))
        """
    )
    other = [row[0] for row in con.execute(
        "SELECT raw_id FROM cpr_ids WHERE NOT regexp_full_match(raw_id, '[0-9]{10}')"
    ).fetchall()]
    if other:
        checks = check_identities(other, "dk")
        con.register("cpr_other", pa.table({
            "raw_id": pa.array(other, pa.string()),
            "cpr": pa.array([c.normalised for c in checks], pa.string()),
            "problem": pa.array([c.problem for c in checks], pa.string()),
        }))
        con.execute("INSERT INTO cpr_check SELECT raw_id, cpr, problem FROM cpr_other")
        con.unregister("cpr_other")
    con.execute("DROP TABLE cpr_ids")


def _cpr_year_sql(text: str) -> str:
    """SQL: the birth year in a ten-digit CPR text, its century from the seventh digit."""
    yy = f"CAST(substr({text}, 5, 2) AS INTEGER)"
    digit = f"substr({text}, 7, 1)"
    century = (f"CASE WHEN {digit} IN ('5', '6', '7', '8') AND {yy} >= 58 THEN 1800 "
               f"WHEN {digit} IN ('0', '1', '2', '3') OR ({digit} IN ('4', '9') AND {yy} >= 37) "
               f"THEN 1900 ELSE 2000 END")
    return f"({century} + {yy})"


def _cpr_date_ok_sql(text: str, today: datetime.date) -> str:
    """SQL: whether a ten-digit CPR text holds a real birth date not after ``today``, the
    rule of ``stdnum.dk.cpr.validate`` and :mod:`pipeline.identity` (no modulus 11)."""
    day = f"CAST(substr({text}, 1, 2) AS INTEGER)"
    month = f"CAST(substr({text}, 3, 2) AS INTEGER)"
    year = _cpr_year_sql(text)
    # CASE: make_date is only evaluated for a real month and day.
    return (f"CASE WHEN {month} BETWEEN 1 AND 12 AND {day} >= 1 "
            f"AND {day} <= dayofmonth(last_day(make_date({year}, {month}, 1))) "
            f"THEN make_date({year}, {month}, {day}) <= DATE '{today.isoformat()}' "
            "ELSE false END")


def _cpr_sql(raw_id: str) -> str:
    """SQL columns ``cpr`` and ``cpr_reason`` (NULL when usable), with cpr_check as ``c``."""
    return (f"c.cpr, CASE WHEN {raw_id} IS NULL THEN 'cpr_missing' "
            f"WHEN c.problem IS NOT NULL THEN 'cpr_' || c.problem END AS cpr_reason")


def _detail_sql(reason: str) -> str:
    cases = " ".join(f"WHEN {_literal(key)} THEN {_literal(text)}"
                     for key, text in _DETAILS.items())
    return f"CASE {reason} {cases} END"


def _add_quarantine(con: duckdb.DuckDBPyConnection, source: str, input_name: str) -> None:
    """Append the rows of ``source`` that have a ``reason`` to the quarantine table."""
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS quarantine "
        "(input VARCHAR, row BIGINT, reason VARCHAR, detail VARCHAR)"
    )
    con.execute(
        f"INSERT INTO quarantine SELECT {_literal(input_name)}, row_no, reason, "
        f"{_detail_sql('reason')} FROM {source} WHERE reason IS NOT NULL"
    )


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        f"SELECT count(*) FROM duckdb_tables() WHERE table_name = {_literal(name)}"
    ).fetchall()[0][0])


def _quarantine(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not _has_table(con, "quarantine"):
        return _empty_quarantine()
    frame = con.execute("SELECT * FROM quarantine ORDER BY input, row").df()
    frame["row"] = frame["row"].astype("int64")
    return frame[_QUARANTINE_COLUMNS]


def _reasons(con: duckdb.DuckDBPyConnection, input_name: str) -> dict[str, int]:
    if not _has_table(con, "quarantine"):
        return {}
    return {reason: int(n) for reason, n in con.execute(
        f"SELECT reason, count(*) FROM quarantine WHERE input = {_literal(input_name)} "
        "GROUP BY reason ORDER BY reason"
    ).fetchall()}


# --- population ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PopulationLayout:
    id: _IdColumn
    sql: dict[str, str]  # part -> SQL over population_in ("NULL" when not delivered)
    not_delivered: list[str]
    unused: list[str]


def _population_layout(
    con: duckdb.DuckDBPyConnection, columns: PopulationColumns
) -> _PopulationLayout:
    what = "population (BEF)"
    types = _types(con, "population_in")
    id_column = _id_column(types, what)
    found = {part: _find(types, getattr(columns, part), what, required=required)
             for part, required in (
                 ("sex", True), ("origin_country", True), ("origin_type", True),
                 ("municipality", True), ("birth_date", False), ("birth_year", False),
                 ("education", False),
                 ("education_isced", columns.education_isced is not None),
                 ("education_field", columns.education_field is not None),
                 ("immigration_date", False),
                 ("immigration_year", columns.immigration_year is not None))}
    readers = {
        "sex": lambda c, t: _text_sql(c, t),
        "origin_country": lambda c, t: _text_sql(c, t),
        "origin_type": _whole_sql,
        "municipality": lambda c, t: _text_sql(c, t),
        "birth_date": lambda c, t: _plausible_year(_date_year_sql(c, t)),
        "birth_year": lambda c, t: _plausible_year(_whole_sql(c, t)),
        "education": lambda c, t: _text_sql(c, t),
        "education_isced": _whole_sql,
        "education_field": lambda c, t: _text_sql(c, t),
        "immigration_date": lambda c, t: _plausible_year(_date_year_sql(c, t)),
        "immigration_year": lambda c, t: _plausible_year(_whole_sql(c, t)),
    }
    sql = {part: readers[part](column, types[column]) if column else "NULL"
           for part, column in found.items()}
    not_delivered = [name for name, parts in (
        ("birth_year (taken from the CPR number)", ("birth_date", "birth_year")),
        ("education_level", ("education", "education_isced")),
        ("education_field", ("education_field",)),
        ("immigration_year", ("immigration_date", "immigration_year")),
    ) if not any(found[part] for part in parts)]
    used = {id_column.name, *(column for column in found.values() if column)}
    return _PopulationLayout(id_column, sql, not_delivered, sorted(set(types) - used))


def _isced_sql(education: str, isced: str, from_isced: bool) -> str:
    """SQL for the ISCED level from an HFAUDD text, or from a delivered ISCED level."""
    if from_isced:
        return f"CASE WHEN {isced} BETWEEN 0 AND 8 THEN {isced} END"
    digits = f"CASE WHEN regexp_full_match({education}, '[0-9]{{1,8}}') THEN {education} END"
    group = f"substr(lpad({digits}, CAST(greatest(length({digits}), 4) AS INTEGER), '0'), 1, 2)"
    unknown = ", ".join(str(code) for code in _UNKNOWN_EDUCATION)
    cases = " ".join(f"WHEN {_literal(g)} THEN {level}" for g, level in EDUCATION_ISCED.items())
    return (f"CASE WHEN TRY_CAST({digits} AS BIGINT) IN ({unknown}) THEN NULL "
            f"ELSE (CASE {group} {cases} END) END")


def _build_persons(con: duckdb.DuckDBPyConnection, layout: _PopulationLayout) -> dict:
    """Create ``persons``, one row per person; quarantine the population's unusable rows."""
    s = layout.sql
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE population_rows AS
        SELECT p.rowid + 1 AS row_no, {layout.id.sql} AS raw_id,
               {s['sex']} AS sex_raw, {s['birth_date']} AS birth_date_year,
               {s['birth_year']} AS birth_year_column, {s['origin_country']} AS origin_raw,
               {s['origin_type']} AS origin_type_raw, {s['municipality']} AS municipality_raw,
               {s['education']} AS education_raw, {s['education_isced']} AS isced_raw,
               {s['education_field']} AS education_field,
               coalesce({s['immigration_date']}, {s['immigration_year']}) AS immigration_year
        FROM population_in p
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE population_classified AS
        WITH checked AS (
            SELECT r.*, {_cpr_sql('r.raw_id')}
            FROM population_rows r LEFT JOIN cpr_check c ON c.raw_id = r.raw_id
        )
        SELECT *, coalesce(cpr_reason, CASE WHEN row_number() OVER (
                      PARTITION BY cpr ORDER BY row_no) > 1 THEN 'duplicate_cpr' END) AS reason
        FROM checked
        """
    )
    con.execute("DROP TABLE population_rows")
    _add_quarantine(con, "population_classified", "population")
    isced = _isced_sql("education_raw", "isced_raw", s["education_isced"] != "NULL")
    levels = " ".join(f"WHEN {i} THEN {level}" for i, level in ISCED_LEVEL.items())
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE persons AS
        WITH kept AS (
            SELECT *,
                   CASE WHEN sex_raw IN ('1', '2') THEN sex_raw END AS sex,
                   CASE WHEN origin_type_raw IN (1, 2, 3) THEN origin_type_raw END AS ie_type,
                   CASE WHEN regexp_full_match(municipality_raw, '[0-9]{{1,4}}')
                        THEN lpad(municipality_raw, 4, '0') END AS municipality,
                   {isced} AS isced
            FROM population_classified WHERE reason IS NULL
        )
        SELECT cpr,
               CAST(coalesce(birth_date_year, birth_year_column, {_cpr_year_sql('cpr')})
                    AS INTEGER) AS birth_year,
               CASE WHEN birth_date_year IS NOT NULL THEN 'birth_date'
                    WHEN birth_year_column IS NOT NULL THEN 'birth_year'
                    ELSE 'cpr' END AS birth_year_source,
               sex,
               CASE ie_type WHEN 2 THEN origin_raw WHEN 1 THEN '{DENMARK}'
                            WHEN 3 THEN '{DENMARK}' END AS region_of_birth,
               CAST(immigration_year AS INTEGER) AS immigration_year,
               CAST(CASE isced {levels} END AS INTEGER) AS education_level,
               education_field, municipality, CAST(ie_type AS INTEGER) AS ie_type,
               origin_raw AS origin_country, CAST(isced AS INTEGER) AS education_isced,
               sex_raw, origin_type_raw, municipality_raw,
               coalesce(education_raw, CAST(isced_raw AS VARCHAR)) AS education_given
        FROM kept
        """
    )
    return _population_accounting(con, layout)


def _population_accounting(con: duckdb.DuckDBPyConnection, layout: _PopulationLayout) -> dict:
    rows_read, kept = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE reason IS NULL) FROM population_classified"
    ).fetchall()[0]
    checks = {
        "sex": "sex IS NULL",
        "sex_invalid": "sex IS NULL AND sex_raw IS NOT NULL",
        "ie_type": "ie_type IS NULL",
        "ie_type_invalid": "ie_type IS NULL AND origin_type_raw IS NOT NULL",
        "region_of_birth": "region_of_birth IS NULL",
        "municipality": "municipality IS NULL",
        "municipality_invalid": "municipality IS NULL AND municipality_raw IS NOT NULL",
        "education_level": "education_level IS NULL",
        "education_unmapped": "education_level IS NULL AND education_given IS NOT NULL",
        "education_field": "education_field IS NULL",
        "immigration_year": "immigration_year IS NULL",
        "immigration_year_of_immigrants": "immigration_year IS NULL AND ie_type = 2",
    }
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for c in checks.values())
        + " FROM persons"
    ).fetchall()[0]
    return {
        "rows_read": int(rows_read), "kept": int(kept), "outside_months": 0,
        "quarantined": _reasons(con, "population"),
        "missing_values": dict(zip(checks, (int(n) for n in counts), strict=True)),
        "birth_year_source": {source: int(n) for source, n in con.execute(
            "SELECT birth_year_source, count(*) FROM persons GROUP BY 1 ORDER BY 1"
        ).fetchall()},
        "ie_type": {("missing" if t is None else str(t)): int(n) for t, n in con.execute(
            "SELECT ie_type, count(*) FROM persons GROUP BY 1 ORDER BY 1").fetchall()},
        "columns_not_delivered": layout.not_delivered,
        "columns_not_used": layout.unused,
    }


# Both files are sorted, so the same inputs give the same bytes (the pipeline's manifests
# compare checksums of raw inputs).
_PERSONS_SQL = """
    SELECT cpr, birth_year, sex, region_of_birth, immigration_year, education_level,
           education_field, municipality, ie_type, origin_country, education_isced
    FROM persons ORDER BY cpr
"""


# --- DREAM: layout and weeks -----------------------------------------------------------------


@dataclass(frozen=True)
class _Week:
    year: int
    week: int

    @property
    def key(self) -> int:
        return self.year * 100 + self.week

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def column(self) -> str:
        return f"y_{self.year % 100:02d}{self.week:02d}"


@dataclass(frozen=True)
class _DreamLayout:
    form: str  # "wide" or "long"
    id: _IdColumn
    first: _Week
    last: _Week
    week_columns: dict[str, _Week]  # wide: the input's column -> its week
    code_sql: dict[str, str]  # wide: input column -> its code as text; long: {"code": ...}
    ignored: list[str]


def _two_digit_year(yy: int) -> int:
    return 1900 + yy if yy >= _CENTURY_PIVOT else 2000 + yy


def _weeks_in_year(year: int) -> int:
    return datetime.date(year, 12, 28).isocalendar()[1]


def _parse_week(text: str) -> _Week:
    """A stated week: ``YYYY-Www``, ``YYYYWww``, ``y_YYWW`` or ``YYWW``."""
    value = str(text).strip()
    if match := re.fullmatch(r"(\d{4})-?W(\d{2})", value, re.IGNORECASE):
        year, week = int(match[1]), int(match[2])
    elif match := re.fullmatch(r"(?:y_)?(\d{2})(\d{2})", value, re.IGNORECASE):
        year, week = _two_digit_year(int(match[1])), int(match[2])
    else:
        raise ValueError(f"weeks: {value!r} is not a week; write YYYY-Www (1992-W01) or a "
                         "DREAM column name (y_9201)")
    if not 1 <= week <= _weeks_in_year(year):
        raise ValueError(f"weeks: {value!r}: {year} has ISO weeks 01-{_weeks_in_year(year)}")
    return _Week(year, week)


def _week_range(first: _Week, last: _Week) -> list[_Week]:
    if first.key > last.key:
        raise ValueError(f"the DREAM range starts ({first.label}) after it ends ({last.label})")
    day = datetime.date.fromisocalendar(first.year, first.week, 1)
    end = datetime.date.fromisocalendar(last.year, last.week, 1)
    weeks = []
    while day <= end:
        year, week, _ = day.isocalendar()
        weeks.append(_Week(year, week))
        day += datetime.timedelta(weeks=1)
    return weeks


def _thursdays(month: int) -> int:
    """Weeks of a month (``YYYYMM``): its Thursdays."""
    year, number = divmod(month, 100)
    first_weekday, days = calendar.monthrange(year, number)
    return sum(1 for day in range(days) if (first_weekday + day) % 7 == 3)


def _complete_months(first: _Week, last: _Week) -> list[int]:
    """Months all of whose weeks (by Thursday) are inside the range."""
    counts: dict[int, int] = {}
    for week in _week_range(first, last):
        month = iso_week_month(week.year, week.week)
        counts[month] = counts.get(month, 0) + 1
    return sorted(month for month, n in counts.items() if n == _thursdays(month))


def _dream_layout(
    con: duckdb.DuckDBPyConnection,
    form: str,
    week_column: str,
    code_column: str,
    ignore_columns: Iterable[str],
    weeks: tuple[str, str] | None,
) -> _DreamLayout:
    what = "DREAM extract"
    if form not in ("auto", "wide", "long"):
        raise ValueError(f"the DREAM form must be 'auto', 'wide' or 'long', got {form!r}")
    types = _types(con, "dream_in")
    id_column = _id_column(types, what)
    ignore = {name.lower() for name in ignore_columns}
    ignored = sorted(c for c in types if c.lower() in ignore)
    others = [c for c in types if c != id_column.name and c.lower() not in ignore]
    has_weeks = any(c.lower().startswith("y_") for c in others)
    long_names = [_find(types, week_column, what, False), _find(types, code_column, what,
                                                                False)]
    if form == "auto":
        if has_weeks and any(long_names):
            raise ValueError(f"{what}: it has week columns (y_YYWW) and the long form's "
                             f"{week_column!r} or {code_column!r}; say which form it is")
        form = "wide" if has_weeks else "long"
    stated = (_parse_week(weeks[0]), _parse_week(weeks[1])) if weeks is not None else None
    if form == "long":
        return _long_layout(con, types, id_column, others, week_column, code_column, stated,
                            ignored)
    return _wide_layout(types, id_column, others, stated, ignored)


def _unknown_columns_error(unknown: list[str], form: str) -> ValueError:
    shown = ", ".join(repr(c) for c in unknown[:_SHOWN])
    more = f" and {len(unknown) - _SHOWN} more" if len(unknown) > _SHOWN else ""
    layout = ("the person number (PNR or CPR) and one column y_YYWW per week (two-digit year, "
              "ISO week 01-53)" if form == "wide" else
              "the person number (PNR or CPR), the week and the code")
    return ValueError(
        f"DREAM extract: unknown column(s) {shown}{more}. A {form} DREAM extract holds "
        f"{layout}; pass ignore_columns=[...] to leave other columns out, or check that the "
        "file is a DREAM extract"
    )


def _wide_layout(
    types: Mapping[str, str],
    id_column: _IdColumn,
    columns: list[str],
    stated: tuple[_Week, _Week] | None,
    ignored: list[str],
) -> _DreamLayout:
    what = "DREAM extract"
    week_columns: dict[str, _Week] = {}
    unknown, bad = [], []
    for column in columns:
        if match := _WEEK_COLUMN.fullmatch(column):
            year, week = _two_digit_year(int(match[1])), int(match[2])
            if not 1 <= week <= 53:
                bad.append(f"column {column!r}: week {week:02d} is not an ISO week number "
                           "(01-53)")
            elif week > _weeks_in_year(year):
                bad.append(f"column {column!r}: {year} has no ISO week 53 (its last is 52)")
            else:
                week_columns[column] = _Week(year, week)
        elif _DREAM_MONTHLY_COLUMN.fullmatch(column):
            ignored.append(column)
        else:
            unknown.append(column)
    if unknown:
        raise _unknown_columns_error(unknown, "wide")
    if bad:
        more = f" (and {len(bad) - _SHOWN} more)" if len(bad) > _SHOWN else ""
        raise ValueError(f"{what}: {'; '.join(bad[:_SHOWN])}{more}. Week columns are y_YYWW "
                         "with an ISO week of that year: check how the file was exported")
    if not week_columns:
        raise ValueError(f"{what}: no week columns (y_YYWW)")
    by_key: dict[int, str] = {}
    for column, week in week_columns.items():
        if week.key in by_key:
            raise ValueError(f"{what}: columns {by_key[week.key]!r} and {column!r} are the same "
                             f"week ({week.label}); keep one")
        by_key[week.key] = column
    present = sorted(week_columns.values(), key=lambda w: w.key)
    first, last = stated if stated else (present[0], present[-1])
    outside = sorted(c for c, w in week_columns.items() if not first.key <= w.key <= last.key)
    if outside:
        shown = ", ".join(repr(c) for c in outside[:_SHOWN])
        raise ValueError(
            f"{what}: week column(s) {shown}{' …' if len(outside) > _SHOWN else ''} lie "
            f"outside the stated range {first.label} to {last.label}; state the range the "
            "extract really covers (weeks=...) or remove the column(s)"
        )
    gaps = [w for w in _week_range(first, last) if w.key not in by_key]
    if gaps:
        shown = ", ".join(w.column for w in gaps[:_SHOWN])
        raise ValueError(
            f"{what}: {len(gaps)} week(s) of {first.label} to {last.label} have no column "
            f"({shown}{' …' if len(gaps) > _SHOWN else ''}); a week without its column cannot "
            "be told from a week without benefit, so deliver the missing weeks or narrow the "
            "range (weeks=...)"
        )
    code_sql = {column: _text_sql(column, types[column]) for column in week_columns}
    return _DreamLayout("wide", id_column, first, last, week_columns, code_sql, sorted(ignored))


def _long_layout(
    con: duckdb.DuckDBPyConnection,
    types: Mapping[str, str],
    id_column: _IdColumn,
    columns: list[str],
    week_column: str,
    code_column: str,
    stated: tuple[_Week, _Week] | None,
    ignored: list[str],
) -> _DreamLayout:
    what = "DREAM extract (long form)"
    week_name = _find(types, week_column, what)
    code_name = _find(types, code_column, what)
    unknown = [c for c in columns if c not in (week_name, code_name)]
    if unknown:
        raise _unknown_columns_error(unknown, "long")
    week = f"regexp_replace({_text_sql(week_name, types[week_name], 4)}, '^[yY]_', '')"
    four, two = r"^(\d{4})-?[wW]?(\d{2})$", r"^(\d{2})(\d{2})$"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE dream_weeks AS
        SELECT row_no,
               CASE WHEN yyyy IS NOT NULL THEN yyyy WHEN yy >= {_CENTURY_PIVOT} THEN 1900 + yy
                    ELSE 2000 + yy END AS year,
               coalesce(ww4, ww2) AS week
        FROM (
            SELECT rowid + 1 AS row_no,
                   TRY_CAST(nullif(regexp_extract(w, '{four}', 1), '') AS INTEGER) AS yyyy,
                   TRY_CAST(nullif(regexp_extract(w, '{four}', 2), '') AS INTEGER) AS ww4,
                   TRY_CAST(nullif(regexp_extract(w, '{two}', 1), '') AS INTEGER) AS yy,
                   TRY_CAST(nullif(regexp_extract(w, '{two}', 2), '') AS INTEGER) AS ww2
            FROM (SELECT rowid, {week} AS w FROM dream_in)
        )
        """
    )
    _check_long_weeks(con, what, week_name, stated)
    low, high = con.execute(
        "SELECT min(year * 100 + week), max(year * 100 + week) FROM dream_weeks"
    ).fetchall()[0]
    if stated:
        first, last = stated
    elif low is None:
        raise ValueError(f"{what}: no rows, and no stated range (weeks=...)")
    else:
        first, last = _Week(*divmod(low, 100)), _Week(*divmod(high, 100))
    code_sql = {"code": _text_sql(code_name, types[code_name])}
    return _DreamLayout("long", id_column, first, last, {}, code_sql, ignored)


def _rows_text(rows: list[int], total: int) -> str:
    shown = ", ".join(str(r) for r in rows)
    return f"row{'s' if total > 1 else ''} {shown}{f' (of {total})' if total > len(rows) else ''}"


def _check_long_weeks(
    con: duckdb.DuckDBPyConnection, what: str, column: str, stated: tuple[_Week, _Week] | None
) -> None:
    """Refuse weeks that cannot be read, are no ISO week, or lie outside the stated range."""
    no_week_53 = "week = 53 AND year >= 1 AND weekofyear(make_date(year, 12, 28)) = 52"
    problems = {  # each row is named once, for the first problem it has
        "not readable as a week (YYWW, YYYYWW or YYYY-Www)": "week IS NULL",
        "a week number outside 01-53": "week NOT BETWEEN 1 AND 53",
        "week 53 in a year with 52 ISO weeks": no_week_53,
    }
    if stated:
        problems[f"outside the stated range {stated[0].label} to {stated[1].label}"] = (
            f"week BETWEEN 1 AND 53 AND NOT ({no_week_53}) "
            f"AND year * 100 + week NOT BETWEEN {stated[0].key} AND {stated[1].key}")
    messages = []
    for text, condition in problems.items():
        found = con.execute(
            f"SELECT row_no, count(*) OVER () FROM dream_weeks WHERE {condition} "
            f"ORDER BY row_no LIMIT {_SHOWN}"
        ).fetchall()
        if found:
            messages.append(f"{text} in {_rows_text([row for row, _ in found], found[0][1])}")
    if messages:
        raise ValueError(
            f"{what}: column {column!r}: {'; '.join(messages)} (data rows counted from 1). "
            "Check the export of the week column, or state the range the extract covers "
            "(weeks=...)"
        )


# --- months ----------------------------------------------------------------------------------


def _window(
    months: tuple[str, str] | None,
    dream: _DreamLayout | None,
    wage_span: tuple[int | None, int | None] | None,
) -> list[int]:
    """The panel's months (``YYYYMM``), checked against the DREAM range."""
    complete = _complete_months(dream.first, dream.last) if dream else None
    if months is not None:
        first, last = _parse_month(months[0]), _parse_month(months[1])
        if first > last:
            raise ValueError(f"months: {months[0]} is after {months[1]}")
        window = _month_range(first, last)
        uncovered = [m for m in window if complete is not None and m not in set(complete)]
        if uncovered:
            raise ValueError(
                f"months: {len(uncovered)} month(s), e.g. {_month_label(uncovered[0])}, are not "
                f"fully covered by the DREAM weeks {dream.first.label} to {dream.last.label}: "
                "a month needs all its weeks (counted by their Thursdays); narrow months=... "
                "or deliver the missing weeks"
            )
        return window
    has_wages = wage_span is not None and wage_span[0] is not None
    if complete is None and not has_wages:
        raise ValueError("no wage rows to take the months from; state months=(first, last)")
    window = complete if complete is not None else _month_range(*wage_span)
    if has_wages:
        window = [m for m in window if wage_span[0] <= m <= wage_span[1]]
    if not window:
        raise ValueError("no month is covered both by complete DREAM weeks and by the wage "
                         "rows; state months=(first, last)")
    return window


def _parse_month(text: str) -> int:
    match = re.fullmatch(r"(\d{4})-?(\d{2})", str(text).strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"months: {text!r} is not a month; write YYYY-MM")
    return int(match[1]) * 100 + int(match[2])


def _month_range(first: int, last: int) -> list[int]:
    months, month = [], first
    while month <= last:
        months.append(month)
        year, number = divmod(month, 100)
        month = (year + 1) * 100 + 1 if number == 12 else month + 1
    return months


def _month_label(month: int | None) -> str | None:
    return None if month is None else f"{month // 100}-{month % 100:02d}"


def _create_months(con: duckdb.DuckDBPyConnection, window: list[int]) -> None:
    con.register("months_list", pa.table({
        "month": pa.array(window, pa.int32()),
        "weeks": pa.array([_thursdays(m) for m in window], pa.int32()),
    }))
    con.execute("CREATE OR REPLACE TEMP TABLE months AS SELECT * FROM months_list")
    con.unregister("months_list")


# --- DREAM: reduction ------------------------------------------------------------------------


def _reduce_dream(
    con: duckdb.DuckDBPyConnection,
    layout: _DreamLayout,
    window: list[int],
    rules: _Rules,
    restrict_to_persons: bool,
) -> dict:
    """Create ``dream_kept(row_no, cpr)``, ``dream_cells`` (coded weeks of the panel's months)
    and ``dream_month(cpr, month, unemployment_weeks)``; the DREAM accounting."""
    weeks = _week_range(layout.first, layout.last)
    con.register("week_list", pa.table({
        "year_week": pa.array([w.key for w in weeks], pa.int32()),
        "week_column": pa.array([w.column for w in weeks], pa.string()),
        "month": pa.array([iso_week_month(w.year, w.week) for w in weeks], pa.int32()),
    }))
    con.execute("CREATE OR REPLACE TEMP TABLE week_map AS SELECT * FROM week_list")
    con.unregister("week_list")
    population = ("WHEN cpr NOT IN (SELECT cpr FROM persons) THEN 'not_in_population'"
                  if restrict_to_persons else "")
    if layout.form == "wide":
        _dream_wide(con, layout, population)
    else:
        _dream_long(con, layout, population)
    _add_quarantine(con, "dream_classified", "dream")
    _check_codes(con, layout)
    codes = ", ".join(str(code) for code in rules.unemployment_codes)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE dream_month AS
        SELECT cpr, month, count(*) AS unemployment_weeks FROM dream_cells
        WHERE CAST(code AS INTEGER) IN ({codes}) GROUP BY cpr, month
        """
    )
    return _dream_accounting(con, layout, window)


def _dream_wide(con: duckdb.DuckDBPyConnection, layout: _DreamLayout, population: str) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE dream_classified AS
        WITH checked AS (
            SELECT r.row_no, {_cpr_sql('r.raw_id')}
            FROM (SELECT rowid + 1 AS row_no, {layout.id.sql} AS raw_id FROM dream_in) r
            LEFT JOIN cpr_check c ON c.raw_id = r.raw_id
        )
        SELECT row_no, cpr, false AS outside_months,
               CASE WHEN cpr_reason IS NOT NULL THEN cpr_reason
                    WHEN row_number() OVER (PARTITION BY cpr ORDER BY row_no) > 1
                      THEN 'duplicate_cpr'
                    {population} END AS reason
        FROM checked
        """
    )
    _keep_dream_rows(con)
    # Only the weeks of the panel's months are read: DREAM goes back to 1991.
    wanted = {row[0] for row in con.execute(
        "SELECT week_column FROM week_map WHERE month IN (SELECT month FROM months)"
    ).fetchall()}
    columns = {layout.week_columns[c].column: sql for c, sql in layout.code_sql.items()
               if layout.week_columns[c].column in wanted}
    if not columns:
        con.execute("CREATE OR REPLACE TEMP TABLE dream_cells (row_no BIGINT, cpr VARCHAR, "
                    "week_column VARCHAR, code VARCHAR, month INTEGER)")
        return
    selects = ", ".join(f"{sql} AS {_ident(name)}" for name, sql in sorted(columns.items()))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE dream_cells AS
        SELECT k.row_no, k.cpr, u.week_column, u.code, w.month
        FROM (UNPIVOT (SELECT rowid + 1 AS row_no, {selects} FROM dream_in)
              ON COLUMNS('^y_[0-9]{{4}}$') INTO NAME week_column VALUE code) u
        JOIN dream_kept k USING (row_no)
        JOIN week_map w USING (week_column)
        """
    )


def _dream_long(con: duckdb.DuckDBPyConnection, layout: _DreamLayout, population: str) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE dream_classified AS
        WITH checked AS (
            SELECT r.row_no, r.code, w.year * 100 + w.week AS year_week, {_cpr_sql('r.raw_id')}
            FROM (SELECT rowid + 1 AS row_no, {layout.id.sql} AS raw_id,
                         {layout.code_sql['code']} AS code FROM dream_in) r
            JOIN dream_weeks w USING (row_no)
            LEFT JOIN cpr_check c ON c.raw_id = r.raw_id
        ), placed AS (
            SELECT c.*, m.week_column, m.month,
                   m.month NOT IN (SELECT month FROM months) AS outside_months
            FROM checked c JOIN week_map m USING (year_week)
        )
        SELECT row_no, cpr, code, week_column, month,
               CASE WHEN cpr_reason IS NOT NULL THEN cpr_reason
                    {population}
                    WHEN row_number() OVER (PARTITION BY cpr, year_week ORDER BY row_no) > 1
                      THEN 'duplicate_week' END AS reason,
               outside_months
        FROM placed
        """
    )
    _keep_dream_rows(con)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE dream_cells AS
        SELECT row_no, cpr, week_column, code, month FROM dream_classified
        WHERE reason IS NULL AND NOT outside_months AND code IS NOT NULL
        """
    )


def _keep_dream_rows(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dream_kept AS SELECT row_no, cpr FROM dream_classified "
        "WHERE reason IS NULL AND NOT outside_months"
    )


def _check_codes(con: duckdb.DuckDBPyConnection, layout: _DreamLayout) -> None:
    """Refuse codes that are not three-digit DREAM codes, naming their rows and columns."""
    found = con.execute(
        f"""
        SELECT row_no, week_column, count(*) OVER () FROM dream_cells
        WHERE NOT regexp_full_match(code, '[1-9][0-9]{{2}}')
        ORDER BY row_no, week_column LIMIT {_SHOWN}
        """
    ).fetchall()
    if not found:
        return
    total = found[0][2]
    if layout.form == "wide":
        where = "; ".join(f"row {row}, column {column!r}" for row, column, _ in found)
        where += " …" if total > len(found) else ""
    else:
        where = _rows_text([row for row, _, _ in found], total)
    raise ValueError(
        f"DREAM extract: {total} cell(s) hold something that is not a DREAM code (a "
        f"three-digit number 100-999): {where} (data rows counted from 1). Check that the "
        "file was read with the right delimiter and that the week columns hold DREAM codes"
    )


def _dream_group_sql(code: str) -> str:
    cases = " ".join(f"WHEN {code} BETWEEN {low} AND {high} THEN '{group}'"
                     for low, high, group in DREAM_GROUPS)
    return f"CASE {cases} ELSE 'unmapped' END"


def _dream_accounting(con: duckdb.DuckDBPyConnection, layout: _DreamLayout,
                      window: list[int]) -> dict:
    rows_read, kept, outside = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE reason IS NULL AND NOT outside_months), "
        "count(*) FILTER (WHERE reason IS NULL AND outside_months) FROM dream_classified"
    ).fetchall()[0]
    group = _dream_group_sql("CAST(code AS INTEGER)")
    by_group = {name: int(n) for name, n in con.execute(
        f"SELECT {group} AS g, count(*) FROM dream_cells GROUP BY g ORDER BY g").fetchall()}
    unmapped = {int(code): int(n) for code, n in con.execute(
        f"SELECT CAST(code AS INTEGER) AS c, count(*) FROM dream_cells WHERE {group} = "
        "'unmapped' GROUP BY c ORDER BY c"
    ).fetchall()}
    complete = _complete_months(layout.first, layout.last)
    accounting = {
        "form": layout.form,
        "rows_read": int(rows_read), "kept": int(kept), "outside_months": int(outside),
        "quarantined": _reasons(con, "dream"),
        "weeks": {"first": layout.first.label, "last": layout.last.label},
        "complete_months": {"first": _month_label(complete[0] if complete else None),
                            "last": _month_label(complete[-1] if complete else None)},
        "coded_weeks_by_group": by_group,
        "unmapped_codes": unmapped,
        "columns_ignored": layout.ignored,
    }
    if layout.form == "wide":
        person_weeks = int(kept) * sum(_thursdays(month) for month in window)
        accounting["person_weeks"] = person_weeks
        accounting["person_weeks_without_code"] = person_weeks - sum(by_group.values())
    return accounting


# --- wages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WageLayout:
    id: _IdColumn
    month: str  # SQL: the month as YYYYMM, NULL when unreadable
    wage: str  # SQL: the wage as DOUBLE, NULL when unreadable
    occupation: str  # SQL: the occupation code as text ("NULL" when not delivered)
    unused: list[str]


def _wage_layout(con: duckdb.DuckDBPyConnection, columns: WageColumns) -> _WageLayout:
    what = "wages (eIndkomst)"
    types = _types(con, "wages_in")
    id_column = _id_column(types, what)
    month = _find(types, columns.month, what)
    wage = _find(types, columns.wage, what)
    employer = _find(types, columns.employer, what, required=False)
    occupation = _find(types, columns.occupation, what, required=False)
    stored = types[month]
    if stored == "DATE" or stored.startswith("TIMESTAMP"):
        month_sql = f"year({_ident(month)}) * 100 + month({_ident(month)})"
    else:
        text = _text_sql(month, stored)
        digits = f"regexp_replace({text}, '^(\\d{{4}})-?(\\d{{2}})(-\\d{{2}})?$', '\\1\\2')"
        month_sql = (f"CASE WHEN regexp_full_match({text}, '\\d{{4}}-?\\d{{2}}(-\\d{{2}})?') "
                     f"AND CAST(substr({digits}, 5, 2) AS INTEGER) BETWEEN 1 AND 12 "
                     f"AND (length({text}) < 10 OR TRY_CAST({text} AS DATE) IS NOT NULL) "
                     f"THEN CAST({digits} AS INTEGER) END")
    used = {id_column.name, month, wage, employer, occupation}
    return _WageLayout(
        id=id_column, month=month_sql, wage=_number_sql(wage, types[wage]),
        occupation=_text_sql(occupation, types[occupation]) if occupation else "NULL",
        unused=sorted(set(types) - used),
    )


def _read_wages(con: duckdb.DuckDBPyConnection, layout: _WageLayout,
                restrict_to_persons: bool) -> tuple[int | None, int | None]:
    """Create ``wage_classified``; the first and last month of the usable rows."""
    population = ("WHEN cpr NOT IN (SELECT cpr FROM persons) THEN 'not_in_population'"
                  if restrict_to_persons else "")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE wage_classified AS
        WITH checked AS (
            SELECT r.*, {_cpr_sql('r.raw_id')}
            FROM (SELECT rowid + 1 AS row_no, {layout.id.sql} AS raw_id,
                         {layout.month} AS month, {layout.wage} AS wage,
                         {layout.occupation} AS occupation_raw FROM wages_in) r
            LEFT JOIN cpr_check c ON c.raw_id = r.raw_id
        )
        SELECT row_no, cpr, month, wage, occupation_raw,
               CASE WHEN regexp_full_match(occupation_raw, '[0-9]{{1,8}}')
                    THEN substr(occupation_raw, 1, 4) END AS occupation,
               CASE WHEN cpr_reason IS NOT NULL THEN cpr_reason
                    WHEN month IS NULL THEN 'bad_month'
                    WHEN wage IS NULL THEN 'bad_wage'
                    {population} END AS reason
        FROM checked
        """
    )
    low, high = con.execute(
        "SELECT min(month), max(month) FROM wage_classified WHERE reason IS NULL"
    ).fetchall()[0]
    return low, high


def _reduce_wages(con: duckdb.DuckDBPyConnection, span: tuple[int | None, int | None]) -> dict:
    """Create ``wage_month(cpr, month, earnings, occupation)`` over ``months``; the wage
    accounting."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE wage_classified AS
        SELECT *, reason IS NULL AND month NOT IN (SELECT month FROM months) AS outside_months
        FROM wage_classified
        """
    )
    _add_quarantine(con, "wage_classified", "wages")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE wage_month AS
        SELECT cpr, month, sum(wage) AS earnings,
               arg_max(occupation, (wage, occupation)) FILTER (WHERE occupation IS NOT NULL)
                 AS occupation
        FROM wage_classified WHERE reason IS NULL AND NOT outside_months
        GROUP BY cpr, month
        """
    )
    rows_read, kept, outside, occupation_invalid = con.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE reason IS NULL AND NOT outside_months),
               count(*) FILTER (WHERE outside_months),
               count(*) FILTER (WHERE reason IS NULL AND NOT outside_months
                                AND occupation_raw IS NOT NULL AND occupation IS NULL)
        FROM wage_classified
        """
    ).fetchall()[0]
    person_months = int(con.execute("SELECT count(*) FROM wage_month").fetchall()[0][0])
    return {
        "rows_read": int(rows_read), "kept": int(kept), "outside_months": int(outside),
        "quarantined": _reasons(con, "wages"),
        "observed_months": {"first": _month_label(span[0]), "last": _month_label(span[1])},
        "person_months_with_wages": person_months,
        "rows_summed_into_person_months": int(kept) - person_months,
        "occupation_invalid": int(occupation_invalid),
    }


# --- canonical files -------------------------------------------------------------------------


def _monthly_sql(rules: _Rules) -> str:
    weeks = "coalesce(d.unemployment_weeks, 0)"
    return f"""
        SELECT p.cpr, m.month, {_employed_sql(rules, 'coalesce(w.earnings, 0)')} AS employed,
               coalesce(w.earnings, 0.0) AS earnings,
               {_status_sql(rules, weeks, 'm.weeks')} AS jobseeker_category,
               w.occupation, CAST({weeks} AS INTEGER) AS unemployment_weeks,
               CAST(m.weeks AS INTEGER) AS weeks
        FROM persons p CROSS JOIN months m
        LEFT JOIN dream_month d ON d.cpr = p.cpr AND d.month = m.month
        LEFT JOIN wage_month w ON w.cpr = p.cpr AND w.month = m.month
        ORDER BY p.cpr, m.month
    """


def _write(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    """Write ``query`` to ``path`` as Parquet through a temporary file; the rows written."""
    partial = path.with_name(path.name + ".partial")
    con.execute(f"COPY ({query}) TO {_literal(str(partial))} (FORMAT parquet)")
    os.replace(partial, path)
    return int(con.execute(
        f"SELECT count(*) FROM read_parquet({_literal(str(path))})").fetchall()[0][0])


def _monthly_accounting(con: duckdb.DuckDBPyConnection, window: list[int], path: Path) -> dict:
    rows, employed, unemployed, some = con.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE employed = 1),
               count(*) FILTER (WHERE jobseeker_category = 1),
               count(*) FILTER (WHERE jobseeker_category = 2)
        FROM read_parquet({_literal(str(path))})
        """
    ).fetchall()[0]
    return {"months": {"first": _month_label(window[0]), "last": _month_label(window[-1])},
            "n_months": len(window), "rows_written": int(rows),
            "employed_months": int(employed), "registered_unemployed_months": int(unemployed),
            "months_with_some_unemployment_weeks": int(some)}
