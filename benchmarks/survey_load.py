"""Survey-cleaning benchmark: 100,000 responses spread over ten SPSS exports.

``python -m benchmarks.survey_load write FOLDER`` writes the exports (deterministic, not timed);
``python -m benchmarks.survey_load clean FOLDER`` cleans them with the demo codebook, as the
clean stage does, and prints the row accounting. :mod:`benchmarks.run` times the second command.
(Run benchmarks with ``-m``, as the Makefile does.)

The exports look like the demo's: identity numbers typed in every form (3% mistyped, some
people answering twice, across files), consent refused now and then, Likert answers with
"don't know" and out-of-range codes, names, e-mail addresses and comments, some of which hold
a phone number or an address, so every cleaning rule does real work.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from pipeline.config import REPO_ROOT
from pipeline.surveys import clean_surveys, load_codebook
from pipeline.synth.identity import make_personnummer

N_FILES = 10
N_RESPONSES = 100_000
N_PEOPLE = 300_000  # drawn with replacement per wave: about 8% answer a wave twice
CODEBOOK = REPO_ROOT / "config" / "codebooks" / "mentor_survey.yml"
KEY = bytes(range(32))
LIKERT = {
    "sv": {1: "Instämmer inte alls", 2: "Instämmer i liten grad", 3: "Instämmer delvis",
           4: "Instämmer i stor grad", 5: "Instämmer helt", 9: "Vet ej"},
    "en": {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree",
           5: "Strongly agree", 9: "Don't know"},
}
YES_NO = {"sv": {1: "Ja", 2: "Nej"}, "en": {1: "Yes", 2: "No"}}
INTAKE_ITEMS = ("conf_job", "know_market", "network", "motivated")
ITEMS = (*INTAKE_ITEMS, "mentor_useful")


def write_exports(folder: Path, seed: int = 1) -> list[Path]:
    """Write the ten exports (intake and end waves, Swedish and English) into ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    born = pd.Timestamp("1960-01-01") + pd.to_timedelta(rng.integers(0, 14_000, N_PEOPLE), "D")
    people = [make_personnummer(d.date(), 2 + i % 997) for i, d in enumerate(born)]
    paths = []
    per_file = N_RESPONSES // N_FILES
    for k in range(N_FILES):
        lang = "sv" if k % 2 == 0 else "en"
        wave = "intake" if k < N_FILES // 2 else "end"
        items = INTAKE_ITEMS if wave == "intake" else ITEMS
        who = rng.integers(0, N_PEOPLE, per_file)
        numbers = [people[i] for i in who]
        typed = [n if j % 3 else f"{n[2:8]}-{n[8:]}" for j, n in enumerate(numbers)]
        mistyped = rng.random(per_file) < 0.03
        typed = [t[:-1] + "0" if m and t[-1] != "0" else t[:-1] + "1" if m else t
                 for t, m in zip(typed, mistyped, strict=True)]
        data = pd.DataFrame(
            {
                "resp_id": np.arange(k * per_file, (k + 1) * per_file, dtype="float64"),
                "submitted": pd.Timestamp("2024-01-01")
                + pd.to_timedelta(rng.integers(0, 300 * 86400, per_file), "s"),
                "lang": lang,
                "pnr": typed,
                "first_name": [f"Namn{i % 500}" for i in who],
                "last_name": [f"Efternamn{i % 900}" for i in who],
                "email": [f"person{i}@mail.example" for i in who],
                "consent": np.where(rng.random(per_file) < 0.03, 2.0, 1.0),
                **{
                    item: rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, 9.0, 6.0, np.nan], per_file,
                                     p=[0.1, 0.15, 0.25, 0.25, 0.15, 0.04, 0.01, 0.05])
                    for item in items
                },
                "comment": rng.choice(
                    ["", "Bra program", "Ring mig på 070-123 45 67", "Mejla mig på a@b.example"],
                    per_file, p=[0.6, 0.3, 0.05, 0.05],
                ),
            }
        )
        labels = {"consent": YES_NO[lang], **{item: LIKERT[lang] for item in items}}
        if wave == "end":
            data["job_now"] = rng.choice([1.0, 2.0], per_file)
            data["meetings"] = rng.integers(0, 15, per_file).astype("float64")
            labels["job_now"] = YES_NO[lang]
        path = folder / f"{wave}_{lang}_{k:02d}.sav"
        pyreadstat.write_sav(
            data,
            str(path),
            variable_value_labels=labels,
            missing_ranges={item: [9] for item in items},
        )
        paths.append(path)
    return paths


def clean_exports_in(folder: Path) -> None:
    """Clean every export in ``folder`` with the demo codebook and print the accounting."""
    paths = sorted(folder.glob("*.sav"))
    cleaning = clean_surveys(paths, load_codebook(CODEBOOK), KEY)
    totals = cleaning.accounting[["rows_read", "rows_kept", "rows_quarantined", "rows_excluded"]]
    print(totals.sum().to_dict())


if __name__ == "__main__":
    command, target = sys.argv[1], Path(sys.argv[2])
    if command == "write":
        write_exports(target)
    elif command == "clean":
        clean_exports_in(target)
    else:
        raise SystemExit("usage: survey_load.py write|clean FOLDER")
