"""The report's figures: tidy stage outputs in, a finished, translated, disclosure-safe image out.

One function per figure. Each takes the pipeline's processed tables as they are written, a
:class:`~pipeline.report.i18n.Translator` and (where counts are involved) the study's
:class:`~pipeline.report.disclosure.DisclosureRules`, and returns a :class:`Figure`: PNG bytes,
alt text generated from the data and a caption, all in the report language::

    tr, rules = translator("sv"), DisclosureRules(min_cell_count=5)
    html = employment_path(paths, tr, rules).to_html()

Conventions (applied here, not per figure):

Disclosure
    What gets drawn is decided by a small pure function per figure (``_drawable_path``,
    ``_forest_rows``, ...) that returns the plotted data with ``drawn`` and ``withheld``
    flags, so tests can check it without reading pixels. Nothing computed from ``0 < n <
    min_cell_count`` persons is drawn: a month, bin, bar or subgroup that is withheld is left
    out (a gap, not an interpolation) and the caption says so. A share of persons also follows
    :mod:`pipeline.report.disclosure`'s rule for shares: neither the number with the property
    nor the number without it (``share * n``, ``n - share * n``) may be a small count. The
    forest plot prints no counts at all: with the overall count published elsewhere, the
    counts of the other subgroups would give a withheld one away.
Language
    Every axis label, legend entry, tick label and sentence comes from the ``figure.*`` keys
    of the catalogues (and ``subgroup.*`` for group names) and the Translator's number
    formats: Swedish ticks read ``54 %`` and ``−0,5``. Texts that arrive in the data (survey
    item texts and answer labels, share-bar labels, covariate names) are drawn as given:
    the caller picks them in the report language.
Time
    The outputs count time in months relative to start. The charts over time (path, event
    study) and the texts naming a horizon take ``time_unit``: ``"month"``, or ``"year"`` for
    an annual register, which draws only the observation months (December, relative month
    ``12 k - 1``) at year ``k`` on an axis in years and words every text in years
    (:class:`~pipeline.report.timescale.TimeScale`).
Looks
    Okabe–Ito colours (colour-blind safe), and participants and comparison group also differ
    by line style and marker, before/after by fill, so a greyscale print still reads. The
    image is 6.4 inches wide at 150 dpi (960 px) with 11–12 pt text, legible when the page
    shrinks it to about 700 px; ticks and labels are never below 10 pt.
Rendering
    Figures are :class:`matplotlib.figure.Figure` objects drawn with the Agg canvas directly,
    never through :mod:`matplotlib.pyplot`: nothing is registered in pyplot's figure list
    (so nothing to close and no memory growth), and the global backend is left alone (calling
    ``matplotlib.use("Agg")`` at import would break inline plots in the report notebook).
    The style is applied in a context from matplotlib's defaults, so a notebook's
    ``seaborn.set_theme()`` or a user's matplotlibrc cannot change the output, and the
    rcParams are restored afterwards. The font is the DejaVu Sans shipped with matplotlib.
    The PNG is reduced to a 256-colour palette (Pillow, no dithering) and written without
    metadata: the same input gives the same bytes, and files are 3–4 times smaller than
    matplotlib's RGBA output.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import matplotlib as mpl
import matplotlib.colors as mcolors
import matplotlib.style as mstyle
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, Formatter, MaxNLocator, MultipleLocator
from matplotlib.transforms import blended_transform_factory
from PIL import Image

from pipeline.report.disclosure import DisclosureRules, share_withheld
from pipeline.report.i18n import Translator
from pipeline.report.timescale import TimeScale

__all__ = [
    "Figure",
    "employment_path",
    "event_study_plot",
    "forest_plot",
    "likert_bars",
    "love_plot",
    "overlap_plot",
    "share_bars",
]

PNG = "image/png"
SVG = "image/svg+xml"
WIDTH_IN = 6.4
DPI = 150

# Okabe & Ito (2008), "Color Universal Design"; INK/MUTED are near-black and a dark grey.
BLUE, VERMILLION, SKY = "#0072B2", "#D55E00", "#56B4E9"
INK, MUTED, LIGHT, GRID = "#1a1a1a", "#595959", "#ececec", "#dcdcdc"
# ColorBrewer PuOr, 5 classes (colour-blind safe), middle class darkened to a visible grey.
LIKERT5 = ("#e66101", "#fdb863", "#cfcfcf", "#b2abd2", "#5e3c99")

SHARE_OUTCOMES = ("employed", "registered_unemployed", "employed_matching")
OUTCOMES = (*SHARE_OUTCOMES, "earnings")
GROUPS = ("participants", "comparison")
ESTIMATED = ("estimated", "partial")
WAVES = ("intake", "end")
SUBGROUP_ALIASES = {"female": "sex"}

_RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 12,
    "axes.labelsize": 12,
    "axes.titlesize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": MUTED,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "axes.unicode_minus": True,
    "axes.formatter.use_locale": False,
    "lines.linewidth": 2.2,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
}


# ---- the result ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A rendered figure: the image and its texts in the report language.

    Attributes
    ----------
    image : bytes
        The encoded image (PNG).
    mime : str
        Its media type (``"image/png"``).
    alt : str
        Alternative text generated from the data: what the figure shows and its key numbers.
    caption : str
        The caption, including a note when something was withheld for disclosure control.
    """

    image: bytes
    mime: str
    alt: str
    caption: str

    def __post_init__(self) -> None:
        if self.mime not in (PNG, SVG):
            raise ValueError(f"unsupported figure type {self.mime!r}")
        if not self.alt.strip():
            raise ValueError("a figure needs alt text")

    @property
    def data_uri(self) -> str:
        """The image as a ``data:`` URI (the report is one self-contained file)."""
        return f"data:{self.mime};base64,{base64.b64encode(self.image).decode('ascii')}"

    def to_html(self) -> str:
        """``<figure><img src="data:..." alt="..."><figcaption>...</figcaption></figure>``
        with alt text and caption HTML-escaped."""
        alt = html.escape(self.alt, quote=True)
        caption = html.escape(self.caption, quote=False)
        return (f'<figure><img src="{self.data_uri}" alt="{alt}">'
                f"<figcaption>{caption}</figcaption></figure>")

    def _repr_html_(self) -> str:  # shown as such in a notebook
        return self.to_html()


# ---- helpers: checks, formats, disclosure --------------------------------------------------


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {missing}; it has {list(frame.columns)}")


