# Reference values for tests/stats/test_golden_survey.py (tryg.stats), computed with R `survey`.
#
# Usage:  Rscript tests/golden/make_golden.R [DATA_DIR] [OUT_DIR]
#   DATA_DIR  the stats-anchors folder with apisrs.csv, apistrat.csv, apiclus1.csv, apiclus2.csv
#             and fpc.csv (default: $TRYG_SHARED_DATA/stats-anchors, else
#             ../shared/data/stats-anchors relative to the repository root). A folder that
#             *contains* stats-anchors/ is accepted too. The data are never copied into the repo.
#   OUT_DIR   default: the folder of this script (tests/golden/)
#
# Output (numbers written with sprintf("%.15g")):
#   survey_estimates.csv  one row per estimate: case, stat (mean/total/ratio/proportion),
#                         variable (ratio: "num/den"), codes and exclude (proportions; several
#                         values separated by "|"), by and domain ("" = whole population;
#                         several by columns and values separated by "|"), ci (t/normal/logit/
#                         beta), estimate, se, ci_low, ci_high, deff, df.
#   survey_weights.csv    case, row (0-based), weight: the weights after postStratify, rake,
#                         calibrate and trimWeights.
#   survey_versions.txt   R and package versions (sessionInfo()).
#
# Conventions (the same as tryg.stats):
#   * Missing answers are dropped (na.rm=TRUE). A domain's estimate is the estimate on the
#     subset design (svyby / subset()), which R computes with the full design's strata and PSUs.
#   * ci="t": estimate -/+ qt(0.975, df) * se with df = degf() of the subset design holding the
#     domain's respondents with a non-missing answer. ci="normal": R's default confint().
#   * deff is R's deff=TRUE (SRS without replacement, computed on the domain).
#   * Proportions: svyciprop(method="logit" or "beta") on the design restricted to the
#     non-missing base (by domain through svyby(..., svyciprop, vartype="ci")), so that the
#     default df = degf(design) and, for "beta", nrow(design) - 1 refer to the base. The
#     estimate column is svymean's (svyciprop's "logit" point estimate is expit() of an IRLS fit
#     and carries its ~1e-9 convergence error); se and deff are svymean's too. Beta intervals
#     are written only for designs without calibration (on a calibrated design R's subset keeps
#     all rows, so nrow(design) - 1 is the full sample size; tryg uses the domain's n - 1).
#   * rake() is run with control=list(epsilon=1e-12, maxit=100): the default epsilon=1 stops
#     before convergence.
#   * Lonely PSUs: options(survey.lonely.psu=...) is set while each lonely_* case is computed.
#
# Generated with R 4.2.2 and survey 4.1-1 (Debian r-cran-survey); see survey_versions.txt.

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
if (!file.exists(file.path(data_dir, "apistrat.csv")) &&
    file.exists(file.path(data_dir, "stats-anchors", "apistrat.csv"))) {
  data_dir <- file.path(data_dir, "stats-anchors")
}
if (!file.exists(file.path(data_dir, "apistrat.csv"))) {
  stop("no apistrat.csv in ", data_dir, " (pass the stats-anchors folder as first argument)")
}
out_dir <- if (length(args) >= 2) args[2] else script_dir
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

read_anchor <- function(name) {
  read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
}
apisrs <- read_anchor("apisrs")
apistrat <- read_anchor("apistrat")
apiclus1 <- read_anchor("apiclus1")
apiclus2 <- read_anchor("apiclus2")
fpc <- read_anchor("fpc")
fpc$xgt4 <- ifelse(fpc$x > 4, "yes", "no")  # the domain of R's tests/domain.R (x > 4)

options(survey.lonely.psu = "fail")
LEVEL <- 0.95

fmt <- function(x) ifelse(is.na(x), "", sprintf("%.15g", x))

estimates <- list()
weight_rows <- list()

emit <- function(case, stat, variable, codes, exclude, by, domain, ci, est, se, lo, hi, deff, df) {
  estimates[[length(estimates) + 1]] <<- data.frame(
    case = case, stat = stat, variable = variable, codes = codes, exclude = exclude,
    by = by, domain = as.character(domain), ci = ci,
    estimate = unname(est), se = unname(se), ci_low = unname(lo), ci_high = unname(hi),
    deff = unname(deff), df = unname(df), stringsAsFactors = FALSE
  )
}

emit_weights <- function(case, design) {
  w <- weights(design)
  weight_rows[[length(weight_rows) + 1]] <<- data.frame(
    case = case, row = seq_along(w) - 1L, weight = unname(w), stringsAsFactors = FALSE
  )
}

