# Reference numbers from R for the ATT estimators of pipeline.effects (tests/test_estimators.py).
#
# Run from the repository root:
#
#     Rscript --vanilla tests/reference/estimators/make_reference.R
#
# It (1) writes the public `lalonde` data set bundled with R's Matching package to
# tests/reference/estimators/lalonde.csv and reads it back, so R computes on exactly the numbers
# Python parses; (2) computes, on lalonde and on tests/reference/matched_sample.csv (read only;
# made by tests/reference/make_reference.R):
#
#   * abadie_imbens: Matching::Match(Y, Tr, X, estimand = "ATT", M, BiasAdjust = FALSE,
#     Weight = 1 or 2, Var.calc = 0 or 3) with Match's defaults otherwise (replace = TRUE,
#     ties = TRUE, distance.tolerance = 1e-5, sample = FALSE): estimate and Abadie-Imbens SE;
#   * ipw: ATT inverse probability weighting with odds weights e/(1-e) (normalised), and the SE
#     of the stacked M-estimator (logit score equations + the two weighted means), written out
#     by hand from glm + sandwich::estfun / sandwich::bread; plus the SE that ignores the
#     estimated score (sandwich::vcovHC of the weighted regression of y on treat);
#   * aipw: doubly robust ATT (Sant'Anna and Zhao 2020, eq. 3.1 with a single outcome in place
#     of the outcome change; linear outcome model fitted on the controls, logit score) with the
#     stacked M-estimator sandwich by hand, checked in this script against the influence
#     function written as in Sant'Anna and Zhao's DRDID package (drdid_panel);
#   * regression: lm(y ~ treat + covariates, weights) on the matched rows of matched_sample.csv
#     with sandwich::vcovCL(type = "HC1", cadjust = TRUE) (CR1, t with G - 1 df) and
#     sandwich::vcovHC(type = "HC1") (t with N - K df).
#
# (3) writes tests/reference/estimators/r_reference.json (15 significant digits).
#
# Needs: r-base-core, r-cran-matching (pulls in MASS), r-cran-sandwich, r-cran-lmtest,
# r-cran-jsonlite (Debian packages).

suppressPackageStartupMessages({
  library(Matching)
  library(sandwich)
  library(lmtest)
  library(jsonlite)
})

here <- "tests/reference/estimators"
stopifnot(dir.exists(here))
lalonde_csv <- file.path(here, "lalonde.csv")
matched_csv <- "tests/reference/matched_sample.csv"
json_path <- file.path(here, "r_reference.json")

# ---- 1. data -------------------------------------------------------------------------------
data(lalonde, package = "Matching")
write.csv(lalonde, lalonde_csv, row.names = FALSE)
lal <- read.csv(lalonde_csv)
stopifnot(nrow(lal) == 445, sum(lal$treat) == 185)

ms <- read.csv(matched_csv, stringsAsFactors = FALSE, na.strings = "")
as_factor <- function(x) factor(x, levels = sort(unique(x), method = "radix"))
ms$region <- as_factor(ms$region)
ms$educ <- as_factor(ms$educ)

covariate_sets <- list(
  full = c("age", "educ", "black", "hisp", "married", "nodegr", "re74", "re75", "u74", "u75"),
  small = c("age", "educ", "re75"))

# ---- 2a. Abadie-Imbens matching estimator (Matching::Match) --------------------------------
ai_ref <- list()
for (set in names(covariate_sets)) {
  X <- as.matrix(lal[, covariate_sets[[set]]])
  for (M in c(1, 3)) for (Weight in c(1, 2)) for (Var.calc in c(0, 3)) {
    m <- Match(Y = lal$re78, Tr = lal$treat, X = X, estimand = "ATT", M = M,
               BiasAdjust = FALSE, Weight = Weight, Var.calc = Var.calc)
    ai_ref[[length(ai_ref) + 1]] <- list(
      covariates = set, ratio = M,
      metric = if (Weight == 1) "inverse_variance" else "mahalanobis",
      weight = Weight, var_calc = Var.calc,
      estimate = unname(m$est[1, 1]), std_error = unname(m$se),
      n_match_rows = length(m$index.control),
      n_matched_controls = length(unique(m$index.control)))
  }
}