def _check_outcome(outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; choose from {', '.join(OUTCOMES)}")


def _decimals_for(values: Iterable[float], scale: float = 1.0, most: int = 4) -> int:
    """Fewest decimals that show every tick value (times ``scale``) exactly."""
    shown = [v * scale for v in values if math.isfinite(v)]
    for decimals in range(most + 1):
        if all(abs(v * 10**decimals - round(v * 10**decimals)) < 1e-6 for v in shown):
            return decimals
    return most


class _Ticks(Formatter):
    """Tick labels written by the Translator, with as many decimals as the ticks need."""

    def __init__(self, write: Callable[[float, int], str], scale: float = 1.0) -> None:
        self.write, self.scale, self.decimals = write, scale, 0

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        self.decimals = _decimals_for(locs, self.scale)

    def __call__(self, x, pos=None) -> str:
        return self.write(float(x), self.decimals)


def _percent_ticks(tr: Translator, *, absolute: bool = False) -> _Ticks:
    return _Ticks(lambda v, d: tr.percent(abs(v) if absolute else v, d), scale=100)


def _number_ticks(tr: Translator, *, signed: bool = False, scale: float = 1.0) -> _Ticks:
    return _Ticks(lambda v, d: tr.number(v * scale, d, signed=signed), scale=scale)


@dataclass(frozen=True)
class _EffectScale:
    """How effects on one outcome are written: percentage points for shares, money else."""

    tr: Translator
    outcome: str
    currency: str = "SEK"
    time: TimeScale = TimeScale()

    @property
    def is_share(self) -> bool:
        return self.outcome in SHARE_OUTCOMES

    def text(self, value: float) -> str:
        if self.is_share:
            return self.tr.percentage_points(value)
        return self.tr.money(value, self.currency, signed=True)

    def interval(self, low: float, high: float) -> str:
        if self.is_share:
            return self.tr.interval(low * 100, high * 100, signed=True)
        return self.tr.interval(self.tr.money(low, self.currency, signed=True),
                                self.tr.money(high, self.currency, signed=True))

    def ticks(self) -> _Ticks:
        if self.is_share:
            return _number_ticks(self.tr, signed=True, scale=100)
        return _number_ticks(self.tr, signed=True)

    def axis_label(self) -> str:
        if self.is_share:
            return self.tr.t("figure.effect_pp")
        currency = self.tr.t(f"format.currency.{self.currency.lower()}")
        return self.tr.t(self.time.key("figure.effect_money"), currency=currency)

    def about(self) -> str:
        """The outcome inside a sentence ("the share employed", "annual earnings")."""
        return self.tr.t(self.time.key(f"figure.about.{self.outcome}"))


def _wrap(text: str, width: int, indent: str = "") -> str:
    lines = textwrap.wrap(str(text), width=width, initial_indent=indent,
                          subsequent_indent=indent, break_on_hyphens=False) or [indent]
    return "\n".join(lines)


def _minimum(tr: Translator, rules: DisclosureRules) -> str:
    return tr.count(rules.min_cell_count)


def _sentences(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _periods(tr: Translator, time: TimeScale, n: int) -> str:
    """``n`` periods of the chart's axis (months or years), unsigned: "12 months"."""
    return time.periods_text(tr, abs(int(n)))


def _on_grid(frame: pd.DataFrame, column: str, time: TimeScale) -> pd.DataFrame:
    """The rows at observation times, ``column`` turned from relative months into the
    axis's periods (unchanged for months; years for an annual register)."""
    kept = frame.loc[time.on_grid(frame[column].to_numpy())]
    return kept.assign(**{column: time.periods(kept[column].to_numpy())})


def _level(confidence_level: float) -> int:
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must lie between 0 and 1, got {confidence_level}")
    return round(confidence_level * 100)


# ---- rendering -----------------------------------------------------------------------------


def _style():
    """matplotlib's defaults plus the report style, restored on exit."""
    return mstyle.context(_RC, after_reset=True)


def _new_figure(height: float) -> MplFigure:
    fig = MplFigure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself: text can be measured before saving
    return fig


def _left_align_labels(ax) -> None:
    """Left-align the y tick labels in a column as wide as the widest (for indented rows)."""
    labels = ax.get_yticklabels()
    renderer = ax.figure.canvas.get_renderer()
    width = max((t.get_window_extent(renderer).width for t in labels), default=0.0)
    for label in labels:
        label.set_horizontalalignment("left")
    ax.tick_params(axis="y", pad=width * 72 / ax.figure.dpi + 6)


def _png(fig: MplFigure) -> bytes:
    """The figure as a 256-colour palette PNG without metadata (no time stamp, no software
    version: the same figure gives the same bytes); the figure is cleared afterwards.

    The Agg canvas's pixels go to Pillow directly (no intermediate PNG to encode and decode).
    """
    try:
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()  # opaque: white face
    finally:
        fig.clear()
    palette = Image.fromarray(pixels).quantize(
        colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _finish(fig: MplFigure, alt: str, caption: str) -> Figure:
    return Figure(image=_png(fig), mime=PNG, alt=alt, caption=caption)


def _start_line(ax, tr: Translator, *, x: float = 0.0) -> None:
    ax.axvline(x, color=INK, linewidth=1.3, linestyle=":", zorder=1)
    ax.annotate(tr.t("figure.programme_start"), xy=(x, 1), xycoords=("data", "axes fraction"),
                xytext=(5, -2), textcoords="offset points", ha="left", va="top",
                fontsize=10.5, color=INK)


def _time_axis(ax, tr: Translator, first: int, last: int, time: TimeScale) -> None:
    """Time since start: months with ticks every 12 (every 6 over short spans), or years
    with a tick every year (every 2 over long spans)."""
    if time.annual:
        step, minor = (2, 1) if last - first > 12 else (1, None)
    else:
        step = 12 if last - first > 30 else 6
        minor = step // 2
    ax.xaxis.set_major_locator(MultipleLocator(step))
    if minor:
        ax.xaxis.set_minor_locator(MultipleLocator(minor))
        ax.grid(True, which="minor", axis="x", color=GRID, linewidth=0.5)
    ax.xaxis.set_major_formatter(_number_ticks(tr))
    ax.set_xlabel(tr.t(time.key("figure.months_since_start")))


# ---- 1. employment path --------------------------------------------------------------------


def _drawable_path(paths: pd.DataFrame, rules: DisclosureRules,
                   outcome: str = "employed") -> pd.DataFrame:
    """Every month of both groups with ``value`` (the share), ``drawn`` and ``withheld``.

    Months missing from the table appear with ``n = 0``; a month whose group has ``0 < n <
    min_cell_count`` persons, or whose share would tell a small count, is withheld and its
    ``value`` is NaN (the line has a gap there).
    """
    _require(paths, ("rel_month", "group", "n", outcome), "paths")
    frame = paths.loc[paths["group"].isin(GROUPS), ["rel_month", "group", "n", outcome]]
    frame = frame.rename(columns={outcome: "value"})
    if frame.duplicated(["rel_month", "group"]).any():
        raise ValueError("paths has more than one row per month and group")
    if frame.empty:
        raise ValueError(f"paths has no rows for the groups {GROUPS}")
    months = range(int(frame["rel_month"].min()), int(frame["rel_month"].max()) + 1)
    grid = pd.MultiIndex.from_product([GROUPS, months], names=["group", "rel_month"])
    frame = frame.set_index(["group", "rel_month"]).reindex(grid).reset_index()
    frame["n"] = frame["n"].fillna(0).astype("int64")
    frame["value"] = frame["value"].astype("float64")
    frame["withheld"] = [
        share_withheld(v, n, rules) for v, n in zip(frame["value"], frame["n"], strict=True)
    ]
    frame["drawn"] = ~frame["withheld"] & frame["value"].notna() & (frame["n"] > 0)
    frame.loc[~frame["drawn"], "value"] = np.nan
    return frame[["rel_month", "group", "n", "value", "drawn", "withheld"]]


def _markers(months: np.ndarray, drawn: np.ndarray, every: int = 6) -> list[bool]:
    """Markers every ``every`` months, and on drawn months with no drawn neighbour (which a
    line alone would not show)."""
    previous = np.r_[False, drawn[:-1]]
    following = np.r_[drawn[1:], False]
    isolated = drawn & ~previous & ~following
    return list(((months % every == 0) & drawn) | isolated)


def employment_path(paths: pd.DataFrame, tr: Translator, rules: DisclosureRules, *,
                    outcome: str = "employed", horizon_months: int = 12,
                    programme_months: int | None = None, time_unit: str = "month") -> Figure:
    """Share with ``outcome`` by month (or year) since start, participants and comparison
    group.

    Parameters
    ----------
    paths : DataFrame
        ``rel_month, group ("participants"|"comparison"), n`` and the outcome columns
        (weighted means by month since start), as the estimate stage writes them.
    tr : Translator
        The report language.
    rules : DisclosureRules
        Months a group has fewer than ``min_cell_count`` people in are not drawn.
    outcome : str
        One of the share outcomes (``employed``, ``registered_unemployed``,
        ``employed_matching``).
    horizon_months : int
        The month relative to start whose shares the alt text quotes (besides the earliest
        one shown).
    programme_months : int, optional
        Length of the programme: months 0 to this are shaded as the programme period.
    time_unit : {"month", "year"}
        ``"year"`` for an annual register: only the observation months are drawn, at their
        year.

    Returns
    -------
    Figure
    """
    time = TimeScale(time_unit)
    if outcome not in SHARE_OUTCOMES:
        raise ValueError(f"employment_path draws shares: outcome must be one of "
                         f"{', '.join(SHARE_OUTCOMES)}, not {outcome!r}")
    data = _drawable_path(_on_grid(paths, "rel_month", time), rules, outcome)
    programme = programme_months / time.months_per_period() if programme_months else None
    styles = {
        "participants": dict(color=BLUE, linestyle="-", marker="o",
                             label=tr.t("figure.participants")),
        "comparison": dict(color=VERMILLION, linestyle="--", marker="s",
                           label=tr.t("figure.comparison_group")),
    }
    with _style():
        fig = _new_figure(4.4)
        ax = fig.add_subplot()
        if programme:
            ax.axvspan(0, programme, color=LIGHT, linewidth=0, zorder=0,
                       label=tr.t("figure.programme_period"))
        _start_line(ax, tr)
        for group in GROUPS:
            part = data[data["group"] == group]
            months = part["rel_month"].to_numpy()
            ax.plot(months, part["value"].to_numpy(), markersize=6.5,
                    markevery=_markers(months, part["drawn"].to_numpy(),
                                       every=1 if time.annual else 6), **styles[group])
        _time_axis(ax, tr, int(data["rel_month"].min()), int(data["rel_month"].max()), time)
        ax.set_ylabel(tr.t(f"figure.share_of.{outcome}"))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.yaxis.set_major_formatter(_percent_ticks(tr))
        top = np.nanmax(data["value"].to_numpy()) if data["drawn"].any() else 1.0
        ax.set_ylim(0, min(1.0, max(0.1, top * 1.12)))
        ax.set_xlim(data["rel_month"].min() - 0.5, data["rel_month"].max() + 0.5)
        fig.legend(loc="outside upper center", ncol=3, handlelength=2.6)
        caption, alt = _path_texts(data, tr, rules, outcome, time.period(horizon_months),
                                   programme_months, time)
        return _finish(fig, alt, caption)


def _path_texts(data: pd.DataFrame, tr: Translator, rules: DisclosureRules, outcome: str,
                horizon: int, programme_months: int | None,
                time: TimeScale) -> tuple[str, str]:
    """Caption and alt text of the path; ``data`` and ``horizon`` in the axis's periods."""
    shown = data[data["drawn"]]
    share = tr.t(f"figure.share_of.{outcome}")
    participants = data[data["group"] == "participants"].set_index("rel_month")["n"]
    fewer_later = bool(len(participants)) and participants.iloc[-1] < participants.max()
    caption = _sentences(
        tr.t(time.key("figure.caption.employment_path"), share=share),
        tr.t("figure.caption.programme_period") if programme_months else None,
        tr.t(time.key("figure.caption.later_cohorts")) if fewer_later else None,
        tr.t(time.key("figure.withheld.months"), minimum=_minimum(tr, rules))
        if data["withheld"].any() else None,
    )
    first, last = int(data["rel_month"].min()), int(data["rel_month"].max())
    alt = [tr.t(time.key("figure.alt.path"), share=tr.t(f"figure.about.{outcome}"),
                before=_periods(tr, time, min(first, 0)),
                after=_periods(tr, time, max(last, 0)))]
    values = shown.pivot(index="rel_month", columns="group", values="value")
    both = values.dropna().index if len(values.columns) == 2 else pd.Index([])
    before = [m for m in both if m < 0]
    for month, key in ((min(before, default=None), "figure.alt.path_before"),
                       (horizon, "figure.alt.path_at")):
        if month is not None and month in both:
            alt.append(tr.t(key, duration=_periods(tr, time, month),
                            treated=tr.percent(values.loc[month, "participants"]),
                            control=tr.percent(values.loc[month, "comparison"])))
    if data["withheld"].any():
        alt.append(tr.t(time.key("figure.withheld.months"), minimum=_minimum(tr, rules)))
    return caption, _sentences(*alt)


# ---- 2. event study ------------------------------------------------------------------------


def _drawable_event(frame: pd.DataFrame, rules: DisclosureRules, *, time: str,
                    outcome: str) -> pd.DataFrame:
    """The ``outcome``'s estimates by ``time`` with ``drawn``/``withheld``.

    The event-study tables carry no counts (every point pools all cohorts); if a count
    column is present (``n``, ``n_treated``, ``n_comparison``), a point with a small count is
    withheld. The reference month (estimate 0, no interval) is drawn without an interval.
    """
    _require(frame, (time, "estimate", "ci_low", "ci_high", "outcome"), "the event study")
    part = frame[frame["outcome"] == outcome]
    if part.empty:
        raise ValueError(f"no event-study rows for outcome {outcome!r}; "
                         f"it has {sorted(frame['outcome'].dropna().unique())}")
    if part[time].duplicated().any():
        raise ValueError(f"the event study has more than one row per {time}")
    out = pd.DataFrame({
        "time": part[time].astype("int64").to_numpy(),
        "estimate": part["estimate"].astype("float64").to_numpy(),
        "ci_low": part["ci_low"].astype("float64").to_numpy(),
        "ci_high": part["ci_high"].astype("float64").to_numpy(),
    })
    withheld = np.zeros(len(out), dtype=bool)
    for column in ("n", "n_treated", "n_comparison"):
        if column in part.columns:
            withheld |= np.array([rules.is_small(n) for n in part[column].fillna(0)])
    out["withheld"] = withheld
    out["drawn"] = ~withheld & np.isfinite(out["estimate"])
    return out.sort_values("time", ignore_index=True)


def event_study_plot(event: pd.DataFrame, tr: Translator, rules: DisclosureRules,
                     group_time: pd.DataFrame | None = None, *, outcome: str = "employed",
                     horizon_months: int = 12, confidence_level: float = 0.95,
                     currency: str = "SEK", time_unit: str = "month") -> Figure:
    """Effect by month since start with intervals: the stacked event study, and optionally the
    Callaway–Sant'Anna aggregation as a second series.

    Parameters
    ----------
    event : DataFrame
        ``relative_time, estimate, std_error, ci_low, ci_high, p_value, outcome``; the
        reference month (−1) has estimate 0 and no interval.
    tr, rules
        Report language and disclosure rules (used if the table has counts).
    group_time : DataFrame, optional
        ``event_time, estimate, std_error, ci_low, ci_high, outcome``.
    outcome : str
        Which outcome's rows to draw.
    horizon_months : int
        The month relative to start whose estimate the alt text quotes.
    confidence_level : float
        The level of the intervals in the tables (they do not record it).
    currency : str
        Currency of earnings effects.
    time_unit : {"month", "year"}
        ``"year"`` for an annual register: the estimates at the observation months are drawn
        at their year (the reference, month −1, is year 0).

    Returns
    -------
    Figure
    """
    _check_outcome(outcome)
    level = _level(confidence_level)
    time = TimeScale(time_unit)
    scale = _EffectScale(tr, outcome, currency, time)
    series = [("event_study", _on_grid(_drawable_event(event, rules, time="relative_time",
                                                       outcome=outcome), "time", time))]
    if group_time is not None:
        series.append(("group_time", _on_grid(_drawable_event(
            group_time, rules, time="event_time", outcome=outcome), "time", time)))
    styles = {
        "event_study": dict(color=BLUE, marker="o", markerfacecolor=BLUE),
        "group_time": dict(color=VERMILLION, marker="s", markerfacecolor="white"),
    }
    offsets = {"event_study": -0.2, "group_time": 0.2} if len(series) == 2 else {
        "event_study": 0.0}
    with _style():
        fig = _new_figure(4.4)
        ax = fig.add_subplot()
        ax.axhline(0, color=INK, linewidth=1.0, zorder=1)
        _start_line(ax, tr)
        for name, data in series:
            shown = data[data["drawn"]]
            x = shown["time"].to_numpy() + offsets[name]
            est = shown["estimate"].to_numpy()
            low = np.clip(np.nan_to_num(est - shown["ci_low"].to_numpy()), 0, None)
            high = np.clip(np.nan_to_num(shown["ci_high"].to_numpy() - est), 0, None)
            ax.errorbar(x, est, yerr=[low, high], linestyle="none", markersize=4.5,
                        elinewidth=1.1, capsize=0, markeredgewidth=1.2, zorder=3,
                        label=tr.t(f"figure.series.{name}"), **styles[name])
        times = pd.concat([data["time"] for _, data in series])
        _time_axis(ax, tr, int(times.min()), int(times.max()), time)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]))
        ax.yaxis.set_major_formatter(scale.ticks())
        ax.set_ylabel(scale.axis_label())
        handles, labels = ax.get_legend_handles_labels()
        # two long series names side by side would run past the image's edge
        fig.legend(handles, [_wrap(label, 30) for label in labels],
                   loc="outside upper center", ncol=len(series), handlelength=1.5,
                   title=tr.t("figure.estimate_interval", level=tr.number(level)),
                   title_fontsize=11)
        withheld = any(data["withheld"].any() for _, data in series)
        caption = _sentences(
            tr.t(time.key("figure.caption.event_study"), about=scale.about(),
                 level=tr.number(level)),
            tr.t("figure.withheld.points", minimum=_minimum(tr, rules)) if withheld else None,
        )
        alt = _event_alt(series, tr, scale, time.period(horizon_months), level)
        return _finish(fig, alt, caption)


