"""Tests of Mahalanobis nearest-neighbour matching and coarsened exact matching (CEM):
the distance against its definition, MatchIt's coding and R's Matching package, the KD-tree
search against brute force (ties included), hand-computed CEM strata and weights, and the
errors for bad options and bad data."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from pipeline.matching import BalanceWarning, MatchResult, MatchSpec, mahalanobis, match
from pipeline.matching.api import _match_in_cells
from pipeline.matching.cem import cut_points, sturges_bins
from pipeline.matching.mahalanobis import (
    mahalanobis_space,
    match_cell,
    row_patterns,
    squared_distances,
)
from pipeline.matching.propensity import covariate_terms

matplotlib.use("Agg")

REFERENCE = Path(__file__).parent / "reference" / "matching"


def quiet_match(*args, **kwargs) -> MatchResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BalanceWarning)
        return match(*args, **kwargs)


def simulate(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = 0.5 * x1 + rng.normal(size=n)
    region = rng.choice(np.array(["north", "south", "west"], dtype=object), size=n)
    cohort = rng.integers(0, 3, size=n)
    lp = -1.2 + 0.8 * x1 + 0.3 * (region == "south")
    t = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return pd.DataFrame({"t": t, "x1": x1, "x2": x2, "region": region, "cohort": cohort})


def pooled_covariance_by_definition(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    n_t, n_c = treated.sum(), (~treated).sum()
    within = (n_t - 1) * np.cov(x[treated].T) + (n_c - 1) * np.cov(x[~treated].T)
    return within / (n_t + n_c - 2)


# --- the distance ----------------------------------------------------------------------------
def test_whitened_distance_is_mahalanobis_with_pooled_within_group_covariance():
    data = simulate(500, seed=1)
    treated = data["t"].to_numpy() == 1
    terms = covariate_terms(data, ["x1", "x2", "region"], drop_first=True)
    space = mahalanobis_space(terms, treated)
    x = terms.to_numpy(dtype=float)
    cov = pooled_covariance_by_definition(x, treated)
    np.testing.assert_allclose(space.covariance, cov, rtol=1e-12)
    rng = np.random.default_rng(1)
    i, j = rng.integers(0, len(data), 200), rng.integers(0, len(data), 200)
    diff = x[i] - x[j]
    expected = np.einsum("ij,jk,ik->i", diff, np.linalg.inv(cov), diff)
    z = space.points[space.patterns]
    got = np.array([squared_distances(z[[b]], z[a])[0] for a, b in zip(i, j, strict=True)])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)

    result = quiet_match(data, "t", ["x1", "x2", "region"], distance="mahalanobis")
    assert result.covariance.index.tolist() == ["x1", "x2", "region_south", "region_west"]
    np.testing.assert_allclose(result.covariance.to_numpy(), cov, rtol=1e-12)


def test_matchit_coding_of_factors_gives_the_same_distances():
    # MatchIt: every level as a dummy divided by sqrt(2), columns scaled, generalized inverse
    # (singular values below 1e-8 x the largest dropped) of the singular pooled covariance.
    data = simulate(400, seed=2)
    treated = data["t"].to_numpy() == 1
    dummies = [
        (data["region"] == lv).to_numpy(float) / np.sqrt(2) for lv in ["north", "south", "west"]
    ]
    full = np.column_stack([data["x1"], data["x2"], *dummies])
    full = (full - full.mean(axis=0)) / full.std(axis=0, ddof=1)
    u, d, vt = np.linalg.svd(pooled_covariance_by_definition(full, treated))
    keep = d > 1e-8 * d[0]
    ginv = vt[keep].T @ np.diag(1 / d[keep]) @ u[:, keep].T
    space = mahalanobis_space(
        covariate_terms(data, ["x1", "x2", "region"], drop_first=True), treated
    )
    z = space.points[space.patterns]
    for a, b in [(0, 1), (5, 17), (40, 41), (100, 399)]:
        diff = full[a] - full[b]
        assert squared_distances(z[[b]], z[a])[0] == pytest.approx(diff @ ginv @ diff, rel=1e-9)


def test_matches_equal_r_matching_package():
    reference = json.loads((REFERENCE / "mahalanobis_reference.json").read_text())
    csv = REFERENCE / "mahalanobis_sample.csv"
    assert hashlib.md5(csv.read_bytes()).hexdigest() == reference["csv_md5"]
    data = pd.read_csv(csv)
    covariates = ["x1", "x2", "x3", "female", "region"]
    ids = data["id"].to_numpy()
    for key, ratio, replace in [
        ("nearest_1_without_replacement", 1, False),
        ("nearest_1_with_replacement", 1, True),
        ("nearest_3_with_replacement", 3, True),
    ]:
        expected = {
            int(t): sorted(c if isinstance(c, list) else [c]) for t, c in reference[key].items()
        }
        result = quiet_match(
            data, "treat", covariates, distance="mahalanobis", ratio=ratio, replace=replace
        )
        md = result.matched_data()
        if replace:
            # weights follow from the matched sets: sum over sets of 1 / ratio, rescaled
            raw = pd.Series(0.0, index=ids)
            for controls in expected.values():
                raw[controls] += 1.0 / ratio
            raw = raw[raw > 0]
            control_w = md.loc[md["treat"] == 0].set_index("id")["weights"].sort_index()
            np.testing.assert_allclose(control_w, (raw * len(raw) / raw.sum()).sort_index())
        else:
            sets = md.groupby("subclass")
            got = {
                int(g.loc[g["treat"] == 1, "id"].iloc[0]): sorted(g.loc[g["treat"] == 0, "id"])
                for _, g in sets
            }
            assert got == expected
    assert result.n_treated_matched == reference["n_treated"]


# --- the search against brute force ----------------------------------------------------------
def brute_force(space, treated, cells, ratio, replace, caliper):
    """Treated in data order, round by round; nearest available by (distance, data position)."""
    z = space.points[space.patterns]
    pairs = {}
    for cell in np.unique(cells):
        pos_t = np.flatnonzero(treated & (cells == cell))
        pos_c = np.flatnonzero(~treated & (cells == cell))
        taken = np.zeros(len(pos_c), dtype=bool)
        chosen = {int(p): [] for p in pos_t}
        for r in range(1 if replace else ratio):
            for p in pos_t:
                if r > 0 and len(chosen[p]) < r:
                    continue
                ok = ~taken
                if caliper is not None:
                    values, widths = caliper
                    ok &= np.all(np.abs(values[pos_c] - values[p]) <= widths, axis=1)
                sq = squared_distances(z[pos_c], z[p])
                ranked = [j for j in np.lexsort((pos_c, sq)) if ok[j]]
                picks = ranked[: ratio if replace else 1]
                chosen[int(p)] += [int(pos_c[j]) for j in picks]
                taken[picks] = not replace
        pairs.update(chosen)
    return pairs


def fast(space, treated, cells, ratio, replace, caliper):
    matches = _match_in_cells(
        cells,
        treated,
        ratio,
        lambda pos_t, pos_c: match_cell(
            space, pos_t, pos_c, ratio=ratio, replace=replace, caliper=caliper
        ),
    )
    return {
        int(p): [int(c) for c in matches[i] if c >= 0]
        for i, p in enumerate(np.flatnonzero(treated))
    }


def tied_sample(n: int, seed: int) -> pd.DataFrame:
    """Few distinct values: many identical rows (exact ties) and crowded neighbourhoods."""
    rng = np.random.default_rng(seed)
    x1 = rng.integers(0, 5, size=n).astype(float)
    x2 = np.round(rng.normal(size=n) + 0.3 * x1)
    region = rng.choice(np.array(["a", "b"], dtype=object), size=n)
    t = (rng.random(n) < 0.15 + 0.08 * x1).astype(int)
    return pd.DataFrame(
        {"t": t, "x1": x1, "x2": x2, "region": region, "cell": rng.integers(0, 2, n)}
    )


@pytest.mark.parametrize("ratio", [1, 3])
@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("caliper_search", [None, "box", "tree"])
@pytest.mark.parametrize("seed", [0, 1])
def test_kd_tree_search_equals_brute_force(ratio, replace, caliper_search, seed, monkeypatch):
    data = tied_sample(400, seed)
    treated = data["t"].to_numpy() == 1
    cells = data["cell"].to_numpy()
    space = mahalanobis_space(
        covariate_terms(data, ["x1", "x2", "region"], drop_first=True), treated
    )
    caliper = None
    if caliper_search:  # integer x2 and width 1: many controls exactly at the width (accepted)
        caliper = (data[["x2"]].to_numpy(float), np.array([1.0]))
    if caliper_search == "tree":  # search the KD tree even though the caliper boxes are small
        monkeypatch.setattr(mahalanobis, "BOX_LIMIT", 0)
    expected = brute_force(space, treated, cells, ratio, replace, caliper)
    assert fast(space, treated, cells, ratio, replace, caliper) == expected
    assert sum(map(len, expected.values())) > 0


@pytest.mark.parametrize("replace", [False, True])
def test_equidistant_distinct_controls_in_one_dimension(replace):
    # integer values: controls at x - d and x + d are exactly equally far, so the search must
    # look past the tree's k-th neighbour to settle ties by data position
    rng = np.random.default_rng(5)
    x = rng.integers(0, 12, size=300).astype(float)
    data = pd.DataFrame({"t": (rng.random(300) < 0.3).astype(int), "x": x})
    treated = data["t"].to_numpy() == 1
    cells = np.zeros(len(data), dtype=np.int64)
    space = mahalanobis_space(data[["x"]], treated)
    for ratio in (1, 2):
        expected = brute_force(space, treated, cells, ratio, replace, None)
        assert fast(space, treated, cells, ratio, replace, None) == expected


def test_ties_go_to_the_earliest_row_and_treated_are_taken_in_data_order():
    data = pd.DataFrame(
        {
            "id": ["c_plus", "A", "c_minus", "c_dup1", "B", "c_dup2"],
            "t": [0, 1, 0, 0, 1, 0],
            "x": [1.0, 0.0, -1.0, 5.0, 5.0, 5.0],
        }
    )
    md = quiet_match(data, "t", ["x"], distance="mahalanobis").matched_data()
    pairs = set(md.groupby("subclass")["id"].apply(lambda s: "".join(sorted(s))))
    # A is equally far from c_plus and c_minus: the earlier row, c_plus; B ties c_dup1/c_dup2
    assert pairs == {"Ac_plus", "Bc_dup1"}

    # data order, unlike the propensity score path's largest-first: A (listed first) takes
    # c1 (0.6 away), leaving c2 for B
    order = pd.DataFrame(
        {"id": ["A", "B", "c1", "c2"], "t": [1, 1, 0, 0], "x": [1.0, 2.0, 1.6, 0.0]}
    )
    md = quiet_match(order, "t", ["x"], distance="mahalanobis").matched_data()
    assert set(md.groupby("subclass")["id"].apply(lambda s: "".join(sorted(s)))) == {"Ac1", "Bc2"}


def test_row_patterns_identify_identical_rows():
    x = np.array([[1.0, 0.0], [1.0, -0.0], [2.0, 0.0], [1.0, 0.0], [2.0, 1.0]])
    assert row_patterns(x).tolist() == [0, 0, 1, 0, 2]
    distinct = np.random.default_rng(0).normal(size=(50, 3))
    assert row_patterns(distinct).tolist() == list(range(50))


# --- Mahalanobis options and outputs ---------------------------------------------------------
def test_mahalanobis_caliper_is_in_sd_of_each_covariate():
    data = simulate(1200, seed=3)
    data.loc[0, ["t", "x1"]] = [1, 7.0]  # no control anywhere near on x1
    result = quiet_match(
        data, "t", ["x1", "x2", "region"], distance="mahalanobis", caliper={"x1": 0.1, "x2": 0.5}
    )
    assert result.caliper == {"x1": 0.1, "x2": 0.5}
    assert result.caliper_width == {
        "x1": pytest.approx(0.1 * data["x1"].std()),
        "x2": pytest.approx(0.5 * data["x2"].std()),
    }
    md = result.matched_data()
    gaps = md.groupby("subclass")[["x1", "x2"]].agg(np.ptp)
    assert (gaps["x1"] <= result.caliper_width["x1"]).all()
    assert (gaps["x2"] <= result.caliper_width["x2"]).all()
    assert 0 not in md.index and result.n_unmatched >= 1
    assert "x1: 0.1 SD" in result.summary()


def test_mahalanobis_exact_cells_and_matched_data_columns():
    data = simulate(900, seed=4)
    plain = quiet_match(data, "t", ["x1", "x2"], distance="mahalanobis")
    result = quiet_match(data, "t", ["x1", "x2"], distance="mahalanobis", ratio=2, exact=["cohort"])
    # one covariance for the whole sample, with or without exact cells
    pd.testing.assert_frame_equal(plain.covariance, result.covariance)
    md = result.matched_data()
    assert (md.groupby("subclass")["cohort"].nunique() == 1).all()
    assert md["distance"].isna().all()
    treated = md[md["t"] == 1]
    assert (treated["weights"] == 1).all() and treated["subclass"].is_unique
    assert md.loc[md["t"] == 0, "weights"].sum() == pytest.approx(result.n_control_matched)
    assert "distance" not in result.balance().index
    assert result.ps_params is None and result.distance == "mahalanobis"
    assert "mahalanobis" in result.summary() and "data order" in result.summary()
    assert len(result.love_plot().get_yticklabels()) == len(result.balance())
    assert result._repr_html_().startswith("<div>")


def test_cell_without_controls_is_counted_in_sample_sizes():
    data = simulate(600, seed=5)
    data.loc[data["cohort"] == 2, "t"] = 1  # cohort 2: participants only
    data.loc[(data["cohort"] == 1), "t"] = 0  # cohort 1: no participants
    n_cohort2 = int((data["cohort"] == 2).sum())
    n_cohort1 = int((data["cohort"] == 1).sum())
    for distance in ("logit", "mahalanobis"):
        result = quiet_match(data, "t", ["x1", "x2"], distance=distance, exact=["cohort"])
        sizes = result.sample_sizes()
        assert sizes.loc["no_counterpart_in_cell", "treated"] == n_cohort2
        assert sizes.loc["no_counterpart_in_cell", "control"] == n_cohort1
        assert sizes.loc["unmatched", "treated"] == n_cohort2
        assert sizes.loc["matched", "treated"] == int((data["t"] == 1).sum()) - n_cohort2
        by_cohort = result.sample_sizes(by=data["cohort"])
        assert by_cohort.loc[2, "unmatched_reason"] == "no eligible comparison"
        assert by_cohort.loc[2, ["treated", "treated_unmatched", "control"]].tolist() == [
            n_cohort2, n_cohort2, 0]
        assert by_cohort.loc[1, ["treated", "control_matched"]].tolist() == [0, 0]
        assert by_cohort["treated_matched"].sum() == sizes.loc["matched", "treated"]
        assert by_cohort["control_matched"].sum() == sizes.loc["matched", "control"]


def test_sample_sizes_by_group_name_units_left_out_by_the_caliper():
    data = simulate(800, seed=15)
    result = quiet_match(data, "t", ["x1", "x2"], caliper=0.01, exact=["cohort"])
    by_cohort = result.sample_sizes(by=data["cohort"])
    assert by_cohort["treated_unmatched"].sum() == result.n_treated_unmatched > 0
    unmatched = by_cohort["treated_unmatched"] > 0
    assert set(by_cohort.loc[unmatched, "unmatched_reason"]) == {"no comparison close enough"}
    assert set(by_cohort.loc[~unmatched, "unmatched_reason"]) <= {""}
    with pytest.raises(ValueError, match="one value per input unit"):
        result.sample_sizes(by=data["cohort"].iloc[:10])


def test_no_overlap_is_an_error_with_counts():
    data = simulate(300, seed=6)
    data["x1"] = np.where(data["t"] == 1, data["x1"] + 50, data["x1"])
    with pytest.raises(ValueError, match=r"no treated unit could be matched \(\d+ treated"):
        match(data, "t", ["x1"], distance="mahalanobis", caliper={"x1": 0.1})
    shifted = data.assign(cohort=np.where(data["t"] == 1, 1, 0))
    with pytest.raises(ValueError, match="in exact cells without controls"):
        match(shifted, "t", ["x1"], distance="mahalanobis", exact=["cohort"])


# --- coarsened exact matching ----------------------------------------------------------------
def hand_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t": [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1],
            "age": [25, 30, 45, 60, 22, 28, 49.9, 35, 40, 41, 55, 29.9],
            "region": ["N", "N", "S", "S", "N", "N", "N", "S", "S", "S", "N", "N"],
        }
    )


def test_cem_strata_and_weights_by_hand():
    data = hand_table()
    result = quiet_match(data, "t", ["age", "region"], method="cem", cutpoints={"age": [30, 50]})
    # bins [-inf, 30), [30, 50), [50, inf): age 30 goes to the higher bin (MatchIt)
    # strata in order of first row: (<30, N) rows 0 4 5 11; (30-50, N) rows 1 6;
    # (30-50, S) rows 2 7 8 9; (>=50, S) row 3 and (>=50, N) row 10 lack the other group
    md = result.matched_data()
    assert md.index.tolist() == [0, 1, 2, 4, 5, 6, 7, 8, 9, 11]
    assert md["subclass"].tolist() == [1, 2, 3, 1, 1, 2, 3, 3, 3, 1]
    # controls: n_t/n_c per stratum (1, 1, 1/3) times N_c matched / N_t matched = 6 / 4
    expected = [1, 1, 1, 1.5, 1.5, 1.5, 0.5, 0.5, 0.5, 1]
    np.testing.assert_allclose(md["weights"], expected)
    assert md["distance"].isna().all()
    assert result.cutpoints == {"age": (30.0, 50.0)}
    sizes = result.sample_sizes()
    assert sizes.loc["matched"].tolist() == [6, 4] and sizes.loc["unmatched"].tolist() == [1, 1]
    # the weighted control mean is the treated-weighted mix of stratum control means
    controls = md[md["t"] == 0]
    stratum_mean = {1: (22 + 28) / 2, 2: 49.9, 3: (35 + 40 + 41) / 3}
    mix = (2 * stratum_mean[1] + stratum_mean[2] + stratum_mean[3]) / 4
    assert np.average(controls["age"], weights=controls["weights"]) == pytest.approx(mix)
    assert result.balance().loc["age", "mean_control_after"] == pytest.approx(mix)
    assert "distance" not in result.balance().index


def test_cem_default_is_sturges_with_equal_width_bins():
    assert [sturges_bins(n) for n in (100, 128, 129, 505000)] == [8, 8, 9, 20]
    # R 4.2.2: seq(0.3, 9.9, length = 5)[2:4], printed with 17 digits
    np.testing.assert_array_equal(
        cut_points(np.array([0.3, 1.7, 2.2, 5, 9.9]), 4),
        [2.6999999999999997, 5.0999999999999996, 7.4999999999999991],
    )
    data = simulate(200, seed=7)
    result = quiet_match(data, "t", ["x1", "region"], method="cem")
    x = data["x1"].to_numpy()
    step = (x.max() - x.min()) / 9  # ceiling(log2(200) + 1) = 9 bins
    np.testing.assert_allclose(result.cutpoints["x1"], x.min() + step * np.arange(1, 9))
    assert "x1: 9 bins (sturges)" in result.summary()
    given = quiet_match(data, "t", ["x1"], method="cem", cutpoints={"x1": np.array([0.5, -0.5])})
    assert given.cutpoints == {"x1": (-0.5, 0.5)}
    assert "x1: 3 bins (given cut points)" in given.summary()


def test_cem_weights_on_a_larger_sample():
    data = simulate(3000, seed=8)
    data["months"] = np.random.default_rng(8).integers(0, 37, size=len(data))
    result = quiet_match(
        data, "t", ["x1", "months", "region"], method="cem", cutpoints={"x1": 5, "months": 4}
    )
    md = result.matched_data()
    counts = md.groupby(["subclass", "t"]).size().unstack()
    assert (counts > 0).all().all()  # every kept stratum has both groups
    n_t, n_c = counts[1], counts[0]
    scale = n_c.sum() / n_t.sum()
    controls = md[md["t"] == 0]
    np.testing.assert_allclose(
        controls["weights"], controls["subclass"].map(n_t / n_c * scale).astype(float)
    )
    for column in ["x1", "months"]:
        stratum_means = controls.groupby("subclass")[column].mean()
        mix = (stratum_means * n_t).sum() / n_t.sum()
        assert np.average(controls[column], weights=controls["weights"]) == pytest.approx(mix)
    # unmatched treated units are exactly those whose stratum has no control
    bins = pd.DataFrame(
        {
            "x1": np.searchsorted(result.cutpoints["x1"], data["x1"], side="right"),
            "m": np.searchsorted(result.cutpoints["months"], data["months"], side="right"),
            "region": data["region"],
        }
    )
    has_control = bins[data["t"] == 0].drop_duplicates().assign(ok=True)
    lookup = bins.merge(has_control, how="left", on=["x1", "m", "region"])["ok"]
    expected = data.index[(data["t"] == 1) & lookup.fillna(False).to_numpy()]
    assert md.index[md["t"] == 1].tolist() == expected.tolist()


def test_cem_with_exact_cells():
    data = simulate(800, seed=9)
    data.loc[data["cohort"] == 2, "t"] = 1
    result = quiet_match(data, "t", ["x1"], method="cem", cutpoints={"x1": 3}, exact=["cohort"])
    md = result.matched_data()
    assert (md.groupby("subclass")["cohort"].nunique() == 1).all()
    assert (md["cohort"] != 2).all()
    assert result.sample_sizes().loc["no_counterpart_in_cell", "treated"] == int(
        (data["cohort"] == 2).sum()
    )


def test_cem_without_common_strata_is_an_error():
    data = hand_table()
    data["region"] = np.where(data["t"] == 1, "N", "S")
    with pytest.raises(ValueError, match="no stratum holds both treated and control units"):
        match(data, "t", ["age", "region"], method="cem")


# --- how the result was made -----------------------------------------------------------------
def test_spec_records_method_distance_and_cutpoints():
    assert MatchSpec("t", ("x",)).distance == "logit"
    spec = MatchSpec("t", ("x", "r"), method="cem", cutpoints={"x": 4})
    assert spec.distance is None and spec.cutpoints == (("x", 4),)
    hash(spec)
    caliper = MatchSpec("t", ("x",), distance="mahalanobis", caliper={"x": 0.2})
    assert caliper.caliper == (("x", 0.2),)
    result = quiet_match(hand_table(), "t", ["age", "region"], method="cem")
    assert result.method == "cem" and result.distance is None and result.ps_params is None
    assert "cem" in result.summary() and "cutpoints" in result.summary()


# --- bad options and bad data ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "cem", "caliper": 0.2}, "method='cem' does not use caliper"),
        ({"method": "cem", "ratio": 2}, "does not use ratio"),
        ({"method": "cem", "replace": True}, "does not use replace"),
        ({"method": "cem", "distance": "logit"}, "does not use distance"),
        ({"cutpoints": {"x1": 3}}, "cutpoints apply only to method='cem'"),
        ({"method": "cem", "cutpoints": {"age": 3}}, r"cutpoints names \['age'\]"),
        ({"method": "cem", "cutpoints": {"x1": 0}}, r"cutpoints\['x1'\] must be"),
        ({"method": "cem", "cutpoints": {"x1": "scott"}}, r"cutpoints\['x1'\] must be"),
        ({"method": "cem", "cutpoints": {"x1": []}}, r"cutpoints\['x1'\] must be"),
        ({"method": "cem", "cutpoints": {"x1": [0, np.nan]}}, r"cutpoints\['x1'\] must be"),
        ({"method": "cem", "cutpoints": {"region": 3}}, "'region', which is not numeric"),
        ({"distance": "mahalanobis", "caliper": 0.2}, "no propensity score to put a caliper"),
        ({"distance": "mahalanobis", "caliper": {"x1": -1}}, "caliper widths must be positive"),
        ({"distance": "mahalanobis", "caliper": {"age": 1}}, r"caliper names \['age'\]"),
        ({"distance": "mahalanobis", "caliper": {"region": 1}}, "'region', which is categorical"),
        ({"caliper": {"x1": 0.2}}, "caliper must be a positive number"),
    ],
)
def test_bad_combinations_are_refused(kwargs, message):
    data = simulate(200, seed=10)
    with pytest.raises(ValueError, match=message):
        match(data, "t", ["x1", "region"], **kwargs)


@pytest.mark.parametrize("options", [{"distance": "mahalanobis"}, {"method": "cem"}])
def test_bad_covariate_values_name_the_column(options):
    data = simulate(200, seed=11)
    with pytest.raises(ValueError, match="'x2' has 1 missing"):
        match(data.assign(x2=data["x2"].where(data.index != 3)), "t", ["x1", "x2"], **options)
    with pytest.raises(ValueError, match="'x2' has 2 infinite"):
        bad = data["x2"].to_numpy().copy()
        bad[[3, 4]] = [np.inf, -np.inf]
        match(data.assign(x2=bad), "t", ["x1", "x2"], **options)
    with pytest.raises(ValueError, match="'age' is not in the data"):
        match(data, "t", ["x1", "age"], **options)


def test_constant_covariates_with_mahalanobis():
    data = simulate(200, seed=12).assign(const=3.0)
    result = quiet_match(data, "t", ["x1", "const"], distance="mahalanobis")
    assert result.dropped_terms == ("const",)
    with pytest.raises(ValueError, match="every covariate is constant"):
        match(data, "t", ["const"], distance="mahalanobis")
    separated = data.assign(group_flag=data["t"].astype(float))  # constant within each group
    with pytest.raises(ValueError, match="no covariate varies within the treated or the control"):
        match(separated, "t", ["group_flag"], distance="mahalanobis")


def test_common_support_counts_units_outside_the_other_groups_range():
    from pipeline.matching.overlap import common_support

    score = np.array([0.1, 0.5, 0.9, 0.2, 0.3, 0.6, 0.05])
    treated = np.array([True, True, True, False, False, False, False])
    table = common_support(score, treated)
    assert table.loc["treated", "n_off_support"] == 1  # 0.9 above every control
    assert table.loc["control", "n_off_support"] == 1  # 0.05 below every participant
    assert table.loc["control", "score_min"] == 0.05 and table.loc["treated", "n"] == 3


def test_match_result_reports_overlap_and_draws_it():
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"x": rng.normal(size=400)})
    data["t"] = (rng.random(400) < 1 / (1 + np.exp(-2 * data["x"]))).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = match(data, "t", ["x"], caliper=0.2)
    support = result.common_support()
    assert support["n"].sum() == 400 and result.score.index.equals(data.index)
    ax = result.overlap_plot()
    assert len(ax.get_legend().get_texts()) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BalanceWarning)
        mahalanobis = match(data, "t", ["x"], distance="mahalanobis")
    with pytest.raises(ValueError, match="needs a propensity score"):
        mahalanobis.common_support()


def test_a_singular_score_model_names_the_collinear_covariates():
    rng = np.random.default_rng(8)
    data = pd.DataFrame({"age": rng.normal(40, 9, 300), "x": rng.normal(size=300)})
    data["age_months"] = 12 * data["age"]  # the same information twice
    data["t"] = (rng.random(300) < 0.3).astype(int)
    with pytest.raises(ValueError, match=r"singular: covariate terms 'age', 'age_months' are"):
        match(data, "t", ["age", "x", "age_months"])
    city = pd.Series(rng.choice(["a", "b"], 300))
    data["city"], data["in_b"] = city, (city == "b").astype(int)
    with pytest.raises(ValueError, match=r"'city_b', 'in_b'"):
        match(data, "t", ["x", "city", "in_b"])


def test_score_histogram_counts_every_unit_once_per_group():
    from pipeline.matching.overlap import score_histogram

    rng = np.random.default_rng(8)
    data = pd.DataFrame({"x": rng.normal(size=500)})
    data["t"] = (rng.random(500) < 1 / (1 + np.exp(-1 - 2 * data["x"]))).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = match(data, "t", ["x"], ratio=2, caliper=0.2)
    table = result.score_histogram(bins=12)
    totals = table.groupby("group", sort=False)["n"].sum()
    assert totals.to_dict() == {"treated": result.n_treated, "control": result.n_control,
                                "matched_control": result.n_control_matched}
    matched = result.matched_data()
    weight = table.loc[table["group"] == "matched_control", "weight"].sum()
    assert weight == pytest.approx(matched.loc[matched["t"] == 0, "weights"].sum())
    assert (table.groupby("group")["bin"].nunique() == 12).all()
    logit = np.log(result.score / (1 - result.score))
    assert table["logit_low"].min() == pytest.approx(logit.min())
    assert table["logit_high"].max() == pytest.approx(logit.max())
    # the lowest score goes to the first bin, the highest to the last
    edges = score_histogram(np.array([0.2, 0.45, 0.8]), np.array([True, False, True]), bins=2)
    assert edges.loc[edges["group"] == "treated", "n"].tolist() == [1, 1]
    assert edges.loc[edges["group"] == "control", "n"].tolist() == [1, 0]
