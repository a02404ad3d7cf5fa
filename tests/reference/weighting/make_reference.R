# Reference weights from R for pipeline.matching.weighting (tests/test_weighting.py).
#
# Made with:
#   R 4.2.2 Patched (2022-11-10 r83330), Debian r-base-core 4.2.2.20221110-2
#   survey 4.1-1 (Debian r-cran-survey 4.1-1-1; pulls in mitools 2.4-2), MASS 7.3-58.2
#   (Debian r-cran-mass 7.3-58.2-1; survey's Newton step uses MASS::ginv),
#   jsonlite 1.8.4 (Debian r-cran-jsonlite 1.8.4+dfsg-1), stats 4.2.2
#   RNG: Mersenne-Twister / Inversion / Rejection (set explicitly below)
#
# Run from the repository root (needs no Python):
#
#     apt-get install -y r-base-core r-cran-survey r-cran-jsonlite
#     Rscript --vanilla tests/reference/weighting/make_reference.R
#
# It (1) simulates a small data set with a fixed seed and writes it to sample.csv,
# (2) reads that CSV back, so R computes on exactly the values Python parses, and
# (3) writes r_weights.csv (one row per unit, 17 significant digits) and r_meta.json:
#
#   * w_ebal_m1, w_ebal_m2: entropy balancing weights for the ATT, computed as a survey
#     calibration. survey::calibrate(calfun = "raking") finds weights w_i = d_i exp(x_i' eta)
#     whose totals of the model-matrix columns x (intercept included) equal given
#     population totals. With the controls as the sample, equal base weights d_i = 1 and
#     the treated totals of x as the population, that is exactly Hainmueller's (2012)
#     entropy balancing: the weighted control means equal the treated means and the
#     control weights sum to the number of treated. m1 balances the dummy-coded
#     covariates (first level of each factor dropped; C-locale sorted levels); m2 adds the
#     squares of the non-binary covariates (age, income). Treated units get weight 1.
#   * w_ps: inverse probability (odds) weights for the ATT from glm(family = binomial()):
#     treated 1, controls ps / (1 - ps), rescaled so that the control weights sum to the
#     number of treated.
#
# survey's raking is a Newton iteration with no line search written independently of the
# pipeline's dual Newton solver; calibrate() stops unless every total is met to a relative
# misfit |misfit| / (1 + |total|) below 1e-13, and the script checks again that the weighted
# control means equal the treated means (to 1e-9; the achieved gap is in r_meta.json).

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

here <- "tests/reference/weighting"
csv_path <- file.path(here, "sample.csv")
weights_path <- file.path(here, "r_weights.csv")
json_path <- file.path(here, "r_meta.json")
stopifnot(dir.exists(here))

options(warn = 2)  # any warning (e.g. glm not converging) stops the script
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240612)

# ---- 1. simulate the data --------------------------------------------------------------
n <- 500
age <- round(runif(n, 18, 64))
female <- rbinom(n, 1, 0.5)
region <- sample(c("north", "south", "east", "west"), n, replace = TRUE,
                 prob = c(0.3, 0.3, 0.2, 0.2))
educ <- sample(c("low", "mid", "high"), n, replace = TRUE, prob = c(0.3, 0.45, 0.25))
income <- round(rlnorm(n, log(28), 0.45), 1)
lin <- -1.1 + 0.03 * (age - 40) + 0.5 * female +
  c(north = 0, south = 0.4, east = -0.3, west = 0.2)[region] +
  c(low = 0.5, mid = 0, high = -0.4)[educ] - 0.02 * (income - 28)
treat <- rbinom(n, 1, plogis(lin))
y <- round(10 + 0.08 * age + 0.6 * female + 0.05 * income +
           c(north = 0, south = -0.5, east = 0.3, west = 0.1)[region] +
           1.5 * treat + rnorm(n, 0, 2), 4)
gen <- data.frame(id = seq_len(n), treat = treat, age = age, female = female,
                  region = region, educ = educ, income = income, y = y)
write.csv(gen, csv_path, row.names = FALSE)

# ---- 2. read it back -----------------------------------------------------------------------
d <- read.csv(csv_path, stringsAsFactors = FALSE)
as_factor <- function(x) factor(x, levels = sort(unique(x), method = "radix"))
d$region <- as_factor(d$region)
d$educ <- as_factor(d$educ)
controls <- d[d$treat == 0, ]
treated <- d[d$treat == 1, ]

# ---- 3a. entropy balancing as raking calibration of the controls to the treated totals ----
ebal <- function(formula) {
  population <- colSums(model.matrix(formula, treated))
  controls$base <- 1
  design <- svydesign(ids = ~1, weights = ~base, data = controls)
  cal <- calibrate(design, formula, population = population, calfun = "raking",
                   maxit = 200, epsilon = 1e-13)  # stops ("Calibration failed") if not met
  w <- unname(weights(cal))
  mm <- model.matrix(formula, controls)
  gap <- max(abs(colSums(mm * w) / sum(w) - population / nrow(treated)))
  stopifnot(gap < 1e-9, abs(sum(w) - nrow(treated)) < 1e-9)
  list(w = w, gap = gap, terms = colnames(mm))
}
m1 <- ebal(~ age + female + region + educ + income)
m2 <- ebal(~ age + female + region + educ + income + I(age^2) + I(income^2))

# ---- 3b. ATT odds weights from the logistic propensity score -------------------------------
ps <- fitted(glm(treat ~ age + female + region + educ + income, family = binomial(), data = d,
                 control = glm.control(epsilon = 1e-14, maxit = 100)))
odds <- ps[d$treat == 0] / (1 - ps[d$treat == 0])
w_ps <- odds * nrow(treated) / sum(odds)

# ---- 4. write --------------------------------------------------------------------------------
out <- data.frame(id = d$id, treat = d$treat, w_ebal_m1 = 1, w_ebal_m2 = 1, w_ps = 1)
out$w_ebal_m1[d$treat == 0] <- m1$w
out$w_ebal_m2[d$treat == 0] <- m2$w
out$w_ps[d$treat == 0] <- unname(w_ps)
fmt <- function(x) sprintf("%.17g", x)
out[c("w_ebal_m1", "w_ebal_m2", "w_ps")] <- lapply(out[c("w_ebal_m1", "w_ebal_m2", "w_ps")], fmt)
write.csv(out, weights_path, row.names = FALSE, quote = FALSE)

meta <- list(
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  rng = RNGkind(),
  seed = 20240612,
  sample_csv_md5 = unname(tools::md5sum(csv_path)),
  n = nrow(d),
  n_treated = nrow(treated),
  n_control = nrow(controls),
  calibrate = list(calfun = "raking", epsilon = 1e-13, maxit = 200),
  terms_m1 = m1$terms,
  terms_m2 = m2$terms,
  max_abs_mean_gap_m1 = m1$gap,
  max_abs_mean_gap_m2 = m2$gap
)
write(toJSON(meta, auto_unbox = TRUE, digits = NA, pretty = TRUE), json_path)
