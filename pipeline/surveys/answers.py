"""Turning one export column's raw answers into canonical codes with a status per answer.

Statuses
--------
``answered``
    a substantive canonical code (``value``);
``dont_know``
    the scale's "don't know" answer: a valid answer, but no value;
``item_nonresponse``
    the cell is empty (system-missing): the question was not answered;
``out_of_range``
    a code outside the scale or range, or a number where a label was expected without a value
    label; the value becomes missing and the flag stays.

How a raw answer is read
------------------------
* a text answer, or (with ``values: labels``) a code the export labels, is looked up among the
  scale's labels in every language of the codebook;
* with ``values: labels``, a number the export labels nowhere is ``out_of_range`` (6 on a
  labelled 1-5 scale); a number in an export without value labels (CSV, Excel) is read as a
  canonical code;
* with ``values: codes``, a number is the canonical code;
* a numeric item (``range`` instead of a scale) takes any number inside the range.

An answer *label* the codebook does not know is not a status but a gap in the codebook: it is
returned in :attr:`AnswerMapping.unmapped` and cleaning stops until the codebook covers it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.surveys.codebook import Codebook, Item, Source, normalise_label

STATUSES = ("answered", "dont_know", "item_nonresponse", "out_of_range")


@dataclass(frozen=True)
class AnswerMapping:
    """Canonical codes and statuses of one column, in row order.

    Attributes
    ----------
    value : ndarray of float
        Canonical code where ``status == "answered"``, else NaN.
    status : ndarray of object
        One of :data:`STATUSES` per row.
    unmapped : list of str
        Answer labels (cell texts or value labels) the codebook does not cover, sorted.
    """

    value: np.ndarray
    status: np.ndarray
    unmapped: list[str]


def map_answers(
    values: pd.Series,
    value_labels: dict | None,
    item: Item,
    codebook: Codebook,
    source: Source,
) -> AnswerMapping:
    """Map one column of raw answers onto the canonical codes of ``item``.

    Parameters
    ----------
    values : Series
        The export's column: numbers (SPSS, Stata, SAS) or text (CSV, Excel, Qualtrics).
    value_labels : dict or None
        The export's value labels of this column (``{code: label}``), if any.
    item : Item
        The canonical item the column holds.
    codebook : Codebook
        For the item's scale and its labels in every language.
    source : Source
        Whether answers are stored as labels or as canonical codes.

    Returns
    -------
    AnswerMapping
    """
    raw = values.to_numpy(dtype=object)
    empty = pd.isna(raw)
    codes, uniques = pd.factorize(raw[~empty])
    mapped = [_map_one(v, value_labels or {}, item, codebook, source) for v in uniques]
    value = np.full(len(raw), np.nan)
    status = np.full(len(raw), "item_nonresponse", dtype=object)
    if mapped:
        value[~empty] = np.array([m[0] for m in mapped], dtype="float64")[codes]
        status[~empty] = np.array([m[1] for m in mapped], dtype=object)[codes]
    unmapped = sorted({m[2] for m in mapped if m[2] is not None})
    return AnswerMapping(value=value, status=status, unmapped=unmapped)


def unlabelled_value_labels(value_labels: dict | None, item: Item, codebook: Codebook) -> list[str]:
    """Value labels declared in the export for this item that the codebook does not know."""
    if item.scale is None or not value_labels:
        return []
    known = codebook.label_codes(item.scale)
    return sorted({str(t) for t in value_labels.values() if normalise_label(t) not in known})


def _key(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return value


def _number(value: object) -> float | None:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        return None


def _value_label(value: object, number: float | None, value_labels: dict) -> str | None:
    """The export's label of a value: numeric codes, or Stata's extended missing ``"a"``."""
    if not value_labels:
        return None
    if number is not None and float(number).is_integer() and int(number) in value_labels:
        return str(value_labels[int(number)])
    if number is not None and number in value_labels:
        return str(value_labels[number])
    found = value_labels.get(value) if isinstance(value, str) else None
    return None if found is None else str(found)


def _is_empty(value: object) -> bool:
    return _key(value) is None or (isinstance(value, str) and not value.strip())


def _map_one(
    value: object, value_labels: dict, item: Item, codebook: Codebook, source: Source
) -> tuple[float, str, str | None]:
    """(canonical value, status, unmapped label or None) of one raw answer."""
    if _is_empty(value):
        return np.nan, "item_nonresponse", None
    number = _number(value)
    if item.scale is None:  # a count or other number with a valid range
        low, high = item.range  # type: ignore[misc]
        if number is not None and low <= number <= high:
            return number, "answered", None
        return np.nan, "out_of_range", None
    scale = codebook.scales[item.scale]
    labels = codebook.label_codes(item.scale)
    label = _value_label(value, number, value_labels)
    if number is None or (label is not None and source.values == "labels"):
        text = label if label is not None else str(value)  # an answer text or its label
        code = labels.get(normalise_label(text))
        if code is None:
            return np.nan, "out_of_range", text.strip()
    elif source.values == "labels" and value_labels:
        return np.nan, "out_of_range", None  # a code the export itself does not label (6 of 1-5)
    else:  # canonical codes
        code = int(number) if float(number).is_integer() else None
        if code is None or code not in scale.labels:
            return np.nan, "out_of_range", None
    if code == scale.dont_know:
        return np.nan, "dont_know", None
    return float(code), "answered", None
