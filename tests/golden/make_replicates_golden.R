# Reference values for tests/stats/test_replicates.py (tryg.stats.replicates), computed with the
# R package survey: replicate-weight designs, and calibration repeated in every replicate.
#
# Usage:  Rscript tests/golden/make_replicates_golden.R [DATA_DIR] [OUT_DIR]
#   DATA_DIR  folder holding stats-anchors/ (default: $TRYG_SHARED_DATA, else ../shared/data
#             beside the project root); the api data are read from there, never copied here
#   OUT_DIR   default: the folder of this script
#
# Output (numbers formatted with %.15g):
#   replicates_estimates.csv  one row per estimate: case, statistic, variable, by, domain,
#       estimate, se, ci_low, ci_high, df. Statistics: mean, total, ratio (svymean, svytotal,
#       svyratio, alone and in svyby), ciprop_logit / ciprop_beta (svyciprop, alone and in svyby;
#       the estimate is svymean's, as svyciprop's logit estimate is expit() of an IRLS fit with
#       its convergence error, and domains with p = 0 or 1 are avoided, where tryg switches to
#       the beta interval and R's logit interval comes from a glm that did not converge),
#       and design constants: degf (estimate = degf(design)), scale, rscale (one row per stratum,
#       domain = stratum). For mean/total/ratio the interval is estimate +- qt(0.975, df) * se
#       with df = degf() of the design restricted to the rows counted (the domain's rows with
#       an answer; R's svyby subsets the design like this, and svyby's own intervals use
#       df = Inf); svyciprop's interval and df are R's own (degf of the domain's subset).
#   replicates_brr_weights.csv  the BRR replicate factors (0 or 2) of the paired apistrat design,
#       keyed by snum, with the pair (stratum) of every school: the Python test reads them back
#       through ReplicateDesign.from_weights. Fay factors are rho + (1 - rho) * BRR factor.
#   replicates_boot_weights.csv  R's Rao-Wu bootstrap factors (set.seed(20240601), 50
#       replicates) of the stratified apistrat design, keyed by snum.
#
# Cases:
#   jk1_clus1      as.svrepdesign(svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1), "JK1")
#   jk1_clus1_mse  the same with mse = TRUE
#   jkn_strat      as.svrepdesign(svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc,
#                  data=apistrat), "JKn")
#   jk1_clus2      as.svrepdesign(svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2), "JK1"):
#                  two stages, the second-stage fpc is dropped (R warns); enroll has 6 NAs (na.rm)
#   ps_jk1         postStratify(jk1_clus1, ~stype, population of apipop)
#   rake_jk1       rake(jk1_clus1, list(~stype, ~sch.wide), ..., control = list(maxit = 100,
#                  epsilon = 1e-12))
#   cal_jk1        calibrate(jk1_clus1, ~stype + api99, c(6194, 755, 1018, 3914069))
#   calb_jk1       the same with bounds = c(0.4, 2.5)
#   calr_jk1       calibrate(jk1_clus1, ~api99, c(6194, 3914069), calfun = "raking")
#   brr_pairs      as.svrepdesign(type = "BRR") of apistrat with strata = pairs of schools
#                  (two schools of one stype, in snum order); also checked equal to svrepdesign()
#                  on the exported factors
#   brr_pairs_mse  the same with mse = TRUE
#   fay_pairs      as.svrepdesign(type = "Fay", fay.rho = 0.5) of the same design
#   ps_brr         postStratify(brr_pairs, ~sch.wide, population of apipop)
#   boot_strat     svrepdesign on the exported bootstrap factors with as.svrepdesign's scale
# Generated with R 4.2.2 and survey 4.1.1.

suppressPackageStartupMessages(library(survey))

args <- commandArgs(trailingOnly = TRUE)
file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
script_dir <- if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else "."
data_dir <- if (length(args) >= 1) args[1] else Sys.getenv(
  "TRYG_SHARED_DATA",
  file.path(dirname(dirname(dirname(script_dir))), "shared", "data")
)
out_dir <- if (length(args) >= 2) args[2] else script_dir
anchors <- file.path(data_dir, "stats-anchors")
read_api <- function(name) {
  read.csv(file.path(anchors, name), check.names = FALSE, stringsAsFactors = FALSE,
           colClasses = c(cds = "character"))
}
apiclus1 <- read_api("apiclus1.csv")
apiclus2 <- read_api("apiclus2.csv")
apistrat <- read_api("apistrat.csv")

fmt <- function(x) { x <- as.vector(x); ifelse(is.na(x), "", sprintf("%.15g", x)) }
rows <- list()
add <- function(case, statistic, variable, by, domain, estimate, se = NA, ci_low = NA,
                ci_high = NA, df = NA) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, statistic = statistic, variable = variable, by = by, domain = domain,
    estimate = fmt(estimate), se = fmt(se), ci_low = fmt(ci_low), ci_high = fmt(ci_high),
    df = fmt(df), stringsAsFactors = FALSE)
}
t_ci <- function(est, se, df) cbind(est - qt(0.975, df) * se, est + qt(0.975, df) * se)

