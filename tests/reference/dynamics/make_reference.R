# Reference numbers from R for pipeline.effects.dynamics.event_study (tests/test_dynamics.py).
#
# Run from the repository root:
#
#     Rscript --vanilla tests/reference/dynamics/make_reference.R
#
# It (1) simulates a small matched event-study panel deterministically (set.seed, R's default
# Mersenne-Twister / Inversion / Rejection RNG) and writes it to
# tests/reference/dynamics/event_panel.csv, (2) reads that CSV back, so R computes on exactly
# the numbers Python will parse, and (3) writes tests/reference/dynamics/event_reference.json
# with:
#
#   * plm: the two-way within estimator (plm(model = "within", effect = "twoways")) of the
#     outcome on the treated x relative-month dummies (month -1 omitted), unweighted, with
#     plm::vcovHC(cluster = "group", type = "sss") and type = "HC1" (clusters = units), and
#     the Wald statistic for "all pre-period coefficients are zero" under the "sss" covariance;
#   * lm: the same regression with matching weights as weighted least squares with unit and
#     calendar-month dummies (lm(y ~ dummies + factor(unit) + factor(month), weights = w)),
#     with sandwich::vcovCL(cluster = ~set, type = "HC1", cadjust = TRUE) (clusters = matched
#     sets). plm's covariance functions refuse weighted models, hence lm here.
#
# Small-sample factors (N observations, G clusters, k event-time coefficients, K all lm
# coefficients including the intercept and every unit and month dummy):
#   plm "sss":          G/(G-1) * (N-1)/(N-k)     (= Stata xtreg, fe vce(cluster))
#   plm "HC1":          N/(N-k)                   (no G/(G-1) factor)
#   vcovCL "HC1" on lm: G/(G-1) * (N-1)/(N-K)     (K counts the absorbed fixed effects)
#
# Needs: r-base-core, r-cran-plm, r-cran-sandwich, r-cran-jsonlite (Debian packages).

suppressPackageStartupMessages({
  library(plm)
  library(sandwich)
  library(jsonlite)
})

here <- "tests/reference/dynamics"
csv_path <- file.path(here, "event_panel.csv")
json_path <- file.path(here, "event_reference.json")
stopifnot(dir.exists(here))

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240612)

# ---- 1. simulate a matched panel ---------------------------------------------------------
# Three cohorts start in calendar months 24, 30 and 36. Every participant forms a matched set
# with 1 to 3 comparison persons, who carry the participant's start as pseudo-start (matching
# weights: 1 for the participant, 1/k for each of k comparisons). Outcomes are observed from
# 6 months before to 6 months after start; about 4% of person-months are missing at random
# (an unbalanced panel). The outcome has person and calendar-month effects, a matched-set x
# month shock (so clustering on the set matters) and an effect that starts at month 0.
window <- -6:6
cohort_start <- c(24, 30, 36)
n_treated <- c(14, 12, 14)
effect <- function(rel) ifelse(rel >= 0, 0.4 + 0.05 * rel, 0)
month_effect <- function(m) 0.03 * m + 0.3 * sin(m / 4)

rows <- list()
unit <- 0
set <- 0
for (c in seq_along(cohort_start)) {
  for (i in seq_len(n_treated[c])) {
    set <- set + 1
    k <- sample(1:3, 1)
    set_shock <- rnorm(length(window), 0, 0.3)
    for (member in 0:k) {
      unit <- unit + 1
      treated <- as.integer(member == 0)
      alpha <- rnorm(1, 0.5 * treated, 1)
      month <- cohort_start[c] + window
      y <- alpha + month_effect(month) + set_shock + treated * effect(window) +
        rnorm(length(window), 0, 0.5)
      rows[[length(rows) + 1]] <- data.frame(
        unit = unit, set = set, treated = treated, cohort_start = cohort_start[c],
        month = month, rel = window, w = if (treated == 1) 1 else 1 / k, y = round(y, 6)
      )
    }
  }
}
panel <- do.call(rbind, rows)
panel <- panel[runif(nrow(panel)) > 0.04, ]
write.csv(panel, csv_path, row.names = FALSE)

