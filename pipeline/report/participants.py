"""Who took part: count tables of participants, including the ESF+ common output indicators.

Numbers only. Every function returns tidy counts whose category columns hold stable keys (no
text, no formatting); the report translates the keys and passes every table through
:mod:`pipeline.report.disclosure` before showing it. Categories are complete (zeros included)
and in a meaningful order, as :func:`~pipeline.report.disclosure.protect_frequency_table`
takes them: key columns are ordered Categoricals, except in :func:`esf_indicators`, whose
``category`` column is plain text in row order (see there).

The unit is a participant's entry into a cohort: one row of ``participants.parquet``. A
person listed in two cohorts counts in each, as in the roster and in the matched analysis
(ESF+ monitoring may count a person once per operation: count distinct ``pid`` for that).

Inputs (columns as the pipeline writes them)
    ``participants``: ``pid, cohort, city, start_date, female, birth_year`` (the roster).
    ``baseline``: one row per eligible person and cohort start; the participants are the rows
    with ``treated``. A participant without such a row (not found in the register, or not
    eligible at the cohort's start, e.g. employed the month before when eligibility requires
    not) is counted in ``"not_in_register_data"``, never dropped.

Rules
-----
Age (``age_band``)
    Age at start = year of the participant's own ``start_date`` minus ``birth_year``, the age
    reached in the calendar year of start (only the birth year is known; the register panel
    computes age the same way). Where the roster has no birth year, the register's age at the
    cohort start is used. Bands: ``under_18`` (< 18), ``from_18_to_29``, ``from_30_to_54``,
    ``from_55`` (55 and above): the ESF+ bands plus the middle band that makes them a
    partition.
Sex (``sex``)
    ``women``/``men`` from the roster's ``female`` (derived from the identity number, i.e.
    legal sex), else from the register. Neither source records non-binary persons, so ESF+
    ``non_binary`` is reported as not recorded (``n`` missing), never as zero.
Labour-market status at entry (``labour_market_status``; ESF+ definitions, Annex I allows
national definitions for data from registers)
    ``employed`` (including self-employed): employed in the register in the month before
    start (``employed_m1 == 1``). Monthly employer returns do not cover the self-employed: a
    self-employed person appears as not employed. When eligibility requires not being
    employed the month before (the demo: ``design.not_employed_month_before``), nobody in the
    baseline is employed and participants who were employed are in ``not_in_register_data``.

    ``unemployed`` (including long-term unemployed): registered as openly unemployed with the
    public employment service (the pipeline's ``registered_unemployed`` codes) and not
    employed. Exactly, with ``history`` (the outcome paths, which hold the month before start):
    registered unemployed in the month before start. Without it only
    ``months_unemployed_12`` is known, and the approximation is: registered unemployed in at
    least one of the 12 months before start. This is an upper bound: someone who left the
    register for study or other inactivity during that year counts as unemployed, not
    inactive.

    ``long_term_unemployed``: continuously unemployed for more than 12 months, or more than 6
    months when under 25 at entry (the European Commission's ESF monitoring guidance). With
    ``history``: the unbroken run of registered-unemployed months ending in the month before
    start is longer than 12 (6) months; a month without a register row breaks the run, as the
    panel counts it as not unemployed. Without ``history``: aged 25 or more and registered
    unemployed in all 12 months before start (a run of at least 12, so exactly 12 months is
    counted although the definition says more than 12), or under 25 and registered
    unemployed in at least 7 of the 12 months (continuity is not observed). Both are upper
    bounds. The returned frames carry the route taken in
    ``attrs["labour_market_source"]`` (``"history"`` or ``"baseline_approximation"``).

    ``inactive``: neither employed nor unemployed.
Education (``education_level``, ``isced``)
    ``education_level`` is the Swedish education register's ``Sun2000niva_old`` (1 compulsory
    < 9 years, 2 compulsory 9 (10) years, 3 upper secondary <= 2 years, 4 upper secondary 3
    years, 5 post-secondary < 3 years, 6 post-secondary >= 3 years, 7 doctoral education),
    keyed ``level_1`` ... ``level_7``. ISCED 2011 groups follow Statistics Sweden's SUN 2000
    levels, which were built to match ISCED (SCB, *Svensk utbildningsnomenklatur SUN 2000*,
    MIS 2000:1; SCB publishes the SUN-ISCED keys on its SUN page, scb.se/sun): 1-2
    (förgymnasial) -> ISCED 0-2, 3-4 (gymnasial) -> ISCED 3-4, 5-7 (eftergymnasial and
    forskarutbildning) -> ISCED 5-8. Caveat: level 5 includes post-secondary courses shorter
    than two years (SUN 2000 level 41) that ISCED 2011 places at level 4 when they are not
    tertiary, so ``isced_5_8`` may include a few persons with ISCED 4; the aggregated
    ``Sun2000niva_old`` code cannot separate them (the 3-digit ``Sun2000Niva`` could). A
    missing level is ``not_known``. The field is the first digit of the SUN 2000 field code
    (``broad_0`` ... ``broad_9``; 9 = field unknown), missing: ``not_known``.
Foreign background (``background``)
    Only with ``native_born_regions`` (the study's ``data.register.codes``): a participant
    born abroad has a foreign background under any national definition (Statistics Sweden:
    born abroad, or born in Sweden with both parents born abroad); one born in the country is
    ``born_in_country`` (parents' country of birth is not recorded, so their background is
    unknown). Without ``native_born_regions`` the indicator is not recorded.
Not recorded
    Third-country nationals (needs citizenship, not country of birth), participants with
    disabilities, minorities, homeless or affected by housing exclusion, participants from
    rural areas: none of these is in the data; :func:`esf_indicators` lists them with ``n``
    missing. Annex I also allows reporting an indicator for all participants when the
    operation's eligibility criteria imply it (e.g. a programme only for third-country
    nationals); that is the programme owner's statement, not something computed here.

``not_known`` appears as a category only where some value is missing; every other category
is always present.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

NOT_KNOWN = "not_known"
NOT_IN_REGISTER = "not_in_register_data"

SEXES = ("women", "men")
ESF_SEXES = ("women", "men", "non_binary")  # ESF+ breaks personal data down by these
AGE_BANDS = ("under_18", "from_18_to_29", "from_30_to_54", "from_55")
LABOUR_MARKET_STATUSES = ("unemployed", "inactive", "employed")
LONG_TERM = ("long_term_unemployed", "other")
EDUCATION_LEVELS = tuple(f"level_{level}" for level in range(1, 8))
ISCED_GROUPS = ("isced_0_2", "isced_3_4", "isced_5_8")
# Sun2000niva_old -> ISCED 2011 group; source and caveat in the module docstring.
ISCED_OF_LEVEL = {
    "level_1": "isced_0_2",  # förgymnasial utbildning kortare än 9 år (ISCED 0-1)
    "level_2": "isced_0_2",  # förgymnasial utbildning 9 (10) år (ISCED 2)
    "level_3": "isced_3_4",  # gymnasial utbildning, högst 2 år (ISCED 3)
    "level_4": "isced_3_4",  # gymnasial utbildning, 3 år (ISCED 3)
    "level_5": "isced_5_8",  # eftergymnasial utbildning, mindre än 3 år (ISCED 5; partly 4)
    "level_6": "isced_5_8",  # eftergymnasial utbildning, 3 år eller längre (ISCED 6-7)
    "level_7": "isced_5_8",  # forskarutbildning (ISCED 8)
}
EDUCATION_FIELDS = tuple(f"broad_{digit}" for digit in range(10))
BACKGROUNDS = ("foreign_background", "born_in_country")

PARTICIPANT_COLUMNS = ("pid", "cohort", "city", "start_date", "female", "birth_year")
BASELINE_COLUMNS = (
    "pid", "cohort", "treated", "age", "female", "education_level", "education_field",
    "employed_m1", "months_unemployed_12",
)
HISTORY_COLUMNS = ("pid", "cohort", "rel_month", "registered_unemployed")

ROSTER_DIMENSIONS = ("cohort", "city", "sex", "age_band")
REGISTER_DIMENSIONS = (
    "labour_market_status", "long_term", "education_level", "isced", "education_field",
    "background",
)
# The tables of the participants section: each breakdown alone and cohort x one other.
STANDARD_BREAKDOWNS = (
    ("cohort",), ("city",), ("sex",), ("age_band",),
    ("cohort", "city"), ("cohort", "sex"), ("cohort", "age_band"),
)
# ESF+ common output indicator codes (SFC2021: EECO01 total ... EECO17), in Annex I order.
ESF_CODES = {
    "total": "EECO01",
    "unemployed": "EECO02",
    "long_term_unemployed": "EECO03",
    "inactive": "EECO04",
    "employed": "EECO05",
    "under_18": "EECO06",
    "from_18_to_29": "EECO07",
    "from_55": "EECO08",
    "isced_0_2": "EECO09",
    "isced_3_4": "EECO10",
    "isced_5_8": "EECO11",
    "disabilities": "EECO12",
    "third_country_nationals": "EECO13",
    "foreign_background": "EECO14",
    "minorities": "EECO15",
    "homeless": "EECO16",
    "rural_areas": "EECO17",
}
NOT_RECORDED = ("disabilities", "third_country_nationals", "minorities", "homeless", "rural_areas")


# --- one row per participant entry ---------------------------------------------------------


def classify_participants(
    participants: pd.DataFrame,
    baseline: pd.DataFrame | None = None,
    *,
    history: pd.DataFrame | None = None,
    native_born_regions: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Every participant entry with the category keys all count tables are built from.

    Parameters
    ----------
    participants : DataFrame
        The roster: ``pid, cohort, city, start_date, female, birth_year``; one row per
        participant and cohort.
    baseline : DataFrame, optional
        The panel's baseline; its ``treated`` rows are the participants found in the register
        and eligible at start. Without it only the roster columns are classified.
    history : DataFrame, optional
        Monthly register status around start, ``pid, cohort, rel_month,
        registered_unemployed`` (as in ``outcomes.parquet``), covering at least the 13 months
        before start. With it, unemployment at entry and its duration are exact; without it
        they are approximated from the baseline (module docstring).
    native_born_regions : iterable of str, optional
        ``region_of_birth`` values meaning born in the country (the study's
        ``data.register.codes.native_born_regions``); needed for ``background``, which needs
        ``region_of_birth`` in the baseline.

    Returns
    -------
    DataFrame
        One row per roster row: ``pid``, ``age`` (Int64, at start), ``in_register`` (bool, only
        with a baseline) and the ordered Categoricals ``cohort`` (by start), ``city``
        (alphabetical), ``sex``, ``age_band`` and, with a baseline, ``labour_market_status``,
        ``long_term``, ``education_level``, ``isced``, ``education_field`` and, with
        ``native_born_regions``, ``background``. ``attrs["labour_market_source"]`` says how
        the labour-market status was measured.

    Raises
    ------
    ValueError
        A required column is missing (named), a participant is listed twice in a cohort, the
        baseline has participants the roster does not list, or a code is not recognised.
    """
    _require(participants, PARTICIPANT_COLUMNS, "participants")
    if participants.duplicated(["pid", "cohort"]).any():
        raise ValueError("participants lists a pid more than once in the same cohort")
    roster = participants.reset_index(drop=True)
    start = pd.to_datetime(roster["start_date"], errors="coerce")
    birth_year = pd.to_numeric(roster["birth_year"], errors="coerce")
    age = pd.Series(pd.array(start.dt.year, dtype="Int64") - pd.array(birth_year, dtype="Int64"))
    female = pd.Series(pd.array(roster["female"], dtype="boolean"))
    out = pd.DataFrame({"pid": roster["pid"].to_numpy()})
    out["cohort"] = _ordered(_labelled(roster["cohort"]), cohort_order(roster))
    out["city"] = _ordered(
        _labelled(roster["city"]), sorted(roster["city"].dropna().astype(str).unique())
    )
    if baseline is not None:
        register = _register_rows(roster, baseline, history, native_born_regions)
        # the register fills in what the roster lacks
        age = age.fillna(register["age"])
        female = female.fillna(register["female"])
    out["age"] = age.astype("Int64")
    sex = np.where(female.fillna(False).to_numpy(dtype=bool), "women", "men")
    out["sex"] = _ordered(
        pd.Series(sex, dtype=object).where(female.notna().to_numpy(), NOT_KNOWN), SEXES
    )
    out["age_band"] = _ordered(age_band(out["age"]), AGE_BANDS)
    out.attrs["labour_market_source"] = None
    if baseline is None:
        return out
    in_register = register["in_register"].to_numpy()
    out["in_register"] = in_register
    absent = pd.Series(NOT_IN_REGISTER, index=out.index, dtype=object)

    status, long_term = _labour_market(register, out["age"], history)
    out["labour_market_status"] = _ordered(
        status.where(in_register, absent), LABOUR_MARKET_STATUSES, NOT_IN_REGISTER
    )
    out["long_term"] = _ordered(long_term.where(in_register, "other"), LONG_TERM)
    level = _education_level(register["education_level"]).where(in_register, absent)
    out["education_level"] = _ordered(level, EDUCATION_LEVELS, NOT_IN_REGISTER)
    out["isced"] = _ordered(level.replace(ISCED_OF_LEVEL), ISCED_GROUPS, NOT_IN_REGISTER)
    field = _education_field(register["education_field"]).where(in_register, absent)
    out["education_field"] = _ordered(field, EDUCATION_FIELDS, NOT_IN_REGISTER)
    if native_born_regions is not None:
        out["background"] = _ordered(
            _background(register["region_of_birth"], native_born_regions)
            .where(in_register, absent),
            BACKGROUNDS, NOT_IN_REGISTER,
        )
    out.attrs["labour_market_source"] = (
        "history" if history is not None else "baseline_approximation"
    )
    return out


