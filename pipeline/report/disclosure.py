"""Statistical disclosure control: the one module every table of the report passes through.

Conventions (applied here, not per table):

Minimum cell size
    A count ``n`` with ``0 < n < rules.min_cell_count`` is never shown (*primary
    suppression*; the threshold rule of frequency tables). It applies to every published
    count, including row and column totals (margins).

Secondary suppression
    A suppressed cell must not be recoverable from the published totals. A row or column
    whose total is published therefore never holds exactly one suppressed cell, nor only
    suppressed cells that can all only be 1: the smallest other non-zero cell of that line is
    suppressed as well (or, when there is none, the line's total), and this is repeated over
    rows and columns until nothing changes. A total below the minimum is itself primary
    suppressed and then needs partners in its own line of totals. That line rule
    is necessary but not sufficient (two blocks of suppressed cells joined by a single cell
    leave that cell recoverable although every line holds two suppressions), so the result is
    then audited the way an intruder would attack it: for every suppressed cell the smallest
    and largest value consistent with everything published are computed by linear
    programming (:func:`find_disclosure_risks`). While a primary cell is still determined
    exactly, another cell next to it is suppressed. The audit is what guarantees the result;
    the line rule only makes it converge quickly.

Zeros
    Zeros are shown, never suppressed, and never count as a suppression partner: a zero
    (structural, such as a cohort that cannot contain a category, or empty) says nothing about
    an individual. Because zeros are shown, a reader knows that every suppressed cell is at
    least 1; the audit uses that lower bound, which is what catches the "singleton" problem
    (two suppressed cells summing to 2 must both be 1).

Shares and means
    A share is the pair of counts ``numerator`` and ``denominator - numerator`` with their
    total, so it is shown only when that count table may be shown: the denominator is at
    least the minimum, and neither the numerator nor its complement lies between 1 and
    ``min_cell_count - 1`` ("86% of 7 employed" tells that exactly one is not). 0% and 100%
    are shown when the denominator is large enough, consistently with zeros in count tables:
    "100% of 7" is the count table (7, 0), which the threshold rule allows; that it tells
    something about each of the seven is group disclosure (see *Limits*). A mean is shown
    only when computed from at least ``min_cell_count`` persons. With a published total row
    the same secondary suppression applies, so a hidden share or mean cannot be recovered
    from the total either.

Medians and extremes
    A minimum or maximum is one person's value and is never shown. A quantile is shown only
    when at least ``min_cell_count`` persons lie strictly below and strictly above the
    observations it is computed from (:func:`may_show_quantile`); for the median that means
    at least ``2 * min_cell_count + 1`` persons.

Presentation
    Protection and formatting are separate: :class:`ProtectedTable` holds numbers with
    ``<NA>`` where suppressed, and the report layer formats them in its own language
    (:meth:`ProtectedTable.formatted`). All suppressed cells must be shown with one and the
    same marker: a reader who can tell primary from secondary suppressions learns that the
    primary ones are small. ``ProtectedTable.reason`` is for audit and tests, not for display.

Limits
    Group (attribute) disclosure, such as every member of a small cohort being in one
    category, is not covered by the threshold rule and is not prevented here. Neither is
    dominance in sums and means of magnitudes (one person's earnings making up most of a
    total). Protection is per table: a total published in another table or in the text must
    be passed as a margin of this table, or the two can be combined.

These follow common practice in official statistics, e.g. the ESSnet *Handbook on
Statistical Disclosure Control* (Hundepool et al.; chapter 5, frequency tables: threshold
rule, primary and secondary cell suppression, margins), and the note on singletons and zeros
of the R package easySdcTable (why a suppressed cell known to be non-zero can be recovered).

A single count shown without totals in running text is formatted by the report's
``Context.count`` with :meth:`DisclosureRules.is_small`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd
from scipy.linalg import null_space
from scipy.optimize import linprog

PRIMARY = "primary"
SECONDARY = "secondary"

Cell = tuple[int, int]
Line = tuple[tuple[Cell, ...], Cell]  # the member cells and the cell holding their sum


@dataclass(frozen=True)
class DisclosureRules:
    """The disclosure rules of a study.

    Parameters
    ----------
    min_cell_count : int, default 5
        Smallest positive count that may be shown; also the smallest number of persons a
        share, mean or quantile may be computed from. Must be an integer >= 1.
    """

    min_cell_count: int = 5

    def __post_init__(self) -> None:
        value = self.min_cell_count
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"min_cell_count must be an integer, got {value!r}")
        if value < 1:
            raise ValueError(f"min_cell_count must be at least 1, got {value}")
        object.__setattr__(self, "min_cell_count", int(value))

    def is_small(self, count: float) -> bool:
        """Whether ``count`` is a positive count below the minimum cell size.

        Parameters
        ----------
        count : float
            A count of persons.

        Returns
        -------
        bool
            True when ``0 < count < min_cell_count``.
        """
        return 0 < count < self.min_cell_count


@dataclass(frozen=True)
class DisclosureRisk:
    """A cell of a published table that discloses a small count.

    Attributes
    ----------
    kind : str
        ``"visible"`` (a small count is shown), ``"recoverable"`` (a suppressed small count
        follows exactly from the published cells) or ``"inconsistent"`` (the published cells
        do not add up to the published totals, so the table cannot be audited).
    row, column : hashable or None
        Labels of the cell in the published table (None for ``"inconsistent"``).
    value : int or None
        The count shown or recovered.
    """

    kind: str
    row: Hashable | None
    column: Hashable | None
    value: int | None

    def __str__(self) -> str:
        if self.kind == "inconsistent":
            return "the published cells do not add up to the published totals"
        return f"{self.kind} count {self.value} at row {self.row!r}, column {self.column!r}"


@dataclass(frozen=True, eq=False)
class ProtectedTable:
    """A frequency table after disclosure control, ready to be formatted.

    Attributes
    ----------
    values : DataFrame
        The published counts (``Int64``), ``<NA>`` where suppressed. With totals, the last
        row and/or column holds them.
    suppressed : DataFrame of bool
        True where a cell is suppressed.
    reason : DataFrame of str
        ``"primary"``, ``"secondary"`` or ``""`` per cell; for audit, never for display.
    rules : DisclosureRules
        The rules applied.
    total_row, total_column : bool
        Whether the last row / last column holds totals.
    """

    values: pd.DataFrame
    suppressed: pd.DataFrame
    reason: pd.DataFrame
    rules: DisclosureRules
    total_row: bool
    total_column: bool

    def formatted(self, number: Callable[[int], str], *, marker: str) -> pd.DataFrame:
        """The table as text, with the report's own number format.

        Parameters
        ----------
        number : callable
            Formats one published count, e.g. a locale-aware formatter.
        marker : str
            Text of every suppressed cell (one marker for all; see the module docstring).

        Returns
        -------
        DataFrame
            Same labels as :attr:`values`, every cell a string.
        """
        cells = [
            [marker if pd.isna(v) else number(int(v)) for v in row]
            for row in self.values.itertuples(index=False)
        ]
        return pd.DataFrame(cells, index=self.values.index, columns=self.values.columns)

    def risks(self) -> list[DisclosureRisk]:
        """What :func:`find_disclosure_risks` finds in :attr:`values` (empty when safe)."""
        return find_disclosure_risks(
            self.values, self.rules, total_row=self.total_row, total_column=self.total_column
        )


# --- frequency tables ---------------------------------------------------------------------


def protect_frequency_table(
    table: pd.DataFrame,
    count_column: str,
    by: str | Sequence[str],
    rules: DisclosureRules,
    *,
    total_row: bool = True,
    total_column: bool = True,
    total_label: str = "Total",
) -> ProtectedTable:
    """Protect a one- or two-way frequency table given in long form.

    Parameters
    ----------
    table : DataFrame
        One row per category (combination) with its count; repeated categories are summed.
    count_column : str
        The column of counts (non-negative integers).
    by : str or sequence of str
        One column (one-way table) or two columns (rows, then columns of a two-way table).
        Categorical columns keep their category order and unobserved categories (as zeros);
        other columns keep the order of first appearance. Missing categories are an error.
    rules : DisclosureRules
        The rules to apply.
    total_row : bool, default True
        Publish a last row of column totals (for a two-way table with ``total_column``, it
        ends with the grand total).
    total_column : bool, default True
        Publish a last column of row totals (ignored for a one-way table, where a row's
        total is the cell itself).
    total_label : str, default "Total"
        Label of the total row and column (a category must not carry it).

    Returns
    -------
    ProtectedTable
        For a one-way table one column named ``count_column``; for a two-way table the
        categories of ``by[0]`` as rows and of ``by[1]`` as columns.
    """
    keys = [by] if isinstance(by, str) else list(by)
    if len(keys) not in (1, 2):
        raise ValueError(f"by must name one or two columns, got {keys}")
    if table[keys].isna().any().any():
        raise ValueError(f"missing categories in {keys}: label them before tabulating")
    _check_counts(table[count_column], count_column)
    sums = table.groupby(keys, sort=False, observed=False)[count_column].sum()
    if len(keys) == 1:
        wide = sums.reindex(_levels(table[keys[0]]), fill_value=0).to_frame(count_column)
        total_column = False
    else:
        wide = sums.unstack(keys[1], fill_value=0).reindex(
            index=_levels(table[keys[0]]), columns=_levels(table[keys[1]]), fill_value=0
        )
    return protect_counts(
        wide, rules, total_row=total_row, total_column=total_column, total_label=total_label
    )


def protect_counts(
    counts: pd.DataFrame,
    rules: DisclosureRules,
    *,
    total_row: bool = True,
    total_column: bool = True,
    total_label: str = "Total",
) -> ProtectedTable:
    """Protect a table of counts given in wide form, adding its totals.

    Parameters
    ----------
    counts : DataFrame
        The inner cells (no totals): non-negative integer counts, e.g. cohorts as rows and
        groups as columns. A one-column frame is a one-way table.
    rules : DisclosureRules
        The rules to apply.
    total_row : bool, default True
        Add and publish a last row of column totals.
    total_column : bool, default True
        Add and publish a last column of row totals.
    total_label : str, default "Total"
        Label of the added total row and column.

    Returns
    -------
    ProtectedTable
        Primary suppression of small counts (inner cells and totals) and secondary
        suppression so that none of them can be recovered from the published totals.
    """
    for column in counts.columns:
        _check_counts(counts[column], str(column))
    full = _with_totals(counts.to_numpy(dtype=np.int64), total_row, total_column)
    lines = _lines(full.shape, total_row, total_column)
    primary = (full > 0) & (full < rules.min_cell_count)
    suppressed = _suppress(full, primary, lines, rules)
    index = _labels(counts.index, total_row, total_label)
    columns = _labels(counts.columns, total_column, total_label)
    mask = pd.DataFrame(suppressed, index=index, columns=columns)
    reason = np.where(primary, PRIMARY, np.where(suppressed, SECONDARY, ""))
    return ProtectedTable(
        values=pd.DataFrame(full, index=index, columns=columns).astype("Int64").mask(mask),
        suppressed=mask,
        reason=pd.DataFrame(reason, index=index, columns=columns, dtype=object),
        rules=rules,
        total_row=total_row,
        total_column=total_column,
    )


def _check_counts(values: pd.Series, name: str) -> None:
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any() or (numbers < 0).any() or (numbers % 1 != 0).any():
        raise ValueError(f"{name} must hold non-negative whole counts")


def _levels(column: pd.Series) -> pd.Index:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Index(column.cat.categories, name=column.name)
    return pd.Index(pd.unique(column), name=column.name)


def _labels(labels: pd.Index, with_total: bool, total_label: str) -> pd.Index:
    if not with_total:
        return labels
    if total_label in list(labels):
        raise ValueError(f"a category is already labelled {total_label!r}")
    return pd.Index([*labels, total_label], name=labels.name)


def _with_totals(body: np.ndarray, total_row: bool, total_column: bool) -> np.ndarray:
    full = body
    if total_column:
        full = np.column_stack([full, full.sum(axis=1)])
    if total_row:
        full = np.vstack([full, full.sum(axis=0)])
    return full


def _lines(shape: tuple[int, int], total_row: bool, total_column: bool) -> list[Line]:
    """Every published sum of the table: member cells and the cell holding the total.

    Rows come before columns; with both totals the total row and total column are lines of
    their own, both ending in the grand total.
    """
    n_rows, n_cols = shape
    inner_rows, inner_cols = n_rows - total_row, n_cols - total_column
    lines: list[Line] = []
    if total_column:
        lines += [(tuple((i, j) for j in range(inner_cols)), (i, inner_cols))
                  for i in range(n_rows)]
    if total_row:
        lines += [(tuple((i, j) for i in range(inner_rows)), (inner_rows, j))
                  for j in range(n_cols)]
    return lines


def _suppress(
    full: np.ndarray, primary: np.ndarray, lines: list[Line], rules: DisclosureRules
) -> np.ndarray:
    """Primary plus secondary suppressions, checked by the intruder's audit."""
    suppressed = primary.copy()
    while True:
        _close_lines(full, suppressed, lines)
        exact = _exact_values(np.where(suppressed, np.nan, full), lines, lower=1.0).exact
        at_risk = [cell for cell in exact if rules.is_small(full[cell])]
        if not at_risk:
            return suppressed
        suppressed[_partner(at_risk[0], full, suppressed, lines)] = True


