# lavaan timings for the size benchmark (two-level factor models, p = 10..100).
#
# Run from the repository root, after writing the data and syntax files:
#   python bench/size_cases.py <folder>
#   Rscript bench/lavaan_sizes.R <folder-with-size-files> bench/lavaan_sizes.json
#
# For each p, reads <folder>/size_<p>.csv and <folder>/size_<p>.lav, fits
# lavaan::sem(syntax, data = d, cluster = "cluster") with the defaults (ML) and
# records the wall time (system.time elapsed; median of 3 runs for p = 10 and
# 30, one run for p = 60 and 100) and the fit. The JSON is rewritten after
# every p, so partial results survive an interrupted run.

suppressPackageStartupMessages(library(lavaan))
library(jsonlite)

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: Rscript bench/lavaan_sizes.R <folder> <output.json>")
folder <- args[1]
out <- args[2]

sizes <- c(10, 30, 60, 100)
reps <- c(3, 3, 1, 1)  # timing runs per size
results <- list()

for (i in seq_along(sizes)) {
  p <- sizes[i]
  d <- read.csv(file.path(folder, sprintf("size_%d.csv", p)))
  syntax <- paste(readLines(file.path(folder, sprintf("size_%d.lav", p))), collapse = "\n")

  # Time each run; keep the last fit and every distinct warning lavaan raised.
  warns <- character(0)
  secs <- numeric(reps[i])
  for (r in seq_len(reps[i])) {
    secs[r] <- withCallingHandlers(
      system.time(fit <- sem(syntax, data = d, cluster = "cluster"))[["elapsed"]],
      warning = function(w) {
        warns <<- unique(c(warns, conditionMessage(w)))
        invokeRestart("muffleWarning")
      })
  }

  fm <- tryCatch(fitMeasures(fit, c("logl", "unrestricted.logl", "npar", "df", "chisq")),
                 error = function(e) setNames(rep(NA_real_, 5),
                                              c("logl", "unrestricted.logl", "npar", "df", "chisq")))
  results[[length(results) + 1]] <- list(
    p = p, seconds = median(secs), runs = secs,
    converged = lavInspect(fit, "converged"),
    logl = fm[["logl"]], unrestricted.logl = fm[["unrestricted.logl"]],
    npar = as.integer(fm[["npar"]]), df = as.integer(fm[["df"]]), chisq = fm[["chisq"]],
    warnings = I(warns))
  for (w in warns) message(sprintf("p = %d warning: %s", p, w))
  message(sprintf("p = %d: %.2f s, converged = %s", p, median(secs), lavInspect(fit, "converged")))

  # Rewrite the whole file after every size.
  write_json(list(lavaan_version = as.character(packageVersion("lavaan")),
                  R_version = paste(R.version$major, R.version$minor, sep = "."),
                  estimator = "ML", results = results),
             out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null")
}
