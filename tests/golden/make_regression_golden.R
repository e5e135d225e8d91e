# Reference values for tests/stats/test_golden_regression.py (tryg.stats.regression), from R
# `survey`'s svyglm, regTermTest and predicted margins.
#
# Usage:  Rscript tests/golden/make_regression_golden.R [DATA_DIR] [OUT_DIR]
#   DATA_DIR  the stats-anchors folder (as make_golden.R); OUT_DIR default: this folder.
#
# Output (numbers with sprintf("%.15g")):
#   regression_coefficients.csv  case, model, domain ("" = all rows), position (0-based column
#                                of the model matrix), term (R's name), estimate, se, t, p, df
#                                (summary(svyglm): t on df.residual = degf + 1 - rank).
#   regression_tests.csv         case, model, terms, F, df, ddf, p (regTermTest, method "Wald",
#                                default df), chisq and p_chisq (the same with df = Inf).
#   regression_margins.csv       case, model, variable, level, margin, margin_se, effect,
#                                effect_se: predicted margins of a categorical variable and the
#                                average marginal effects against its first level. Computed by
#                                hand: the margins' influence values combine the spread of the
#                                predictions and the coefficients' influence (svyglm's estfun %*% naive.cov)
#                                (delta method), and svytotal() of those influence values on
#                                the design gives the covariance (svycontrast for the effects).
#                                svypredmeans() adds the two parts as if independent; this is
#                                the joint linearisation.
#
# Models: lin  api00 ~ ell + meals + mobility (gaussian)
#         cat  api00 ~ ell + stype (gaussian; regTermTest of stype)
#         logit yes ~ ell + meals + stype, yes = sch.wide == "Yes" (quasibinomial; regTermTest
#               of stype and of ell+meals; margins of stype)
# glm.control(epsilon = 1e-14, maxit = 100) so that R's IRLS error does not enter the numbers
# (replicate refits use the same control, as svyglm passes it on).
# Designs: strat_fpc, clus1_fpc, clus2_fpc, rake (clus1_fpc raked to stype and sch.wide, as
# make_golden.R), jk1_clus1 (as.svrepdesign(clus1_fpc, "JK1")), and domains: the strat_fpc and
# rake designs subset() to poor == "Yes" / "No" (poor: meals > 50).

suppressPackageStartupMessages(library(survey))

args <- commandArgs(trailingOnly = TRUE)
file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
script_dir <- if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else "."
repo_root <- dirname(dirname(script_dir))
data_dir <- if (length(args) >= 1) {
  args[1]
} else if (nzchar(Sys.getenv("TRYG_SHARED_DATA"))) {
  file.path(Sys.getenv("TRYG_SHARED_DATA"), "stats-anchors")
} else {
  file.path(dirname(repo_root), "shared", "data", "stats-anchors")
}
out_dir <- if (length(args) >= 2) args[2] else script_dir
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
read_anchor <- function(name) {
  d <- read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
  d$yes <- as.numeric(d$sch.wide == "Yes")
  d$poor <- ifelse(d$meals > 50, "Yes", "No")
  d
}
apistrat <- read_anchor("apistrat")
apiclus1 <- read_anchor("apiclus1")
apiclus2 <- read_anchor("apiclus2")
options(survey.lonely.psu = "fail")
fmt <- function(x) ifelse(is.na(x), "", sprintf("%.15g", x))
ctl <- glm.control(epsilon = 1e-14, maxit = 100)

strat_fpc <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
clus1_fpc <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
clus2_fpc <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
pop_types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
raked <- rake(clus1_fpc, list(~stype, ~sch.wide), list(pop_types, pop_schwide),
              control = list(epsilon = 1e-12, maxit = 100))
jk1 <- as.svrepdesign(clus1_fpc, type = "JK1")

designs <- list(strat_fpc = strat_fpc, clus1_fpc = clus1_fpc, clus2_fpc = clus2_fpc,
                rake = raked, jk1_clus1 = jk1)
models <- list(
  lin = list(f = api00 ~ ell + meals + mobility, family = gaussian(), tests = list()),
  cat = list(f = api00 ~ ell + stype, family = gaussian(), tests = list("stype")),
  logit = list(f = yes ~ ell + meals + stype, family = quasibinomial(),
               tests = list("stype", c("ell", "meals")))
)
domains <- list(strat_fpc = TRUE, rake = TRUE)