def _close_lines(full: np.ndarray, suppressed: np.ndarray, lines: list[Line]) -> None:
    """Until stable: no line with a published total may reveal its suppressed cells."""
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            if suppressed[total] or not _line_reveals(full, suppressed, cells):
                continue
            partner = _smallest_published(full, suppressed, cells)
            suppressed[total if partner is None else partner] = True
            changed = True


def _line_reveals(full: np.ndarray, suppressed: np.ndarray, cells: tuple[Cell, ...]) -> bool:
    """One suppressed cell, or several that can only all be 1 (they are known to be >= 1)."""
    hidden = [full[cell] for cell in cells if suppressed[cell]]
    return len(hidden) == 1 or (len(hidden) > 1 and sum(hidden) == len(hidden))


def _smallest_published(
    full: np.ndarray, suppressed: np.ndarray, cells: Sequence[Cell]
) -> Cell | None:
    candidates = [cell for cell in cells if not suppressed[cell] and full[cell] > 0]
    return min(candidates, key=lambda cell: full[cell], default=None)


def _partner(
    cell: Cell, full: np.ndarray, suppressed: np.ndarray, lines: list[Line]
) -> Cell:
    """The next cell to suppress to protect ``cell``: the smallest published non-zero cell of
    a line through it, else the total of such a line, else any published non-zero cell."""
    touching = [(cells, total) for cells, total in lines if cell in cells or cell == total]
    everywhere = [(i, j) for i in range(full.shape[0]) for j in range(full.shape[1])]
    for group in (
        [member for cells, _ in touching for member in cells],
        [total for _, total in touching],
        everywhere,
    ):
        partner = _smallest_published(full, suppressed, group)
        if partner is not None:
            return partner
    # Unreachable: with every non-zero cell suppressed, scaling them all up by a common
    # factor keeps every published sum, so no suppressed cell is determined.
    raise RuntimeError("no cell left to suppress")


