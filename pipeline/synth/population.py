"""Synthetic people: identity numbers and the traits a population register would hold.

Everything here is vectorised over persons and drawn from a caller-supplied generator, so a
chunk of the world is reproducible from its seed alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REGIONS_OF_BIRTH = np.array(
    [
        "Sweden",
        "Nordic countries",
        "EU",
        "Europe other",
        "Middle East and North Africa",
        "Sub-Saharan Africa",
        "Asia",
        "Latin America",
    ]
)
REGION_PROBABILITIES = np.array([0.08, 0.04, 0.12, 0.10, 0.32, 0.14, 0.15, 0.05])
# Log-odds shift of finding a job, by region of birth (same order as above).
REGION_JOB_FINDING = np.array([0.5, 0.4, 0.3, 0.1, -0.25, -0.35, 0.0, 0.1])

MUNICIPALITIES = np.array(["0180", "1480", "1280", "0380", "0580", "1880", "2480"])
MUNICIPALITY_NAMES = {
    "0180": "Stockholm",
    "1480": "Göteborg",
    "1280": "Malmö",
    "0380": "Uppsala",
    "0580": "Linköping",
    "1880": "Örebro",
    "2480": "Umeå",
}
MUNICIPALITY_PROBABILITIES = np.array([0.34, 0.20, 0.15, 0.11, 0.08, 0.07, 0.05])


@dataclass(frozen=True)
class CountryTables:
    """What differs between the countries' synthetic populations: municipality codes (as the
    register writes them, with names for the roster's city column) and the code written for
    each region of birth (``REGIONS_OF_BIRTH`` order; the first is the country itself)."""

    municipalities: dict[str, str]
    region_codes: tuple[str, ...]
    municipality_weights: tuple[float, ...]  # relative population sizes


COUNTRIES = {
    "se": CountryTables(MUNICIPALITY_NAMES, tuple(REGIONS_OF_BIRTH),
                        tuple(MUNICIPALITY_PROBABILITIES)),
    # KOM codes; the Danish adapter writes them with four digits (0101). OPR_LAND-style codes:
    # one country standing for each region (Denmark, Norway, Poland, Ukraine, Syria, Somalia,
    # India, Brazil) - synthetic, not an official concordance.
    "dk": CountryTables(
        {"101": "København", "147": "Frederiksberg", "751": "Aarhus", "461": "Odense",
         "851": "Aalborg", "157": "Gentofte", "159": "Gladsaxe"},
        ("5100", "5110", "5154", "5166", "5474", "5278", "5432", "5392"),
        (0.40, 0.10, 0.20, 0.12, 0.10, 0.04, 0.04),
    ),
    # Statistics Finland municipality codes; ISO 3166 numeric countries of birth (246 Finland).
    "fi": CountryTables(
        {"091": "Helsinki", "049": "Espoo", "837": "Tampere", "853": "Turku", "564": "Oulu",
         "905": "Vaasa", "598": "Pietarsaari", "599": "Pedersöre"},
        ("246", "752", "233", "643", "368", "706", "356", "076"),
        (0.30, 0.15, 0.12, 0.10, 0.10, 0.08, 0.10, 0.05),
    ),
}

# Sun2000niva_old: 1-2 compulsory, 3-4 upper secondary, 5-7 tertiary.
EDUCATION_LEVELS = np.arange(1, 8)
EDUCATION_PROBABILITIES = np.array([0.07, 0.10, 0.16, 0.12, 0.20, 0.27, 0.08])
# Sun2000Inr three-digit field codes (first digit = broad field).
EDUCATION_FIELDS = np.array(["142", "214", "345", "421", "481", "520", "720", "762"])


def luhn_check_digits(digits: np.ndarray) -> np.ndarray:
    """Luhn check digit for each row of a (n, 9) array of decimal digits."""
    weights = np.tile([2, 1], 5)[: digits.shape[1]]
    products = digits * weights
    products = np.where(products > 9, products - 9, products)
    return (10 - products.sum(axis=1) % 10) % 10


def personnummer_array(
    birth_dates: pd.DatetimeIndex,
    female: np.ndarray,
    coordination: np.ndarray,
    rng: np.random.Generator,
    serial_heads: np.ndarray | None = None,
) -> np.ndarray:
    """Valid 12-digit personnummer (``YYYYMMDDNNNC``) for the given people.

    Samordningsnummer (coordination numbers) add 60 to the day of birth. The second-to-last
    digit is odd for men and even for women. The first two serial digits are drawn from
    ``serial_heads`` (default 00-99), which lets separately drawn chunks of a population use
    disjoint number ranges. Numbers are not guaranteed unique; callers redraw duplicates.
    """
    n = len(birth_dates)
    heads = np.arange(100) if serial_heads is None else np.asarray(serial_heads)
    serial_head = rng.choice(heads, size=n)
    sex_digit = rng.integers(0, 5, size=n) * 2 + np.where(female, 0, 1)
    serial = serial_head * 10 + sex_digit
    serial = np.where(serial == 0, 2, serial)  # serial 000 is never issued
    day = birth_dates.day.to_numpy() + np.where(coordination, 60, 0)
    yymmdd = (birth_dates.year.to_numpy() % 100) * 10000 + birth_dates.month.to_numpy() * 100 + day
    nine = yymmdd.astype(np.int64) * 1000 + serial
    digits = (nine[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    check = luhn_check_digits(digits)
    century = birth_dates.year.to_numpy() // 100
    return np.array(
        [f"{c:02d}{x:09d}{k}" for c, x, k in zip(century, nine, check, strict=True)], dtype=object
    )


def draw_people(
    n: int, rng: np.random.Generator, serial_heads: np.ndarray | None = None,
    country: str = "se",
) -> pd.DataFrame:
    """Draw ``n`` people with register traits and an unobserved trait ``u``.

    ``serial_heads`` restricts the first two serial digits of the identity numbers (see
    :func:`personnummer_array`), so that chunks drawn with disjoint heads never collide.

    Returns a DataFrame with canonical column names: personal_id, birth_year, female,
    region_of_birth, immigration_year (NA for Swedish-born), education_level, education_field,
    municipality, u (never written to the register), and job-market parameters used by the
    employment process. ``country`` picks the municipality codes and the region-of-birth codes
    (:data:`COUNTRIES`); ``personal_id`` is always a synthetic personnummer, which
    :func:`pipeline.synth.identity.national_numbers` turns into the country's number.
    """
    tables = COUNTRIES[country]
    birth_year = rng.integers(1962, 2001, size=n)
    day_of_year = rng.integers(0, 365, size=n)
    birth_dates = pd.to_datetime(birth_year.astype(str), format="%Y") + pd.to_timedelta(
        day_of_year, unit="D"
    )
    female = rng.random(n) < 0.5
    region_idx = rng.choice(len(REGIONS_OF_BIRTH), size=n, p=REGION_PROBABILITIES)
    swedish_born = region_idx == 0
    coordination = (~swedish_born) & (rng.random(n) < 0.08)
    dates = pd.DatetimeIndex(birth_dates)
    ids = personnummer_array(dates, female, coordination, rng, serial_heads)
    ids = _redraw_duplicates(ids, dates, female, coordination, rng, serial_heads)

    arrival_age = rng.integers(18, 41, size=n)
    immigration_year = np.minimum(birth_year + arrival_age, 2017).astype(float)
    immigration_year[swedish_born] = np.nan
    education_level = rng.choice(EDUCATION_LEVELS, size=n, p=EDUCATION_PROBABILITIES)
    education_field = rng.choice(EDUCATION_FIELDS, size=n)
    weights = np.array(tables.municipality_weights)
    municipality = rng.choice(np.array(list(tables.municipalities)), size=n,
                              p=weights / weights.sum())
    u = rng.standard_normal(n)
    return pd.DataFrame(
        {
            "personal_id": ids,
            "birth_date": birth_dates,
            "birth_year": birth_year,
            "female": female,
            "region_of_birth": np.array(tables.region_codes, dtype=object)[region_idx],
            "region_idx": region_idx,
            "immigration_year": immigration_year,
            "education_level": education_level,
            "education_field": education_field,
            "municipality": municipality,
            "u": u,
            # person-level wage level (log SEK per month) and propensity to register as unemployed
            "log_wage": 9.9 + 0.07 * education_level - 0.08 * female + 0.15 * u
            + rng.normal(0, 0.15, size=n),
            "registers_when_unemployed": rng.random(n) < 0.7,
        }
    )


def _redraw_duplicates(ids, birth_dates, female, coordination, rng, serial_heads, max_rounds=50):
    for _ in range(max_rounds):
        duplicated = pd.Series(ids).duplicated().to_numpy()
        if not duplicated.any():
            return ids
        idx = np.flatnonzero(duplicated)
        ids[idx] = personnummer_array(
            birth_dates[idx], female[idx], coordination[idx], rng, serial_heads
        )
    raise RuntimeError("could not draw unique identity numbers; the population is too dense")
