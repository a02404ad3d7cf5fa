"""Time in the report: months after start for monthly registers, years for annual ones.

The stage outputs always count time in months relative to start (``horizon_months``,
``rel_month``). An annual register (FOLK) has one row per person and year, at December: the
status at the end of the year. A cohort starts in January of its start year, so year ``k``
after start is relative month ``12 k - 1`` (year 1: the end of the start year; year 0, month
−1: the end of the year before start, the reference). :class:`TimeScale` turns relative months
into the report's unit, for texts and chart axes alike, and picks the catalogue texts that name
the unit.

Catalogue texts that say "month" have an annual variant ``<key>_annual`` with the same
placeholders (:data:`ANNUAL_VARIANTS`); :meth:`TimeScale.key` chooses between them, so a
missing variant is a :class:`~pipeline.report.i18n.MissingKeyError`, never a month in an
annual report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.report.i18n import Translator

UNITS = ("month", "year")
# Texts that name months (or monthly amounts); each has "<key>_annual" in both catalogues.
ANNUAL_VARIANTS = frozenset({
    "report.data_vintage",
    "effects.earnings_note",
    "effects.path.heading",
    "effects.path.intro",
    "effects.event.intro",
    "outcome.earnings.name",
    "figure.months_since_start",
    "figure.effect_money",
    "figure.about.earnings",
    "figure.caption.employment_path",
    "figure.caption.later_cohorts",
    "figure.caption.event_study",
    "figure.withheld.months",
    "figure.alt.path",
    "figure.alt.event_study",
    "appendix.definitions.horizon.text",
})


@dataclass(frozen=True)
class TimeScale:
    """The report's unit of time and how relative months map onto it.

    Parameters
    ----------
    unit : {"month", "year"}
        ``config.time_unit``.

    Examples
    --------
    >>> TimeScale("year").period(11), TimeScale("year").period(-1), TimeScale("month").period(11)
    (1, 0, 11)
    """

    unit: str = "month"

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown time unit {self.unit!r}; choose from {', '.join(UNITS)}")

    @property
    def annual(self) -> bool:
        """Whether the register is annual (time in years)."""
        return self.unit == "year"

    def period(self, rel_month: int) -> int:
        """A relative month in the report's unit: the month itself, or the year
        ``(rel_month + 1) // 12`` (month 11 is year 1, month −1 year 0)."""
        return (int(rel_month) + 1) // 12 if self.annual else int(rel_month)

    def periods(self, rel_months) -> np.ndarray:
        """:meth:`period` of every element (an array of ints)."""
        months = np.asarray(rel_months, dtype="int64")
        return (months + 1) // 12 if self.annual else months

    def on_grid(self, rel_months) -> np.ndarray:
        """Which relative months are observation times: every month, or the Decembers
        (``rel_month = 12 k - 1``) of an annual register."""
        months = np.asarray(rel_months, dtype="int64")
        return (months + 1) % 12 == 0 if self.annual else np.ones(months.shape, dtype=bool)

    def months_per_period(self) -> int:
        """12 for years, 1 for months."""
        return 12 if self.annual else 1

    def key(self, key: str) -> str:
        """The catalogue key of ``key``'s text in this unit (``<key>_annual`` for the texts
        of :data:`ANNUAL_VARIANTS` when annual)."""
        return f"{key}_annual" if self.annual and key in ANNUAL_VARIANTS else key

    def duration(self, tr: Translator, rel_month: int) -> str:
        """How far from start a relative month is, without sign: "12 months", "1 year"."""
        return self.periods_text(tr, abs(self.period(rel_month)))

    def length(self, tr: Translator, months: int) -> str:
        """A length given in months ("24 months", or "2 years" when annual, whole years)."""
        return self.periods_text(tr, int(months) // self.months_per_period())

    def horizon_label(self, tr: Translator, rel_month: int) -> str:
        """A follow-up time as a table label: "12 months"; annual: "1 year (end of the start
        year)", "2 years (end of year 2, the start year being year 1)"."""
        duration = self.duration(tr, rel_month)
        if not self.annual:
            return duration
        year = self.period(rel_month)
        if year == 1:
            return tr.t("horizon.year_first", duration=duration)
        return tr.t("horizon.year_later", duration=duration, year=tr.count(year))

    def periods_text(self, tr: Translator, n: int) -> str:
        """``n`` periods of this unit: "12 months" / "1 year"."""
        return tr.plural("unit.years" if self.annual else "unit.months", int(n))
