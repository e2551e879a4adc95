# Shared helpers for the lavaan_extra reference cases.
#
# Each case's generator.R sources this file, builds its data, and calls
# run_case(). Everything here uses only lavaan + jsonlite.
#
# Conventions (see the brief / README of the "syntax" reference format):
#  * data are written with write.csv (15 significant digits, NA for missing)
#    and READ BACK; all fits use the data exactly as read from the file;
#  * ML:  se = lavaan default (observed information for two-level models),
#         se_expected = same model refitted with information = "expected";
#  * MLR: se = lavaan default robust (sandwich, observed-information bread),
#         se_expected_bread = refitted with information = "expected";
#  * lavaan warnings are collected per fit, convergence is recorded.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

# Folder of the running script (works for `Rscript path/to/generator.R`).
script_dir <- function() {
  arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(arg) == 0L) return(getwd())
  dirname(normalizePath(sub("^--file=", "", arg[1L])))
}

# Write a data.frame to csv (15 significant digits, "NA") and read it back.
write_and_read <- function(d, path) {
  write.csv(d, path, row.names = FALSE, na = "NA")
  read.csv(path)
}

# Evaluate expr, collecting warnings (muffled, but also echoed to stderr).
with_warnings <- function(expr) {
  warns <- character(0)
  value <- withCallingHandlers(expr, warning = function(w) {
    msg <- conditionMessage(w)
    warns <<- c(warns, msg)
    message("  [warning] ", msg)
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = unique(warns))
}

# Call sem() on the data with cluster = "cluster" and extra arguments `args`.
fit_with_warnings <- function(syntax, data, args) {
  r <- with_warnings(
    do.call("sem", c(list(model = syntax, data = data, cluster = "cluster"), args)))
  list(fit = r$value, warnings = r$warnings)
}

# Median elapsed time of 3 plain sem() calls.
time_fit <- function(syntax, data, args) {
  t <- replicate(3, system.time(suppressWarnings(
    do.call("sem", c(list(model = syntax, data = data, cluster = "cluster"), args))
  ))["elapsed"])
  median(as.numeric(t))
}

# Key identifying a parameter row (block distinguishes level 1 / level 2).
pe_key <- function(pe) paste(pe$lhs, pe$op, pe$rhs, pe$block, sep = "|")

# Parameter table of `fit` with the SEs of `fit_alt` added under `alt_name`.
param_rows <- function(fit, fit_alt, alt_name) {
  pe <- parameterEstimates(fit, ci = FALSE, zstat = FALSE, pvalue = FALSE,
                           remove.nonfree = FALSE)
  pt <- parTable(fit)
  free <- pt$free[match(pe_key(pe), pe_key(pt))] > 0
  alt <- parameterEstimates(fit_alt, ci = FALSE, zstat = FALSE, pvalue = FALSE,
                            remove.nonfree = FALSE)
  se_alt <- alt$se[match(pe_key(pe), pe_key(alt))]
  lev <- if (!is.null(pe$level)) pe$level else pe$block
  lab <- if (!is.null(pe$label)) pe$label else rep("", nrow(pe))
  out <- data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
                    level = ifelse(lev == 1, "within", "between"),
                    label = lab, free = free, est = pe$est, se = pe$se,
                    stringsAsFactors = FALSE)
  out[[alt_name]] <- se_alt
  out
}

# Selected fit measures (plus convergence, N and J).
fit_rows <- function(fit, robust = FALSE) {
  keys <- c("logl", "unrestricted.logl", "npar", "df", "chisq", "pvalue",
            "baseline.chisq", "baseline.df", "cfi", "tli", "rmsea",
            "srmr_within", "srmr_between")
  if (robust) keys <- c(keys, "chisq.scaled", "chisq.scaling.factor",
                        "pvalue.scaled", "baseline.chisq.scaled",
                        "cfi.robust", "tli.robust")
  fm <- fitMeasures(fit)
  out <- lapply(keys, function(k) if (k %in% names(fm)) unname(fm[[k]]) else NA)
  names(out) <- keys
  names(out)[names(out) == "rmsea"] <- "rmsea_lavaan"
  out$converged <- isTRUE(lavInspect(fit, "converged"))
  out$ntotal <- lavInspect(fit, "ntotal")
  out$nclusters <- lavInspect(fit, "nclusters")
  out
}

# Fit one estimator (default SEs + "expected" refit); returns a list for JSON
# or list(error = msg) if lavaan fails.
fit_estimator <- function(syntax, data, options, estimator) {
  args <- c(list(estimator = estimator), options)
  res <- tryCatch({
    main <- fit_with_warnings(syntax, data, args)
    alt <- fit_with_warnings(syntax, data, c(args, list(information = "expected")))
    robust <- estimator == "MLR"
    fm <- with_warnings(fit_rows(main$fit, robust = robust))
    list(fit = fm$value,
         parameters = param_rows(main$fit, alt$fit,
                                 if (robust) "se_expected_bread" else "se_expected"),
         warnings = I(main$warnings),
         warnings_expected = I(alt$warnings),
         warnings_fitmeasures = I(fm$warnings))
  }, error = function(e) {
    call <- conditionCall(e)
    list(error = paste0(if (!is.null(call)) paste0("Error in ", deparse(call)[1], ": ") else "",
                        conditionMessage(e)))
  })
  res
}

to_json_file <- function(x, path) {
  writeLines(toJSON(x, auto_unbox = TRUE, digits = NA, null = "null",
                    na = "null", pretty = TRUE), path)
}

# Run a complete "syntax" case and write <dir>/expected.json.
run_case <- function(dir, case, description, syntax, data, options = list(),
                     estimators = c("ML", "MLR"), data_file = "data.csv") {
  if (length(options) == 0L) options <- structure(list(), names = character(0))
  reference <- list(source = paste0(
    "lavaan ", packageDescription("lavaan")$Version, " sem(syntax, cluster = \"cluster\", ",
    "estimator =, options, lavaan default convergence) on data.csv as read by read.csv; ",
    "ML se = default (observed) information, se_expected = information = 'expected'; ",
    "MLR se = robust.huber.white with observed bread (lavaan default), ",
    "se_expected_bread = information = 'expected'"))
  seconds <- structure(list(), names = character(0))
  for (est in estimators) {
    message(case, ": fitting ", est)
    reference[[est]] <- fit_estimator(syntax, data, options, est)
    if (is.null(reference[[est]]$error))
      seconds[[est]] <- time_fit(syntax, data, c(list(estimator = est), options))
  }
  out <- list(case = case, description = description, data = data_file,
              generator = "generator.R", format = "syntax", syntax = syntax,
              clusters = "cluster", options = options,
              reference = reference, lavaan_seconds = seconds)
  to_json_file(out, file.path(dir, "expected.json"))
  invisible(out)
}
