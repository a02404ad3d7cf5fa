# Reference numbers from R for the pipeline's own estimators (tests/test_r_reference.py).
#
# Run from the repository root:
#
#     Rscript --vanilla tests/reference/make_reference.R
#
# It (1) generates the small data set tests/reference/matched_sample.csv deterministically
# (set.seed, R's default Mersenne-Twister / Inversion / Rejection RNG), (2) reads that CSV
# back, so R computes on exactly the numbers Python will parse, and (3) writes
# tests/reference/r_reference.json with:
#
#   * propensity: glm(treat ~ ..., family = binomial()) coefficients and fitted scores
#     (categorical covariates as factors with levels in C-locale sorted order, first level
#     the reference = the pipeline's drop-first dummy coding);
#   * att: lm(y ~ treat, weights = weights) on the matched rows (weights > 0), with
#     sandwich::vcovCL(cluster = ~subclass, type = "HC1", cadjust = TRUE) and a t
#     distribution with G - 1 df; and with sandwich::vcovHC(type = "HC1") and the
#     residual df N - 2;
#   * balance: MatchIt-style balance statistics written here in plain R from their
#     definitions (cobalt is not packaged in Debian).
#
# The matched structure (weights, subclass) is made by a simple greedy nearest-neighbour
# match on the logit of the glm propensity score written below in plain R. It only serves
# as a realistic input for the estimators; it is NOT a reference for the pipeline's
# matching (no MatchIt is used anywhere here).
#
# Needs: r-base-core, r-cran-sandwich, r-cran-lmtest, r-cran-jsonlite (Debian packages).

suppressPackageStartupMessages({
  library(sandwich)
  library(lmtest)
  library(jsonlite)
})

here <- "tests/reference"
csv_path <- file.path(here, "matched_sample.csv")
json_path <- file.path(here, "r_reference.json")
stopifnot(dir.exists(here))

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240611)

# ---- 1. generate the data ----------------------------------------------------------------
n <- 600
age <- round(runif(n, 18, 65))
female <- rbinom(n, 1, 0.45)
region <- sample(c("north", "south", "east", "west"), n, replace = TRUE,
                 prob = c(0.3, 0.3, 0.2, 0.2))
educ <- sample(c("low", "mid", "high"), n, replace = TRUE, prob = c(0.3, 0.45, 0.25))
income <- round(rlnorm(n, log(30), 0.5), 1)
lin <- -2.2 + 0.035 * (age - 40) + 0.5 * female +
  c(north = 0, south = 0.4, east = -0.3, west = 0.2)[region] +
  c(low = 0.5, mid = 0, high = -0.4)[educ] + 0.015 * (income - 30)
treat <- rbinom(n, 1, plogis(lin))
y_cont <- round(10 + 0.08 * age + 0.6 * female + 0.04 * income +
                c(north = 0, south = -0.5, east = 0.3, west = 0.1)[region] +
                1.2 * treat + rnorm(n, 0, 2), 4)
y_bin <- rbinom(n, 1, plogis(-1 + 0.02 * (age - 40) + 0.3 * female + 0.5 * treat))

# categorical covariates as factors with C-locale sorted levels, first level = reference
as_factor <- function(x) factor(x, levels = sort(unique(x), method = "radix"))
gen <- data.frame(id = seq_len(n), treat = treat, age = age, female = female,
                  region = region, educ = educ, income = income)
gen_ps <- fitted(glm(treat ~ age + female + as_factor(region) + as_factor(educ) + income,
                     family = binomial(), data = gen))
logit_ps <- qlogis(gen_ps)

