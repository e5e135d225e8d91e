# R side of tests/stats/test_did_parity_r.py: difference-in-differences of domain means as
# svycontrast of svyby(covmat = TRUE) on one stacked design (strata wave x region, clusters
# nested), so that R computes the whole covariance matrix of the four (or more) domain means.
#
# Usage:  Rscript tests/golden/did_parity.R DATA_CSV OUT_CSV
#   DATA_CSV  wave, area, grp (T = treated, C = comparison, O = other), stratum, psu, w, y, z
#             (z: 0/1, empty = missing)
#   OUT_CSV   case, estimate, se

suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 2)
data <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = c("", "NA"))
d <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = data, nest = TRUE)

did <- function(case, formula, post, pre) {
  b <- svyby(formula, ~grp + wave, d, svymean, na.rm = TRUE, covmat = TRUE)
  k <- setNames(rep(0, length(coef(b))), names(coef(b)))
  for (w in post) {
    k[paste0("T.", w)] <- k[paste0("T.", w)] + 1 / length(post)
    k[paste0("C.", w)] <- k[paste0("C.", w)] - 1 / length(post)
  }
  for (w in pre) {
    k[paste0("T.", w)] <- k[paste0("T.", w)] - 1 / length(pre)
    k[paste0("C.", w)] <- k[paste0("C.", w)] + 1 / length(pre)
  }
  x <- svycontrast(b, k)
  data.frame(case = case, estimate = unname(coef(x)), se = unname(SE(x)))
}

# svyby(covmat = TRUE, na.rm = TRUE) fails in survey 4.1 ("number of items to replace");
# for an item with missing answers the domain means are written as ratios instead: the mean of z
# over the answered rows of a domain is sum(w z 1[dom]) / sum(w 1[answered] 1[dom]), all ratios
# from one svyratio(covmat = TRUE) call (the same estimator and linearisation as na.rm = TRUE).
did_ratio <- function(case, variable, post, pre) {
  answered <- as.numeric(!is.na(data[[variable]]))
  value <- ifelse(is.na(data[[variable]]), 0, data[[variable]])
  cells <- list(); coefs <- c()
  add <- function(g, w, k) {
    ind <- as.numeric(data$grp == g & data$wave == w)
    cells[[length(cells) + 1]] <<- list(num = value * ind, den = answered * ind)
    coefs <<- c(coefs, k)
  }
  for (w in post) { add("T", w, 1 / length(post)); add("C", w, -1 / length(post)) }
  for (w in pre) { add("T", w, -1 / length(pre)); add("C", w, 1 / length(pre)) }
  m <- length(cells)
  nums <- sapply(cells, function(x) x$num); dens <- sapply(cells, function(x) x$den)
  colnames(nums) <- paste0("n", seq_len(m)); colnames(dens) <- paste0("d", seq_len(m))
  d2 <- d
  for (i in seq_len(m)) {
    d2$variables[[paste0("n", i)]] <- nums[, i]; d2$variables[[paste0("d", i)]] <- dens[, i]
  }
  r <- svyratio(as.formula(paste("~", paste0("n", seq_len(m), collapse = "+"))),
                as.formula(paste("~", paste0("d", seq_len(m), collapse = "+"))),
                d2, covmat = TRUE)
  diag_idx <- (seq_len(m) - 1) * m + seq_len(m)  # ratio n_i / d_i in the flattened matrix
  k <- rep(0, m * m); k[diag_idx] <- coefs
  est <- sum(k * coef(r)); se <- sqrt(drop(t(k) %*% vcov(r) %*% k))
  data.frame(case = case, estimate = est, se = se)
}

out <- rbind(
  did("mean_one_pre", ~y, post = 2023, pre = 2019),
  did("mean_two_pre", ~y, post = 2023, pre = c(2017, 2019)),
  did_ratio("share_one_pre", "z", post = 2023, pre = 2019),
  did_ratio("mean_one_pre_as_ratios", "y", post = 2023, pre = 2019),
  did("mean_pre_trend", ~y, post = 2019, pre = 2017)
)
write.csv(data.frame(case = out$case, estimate = sprintf("%.17g", out$estimate),
                     se = sprintf("%.17g", out$se)), args[2], row.names = FALSE, quote = FALSE)