quant <- function(ci, df) {
  if (ci != "t") return(qnorm(1 - (1 - LEVEL) / 2))
  if (df > 0) qt(1 - (1 - LEVEL) / 2, df) else NA_real_  # no degrees of freedom: no interval
}

# The rows that form a domain's base: in the domain (by columns equal to the values) and with
# every analysis variable answered.
base_rows <- function(design, vars, by = NULL, values = NULL) {
  v <- design$variables
  keep <- rep(TRUE, nrow(v))
  for (x in vars) keep <- keep & !is.na(v[[x]])
  if (!is.null(by)) {
    for (i in seq_along(by)) keep <- keep & !is.na(v[[by[i]]]) & v[[by[i]]] == values[i]
  }
  keep
}

domain_degf <- function(design, vars, by = NULL, values = NULL) {
  degf(design[base_rows(design, vars, by, values), ])
}

bq <- function(x) paste0("`", x, "`")
one_sided <- function(vars) as.formula(paste("~", paste(bq(vars), collapse = "+")))

# Domains of a svyby result: the by values of each row, as character vectors.
by_values <- function(b, by) lapply(seq_len(nrow(b)), function(i) {
  vapply(by, function(col) as.character(b[[col]][i]), "")
})

# mean / total / ratio, overall (by = NULL) or per domain through svyby.
estimate <- function(case, design, stat, variable, by = NULL, ci = "t", denominator = NULL) {
  vars <- c(variable, denominator)
  label <- if (is.null(denominator)) variable else paste0(variable, "/", denominator)
  fn <- switch(stat, mean = svymean, total = svytotal, ratio = svyratio)
  if (is.null(by)) {
    res <- if (stat == "ratio") {
      svyratio(one_sided(variable), one_sided(denominator), design, na.rm = TRUE, deff = TRUE)
    } else {
      fn(one_sided(variable), design, na.rm = TRUE, deff = TRUE)
    }
    df <- domain_degf(design, vars)
    results <- list(list(values = "", est = coef(res), se = SE(res), deff = deff(res), df = df))
  } else {
    b <- if (stat == "ratio") {
      svyby(one_sided(variable), one_sided(by), design, svyratio,
            denominator = one_sided(denominator), na.rm = TRUE, deff = TRUE)
    } else {
      svyby(one_sided(variable), one_sided(by), design, fn, na.rm = TRUE, deff = TRUE)
    }
    vals <- by_values(b, by)
    est <- coef(b)
    se <- SE(b)
    de <- deff(b)
    results <- lapply(seq_along(vals), function(i) list(
      values = paste(vals[[i]], collapse = "|"), est = est[i], se = se[i], deff = de[i],
      df = domain_degf(design, vars, by, vals[[i]])
    ))
  }
  for (r in results) {
    q <- quant(ci, r$df)
    emit(case, stat, label, "", "", paste(by, collapse = "|"), r$values, ci,
         r$est, r$se, r$est - q * r$se, r$est + q * r$se, r$deff, r$df)
  }
}

# svyglm (inside svyciprop) notes that zero-weight rows of a calibrated domain are not used
# for the dispersion, which does not enter the interval; that note alone is silenced.
quietly <- function(expr) withCallingHandlers(expr, warning = function(w) {
  if (grepl("observations with zero weight not used", conditionMessage(w))) {
    invokeRestart("muffleWarning")
  }
})

# A proportion of answers in `codes` among answers not in `exclude` (and not missing).
proportion <- function(case, design, variable, codes, exclude = character(0), by = NULL,
                       methods = c("logit", "beta")) {
  raw <- design$variables[[variable]]
  ind <- ifelse(is.na(raw) | raw %in% exclude, NA_real_, as.numeric(raw %in% codes))
  design$variables$ind_ <- ind
  base <- design[!is.na(ind), ]
  for (method in methods) {
    if (is.null(by)) {
      p <- quietly(svyciprop(~ind_, base, method = method, level = LEVEL, na.rm = TRUE))
      m <- svymean(~ind_, base, deff = TRUE, na.rm = TRUE)
      results <- list(list(values = "", est = coef(m), se = SE(m), deff = deff(m),
                           lo = attr(p, "ci")[1], hi = attr(p, "ci")[2], df = degf(base)))
    } else {
      b <- quietly(svyby(~ind_, one_sided(by), base, svyciprop, vartype = c("se", "ci"),
                         method = method, level = LEVEL, na.rm = TRUE))
      bm <- svyby(~ind_, one_sided(by), base, svymean, deff = TRUE, na.rm = TRUE)
      vals <- by_values(b, by)
      stopifnot(identical(vals, by_values(bm, by)))
      results <- lapply(seq_along(vals), function(i) list(
        values = paste(vals[[i]], collapse = "|"), est = coef(bm)[i], se = SE(bm)[i],
        deff = deff(bm)[i], lo = b$ci_l[i], hi = b$ci_u[i],
        df = domain_degf(base, "ind_", by, vals[[i]])
      ))
    }
    for (r in results) {
      emit(case, "proportion", variable, paste(codes, collapse = "|"),
           paste(exclude, collapse = "|"), paste(by, collapse = "|"), r$values, method,
           r$est, r$se, r$lo, r$hi, r$deff, r$df)
    }
  }
}

