"""What participants said: answer distributions and key results of the cleaned survey, as numbers.

Input is the clean stage's long table ``survey_responses.parquet`` (``pseudonym, wave, item,
value, status``; ``language`` and ``score`` are not used) and the survey's
:class:`~pipeline.surveys.codebook.Codebook`. Output is tidy DataFrames of counts, shares and
intervals with answer categories kept as canonical codes: the report layer formats, translates
(labels from the codebook) and applies disclosure control. Nothing here formats or rounds.

Conventions
-----------
Which answers count
    A share is among *substantive* answers (status ``answered``). "Don't know"
    (``dont_know``) is a valid answer without a value; it is excluded from the denominator and
    counted in ``n_dont_know``. Item non-response and out-of-range codes (``item_nonresponse``,
    ``out_of_range``: both have no value) are excluded and counted in ``n_missing``. Every
    person with a kept response in a wave whose questionnaire holds the item appears in exactly
    one of ``n_item`` (substantive), ``n_dont_know`` and ``n_missing``.
Category order
    Categories are canonical codes. ``rank`` runs 1..k in *ascending agreement* whatever the
    scale's ``direction``: on a ``descending`` scale (1 = strongly agree) code k has rank 1.
    ``side`` is -1 below the middle rank, 0 at it (odd k), +1 above: the diverging bar's halves.
Reverse-coded items
    Are shown *as asked*: a category is the answer ticked, and "agree" means agreeing with the
    statement as worded, also for a negatively worded (``reverse: true``) item. Nothing is
    flipped; the ``reverse`` column lets the report say so. (The clean stage's ``score`` column
    is the flipped value for indices; it is deliberately not used here.)
Agreement rule (key results of Likert items)
    By default the categories strictly above the middle of the scale in agreement order: the
    ``k // 2`` highest ranks (2 of 5: "agree" and "strongly agree"; 3 of 7; 2 of 4). Override
    per scale with ``agree_codes={"agree5": [5]}``, or for every Likert scale with
    ``agree_codes=[4, 5]``.
Yes/no items
    The key result is the share answering "yes". Which code is "yes" comes from ``yes_codes``
    (scale name to code); by default the codebook's consent scale (``yes_no``) uses
    ``consent_yes``. Items on other categorical scales and numeric items (``range``) have no key
    result.
Intervals
    Wilson score intervals from ``statsmodels.stats.proportion.proportion_confint(method=
    "wilson")`` (Wilson 1927; recommended for small n by Brown, Cai & DasGupta 2001). The paired
    intake-to-end difference uses Newcombe's (1998) square-and-add interval for paired
    proportions built on the two Wilson intervals with the continuity-corrected correlation
    ``phi`` (Newcombe 1998, Stat Med 17:2635-2650, method 10; Fagerland, Lydersen & Laake 2017,
    *Statistical Analysis of Contingency Tables*, ch. 8), and McNemar's exact test
    (``statsmodels.stats.contingency_tables.mcnemar(exact=True)``: binomial test on the
    discordant pairs).
Empty cells
    A wave without respondents, or an item nobody answered substantively, gives rows with
    ``n = 0`` and NaN shares and intervals, never an exception. Rows exist for every item and
    every wave whose questionnaire asks it (codebook sources), plus any item x wave in the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from pipeline.surveys.answers import STATUSES
from pipeline.surveys.codebook import Codebook, Scale

RESPONSE_COLUMNS = ("pseudonym", "wave", "item", "value", "status")
MISSING_STATUSES = ("item_nonresponse", "out_of_range")
WILSON = "wilson"
PAIRED_DIFFERENCE_METHOD = "newcombe_paired_square_and_add"

DISTRIBUTION_COLUMNS = [
    "item", "scale", "reverse", "wave", "category", "rank", "side", "n", "share",
    "n_item", "n_dont_know", "n_missing",
]
KEY_COLUMNS = [
    "item", "scale", "kind", "reverse", "wave", "positive_codes", "numerator", "n", "share",
    "ci_low", "ci_high", "method", "confidence_level", "n_dont_know", "n_missing",
]


# ---- input checks and small helpers ------------------------------------------------------
def check_responses(responses: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Validate the long answers and return the columns used, with ``value`` as float.

    Raises
    ------
    ValueError
        Naming missing columns, unknown statuses, items or waves the codebook does not know,
        answers repeated for a person x wave x item, and substantive codes off the item's scale.
    """
    if not isinstance(responses, pd.DataFrame):
        raise TypeError(f"responses must be a DataFrame, got {type(responses).__name__}")
    missing = [c for c in RESPONSE_COLUMNS if c not in responses.columns]
    if missing:
        raise ValueError(
            f"survey responses lack column(s) {missing}; expected the clean stage's "
            f"survey_responses table with {list(RESPONSE_COLUMNS)}"
        )
    data = responses.loc[:, list(RESPONSE_COLUMNS)].copy()
    data["value"] = pd.to_numeric(data["value"], errors="raise").astype("float64")
    unknown = sorted(set(data["status"].dropna().astype(str)) - set(STATUSES))
    if unknown or data["status"].isna().any():
        raise ValueError(
            f"survey responses have unknown status(es) {unknown or ['<missing>']}; "
            f"expected one of {list(STATUSES)}"
        )
    items = sorted(set(data["item"].astype(str)) - set(codebook.items))
    if items:
        raise ValueError(
            f"survey responses hold items {items} that codebook '{codebook.family}' does not have"
        )
    waves = sorted(set(data["wave"].astype(str)) - set(codebook.waves))
    if waves:
        raise ValueError(
            f"survey responses hold waves {waves} that codebook '{codebook.family}' does not "
            f"have (its waves: {list(codebook.waves)})"
        )
    repeated = data.duplicated(["pseudonym", "wave", "item"])
    if repeated.any():
        first = data.loc[repeated, ["wave", "item"]].iloc[0]
        raise ValueError(
            f"{int(repeated.sum())} answer(s) repeat a pseudonym x wave x item (first: wave "
            f"'{first['wave']}', item '{first['item']}'); pass the clean stage's de-duplicated "
            "responses"
        )
    answered = data["status"] == "answered"
    if data.loc[answered, "value"].isna().any():
        raise ValueError("survey responses have status 'answered' without a value")
    for item, values in data.loc[answered].groupby("item", sort=True)["value"]:
        scale_name = codebook.items[item].scale
        if scale_name is None:
            continue
        off = sorted(set(values) - set(codebook.scales[scale_name].codes))
        if off:
            raise ValueError(
                f"item '{item}' has answered code(s) {off} that are not substantive codes of "
                f"scale '{scale_name}' {codebook.scales[scale_name].codes}"
            )
    return data


