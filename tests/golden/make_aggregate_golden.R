# Reference values for tests/stats/test_golden_aggregate.py: calibrate(aggregate.stage = 1),
# cluster-level calibration (weights constant within PSUs), from R `survey` 4.1-1.
#
# Usage:  Rscript tests/golden/make_aggregate_golden.R [DATA_DIR] [OUT_DIR]
# Output: aggregate_weights.csv    case, row (0-based), weight
#         aggregate_estimates.csv  case, stat (mean api00 / total enroll, na.rm), estimate, se
# Cases:  clus1_linear   calibrate(clus1_fpc, ~stype + api99, c(6194, 755, 1018, 3914069),
#                        aggregate.stage = 1)
#         clus1_raking   calibrate(clus1_fpc, ~stype, c(6194, 755, 1018), aggregate.stage = 1,
#                        calfun = "raking", epsilon = 1e-12)
#         clus2_linear   calibrate(clus2_fpc, ~stype, c(6194, 755, 1018), aggregate.stage = 1)

suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
script_dir <- if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else "."
data_dir <- if (length(args) >= 1) args[1] else file.path(Sys.getenv("TRYG_SHARED_DATA"), "stats-anchors")
out_dir <- if (length(args) >= 2) args[2] else script_dir
read_anchor <- function(name) read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
apiclus1 <- read_anchor("apiclus1")
apiclus2 <- read_anchor("apiclus2")
fmt <- function(x) sprintf("%.15g", x)
clus1_fpc <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
clus2_fpc <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
pop <- c(6194, 755, 1018, 3914069)
cases <- list(
  clus1_linear = calibrate(clus1_fpc, ~stype + api99, pop, aggregate.stage = 1),
  clus1_raking = calibrate(clus1_fpc, ~stype, pop[1:3], aggregate.stage = 1,
                           calfun = "raking", epsilon = 1e-12, maxit = 100),
  clus2_linear = calibrate(clus2_fpc, ~stype, pop[1:3], aggregate.stage = 1)
)
w_rows <- list()
e_rows <- list()
for (case in names(cases)) {
  d <- cases[[case]]
  w <- weights(d)
  w_rows[[case]] <- data.frame(case = case, row = seq_along(w) - 1L, weight = fmt(w))
  m <- svymean(~api00, d)
  t <- svytotal(~enroll, d, na.rm = TRUE)
  e_rows[[case]] <- data.frame(case = case, stat = c("mean_api00", "total_enroll"),
                               estimate = fmt(c(coef(m), coef(t))), se = fmt(c(SE(m), SE(t))))
}
write.csv(do.call(rbind, w_rows), file.path(out_dir, "aggregate_weights.csv"), row.names = FALSE)
write.csv(do.call(rbind, e_rows), file.path(out_dir, "aggregate_estimates.csv"), row.names = FALSE)
