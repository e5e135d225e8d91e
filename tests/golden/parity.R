# R side of tests/stats/test_parity_r.py: many random survey designs in one R start-up.
#
# Usage:  Rscript tests/golden/parity.R DATA_CSV SPEC_CSV TARGETS_CSV OUT_CSV
#   DATA_CSV     all datasets stacked; column id names the dataset. Columns: stratum, psu1, psu2,
#                fpc1, fpc2, w, y, z, dom, c1, c2, x (empty = missing).
#   SPEC_CSV     one row per id: strata (0/1), stages (0 = elements, 1, 2), fpc (0/1),
#                lonely (survey.lonely.psu), calib (none/poststrat/rake/linear), by (0/1).
#   TARGETS_CSV  id, margin (c1, c2, x or (Intercept)), level, total: the population figures.
#   OUT_CSV      id, stat (mean/total/proportion, lin<k>/logit<k>), domain ("" = all),
#                estimate, se, df.
#
# Regression (svyglm, na.action = na.omit): lin<k> is coefficient k (0-based) of
# y ~ x + c1 (gaussian), logit<k> of ind ~ x + c2 (quasibinomial); df is df.residual.
#
# mean and total of y and the proportion of z in {1, 2} among z not in {8} (missing and 8 are
# outside the base), overall and by dom with svyby; na.rm = TRUE throughout. df is degf() of the
# design restricted to the domain's non-missing y (the convention of tryg.stats).

suppressPackageStartupMessages(library(survey))

args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 4)
data <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = c("", "NA"))
spec <- read.csv(args[2], stringsAsFactors = FALSE, na.strings = character(0))
targets <- read.csv(args[3], stringsAsFactors = FALSE, na.strings = character(0))

fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
rows <- list()
emit <- function(id, stat, domain, est, se, df) {
  rows[[length(rows) + 1]] <<- data.frame(
    id = id, stat = stat, domain = as.character(domain), estimate = unname(est),
    se = unname(se), df = unname(df), stringsAsFactors = FALSE
  )
}

build <- function(d, s) {
  ids <- switch(as.character(s$stages), "0" = ~1, "1" = ~psu1, "2" = ~psu1 + psu2)
  strata <- if (s$strata == 1) ~stratum else NULL
  fpc <- if (s$fpc == 1) {
    if (s$stages == 2) ~fpc1 + fpc2 else ~fpc1
  } else {
    NULL
  }
  svydesign(ids = ids, strata = strata, fpc = fpc, weights = ~w, data = d, nest = TRUE)
}

calibrate_design <- function(design, s, tg) {
  margin <- function(name) {
    m <- tg[tg$margin == name, ]
    out <- data.frame(level = m$level, Freq = m$total, stringsAsFactors = FALSE)
    names(out)[1] <- name
    out
  }
  switch(s$calib,
    none = design,
    poststrat = postStratify(design, ~c1, margin("c1")),
    rake = rake(design, list(~c1, ~c2), list(margin("c1"), margin("c2")),
                control = list(maxit = 200, epsilon = 1e-13, verbose = FALSE)),
    linear = {
      c1 <- tg[tg$margin == "c1", ]
      totals <- c(tg$total[tg$margin == "(Intercept)"],
                  c1$total[c1$level != "a"], tg$total[tg$margin == "x"])
      design$variables$c1 <- factor(design$variables$c1, levels = c("a", "b", "c"))
      calibrate(design, ~c1 + x, totals)
    }
  )
}

for (i in seq_len(nrow(spec))) {
  s <- spec[i, ]
  options(survey.lonely.psu = s$lonely)
  d <- data[data$id == s$id, ]
  design <- calibrate_design(build(d, s), s, targets[targets$id == s$id, ])
  v <- design$variables
  design$variables$ind <- ifelse(is.na(v$z) | v$z == 8, NA_real_, as.numeric(v$z %in% c(1, 2)))
  base <- design[!is.na(design$variables$ind), ]
  answered <- design[!is.na(v$y), ]

  m <- svymean(~y, design, na.rm = TRUE)
  emit(s$id, "mean", "", coef(m), SE(m), degf(answered))
  tt <- svytotal(~y, design, na.rm = TRUE)
  emit(s$id, "total", "", coef(tt), SE(tt), degf(answered))
  p <- svymean(~ind, base, na.rm = TRUE)
  emit(s$id, "proportion", "", coef(p), SE(p), degf(base))
  ctl <- glm.control(epsilon = 1e-14, maxit = 100)
  ind <- design$variables$ind
  both <- all(tapply(ind, design$variables$c2, function(v) length(unique(v[!is.na(v)])) == 2))
  models <- if (all(weights(design) >= 0)) list(list("lin", y ~ x + c1, gaussian())) else list()
  if (all(weights(design) >= 0) && isTRUE(both)) {  # no logit fit on separated data
    models[[2]] <- list("logit", ind ~ x + c2, quasibinomial())
  }
  for (model in models) {  # (glm refuses negative weights, e.g. after linear calibration)
    fit <- svyglm(model[[2]], design, family = model[[3]], control = ctl)
    cf <- summary(fit)$coefficients
    for (k in seq_len(nrow(cf))) {
      emit(s$id, paste0(model[[1]], k - 1), "", cf[k, 1], cf[k, 2], fit$df.residual)
    }
  }
  if (s$by == 1) {
    bm <- svyby(~y, ~dom, design, svymean, na.rm = TRUE)
    bt <- svyby(~y, ~dom, design, svytotal, na.rm = TRUE)
    bp <- svyby(~ind, ~dom, base, svymean, na.rm = TRUE)
    for (j in seq_len(nrow(bm))) {
      lev <- as.character(bm$dom[j])
      df <- degf(answered[answered$variables$dom == lev, ])
      emit(s$id, "mean", lev, coef(bm)[j], SE(bm)[j], df)
    }
    for (j in seq_len(nrow(bt))) {
      lev <- as.character(bt$dom[j])
      df <- degf(answered[answered$variables$dom == lev, ])
      emit(s$id, "total", lev, coef(bt)[j], SE(bt)[j], df)
    }
    for (j in seq_len(nrow(bp))) {
      lev <- as.character(bp$dom[j])
      emit(s$id, "proportion", lev, coef(bp)[j], SE(bp)[j],
           degf(base[base$variables$dom == lev, ]))
    }
  }
}

out <- do.call(rbind, rows)
for (col in c("estimate", "se")) out[[col]] <- fmt(out[[col]])
write.csv(out, args[4], row.names = FALSE, na = "", quote = c(2, 3))
