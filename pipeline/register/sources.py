"""Registers that arrive in another shape, reduced to the canonical extract before it is read.

A Swedish LISA-like extract is already canonical: a person table and a monthly table whose
columns the study configuration maps (``data.register.shape: canonical``). Danish DREAM,
eIndkomst and BEF data (``shape: denmark``) and Finnish FOLK annual data (``shape: finland``)
are first reduced by their adapter (:mod:`pipeline.register.denmark`,
:mod:`pipeline.register.finland`) to canonical Parquet files in a private temporary folder,
and the register stage then reads those exactly as it reads a Swedish extract. The canonical
files hold raw identity numbers, so they are never written under ``data_processed/``: the
folder is made readable by its owner only and removed when the stage is done, also on error.
The adapter's quarantine (row numbers and reasons, never an identity number) and accounting
are kept.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.config import RegisterFiles, StudyConfig
from pipeline.register import denmark, finland


@dataclass(frozen=True)
class CanonicalRegister:
    """A study configuration whose register is canonical, and what the adapter did.

    Attributes
    ----------
    config : StudyConfig
        The study's configuration with ``data.register`` pointing at canonical files (the
        original one when the register already was canonical).
    accounting : dict
        The adapter's accounting of its inputs (empty for a canonical register).
    quarantine : DataFrame
        ``input, row, reason, detail``: every input row the adapter set aside.
    """

    config: StudyConfig
    accounting: dict = field(default_factory=dict)
    quarantine: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["input", "row", "reason", "detail"])
    )


@contextlib.contextmanager
def canonical_register(
    config: StudyConfig, temp_directory: str | Path | None = None
) -> Iterator[CanonicalRegister]:
    """Reduce the study's register to the canonical shape for as long as the block runs.

    Parameters
    ----------
    config : StudyConfig
        The study; ``data.register.shape`` decides what is done.
    temp_directory : path, optional
        Where the private folder for the canonical files is made (the system's default when
        None). It is removed when the block ends.

    Yields
    ------
    CanonicalRegister
    """
    files = config.data.register_files
    if files.shape == "canonical":
        yield CanonicalRegister(config)
        return
    if temp_directory is not None:
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="register-", dir=temp_directory))
    try:
        extracts = _reduce(config, files, folder)
        settings = extracts.register_settings()
        if "codes" in files.model_fields_set:
            settings["codes"] = files.codes.model_dump()
        register = RegisterFiles.model_validate(
            {**settings, "duckdb_memory_limit": files.duckdb_memory_limit}
        )
        data = config.data.model_copy(update={"register_files": register})
        yield CanonicalRegister(config.model_copy(update={"data": data}),
                                extracts.accounting, extracts.quarantine)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _reduce(config: StudyConfig, files: RegisterFiles, folder: Path):
    memory = files.duckdb_memory_limit
    if files.shape == "denmark":
        options = {}
        if files.unemployment_codes is not None:
            options["unemployment_codes"] = files.unemployment_codes
        return denmark.build_extracts(
            config.raw_path(files.population), config.raw_path(files.dream),
            config.raw_path(files.wages), folder, weeks=files.dream_weeks,
            memory_limit=memory, temp_directory=folder, **options,
        )
    return finland.build_extracts(config.raw_path(files.folk), folder, years=files.years,
                                  memory_limit=memory, temp_directory=folder)