def cohort_order(participants: pd.DataFrame) -> list[str]:
    """Cohorts ordered by their first participant's start date, then by name."""
    _require(participants, ("cohort", "start_date"), "participants")
    first = (
        participants.assign(start=pd.to_datetime(participants["start_date"], errors="coerce"))
        .dropna(subset=["cohort"])
        .groupby("cohort", sort=False)["start"].min()
    )
    frame = pd.DataFrame({"cohort": first.index.astype(str), "start": first.to_numpy()})
    return frame.sort_values(["start", "cohort"], na_position="last")["cohort"].tolist()


def age_band(age: pd.Series) -> pd.Series:
    """Age in years -> ``under_18``, ``from_18_to_29``, ``from_30_to_54``, ``from_55`` or
    ``not_known`` (missing age), as plain text."""
    age = pd.Series(age)
    years = pd.to_numeric(age, errors="coerce").astype("Float64").to_numpy(
        dtype=float, na_value=np.nan
    )
    bands = np.select(
        [years < 18, years < 30, years < 55, years >= 55], list(AGE_BANDS), default=NOT_KNOWN
    )
    return pd.Series(bands, index=age.index, dtype=object)


# --- count tables --------------------------------------------------------------------------


def participant_counts(
    participants: pd.DataFrame,
    by: Sequence[str],
    baseline: pd.DataFrame | None = None,
    *,
    history: pd.DataFrame | None = None,
    native_born_regions: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Participants counted by one or two characteristics.

    Parameters
    ----------
    participants : DataFrame
        The roster (see :func:`classify_participants`).
    by : sequence of str
        One or two of ``cohort``, ``city``, ``sex``, ``age_band`` and, with a baseline,
        ``labour_market_status``, ``long_term``, ``education_level``, ``isced``,
        ``education_field``, ``background`` (the last with ``native_born_regions``). The
        participants section's tables are :data:`STANDARD_BREAKDOWNS`.
    baseline, history, native_born_regions
        As in :func:`classify_participants`.

    Returns
    -------
    DataFrame
        ``*by, n``: every combination of categories (ordered Categoricals), zeros included,
        in category order; ``n`` int64. Ready for ``protect_frequency_table(table, "n", by)``.
    """
    keys = list(by)
    allowed = ROSTER_DIMENSIONS + (REGISTER_DIMENSIONS if baseline is not None else ())
    unknown = [key for key in keys if key not in allowed]
    if unknown:
        needs = [key for key in unknown if key in REGISTER_DIMENSIONS]
        hint = " (needs the baseline)" if needs else ""
        raise ValueError(f"cannot count participants by {unknown}{hint}; use {list(allowed)}")
    if not 1 <= len(keys) <= 2 or len(set(keys)) != len(keys):
        raise ValueError(f"by must name one or two different characteristics, got {keys}")
    classified = classify_participants(
        participants, baseline, history=history, native_born_regions=native_born_regions
    )
    if "background" in keys and "background" not in classified:
        raise ValueError("counting by background needs native_born_regions")
    return count(classified, keys)


def count(classified: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Count the rows of a :func:`classify_participants` frame by its category columns.

    Returns every combination of categories, zeros included, as ``*by, n``.
    """
    keys = list(by)
    counts = classified.groupby(keys, observed=False, sort=True).size()
    out = counts.rename("n").reset_index()
    out["n"] = out["n"].astype("int64")
    out.attrs = dict(classified.attrs)
    return out


def labour_market_counts(
    participants: pd.DataFrame,
    baseline: pd.DataFrame,
    *,
    history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Labour-market status at entry by long-term unemployment, for disclosure control.

    The ESF+ list nests "long-term unemployed" inside "unemployed, including long-term
    unemployed"; published side by side, their difference (the short-term unemployed) is a
    count too. As a two-way table both are margins, protected together:
    ``protect_frequency_table(table, "n", ["labour_market_status", "long_term"])``, then
    "unemployed" is the row total of ``unemployed``, "long-term unemployed" the column total
    of ``long_term_unemployed``, "inactive"/"employed" the row totals of theirs.

    Returns
    -------
    DataFrame
        ``labour_market_status`` (``unemployed, inactive, employed, not_in_register_data``),
        ``long_term`` (``long_term_unemployed, other``), ``n``; all eight cells (the
        structural zeros too).
    """
    classified = classify_participants(participants, baseline, history=history)
    return count(classified, ["labour_market_status", "long_term"])


def esf_indicators(
    participants: pd.DataFrame,
    baseline: pd.DataFrame,
    *,
    history: pd.DataFrame | None = None,
    native_born_regions: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The ESF+ common output indicators for participants (Regulation (EU) 2021/1057, Annex I).

    Rules and sources per indicator are in the module docstring.

    Parameters
    ----------
    participants, baseline, history, native_born_regions
        As in :func:`classify_participants`.

    Returns
    -------
    DataFrame
        Long table ``indicator, category, code, esf, n`` in reporting order:

        - ``total``/``participants`` (EECO01; translate with ``esf.total``);
        - ``labour_market_status``: ``unemployed`` (including long-term), ``long_term_unemployed``
          (a part of ``unemployed``), ``inactive``, ``employed``, ``not_in_register_data``;
        - ``age``: ``under_18``, ``from_18_to_29``, ``from_30_to_54``, ``from_55``
          [, ``not_known``];
        - ``education``: ``isced_0_2``, ``isced_3_4``, ``isced_5_8`` [, ``not_known``],
          ``not_in_register_data``;
        - ``sex``: ``women``, ``men``, ``non_binary`` (not recorded) [, ``not_known``];
        - ``background``: ``foreign_background``, ``born_in_country`` [, ``not_known``],
          ``not_in_register_data`` (with ``native_born_regions``; else ``foreign_background``
          alone, not recorded);
        - ``other``: ``disabilities``, ``third_country_nationals``, ``minorities``,
          ``homeless``, ``rural_areas`` (not recorded).

        ``indicator`` is an ordered Categorical; ``category`` is plain text in row order, so a
        block filtered by indicator goes straight into ``protect_frequency_table(block, "n",
        "category")``. ``code`` is the ESF+ indicator code (``EECO..``; the sex breakdown
        has none). ``esf`` is True for the rows ESF+ asks for and False for those that only
        complete a block (``from_30_to_54``, ``not_known``, ``not_in_register_data``,
        ``born_in_country``): with them, the recorded rows of each block except
        ``labour_market_status`` add up to the total. ``n`` is Int64 and missing
        (``<NA>``) where the data do not record the indicator: say "not recorded", never 0,
        and drop those rows before disclosure control. Protect the labour-market block with
        :func:`labour_market_counts`, which nests long-term unemployment properly.
        ``attrs["labour_market_source"]``: ``"history"`` or ``"baseline_approximation"``.
    """
    classified = classify_participants(
        participants, baseline, history=history, native_born_regions=native_born_regions
    )
    rows: list[tuple[str, str, int | None]] = [("total", "participants", len(classified))]

    def block(indicator: str, column: str) -> None:
        counts = classified[column].value_counts(sort=False)
        rows.extend((indicator, str(category), int(n)) for category, n in counts.items())

    labour = classified["labour_market_status"].value_counts(sort=False)
    long_term = int((classified["long_term"] == "long_term_unemployed").sum())
    rows += [
        ("labour_market_status", "unemployed", int(labour["unemployed"])),
        ("labour_market_status", "long_term_unemployed", long_term),
        ("labour_market_status", "inactive", int(labour["inactive"])),
        ("labour_market_status", "employed", int(labour["employed"])),
        ("labour_market_status", NOT_IN_REGISTER, int(labour[NOT_IN_REGISTER])),
    ]
    block("age", "age_band")
    block("education", "isced")
    sexes = classified["sex"].value_counts(sort=False)
    rows += [("sex", "women", int(sexes["women"])), ("sex", "men", int(sexes["men"])),
             ("sex", "non_binary", None)]
    if NOT_KNOWN in sexes.index:
        rows.append(("sex", NOT_KNOWN, int(sexes[NOT_KNOWN])))
    if "background" in classified:
        block("background", "background")
    else:
        rows.append(("background", "foreign_background", None))
    rows += [("other", indicator, None) for indicator in NOT_RECORDED]

    table = pd.DataFrame(rows, columns=["indicator", "category", "n"])
    indicators = list(dict.fromkeys(table["indicator"]))
    table["indicator"] = pd.Categorical(table["indicator"], categories=indicators, ordered=True)
    table["category"] = table["category"].astype(object)
    code = [
        ESF_CODES["total"] if indicator == "total" else ESF_CODES.get(category)
        for indicator, category in zip(table["indicator"], table["category"], strict=True)
    ]
    table.insert(2, "code", pd.Series(code, dtype=object))
    table.insert(3, "esf", table["code"].notna() | (table["indicator"] == "sex")
                 & table["category"].isin(ESF_SEXES))
    table["n"] = pd.array(table["n"].tolist(), dtype="Int64")
    table.attrs = dict(classified.attrs)
    return table


# --- helpers -------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s): {', '.join(missing)}")


def _labelled(values: pd.Series) -> pd.Series:
    """Text keys with missing values as ``not_known``."""
    return values.astype(object).where(values.notna(), NOT_KNOWN).astype(str)


def _ordered(values: pd.Series, categories: Sequence[str], *last: str) -> pd.Series:
    """An ordered Categorical: ``categories``, then ``not_known`` only when it occurs, then
    ``last``."""
    values = pd.Series(values, dtype=object).reset_index(drop=True)
    unknown = [NOT_KNOWN] if (values == NOT_KNOWN).any() and NOT_KNOWN not in categories else []
    levels = [*categories, *unknown, *last]
    stray = sorted(set(values.dropna()) - set(levels))
    if stray or values.isna().any():
        raise ValueError(f"unexpected categories {stray or ['<missing>']} (expected {levels})")
    return pd.Series(pd.Categorical(values, categories=levels, ordered=True))


def _treated(baseline: pd.DataFrame) -> pd.Series:
    if baseline["treated"].isna().any():
        raise ValueError("baseline: treated has missing values")
    return baseline["treated"].astype(bool)


def _register_rows(
    roster: pd.DataFrame,
    baseline: pd.DataFrame,
    history: pd.DataFrame | None,
    native_born_regions: Iterable[str] | None,
) -> pd.DataFrame:
    """The baseline row of each roster row (aligned with it), with ``in_register``."""
    columns = list(BASELINE_COLUMNS)
    if native_born_regions is not None:
        columns.append("region_of_birth")
    _require(baseline, columns, "baseline")
    treated = baseline.loc[_treated(baseline), columns].drop(columns="treated")
    if treated.duplicated(["pid", "cohort"]).any():
        raise ValueError("baseline has more than one participant row for a pid and cohort")
    keys = roster[["pid", "cohort"]]
    merged = keys.merge(treated, on=["pid", "cohort"], how="left", indicator=True)
    unlisted = len(treated) - int((merged["_merge"] == "both").sum())
    if unlisted:
        raise ValueError(
            f"baseline has {unlisted} participant row(s) that participants does not list: "
            "the two files come from different runs"
        )
    merged["in_register"] = (merged["_merge"] == "both").to_numpy()
    merged["age"] = pd.array(pd.to_numeric(merged["age"], errors="coerce"), dtype="Int64")
    female = pd.to_numeric(merged["female"].astype(object), errors="coerce")
    merged["female"] = pd.array(female.map({1: True, 0: False}), dtype="boolean")
    for column in ("employed_m1", "months_unemployed_12"):
        # the panel's convention: a month without a register row is neither employed nor
        # unemployed
        merged[column] = pd.to_numeric(merged[column], errors="coerce").fillna(0)
    if history is not None:
        merged["spell"] = _unemployment_spell(history, keys)
    return merged.drop(columns="_merge")


def _unemployment_spell(history: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Months of unbroken registered unemployment ending in the month before start."""
    _require(history, HISTORY_COLUMNS, "history")
    before = history.loc[pd.to_numeric(history["rel_month"], errors="coerce") < 0,
                         list(HISTORY_COLUMNS)]
    before = before.merge(keys.dropna().drop_duplicates(), on=["pid", "cohort"])
    if before.empty or before["rel_month"].min() > -13:
        raise ValueError("history must cover at least the 13 months before start")
    if before.duplicated(["pid", "cohort", "rel_month"]).any():
        raise ValueError("history has more than one row for a pid, cohort and month")
    unemployed = before.loc[pd.to_numeric(before["registered_unemployed"]).fillna(0) == 1]
    back = (-unemployed["rel_month"]).astype("int64").rename("back")
    runs = pd.concat([unemployed[["pid", "cohort"]], back], axis=1).sort_values(
        ["pid", "cohort", "back"]
    )
    # months back 1, 2, 3 ... are unbroken while the k-th month found is month k
    runs["unbroken"] = runs["back"] == runs.groupby(["pid", "cohort"]).cumcount() + 1
    spell = runs.groupby(["pid", "cohort"])["unbroken"].sum().rename("spell").reset_index()
    aligned = keys.merge(spell, on=["pid", "cohort"], how="left")["spell"]
    return aligned.fillna(0).astype("int64").to_numpy()


def _labour_market(
    register: pd.DataFrame, age: pd.Series, history: pd.DataFrame | None
) -> tuple[pd.Series, pd.Series]:
    """Status at entry and long-term unemployment (rules in the module docstring)."""
    employed = register["employed_m1"].to_numpy() == 1
    young = (pd.array(age, dtype="Int64") < 25).fillna(False).to_numpy(dtype=bool)
    if history is not None:
        spell = register["spell"].to_numpy()
        unemployed = ~employed & (spell >= 1)
        long_term = unemployed & np.where(young, spell > 6, spell > 12)
    else:
        months = register["months_unemployed_12"].to_numpy()
        unemployed = ~employed & (months >= 1)
        long_term = unemployed & np.where(young, months >= 7, months >= 12)
    status = np.select([employed, unemployed], ["employed", "unemployed"], default="inactive")
    return (pd.Series(status, dtype=object),
            pd.Series(np.where(long_term, "long_term_unemployed", "other"), dtype=object))


def _education_level(values: pd.Series) -> pd.Series:
    """Sun2000niva_old codes ("1" ... "7", also 1 or "1.0") -> ``level_1`` ... ``level_7``."""
    def key(value) -> str:
        if pd.isna(value) or str(value).strip() == "":
            return NOT_KNOWN
        try:
            number = float(str(value).strip())
        except ValueError:
            number = float("nan")
        if number.is_integer() and 1 <= number <= 7:
            return f"level_{int(number)}"
        raise ValueError(f"education_level {value!r} is not a Sun2000niva_old code (1-7)")

    return pd.Series([key(v) for v in values.astype(object)], dtype=object)


def _education_field(values: pd.Series) -> pd.Series:
    """SUN 2000 field codes -> broad field ``broad_<first digit>``."""
    def key(value) -> str:
        text = "" if pd.isna(value) else str(value).strip()
        if text == "":
            return NOT_KNOWN
        if not text[0].isdigit():
            raise ValueError(f"education_field {value!r} is not a SUN 2000 field code")
        return f"broad_{text[0]}"

    return pd.Series([key(v) for v in values.astype(object)], dtype=object)


def _background(regions: pd.Series, native_born_regions: Iterable[str]) -> pd.Series:
    native = {str(region) for region in native_born_regions}
    text = regions.astype(object)
    keys = np.where(text.isin(native), "born_in_country", "foreign_background")
    return pd.Series(keys, dtype=object).where(text.notna().to_numpy(), NOT_KNOWN)