# svymean / svytotal / svyratio, alone and by a factor -----------------------------------------
# df = degf() of the design restricted to the respondents counted (the domain's rows with an
# answer): the convention of tryg.stats (see make_golden.R). R's svyby subsets the design the
# same way, and [.svyrep.design recomputes degf as the rank of the remaining replicate weights.
linear_stats <- function(case, design, mean_var, total_var, num, den, by, na.rm = FALSE) {
  vars <- design$variables
  answered <- function(v) Reduce(`&`, lapply(v, function(x) !is.na(vars[[x]])))
  levels <- sort(unique(vars[[by]]))
  one <- function(statistic, variable, base, est_whole, se_whole, b) {
    df <- degf(design[base, ])
    ci <- t_ci(est_whole, se_whole, df)
    add(case, statistic, variable, "", "", est_whole, se_whole, ci[, 1], ci[, 2], df)
    stopifnot(identical(as.character(b[[by]]), as.character(levels)))
    dom_df <- sapply(levels, function(l) degf(design[base & vars[[by]] == l, ]))
    ci <- t_ci(coef(b), SE(b), dom_df)
    add(case, statistic, variable, by, levels, coef(b), SE(b), ci[, 1], ci[, 2], dom_df)
  }
  m <- svymean(make.formula(mean_var), design, na.rm = na.rm)
  one("mean", mean_var, answered(mean_var), coef(m), SE(m),
      svyby(make.formula(mean_var), make.formula(by), design, svymean, na.rm = na.rm))
  tt <- svytotal(make.formula(total_var), design, na.rm = na.rm)
  one("total", total_var, answered(total_var), coef(tt), SE(tt),
      svyby(make.formula(total_var), make.formula(by), design, svytotal, na.rm = na.rm))
  r <- svyratio(make.formula(num), make.formula(den), design, na.rm = na.rm)
  one("ratio", paste0(num, "/", den), answered(c(num, den)), coef(r), SE(r),
      svyby(make.formula(num), make.formula(by), design, svyratio,
            denominator = make.formula(den), na.rm = na.rm))
}

# svyciprop (logit and beta), alone and by a factor ------------------------------------------------
ciprop_stats <- function(case, design, variable, code, by) {
  stopifnot(!anyNA(design$variables[[variable]]))  # so R's own df is the base's
  f <- as.formula(sprintf("~I(%s == \"%s\")", variable, code))
  indicator <- as.formula(sprintf("~as.numeric(%s == \"%s\")", variable, code))
  levels <- sort(unique(design$variables[[by]]))
  dom_df <- sapply(levels, function(l) degf(design[design$variables[[by]] == l, ]))
  m <- svymean(indicator, design)
  mb <- svyby(indicator, make.formula(by), design, svymean)
  stopifnot(all(coef(mb) > 0 & coef(mb) < 1))  # no degenerate domain: see the header
  for (method in c("logit", "beta")) {
    p <- svyciprop(f, design, method = method)
    ci <- attr(p, "ci")
    add(case, paste0("ciprop_", method), paste0(variable, "=", code), "", "", coef(m),
        sqrt(vcov(p)), ci[1], ci[2], degf(design))
    b <- svyby(f, make.formula(by), design, svyciprop, method = method, vartype = c("se", "ci"))
    stopifnot(identical(as.character(b[[by]]), as.character(levels)))
    add(case, paste0("ciprop_", method), paste0(variable, "=", code), by, levels, coef(mb),
        SE(b), b[["ci_l"]], b[["ci_u"]], dom_df)
  }
}

constants <- function(case, design) {
  add(case, "degf", "", "", "", degf(design))
  add(case, "scale", "", "", "", design$scale)
}

pop_types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))

# JK1: one-stage cluster sample of districts ------------------------------------------------------
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
jk1 <- as.svrepdesign(dclus1, type = "JK1")
constants("jk1_clus1", jk1)
linear_stats("jk1_clus1", jk1, "api00", "enroll", "api00", "api99", "stype")
ciprop_stats("jk1_clus1", jk1, "sch.wide", "Yes", "stype")
jk1_mse <- as.svrepdesign(dclus1, type = "JK1", mse = TRUE)
linear_stats("jk1_clus1_mse", jk1_mse, "api00", "enroll", "api00", "api99", "stype")
ciprop_stats("jk1_clus1_mse", jk1_mse, "sch.wide", "Yes", "stype")

# JKn: stratified sample with fpc -------------------------------------------------------------------
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
jkn <- as.svrepdesign(dstrat, type = "JKn")
constants("jkn_strat", jkn)
strata_of_rep <- sapply(seq_len(ncol(jkn$repweights$weights)), function(r) {
  unique(apistrat$stype[weights(jkn, "replication")[, r] == 0])
})
for (s in sort(unique(apistrat$stype))) {
  add("jkn_strat", "rscale", "", "stype", s, unique(jkn$rscales[strata_of_rep == s]))
}
linear_stats("jkn_strat", jkn, "api00", "enroll", "api00", "api99", "sch.wide")
ciprop_stats("jkn_strat", jkn, "awards", "Yes", "stype")