# ---- 2. read it back and build the event-time dummies ---------------------------------------
panel <- read.csv(csv_path)
event_times <- setdiff(window, -1)
dummy_name <- function(r) if (r < 0) paste0("rel_m", -r) else paste0("rel_p", r)
names_ev <- vapply(event_times, dummy_name, "")
for (j in seq_along(event_times)) {
  panel[[names_ev[j]]] <- panel$treated * (panel$rel == event_times[j])
}
rhs <- paste(names_ev, collapse = " + ")
pre <- names_ev[event_times < -1]

wald <- function(b, V) as.numeric(t(b) %*% solve(V) %*% b)

# ---- 3a. plm two-way within, unweighted, clusters = units -----------------------------------
pdata <- pdata.frame(panel, index = c("unit", "month"))
fit_plm <- plm(as.formula(paste("y ~", rhs)), data = pdata, model = "within",
               effect = "twoways")
stopifnot(identical(names(coef(fit_plm)), names_ev))
V_sss <- vcovHC(fit_plm, method = "arellano", type = "sss", cluster = "group")
V_hc1 <- vcovHC(fit_plm, method = "arellano", type = "HC1", cluster = "group")
N <- nrow(panel)
k <- length(names_ev)
G_units <- length(unique(panel$unit))
# the two plm covariances differ only by their documented scalar factors
stopifnot(isTRUE(all.equal(V_sss / (G_units / (G_units - 1) * (N - 1) / (N - k)),
                           V_hc1 / (N / (N - k)), tolerance = 1e-12)))

# ---- 3b. WLS with unit and month dummies, clusters = matched sets ---------------------------
fit_lm <- lm(as.formula(paste("y ~", rhs, "+ factor(unit) + factor(month)")), data = panel,
             weights = w)
stopifnot(!any(is.na(coef(fit_lm))))
V_cl <- vcovCL(fit_lm, cluster = ~set, type = "HC1", cadjust = TRUE)[names_ev, names_ev]
K_lm <- length(coef(fit_lm))
G_sets <- length(unique(panel$set))
# unweighted lm with dummies reproduces plm's within estimates (Frisch-Waugh-Lovell)
fit_lm0 <- lm(as.formula(paste("y ~", rhs, "+ factor(unit) + factor(month)")), data = panel)
stopifnot(max(abs(coef(fit_lm0)[names_ev] - coef(fit_plm))) < 1e-10)

out <- list(
  meta = list(
    r_version = R.version.string,
    plm_version = as.character(packageVersion("plm")),
    sandwich_version = as.character(packageVersion("sandwich")),
    jsonlite_version = as.character(packageVersion("jsonlite")),
    rng_kind = RNGkind(),
    seed = 20240612,
    csv_md5 = unname(tools::md5sum(csv_path)),
    n_obs = N,
    n_units = G_units,
    n_sets = G_sets,
    window = range(window),
    reference = -1L,
    event_times = event_times,
    pre_event_times = event_times[event_times < -1]
  ),
  plm = list(
    coef = unname(coef(fit_plm)),
    se_sss = unname(sqrt(diag(V_sss))),
    se_hc1 = unname(sqrt(diag(V_hc1))),
    k = k,
    wald_pre_sss = wald(coef(fit_plm)[pre], V_sss[pre, pre])
  ),
  lm_weighted = list(
    coef = unname(coef(fit_lm)[names_ev]),
    se_cl_hc1 = unname(sqrt(diag(V_cl))),
    K = K_lm,
    wald_pre_cl_hc1 = wald(coef(fit_lm)[pre], V_cl[pre, pre])
  )
)
writeLines(toJSON(out, digits = I(15), auto_unbox = TRUE, pretty = TRUE), json_path)
cat("wrote", csv_path, "and", json_path, "\n")