# --- the intruder's audit -----------------------------------------------------------------


@dataclass(frozen=True)
class _Audit:
    exact: dict[Cell, int]  # suppressed cells whose value the published cells determine
    consistent: bool


def _exact_values(values: np.ndarray, lines: list[Line], lower: float) -> _Audit:
    """Bounds of every suppressed (NaN) cell given the published cells and sums.

    Every suppressed cell is an unknown >= ``lower``; every line is an equation
    ``sum(cells) = total``. When some feasible point lies strictly above every lower bound,
    a cell is determined exactly when the equations alone fix it. Otherwise (some cells can
    only sit at the bound, e.g. two suppressed cells summing to 2) a cell is determined when
    its smallest and largest feasible values coincide, each from a linear programme; tables
    with totals have integral vertices, so this is also the answer in whole numbers.
    """
    unknowns = {cell: k for k, cell in enumerate(zip(*np.nonzero(np.isnan(values)), strict=True))}
    equations, constants = [], []
    for cells, total in lines:
        coefficients, constant = np.zeros(len(unknowns)), 0.0
        for cell, sign in [*((c, 1.0) for c in cells), (total, -1.0)]:
            if cell in unknowns:
                coefficients[unknowns[cell]] += sign
            else:
                constant -= sign * values[cell]
        if coefficients.any():
            equations.append(coefficients)
            constants.append(constant)
        elif abs(constant) > 1e-6:
            return _Audit(exact={}, consistent=False)
    if not equations:
        return _Audit(exact={}, consistent=True)
    a_eq, b_eq = np.array(equations), np.array(constants)
    slack, point = _interior_point(a_eq, b_eq, lower)
    if point is None:
        return _Audit(exact={}, consistent=False)
    if slack > 1e-7:
        return _Audit(exact=_fixed_by_equations(a_eq, point, unknowns), consistent=True)
    exact: dict[Cell, int] = {}
    for cell, k in unknowns.items():
        if not a_eq[:, k].any():
            continue
        low, high = (_optimum(a_eq, b_eq, k, sense, lower) for sense in (1.0, -1.0))
        if low is not None and high is not None and high - low < 0.5:
            exact[(int(cell[0]), int(cell[1]))] = round(low)
    return _Audit(exact=exact, consistent=True)


