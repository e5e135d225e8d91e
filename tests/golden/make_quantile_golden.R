# Reference values for tests/stats/test_golden_quantile.py (tryg.stats.quantile), from R
# `survey`'s svyquantile (survey 4.1-1: qrule "math" (default), "school" and "hf7";
# interval.type = "mean", the Woodruff interval; na.rm = TRUE).
#
# Usage:  Rscript tests/golden/make_quantile_golden.R [DATA_DIR] [OUT_DIR]
# Output: quantile_estimates.csv: case, variable, qrule, by, domain ("" = all rows), p,
#         estimate, ci_low, ci_high, se (numbers with sprintf("%.15g"); NaN ends as "").
# Domains: svyby(..., svyquantile) by stype (R subsets the design per domain).

suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
script_dir <- if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else "."
data_dir <- if (length(args) >= 1) args[1] else file.path(Sys.getenv("TRYG_SHARED_DATA"), "stats-anchors")
out_dir <- if (length(args) >= 2) args[2] else script_dir
read_anchor <- function(name) read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
apistrat <- read_anchor("apistrat")
apiclus1 <- read_anchor("apiclus1")
apiclus2 <- read_anchor("apiclus2")
options(survey.lonely.psu = "fail")
fmt <- function(x) ifelse(is.na(x), "", sprintf("%.15g", x))

strat_fpc <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
clus1_fpc <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
clus2_fpc <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
pop_types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
raked <- rake(clus1_fpc, list(~stype, ~sch.wide), list(pop_types, pop_schwide),
              control = list(epsilon = 1e-12, maxit = 100))
designs <- list(strat_fpc = strat_fpc, clus1_fpc = clus1_fpc, clus2_fpc = clus2_fpc, rake = raked)
probs <- c(0.25, 0.5, 0.75)
rows <- list()
emit <- function(case, variable, qrule, by, domain, q) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, variable = variable, qrule = qrule, by = by, domain = domain, p = probs,
    estimate = fmt(q[, 1]), ci_low = fmt(q[, 2]), ci_high = fmt(q[, 3]), se = fmt(q[, 4]),
    stringsAsFactors = FALSE)
}
for (case in names(designs)) {
  des <- designs[[case]]
  for (variable in c("api00", "enroll")) {
    for (qrule in c("math", "school", "hf7")) {
      f <- as.formula(paste("~", variable))
      q <- svyquantile(f, des, probs, qrule = qrule, na.rm = TRUE)[[1]]
      emit(case, variable, qrule, "", "", q)
      if (case %in% c("strat_fpc", "clus1_fpc")) {
        for (lv in c("E", "H", "M")) {
          sub <- subset(des, stype == lv)
          q <- svyquantile(f, sub, probs, qrule = qrule, na.rm = TRUE)[[1]]
          emit(case, variable, qrule, "stype", lv, q)
        }
      }
    }
  }
}
write.csv(do.call(rbind, rows), file.path(out_dir, "quantile_estimates.csv"), row.names = FALSE)
