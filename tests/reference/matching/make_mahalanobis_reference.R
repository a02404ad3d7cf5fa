# Reference matches for Mahalanobis nearest-neighbour matching, from R's Matching package.
#
# Run from the repository root:  Rscript --vanilla tests/reference/matching/make_mahalanobis_reference.R
# Writes mahalanobis_sample.csv (the data) and mahalanobis_reference.json (the matches).
#
# Matching::Match standardises each column of X by its SD (n - 1) and measures distance with
# Weight.matrix on that scale. Passing the inverse of the pooled within-group covariance of the
# standardised X gives the Mahalanobis distance with the pooled within-group covariance, which
# is MatchIt's (and pipeline.matching's) convention; Match's own Weight = 2 would use the
# covariance of the whole sample instead.
suppressPackageStartupMessages({
  library(Matching)
  library(jsonlite)
})
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240612)

n <- 400
x1 <- rnorm(n)
x2 <- 0.6 * x1 + rnorm(n, sd = 0.8)
x3 <- round(rexp(n, 0.5), 3)
female <- rbinom(n, 1, 0.45)
region <- sample(c("north", "south", "west"), n, replace = TRUE)
lp <- -1.6 + 0.8 * x1 - 0.4 * x2 + 0.1 * x3 + 0.3 * female + 0.4 * (region == "west")
treat <- rbinom(n, 1, plogis(lp))
data <- data.frame(id = seq_len(n), treat = treat, x1 = round(x1, 6), x2 = round(x2, 6),
                   x3 = x3, female = female, region = region)
csv <- "tests/reference/matching/mahalanobis_sample.csv"
write.csv(data, csv, row.names = FALSE)
data <- read.csv(csv)  # compute on exactly the values Python reads

X <- cbind(data$x1, data$x2, data$x3, data$female,
           region_south = as.numeric(data$region == "south"),
           region_west = as.numeric(data$region == "west"))
Xs <- scale(X)
tr <- data$treat == 1
centred <- Xs
centred[tr, ] <- sweep(Xs[tr, ], 2, colMeans(Xs[tr, ]))
centred[!tr, ] <- sweep(Xs[!tr, ], 2, colMeans(Xs[!tr, ]))
pooled <- crossprod(centred) / (n - 2)
W <- solve(pooled)

pairs <- function(m) {
  # treated id -> control ids, in the order Match returns them
  split(data$id[m$index.control], data$id[m$index.treated])
}
one_to_one <- Match(Tr = data$treat, X = X, Weight.matrix = W, M = 1, replace = FALSE,
                    ties = FALSE, estimand = "ATT")
with_replacement <- Match(Tr = data$treat, X = X, Weight.matrix = W, M = 1, replace = TRUE,
                          ties = TRUE, estimand = "ATT")
three_with_replacement <- Match(Tr = data$treat, X = X, Weight.matrix = W, M = 3,
                                replace = TRUE, ties = TRUE, estimand = "ATT")

out <- list(
  r_version = R.version.string,
  matching_version = as.character(packageVersion("Matching")),
  csv_md5 = unname(tools::md5sum(csv)),
  n_treated = sum(tr),
  pooled_covariance_of_standardised_x = unname(pooled),
  nearest_1_without_replacement = pairs(one_to_one),
  nearest_1_with_replacement = pairs(with_replacement),
  nearest_3_with_replacement = pairs(three_with_replacement)
)
write_json(out, "tests/reference/matching/mahalanobis_reference.json", digits = 15,
           auto_unbox = TRUE, pretty = TRUE)