def _interior_point(
    a_eq: np.ndarray, b_eq: np.ndarray, lower: float
) -> tuple[float, np.ndarray | None]:
    """A feasible point as far above the lower bound as possible (at most 1), and that
    distance; None as the point when nothing is feasible."""
    n = a_eq.shape[1]
    objective = np.append(np.zeros(n), -1.0)  # maximise the common slack s
    a_ub = np.hstack([-np.eye(n), np.ones((n, 1))])  # s - x <= -lower
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.full(n, -lower),
        A_eq=np.hstack([a_eq, np.zeros((len(a_eq), 1))]),
        b_eq=b_eq,
        bounds=[(lower, None)] * n + [(0.0, 1.0)],
        method="highs",
    )
    if result.status != 0:
        return 0.0, None
    return float(result.x[-1]), result.x[:-1]


def _fixed_by_equations(
    a_eq: np.ndarray, point: np.ndarray, unknowns: dict[Cell, int]
) -> dict[Cell, int]:
    """From a point strictly inside the bounds every direction that keeps the sums moves
    the point while staying feasible; a cell is determined when none of them moves it."""
    moves = null_space(a_eq)
    return {
        (int(cell[0]), int(cell[1])): round(point[k])
        for cell, k in unknowns.items()
        if not (np.abs(moves[k]) > 1e-9).any()
    }