# The usual battery of estimates on an api* design.
api_suite <- function(case, design, calibrated = FALSE) {
  estimate(case, design, "mean", "api00")
  estimate(case, design, "mean", "api00", ci = "normal")
  estimate(case, design, "total", "enroll")
  estimate(case, design, "mean", "api00", by = "stype")
  estimate(case, design, "total", "enroll", by = "stype")
  estimate(case, design, "mean", "target")  # 20 missing in apistrat: na.rm = TRUE
  estimate(case, design, "mean", "target", by = "stype")
  estimate(case, design, "ratio", "api00", denominator = "api99")
  estimate(case, design, "ratio", "api00", denominator = "api99", by = "stype")
  methods <- if (calibrated) "logit" else c("logit", "beta")
  proportion(case, design, "sch.wide", "Yes", methods = methods)
  proportion(case, design, "sch.wide", "Yes", by = "stype", methods = methods)
  proportion(case, design, "stype", c("E", "M"), by = "awards", methods = methods)
  if (!calibrated && length(unique(design$strata[, 1])) == 1) {
    # answers outside the base: the share of elementary schools among E and H schools (not on
    # designs stratified or calibrated by stype, where this share has no sampling variance)
    proportion(case, design, "stype", "E", exclude = "M", methods = methods)
    proportion(case, design, "stype", "E", exclude = "M", by = "sch.wide", methods = methods)
  }
}

# ---- simple random sample: with fpc (weights from the fpc) and with replacement -------------
srs_fpc <- svydesign(id = ~1, fpc = ~fpc, data = apisrs)
api_suite("srs_fpc", srs_fpc)
srs_wr <- svydesign(id = ~1, weights = ~pw, data = apisrs)
api_suite("srs_wr", srs_wr)

# ---- stratified, with and without fpc; a cname domain ----------------------------------------
strat_fpc <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
api_suite("strat_fpc", strat_fpc)
la <- subset(strat_fpc, cname == "Los Angeles")
m <- svymean(~api00, la, deff = TRUE)
df <- degf(la)
q <- quant("t", df)
emit("strat_fpc", "mean", "api00", "", "", "cname", "Los Angeles", "t", coef(m), SE(m),
     coef(m) - q * SE(m), coef(m) + q * SE(m), deff(m), df)
estimate("strat_fpc", la, "mean", "api00", by = c("cname", "stype"))
estimate("strat_fpc", la, "total", "enroll", by = c("cname", "stype"))
proportion("strat_fpc", la, "sch.wide", "Yes", by = c("cname", "stype"))
strat_nofpc <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat)
estimate("strat_nofpc", strat_nofpc, "mean", "api00")
estimate("strat_nofpc", strat_nofpc, "total", "enroll", by = "sch.wide")
proportion("strat_nofpc", strat_nofpc, "awards", "Yes", by = "stype")

# ---- one-stage cluster sample, with and without fpc ------------------------------------------
clus1_fpc <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
api_suite("clus1_fpc", clus1_fpc)
clus1_wr <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
api_suite("clus1_wr", clus1_wr)

# ---- two-stage cluster sample: with fpc1 + fpc2, and the ultimate-cluster variance -----------
clus2_fpc <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
api_suite("clus2_fpc", clus2_fpc)
clus2_uc <- svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2)
api_suite("clus2_uc", clus2_uc)

# ---- R's tests/domain.R example, with and without fpc ----------------------------------------
for (with_fpc in c(FALSE, TRUE)) {
  case <- if (with_fpc) "fpcdata_fpc" else "fpcdata_nofpc"
  d <- if (with_fpc) {
    svydesign(weights = ~weight, ids = ~psuid, strata = ~stratid, variables = ~x + xgt4,
              data = fpc, nest = TRUE, fpc = ~Nh)
  } else {
    svydesign(weights = ~weight, ids = ~psuid, strata = ~stratid, variables = ~x + xgt4,
              data = fpc, nest = TRUE)
  }
  estimate(case, d, "mean", "x")
  estimate(case, d, "total", "x")
  estimate(case, d, "mean", "x", by = "xgt4")
  estimate(case, d, "total", "x", by = "xgt4")
  # domain.R: the subset gives the same answer as domain estimation
  sub <- subset(d, x > 4)
  stopifnot(isTRUE(all.equal(as.vector(SE(svymean(~x, sub))),
                             as.vector(SE(svyby(~x, ~xgt4, d, svymean)))[2])))
  proportion(case, d, "xgt4", "yes")
}