def _checked_waves(waves: Iterable[str] | None, codebook: Codebook) -> list[str]:
    if waves is None:
        return list(codebook.waves)
    waves = [waves] if isinstance(waves, str) else list(waves)
    unknown = [w for w in waves if w not in codebook.waves]
    if unknown:
        raise ValueError(
            f"wave(s) {unknown} are not waves of codebook '{codebook.family}' "
            f"({list(codebook.waves)})"
        )
    return waves


def _check_level(confidence_level: float) -> float:
    if not (isinstance(confidence_level, (int, float)) and 0 < confidence_level < 1):
        raise ValueError(f"confidence_level must be strictly between 0 and 1, got "
                         f"{confidence_level!r}")
    return float(confidence_level)


def agreement_order(scale: Scale) -> list[int]:
    """Substantive codes of a Likert scale from least to most agreement (its ``direction``)."""
    codes = list(scale.codes)
    return codes[::-1] if scale.direction == "descending" else codes


def default_agree_codes(scale: Scale) -> list[int]:
    """The ``k // 2`` codes of highest agreement (2 of a 5-point scale), in agreement order."""
    order = agreement_order(scale)
    return order[len(order) - len(order) // 2:]


def items_asked(codebook: Codebook, item: str) -> list[str]:
    """Waves whose questionnaire (some source of the wave) holds ``item``."""
    return [
        w for w in codebook.waves
        if any(s.wave == w and item in s.items for s in codebook.sources.values())
    ]


def _grid(data: pd.DataFrame, codebook: Codebook, items: list[str], waves: list[str]):
    """(item, wave) pairs to report: asked per the codebook, or present in the data."""
    present = set(zip(data["item"], data["wave"], strict=True))
    return [
        (item, wave)
        for item in items
        for wave in waves
        if wave in items_asked(codebook, item) or (item, wave) in present
    ]


def _status_counts(data: pd.DataFrame) -> pd.DataFrame:
    """Per item x wave: ``n_item`` (answered), ``n_dont_know``, ``n_missing``."""
    status = data["status"].astype(str)
    counts = pd.DataFrame(
        {
            "item": data["item"].astype(str),
            "wave": data["wave"].astype(str),
            "n_item": (status == "answered").astype("int64"),
            "n_dont_know": (status == "dont_know").astype("int64"),
            "n_missing": status.isin(MISSING_STATUSES).astype("int64"),
        }
    )
    return counts.groupby(["item", "wave"], sort=False).sum()


def wilson_interval(
    count: np.ndarray | float, nobs: np.ndarray | float, confidence_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval from statsmodels; NaN where ``nobs`` is 0 (no warning).

    ``count`` and ``nobs`` may be non-integer (an effective sample size and the matching
    weighted count).
    """
    count = np.atleast_1d(np.asarray(count, dtype=float))
    nobs = np.atleast_1d(np.asarray(nobs, dtype=float))
    low = np.full(count.shape, np.nan)
    high = np.full(count.shape, np.nan)
    ok = nobs > 0
    if ok.any():
        lo, hi = proportion_confint(
            count[ok], nobs[ok], alpha=1 - confidence_level, method=WILSON
        )
        low[ok], high[ok] = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
    return low, high


def _share(numerator: np.ndarray, n: np.ndarray) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=float)
    n = np.asarray(n, dtype=float)
    out = np.full(n.shape, np.nan)
    np.divide(numerator, n, out=out, where=n > 0)
    return out


# ---- distributions -----------------------------------------------------------------------
def likert_distribution(
    responses: pd.DataFrame,
    codebook: Codebook,
    *,
    waves: Iterable[str] | None = None,
    items: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Answer distribution of every Likert item by wave, for diverging bars.

    Parameters
    ----------
    responses : DataFrame
        Cleaned long answers (``pseudonym, wave, item, value, status``).
    codebook : Codebook
        The survey family's codebook (scales, items, which wave asks which item).
    waves : iterable of str, optional
        Waves to report (default: all of the codebook's, so a wave without respondents still
        gets rows with ``n = 0``).
    items : iterable of str, optional
        Likert items to report (default: every item on a ``kind: likert`` scale).

    Returns
    -------
    DataFrame
        One row per item x wave x category: ``item, scale, reverse, wave, category`` (canonical
        code), ``rank`` (1..k in ascending agreement), ``side`` (-1, 0, +1 around the middle),
        ``n`` and ``share`` (of ``n_item``; NaN when ``n_item`` is 0), and per item x wave
        ``n_item`` (substantive answers), ``n_dont_know`` and ``n_missing`` (item non-response
        and out-of-range). Reverse-coded items are shown as asked (see the module docstring).
    """
    data = check_responses(responses, codebook)
    waves = _checked_waves(waves, codebook)
    likert = [i for i, it in codebook.items.items()
              if it.scale is not None and codebook.scales[it.scale].kind == "likert"]
    if items is not None:
        items = [items] if isinstance(items, str) else list(items)
        wrong = [i for i in items if i not in likert]
        if wrong:
            raise ValueError(f"item(s) {wrong} are not Likert items of codebook "
                             f"'{codebook.family}' (Likert items: {likert})")
        likert = items
    data = data[data["item"].isin(likert) & data["wave"].isin(waves)]
    status = _status_counts(data)
    answered = data[data["status"] == "answered"]
    by_code = answered.groupby(["item", "wave", "value"], sort=False).size()
    records = []
    for item, wave in _grid(data, codebook, likert, waves):
        scale_name = codebook.items[item].scale
        order = agreement_order(codebook.scales[scale_name])
        k = len(order)
        totals = status.loc[(item, wave)] if (item, wave) in status.index else None
        n_item = int(totals["n_item"]) if totals is not None else 0
        for rank, code in enumerate(order, start=1):
            n = int(by_code.get((item, wave, float(code)), 0))
            records.append(
                {
                    "item": item,
                    "scale": scale_name,
                    "reverse": codebook.items[item].reverse,
                    "wave": wave,
                    "category": int(code),
                    "rank": rank,
                    "side": int(np.sign(2 * rank - (k + 1))),
                    "n": n,
                    "share": n / n_item if n_item else np.nan,
                    "n_item": n_item,
                    "n_dont_know": int(totals["n_dont_know"]) if totals is not None else 0,
                    "n_missing": int(totals["n_missing"]) if totals is not None else 0,
                }
            )
    return _typed(pd.DataFrame.from_records(records, columns=DISTRIBUTION_COLUMNS))


# ---- key results -------------------------------------------------------------------------
def positive_codes(
    codebook: Codebook,
    *,
    agree_codes: Mapping[str, Sequence[int]] | Sequence[int] | None = None,
    yes_codes: Mapping[str, int] | None = None,
) -> dict[str, tuple[str, list[int]]]:
    """Item to ``(kind, codes)`` counted as the key result: ``likert`` (agree) or ``yes_no``.

    See the module docstring for the rules; items without a key result are left out.

    Raises
    ------
    ValueError
        If a given code is not a substantive code of its scale, or a named scale is unknown.
    """
    yes = {codebook.consent: codebook.consent_yes}
    yes.update(dict(yes_codes or {}))
    per_scale: dict[str, list[int]] = {}
    if isinstance(agree_codes, Mapping):
        per_scale = {s: list(c) for s, c in agree_codes.items()}
    elif agree_codes is not None:
        codes = list(agree_codes)
        per_scale = {s: codes for s, sc in codebook.scales.items() if sc.kind == "likert"}
    unknown = sorted((set(per_scale) | set(yes)) - set(codebook.scales))
    if unknown:
        raise ValueError(f"scale(s) {unknown} are not scales of codebook '{codebook.family}'")
    out = {}
    for name, item in codebook.items.items():
        if item.scale is None:
            continue
        scale = codebook.scales[item.scale]
        if scale.kind == "likert":
            kind = "likert"
            codes = per_scale.get(item.scale, default_agree_codes(scale))
        elif item.scale in yes:
            kind, codes = "yes_no", [yes[item.scale]]
        else:
            continue
        off = [c for c in codes if c not in scale.codes]
        if off or not codes:
            raise ValueError(
                f"codes {off or codes} for scale '{item.scale}' are not substantive codes "
                f"{scale.codes}; give at least one of them"
            )
        out[name] = (kind, [int(c) for c in codes])
    return out


def key_results(
    responses: pd.DataFrame,
    codebook: Codebook,
    *,
    waves: Iterable[str] | None = None,
    confidence_level: float = 0.95,
    agree_codes: Mapping[str, Sequence[int]] | Sequence[int] | None = None,
    yes_codes: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Share agreeing (Likert items) or answering "yes" (yes/no items) by wave, Wilson CIs.

    Parameters
    ----------
    responses, codebook, waves
        As in :func:`likert_distribution`.
    confidence_level : float
        Of the Wilson intervals (default 0.95).
    agree_codes : sequence of int, or mapping of scale name to codes, optional
        Codes counted as agreeing; default the ``k // 2`` highest categories in agreement
        order (4 and 5 on an ascending 5-point scale, 1 and 2 on a descending one).
    yes_codes : mapping of scale name to code, optional
        The "yes" code of categorical two-answer scales (default: ``consent_yes`` for the
        codebook's consent scale).

    Returns
    -------
    DataFrame
        One row per item x wave: ``item, scale, kind`` (``likert``/``yes_no``), ``reverse``,
        ``wave``, ``positive_codes`` (the codes counted, as text "4,5"), ``numerator``, ``n``
        (substantive answers), ``share``, ``ci_low``, ``ci_high`` (NaN when ``n`` is 0),
        ``method`` ("wilson"), ``confidence_level``, ``n_dont_know``, ``n_missing``.
    """
    data = check_responses(responses, codebook)
    waves = _checked_waves(waves, codebook)
    level = _check_level(confidence_level)
    rules = positive_codes(codebook, agree_codes=agree_codes, yes_codes=yes_codes)
    data = data[data["item"].isin(list(rules)) & data["wave"].isin(waves)]
    status = _status_counts(data)
    answered = data[data["status"] == "answered"]
    hits = answered.assign(
        hit=[v in rules[i][1] for i, v in zip(answered["item"], answered["value"], strict=True)]
    ).groupby(["item", "wave"], sort=False)["hit"].sum()
    records = []
    for item, wave in _grid(data, codebook, list(rules), waves):
        kind, codes = rules[item]
        totals = status.loc[(item, wave)] if (item, wave) in status.index else None
        records.append(
            {
                "item": item,
                "scale": codebook.items[item].scale,
                "kind": kind,
                "reverse": codebook.items[item].reverse,
                "wave": wave,
                "positive_codes": ",".join(str(c) for c in codes),
                "numerator": int(hits.get((item, wave), 0)),
                "n": int(totals["n_item"]) if totals is not None else 0,
                "n_dont_know": int(totals["n_dont_know"]) if totals is not None else 0,
                "n_missing": int(totals["n_missing"]) if totals is not None else 0,
            }
        )
    frame = pd.DataFrame.from_records(
        records,
        columns=["item", "scale", "kind", "reverse", "wave", "positive_codes", "numerator", "n",
                 "n_dont_know", "n_missing"],
    )
    frame["share"] = _share(frame["numerator"], frame["n"])
    frame["ci_low"], frame["ci_high"] = wilson_interval(frame["numerator"], frame["n"], level)
    frame["method"] = WILSON
    frame["confidence_level"] = level
    return _typed(frame[KEY_COLUMNS])


# ---- intake versus end -------------------------------------------------------------------
PAIRED_COLUMNS = [
    "item", "scale", "kind", "reverse", "positive_codes", "wave_first", "wave_second",
    # everyone who answered in each wave (two independent cross-sections)
    "numerator_first", "n_first", "share_first", "ci_low_first", "ci_high_first",
    "numerator_second", "n_second", "share_second", "ci_low_second", "ci_high_second",
    # the panel: answered the item substantively in both waves
    "n_pairs", "both", "first_only", "second_only", "neither",
    "share_first_panel", "ci_low_first_panel", "ci_high_first_panel",
    "share_second_panel", "ci_low_second_panel", "ci_high_second_panel",
    "difference", "difference_ci_low", "difference_ci_high", "difference_method",
    "mcnemar_p", "confidence_level",
]


def newcombe_paired_interval(
    both: int, first_only: int, second_only: int, neither: int, confidence_level: float = 0.95
) -> tuple[float, float, float]:
    """Difference ``p_second - p_first`` of paired proportions and Newcombe's interval.

    Newcombe (1998, Stat Med 17:2635-2650), method 10: square-and-add on the Wilson intervals
    of the two marginal proportions (from statsmodels), with the correlation ``phi`` of the
    2x2 table corrected for continuity as in the paper (``ad - bc`` reduced by ``n/2`` when
    positive, set to 0 when between 0 and ``n/2``; ``phi = 0`` when a margin is empty).

    Returns
    -------
    (difference, low, high)
        NaN for all three when there are no pairs.
    """
    a, b, c, d = (float(x) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    if n == 0:
        return np.nan, np.nan, np.nan
    p1, p2 = (a + b) / n, (a + c) / n
    (l1,), (u1,) = wilson_interval(a + b, n, confidence_level)
    (l2,), (u2,) = wilson_interval(a + c, n, confidence_level)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    if margins == 0 or 0 <= cross <= n / 2:
        phi = 0.0
    else:
        phi = (cross - n / 2 if cross > n / 2 else cross) / np.sqrt(margins)
    # interval for p1 - p2 (first minus second), then turned round
    low = (p1 - p2) - np.sqrt(
        max((p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2), 0.0)
    )
    high = (p1 - p2) + np.sqrt(
        max((p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1), 0.0)
    )
    return p2 - p1, -high, -low


def intake_vs_end(
    responses: pd.DataFrame,
    codebook: Codebook,
    *,
    first: str = "intake",
    second: str = "end",
    confidence_level: float = 0.95,
    agree_codes: Mapping[str, Sequence[int]] | Sequence[int] | None = None,
    yes_codes: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Key results at intake and at the end side by side, cross-sectionally and paired.

    For each item asked in both waves (per the codebook, or present in both in the data):

    * *all respondents* of each wave (``*_first``, ``*_second``): the key result of
      :func:`key_results` for each wave; the two groups overlap only partly, so their
      difference is not a change within persons and no difference is given for them;
    * *the panel* (``*_panel``): persons with a substantive answer to the item in both waves;
      the 2x2 table ``both, first_only, second_only, neither`` (positive in both waves, only at
      the first, only at the second, in neither), each wave's share with Wilson intervals, the
      paired difference ``difference = share_second_panel - share_first_panel`` with
      Newcombe's interval for paired proportions (:func:`newcombe_paired_interval`) and the
      exact McNemar p-value (two-sided binomial test on ``first_only`` vs ``second_only``;
      1.0 when there are no discordant pairs).

    Parameters
    ----------
    first, second : str
        The two waves compared (default ``intake`` and ``end``), named again in ``wave_first``
        and ``wave_second``.
    responses, codebook, confidence_level, agree_codes, yes_codes
        As in :func:`key_results`.

    Returns
    -------
    DataFrame
        One row per item, columns :data:`PAIRED_COLUMNS`. Counts are 0 and shares, intervals
        and p-values NaN where a wave or the panel is empty.
    """
    if first == second:
        raise ValueError(f"first and second must be different waves, got '{first}' twice")
    level = _check_level(confidence_level)
    waves = _checked_waves([first, second], codebook)
    cross = key_results(responses, codebook, waves=waves, confidence_level=level,
                        agree_codes=agree_codes, yes_codes=yes_codes)
    rules = positive_codes(codebook, agree_codes=agree_codes, yes_codes=yes_codes)
    data = check_responses(responses, codebook)
    answered = data[(data["status"] == "answered") & data["wave"].isin(waves)]
    answered = answered.assign(
        hit=[v in rules.get(i, ("", []))[1]
             for i, v in zip(answered["item"], answered["value"], strict=True)]
    )
    by_wave = cross.set_index(["item", "wave"])
    both_waves = [i for i in dict.fromkeys(cross["item"])
                  if (i, first) in by_wave.index and (i, second) in by_wave.index]
    records = []
    for item in both_waves:
        mine = answered[answered["item"] == item]
        one = mine[mine["wave"] == first].set_index("pseudonym")["hit"]
        two = mine[mine["wave"] == second].set_index("pseudonym")["hit"]
        pairs = pd.concat([one.rename("one"), two.rename("two")], axis=1, join="inner")
        x, y = pairs["one"].to_numpy(bool), pairs["two"].to_numpy(bool)
        a, b = int(np.sum(x & y)), int(np.sum(x & ~y))
        c, d = int(np.sum(~x & y)), int(np.sum(~x & ~y))
        n = a + b + c + d
        lo1, hi1 = wilson_interval(a + b, n, level)
        lo2, hi2 = wilson_interval(a + c, n, level)
        diff, diff_lo, diff_hi = newcombe_paired_interval(a, b, c, d, level)
        p_value = (
            float(mcnemar(np.array([[a, b], [c, d]]), exact=True).pvalue) if n else np.nan
        )
        f, s = by_wave.loc[(item, first)], by_wave.loc[(item, second)]
        records.append(
            {
                "item": item,
                "scale": f["scale"],
                "kind": f["kind"],
                "reverse": bool(f["reverse"]),
                "positive_codes": f["positive_codes"],
                "wave_first": first,
                "wave_second": second,
                **{f"{k}_first": f[k] for k in ("numerator", "n", "share", "ci_low", "ci_high")},
                **{f"{k}_second": s[k] for k in ("numerator", "n", "share", "ci_low", "ci_high")},
                "n_pairs": n,
                "both": a,
                "first_only": b,
                "second_only": c,
                "neither": d,
                "share_first_panel": (a + b) / n if n else np.nan,
                "ci_low_first_panel": lo1[0],
                "ci_high_first_panel": hi1[0],
                "share_second_panel": (a + c) / n if n else np.nan,
                "ci_low_second_panel": lo2[0],
                "ci_high_second_panel": hi2[0],
                "difference": diff,
                "difference_ci_low": diff_lo,
                "difference_ci_high": diff_hi,
                "difference_method": PAIRED_DIFFERENCE_METHOD,
                "mcnemar_p": p_value,
                "confidence_level": level,
            }
        )
    return _typed(pd.DataFrame.from_records(records, columns=PAIRED_COLUMNS))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Stable dtypes whatever the number of rows (an empty table keeps its schema)."""
    ints = {"category", "rank", "side", "n", "n_item", "n_dont_know", "n_missing", "numerator",
            "numerator_first", "n_first", "numerator_second", "n_second", "n_pairs", "both",
            "first_only", "second_only", "neither"}
    text = {"item", "scale", "kind", "wave", "positive_codes", "method", "wave_first",
            "wave_second", "difference_method"}
    types = {}
    for column in frame.columns:
        if column in ints:
            types[column] = "int64"
        elif column in text:
            types[column] = "str"
        elif column == "reverse":
            types[column] = "bool"
        else:
            types[column] = "float64"
    return frame.astype(types).reset_index(drop=True)