def _optimum(
    a_eq: np.ndarray, b_eq: np.ndarray, k: int, sense: float, lower: float
) -> float | None:
    """Smallest (``sense=1``) or largest (``sense=-1``) feasible value of unknown ``k``;
    None when infeasible or unbounded."""
    objective = np.zeros(a_eq.shape[1])
    objective[k] = sense
    result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(lower, None), method="highs")
    return sense * result.fun if result.status == 0 else None


def find_disclosure_risks(
    published: pd.DataFrame,
    rules: DisclosureRules,
    *,
    total_row: bool = True,
    total_column: bool = True,
    zeros_shown: bool = True,
) -> list[DisclosureRisk]:
    """Audit a published table the way an intruder would.

    Parameters
    ----------
    published : DataFrame
        The counts as published: numbers, with NaN/``<NA>`` where a cell is suppressed.
    rules : DisclosureRules
        The rules the table must satisfy.
    total_row : bool, default True
        Whether the last row holds the column totals.
    total_column : bool, default True
        Whether the last column holds the row totals.
    zeros_shown : bool, default True
        Whether zeros are always shown, so that a suppressed cell is known to be >= 1.

    Returns
    -------
    list of DisclosureRisk
        Every shown count between 1 and ``min_cell_count - 1``, every suppressed cell whose
        value (between 1 and ``min_cell_count - 1``) follows exactly from the published
        cells and totals by any combination of row and column sums and the known bounds, and
        an ``"inconsistent"`` entry when the published cells do not add up. Empty when the
        table is safe.
    """
    values = published.to_numpy(dtype=float, na_value=np.nan)
    label = lambda cell: (published.index[cell[0]], published.columns[cell[1]])  # noqa: E731
    risks = [
        DisclosureRisk("visible", *label(cell), int(values[cell]))
        for cell in zip(*np.nonzero(~np.isnan(values)), strict=True)
        if rules.is_small(values[cell])
    ]
    lines = _lines(values.shape, total_row, total_column)
    audit = _exact_values(values, lines, lower=1.0 if zeros_shown else 0.0)
    if not audit.consistent:
        return [*risks, DisclosureRisk("inconsistent", None, None, None)]
    return risks + [
        DisclosureRisk("recoverable", *label(cell), value)
        for cell, value in sorted(audit.exact.items())
        if rules.is_small(value)
    ]


