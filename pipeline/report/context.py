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
from pipeline.report.disclosure import DisclosureRules, share_withheld
from pipeline.report.document import Legend
from pipeline.report.evidence import Evidence
from pipeline.report.i18n import Translator
from pipeline.surveys.codebook import Codebook, load_codebook
from pipeline.surveys.results import key_results

SHARE_OUTCOMES = ("employed", "registered_unemployed", "employed_matching")


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
        """The headline horizon, in months after start."""
        return int(self.config.estimation.horizon_months)

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

    def duration(self, months: int) -> str:
        """"12 months" / "12 månader"."""
        return self.tr.plural("unit.months", int(months))

    def signed(self, value: float, decimals: int = 0) -> str:
        """A signed number without unit, for interval limits ("+2", "−1")."""
        return self.tr.number(value, decimals, signed=True)

    def effect_text(self, outcome: str, value: float, *, short: bool = False) -> str:
        """An effect in its unit: percentage points for shares (``short``: "pp"/"p.e.", for
        tables), money for earnings."""
        if outcome in SHARE_OUTCOMES:
            return self.tr.percentage_points(value, short=short)
        return self.tr.money(value, signed=True)

    def interval_text(self, outcome: str, low: float, high: float) -> str:
        """An interval in the effect's unit, limits signed."""
        if outcome in SHARE_OUTCOMES:
            return self.tr.interval(self.signed(100 * low), self.signed(100 * high))
        return self.tr.interval(self.tr.money(low, signed=True),
                                self.tr.money(high, signed=True))

    def level_text(self, outcome: str, value: float) -> str:
        """A group's mean outcome: a percentage or an amount."""
        if value is None or pd.isna(value):
            return self.tr.missing()
        if outcome in SHARE_OUTCOMES:
            return self.tr.percent(value)
        return self.tr.money(value)

    def publishable_row(self, row: pd.Series) -> bool:
        """Whether an effects row may be shown: both groups of at least the minimum size and,
        for a share, participants with and without the outcome each 0 or at least the
        minimum (otherwise the share would reveal a small count)."""
        if self.rules.is_small(int(row["n_t"])) or self.rules.is_small(int(row["n_c"])):
            return False
        if row["outcome"] in SHARE_OUTCOMES and not pd.isna(row.get("mean_treated", np.nan)):
            return not share_withheld(float(row["mean_treated"]), int(row["n_t"]), self.rules)
        return True