# ---- 2b. IPW and AIPW: stacked M-estimators by hand -----------------------------------------
fit_score <- function(formula, d) {
  fit <- glm(formula, family = binomial(), data = d,
             control = glm.control(epsilon = 1e-14, maxit = 100))
  stopifnot(fit$converged)
  fit
}

# sandwich of a stacked M-estimator: A^{-1} B A^{-T} / n with A = -E[d psi / d theta]
stacked_se <- function(A, psi, g) {
  n <- nrow(psi)
  A_inv <- solve(A)
  V <- A_inv %*% (crossprod(psi) / n) %*% t(A_inv) / n
  sqrt(drop(t(g) %*% V %*% g))
}

ipw_reference <- function(d, ps_formula, y) {
  ps <- fit_score(ps_formula, d)
  X <- model.matrix(ps)
  n <- nrow(X)
  p <- ncol(X)
  t <- d$treat
  odds <- exp(ps$linear.predictors)
  w0 <- (1 - t) * odds
  mu1 <- sum(t * y) / sum(t)
  mu0 <- sum(w0 * y) / sum(w0)
  # theta = (gamma, mu1, mu0): logit score equations, then the two (weighted) means
  psi <- cbind(estfun(ps), t * (y - mu1), w0 * (y - mu0))
  A <- matrix(0, p + 2, p + 2)
  A[1:p, 1:p] <- solve(bread(ps))  # X'diag(e(1-e))X / n
  A[p + 1, p + 1] <- mean(t)
  A[p + 2, 1:p] <- -colMeans(w0 * (y - mu0) * X)  # d odds / d gamma = odds * x
  A[p + 2, p + 2] <- mean(w0)
  se <- stacked_se(A, psi, c(rep(0, p), 1, -1))
  # ignoring that the score was estimated: robust SE of the weighted regression y ~ treat
  wls <- lm(y ~ t, weights = t + w0)
  stopifnot(abs(unname(coef(wls)[2]) - (mu1 - mu0)) < 1e-9 * abs(mu1 - mu0))
  list(estimate = mu1 - mu0, std_error = se, mean_treated = mu1, mean_control = mu0,
       coef = unname(coef(ps)), coef_names = colnames(X),
       std_error_ignoring_score_hc0 = unname(sqrt(vcovHC(wls, type = "HC0")[2, 2])),
       std_error_ignoring_score_hc1 = unname(sqrt(vcovHC(wls, type = "HC1")[2, 2])),
       n = n, n_treated = sum(t))
}

aipw_reference <- function(d, ps_formula, y) {
  ps <- fit_score(ps_formula, d)
  X <- model.matrix(ps)
  n <- nrow(X)
  p <- ncol(X)
  t <- d$treat
  odds <- exp(ps$linear.predictors)
  w1 <- t
  w0 <- (1 - t) * odds
  ols <- lm.fit(X[t == 0, , drop = FALSE], y[t == 0])
  beta <- ols$coefficients
  stopifnot(!anyNA(beta))
  r <- drop(y - X %*% beta)
  eta1 <- sum(w1 * r) / sum(w1)
  eta0 <- sum(w0 * r) / sum(w0)
  # route 1: theta = (gamma, beta, eta1, eta0), sandwich of the stacked estimating equations
  psi <- cbind(estfun(ps), (1 - t) * r * X, w1 * (r - eta1), w0 * (r - eta0))
  k <- 2 * p + 2
  A <- matrix(0, k, k)
  g_idx <- 1:p
  b_idx <- (p + 1):(2 * p)
  A[g_idx, g_idx] <- solve(bread(ps))
  A[b_idx, b_idx] <- crossprod(X * (1 - t), X) / n
  A[2 * p + 1, b_idx] <- colMeans(w1 * X)
  A[2 * p + 1, 2 * p + 1] <- mean(w1)
  A[2 * p + 2, g_idx] <- -colMeans(w0 * (r - eta0) * X)
  A[2 * p + 2, b_idx] <- colMeans(w0 * X)
  A[2 * p + 2, 2 * p + 2] <- mean(w0)
  se <- stacked_se(A, psi, c(rep(0, 2 * p), 1, -1))
  # route 2: the influence function as DRDID::drdid_panel writes it (with y0 = 0)
  lin_ols <- ((1 - t) * r * X) %*% solve(crossprod(X * (1 - t), X) / n)
  lin_ps <- estfun(ps) %*% bread(ps)
  inf_treat <- (w1 * (r - eta1) - lin_ols %*% colMeans(w1 * X)) / mean(w1)
  inf_cont <- (w0 * (r - eta0) + lin_ps %*% colMeans(w0 * (r - eta0) * X) -
                 lin_ols %*% colMeans(w0 * X)) / mean(w0)
  inf <- drop(inf_treat - inf_cont)
  se_if <- sqrt(sum(inf^2)) / n
  stopifnot(abs(se_if - se) < 1e-10 * se)
  list(estimate = eta1 - eta0, std_error = se, mean_treated = mean(y[t == 1]),
       outcome_coef = unname(beta), max_rel_diff_stacked_vs_if = abs(se_if - se) / se,
       n = n, n_treated = sum(t))
}

