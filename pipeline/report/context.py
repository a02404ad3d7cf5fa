"""What every chapter of the report needs: the evidence, the language and the disclosure rules.

Numbers become text only here and in the chapters, always through the :class:`Translator`, and
counts only through :meth:`Context.count`, which applies the minimum cell size.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from pipeline.effects.table import headline
from pipeline.effects.verdict import DesignVerdict
from pipeline.report.disclosure import DisclosureRules, share_withheld
from pipeline.report.document import Legend
from pipeline.report.evidence import Evidence
from pipeline.report.i18n import Translator
from pipeline.report.timescale import TimeScale
from pipeline.surveys.codebook import Codebook, load_codebook
from pipeline.surveys.results import key_results

SHARE_OUTCOMES = ("employed", "registered_unemployed", "employed_matching")
# Currency of earnings by register shape, unless the study's report section names one.
CURRENCIES = {"denmark": "DKK", "finland": "EUR"}


@dataclass(frozen=True)
class Context:
    """The evidence with the report's language and disclosure rules.

    Attributes
    ----------
    evidence : Evidence
        The stage outputs.
    tr : Translator
        Texts and number formats of the report's language.
    rules : DisclosureRules
        The minimum cell size.
    """

    evidence: Evidence
    tr: Translator
    rules: DisclosureRules

    @property
    def config(self):
        return self.evidence.config

    @property
    def horizon(self) -> int:
        """The headline horizon as the month relative to start where it is read (the effects
        table's ``horizon_months``; ``12 k - 1`` for year ``k`` of an annual register)."""
        return int(self.config.headline_rel_month)

    @property
    def headline_outcome(self) -> str:
        """The outcome of the headline sentence and the summary (``employed`` by default)."""
        return str(getattr(self.config.estimation, "headline_outcome", "employed"))

    @cached_property
    def time(self) -> TimeScale:
        """Months or years: how horizons are named and charts are scaled."""
        return TimeScale(getattr(self.config, "time_unit", "month"))

    @property
    def currency(self) -> str:
        """The currency earnings are in (ISO code)."""
        named = getattr(self.config.report, "currency", None)
        shape = getattr(self.config.data.register_files, "shape", "canonical")
        return str(named or CURRENCIES.get(shape, "SEK"))

    @property
    def verdict(self) -> DesignVerdict | None:
        """The design verdict, or None when the estimate stage wrote none (older outputs:
        the design counts as estimable)."""
        return self.evidence.design_verdict

    @cached_property
    def declined(self) -> bool:
        """Whether the study declines to estimate an effect: the verdict says so, or every
        row of the effects table is declined."""
        if self.verdict is not None and not self.verdict.estimable:
            return True
        effects = self.evidence.table("effects")
        return effects is not None and not effects.empty and bool(
            (effects["status"] == "declined").all())

    @property
    def level(self) -> str:
        """The confidence level as a bare number ("95")."""
        return self.tr.number(100 * self.config.estimation.confidence_level, 0)

    @cached_property
    def headline(self) -> pd.DataFrame:
        """Effects for everyone at the headline horizon, matched difference, by outcome."""
        effects = self.evidence.table("effects")
        if effects is None or effects.empty:
            return pd.DataFrame(columns=["outcome"])
        return headline(effects, self.horizon).set_index("outcome", drop=False)

    @cached_property
    def programme_months(self) -> int | None:
        """The usual length of the programme in whole months (the roster's median start to
        end), for shading the programme period in figures; None if unknown. Not shown as a
        number, so no person's dates can be read from it."""
        roster = self.evidence.table("participants")
        if roster is None or not {"start_date", "end_date"} <= set(roster.columns):
            return None
        days = (pd.to_datetime(roster["end_date"]) - pd.to_datetime(roster["start_date"])).dt.days
        days = days.dropna()
        if days.empty:
            return None
        return max(1, int(round(float(days.median()) / 30.4375)))

    @cached_property
    def codebook(self) -> Codebook:
        """The survey's codebook (question texts and answer labels in every language)."""
        return load_codebook(self.config.codebook_path)

    @cached_property
    def survey_results(self) -> pd.DataFrame | None:
        """Key survey results (shares agreeing, Wilson intervals) for every wave, or None
        without survey answers; computed once for the summary and the survey chapter."""
        responses = self.evidence.table("survey_responses")
        if responses is None or responses.empty:
            return None
        return key_results(responses, self.codebook, waves=list(self.codebook.waves))

    def count(self, n) -> str:
        """A count as text; small counts become the suppression marker."""
        if n is None or pd.isna(n):
            return self.tr.missing()
        if self.rules.is_small(int(n)):
            return self.tr.suppressed()
        return self.tr.count(int(n))

    def legend_suppressed(self) -> Legend:
        """The footnote explaining the suppression marker (shown only where it is used)."""
        return Legend(self.tr.t("common.legend_suppressed",
                                minimum=self.tr.count(self.rules.min_cell_count)),
                      self.tr.suppressed())

    def legend_missing(self) -> Legend:
        """The footnote explaining the missing-value symbol (shown only where it is used)."""
        return Legend(self.tr.t("common.legend_missing"), self.tr.missing())

    def t(self, key: str, **values: str) -> str:
        """The catalogue text of ``key`` in the report's time unit (see
        :meth:`TimeScale.key`)."""
        return self.tr.t(self.time.key(key), **values)

    def duration(self, rel_month: int) -> str:
        """How far a relative month lies from start, unsigned: "12 months" / "12 månader", or
        "1 year" / "1 år" (month 11) in an annual study."""
        return self.time.duration(self.tr, rel_month)

    def length(self, months: int) -> str:
        """A length given in months, in the study's unit ("24 months" / "2 years")."""
        return self.time.length(self.tr, months)

    def horizon_label(self, rel_month: int) -> str:
        """A follow-up time as a label: "12 months", or "1 year (end of the start year)"."""
        return self.time.horizon_label(self.tr, rel_month)

    def outcome_name(self, outcome: str) -> str:
        """The outcome's name ("Employed", "Monthly earnings" / "Annual earnings")."""
        return self.t(f"outcome.{outcome}.name")

    def about(self, outcome: str) -> str:
        """The outcome inside a sentence: "the share employed", "annual earnings"."""
        return self.t(f"figure.about.{outcome}")

    def signed(self, value: float, decimals: int = 0) -> str:
        """A signed number without unit, for interval limits ("+2", "−1")."""
        return self.tr.number(value, decimals, signed=True)

    def effect_text(self, outcome: str, value: float, *, short: bool = False) -> str:
        """An effect in its unit: percentage points for shares (``short``: "pp"/"p.e.", for
        tables), money for earnings."""
        if outcome in SHARE_OUTCOMES:
            return self.tr.percentage_points(value, short=short)
        return self.tr.money(value, self.currency, signed=True)

    def detectable_text(self, outcome: str, mde: float, *, short: bool = False) -> str:
        """A minimum detectable effect, unsigned ("3.9 percentage points", "SEK 1,200";
        ``short``: "3.9 pp")."""
        if outcome in SHARE_OUTCOMES:
            return self.tr.percentage_points(mde, 1, short=short, signed=False)
        return self.tr.money(mde, self.currency)

    def interval_text(self, outcome: str, low: float, high: float) -> str:
        """An interval in the effect's unit, limits signed."""
        if outcome in SHARE_OUTCOMES:
            return self.tr.interval(self.signed(100 * low), self.signed(100 * high))
        return self.tr.interval(self.tr.money(low, self.currency, signed=True),
                                self.tr.money(high, self.currency, signed=True))

    def level_text(self, outcome: str, value: float) -> str:
        """A group's mean outcome: a percentage or an amount."""
        if value is None or pd.isna(value):
            return self.tr.missing()
        if outcome in SHARE_OUTCOMES:
            return self.tr.percent(value)
        return self.tr.money(value, self.currency)

    def level_interval_text(self, outcome: str, low: float, high: float) -> str:
        """An interval around a level (not an effect): "25% to 59%", "SEK 8,100 to SEK 9,300"."""
        return self.tr.interval(self.level_text(outcome, low), self.level_text(outcome, high))

    def publishable_row(self, row: pd.Series) -> bool:
        """Whether an effects row may be shown: both groups of at least the minimum size and,
        for a share, participants with and without the outcome each 0 or at least the
        minimum (otherwise the share would reveal a small count)."""
        if self.rules.is_small(int(row["n_c"])):
            return False
        return not self.level_withheld(row["outcome"], row.get("mean_treated", np.nan),
                                       int(row["n_t"]))

    def level_withheld(self, outcome: str, mean: float, n: int) -> bool:
        """Whether a group's level may not be shown: computed from ``0 < n < minimum``
        people, or, for a share, with people having or lacking the outcome that few."""
        if self.rules.is_small(int(n)):
            return True
        if outcome in SHARE_OUTCOMES and not pd.isna(mean):
            return share_withheld(float(mean), int(n), self.rules)
        return False
