# R `survey` side of bench/stats_regression.py: design, raking per wave to sex and age margins,
# then svyglm(..., design = subset(raked, district == d), quasibinomial) for the given districts
# (what svyby(..., svyglm) does for each domain).
#
# Usage: Rscript stats_regression.R data.csv pop_ws.csv pop_wa.csv districts.txt out.csv
#   data.csv       respondents (wstratum, weight, ws, wa, district, unsafe and the predictors)
#   pop_ws.csv     population per wave x sex (ws, Freq); pop_wa.csv per wave x age (wa, Freq)
#   districts.txt  the districts to fit (one per line); design and raking use every respondent
#   out.csv        district, position, estimate, se, iterations, converged
# Prints "timing <step> <elapsed seconds> <cpu seconds>" per step, and per district.
#
# Two choices keep R's time what a careful R user gets (neither changes an estimate or an SE):
# * svydesign(..., check.strata = FALSE): every respondent is its own PSU (ids = ~1), so the
#   PSUs are trivially nested in the strata. The default check (check.strata = !nest) tabulates
#   PSU x stratum, 299,872 x 22,000 cells, and stops ("attempt to make a table with >= 2^31
#   elements"); nest = TRUE avoids the check but turns the PSU ids into a factor with 299,872
#   levels, and survey's onestrat() then calls unique() on that factor once per stratum, which
#   copies all its levels each time: 22,000 x 299,872 (the first run of this bench did not
#   finish 2 districts in 16 CPU minutes).
# * coef() and SE() instead of summary(): summary.svyglm also estimates the dispersion with
#   svyvar() on the whole calibrated design, which the coefficient table does not use.
# And one that R needs to converge: start = 0 (every fitted probability 1/2). With svyglm's
# default start IRLS diverged on both districts tried (coefficients of 1e16 after 100 steps):
# the binomial family starts at mu = (w y + 0.5) / (w + 1) with the prior weights w as trial
# counts, and svyglm rescales the weights to mean 1 over all 299,872 rows of the calibrated
# design, so they are ~98 inside a district, every start is near 0 or 1, and with the numeric
# `wave` (2014-2023) the first steps overshoot. From 0 it converges in 6-8 iterations.
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 5)
options(survey.lonely.psu = "adjust")
timed <- function(step, expr) {
  t <- system.time(value <- force(expr))
  cat(sprintf("timing %s %.6f %.6f\n", step, t[["elapsed"]],
              t[["user.self"]] + t[["sys.self"]]))
  flush(stdout())
  value
}
dat <- read.csv(args[[1]], stringsAsFactors = FALSE)
pop_ws <- read.csv(args[[2]], stringsAsFactors = FALSE)
pop_wa <- read.csv(args[[3]], stringsAsFactors = FALSE)
districts <- readLines(args[[4]])
design <- timed("design", svydesign(ids = ~1, strata = ~wstratum, weights = ~weight,
                                    data = dat, check.strata = FALSE))
raked <- timed("rake", rake(design, list(~ws, ~wa), list(pop_ws, pop_wa),
                            control = list(maxit = 200, epsilon = 1e-13)))
f <- unsafe ~ problem_trusler + problem_koersel + problem_narko + problem_uro + tillid_politi +
  sex + age_group + wave
# glm's convergence rule is on the relative change of the deviance; 1e-10 (R's default: 1e-8)
# leaves the coefficients at about 1e-10 (IRLS converges quadratically)
ctl <- glm.control(epsilon = 1e-10, maxit = 100)
start <- numeric(ncol(model.matrix(f, dat)))
rows <- list()
for (d in districts) {
  fit <- timed(paste0("svyglm:", d),
               svyglm(f, design = subset(raked, district == d), family = quasibinomial(),
                      start = start, control = ctl))
  est <- coef(fit)
  se <- SE(fit)
  rows[[d]] <- data.frame(district = d, position = seq_along(est) - 1L,
                          estimate = sprintf("%.17g", est), se = sprintf("%.17g", se),
                          iterations = fit$iter, converged = fit$converged)
  # written after every district, so that a run stopped by its time limit keeps what it did
  write.csv(do.call(rbind, rows), args[[5]], row.names = FALSE, quote = FALSE)
}
