# Reference values for tests/stats/test_golden_pps.py (tryg.stats.pps): designs sampled with
# unequal probabilities without replacement, on R's data(election) (survey package).
#
# Usage:  Rscript tests/golden/make_pps_golden.R OUT_DIR [DATA_DIR]
#   Writes pps_estimates.csv to OUT_DIR (the committed golden file lives in tests/golden/).
#   With DATA_DIR it also writes the data the test needs there (election_pps.csv and
#   election_jointprob.csv, R's own data sets; they are not committed to the repository).
#
# pps_estimates.csv: case, stat (total/mean), variable, estimate, se (sprintf("%.15g")).
# Cases (as ?election):
#   brewer  svydesign(id = ~1, fpc = ~p, data = election_pps, pps = "brewer")
#   hr1     pps = HR()                    (Hartley-Rao, pbar = mean sampled probability)
#   hr      pps = HR(sum(election$p^2) / 40)
#   ht      pps = ppsmat(election_jointprob)                (Horvitz-Thompson)
#   yg      pps = ppsmat(election_jointprob), variance = "YG" (Yates-Grundy)

suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- args[1]
data(election)
fmt <- function(x) sprintf("%.15g", x)
designs <- list(
  brewer = svydesign(id = ~1, fpc = ~p, data = election_pps, pps = "brewer"),
  hr1 = svydesign(id = ~1, fpc = ~p, data = election_pps, pps = HR()),
  hr = svydesign(id = ~1, fpc = ~p, data = election_pps, pps = HR(sum(election$p^2) / 40)),
  ht = svydesign(id = ~1, fpc = ~p, data = election_pps, pps = ppsmat(election_jointprob)),
  yg = svydesign(id = ~1, fpc = ~p, data = election_pps, pps = ppsmat(election_jointprob),
                 variance = "YG")
)
rows <- list()
for (case in names(designs)) {
  d <- designs[[case]]
  for (stat in c("total", "mean")) {
    f <- if (stat == "total") svytotal else svymean
    e <- f(~Bush + Kerry + Nader, d)
    rows[[length(rows) + 1]] <- data.frame(case = case, stat = stat,
      variable = names(coef(e)), estimate = fmt(coef(e)), se = fmt(SE(e)))
  }
}
write.csv(do.call(rbind, rows), file.path(out_dir, "pps_estimates.csv"), row.names = FALSE)
if (length(args) >= 2) {
  write.csv(election_pps, file.path(args[2], "election_pps.csv"), row.names = FALSE)
  write.csv(election_jointprob, file.path(args[2], "election_jointprob.csv"), row.names = FALSE)
  writeLines(sprintf("%.17g", sum(election$p^2) / 40), file.path(args[2], "election_p2bar.txt"))
}