lal_formula <- as.formula(paste("treat ~", paste(covariate_sets$full, collapse = " + ")))
ms_formula <- treat ~ age + female + region + educ + income
weighting <- list(
  lalonde = list(ipw = ipw_reference(lal, lal_formula, lal$re78),
                 aipw = aipw_reference(lal, lal_formula, lal$re78)),
  matched_sample = list(ipw = ipw_reference(ms, ms_formula, ms$y_cont),
                        aipw = aipw_reference(ms, ms_formula, ms$y_cont)))

# ---- 2c. regression on the matched sample ----------------------------------------------------
m <- ms[ms$weights > 0, ]
regression <- list()
for (outcome in c("y_cont", "y_bin")) {
  f <- lm(as.formula(paste(outcome, "~ treat + age + female + region + educ + income")),
          data = m, weights = weights)
  G <- length(unique(m$subclass))
  for (cov_type in c("cluster", "HC1")) {
    if (cov_type == "cluster") {
      V <- vcovCL(f, cluster = ~subclass, type = "HC1", cadjust = TRUE)
      df <- G - 1
    } else {
      V <- vcovHC(f, type = "HC1")
      df <- df.residual(f)
    }
    ct <- coeftest(f, vcov. = V, df = df)
    ci <- coefci(f, vcov. = V, df = df)
    regression[[outcome]][[cov_type]] <- list(
      estimate = unname(coef(f)["treat"]), std_error = unname(ct["treat", 2]),
      ci_low = unname(ci["treat", 1]), ci_high = unname(ci["treat", 2]),
      p_value = unname(ct["treat", 4]), df = df, n_obs = nobs(f),
      n_clusters = if (cov_type == "cluster") G else NULL)
  }
}

# ---- 3. write ----------------------------------------------------------------------------------
pkg <- function(p) as.character(packageVersion(p))
out <- list(
  meta = list(
    generated_by = "Rscript --vanilla tests/reference/estimators/make_reference.R",
    r_version = R.version.string,
    packages = list(Matching = pkg("Matching"), MASS = pkg("MASS"), stats = pkg("stats"),
                    sandwich = pkg("sandwich"), lmtest = pkg("lmtest"),
                    jsonlite = pkg("jsonlite")),
    lalonde_csv_md5 = unname(tools::md5sum(lalonde_csv)),
    matched_sample_csv_md5 = unname(tools::md5sum(matched_csv)),
    covariate_sets = covariate_sets,
    note = "numbers with 15 significant digits"),
  abadie_imbens = ai_ref,
  weighting = weighting,
  regression = regression)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", null = "null",
                  pretty = TRUE), json_path)
cat("wrote", lalonde_csv, "and", json_path, "\n")