# greedy nearest neighbour on logit(ps), without replacement, treated in descending ps
# order, variable ratio: each treated unit gets k = 1, 2 or 4 controls (cycled), so the
# control weights are 1, 1/2 or 1/4; treated weight 1; unmatched units weight 0, no subclass
weights <- numeric(n)
subclass <- rep(NA_integer_, n)
available <- treat == 0
treated_order <- order(-gen_ps)[treat[order(-gen_ps)] == 1]
ratios <- rep_len(c(1, 2, 4, 2), length(treated_order))
s <- 0L
for (i in seq_along(treated_order)) {
  tr <- treated_order[i]
  k <- ratios[i]
  if (sum(available) < k) break
  cand <- which(available)
  picked <- cand[order(abs(logit_ps[cand] - logit_ps[tr]), cand)[seq_len(k)]]
  s <- s + 1L
  subclass[c(tr, picked)] <- s
  weights[tr] <- 1
  weights[picked] <- 1 / k
  available[picked] <- FALSE
}
gen$y_cont <- y_cont
gen$y_bin <- y_bin
gen$weights <- weights
gen$subclass <- subclass
write.csv(gen, csv_path, row.names = FALSE, na = "")

# ---- 2. read it back: R works on the parsed CSV, as Python does ---------------------------
d <- read.csv(csv_path, stringsAsFactors = FALSE, na.strings = "")
d$region_f <- as_factor(d$region)
d$educ_f <- as_factor(d$educ)