def _event_alt(series, tr: Translator, scale: _EffectScale, horizon: int, level: int) -> str:
    """Alt text of the event study; ``series`` times and ``horizon`` in the axis's periods."""
    time = scale.time
    main = series[0][1]
    first, last = int(main["time"].min()), int(main["time"].max())
    parts = [tr.t(time.key("figure.alt.event_study"), about=scale.about(),
                  before=_periods(tr, time, min(first, 0)),
                  after=_periods(tr, time, max(last, 0)), level=tr.number(level))]
    before = main[main["drawn"] & (main["time"] < time.period(-1))]
    if len(before):
        parts.append(tr.t("figure.alt.event_before", low=scale.text(before["estimate"].min()),
                          high=scale.text(before["estimate"].max())))
    for name, data in series:
        at = data[data["drawn"] & (data["time"] == horizon)]
        if len(at):
            row = at.iloc[0]
            parts.append(tr.t("figure.alt.event_at", series=tr.t(f"figure.series.{name}"),
                              duration=_periods(tr, time, horizon),
                              estimate=scale.text(row["estimate"]), level=tr.number(level),
                              interval=scale.interval(row["ci_low"], row["ci_high"])))
    return _sentences(*parts)


# ---- 3. forest plot ------------------------------------------------------------------------


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(value).strip().lower()).strip("_")