# --- shares, means, quantiles -------------------------------------------------------------


def protect_shares(
    table: pd.DataFrame,
    numerator: str,
    denominator: str,
    rules: DisclosureRules,
    *,
    total_row: bool = False,
    share_column: str = "share",
) -> pd.DataFrame:
    """Add a share column that is suppressed where it would disclose a small count.

    The share of a row is the count table (numerator, denominator - numerator) with the
    denominator as its total; it is protected as such (:func:`protect_counts`) and shown
    only when none of the three is suppressed. So a share needs a denominator of at least
    ``min_cell_count`` and a numerator and complement each 0 or at least the minimum.

    Parameters
    ----------
    table : DataFrame
        One row per group.
    numerator, denominator : str
        Columns with the number of persons with the attribute and the number of persons.
    rules : DisclosureRules
        The rules to apply.
    total_row : bool, default False
        Whether the last row is the total of the others (its share is then published too,
        and hidden shares must not be recoverable from it).
    share_column : str, default "share"
        Name of the added share column; the other added columns are prefixed with it.

    Returns
    -------
    DataFrame
        A copy of ``table`` with ``share_column`` (NaN where suppressed or the denominator is
        0), ``<share_column>_n`` (the denominator as it may be published, ``<NA>`` where
        suppressed), ``<share_column>_suppressed`` and ``<share_column>_reason``
        (``"primary"``, ``"secondary"`` or ``""``). Publish ``<share_column>_n``, never the
        raw numerator or denominator columns.
    """
    num, den = table[numerator], table[denominator]
    if (num > den).any():
        raise ValueError(f"{numerator} exceeds {denominator}")
    counts = pd.DataFrame({"yes": num, "no": den - num}).reset_index(drop=True)
    if total_row:
        _check_total_row(counts)
        counts = counts.iloc[:-1]
    protected = protect_counts(counts, rules, total_row=total_row, total_column=True)
    hidden = protected.suppressed.to_numpy().any(axis=1)
    primary = (protected.reason.to_numpy() == PRIMARY).any(axis=1)
    out = table.copy()
    out[share_column] = (num / den.where(den > 0)).where(~hidden).to_numpy(dtype=float)
    out[f"{share_column}_n"] = protected.values.iloc[:, -1].to_numpy()
    out[f"{share_column}_suppressed"] = hidden
    out[f"{share_column}_reason"] = np.where(primary, PRIMARY, np.where(hidden, SECONDARY, ""))
    return out


