# R `survey` side of bench/stats_regression.py: design, raking per wave to sex and age margins,
# then svyby(~unsafe, ~district, design, svyglm, quasibinomial) for the given districts.
#
# Usage: Rscript stats_regression.R data.csv pop_ws.csv pop_wa.csv districts.txt out.csv
#   data.csv       respondents (wstratum, weight, ws, wa, district, unsafe and the predictors)
#   pop_ws.csv     population per wave x sex (ws, Freq); pop_wa.csv per wave x age (wa, Freq)
#   districts.txt  the districts to fit (one per line); design and raking use every respondent
#   out.csv        district, position, estimate, se
# Prints "timing <step> <seconds>" per step (elapsed).
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 5)
options(survey.lonely.psu = "adjust")
elapsed <- function(expr) {
  t <- system.time(value <- force(expr))[["elapsed"]]
  list(value = value, seconds = t)
}
report <- function(step, seconds) cat(sprintf("timing %s %.6f\n", step, seconds))
dat <- read.csv(args[[1]], stringsAsFactors = FALSE)
pop_ws <- read.csv(args[[2]], stringsAsFactors = FALSE)
pop_wa <- read.csv(args[[3]], stringsAsFactors = FALSE)
districts <- readLines(args[[4]])
design <- elapsed(svydesign(ids = ~1, strata = ~wstratum, weights = ~weight, data = dat,
                              nest = TRUE))
report("design", design$seconds)
flush(stdout())
raked <- elapsed(rake(design$value, list(~ws, ~wa), list(pop_ws, pop_wa),
                      control = list(maxit = 200, epsilon = 1e-13)))
report("rake", raked$seconds)
f <- unsafe ~ problem_trusler + problem_koersel + problem_narko + problem_uro + tillid_politi +
  sex + age_group + wave
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
rows <- list()
fits <- elapsed({
  for (d in districts) {
    fit <- svyglm(f, design = subset(raked$value, district == d), family = quasibinomial(),
                  control = ctl)
    s <- summary(fit)$coefficients
    rows[[d]] <- data.frame(district = d, position = seq_len(nrow(s)) - 1L,
                            estimate = sprintf("%.17g", s[, 1]), se = sprintf("%.17g", s[, 2]))
  }
})
report("svyglm", fits$seconds)
write.csv(do.call(rbind, rows), args[[5]], row.names = FALSE, quote = FALSE)
