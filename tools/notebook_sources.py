"""Source of the stage notebooks: `python tools/notebook_sources.py` rewrites notebooks/*.ipynb.

Keeping the cells here as plain text makes review easy; the committed notebooks are generated
from this file with outputs stripped and a tagged ``parameters`` cell. Edit either this file
(and regenerate) or the notebooks in JupyterLab (and port the change back).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

KERNEL = {"display_name": "Python (mentor-eval)", "language": "python", "name": "mentor-eval"}


def md(text):
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text, tags=()):
    cell = nbformat.v4.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def params(text):
    return code(text, tags=("parameters",))


CLEAN = [
    md("""
# 01 · Clean the roster and the surveys

Reads the programme roster and every survey export named in the study configuration, maps each
export onto the canonical items of the survey codebook, pseudonymises identity numbers with the
study's key, and accounts for every row: each one is kept, quarantined (with a reason) or
excluded (refused consent). Names, e-mail addresses, phone numbers and identity numbers never
leave this stage; free text leaves it only scrubbed, and only when the codebook says so.
"""),
    params("""
config_path: str = "config/demo.yml"  # study configuration: file locations and key settings
"""),
    code("""
import pandas as pd

from pipeline.config import load_config
from pipeline.pseudonymise import key_fingerprint, load_key
from pipeline.stage import StageRun
from pipeline.surveys import clean_surveys, load_codebook, response_status
from pipeline.surveys.codebook import for_study_country, item_table, label_table
from pipeline.surveys.roster import read_roster

config = load_config(config_path)
key = load_key(config)
stage = StageRun("clean", config)
codebook = for_study_country(load_codebook(stage.add_input(config.codebook_path)),
                             config.data.identity_country)
"""),
    md("## Roster → participants"),
    code("""
roster = read_roster(
    stage.add_input(config.roster_path),
    config.data.roster_columns,
    key,
    config.data.identity_country,
)
pd.Series(roster.accounting, name="rows")
"""),
    md("""
## Survey exports

Every row read is kept, quarantined or excluded; the table below must balance for every file
(the stage stops if it does not). Identity numbers that failed their check but matched exactly
one roster participant on e-mail and name are repaired only when the codebook allows it.
"""),
    code("""
surveys = clean_surveys(
    [stage.add_input(path) for path in config.survey_paths],
    codebook,
    key,
    roster=roster.contacts,
)
surveys.accounting.set_index("source_file").T
"""),
    code("""
surveys.quarantine.groupby(["source_file", "reason"]).size().rename("rows").to_frame()
"""),
    code("""
status = response_status(roster.participants, surveys, codebook.waves)
status.groupby(["wave", "status"]).size().unstack(fill_value=0)
"""),
    md("## Write the outputs"),
    code("""
stage.record_facts(key_fingerprint=key_fingerprint(key), codebook=codebook.family)
stage.write_parquet(roster.participants, "participants.parquet")
stage.write_parquet(roster.quarantine, "roster_quarantine.parquet")
stage.write_parquet(surveys.responses, "survey_responses.parquet")
stage.write_parquet(surveys.wide, "survey_clean.parquet")
stage.write_parquet(surveys.quarantine, "survey_quarantine.parquet")
stage.write_parquet(surveys.excluded, "survey_excluded.parquet")
stage.write_parquet(surveys.repairs, "survey_repairs.parquet")
stage.write_parquet(surveys.free_text, "survey_free_text.parquet")
stage.write_parquet(surveys.accounting, "survey_accounting.parquet")
stage.write_parquet(status, "survey_response_status.parquet")
stage.write_parquet(item_table(codebook), "survey_items.parquet")
stage.write_parquet(label_table(codebook), "survey_labels.parquet")
stage.record_rows(
    roster=roster.accounting,
    surveys=surveys.accounting.drop(columns=["source", "wave"])
    .set_index("source_file")
    .to_dict(orient="index"),
)
stage.ready();
"""),
]

PANEL = [
    md("""
# 02 · Reduce the register to baseline rows and outcome paths

