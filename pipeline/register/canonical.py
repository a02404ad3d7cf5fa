"""The canonical extract that every country's adapter writes, and how a study points at it.

The register stage reads two files for every country: ``persons`` (one row per person) and
``monthly`` (one row per person and month, or per person and year at December for annual
registers). The Danish and Finnish adapters (:mod:`pipeline.register.denmark`,
:mod:`pipeline.register.finland`) write them and return a :class:`CanonicalExtracts`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class CanonicalExtracts:
    """The canonical files an adapter wrote and how a study points at them.

    Attributes
    ----------
    persons, monthly : Path
        The files written (they hold raw identity numbers: keep them with the raw data).
    accounting : dict
        The adapter's accounting of its inputs (see its module docstring).
    quarantine : DataFrame
        ``input, row, reason, detail`` for every quarantined input row (no identity number).
    person_columns, monthly_columns : dict
        Values for ``data.register.person_columns`` and ``monthly_columns``.
    codes : dict
        Value for ``data.register.codes``.
    """

    persons: Path
    monthly: Path
    accounting: dict
    quarantine: pd.DataFrame
    person_columns: dict
    monthly_columns: dict
    codes: dict

    def register_settings(self, raw_dir: str | Path | None = None) -> dict:
        """The ``data.register`` section of a study configuration for these files.

        Parameters
        ----------
        raw_dir : path, optional
            The study's ``data.raw_dir``: the file paths are then given relative to it (they
            must lie under it); absolute paths when None.

        Returns
        -------
        dict
            ``persons``, ``monthly``, ``person_columns``, ``monthly_columns`` and ``codes``.
        """
        def where(path: Path) -> str:
            return str(path.relative_to(Path(raw_dir)) if raw_dir is not None else path)

        return {"persons": where(self.persons), "monthly": where(self.monthly),
                "person_columns": dict(self.person_columns),
                "monthly_columns": dict(self.monthly_columns),
                "codes": copy.deepcopy(self.codes)}
