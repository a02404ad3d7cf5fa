"""Disclosure control: small counts, and counts recoverable from totals, are never published."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.report.disclosure import (
    DisclosureRisk,
    DisclosureRules,
    ProtectedTable,
    find_disclosure_risks,
    may_show_quantile,
    protect_counts,
    protect_frequency_table,
    protect_means,
    protect_shares,
)

RULES = DisclosureRules()  # min_cell_count 5


def with_totals(body: pd.DataFrame, total_row: bool = True, total_column: bool = True):
    """The full table a report would show, totals included, nothing suppressed."""
    full = body.copy()
    if total_column:
        full["Total"] = full.sum(axis=1)
    if total_row:
        full.loc["Total"] = full.sum(axis=0)
    return full


def hidden(protected: ProtectedTable) -> set[tuple]:
    mask = protected.suppressed
    return {(r, c) for r in mask.index for c in mask.columns if mask.loc[r, c]}


def reasons(protected: ProtectedTable) -> dict[tuple, str]:
    return {cell: protected.reason.loc[cell] for cell in hidden(protected)}


# --- rules ----------------------------------------------------------------------------------


def test_rules_default_and_validation():
    assert DisclosureRules().min_cell_count == 5
    assert DisclosureRules(np.int64(3)).min_cell_count == 3
    for bad in (2.5, "5", True, None):
        with pytest.raises(TypeError):
            DisclosureRules(bad)
    for bad in (0, -1):
        with pytest.raises(ValueError):
            DisclosureRules(bad)


# --- hand-made frequency tables ---------------------------------------------------------------


def test_one_way_table_with_total_hides_a_second_cell():
    counts = pd.DataFrame({"n": [3, 10, 12]}, index=["A", "B", "C"])
    protected = protect_counts(counts, RULES, total_column=False)
    assert reasons(protected) == {("A", "n"): "primary", ("B", "n"): "secondary"}
    assert protected.values.loc["C", "n"] == 12
    assert protected.values.loc["Total", "n"] == 25
    assert protected.risks() == []


def test_one_way_table_without_total_needs_no_second_cell():
    counts = pd.DataFrame({"n": [3, 10, 0]}, index=["A", "B", "C"])
    protected = protect_counts(counts, RULES, total_row=False, total_column=False)
    assert reasons(protected) == {("A", "n"): "primary"}
    assert protected.values.loc["C", "n"] == 0  # a zero is shown


def test_two_way_table_hides_a_rectangle():
    counts = pd.DataFrame({"F": [2, 7, 8], "M": [9, 6, 12]}, index=["c1", "c2", "c3"])
    protected = protect_counts(counts, RULES)
    assert reasons(protected) == {
        ("c1", "F"): "primary",
        ("c1", "M"): "secondary",
        ("c2", "F"): "secondary",
        ("c2", "M"): "secondary",
    }
    assert protected.values.loc["Total"].tolist() == [17, 27, 44]
    assert protected.values["Total"].tolist() == [11, 13, 20, 44]
    assert protected.risks() == []


def test_small_margin_is_hidden_and_protected_in_its_own_line():
    counts = pd.DataFrame({"F": [1, 6, 9], "M": [2, 7, 8]}, index=["c1", "c2", "c3"])
    protected = protect_counts(counts, RULES)
    assert reasons(protected) == {
        ("c1", "F"): "primary",
        ("c1", "M"): "primary",
        ("c1", "Total"): "primary",
        ("c2", "F"): "secondary",
        ("c2", "M"): "secondary",
        ("c2", "Total"): "secondary",
    }
    assert protected.risks() == []


def test_two_suppressed_ones_in_a_line_are_not_enough():
    # Zeros are shown, so a suppressed cell is >= 1: two hidden cells summing to 2 are both 1.
    counts = pd.DataFrame({"n": [1, 1, 9, 0]}, index=list("ABCD"))
    naive = with_totals(counts, total_column=False).astype("Int64")
    naive.loc[["A", "B"], "n"] = pd.NA
    risks = find_disclosure_risks(naive, RULES, total_column=False)
    assert {(r.row, r.value) for r in risks} == {("A", 1), ("B", 1)}
    assert find_disclosure_risks(naive, RULES, total_column=False, zeros_shown=False) == []

    protected = protect_counts(counts, RULES, total_column=False)
    assert hidden(protected) == {("A", "n"), ("B", "n"), ("C", "n")}
    assert protected.values.loc[["D", "Total"], "n"].tolist() == [0, 11]
    assert protected.risks() == []


def test_zeros_are_shown_and_never_a_partner():
    counts = pd.DataFrame({"F": [3, 0], "M": [0, 10]}, index=["c1", "c2"])
    protected = protect_counts(counts, RULES)
    assert not protected.suppressed.loc["c1", "M"] and not protected.suppressed.loc["c2", "F"]
    assert protected.values.loc["c1", "M"] == 0
    # Row c1 can only be protected through its total; every suppressed cell is non-zero.
    assert protected.suppressed.loc["c1", "Total"]
    # The line rule alone leaves (c2, M) shown: the M total is then 0 + 10, the F total
    # 13 - 10 = 3 = (c1, F). Only the audit over all sums at once hides (c2, M) too.
    assert protected.suppressed.loc["c2", "M"]
    assert protected.risks() == []


def test_primary_suppression_alone_is_flagged():
    counts = pd.DataFrame({"F": [2, 7, 8], "M": [9, 6, 12]}, index=["c1", "c2", "c3"])
    naive = with_totals(counts).astype("Int64")
    naive = naive.mask((naive > 0) & (naive < 5))
    assert find_disclosure_risks(naive, RULES) == [DisclosureRisk("recoverable", "c1", "F", 2)]


def test_visible_small_count_is_flagged():
    table = with_totals(pd.DataFrame({"F": [2, 7], "M": [9, 6]}, index=["c1", "c2"]))
    risks = find_disclosure_risks(table, RULES)
    assert risks == [DisclosureRisk("visible", "c1", "F", 2)]


def test_inconsistent_totals_are_flagged():
    table = with_totals(pd.DataFrame({"F": [20, 7], "M": [9, 6]}, index=["c1", "c2"]))
    table.loc["c1", "Total"] = 30
    assert [r.kind for r in find_disclosure_risks(table, RULES)] == ["inconsistent"]


def test_two_hidden_cells_per_line_are_not_always_safe():
    # Two hidden rectangles joined by one hidden cell: every row and column holds 0 or >= 2
    # hidden cells, yet the joining cell equals (hidden part of columns c3, c4) minus
    # (hidden part of rows r3, r4). Only the audit over all sums at once finds it.
    body = pd.DataFrame(
        [[6, 7, 2, 8], [9, 10, 11, 12], [13, 14, 6, 7], [15, 16, 8, 9]],
        index=["r1", "r2", "r3", "r4"],
        columns=["c1", "c2", "c3", "c4"],
    )
    table = with_totals(body).astype("Int64")
    for cell in [("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2"), ("r1", "c3"),
                 ("r3", "c3"), ("r3", "c4"), ("r4", "c3"), ("r4", "c4")]:
        table.loc[cell] = pd.NA
    inner = table.iloc[:-1, :-1].isna()
    assert set(inner.sum(axis=0)) | set(inner.sum(axis=1)) <= {0, 2, 3}
    assert find_disclosure_risks(table, RULES) == [DisclosureRisk("recoverable", "r1", "c3", 2)]
    assert protect_counts(body, RULES).risks() == []


def test_formatting_is_left_to_the_caller():
    counts = pd.DataFrame({"F": [2, 700, 800], "M": [900, 600, 6_000]},
                          index=["c1", "c2", "c3"])
    protected = protect_counts(counts, RULES)
    swedish = protected.formatted(lambda v: f"{v:,}".replace(",", "\u00a0"), marker="..")
    assert swedish.loc["c3", "M"] == "6\u00a0000"
    assert swedish.loc["c1", "F"] == ".."
    assert set(swedish.to_numpy()[protected.suppressed.to_numpy()]) == {".."}


# --- long form --------------------------------------------------------------------------------


def test_frequency_table_from_long_form():
    long = pd.DataFrame(
        {
            "cohort": ["2023-1", "2023-1", "2023-2", "2023-2", "2023-1"],
            "sex": pd.Categorical(["F", "M", "F", "M", "F"], categories=["M", "F", "X"]),
            "n": [1, 9, 7, 6, 1],  # 2023-1 × F appears twice and is summed
        }
    )
    protected = protect_frequency_table(long, "n", ["cohort", "sex"], RULES)
    assert list(protected.values.index) == ["2023-1", "2023-2", "Total"]
    assert list(protected.values.columns) == ["M", "F", "X", "Total"]
    assert protected.values["X"].tolist() == [0, 0, 0]  # unobserved category shown as zero
    assert hidden(protected) == {("2023-1", "M"), ("2023-1", "F"), ("2023-2", "M"),
                                 ("2023-2", "F")}
    assert protected.risks() == []


def test_one_way_frequency_table_from_long_form():
    long = pd.DataFrame({"cohort": ["b", "a", "c"], "n": [3, 10, 12]})
    protected = protect_frequency_table(long, "n", "cohort", RULES, total_label="Totalt")
    assert list(protected.values.columns) == ["n"]
    assert list(protected.values.index) == ["b", "a", "c", "Totalt"]
    assert hidden(protected) == {("b", "n"), ("a", "n")}


@pytest.mark.parametrize(
    "long, message",
    [
        (pd.DataFrame({"g": ["a", None], "n": [5, 6]}), "missing"),
        (pd.DataFrame({"g": ["a", "b"], "n": [5, -6]}), "non-negative"),
        (pd.DataFrame({"g": ["a", "b"], "n": [5, 6.5]}), "non-negative"),
        (pd.DataFrame({"g": ["a", "Total"], "n": [5, 6]}), "Total"),
    ],
)
def test_frequency_table_rejects_bad_input(long, message):
    with pytest.raises(ValueError, match=message):
        protect_frequency_table(long, "n", "g", RULES)


# --- property: nothing recoverable after protection ----------------------------------------

small_counts = st.one_of(st.integers(0, 6), st.integers(0, 40))


@st.composite
def count_tables(draw, max_side: int = 5):
    n_rows = draw(st.integers(1, max_side))
    n_cols = draw(st.integers(1, max_side))
    cells = draw(st.lists(small_counts, min_size=n_rows * n_cols, max_size=n_rows * n_cols))
    return pd.DataFrame(np.array(cells, dtype=np.int64).reshape(n_rows, n_cols),
                        index=[f"r{i}" for i in range(n_rows)],
                        columns=[f"c{j}" for j in range(n_cols)])


def hidden_per_published_line(protected: ProtectedTable) -> list[int]:
    mask = protected.suppressed.to_numpy()
    counts = []
    if protected.total_column:
        counts += [mask[i, :-1].sum() for i in range(mask.shape[0]) if not mask[i, -1]]
    if protected.total_row:
        counts += [mask[:-1, j].sum() for j in range(mask.shape[1]) if not mask[-1, j]]
    return counts


@settings(max_examples=150, deadline=None)
@given(count_tables(), st.integers(1, 6), st.booleans(), st.booleans())
def test_protected_tables_disclose_nothing(body, min_count, total_row, total_column):
    rules = DisclosureRules(min_count)
    protected = protect_counts(body, rules, total_row=total_row, total_column=total_column)
    truth = with_totals(body, total_row, total_column).to_numpy()
    mask = protected.suppressed.to_numpy()
    shown = protected.values.to_numpy(dtype=float, na_value=np.nan)

    assert (np.isnan(shown) == mask).all()
    assert (shown[~mask] == truth[~mask]).all()
    assert (truth[mask] > 0).all()  # zeros are never suppressed
    small = (truth > 0) & (truth < min_count)
    assert ((protected.reason.to_numpy() == "primary") == small).all()
    assert 1 not in hidden_per_published_line(protected)
    assert find_disclosure_risks(protected.values, rules, total_row=total_row,
                                 total_column=total_column) == []


# --- property: the audit agrees with brute force on small tables ---------------------------

SHAPES = [(1, 1), (1, 2), (2, 1), (1, 3), (3, 1), (2, 2), (1, 4), (4, 1)]


def brute_force_recoverable(full: np.ndarray, mask: np.ndarray, total_row: bool,
                            total_column: bool, min_count: int, cap: int = 20) -> set:
    """Suppressed small cells that take one value in every filling of the suppressed inner
    cells with 1..cap that reproduces the published cells (suppressed totals >= 1)."""
    n_rows, n_cols = full.shape[0] - total_row, full.shape[1] - total_column
    unknown = [tuple(cell) for cell in np.argwhere(mask[:n_rows, :n_cols])]
    grid = np.array(list(itertools.product(range(1, cap + 1), repeat=len(unknown))),
                    dtype=np.int64).reshape(-1, len(unknown)) if unknown else np.zeros((1, 0))
    fills = np.repeat(full[None, :n_rows, :n_cols], len(grid), axis=0)
    for k, (i, j) in enumerate(unknown):
        fills[:, i, j] = grid[:, k]
    if total_column:
        fills = np.concatenate([fills, fills.sum(axis=2, keepdims=True)], axis=2)
    if total_row:
        fills = np.concatenate([fills, fills.sum(axis=1, keepdims=True)], axis=1)
    ok = (fills[:, ~mask] == full[~mask]).all(axis=1) & (fills[:, mask] >= 1).all(axis=1)
    feasible = fills[ok]
    return {
        (int(i), int(j)) for i, j in np.argwhere(mask)
        if len(np.unique(feasible[:, i, j])) == 1 and 0 < full[i, j] < min_count
    }


@st.composite
def masked_small_tables(draw):
    """A table of at most four inner cells with totals and a random set of hidden non-zero
    cells (zeros are always shown): the full table, the mask and which totals it has."""
    shape = draw(st.sampled_from(SHAPES))
    total_row, total_column = draw(st.booleans()), draw(st.booleans())
    cells = st.one_of(st.integers(0, 2), st.integers(0, 9))
    body = draw(st.lists(cells, min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]))
    body = pd.DataFrame(np.array(body, dtype=np.int64).reshape(shape))
    full = with_totals(body, total_row, total_column).to_numpy()
    flags = draw(st.lists(st.booleans(), min_size=full.size, max_size=full.size))
    mask = np.array(flags).reshape(full.shape) & (full > 0)
    return full, mask, total_row, total_column


SINGLETONS = (np.array([[1, 1, 2]]), np.array([[True, True, False]]), False, True)


@settings(max_examples=150, deadline=None)
@example(SINGLETONS, 5)
@given(masked_small_tables(), st.integers(2, 6))
def test_audit_agrees_with_brute_force(table, min_count):
    full, mask, total_row, total_column = table
    published = pd.DataFrame(np.where(mask, np.nan, full))
    risks = find_disclosure_risks(
        published, DisclosureRules(min_count), total_row=total_row, total_column=total_column
    )
    found = {(r.row, r.column) for r in risks if r.kind == "recoverable"}
    assert found == brute_force_recoverable(full, mask, total_row, total_column, min_count)
    visible_small = {(r.row, r.column) for r in risks if r.kind == "visible"}
    assert visible_small == {
        (int(i), int(j)) for i, j in np.argwhere(~mask & (full > 0) & (full < min_count))
    }


# --- shares ------------------------------------------------------------------------------------


def test_shares_hide_small_denominators_numerators_and_complements():
    table = pd.DataFrame(
        {"group": list("abcdef"), "yes": [3, 6, 7, 0, 3, 10], "n": [4, 7, 7, 12, 20, 20]}
    )
    out = protect_shares(table, "yes", "n", RULES)
    assert out["share_suppressed"].tolist() == [True, True, False, False, True, False]
    assert out["share_reason"].tolist() == ["primary", "primary", "", "", "primary", ""]
    assert out["share"].tolist()[2:4] == [1.0, 0.0]  # 100% of 7 and 0% of 12 are shown
    assert out["share"].tolist()[5] == 0.5
    assert out["share"].isna().tolist() == [True, True, False, False, True, False]
    # The n may be shown whenever it is not small itself.
    assert out["share_n"].isna().tolist() == [True, False, False, False, False, False]
    assert list(table.columns) == ["group", "yes", "n"]  # the input is not changed


def test_shares_with_a_total_row_hide_a_second_share():
    table = pd.DataFrame(
        {"group": ["a", "b", "c", "all"], "yes": [10, 3, 12, 25], "n": [20, 20, 25, 65]}
    )
    out = protect_shares(table, "yes", "n", RULES, total_row=True)
    assert out["share_reason"].tolist() == ["secondary", "primary", "", ""]
    assert out["share"].tolist()[2:] == [12 / 25, 25 / 65]
    without_total = protect_shares(table.iloc[:3], "yes", "n", RULES)
    assert without_total["share_reason"].tolist() == ["", "primary", ""]


def test_shares_reject_an_inconsistent_total_row_or_numerator():
    table = pd.DataFrame({"yes": [10, 3, 14], "n": [20, 20, 40]})
    with pytest.raises(ValueError, match="total"):
        protect_shares(table, "yes", "n", RULES, total_row=True)
    with pytest.raises(ValueError, match="exceeds"):
        protect_shares(pd.DataFrame({"yes": [6], "n": [5]}), "yes", "n", RULES)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(small_counts, small_counts), min_size=1, max_size=6),
       st.integers(1, 6), st.booleans())
def test_published_shares_disclose_nothing(groups, min_count, total_row):
    yes = [y for y, _ in groups]
    n = [y + no for y, no in groups]
    if total_row:
        yes, n = yes + [sum(yes)], n + [sum(n)]
    rules = DisclosureRules(min_count)
    out = protect_shares(pd.DataFrame({"yes": yes, "n": n}), "yes", "n", rules,
                         total_row=total_row)
    # What a reader can compute: the numerator behind each shown share, and the shown n.
    shown_n = out["share_n"].to_numpy(dtype=float, na_value=np.nan)
    shown_yes = np.round(out["share"].to_numpy() * shown_n)
    shown_yes[np.isnan(out["share"].to_numpy()) & (shown_n == 0)] = 0
    published = pd.DataFrame({"yes": shown_yes, "no": shown_n - shown_yes, "n": shown_n})
    # A hidden share may hide a numerator of 0, so the reader cannot assume hidden cells >= 1.
    assert find_disclosure_risks(published, rules, total_row=total_row,
                                 zeros_shown=False) == []


# --- means and quantiles ----------------------------------------------------------------------


def test_means_hide_small_groups_and_a_second_one_next_to_a_total():
    table = pd.DataFrame({"mean": [100.0, 200.0, 300.0, 260.0], "n": [3, 10, 20, 33]})
    out = protect_means(table, "mean", "n", RULES, total_row=True)
    assert out["mean_reason"].tolist() == ["primary", "secondary", "", ""]
    assert out["mean"].isna().tolist() == [True, True, False, False]
    alone = protect_means(table.iloc[:3], "mean", "n", RULES)
    assert alone["mean_reason"].tolist() == ["primary", "", ""]
    only_group = protect_means(pd.DataFrame({"mean": [1.0, 1.0], "n": [3, 3]}), "mean", "n",
                               RULES, total_row=True)
    assert only_group["mean_suppressed"].tolist() == [True, True]


@pytest.mark.parametrize(
    "n, q, allowed",
    [
        (10, 0.5, False),
        (11, 0.5, True),  # 5 persons below and 5 above the middle one
        (12, 0.5, True),
        (1_000_000, 0.0, False),  # minimum: one person's value
        (1_000_000, 1.0, False),  # maximum
        (50, 0.1, False),
        (51, 0.1, True),
        (0, 0.5, False),
    ],
)
def test_quantiles(n, q, allowed):
    assert may_show_quantile(n, RULES, q) is allowed


@given(st.integers(0, 500), st.floats(0, 1), st.integers(1, 10))
def test_quantiles_need_more_persons_never_fewer(n, q, min_count):
    rules = DisclosureRules(min_count)
    if may_show_quantile(n, rules, q):
        assert may_show_quantile(n + 1, rules, q)
        assert n >= 2 * min_count + 1


def test_quantile_outside_zero_one_is_an_error():
    with pytest.raises(ValueError):
        may_show_quantile(100, RULES, 1.5)
