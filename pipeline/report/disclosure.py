"""Disclosure control: counts below the study's minimum cell size are never shown."""

from __future__ import annotations

import pandas as pd


def format_count(value: float | int | None, min_cell_count: int) -> str:
    """A count as text, or ``"<min"`` when it is positive but below the minimum cell size."""
    if value is None or pd.isna(value):
        return "–"
    value = int(value)
    if 0 < value < min_cell_count:
        return f"<{min_cell_count}"
    return f"{value:,}"


def suppress_counts(table: pd.DataFrame, columns: list[str], min_cell_count: int) -> pd.DataFrame:
    """Copy of ``table`` with the given count columns formatted and small cells suppressed.

    Parameters
    ----------
    table : DataFrame
        Table holding counts.
    columns : list of str
        The count columns.
    min_cell_count : int
        Smallest count that may be shown.
    """
    out = table.copy()
    for column in columns:
        out[column] = [format_count(v, min_cell_count) for v in table[column]]
    return out


def is_publishable(count: float | int, min_cell_count: int) -> bool:
    """Whether a share or mean computed from ``count`` persons may be shown."""
    return count >= min_cell_count
