# Reference numbers from R for pipeline/effects/sensitivity.py (tests/test_sensitivity.py).
#
# Run from the repository root:
#
#     Rscript --vanilla tests/reference/sensitivity/make_reference.R
#
# rbounds is not packaged in Debian and CRAN is out of reach here, so the Rosenbaum bounds
# are written below in base R from their definitions (Rosenbaum 2002, Observational
# Studies, 2nd ed., sections 4.3.2-4.3.3), following the steps of rbounds 2.1's psens()
# and binarysens(): drop zero differences, rank |d| with ties.method = "average", T = sum
# of the ranks of the positive differences, normal approximation without continuity
# correction; exact binomial tails for discordant pairs. Independent parts of R are used
# as cross-checks inside this script: stats::wilcox.test at Gamma = 1, stats::binom.test
# at Gamma = 1, and stats::uniroot for the critical Gamma (the Python code solves a
# quadratic instead).
#
# Data:
#   * lead_pairs.csv: the 33 matched pairs of the psens() help example in rbounds
#     ("Matched Data of Lead Blood Levels in Children", Morton et al. 1982, used in
#     Rosenbaum 2002, chapter 4). Typed in by hand from that example; not made here.
#   * earnings_pairs.csv: 250 simulated pairs of annual earnings (rounded to 10000s, so
#     with many ties and zero differences), made below from set.seed(20240612).
#   * Hammond's smoking and lung cancer pairs (Rosenbaum 2002, p. 112; the binarysens()
#     help example binarysens(12, 110)): 110 discordant pairs in which only the smoker
#     died of lung cancer, 12 in which only the non-smoker did.
#
# Needs: r-base-core, r-cran-jsonlite (Debian packages).

suppressPackageStartupMessages(library(jsonlite))
options(scipen = 100)  # plain numbers in the CSV

here <- "tests/reference/sensitivity"
stopifnot(dir.exists(here))
gammas <- c(1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 4.5, 5, 6)

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240612)
n <- 250
control <- 10000 * round(pmax(0, rnorm(n, 18, 9)))
exposed <- 10000 * round(pmax(0, 0.5 * control / 10000 + rnorm(n, 11, 7)))
write.csv(data.frame(pair = seq_len(n), exposed = exposed, control = control),
          file.path(here, "earnings_pairs.csv"), row.names = FALSE)

signed_rank <- function(d) {
  d <- d[d != 0]
  r <- rank(abs(d), ties.method = "average")
  list(r = r, t = sum(r[d > 0]), n = length(d))
}

tail_p <- function(sr, p) {
  z <- (sr$t - p * sum(sr$r)) / sqrt(p * (1 - p) * sum(sr$r^2))
  pnorm(z, lower.tail = FALSE)
}

wilcoxon_bounds <- function(d) {
  sr <- signed_rank(d)
  upper <- function(g) tail_p(sr, g / (1 + g))
  crit <- uniroot(function(lg) upper(exp(lg)) - 0.05, c(0, log(100)), tol = 1e-13)$root
  wt <- wilcox.test(d, exact = FALSE, correct = FALSE, alternative = "greater")
  list(
    n_nonzero = sr$n,
    statistic = sr$t,
    gamma = gammas,
    p_lower = sapply(gammas, function(g) tail_p(sr, 1 / (1 + g))),
    p_upper = sapply(gammas, upper),
    critical_gamma_05 = exp(crit),
    wilcox_test_statistic = unname(wt$statistic),
    wilcox_test_p = wt$p.value
  )
}

binary_bounds <- function(treated_only, control_only) {
  D <- treated_only + control_only
  list(
    n_treated_only = treated_only,
    n_control_only = control_only,
    gamma = gammas,
    p_lower = pbinom(treated_only - 1, D, 1 / (1 + gammas), lower.tail = FALSE),
    p_upper = pbinom(treated_only - 1, D, gammas / (1 + gammas), lower.tail = FALSE),
    binom_test_p = binom.test(treated_only, D, alternative = "greater")$p.value
  )
}

lead <- read.csv(file.path(here, "lead_pairs.csv"))
earnings <- read.csv(file.path(here, "earnings_pairs.csv"))

out <- list(
  made_by = "tests/reference/sensitivity/make_reference.R",
  r_version = R.version.string,
  wilcoxon = list(
    lead = wilcoxon_bounds(lead$exposed - lead$control),
    earnings = wilcoxon_bounds(earnings$exposed - earnings$control)
  ),
  binary = list(hammond = binary_bounds(110, 12), employment = binary_bounds(41, 26))
)
write_json(out, file.path(here, "r_reference.json"), digits = I(15), auto_unbox = TRUE,
           pretty = TRUE)
