"""Synthetic names, e-mail addresses and phone numbers for rosters and survey free text."""

from __future__ import annotations

import unicodedata

import numpy as np

FIRST_NAMES_WOMEN = np.array(
    ["Amina", "Fatima", "Maryam", "Sara", "Leila", "Noor", "Hanna", "Elena", "Olga", "Mariam",
     "Aisha", "Yasmin", "Priya", "Ana", "Sofia", "Hodan", "Zahra", "Rana", "Lina", "Meron"]
)
FIRST_NAMES_MEN = np.array(
    ["Ahmed", "Mohammed", "Omar", "Ali", "Hassan", "Yusuf", "Ivan", "Karim", "Samir", "Tesfaye",
     "Rahul", "Carlos", "Dawit", "Mustafa", "Bilal", "Andrei", "Jamal", "Nikolai", "Farid", "Abdi"]
)
LAST_NAMES = np.array(
    ["Hussein", "Ali", "Mohamed", "Haddad", "Karimi", "Rahimi", "Petrova", "Novak", "Gebre",
     "Osman", "Yilmaz", "Kaya", "Singh", "Garcia", "Rodriguez", "Nguyen", "Ahmadi", "Hosseini",
     "Abdullahi", "Mansour", "Khalil", "Ivanova", "Kowalski", "Tesfay", "Hashemi", "Said"]
)
MAIL_DOMAINS = np.array(["gmail.com", "hotmail.com", "outlook.com", "yahoo.se", "telia.com"])


def draw_names(female: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """First and last names, first names drawn by sex."""
    n = len(female)
    first = np.where(
        female,
        rng.choice(FIRST_NAMES_WOMEN, size=n),
        rng.choice(FIRST_NAMES_MEN, size=n),
    )
    return first, rng.choice(LAST_NAMES, size=n)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def emails(first: np.ndarray, last: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Personal e-mail addresses built from the names."""
    numbers = rng.integers(1, 99, size=len(first))
    domains = rng.choice(MAIL_DOMAINS, size=len(first))
    return np.array(
        [f"{_ascii(f)}.{_ascii(s)}{k}@{d}" for f, s, k, d in zip(first, last, numbers, domains,
                                                                 strict=True)]
    )


def phones(n: int, rng: np.random.Generator) -> np.ndarray:
    """Swedish mobile numbers written as people write them (070-123 45 67)."""
    prefix = rng.choice(["070", "072", "073", "076", "079"], size=n)
    body = rng.integers(0, 10_000_000, size=n)
    return np.array(
        [f"{p}-{b // 10000:03d} {b // 100 % 100:02d} {b % 100:02d}" for p, b in zip(prefix, body,
                                                                                      strict=True)]
    )
