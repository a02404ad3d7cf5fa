"""Small hand-made inputs shared by several test modules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipeline.synth.identity import make_personnummer


def make_participants(n: int, seed: int = 1) -> pd.DataFrame:
    """A small participants frame with valid (some coordination) identity numbers."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        birth = dt.date(1965, 1, 1) + dt.timedelta(days=int(rng.integers(0, 35 * 365)))
        year = 2021 + i % 3
        start = pd.Timestamp(year, 2 if i % 2 else 9, 1)
        rows.append(
            {
                "personal_id": make_personnummer(birth, 1 + i % 999, coordination=i % 10 == 0),
                "first_name": f"Fornamn{i:03d}x",
                "last_name": f"Efternamn{i:03d}x",
                "email": f"deltagare{i:03d}@post.example",
                "phone": f"070-{i:03d} 45 67",
                "cohort": f"{year}-{'VT' if i % 2 else 'HT'}",
                "start_date": start,
                "end_date": start + pd.DateOffset(months=6),
                "language": "sv" if rng.random() < 0.6 else "en",
                "female": bool(rng.random() < 0.5),
                "employed_end": int(rng.random() < 0.5),
                "completed": bool(rng.random() < 0.85),
                "n_mentor_meetings": int(rng.integers(0, 12)),
            }
        )
    frame = pd.DataFrame(rows)
    frame["start_date"] = frame["start_date"].astype("datetime64[us]")
    frame["end_date"] = frame["end_date"].astype("datetime64[us]")
    return frame