# JK1 of a two-stage design, with missing values ----------------------------------------------------
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
jk2 <- suppressWarnings(as.svrepdesign(dclus2, type = "JK1"))  # drops the 2nd-stage fpc
constants("jk1_clus2", jk2)
linear_stats("jk1_clus2", jk2, "enroll", "enroll", "api.stu", "enroll", "stype", na.rm = TRUE)

# Calibration repeated in every replicate ----------------------------------------------------------
ps <- postStratify(jk1, ~stype, pop_types)
constants("ps_jk1", ps)
linear_stats("ps_jk1", ps, "api00", "enroll", "api00", "api99", "sch.wide")
ciprop_stats("ps_jk1", ps, "awards", "Yes", "stype")

rk <- rake(jk1, list(~stype, ~sch.wide), list(pop_types, pop_schwide),
           control = list(maxit = 100, epsilon = 1e-12))
constants("rake_jk1", rk)
linear_stats("rake_jk1", rk, "api00", "enroll", "api00", "api99", "stype")

cal_pop <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
cal <- calibrate(jk1, ~stype + api99, cal_pop)
constants("cal_jk1", cal)
linear_stats("cal_jk1", cal, "api00", "enroll", "api00", "api99", "sch.wide")
ciprop_stats("cal_jk1", cal, "awards", "Yes", "stype")

calb <- calibrate(jk1, ~stype + api99, cal_pop, bounds = c(0.4, 2.5))
constants("calb_jk1", calb)
linear_stats("calb_jk1", calb, "api00", "enroll", "api00", "api99", "sch.wide")

calr <- calibrate(jk1, ~api99, c(`(Intercept)` = 6194, api99 = 3914069), calfun = "raking")
constants("calr_jk1", calr)
linear_stats("calr_jk1", calr, "api00", "enroll", "api00", "api99", "sch.wide")

# BRR and Fay on pairs of schools ----------------------------------------------------------------
rank_in_type <- ave(apistrat$snum, apistrat$stype, FUN = function(x) rank(x, ties.method = "first"))
apistrat$pair <- sprintf("%s%02d", apistrat$stype, (rank_in_type - 1) %/% 2)
stopifnot(all(table(apistrat$pair) == 2), !anyDuplicated(apistrat$snum))
dpairs <- svydesign(id = ~1, strata = ~pair, weights = ~pw, data = apistrat)
brr <- as.svrepdesign(dpairs, type = "BRR")
factors <- weights(brr, "replication")
colnames(factors) <- paste0("brr_", seq_len(ncol(factors)))
stopifnot(all(factors %in% c(0, 2)))
constants("brr_pairs", brr)
linear_stats("brr_pairs", brr, "api00", "enroll", "api00", "api99", "stype")
ciprop_stats("brr_pairs", brr, "sch.wide", "Yes", "stype")
# the same design from the exported factors (the route of ReplicateDesign.from_weights)
withfactors <- cbind(apistrat, factors)
brr2 <- svrepdesign(data = withfactors, repweights = "brr_[0-9]+", weights = ~pw, type = "BRR",
                    combined.weights = FALSE)
stopifnot(isTRUE(all.equal(SE(svymean(~api00, brr2)), SE(svymean(~api00, brr)), tolerance = 1e-14)),
          degf(brr2) == degf(brr))
brr_mse <- as.svrepdesign(dpairs, type = "BRR", mse = TRUE)
linear_stats("brr_pairs_mse", brr_mse, "api00", "enroll", "api00", "api99", "stype")

fay <- as.svrepdesign(dpairs, type = "Fay", fay.rho = 0.5)
stopifnot(isTRUE(all.equal(unname(weights(fay, "replication")), unname(0.5 + 0.5 * factors))))
constants("fay_pairs", fay)
linear_stats("fay_pairs", fay, "api00", "enroll", "api00", "api99", "stype")
ciprop_stats("fay_pairs", fay, "sch.wide", "Yes", "stype")

psb <- postStratify(brr, ~sch.wide, pop_schwide)
constants("ps_brr", psb)
linear_stats("ps_brr", psb, "api00", "enroll", "api00", "api99", "stype")

# Bootstrap: R's random replicates, exported and read back -----------------------------------------
set.seed(20240601)
boot <- as.svrepdesign(dstrat, type = "bootstrap", replicates = 50)
boot_factors <- weights(boot, "replication")
colnames(boot_factors) <- paste0("boot_", seq_len(ncol(boot_factors)))
constants("boot_strat", boot)
linear_stats("boot_strat", boot, "api00", "enroll", "api00", "api99", "sch.wide")

# Write -----------------------------------------------------------------------------------------
write.csv(do.call(rbind, rows), file.path(out_dir, "replicates_estimates.csv"),
          row.names = FALSE)
write.csv(data.frame(snum = apistrat$snum, pair = apistrat$pair, factors),
          file.path(out_dir, "replicates_brr_weights.csv"), row.names = FALSE)
write.csv(data.frame(snum = apistrat$snum, boot_factors),
          file.path(out_dir, "replicates_boot_weights.csv"), row.names = FALSE)