def _subgroup_name(name: str, tr: Translator) -> str:
    key = f"subgroup.{SUBGROUP_ALIASES.get(name, name)}.name"
    return tr.t(key) if key in tr.keys else name


def _value_label(subgroup: str, value: str, tr: Translator,
                 value_labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """A subgroup value as the report shows it: the caller's label, else the catalogue's
    (``female`` 1/0 → women/men, ``education_field`` 3 → its broad field, a value whose
    slug is a ``subgroup.<name>.*`` key), else the value as it is."""
    value = str(value)
    if value_labels and value in value_labels.get(subgroup, {}):
        return value_labels[subgroup][value]
    if subgroup == "female":
        flag = value.strip().lower()
        if flag in ("1", "1.0", "true", "yes"):
            return tr.t("subgroup.sex.women")
        if flag in ("0", "0.0", "false", "no"):
            return tr.t("subgroup.sex.men")
    name = SUBGROUP_ALIASES.get(subgroup, subgroup)
    candidates = [f"subgroup.{name}.{_slug(value)}"]
    if name == "education_field":
        candidates.insert(0, f"subgroup.education_field.broad_{_slug(value)}")
    for key in candidates:
        if key in tr.keys and not key.endswith(".name"):
            return tr.t(key)
    return value


def _value_order(subgroup: str, values: pd.Series,
                 value_labels: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
    """Values in display order: the order of the caller's labels (e.g. cohorts by start),
    then women before men, then sorted."""
    values = [str(v) for v in pd.unique(values)]
    given = list((value_labels or {}).get(subgroup, {}))
    if given:
        rank = {v: i for i, v in enumerate(given)}
        return sorted(values, key=lambda v: (rank.get(v, len(rank)), v))
    if subgroup == "female":  # women first, as the catalogue and statistics list them
        return sorted(values, key=lambda v: (v.strip().lower() not in ("1", "1.0", "true"), v))
    return sorted(values)


def _forest_rows(effects: pd.DataFrame, tr: Translator, rules: DisclosureRules, *,
                 outcome: str, horizon_months: int, estimator: str,
                 subgroups: Sequence[str] | None = None,
                 value_labels: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """The forest plot's rows, top to bottom.

    Columns: ``kind`` (``overall``, ``header``, ``value``), ``subgroup``, ``value``,
    ``label``, ``status``, ``estimate``, ``ci_low``, ``ci_high``, ``drawn``, ``withheld``
    (an estimate with fewer than ``min_cell_count`` participants or comparisons) and
    ``note`` (what is written instead of a point that is not drawn).
    """
    _require(effects, ("outcome", "horizon_months", "estimator", "subgroup", "subgroup_value",
                       "status", "estimate", "ci_low", "ci_high", "n_t", "n_c"), "effects")
    chosen = effects[(effects["outcome"] == outcome)
                     & (effects["horizon_months"] == horizon_months)
                     & (effects["estimator"] == estimator)]
    if chosen.empty:
        raise ValueError(
            f"effects has no rows for outcome={outcome!r}, horizon_months={horizon_months}, "
            f"estimator={estimator!r} (it has outcomes {sorted(effects['outcome'].unique())}, "
            f"horizons {sorted(effects['horizon_months'].unique())}, estimators "
            f"{sorted(effects['estimator'].unique())})")
    minimum = _minimum(tr, rules)

    def row(kind: str, record, label: str) -> dict:
        estimate = float(record.estimate) if pd.notna(record.estimate) else math.nan
        status = str(record.status)
        small = rules.is_small(record.n_t) or rules.is_small(record.n_c)
        estimated = status in ESTIMATED and math.isfinite(estimate)
        if status == "too_few":
            note = tr.t("figure.not_estimated.too_few")
        elif status == "not_observable":
            note = tr.t("figure.not_estimated.not_observable")
        elif estimated and small:
            note = tr.t("figure.not_estimated.small", minimum=minimum)
        elif not estimated:
            note = tr.t("figure.not_estimated.other")
        else:
            note = ""
        return dict(kind=kind, subgroup=str(record.subgroup), value=str(record.subgroup_value),
                    label=label, status=status, estimate=estimate,
                    ci_low=float(record.ci_low), ci_high=float(record.ci_high),
                    drawn=estimated and not small, withheld=estimated and small, note=note)

    rows = [row("overall", r, tr.t("subgroup.everyone"))
            for r in chosen[chosen["subgroup"] == "all"].itertuples()]
    names = [s for s in pd.unique(chosen["subgroup"]) if s != "all"]
    if subgroups is not None:
        unknown = sorted(set(subgroups) - set(names))
        if unknown:
            raise ValueError(f"subgroups {unknown} are not in effects; it has {names}")
        names = list(subgroups)
    for name in names:
        part = chosen[chosen["subgroup"] == name]
        rows.append(dict(kind="header", subgroup=name, value="", label=_subgroup_name(name, tr),
                         status="", estimate=math.nan, ci_low=math.nan, ci_high=math.nan,
                         drawn=False, withheld=False, note=""))
        by_value = {str(r.subgroup_value): r for r in part.itertuples()}
        for value in _value_order(name, part["subgroup_value"], value_labels):
            rows.append(row("value", by_value[value],
                            _value_label(name, value, tr, value_labels)))
    return pd.DataFrame(rows)


def forest_plot(effects: pd.DataFrame, tr: Translator, rules: DisclosureRules, *,
                outcome: str = "employed", horizon_months: int = 12,
                estimator: str = "matched_difference", subgroups: Sequence[str] | None = None,
                value_labels: Mapping[str, Mapping[str, str]] | None = None,
                currency: str = "SEK", time_unit: str = "month") -> Figure:
    """Effects for all participants and by subgroup, with intervals (a forest plot).

    Parameters
    ----------
    effects : DataFrame
        The effects table (``outcome, horizon_months, estimator, subgroup, subgroup_value,
        status, estimate, ci_low, ci_high, n_t, n_c, confidence_level``).
    tr, rules
        Report language; estimates with fewer than ``min_cell_count`` participants or
        comparisons are listed as not shown rather than drawn.
    outcome, horizon_months, estimator
        The effects to draw.
    subgroups : sequence of str, optional
        Which subgroups to show, in this order (default: all, in the table's order).
    value_labels : mapping, optional
        ``{subgroup: {value: label}}`` for values the catalogue cannot name (municipality
        codes, say); others are named from ``subgroup.*`` keys or shown as they are.
    currency : str
        Currency of earnings effects.
    time_unit : {"month", "year"}
        How the horizon is worded ("12 months", "1 year").

    Returns
    -------
    Figure
    """
    _check_outcome(outcome)
    time = TimeScale(time_unit)
    rows = _forest_rows(effects, tr, rules, outcome=outcome, horizon_months=horizon_months,
                        estimator=estimator, subgroups=subgroups, value_labels=value_labels)
    scale = _EffectScale(tr, outcome, currency, time)
    levels = []
    if "confidence_level" in effects.columns:
        levels = effects.loc[(effects["outcome"] == outcome)
                             & (effects["horizon_months"] == horizon_months)
                             & (effects["estimator"] == estimator),
                             "confidence_level"].dropna().unique()
    level = _level(float(levels[0]) if len(levels) else 0.95)
    labels = [
        _wrap(r.label, 32) if r.kind != "value" else _wrap(r.label, 32, indent="   ")
        for r in rows.itertuples()
    ]
    lines = [label.count("\n") + 1 for label in labels]
    heights = np.array([0.16 + 0.19 * n for n in lines])
    y = -(np.cumsum(heights) - heights / 2)
    with _style():
        fig = _new_figure(float(heights.sum()) + 1.6)
        ax = fig.add_subplot()
        ax.grid(False, axis="y")
        overall = rows[(rows["kind"] == "overall") & rows["drawn"]]
        if len(overall):
            ax.axvline(overall["estimate"].iloc[0], color=MUTED, linestyle="--",
                       linewidth=1.3, zorder=1)
        ax.axvline(0, color=INK, linewidth=1.0, zorder=1)
        note_transform = blended_transform_factory(ax.transAxes, ax.transData)
        for position, r in zip(y, rows.itertuples(), strict=True):
            if r.drawn:
                is_overall = r.kind == "overall"
                colour = INK if is_overall else BLUE
                ax.plot([r.ci_low, r.ci_high], [position, position], color=colour,
                        linewidth=2.0, solid_capstyle="butt", zorder=2)
                ax.plot([r.estimate], [position], marker="D" if is_overall else "o",
                        markersize=7.5, color=colour, markeredgewidth=1.6, zorder=3,
                        markerfacecolor="white" if r.status == "partial" else colour)
            elif r.note:
                ax.text(0.02, position, r.note, transform=note_transform, va="center",
                        ha="left", fontsize=10.5, style="italic", color=MUTED,
                        bbox=dict(facecolor="white", edgecolor="none", pad=1.0))
        ax.set_yticks(y, labels)
        ax.tick_params(axis="y", length=0)
        for tick, r in zip(ax.get_yticklabels(), rows.itertuples(), strict=True):
            if r.kind in ("overall", "header"):
                tick.set_fontweight("bold")
        _left_align_labels(ax)
        ax.set_ylim(y.min() - heights[-1] * 0.7, 0)
        shown = rows[rows["drawn"]]
        low = min([0.0, *shown["ci_low"].dropna()])
        high = max([0.0, *shown["ci_high"].dropna()])
        pad = (high - low) * 0.08 or 0.01
        ax.set_xlim(low - pad, high + pad)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.xaxis.set_major_formatter(scale.ticks())
        ax.set_xlabel(scale.axis_label())
        handles = [Line2D([], [], color=BLUE, marker="o", markersize=7, linewidth=2,
                          label=tr.t("figure.estimate_interval", level=tr.number(level)))]
        if (rows["drawn"] & (rows["status"] == "partial")).any():
            handles.append(Line2D([], [], color=BLUE, marker="o", markersize=7, linewidth=2,
                                  markerfacecolor="white", label=tr.t("figure.partial")))
        if len(overall):
            handles.append(Line2D([], [], color=MUTED, linestyle="--", linewidth=1.3,
                                  label=tr.t("figure.overall_line")))
        fig.legend(handles=[_wrapped(h, 34) for h in handles], loc="outside upper center",
                   ncol=min(2, len(handles)), handlelength=2.2)
        caption, alt = _forest_texts(rows, tr, rules, scale, horizon_months, level)
        return _finish(fig, alt, caption)


def _wrapped(handle: Line2D, width: int) -> Line2D:
    handle.set_label(_wrap(handle.get_label(), width))
    return handle


def _forest_texts(rows: pd.DataFrame, tr: Translator, rules: DisclosureRules,
                  scale: _EffectScale, horizon: int, level: int) -> tuple[str, str]:
    about, duration = scale.about(), scale.time.duration(tr, horizon)
    caption = _sentences(
        tr.t("figure.caption.forest", about=about, duration=duration, level=tr.number(level)),
        tr.t("figure.withheld.groups", minimum=_minimum(tr, rules))
        if rows["withheld"].any() else None,
    )
    parts = [tr.t("figure.alt.forest", about=about, duration=duration, level=tr.number(level))]
    overall = rows[(rows["kind"] == "overall") & rows["drawn"]]
    if len(overall):
        r = overall.iloc[0]
        parts.append(tr.t("figure.alt.forest_overall", estimate=scale.text(r["estimate"]),
                          level=tr.number(level),
                          interval=scale.interval(r["ci_low"], r["ci_high"])))
    groups = rows[(rows["kind"] == "value") & rows["drawn"]]
    if len(groups) >= 2:
        lowest = groups.loc[groups["estimate"].idxmin()]
        highest = groups.loc[groups["estimate"].idxmax()]
        parts.append(tr.t("figure.alt.forest_range",
                          low=scale.text(lowest["estimate"]), low_group=lowest["label"],
                          high=scale.text(highest["estimate"]), high_group=highest["label"]))
    missing = int(((rows["kind"] == "value") & ~rows["drawn"]).sum())
    if missing:
        parts.append(tr.plural("figure.alt.forest_missing", missing))
    return caption, _sentences(*parts)


# ---- 4. love plot --------------------------------------------------------------------------


def _love_rows(balance: pd.DataFrame, tr: Translator,
               labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``variable, label, before, after`` (absolute SMDs), largest before-matching first;
    variables without either difference are left out."""
    _require(balance, ("variable", "smd_before", "smd_after"), "balance")
    frame = pd.DataFrame({
        "variable": balance["variable"].astype(str).to_numpy(),
        "before": balance["smd_before"].astype("float64").abs().to_numpy(),
        "after": balance["smd_after"].astype("float64").abs().to_numpy(),
    })
    frame = frame[frame["before"].notna() | frame["after"].notna()]
    names = dict(labels or {})

    def label(variable: str) -> str:
        if variable in names:
            return names[variable]
        key = f"figure.covariate.{variable}"
        return tr.t(key) if key in tr.keys else variable

    frame["label"] = [label(v) for v in frame["variable"]]
    frame = frame.sort_values(["before", "after"], ascending=False, na_position="last",
                              kind="stable", ignore_index=True)
    return frame[["variable", "label", "before", "after"]]


def love_plot(balance: pd.DataFrame, tr: Translator, *, threshold: float = 0.1,
              labels: Mapping[str, str] | None = None) -> Figure:
    """Absolute standardised mean differences before and after matching, one row per
    covariate, with the threshold as a dashed line.

    Parameters
    ----------
    balance : DataFrame
        The match stage's balance table (``variable, smd_before, smd_after, ...``).
    tr : Translator
        The report language.
    threshold : float
        Differences below it count as balanced.
    labels : mapping, optional
        Covariate name → label in the report language; others are shown by name
        (``distance`` as the propensity score).

    Returns
    -------
    Figure
    """
    rows = _love_rows(balance, tr, labels)
    if rows.empty:
        raise ValueError("balance has no standardised mean differences to draw")
    names = [_wrap(label, 34) for label in rows["label"]]
    heights = np.array([0.14 + 0.17 * (n.count("\n") + 1) for n in names])
    y = -(np.cumsum(heights) - heights / 2)
    threshold_text = tr.number(threshold, _decimals_for([threshold]))
    with _style():
        fig = _new_figure(float(heights.sum()) + 1.5)
        ax = fig.add_subplot()
        ax.grid(False, axis="y")
        ax.hlines(y, rows["before"].fillna(rows["after"]), rows["after"].fillna(rows["before"]),
                  color=GRID, linewidth=1.6, zorder=1)
        ax.axvline(threshold, color=INK, linestyle="--", linewidth=1.2, zorder=1)
        ax.plot(rows["before"], y, linestyle="none", marker="o", markersize=7,
                markerfacecolor="white", markeredgecolor=VERMILLION, markeredgewidth=1.6,
                zorder=3, label=tr.t("figure.before_matching"))
        ax.plot(rows["after"], y, linestyle="none", marker="o", markersize=6.5, color=BLUE,
                zorder=4, label=tr.t("figure.after_matching"))
        ax.set_yticks(y, names, fontsize=10.5)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(y.min() - heights[-1], 0)
        top = float(np.nanmax([rows["before"].max(), rows["after"].max(), threshold]))
        ax.set_xlim(-top * 0.02, top * 1.06)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.xaxis.set_major_formatter(_number_ticks(tr))
        ax.set_xlabel(tr.t("figure.abs_smd"))
        ax.annotate(tr.t("figure.threshold", threshold=threshold_text), xy=(threshold, 0),
                    xycoords=("data", "axes fraction"), xytext=(4, 3),
                    textcoords="offset points", fontsize=10.5, ha="left", va="bottom")
        fig.legend(loc="outside upper center", ncol=2)
        caption = tr.t("figure.caption.love", threshold=threshold_text)
        alt = _love_alt(rows, tr, threshold, threshold_text)
        return _finish(fig, alt, caption)


def _love_alt(rows: pd.DataFrame, tr: Translator, threshold: float,
              threshold_text: str) -> str:
    parts = [tr.plural("figure.alt.love", len(rows))]
    before, after = rows.dropna(subset=["before"]), rows.dropna(subset=["after"])
    if len(before) and len(after):
        worst_before = before.loc[before["before"].idxmax()]
        worst_after = after.loc[after["after"].idxmax()]
        parts.append(tr.t("figure.alt.love_max",
                          before=tr.number(worst_before["before"], 2),
                          before_name=worst_before["label"],
                          after=tr.number(worst_after["after"], 2),
                          after_name=worst_after["label"]))
    parts.append(tr.t("figure.alt.love_above", threshold=threshold_text,
                      before=tr.count(int((rows["before"] > threshold).sum())),
                      after=tr.count(int((rows["after"] > threshold).sum()))))
    return _sentences(*parts)


# ---- 5. overlap ----------------------------------------------------------------------------

_DECADE_PROBABILITIES = (0.0001, 0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999)
_NICE_PROBABILITIES = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
                       0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999)
OVERLAP_GROUPS = ("treated", "control", "matched_control")


def _score_scale(histogram: pd.DataFrame) -> tuple[str, str, str]:
    """(scale, low column, high column): logit bins as the match stage writes them, or bins
    on the probability scale."""
    if {"logit_low", "logit_high"} <= set(histogram.columns):
        return "logit", "logit_low", "logit_high"
    if {"bin_low", "bin_high"} <= set(histogram.columns):
        return "probability", "bin_low", "bin_high"
    raise ValueError("the score histogram needs logit_low/logit_high or bin_low/bin_high; "
                     f"it has {list(histogram.columns)}")


def _drawable_overlap(histogram: pd.DataFrame, rules: DisclosureRules) -> pd.DataFrame:
    """Bins of each group with ``share`` (of the group's people; of its summed weights for
    ``matched_control``), ``drawn`` and ``withheld`` (``0 < n < min_cell_count``)."""
    _, low, high = _score_scale(histogram)
    _require(histogram, ("group", "n"), "the score histogram")
    frame = histogram[histogram["group"].isin(OVERLAP_GROUPS)].copy()
    if not {"treated", "control"} <= set(frame["group"]):
        raise ValueError("the score histogram needs the groups 'treated' and 'control'")
    frame["low"], frame["high"] = frame[low].astype(float), frame[high].astype(float)
    frame["n"] = frame["n"].astype("int64")
    mass = frame["n"].astype(float)
    if "weight" in frame.columns:
        weighted = frame["group"] == "matched_control"
        mass = mass.where(~weighted, frame["weight"].astype(float))
    totals = mass.groupby(frame["group"]).transform("sum")
    frame["share"] = (mass / totals.where(totals > 0)).fillna(0.0)
    frame["withheld"] = [rules.is_small(n) for n in frame["n"]]
    frame["drawn"] = (frame["n"] > 0) & ~frame["withheld"]
    frame["order"] = frame["group"].map({g: i for i, g in enumerate(OVERLAP_GROUPS)})
    frame = frame.sort_values(["order", "low"], ignore_index=True)
    return frame[["group", "low", "high", "n", "share", "drawn", "withheld"]]


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _probability_ticks(low: float, high: float) -> list[float]:
    """Tick positions (logits) at round probabilities between ``low`` and ``high``: one per
    decade, or 1-2-5 steps when that gives fewer than four."""
    for candidates in (_DECADE_PROBABILITIES, _NICE_PROBABILITIES):
        ticks = [_logit(p) for p in candidates if low <= _logit(p) <= high]
        if len(ticks) >= 4:
            break
    step = max(1, math.ceil(len(ticks) / 7))
    return ticks[::step]


def _probability_text(tr: Translator, p: float) -> str:
    """A round probability (a tick) as a percentage with the decimals it needs."""
    return tr.percent(p, _decimals_for([p], 100, most=3))


def _probability_rounded(tr: Translator, p: float) -> str:
    """Any probability as a percentage with two significant digits (at most 3 decimals)."""
    if p * 100 < 0.0005:  # would show as 0.000%
        return tr.percent(0)
    decimals = min(3, max(0, 1 - math.floor(math.log10(p * 100))))
    return tr.percent(p, decimals)


def overlap_plot(histogram: pd.DataFrame, tr: Translator, rules: DisclosureRules) -> Figure:
    """Propensity-score distributions as shares of each group, mirrored: participants above
    the axis, eligible non-participants below, the matched comparison group (if present) as
    an outline over the participants.

    Parameters
    ----------
    histogram : DataFrame
        ``group ("treated"|"control"[|"matched_control"]), logit_low, logit_high, n[,
        weight]`` as the match stage writes it (bins on the logit scale; the axis is labelled
        in probabilities), or ``bin_low, bin_high`` on the probability scale.
    tr, rules
        Report language; bins with ``0 < n < min_cell_count`` are not drawn.

    Returns
    -------
    Figure
    """
    scale, _, _ = _score_scale(histogram)
    data = _drawable_overlap(histogram, rules)
    to_probability = _expit if scale == "logit" else (lambda x: x)
    labels = {"treated": tr.t("figure.participants"),
              "control": tr.t("figure.non_participants"),
              "matched_control": tr.t("figure.matched_comparison")}
    with _style():
        fig = _new_figure(4.6)
        ax = fig.add_subplot()
        handles = []
        for group, sign, colour in (("treated", 1, BLUE), ("control", -1, VERMILLION)):
            shown = data[(data["group"] == group) & data["drawn"]]
            ax.bar(shown["low"], sign * shown["share"], width=shown["high"] - shown["low"],
                   align="edge", color=colour, edgecolor="white", linewidth=0.6, zorder=2)
            handles.append(Patch(facecolor=colour, label=labels[group]))
        matched = data[(data["group"] == "matched_control") & data["drawn"]]
        if len(matched):
            for run in _runs(matched):
                ax.stairs(run["share"].to_numpy(), [*run["low"], run["high"].iloc[-1]],
                          color=INK, linewidth=1.8, linestyle="-", zorder=3, baseline=0)
            handles.insert(1, Line2D([], [], color=INK, linewidth=1.8,
                                     label=labels["matched_control"]))
        ax.axhline(0, color=INK, linewidth=1.0, zorder=3)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10],
                                               symmetric=True))
        ax.yaxis.set_major_formatter(_percent_ticks(tr, absolute=True))
        ax.set_ylabel(tr.t("figure.share_of_group"))
        extent = data[data["drawn"]]
        if len(extent):
            low, high = float(extent["low"].min()), float(extent["high"].max())
            pad = (high - low) * 0.02
            ax.set_xlim(low - pad, high + pad)
        else:
            low, high = (0.0, 1.0)
        if scale == "logit":
            ticks = _probability_ticks(low, high)
            ax.set_xticks(ticks, [_probability_text(tr, _expit(t)) for t in ticks])
            ax.set_xlabel(tr.t("figure.probability_logit"))
        else:
            ax.xaxis.set_major_formatter(_percent_ticks(tr))
            ax.set_xlabel(tr.t("figure.propensity_score"))
        fig.legend(handles=handles, loc="outside upper center", ncol=2, handlelength=1.6)
        caption, alt = _overlap_texts(data, tr, rules, to_probability, bool(len(matched)))
        return _finish(fig, alt, caption)


def _runs(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Consecutive bins (each ending where the next begins)."""
    breaks = ~np.isclose(frame["low"].to_numpy()[1:], frame["high"].to_numpy()[:-1])
    starts = np.r_[0, np.flatnonzero(breaks) + 1, len(frame)]
    return [frame.iloc[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]


def _overlap_texts(data: pd.DataFrame, tr: Translator, rules: DisclosureRules,
                   to_probability: Callable[[float], float],
                   matched: bool) -> tuple[str, str]:
    withheld = data["withheld"].any()
    caption = _sentences(
        tr.t("figure.caption.overlap"),
        tr.t("figure.caption.overlap_matched") if matched else None,
        tr.t("figure.withheld.bins", minimum=_minimum(tr, rules)) if withheld else None,
    )

    def extent(group: str) -> str:
        shown = data[(data["group"] == group) & data["drawn"]]
        if shown.empty:
            return tr.missing()
        return tr.interval(_probability_rounded(tr, to_probability(shown["low"].min())),
                           _probability_rounded(tr, to_probability(shown["high"].max())))

    parts = [tr.t("figure.alt.overlap_ranges", treated=extent("treated"),
                  control=extent("control"))]
    treated = data[data["group"] == "treated"].set_index(["low", "high"])
    control = data[data["group"] == "control"].set_index(["low", "high"])
    supported = control["drawn"].reindex(treated.index, fill_value=False)
    in_support = int(treated.loc[supported & treated["drawn"], "n"].sum())
    total = int(treated["n"].sum())
    if total and not share_withheld(in_support / total, total, rules):
        parts.append(tr.t("figure.alt.overlap_support", share=tr.percent(in_support / total),
                          minimum=_minimum(tr, rules)))
    if withheld:
        parts.append(tr.t("figure.withheld.bins", minimum=_minimum(tr, rules)))
    return caption, _sentences(*parts)


# ---- 6. Likert items -----------------------------------------------------------------------


def _likert_colours(k: int) -> list[str]:
    if k == 5:
        return list(LIKERT5)
    colours = [mcolors.to_hex(c) for c in mpl.colormaps["PuOr"](np.linspace(0.1, 0.9, k))]
    if k % 2:
        colours[k // 2] = LIKERT5[2]
    return colours


def _wave_order(waves: Iterable[str]) -> list[str]:
    seen = list(dict.fromkeys(str(w) for w in waves))
    return [w for w in WAVES if w in seen] + [w for w in seen if w not in WAVES]


def _likert_segments(distribution: pd.DataFrame, rules: DisclosureRules) -> pd.DataFrame:
    """One row per item × wave × category, centred on the neutral category: ``left``
    (where the segment starts), ``share``, the bar's ``total`` answers, ``agree`` and
    ``disagree`` (shares above and below neutral), ``drawn`` and ``withheld`` (total below
    ``min_cell_count``). Items keep their order of appearance, waves run intake, end."""
    _require(distribution, ("item", "item_text", "wave", "category", "label", "n", "share"),
             "the answer distribution")
    frame = distribution.copy()
    frame["wave"] = frame["wave"].astype(str)
    frame["category"] = frame["category"].astype("int64")
    frame["share"] = frame["share"].astype(float).fillna(0.0)
    categories = sorted(frame["category"].unique())
    k = len(categories)
    position = {c: i for i, c in enumerate(categories)}
    frame["position"] = frame["category"].map(position)
    frame["item_order"] = frame["item"].map(
        {item: i for i, item in enumerate(pd.unique(frame["item"]))})
    frame["wave_order"] = frame["wave"].map(
        {wave: i for i, wave in enumerate(_wave_order(frame["wave"]))})
    frame = frame.sort_values(["item_order", "wave_order", "position"], ignore_index=True)
    if frame.duplicated(["item", "wave", "category"]).any():
        raise ValueError("the answer distribution has more than one row per item, wave and "
                         "category")
    out = []
    for _, bar in frame.groupby(["item_order", "wave_order"], sort=False):
        shares = bar.set_index("position")["share"].reindex(range(k), fill_value=0.0)
        below = shares.iloc[: k // 2].sum()
        above = shares.iloc[(k + 1) // 2:].sum()
        neutral = shares.iloc[k // 2] if k % 2 else 0.0
        starts = -(below + neutral / 2) + np.r_[0.0, np.cumsum(shares.to_numpy())[:-1]]
        total = int(bar["n"].sum())
        small = rules.is_small(total)
        bar = bar.assign(left=starts[bar["position"].to_numpy()], total=total,
                         agree=above, disagree=below, withheld=small,
                         drawn=(total > 0) and not small)
        out.append(bar)
    result = pd.concat(out, ignore_index=True)
    return result[["item", "item_text", "wave", "category", "position", "label", "n", "share",
                   "left", "total", "agree", "disagree", "drawn", "withheld"]]


def _wave_label(tr: Translator, wave: str, kind: str = "wave") -> str:
    key = f"figure.{kind}.{wave}"
    return tr.t(key) if key in tr.keys else wave


def likert_bars(distribution: pd.DataFrame, tr: Translator, rules: DisclosureRules) -> Figure:
    """Answers to agreement items as diverging stacked bars centred on the neutral answer,
    one bar per item and wave (start of programme above end), item texts as headings.

    Parameters
    ----------
    distribution : DataFrame
        ``item, item_text, wave, category (1..k, ascending agreement), label, n, share``:
        share within item × wave, "don't know" already excluded; ``item_text`` and ``label``
        in the report language.
    tr, rules
        Report language; an item × wave answered by fewer than ``min_cell_count`` people is
        not drawn.

    Returns
    -------
    Figure
    """
    data = _likert_segments(distribution, rules)
    k = int(data["position"].max()) + 1
    colours = _likert_colours(k)
    legend_labels = (data.drop_duplicates("position").set_index("position")["label"]
                     .reindex(range(k)).fillna("").astype(str))
    bars = data.drop_duplicates(["item", "wave"])[
        ["item", "item_text", "wave", "total", "agree", "disagree", "drawn", "withheld"]]
    # layout, in units of one bar slot, top to bottom
    headings, slots, cursor = [], [], 0.0
    for _, part in bars.groupby("item", sort=False):
        text = _wrap(part["item_text"].iloc[0], 62)
        lines = text.count("\n") + 1
        cursor += 0.15 + 0.5 * lines
        headings.append((cursor - 0.1, text))
        for bar in part.itertuples():
            cursor += 1.0
            slots.append((cursor - 0.5, bar))
        cursor += 0.35
    shown = data[data["drawn"]]
    reach = float(max(shown.groupby(["item", "wave"])["left"].min().abs().max(),
                      (shown["left"] + shown["share"]).max())) if len(shown) else 0.5
    limit = min(1.0, math.ceil(reach * 4 + 1e-9) / 4)
    with _style():
        fig = _new_figure(cursor * 0.34 + 1.9)
        ax = fig.add_subplot()
        ax.grid(False, axis="y")
        text_x = blended_transform_factory(fig.transFigure, ax.transData)
        for y, text in headings:
            heading = ax.text(0.015, -y, text, transform=text_x, ha="left", va="bottom",
                              fontsize=11.5, fontweight="bold", color=INK, zorder=5,
                              bbox=dict(facecolor="white", edgecolor="none", pad=1.5))
            heading.set_in_layout(False)
        segment_points = (WIDTH_IN - 1.9) * 72 / (2 * limit)  # points per unit share
        for y, bar in slots:
            if not bar.drawn:
                note = tr.t("figure.not_shown_answers", minimum=_minimum(tr, rules))
                ax.text(0, -y, note, ha="center", va="center", fontsize=10.5,
                        style="italic", color=MUTED)
                continue
            segments = data[(data["item"] == bar.item) & (data["wave"] == bar.wave)]
            for s in segments.itertuples():
                colour = colours[s.position]
                ax.barh(-y, s.share, left=s.left, height=0.72, color=colour,
                        edgecolor="white", linewidth=0.8, zorder=2)
                text = tr.percent(s.share)
                if s.share * segment_points > len(text) * 6.2 + 6:
                    ax.text(s.left + s.share / 2, -y, text, ha="center", va="center",
                            fontsize=10, color=_text_colour(colour), zorder=3)
        ax.axvline(0, color=INK, linewidth=1.0, zorder=3)
        ax.spines["left"].set_visible(False)
        ax.set_yticks([-y for y, _ in slots], [_wave_label(tr, b.wave) for _, b in slots])
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-cursor, 0)
        ax.set_xlim(-limit, limit)
        ax.xaxis.set_major_locator(MultipleLocator(0.25))
        ax.xaxis.set_major_formatter(_percent_ticks(tr, absolute=True))
        ax.set_xlabel(tr.t("figure.share_of_respondents"))
        handles = [Patch(facecolor=c, edgecolor="white", label=_wrap(label, 13))
                   for c, label in zip(colours, legend_labels, strict=True)]
        fig.legend(handles=handles, loc="outside upper center", ncol=min(k, 5),
                   handlelength=1.2, columnspacing=0.9, fontsize=10.5)
        caption, alt = _likert_texts(bars, tr, rules)
        return _finish(fig, alt, caption)


def _text_colour(background: str) -> str:
    r, g, b = mcolors.to_rgb(background)
    luminance = 0.2126 * r**2.2 + 0.7152 * g**2.2 + 0.0722 * b**2.2
    return "white" if luminance < 0.2 else INK


def _likert_texts(bars: pd.DataFrame, tr: Translator,
                  rules: DisclosureRules) -> tuple[str, str]:
    withheld = bars["withheld"].any()
    caption = _sentences(
        tr.t("figure.caption.likert"),
        tr.t("figure.withheld.answers", minimum=_minimum(tr, rules)) if withheld else None,
    )
    parts = [tr.plural("figure.alt.likert", bars["item"].nunique())]
    for _, part in bars.groupby("item", sort=False):
        waves = []
        for bar in part.itertuples():
            wave = _wave_label(tr, bar.wave, "wave_in_text")
            if bar.drawn:
                waves.append(tr.t("figure.alt.likert_wave", wave=wave,
                                  agree=tr.percent(bar.agree),
                                  disagree=tr.percent(bar.disagree)))
            else:
                waves.append(tr.t("figure.alt.likert_wave_withheld", wave=wave))
        parts.append(tr.t("figure.alt.likert_item", item=str(part["item_text"].iloc[0]),
                          waves="; ".join(waves)))
    return caption, _sentences(*parts)


# ---- 7. share bars -------------------------------------------------------------------------


def _drawable_shares(shares: pd.DataFrame, rules: DisclosureRules) -> pd.DataFrame:
    """The rows with ``drawn`` and ``withheld``: a share of fewer than ``min_cell_count``
    answers, or one whose number with or without the property is small, is withheld."""
    _require(shares, ("label", "share", "ci_low", "ci_high", "n"), "shares")
    frame = shares[["label", "share", "ci_low", "ci_high", "n"]].reset_index(drop=True)
    frame = frame.astype({"share": float, "ci_low": float, "ci_high": float})
    frame["withheld"] = [share_withheld(s, n, rules)
                         for s, n in zip(frame["share"], frame["n"], strict=True)]
    frame["drawn"] = ~frame["withheld"] & frame["share"].notna() & (frame["n"] > 0)
    return frame


def share_bars(shares: pd.DataFrame, tr: Translator, rules: DisclosureRules, *,
               description: str | None = None, confidence_level: float = 0.95) -> Figure:
    """Shares as horizontal bars with interval whiskers (key survey results), in the order
    given, top to bottom.

    Parameters
    ----------
    shares : DataFrame
        ``label, share, ci_low, ci_high, n`` (Wilson intervals; labels in the report
        language).
    tr, rules
        Report language; a share of fewer than ``min_cell_count`` answers, or of a small
        number with or without the property, is not drawn.
    description : str, optional
        What the shares are, in the report language: the caption's first sentence and the
        alt text's subject (default: a generic one).
    confidence_level : float
        The intervals' level.

    Returns
    -------
    Figure
    """
    data = _drawable_shares(shares, rules)
    level = tr.number(_level(confidence_level))
    labels = [_wrap(label, 30) for label in data["label"].astype(str)]
    heights = np.array([0.3 + 0.2 * (label.count("\n") + 1) for label in labels])
    y = -(np.cumsum(heights) - heights / 2)
    with _style():
        fig = _new_figure(float(heights.sum()) + 1.3)
        ax = fig.add_subplot()
        ax.grid(False, axis="y")
        for position, r in zip(y, data.itertuples(), strict=True):
            if not r.drawn:
                note = tr.t("figure.not_shown_answers", minimum=_minimum(tr, rules))
                ax.text(0.01, position, note, va="center", ha="left", fontsize=10.5,
                        style="italic", color=MUTED)
                continue
            ax.barh(position, r.share, height=0.55 * heights.min(), color=SKY,
                    edgecolor=BLUE, linewidth=1.0, zorder=2)
            if math.isfinite(r.ci_low) and math.isfinite(r.ci_high):
                ax.errorbar(r.share, position, xerr=[[r.share - r.ci_low], [r.ci_high - r.share]],
                            color=INK, linewidth=1.4, capsize=4, capthick=1.4, zorder=3)
            end = r.ci_high if math.isfinite(r.ci_high) else r.share
            ax.text(end + 0.015, position, tr.percent(r.share), va="center", ha="left",
                    fontsize=11, fontweight="bold", zorder=4)
        ax.set_yticks(y, labels)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(y.min() - heights[-1] * 0.6, 0)
        ax.set_xlim(0, 1.12)
        ax.xaxis.set_major_locator(FixedLocator([0, 0.25, 0.5, 0.75, 1.0]))
        ax.xaxis.set_major_formatter(_percent_ticks(tr))
        ax.set_xlabel(tr.t("figure.share_of_respondents"))
        ax.spines["bottom"].set_bounds(0, 1)
        withheld = data["withheld"].any()
        caption = _sentences(
            description,
            tr.t("figure.caption.share_bars", level=level),
            tr.t("figure.withheld.rows", minimum=_minimum(tr, rules)) if withheld else None,
        )
        parts = [tr.t("figure.alt.share_bars", level=level), description]
        for r in data.itertuples():
            if r.drawn:
                parts.append(tr.t("figure.alt.share_row", label=str(r.label),
                                  share=tr.percent(r.share), level=level,
                                  interval=tr.interval(tr.percent(r.ci_low),
                                                       tr.percent(r.ci_high))))
        if withheld:
            parts.append(tr.t("figure.withheld.rows", minimum=_minimum(tr, rules)))
        return _finish(fig, _sentences(*parts), caption)
