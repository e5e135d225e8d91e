# R `survey` side of bench/stats_domains.py: raking per wave x stratum to sex and age margins,
# then the share answering 1-3 on q1 (8 = "don't know" out of the base) per area x wave.
#
# Usage: Rscript stats_domains.R data.csv pop_wss.csv pop_was.csv areas.txt out.csv epsilon
#   data.csv     respondents: wave, stratum, wstratum, area, sex, age, w, q1, wss, was
#   pop_wss.csv  population per wave x stratum x sex (columns wss, Freq); pop_was.csv by age
#   areas.txt    the areas to estimate (one per line); design and raking use every respondent
#   out.csv      area, wave, estimate, se for those areas
#   epsilon      rake() convergence, relative to the total weight
# Prints one line "timing <step> <seconds>" per step (elapsed time).
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 6)
elapsed <- function(expr) {
  t <- system.time(value <- force(expr))[["elapsed"]]
  list(value = value, seconds = t)
}
report <- function(step, seconds) cat(sprintf("timing %s %.6f\n", step, seconds))

read <- elapsed(read.csv(args[[1]]))
dat <- read$value
pop_wss <- read.csv(args[[2]])
pop_was <- read.csv(args[[3]])
areas <- scan(args[[4]], quiet = TRUE)
report("read_csv", read$seconds)
dat$y <- as.numeric(dat$q1 %in% 1:3)

design <- elapsed(svydesign(ids = ~1, strata = ~wstratum, weights = ~w, data = dat))
report("design", design$seconds)

raked <- elapsed(rake(design$value, list(~wss, ~was), list(pop_wss, pop_was),
                      control = list(maxit = 100, epsilon = as.numeric(args[[6]]))))
report("rake", raked$seconds)

est <- elapsed({
  sub <- subset(raked$value, q1 != 8 & area %in% areas)
  svyby(~y, ~area + wave, sub, svymean)
})
report("svyby", est$seconds)
res <- est$value
out <- data.frame(area = res$area, wave = res$wave, estimate = sprintf("%.17g", res$y),
                  se = sprintf("%.17g", SE(res)))
write.csv(out, args[[5]], row.names = FALSE, quote = FALSE)
cat(sprintf("domains %d\n", nrow(out)))