# ---- 3a. propensity score model ----------------------------------------------------------
ps_fit <- glm(treat ~ age + female + region_f + educ_f + income, family = binomial(),
              data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
stopifnot(ps_fit$converged)
coef_names <- c("const", "age", "female",
                paste0("region_", levels(d$region_f)[-1]),
                paste0("educ_", levels(d$educ_f)[-1]), "income")
ps_coef <- unname(coef(ps_fit))
stopifnot(length(ps_coef) == length(coef_names))

# ---- 3b. ATT: weighted difference in means with robust SEs -------------------------------
m <- d[d$weights > 0, ]
att_ref <- list()
for (outcome in c("y_cont", "y_bin")) {
  f <- lm(as.formula(paste(outcome, "~ treat")), data = m, weights = weights)
  b <- unname(coef(f)["treat"])
  N <- nobs(f)
  K <- length(coef(f))
  G <- length(unique(m$subclass))

  v_cl <- vcovCL(f, cluster = ~subclass, type = "HC1", cadjust = TRUE)
  # the same by hand: CR1 with factor G/(G-1) * (N-1)/(N-K), as statsmodels documents it
  X <- model.matrix(f)
  e <- residuals(f)
  w <- weights(f)
  bread <- solve(crossprod(X, X * w))
  scores <- rowsum(X * (w * e), m$subclass)
  v_hand <- G / (G - 1) * (N - 1) / (N - K) * bread %*% crossprod(scores) %*% bread
  rel_cl <- max(abs(v_cl - v_hand)) / max(abs(v_cl))
  stopifnot(rel_cl < 1e-12)

  v_hc <- vcovHC(f, type = "HC1")
  v_hc_hand <- N / (N - K) * bread %*% crossprod(X * (w * e)) %*% bread
  rel_hc <- max(abs(v_hc - v_hc_hand)) / max(abs(v_hc))
  stopifnot(rel_hc < 1e-12)

  one <- function(V, df, cov_type) {
    ct <- coeftest(f, vcov. = V, df = df)
    ci <- coefci(f, vcov. = V, df = df, level = 0.95)
    list(cov_type = cov_type,
         estimate = b,
         std_error = unname(ct["treat", "Std. Error"]),
         ci_low = unname(ci["treat", 1]),
         ci_high = unname(ci["treat", 2]),
         p_value = unname(ct["treat", "Pr(>|t|)"]),
         df = df,
         n_obs = N,
         n_clusters = if (cov_type == "cluster") G else NA,
         mean_control = unname(coef(f)[1]),
         mean_treated = unname(coef(f)[1] + coef(f)[2]),
         max_rel_diff_sandwich_vs_hand = if (cov_type == "cluster") rel_cl else rel_hc)
  }
  att_ref[[outcome]] <- list(cluster = one(v_cl, G - 1, "cluster"),
                             HC1 = one(v_hc, f$df.residual, "HC1"))
}

# ---- 3c. balance statistics, from the definitions -----------------------------------------
# terms: numeric covariates as they are, categorical ones with one 0/1 column per level
terms <- list(distance = unname(fitted(ps_fit)))
for (v in c("age", "female", "region", "educ", "income")) {
  x <- d[[v]]
  if (is.character(x)) {
    for (lev in sort(unique(x), method = "radix")) {
      terms[[paste0(v, "_", lev)]] <- as.numeric(x == lev)
    }
  } else {
    terms[[v]] <- as.numeric(x)
  }
}
tr <- d$treat == 1
wmean <- function(x, w) sum(w * x) / sum(w)
wvar <- function(x, w) {        # sum(w (x - m)^2) / (1 - sum(w^2)), w normalised to sum 1
  w <- w / sum(w)
  mu <- sum(w * x)
  sum(w * (x - mu)^2) / (1 - sum(w^2))
}
ecdf_stats <- function(x, w) {  # weighted eCDFs at every distinct value of x (whole sample)
  vals <- sort(unique(x))
  w1 <- w * tr
  w0 <- w * !tr
  F1 <- vapply(vals, function(v) sum(w1[x <= v]) / sum(w1), numeric(1))
  F0 <- vapply(vals, function(v) sum(w0[x <= v]) / sum(w0), numeric(1))
  c(mean = mean(abs(F1 - F0)), max = max(abs(F1 - F0)))
}
stats_for <- function(x, w, sd_denom, binary) {
  m1 <- wmean(x[tr], w[tr])
  m0 <- wmean(x[!tr], w[!tr])
  if (binary) {
    vr <- NA_real_
    ec <- c(mean = abs(m1 - m0), max = abs(m1 - m0))
  } else {
    vr <- wvar(x[tr], w[tr]) / wvar(x[!tr], w[!tr])
    ec <- ecdf_stats(x, w)
  }
  list(mean_treated = m1, mean_control = m0, smd = (m1 - m0) / sd_denom,
       var_ratio = vr, ecdf_mean = unname(ec["mean"]), ecdf_max = unname(ec["max"]))
}
balance <- list()
for (v in names(terms)) {
  x <- terms[[v]]
  binary <- v != "distance" && all(x %in% c(0, 1))
  # SD of the treated group in the full sample: sqrt(p (1 - p)) if binary, else sd() (n - 1)
  p <- mean(x[tr])
  sd_denom <- if (binary) sqrt(p * (1 - p)) else sd(x[tr])
  stopifnot(sd_denom > 1e-8)
  balance[[v]] <- list(
    type = if (v == "distance") "distance" else if (binary) "binary" else "continuous",
    before = stats_for(x, rep(1, nrow(d)), sd_denom, binary),
    after = stats_for(x, d$weights, sd_denom, binary))
}

# ---- 4. write ------------------------------------------------------------------------------
pkg <- function(p) as.character(packageVersion(p))
out <- list(
  meta = list(
    generated_by = "Rscript --vanilla tests/reference/make_reference.R",
    r_version = R.version.string,
    packages = list(stats = pkg("stats"), sandwich = pkg("sandwich"), lmtest = pkg("lmtest"),
                    jsonlite = pkg("jsonlite")),
    csv_md5 = unname(tools::md5sum(csv_path)),
    n = nrow(d), n_treated = sum(tr), n_matched_rows = nrow(m),
    note = "numbers with 15 significant digits"),
  propensity = list(
    covariates = c("age", "female", "region", "educ", "income"),
    coef_names = coef_names,
    coef = ps_coef,
    deviance = deviance(ps_fit),
    score = unname(fitted(ps_fit)),
    linear = unname(ps_fit$linear.predictors)),
  att = att_ref,
  balance = balance)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), json_path)
cat("wrote", csv_path, "and", json_path, "\n")
