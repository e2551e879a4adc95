# Scaled chi-square difference tests (MLR) between two nested two-level CFAs
# on the data of the existing reference case levels_cfa (Demo.twolevel y1..y6):
#   (a) levels_cfa:          loadings free per level      (less restricted)
#   (b) mlr_shared_loadings: loadings equal across levels (nested in a)
# lavTestLRT(fit_a, fit_b, method = "satorra.bentler.2001" / "satorra.bentler.2010").
# The data are only referred to, not copied.
# Run from the project root:
#   Rscript tests/data/lavaan_extra/lrt_sb2001/generator.R
arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
here <- if (length(arg)) dirname(normalizePath(sub("^--file=", "", arg[1]))) else getwd()
source(file.path(here, "..", "_common.R"))

# The reference cases of the project (tests/data/reference).
ref_dir <- normalizePath(file.path(here, "..", "..", "reference"))
data_path <- file.path(ref_dir, "levels_cfa", "data.csv")
d <- read.csv(data_path)
syntax_a <- fromJSON(file.path(ref_dir, "levels_cfa", "expected.json"))$syntax
syntax_b <- fromJSON(file.path(ref_dir, "mlr_shared_loadings", "expected.json"))$syntax

fa <- fit_with_warnings(syntax_a, d, list(estimator = "MLR"))
fb <- fit_with_warnings(syntax_b, d, list(estimator = "MLR"))
fit_a <- fa$fit
fit_b <- fb$fit

# Per-model summary (standard and scaled statistics, as used by the tests).
model_info <- function(fit, warns) {
  fm <- fitMeasures(fit, c("npar", "df", "logl", "chisq", "chisq.scaled",
                           "chisq.scaling.factor"))
  c(as.list(unclass(fm)), list(converged = isTRUE(lavInspect(fit, "converged")),
                               warnings = I(warns)))
}

# lavTestLRT table as a list of rows, plus lavaan's internal difference-test
# scaling factor (lavTestLRT does not expose it; recomputed with the same
# internal function lavTestLRT calls; models ordered by df as lavTestLRT does).
lrt_rows <- function(method) {
  r <- with_warnings(lavTestLRT(fit_a, fit_b, method = method))
  tab <- as.data.frame(r$value)
  rows <- lapply(seq_len(nrow(tab)), function(i) {
    c(list(model = rownames(tab)[i]), as.list(tab[i, , drop = TRUE]))
  })
  fun <- switch(method,
    satorra.bentler.2001 = function(m1, m0) lavaan:::lav_test_diff_SatorraBentler2001(m1, m0),
    satorra.bentler.2010 = function(m1, m0) lavaan:::lav_test_diff_SatorraBentler2010(m1, m0, H1 = FALSE))
  internal <- with_warnings(fun(fit_a, fit_b))$value  # m1 = less restricted (a), m0 = restricted (b)
  list(table = rows,
       scaling.factor = internal$scaling.factor,
       T.delta = internal$T.delta,
       T.delta.unscaled = fitMeasures(fit_b, "chisq")[[1]] - fitMeasures(fit_a, "chisq")[[1]],
       df.delta = internal$df.delta,
       heading = attr(r$value, "heading"),
       warnings = I(r$warnings))
}

out <- list(
  case = "lrt_sb2001",
  description = paste(
    "Scaled (MLR) chi-square difference tests between two nested two-level CFAs on",
    "Demo.twolevel y1..y6: (a) the levels_cfa model (loadings free per level, df 16) and",
    "(b) the mlr_shared_loadings model (loadings equal across levels, df 20).",
    "Table rows as lavTestLRT returns them (ordered by df; 'Chisq' = standard ML chi-square);",
    "scaling.factor is the scaling factor c_d of the difference test (Chisq diff = T.delta.unscaled / c_d).",
    "Note: lavaan 0.6-14's satorra.bentler.2010 gives a negative c_d and statistic here, with the",
    "warning that the M10 information matrix is not positive definite; it is recorded as lavaan's output."),
  data = "../../reference/levels_cfa/data.csv",   # relative to this folder
  generator = "generator.R",
  clusters = "cluster",
  estimator = "MLR",
  models = list(a = syntax_a, b = syntax_b),
  reference = list(
    source = paste0("lavaan ", packageDescription("lavaan")$Version,
                    " sem(syntax, cluster = \"cluster\", estimator = \"MLR\"); lavTestLRT(fit_a, fit_b, method = ...)"),
    models = list(a = model_info(fit_a, fa$warnings), b = model_info(fit_b, fb$warnings)),
    satorra.bentler.2001 = lrt_rows("satorra.bentler.2001"),
    satorra.bentler.2010 = lrt_rows("satorra.bentler.2010")))
to_json_file(out, file.path(here, "expected.json"))