def _check_total_row(counts: pd.DataFrame) -> None:
    if len(counts) < 2 or not counts.iloc[:-1].sum().equals(counts.iloc[-1]):
        raise ValueError("the last row is not the total of the others")


def share_withheld(share: float, n: float, rules: DisclosureRules) -> bool:
    """Whether a share of ``n`` persons may not be shown on its own (a figure's point, a table
    row): ``n`` is small, or the persons with (``share * n``) or without the property are.

    The single-share form of :func:`protect_shares`' rule; a weighted share gives a fractional
    count, compared as it is (rounded to 6 decimals against floating-point noise).
    """
    if rules.is_small(n):
        return True
    if not math.isfinite(share):
        return False
    with_property = round(float(share) * float(n), 6)
    return rules.is_small(with_property) or rules.is_small(round(float(n) - with_property, 6))


def protect_means(
    table: pd.DataFrame,
    mean: str,
    count: str,
    rules: DisclosureRules,
    *,
    total_row: bool = False,
) -> pd.DataFrame:
    """Suppress means computed from fewer than ``min_cell_count`` persons.

    With a total row, a single hidden group mean could be recovered from the total mean and
    the published group sizes, so a second one (the group with the fewest persons) is hidden
    too; when no other group can be hidden, the total mean is.

    Parameters
    ----------
    table : DataFrame
        One row per group.
    mean : str
        Column of means (of a quantity, not of a 0/1 attribute: use :func:`protect_shares`).
    count : str
        Column with the number of persons each mean is computed from.
    rules : DisclosureRules
        The rules to apply.
    total_row : bool, default False
        Whether the last row is the total (all groups together).

    Returns
    -------
    DataFrame
        A copy of ``table`` with ``mean`` set to NaN where suppressed and the columns
        ``<mean>_suppressed`` and ``<mean>_reason`` (``"primary"``, ``"secondary"``, ``""``).
    """
    n = table[count].to_numpy()
    primary = np.array([rules.is_small(v) for v in n], dtype=bool)
    hidden = primary.copy()
    if total_row and not hidden[-1]:
        groups = list(range(len(n) - 1))
        if sum(hidden[g] for g in groups) == 1:
            partner = _smallest_published(n[:, None], hidden[:, None], [(g, 0) for g in groups])
            hidden[len(n) - 1 if partner is None else partner[0]] = True
    out = table.copy()
    out[mean] = table[mean].where(~hidden)
    out[f"{mean}_suppressed"] = hidden
    out[f"{mean}_reason"] = np.where(primary, PRIMARY, np.where(hidden, SECONDARY, ""))
    return out


def may_show_quantile(n: int, rules: DisclosureRules, q: float = 0.5) -> bool:
    """Whether the ``q`` quantile of ``n`` persons' values may be shown.

    The quantile (linear interpolation between order statistics, NumPy's default) is built
    from one or two persons' values; it may be shown when at least ``min_cell_count``
    persons lie strictly below and strictly above them. The minimum (``q=0``) and maximum
    (``q=1``) are therefore never shown, and a median needs at least
    ``2 * min_cell_count + 1`` persons (``+ 2`` when ``n`` is even).

    Parameters
    ----------
    n : int
        Number of persons the quantile is computed from.
    rules : DisclosureRules
        The rules to apply.
    q : float, default 0.5
        The quantile, between 0 and 1.

    Returns
    -------
    bool
        True when the quantile may be shown.
    """
    if not 0 <= q <= 1:
        raise ValueError(f"q must lie between 0 and 1, got {q}")
    if n < 1:
        return False
    position = round(q * (n - 1), 9)
    below, above = math.floor(position), n - 1 - math.ceil(position)
    return min(below, above) >= rules.min_cell_count