coef_rows <- list()
test_rows <- list()
margin_rows <- list()

record <- function(case, mname, domain, fit, spec) {
  s <- summary(fit)$coefficients
  coef_rows[[length(coef_rows) + 1]] <<- data.frame(
    case = case, model = mname, domain = domain, position = seq_len(nrow(s)) - 1L,
    term = rownames(s), estimate = fmt(s[, 1]), se = fmt(s[, 2]), t = fmt(s[, 3]),
    p = fmt(s[, 4]), df = fit$df.residual, stringsAsFactors = FALSE)
  for (tt in spec$tests) {
    tf <- as.formula(paste("~", paste(tt, collapse = "+")))
    a <- regTermTest(fit, tf)
    b <- regTermTest(fit, tf, df = Inf)
    test_rows[[length(test_rows) + 1]] <<- data.frame(
      case = case, model = mname, domain = domain, terms = paste(tt, collapse = "|"),
      F = fmt(a$Ftest), df = a$df, ddf = a$ddf, p = fmt(a$p), chisq = fmt(b$chisq),
      p_chisq = fmt(b$p), stringsAsFactors = FALSE)
  }
}

margins_by_hand <- function(case, mname, design, spec) {
  fit <- svyglm(spec$f, design = design, family = spec$family, control = ctl)
  # svyglm(influence = TRUE) has a typo in survey 4.1-1 ("estfun < ..."): the same by hand
  infl <- (model.matrix(fit) * resid(fit, "working") * fit$weights) %*% fit$naive.cov
  w <- weights(design, "sampling")
  mf <- model.frame(design)
  levels <- sort(unique(mf$stype))
  tt <- delete.response(terms(fit))
  W <- sum(w)
  z <- matrix(0, nrow(mf), length(levels))
  est <- numeric(length(levels))
  for (j in seq_along(levels)) {
    nd <- mf
    nd$stype <- levels[j]
    X <- model.matrix(tt, model.frame(tt, nd, xlev = fit$xlevels))
    eta <- drop(X %*% coef(fit))
    mu <- fit$family$linkinv(eta)
    est[j] <- sum(w * mu) / W
    grad <- colSums(w * fit$family$mu.eta(eta) * X) / W
    z[, j] <- (mu - est[j]) / W + drop(infl %*% grad) / w
  }
  colnames(z) <- paste0("z", seq_along(levels))
  d2 <- update(design, z1 = z[, 1], z2 = z[, 2], z3 = z[, 3])
  tot <- svytotal(~z1 + z2 + z3, d2)
  V <- vcov(tot)
  C <- diag(3)
  C[, 1] <- C[, 1] - 1
  eff <- drop(C %*% est)
  Ve <- C %*% V %*% t(C)
  margin_rows[[length(margin_rows) + 1]] <<- data.frame(
    case = case, model = mname, variable = "stype", level = levels, margin = fmt(est),
    margin_se = fmt(sqrt(diag(V))), effect = fmt(eff), effect_se = fmt(sqrt(pmax(diag(Ve), 0))),
    stringsAsFactors = FALSE)
}

for (case in names(designs)) {
  des <- designs[[case]]
  for (mname in names(models)) {
    spec <- models[[mname]]
    fit <- svyglm(spec$f, design = des, family = spec$family, control = ctl)
    record(case, mname, "", fit, spec)
    # (stype H is separated from sch.wide in the raked cluster sample's domains: no logit there)
    if (!is.null(domains[[case]]) && !(case == "rake" && mname == "logit")) {
      for (lv in c("No", "Yes")) {
        sub <- subset(des, poor == lv)
        fit <- svyglm(spec$f, design = sub, family = spec$family, control = ctl)
        record(case, mname, lv, fit, spec)
      }
    }
  }
  if (case %in% c("strat_fpc", "clus1_fpc", "rake")) {
    margins_by_hand(case, "logit", des, models$logit)
    margins_by_hand(case, "cat", des, models$cat)
  }
}

write.csv(do.call(rbind, coef_rows), file.path(out_dir, "regression_coefficients.csv"),
          row.names = FALSE)
write.csv(do.call(rbind, test_rows), file.path(out_dir, "regression_tests.csv"), row.names = FALSE)
write.csv(do.call(rbind, margin_rows), file.path(out_dir, "regression_margins.csv"),
          row.names = FALSE)
