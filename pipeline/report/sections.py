"""The report's sections: plain-language text, tables and figures built from stage outputs.

Every function here reads finished results (Parquet outputs and manifests) and formats them;
none estimates anything. Counts pass through :mod:`pipeline.report.disclosure`.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd

from pipeline.config import StudyConfig
from pipeline.effects.table import headline
from pipeline.report.disclosure import format_count, is_publishable, suppress_counts
from pipeline.stage import StageRun, manifest_path

OUTCOME_LABELS = {
    "employed": "Employed",
    "earnings": "Monthly earnings (SEK)",
    "registered_unemployed": "Registered as unemployed",
    "employed_matching": "Employed in a job matching one's education",
}
SHARE_OUTCOMES = {"employed", "registered_unemployed", "employed_matching"}
STAGES = ("clean", "panel", "match", "estimate")


@dataclass(frozen=True)
class Evidence:
    """Everything the report shows, read from the stages' outputs."""

    config: StudyConfig
    manifests: dict[str, dict]
    participants: pd.DataFrame
    matched: pd.DataFrame
    effects: pd.DataFrame  # headline rows: everyone, the headline horizon, matched difference
    paths: pd.DataFrame
    balance: pd.DataFrame
    survey_accounting: pd.DataFrame


def load_evidence(config: StudyConfig, stage: StageRun) -> Evidence:
    """Read the outputs the report needs, recording each as an input of the report stage."""
    folder = config.processed_dir

    def read(name: str) -> pd.DataFrame:
        return pd.read_parquet(stage.add_input(folder / name))

    manifests = {}
    for name in STAGES:
        path = stage.add_input(manifest_path(config, name))
        manifests[name] = json.loads(path.read_text())
    return Evidence(
        config=config,
        manifests=manifests,
        participants=read("participants.parquet"),
        matched=read("matched.parquet"),
        effects=headline(read("effects.parquet"), config.estimation.horizon_months),
        paths=read("paths.parquet"),
        balance=read("balance.parquet"),
        survey_accounting=read("survey_accounting.parquet"),
    )


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (values already formatted or plain)."""
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def style() -> str:
    """Inline CSS: readable line length, plain tables, print-friendly."""
    return """<style>
    body, .jp-Notebook { max-width: 60rem; margin: auto; font-family: system-ui, sans-serif; }
    table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
    th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #ccc; text-align: right; }
    th:first-child, td:first-child { text-align: left; }
    .headline { font-size: 1.15rem; background: #eef4fb; padding: 0.8rem 1rem;
                border-left: 4px solid #1f5fa8; }
    @media print { .jp-Cell { break-inside: avoid; } }
    </style>"""


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _pp(value: float) -> str:
    return f"{100 * value:+.1f}"


def _headline_row(evidence: Evidence) -> pd.Series | None:
    rows = evidence.effects.loc[evidence.effects["outcome"] == "employed"]
    return rows.iloc[0] if len(rows) else None


def title(text: str, evidence: Evidence) -> str:
    """Report title with the date it was produced and the register's coverage."""
    months = evidence.paths["rel_month"]
    return (
        f"# {html.escape(text)}\n\n"
        f"Evaluation report for study `{evidence.config.study}`, produced "
        f"{dt.date.today().isoformat()}. Outcomes are followed from {-int(months.min())} months "
        f"before to {int(months.max())} months after programme start."
    )


def summary(evidence: Evidence, min_cell_count: int) -> str:
    """Plain-language summary: who took part, the headline effect and how sure we are."""
    panel_rows = evidence.manifests["panel"]["rows"]
    match_rows = evidence.manifests["match"]["rows"]
    n = lambda v: format_count(v, min_cell_count)  # noqa: E731
    lines = [
        "## Summary",
        "",
        f"- **Participants:** {n(len(evidence.participants))} listed in the programme roster; "
        f"{n(panel_rows['participants_in_analysis'])} were found in the register and were "
        f"eligible when their cohort started.",
        f"- **Comparison group:** {n(match_rows['treated_matched'])} participants were matched "
        f"to {n(match_rows['controls_matched'])} people who were eligible at the same moment, "
        "lived in the same labour markets and had similar backgrounds and employment histories, "
        "but did not take part.",
    ]
    row = _headline_row(evidence)
    if row is None:
        lines += ["", "No employment effect could be estimated; see the effects section."]
        return "\n".join(lines)
    horizon = int(row["horizon_months"])
    level = f"{100 * row['confidence_level']:.0f}%"
    lines += [
        "",
        f"<p class='headline'>{horizon} months after start, {_pct(row['mean_treated'])} of "
        f"participants were employed, against {_pct(row['mean_control'])} of the comparison "
        f"group: {_pp(row['estimate'])} percentage points ({level} interval "
        f"{_pp(row['ci_low'])} to {_pp(row['ci_high'])}).</p>",
        "",
        _certainty_sentence(row),
    ]
    if evidence.config.synth is not None:
        lines += [
            "",
            "*These are synthetic demonstration data: the numbers describe no real programme.*",
        ]
    return "\n".join(lines)


def _certainty_sentence(row: pd.Series) -> str:
    level = f"{100 * row['confidence_level']:.0f}%"
    if row["ci_low"] > 0:
        return (
            f"The {level} interval lies entirely above zero: the data are hard to reconcile "
            "with no effect, provided the comparison group is as comparable as it looks on "
            "everything the register records."
        )
    if row["ci_high"] < 0:
        return f"The {level} interval lies entirely below zero: participants fared worse."
    return (
        f"The {level} interval includes zero: the data cannot tell a positive effect from no "
        "effect or a negative one."
    )


def employment_heading() -> str:
    return (
        "## Employment month by month around programme start\n\n"
        "Share employed among participants and among their matched comparison group, by month "
        "relative to programme start (month 0). The shaded band marks the six programme months."
    )


def employment_path_figure(evidence: Evidence, min_cell_count: int) -> None:
    """Line chart of the employment share of both groups around start (months with fewer
    than ``min_cell_count`` persons in a group are left out)."""
    paths = evidence.paths.loc[evidence.paths["n"] >= min_cell_count]
    fig, ax = plt.subplots(figsize=(8, 4))
    for group, colour in (("participants", "#1f5fa8"), ("comparison", "#c2571a")):
        line = paths.loc[paths["group"] == group].sort_values("rel_month")
        ax.plot(line["rel_month"], 100 * line["employed"], label=group, color=colour, lw=2)
    ax.axvspan(0, 5, color="#dddddd", alpha=0.6, lw=0)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("Months relative to programme start")
    ax.set_ylabel("Employed (%)")
    ax.set_ylim(0, 100)
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    plt.show()


def effects_section(evidence: Evidence, min_cell_count: int) -> str:
    """The effects table for every outcome at the horizon."""
    effects = evidence.effects
    if effects.empty:
        return "## Estimated effects\n\nNo effects could be estimated."
    horizon = int(effects["horizon_months"].iloc[0])
    level = f"{100 * effects['confidence_level'].iloc[0]:.0f}%"
    lines = [
        f"## Estimated effects {horizon} months after start",
        "",
        "Effect = participants' mean minus the matched comparison group's mean; standard "
        "errors are clustered on matched sets.",
        "",
        f"| Outcome | Participants | Comparison | Effect | {level} interval | Participants (n) "
        "| Comparison (n) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in effects.itertuples(index=False):
        share = row.outcome in SHARE_OUTCOMES
        if not (is_publishable(row.n_t, min_cell_count) and is_publishable(row.n_c,
                                                                            min_cell_count)):
            lines.append(f"| {OUTCOME_LABELS.get(row.outcome, row.outcome)} | – | – | "
                         f"suppressed (fewer than {min_cell_count}) | – | – | – |")
            continue
        if share:
            values = (_pct(row.mean_treated), _pct(row.mean_control),
                      f"{_pp(row.estimate)} pp", f"{_pp(row.ci_low)} to {_pp(row.ci_high)} pp")
        else:
            values = (f"{row.mean_treated:,.0f}", f"{row.mean_control:,.0f}",
                      f"{row.estimate:+,.0f}", f"{row.ci_low:+,.0f} to {row.ci_high:+,.0f}")
        lines.append(
            f"| {OUTCOME_LABELS.get(row.outcome, row.outcome)} | " + " | ".join(values)
            + f" | {format_count(row.n_t, min_cell_count)} | "
            f"{format_count(row.n_c, min_cell_count)} |"
        )
    not_observable = int(effects["cohorts_not_observable"].iloc[0])
    if not_observable:
        lines += ["", f"{not_observable} cohort(s) started too recently to be observed "
                      f"{horizon} months after start and are not part of these estimates."]
    return "\n".join(lines)


def comparison_section(evidence: Evidence, min_cell_count: int) -> str:
    """Matched counts per cohort and the balance summary."""
    cohort_order = (
        evidence.participants.groupby("cohort")["start_date"].min().sort_values().index
    )
    counts = (
        evidence.matched.groupby(["cohort", "treated"]).size().unstack(fill_value=0)
        .rename(columns={True: "participants", False: "comparison"})
        .reindex(cohort_order, fill_value=0)[["participants", "comparison"]]
        .reset_index()
    )
    counts = suppress_counts(counts, ["participants", "comparison"], min_cell_count)
    balance = evidence.balance.set_index("variable").drop(index="distance", errors="ignore")
    worst_before = balance["smd_before"].abs().max()
    worst_after = balance["smd_after"].abs().max()
    flagged = balance.index[balance["smd_after"].abs() > 0.1].tolist()
    verdict = (
        "every covariate is within 0.1 standard deviations after matching"
        if not flagged
        else f"these covariates remain more than 0.1 SD apart: {', '.join(flagged)}"
    )
    return "\n".join(
        [
            "## How good is the comparison?",
            "",
            "Matched persons per cohort:",
            "",
            markdown_table(counts),
            "",
            f"Before matching, the largest standardised mean difference between participants and "
            f"eligible non-participants was {worst_before:.2f}; after matching it is "
            f"{worst_after:.2f}: {verdict}. The figure shows each covariate before and after.",
            "",
            "Matching can only balance what the register records. Motivation, networks or "
            "language skills are not observed; if they drive both participation and employment, "
            "the estimate is biased.",
        ]
    )


def balance_figure(evidence: Evidence) -> None:
    """Love plot: absolute standardised mean differences before and after matching."""
    balance = evidence.balance.set_index("variable").drop(index="distance", errors="ignore")
    balance = balance.sort_values("smd_before", key=abs)
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(balance) + 1))
    y = range(len(balance))
    ax.scatter(balance["smd_before"].abs(), y, label="before matching", color="#c2571a")
    ax.scatter(balance["smd_after"].abs(), y, label="after matching", color="#1f5fa8")
    ax.axvline(0.1, color="grey", ls="--", lw=0.8)
    ax.set_yticks(list(y), balance.index)
    ax.set_xlabel("Absolute standardised mean difference")
    ax.legend(frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    plt.show()


def appendix(evidence: Evidence, min_cell_count: int) -> str:
    """Data lineage, parameters, code and package versions."""
    n = lambda v: format_count(v, min_cell_count)  # noqa: E731
    m = evidence.manifests
    survey = evidence.survey_accounting
    survey_lines = [
        f"| {row.source_file} | {n(row.rows_read)} | {n(row.rows_kept)} | "
        f"{n(row.rows_quarantined)} | {n(row.rows_excluded)} |"
        for row in survey.itertuples(index=False)
    ]
    roster = m["clean"]["rows"]["roster"]
    panel = m["panel"]["rows"]
    lines = [
        "## Appendix: data lineage and parameters",
        "",
        "### Rows from raw files to the analysis",
        "",
        "| Source | Read | Kept | Quarantined | Excluded |",
        "|---|---|---|---|---|",
        f"| roster | {n(roster['rows_read'])} | {n(roster['rows_kept'])} | "
        f"{n(roster['rows_quarantined'])} | 0 |",
        *survey_lines,
        "",
        f"Register: {n(panel['register_persons'])} persons; {n(panel['baseline'])} person × "
        f"cohort rows eligible at a cohort start, of which {n(panel['baseline_treated'])} "
        f"participants; {n(panel['participants_not_in_register'])} participants not found in "
        f"the register, {n(panel['participants_not_eligible_at_start'])} not eligible at start.",
        "",
        "### Parameters",
        "",
        "| Stage | Parameters |",
        "|---|---|",
    ]
    for stage, manifest in m.items():
        shown = {k: v for k, v in manifest["parameters"].items() if k != "config_path"}
        lines.append(f"| {stage} | `{json.dumps(shown, ensure_ascii=False)}` |")
    packages = m["estimate"]["packages"]
    lines += [
        "",
        "### Versions and inputs",
        "",
        f"Code version: `{m['estimate']['code_version']}`. Packages: "
        + ", ".join(f"{k} {v}" for k, v in packages.items()) + ".",
        "",
        "| Raw input | SHA-256 (first 16) | Bytes |",
        "|---|---|---|",
    ]
    for stage in ("clean", "panel"):
        for name, facts in m[stage]["inputs"].items():
            if "data_processed" in name:
                continue
            lines.append(f"| {name} | `{facts['sha256'][:16]}` | {facts['bytes']:,} |")
    return "\n".join(lines)
