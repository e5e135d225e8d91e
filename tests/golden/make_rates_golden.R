# Reference values for tests/stats/test_rates.py (tryg.stats.rates), computed with R spdep.
#
# Usage:  Rscript tests/golden/make_rates_golden.R [DATA_DIR] [OUT_CSV]
#   DATA_DIR  folder holding stats-anchors/ (default: $TRYG_SHARED_DATA, else ../shared/data
#             beside the project root)
#   OUT_CSV   default: rates_spdep.csv beside this script
#
# Output: one long CSV, one row per area (or per Poisson count), numbers formatted with %.15g.
#   dataset = "nc_sids"      EBest(SID74, BIR74); EBlocal with a k = 5 nearest-neighbour list on
#                            the projected county centroids (columns x, y, Euclidean distance),
#                            both geoda = FALSE (spdep default) and geoda = TRUE. The neighbour
#                            list is written too (0-based, space separated) so the Python test
#                            can check that libpysal's KNN built the same list.
#   dataset = "auckland"     EBest(Deaths.1977.85, Under.5.1981): Marshall's (1991) own data.
#   dataset = "homogeneous"  toy data whose rates vary less than Poisson noise (a < 0 -> 0).
#   dataset = "poisson_test" poisson.test(k, conf.level = level)$conf.int (Garwood interval).
# Generated with R 4.2.2 and spdep 1.2.7.

suppressPackageStartupMessages(library(spdep))

args <- commandArgs(trailingOnly = TRUE)
file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
script_dir <- if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[1]))) else "."
data_dir <- if (length(args) >= 1) args[1] else Sys.getenv(
  "TRYG_SHARED_DATA",
  file.path(dirname(dirname(dirname(script_dir))), "shared", "data")
)
out_csv <- if (length(args) >= 2) args[2] else file.path(script_dir, "rates_spdep.csv")
anchors <- file.path(data_dir, "stats-anchors")

fmt <- function(x) ifelse(is.na(x), "", sprintf("%.15g", x))

columns <- c("dataset", "area", "name", "count", "population", "level",
             "raw", "ebest", "ebest_a", "ebest_b",
             "eblocal", "eblocal_a", "eblocal_m", "eblocal_geoda", "eblocal_geoda_a",
             "ci_low", "ci_high", "neighbours")

block <- function(dataset, name, count, population, ...) {
  n <- length(count)
  out <- data.frame(dataset = rep(dataset, n), area = seq_len(n) - 1L, name = name,
                    stringsAsFactors = FALSE)
  extra <- list(count = count, population = population, ...)
  for (col in setdiff(columns, names(out))) {
    out[[col]] <- if (col %in% names(extra)) extra[[col]] else NA
  }
  out[, columns]
}

ebest_block <- function(dataset, name, k, n, ...) {
  eb <- EBest(k, n)
  p <- attr(eb, "parameters")
  block(dataset, name, k, n, raw = eb$raw, ebest = eb$estmm, ebest_a = p$a, ebest_b = p$b, ...)
}

# North Carolina SIDS 1974-78 ------------------------------------------------------------------
nc <- read.csv(file.path(anchors, "nc_sids.csv"), check.names = FALSE, stringsAsFactors = FALSE)
nb <- knn2nb(knearneigh(as.matrix(nc[, c("x", "y")]), k = 5))
loc <- EBlocal(nc$SID74, nc$BIR74, nb)
geo <- EBlocal(nc$SID74, nc$BIR74, nb, geoda = TRUE)
nb_text <- sapply(nb, function(v) paste(sort(v) - 1L, collapse = " "))
nc_out <- ebest_block("nc_sids", nc$row_name, nc$SID74, nc$BIR74,
                      eblocal = loc$est, eblocal_a = attr(loc, "parameters")$a,
                      eblocal_m = attr(loc, "parameters")$m,
                      eblocal_geoda = geo$est, eblocal_geoda_a = attr(geo, "parameters")$a,
                      neighbours = nb_text)

# Auckland under-5 mortality 1977-85 (Marshall 1991) -------------------------------------------
ak <- read.csv(file.path(anchors, "auckland.csv"), check.names = FALSE,
               colClasses = c(row_name = "character"))
ak_out <- ebest_block("auckland", ak$row_name, ak$Deaths.1977.85, ak$Under.5.1981)

# Rates that vary less than Poisson noise: the moment estimate of a is negative -------------------
hk <- c(3, 5, 7, 9, 12)
hn <- c(1000, 1500, 2400, 3100, 4000)
stopifnot(sum(hn * (hk / hn - sum(hk) / sum(hn))^2) / sum(hn) < (sum(hk) / sum(hn)) / mean(hn))
hom_out <- ebest_block("homogeneous", paste0("h", seq_along(hk)), hk, hn)

# Exact Poisson (Garwood) intervals ---------------------------------------------------------------
ks <- c(0, 1, 4, 5, 17, 250)
levels <- c(0.95, 0.90)
grid <- expand.grid(k = ks, level = levels)
ci <- t(mapply(function(k, l) poisson.test(k, conf.level = l)$conf.int, grid$k, grid$level))
pt_out <- block("poisson_test", paste0("k", grid$k), grid$k, rep(1, nrow(grid)),
                level = grid$level, ci_low = ci[, 1], ci_high = ci[, 2])

# Write ------------------------------------------------------------------------------------------
out <- rbind(nc_out, ak_out, hom_out, pt_out)
text_cols <- c("dataset", "area", "name", "neighbours")
for (col in setdiff(columns, text_cols)) out[[col]] <- fmt(out[[col]])
out$neighbours[is.na(out$neighbours)] <- ""
write.csv(out, out_csv, row.names = FALSE, quote = TRUE)