The register extract is read by DuckDB; identity numbers are pseudonymised inside DuckDB with
the study key, so only pseudonyms leave it. For every cohort, everyone eligible at its start
month becomes one baseline row (participants of that cohort as treated, others as potential
comparisons with the cohort's start as pseudo-start). Covariates are measured before start;
outcome paths cover the months around start.
"""),
    params("""
config_path: str = "config/demo.yml"  # study configuration: register files and column names
min_age: int = 20  # youngest eligible age at cohort start
max_age: int = 64  # oldest eligible age at cohort start
foreign_born_only: bool = True  # only people born outside the country are eligible
women_only: bool = False  # a programme for women: only women are eligible
min_education_level: int = None  # lowest education level eligible (5: post-secondary)
not_employed_month_before: bool = True  # eligible only if not employed the month before start
municipalities: list = None  # municipality codes of the programme's labour markets (None: all)
later_participants: str = "keep"  # joiners of later cohorts: "keep" in or "exclude" from pools
pre_months: int = 24  # months of history kept before start in the outcome paths
post_months: int = 36  # months of follow-up kept after start in the outcome paths
"""),
    code("""
import pandas as pd

from pipeline.config import load_config
from pipeline.pseudonymise import assert_same_key, key_fingerprint, load_key
from pipeline.register import panel
from pipeline.register.extract import open_register
from pipeline.register.sources import canonical_register
from pipeline.stage import StageRun, read_manifest

config = load_config(config_path)
stage = StageRun("panel", config)
key = load_key(config)
assert_same_key(key, read_manifest(config, "clean")["facts"].get("key_fingerprint"),
                "participants.parquet")
stage.record_facts(key_fingerprint=key_fingerprint(key))
participants = pd.read_parquet(stage.add_input(config.processed_dir / "participants.parquet"))
"""),
    md("""
## The extract, pseudonymised inside DuckDB

A Danish (DREAM, eIndkomst, BEF) or Finnish (FOLK, annual) register is first reduced by its
adapter to the canonical person and monthly tables, in a private temporary folder that is
removed afterwards; the rows the adapter set aside are kept with their reasons.
"""),
    code("""
for path in config.register_paths:
    stage.add_input(path)
with canonical_register(config) as canonical:
    con, keys = open_register(
        canonical.config, key, temp_directory=stage.staging.with_name("panel-duckdb")
    )
stage.write_parquet(canonical.quarantine, "register_quarantine.parquet")
stage.record_facts(register_shape=config.data.register_files.shape,
                   time_unit=config.time_unit, register_adapter=canonical.accounting)
keys
"""),
    md("## Cohorts and their start months (January of the start year for an annual register)"),
    code("""
cohorts = panel.register_cohorts(con, participants, config.time_unit)
cohorts.assign(start=pd.PeriodIndex.from_ordinals(cohorts["cohort_start"] - 1970 * 12, freq="M"))
"""),
    md("## Baseline: one row per eligible person and cohort"),
    code("""
outcomes_recorded = panel.build_history(con)  # no occupations: no "matching job"
eligibility = panel.Eligibility(
    min_age, max_age, foreign_born_only, not_employed_month_before, municipalities, women_only,
    min_education_level,
)
baseline = panel.build_baseline(con, eligibility, later_participants)
coverage = panel.participant_coverage(con)
pd.Series(coverage, name="participants")
"""),
    code("""
baseline.groupby("treated").mean(numeric_only=True).T.round(2)
"""),
    md("## Outcome paths around start, and the outputs"),
    code("""
outcome_rows = panel.write_outcomes(
    con, stage.staged("outcomes.parquet"), pre_months, post_months
)
stage.record_facts(register_last_month=panel.last_month(con),
                   outcomes_recorded=list(outcomes_recorded))
stage.write_parquet(baseline, "baseline.parquet")
stage.record_rows(
    register_rows_read=keys.n_rows_read,
    register_persons=keys.n_persons,
    register_invalid_ids=keys.n_invalid_ids,
    register_duplicate_ids=keys.n_duplicate_ids,
    register_person_months=keys.n_person_months,
    register_monthly_unknown_ids=keys.monthly_unknown_ids,
    register_monthly_duplicate_rows=keys.monthly_duplicate_rows,
    participants_started_other_month=int(cohorts["n_started_other_month"].sum()),
    baseline=len(baseline),
    baseline_treated=int(baseline["treated"].sum()),
    outcome_rows=outcome_rows,
    **coverage,
)
stage.ready();
"""),
]

MATCH = [
    md("""
# 03 · Build the comparison group

Propensity-score nearest-neighbour matching within each cohort: for every participant, the
eligible non-participant(s) of the same cohort with the closest estimated probability of taking
part, within a caliper on the logit of the score. Balance is checked before and after.
"""),
    params("""
config_path: str = "config/demo.yml"  # study configuration
method: str = "nearest"  # matching method
distance: str = "logit"  # propensity-score model
ratio: int = 1  # comparison persons per participant
replace: bool = False  # may a comparison person serve several participants?
caliper: float = 0.2  # maximum distance, in standard deviations of the logit of the score
covariates: list = None  # baseline covariates of the propensity-score model
missing_covariates: str = "listwise"  # indicator, listwise or refuse
"""),
    code("""
import pandas as pd

from pipeline.config import load_config
from pipeline.matching import match
from pipeline.matching.missing import handle_missing
from pipeline.stage import StageRun

config = load_config(config_path)
stage = StageRun("match", config)
baseline = pd.read_parquet(stage.add_input(config.processed_dir / "baseline.parquet"))
"""),
    md("""
## Missing covariates

Nothing is dropped or filled silently. `listwise` leaves out the rows with a missing
covariate; `indicator` fills a missing number with the mean and adds a 0/1 indicator to the
score model (a missing category becomes its own level); `refuse` stops. Every action is listed.
"""),
    code("""
handled = handle_missing(baseline, covariates, rule=missing_covariates)
complete, model_covariates = handled.data, handled.covariates
handled.report().query("action != 'none'")
"""),
    md("## Matching"),
    code("""
result = match(
    complete, "treated", model_covariates,
    method=method, distance=distance, ratio=ratio, replace=replace, caliper=caliper,
    exact=["cohort"],
)
result
"""),
    code("""
result.love_plot();
"""),
    md("""
## Overlap

Participants whose propensity score lies above every eligible non-participant's have no
comparable person; they are counted here, before matching, with the score's range by group.
"""),
    code("""
support = result.common_support()
result.overlap_plot();
support
"""),
    md("""
## Matched counts by cohort

A cohort whose participants have no eligible non-participant at its start month, or none close
enough, is named here; its participants are not in the effects, which say so.
"""),
    code("""
by_cohort = result.sample_sizes(by=complete["cohort"])
by_cohort
"""),
    md("## Outputs"),
    code("""
matched = result.matched_data()[["pid", "cohort", "treated", "weights", "subclass", "distance"]]
stage.write_parquet(matched, "matched.parquet")
stage.write_parquet(result.balance().reset_index(), "balance.parquet")
stage.write_parquet(result.sample_sizes().reset_index(), "match_counts.parquet")
stage.write_parquet(support.rename_axis("group").reset_index(), "common_support.parquet")
stage.write_parquet(by_cohort.reset_index(), "match_counts_by_cohort.parquet")
stage.write_parquet(result.score_histogram(), "score_histogram.parquet")
stage.record_rows(
    treated_off_support=int(support.loc["treated", "n_off_support"]),
    baseline=len(baseline),
    dropped_missing_covariates=int(len(baseline) - len(complete)),
    missing_indicators=len(model_covariates) - len(covariates),
    treated_matched=int(matched["treated"].sum()),
    treated_unmatched=int(result.n_treated_unmatched),
    controls_matched=int((~matched["treated"]).sum()),
    cohorts_without_eligible_comparisons=int(
        (by_cohort["unmatched_reason"] == "no eligible comparison").sum()),
)
stage.ready();
"""),
]

ESTIMATE = [
    md("""
# 04 · Estimate the effects

Outcomes of participants and their matched comparisons at every horizon after start, for
everyone and by subgroup (a matched set counts where its participant counts); the effect is
the weighted difference in means with standard errors clustered on matched sets. A horizon
that some cohorts have not reached is estimated on the cohorts that have and marked
*partial*; one that no cohort has reached is marked *not observable* and gets no number.
"""),
    params("""
config_path: str = "config/demo.yml"  # study configuration
horizon_months: int = 12  # the headline horizon (months after start)
horizons: list = [6, 12, 24, 36]  # months after start at which every outcome is estimated
horizon_years: int = None  # annual registers: the headline horizon in years
horizons_years: list = None  # annual registers: the horizons in years
headline_outcome: str = "employed"  # the outcome of the headline sentence
subgroups: list = [  # characteristics of each matched set's participant to break effects by
    "female", "region_of_birth", "education_field", "municipality", "cohort",
]
min_treated_subgroup: int = 10  # a subgroup with fewer participants gets no estimate
placebo_month: int = -18  # a month before start where the "effect" should be nil
placebo_year: int = None  # annual registers: a year before start for the placebo
min_participants: int = 20  # fewer matched participants: no effect is estimated
min_share_matched: float = 0.5  # a smaller share of participants matched: no overlap, no effect
censor_later_participants: bool = False  # comparisons who join later count until they start
confidence_level: float = 0.95  # level of the confidence intervals
"""),
    code("""
import pandas as pd

from pipeline.config import load_config
from pipeline.effects import event_study, stacked_group_time_att
from pipeline.effects.robustness import robustness_table
from pipeline.effects.specifications import specification_table
from pipeline.effects.descriptive import descriptive_outcomes
from pipeline.effects.table import (
    attach_subgroups, effects_table, headline, matched_estimators,
)
from pipeline.effects.verdict import decline, design_verdict
from pipeline.matching import handle_missing
from pipeline.register.outcomes import (
    OUTCOMES, censoring_months, matched_panel, outcome_at, outcome_paths,
)
from pipeline.stage import StageRun, read_manifest

config = load_config(config_path)
stage = StageRun("estimate", config)
matched = pd.read_parquet(stage.add_input(config.processed_dir / "matched.parquet"))
baseline = pd.read_parquet(stage.add_input(config.processed_dir / "baseline.parquet"))
participants = pd.read_parquet(stage.add_input(config.processed_dir / "participants.parquet"))
outcomes_path = stage.add_input(config.processed_dir / "outcomes.parquet")
# horizons as months relative to start: an annual register reads year k at month 12 k - 1
horizons = config.horizon_rel_months
horizon_months = config.headline_rel_month
placebo_month = config.placebo_rel_month
# outcomes the register records (no occupations, e.g. FOLK: no "job matching one's education")
outcomes = read_manifest(config, "panel")["facts"].get("outcomes_recorded", list(OUTCOMES))
if headline_outcome not in outcomes:
    raise ValueError(
        f"estimation.headline_outcome {headline_outcome!r} is not recorded in this register "
        f"(it records {', '.join(outcomes)}): choose one of those in {config_path}"
    )
{"time unit": config.time_unit, "horizons (months from start)": horizons,
 "outcomes": outcomes, "not recorded": sorted(set(OUTCOMES) - set(outcomes))}
"""),
    md("""
## Can this design support an estimate?

Too few matched participants, or too small a share of the participants with a comparable
non-participant (no overlap), and any effect would rest on too few comparisons: the stage then
estimates no effect, and the report shows the participants' own outcomes with their intervals
(which are descriptions, not effects).
"""),
    code("""
verdict = design_verdict(
    n_participants=int(baseline["treated"].sum()),
    n_matched=int(matched["treated"].sum()),
    min_participants=min_participants,
    min_share_matched=min_share_matched,
)
descriptive = descriptive_outcomes(
    outcomes_path, baseline.loc[baseline["treated"], ["pid", "cohort"]], horizons,
    outcomes=[o for o in outcomes if o != "registered_unemployed"],
    confidence_level=confidence_level,
)
verdict.describe()
"""),
    md("""
## Comparisons who take part later

A comparison who joins a later cohort was not taking part at its pseudo-start, so it may be
a comparison then; from its own start on it is taking part, so its months from then on are
censored (left out) and the other comparisons of its matched set take over its weight.
"""),
    code("""
censored_from = censoring_months(matched, participants, baseline)
if censor_later_participants:
    matched = matched.assign(censored_from=censored_from)
censored_from.describe()
"""),
    md("## Outcomes at each horizon"),
    code("""
at_horizon = {
    horizon: attach_subgroups(outcome_at(outcomes_path, matched, horizon), baseline, subgroups)
    for horizon in horizons
}
pd.DataFrame(
    {f"{h} months": f.groupby("cohort")["observed"].mean() for h, f in at_horizon.items()}
).rename_axis("share of matched sets observed, by cohort")
"""),
    code("""
effects = effects_table(
    at_horizon,
    matched_estimators(confidence_level),
    outcomes=outcomes,
    subgroups=subgroups,
    confidence_level=confidence_level,
    min_treated=min_treated_subgroup,
)
effects = decline(effects, verdict)
headline(effects, horizon_months)
"""),
    code("""
effects.query("subgroup == 'all' and outcome == @headline_outcome")[
    ["horizon_months", "status", "estimate", "ci_low", "ci_high", "mde", "n_t", "n_c"]
]
"""),
    md("""
The checks below test an estimate; a design that supports none (above) has nothing to test,
and the stage writes only the effects table (every row *declined*), the participants'
outcomes and the verdict.
"""),
    md("""
## How sure: placebo, E-values, Rosenbaum bounds

Before start nobody has taken part, so an "effect" there points to a comparison group that
differs in ways matching did not remove. The E-value says how strong an unmeasured factor
would have to be to explain the headline away; the critical Gamma says how much more likely
one of two matched people would have to be to take part, for the same purpose.
"""),
    code("""
checks = {}
if verdict.estimable:
    checks["placebo"] = effects_table(
        {placebo_month: outcome_at(outcomes_path, matched, placebo_month)},
        matched_estimators(confidence_level),
        outcomes=outcomes,
        confidence_level=confidence_level,
    )
    at_headline = at_horizon[horizon_months]
    checks["robustness"] = robustness_table(
        headline(effects, horizon_months),
        at_headline.loc[at_headline["observed"]],
        binary_outcomes=[o for o in outcomes if o != "earnings"],
    )
    print(checks["robustness"][["outcome", "estimate", "e_value", "e_value_ci",
                                "critical_gamma"]])
checks.get("placebo")
"""),
    md("""
## Alternative specifications

The headline effects when the comparison group is built differently: without or with a
tighter caliper, 1:1 or 1:5 matching, without the labour-market history (which shows what the
history removes), and with regression adjustment on the matched sample.
"""),
    code("""
if verdict.estimable:
    handled = handle_missing(baseline, config.matching.covariates,
                             rule=config.matching.missing_covariates)
    checks["specifications"] = specification_table(
        handled.data,
        outcomes_path,
        covariates=handled.covariates,
        match_options=config.matching.model_dump(
            include={"method", "distance", "ratio", "replace", "caliper"}),
        horizon_months=horizon_months,
        outcomes=tuple(dict.fromkeys((headline_outcome, "employed", "earnings"))),
        confidence_level=confidence_level,
        censor_participants=participants if censor_later_participants else None,
    )
checks.get("specifications")
"""),
    md("""
## Event study

Employment of participants against their matched comparisons, period by period (months, or
years for an annual register) from `pre_months` before to `post_months` after start, relative
to the period before start: person effects and cohort x calendar-period effects (a stacked
design: a comparison's path around its pseudo-start is shaped by the eligibility rules too),
standard errors clustered on matched sets, and a joint test that the periods before start show
no difference.
"""),
    code("""
window = (-config.design.pre_months, config.design.post_months)
if verdict.estimable:
    employment_panel = matched_panel(outcomes_path, matched, baseline, "employed", window)
    event = event_study(
        employment_panel,
        unit="unit", time="period", relative_time="rel_month", treated="treated",
        outcome="employed", weights="weights", cluster="subclass", window=window,
        confidence_level=confidence_level,
    )
    pre_trend = event.pre_trend_test()
    checks["event_study"] = event.tidy().assign(outcome="employed")
    print(pre_trend)
checks.get("event_study")
"""),
    md("""
## Group-time effects (Callaway & Sant'Anna)

Cohorts start at different times, so effects are also estimated for every start month g and
calendar month t separately, ATT(g, t): the change in employment from the month before start
among participants of g, minus the change among *their* matched comparisons (weighted), never
comparing a cohort with people already in the programme. Aggregated by months since start with
each start month weighted by its share of participants, as R's `did::aggte(type = "dynamic")`;
standard errors from influence functions. Units missing a month of their window are left out
and counted.
"""),
    code("""
if verdict.estimable:
    group_time = stacked_group_time_att(
        employment_panel, unit="unit", time="month", group="first_treated",
        stack="cohort_start", outcome="employed", weights="weights",
        confidence_level=confidence_level,
    )
    by_time_since_start = group_time.aggregate("dynamic")
    group_time_pre_trend = group_time.pre_trend_test(by="event_time")
    checks["group_time"] = group_time.tidy().assign(outcome="employed")
    checks["group_time_dynamic"] = by_time_since_start.tidy().assign(outcome="employed")
    print(f"mean effect over months since start >= 0: "
          f"{by_time_since_start.overall_estimate:.3f} "
          f"(SE {by_time_since_start.overall_std_error:.3f})")
    print(group_time_pre_trend)
checks.get("group_time_dynamic")
"""),
    md("## Paths around start"),
    code("""
paths = outcome_paths(outcomes_path, matched)
paths.pivot(index="rel_month", columns="group", values="employed").iloc[::6]
"""),
    code("""
stage.write_parquet(effects, "effects.parquet")
stage.write_parquet(verdict.to_frame(), "design_verdict.parquet")
stage.write_parquet(descriptive, "descriptive.parquet")
stage.write_parquet(paths, "paths.parquet")
for name, table in checks.items():
    stage.write_parquet(table, f"{name}.parquet")
stage.record_facts(time_unit=config.time_unit, design_verdict=verdict.describe())
if verdict.estimable:
    stage.record_facts(
        pre_trend_statistic=float(pre_trend.statistic),
        pre_trend_df=int(pre_trend.df),
        pre_trend_p_value=float(pre_trend.p_value),
        group_time_overall=float(by_time_since_start.overall_estimate),
        group_time_overall_std_error=float(by_time_since_start.overall_std_error),
        group_time_pre_trend_p_value=float(group_time_pre_trend.p_value),
    )
    stage.record_rows(
        group_time_cells=len(group_time.att_gt),
        group_time_units=group_time.spec.n_units,
        group_time_units_dropped_incomplete=group_time.spec.n_dropped_unbalanced,
    )
stage.record_rows(
    matched_rows=len(matched),
    effects_rows=len(effects),
    comparisons_joining_later=int(censored_from.notna().sum()),
    comparisons_censored_by_headline=int((censored_from <= horizon_months).sum())
    if censor_later_participants else 0,
    **{f"effects_{status}": int((effects["status"] == status).sum())
       for status in effects["status"].unique()},
)
stage.ready();
"""),
]

REPORT = [
    md("""
# 05 · Render the evaluation report

The report is built from the stages' outputs only (nothing is estimated here), in the study's
language, with every count passed through disclosure control, and written as one
self-contained HTML file: styles inline, figures embedded, no scripts.
"""),
    params("""
config_path: str = "config/demo.yml"  # study configuration
language: str = "en"  # report language: "en" or "sv"
title: str = "Demo programme (synthetic data)"  # the programme's name in the title
min_cell_count: int = 5  # smallest count shown; smaller cells are suppressed
"""),
    code("""
import pandas as pd

from pipeline.config import load_config
from pipeline.report.build import build_report
from pipeline.report.evidence import load_evidence
from pipeline.report.render import render_html, report_metadata
from pipeline.stage import StageRun

config = load_config(config_path)
stage = StageRun("report", config)
evidence = load_evidence(config, stage)
pd.Series(evidence.missing, name="missing, and why", dtype="object")
"""),
    md("## The report"),
    code("""
report = build_report(evidence, language, title=title, min_cell_count=min_cell_count)
page = render_html(report)
stage.write_text("report.html", page)
stage.write_text("report.json", report_metadata(report))
stage.record_facts(language=language, min_cell_count=min_cell_count,
                   headline=report.facts["headline"], missing=report.facts["missing"])
stage.record_rows(sections=len(report.sections), html_bytes=len(page.encode("utf-8")))
[(section.id, section.heading) for section in report.sections]
"""),
    code("""
stage.ready();
"""),
]

ALL = {
    "01-clean-surveys.ipynb": CLEAN,
    "02-build-panel.ipynb": PANEL,
    "03-match.ipynb": MATCH,
    "04-estimate-effects.ipynb": ESTIMATE,
    "05-render-report.ipynb": REPORT,
}


def write_all() -> None:
    NOTEBOOKS.mkdir(exist_ok=True)
    for name, cells in ALL.items():
        notebook = nbformat.v4.new_notebook(cells=cells)
        notebook.metadata["kernelspec"] = KERNEL
        notebook.metadata["language_info"] = {"name": "python"}
        for index, cell in enumerate(notebook.cells):
            cell["id"] = str(index)  # the ids nbstripout gives
        nbformat.write(notebook, NOTEBOOKS / name)


if __name__ == "__main__":
    write_all()