# ---- post-stratification, raking, calibration, trimming (on clus1_fpc) -----------------------
pop_types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
cal_totals <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)

poststrat <- postStratify(clus1_fpc, ~stype, pop_types)
api_suite("poststrat", poststrat, calibrated = TRUE)
emit_weights("poststrat", poststrat)

raked <- rake(clus1_fpc, list(~stype, ~sch.wide), list(pop_types, pop_schwide),
              control = list(maxit = 100, epsilon = 1e-12, verbose = FALSE))
api_suite("rake", raked, calibrated = TRUE)
emit_weights("rake", raked)

cal_linear <- calibrate(clus1_fpc, ~stype + api99, cal_totals)
api_suite("cal_linear", cal_linear, calibrated = TRUE)
estimate("cal_linear", cal_linear, "total", "api99")  # the calibration total: SE ~ 0
emit_weights("cal_linear", cal_linear)

cal_bounded <- calibrate(clus1_fpc, ~stype + api99, cal_totals, bounds = c(0.5, 2))
stopifnot(min(weights(cal_bounded) / weights(clus1_fpc)) > 0.5 - 1e-9)
api_suite("cal_bounded", cal_bounded, calibrated = TRUE)
emit_weights("cal_bounded", cal_bounded)

cal_raking <- calibrate(clus1_fpc, ~stype + api99, cal_totals, calfun = "raking")
api_suite("cal_raking", cal_raking, calibrated = TRUE)
emit_weights("cal_raking", cal_raking)

trim_strat <- trimWeights(strat_fpc, upper = 40)
api_suite("trim_strat", trim_strat)
emit_weights("trim_strat", trim_strat)

trim_cal <- trimWeights(cal_linear, lower = 20, upper = 50, strict = TRUE)
api_suite("trim_cal", trim_cal, calibrated = TRUE)
emit_weights("trim_cal", trim_cal)

# ---- lonely PSUs ------------------------------------------------------------------------------
# lonely_*: apistrat with a single high school (stratum H has one PSU), with fpc.
# lonelyclus_*: apistrat clustered in districts, stratum H reduced to district 401 (3 schools),
# without fpc.
first_h <- which(apistrat$stype == "H")[1]
one_h <- apistrat[apistrat$stype != "H" | seq_len(nrow(apistrat)) == first_h, ]
district_h <- apistrat[apistrat$stype != "H" | apistrat$dnum == 401, ]
for (lonely in c("certainty", "remove", "adjust", "average")) {
  options(survey.lonely.psu = lonely)
  d <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = one_h)
  case <- paste0("lonely_", lonely)
  estimate(case, d, "mean", "api00")
  estimate(case, d, "total", "enroll")
  estimate(case, d, "mean", "api00", by = "awards")
  estimate(case, d, "total", "enroll", by = "awards")
  proportion(case, d, "yr.rnd", "Yes", by = "awards", methods = "logit")
  d <- svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = district_h, nest = TRUE)
  case <- paste0("lonelyclus_", lonely)
  estimate(case, d, "mean", "api00")
  estimate(case, d, "total", "enroll")
  estimate(case, d, "mean", "api00", by = "awards")
  estimate(case, d, "total", "enroll", by = "awards")
  proportion(case, d, "yr.rnd", "Yes", by = "awards", methods = "logit")
}
options(survey.lonely.psu = "fail")

# ---- write ------------------------------------------------------------------------------------
write_table <- function(frame, path) {
  text <- which(vapply(frame, is.character, TRUE))
  for (col in names(frame)) if (is.numeric(frame[[col]]) && !is.integer(frame[[col]])) {
    frame[[col]] <- fmt(frame[[col]])
  }
  write.csv(frame, path, row.names = FALSE, na = "", quote = text)
}
write_table(do.call(rbind, estimates), file.path(out_dir, "survey_estimates.csv"))
write_table(do.call(rbind, weight_rows), file.path(out_dir, "survey_weights.csv"))

info <- sessionInfo()
pkgs <- c(info$otherPkgs, info$loadedOnly)
versions <- c(
  paste("R:", R.version.string),
  paste("platform:", info$platform),
  paste("running:", info$running),
  paste("BLAS:", info$BLAS),
  paste("LAPACK:", info$LAPACK),
  vapply(sort(names(pkgs)), function(p) paste0(p, ": ", pkgs[[p]]$Version), "")
)
writeLines(versions, file.path(out_dir, "survey_versions.txt"))
