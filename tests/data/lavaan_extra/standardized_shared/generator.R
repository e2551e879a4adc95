# The completely standardized solution (std.all) of the two-level CFA with
# loadings equal across levels (the psychonetrics ml_lvm model), on the data of
# the reference case mlr_shared_loadings (Demo.twolevel y1..y6). The data are
# only referred to, not copied.
#   sem(syntax, data, cluster = "cluster", information = "expected")
#   standardizedSolution(fit, type = "std.all")
# Expected information, as psychonetrics uses for its SEs; the delta-method SEs
# of standardizedSolution() are then based on the expected-information vcov.
# Run from the project root:
#   Rscript tests/data/lavaan_extra/standardized_shared/generator.R
arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
here <- if (length(arg)) dirname(normalizePath(sub("^--file=", "", arg[1]))) else getwd()
source(file.path(here, "..", "_common.R"))

root <- normalizePath(file.path(here, "..", "..", "..", ".."))    # project root
data_rel <- "tests/data/reference/mlr_shared_loadings/data.csv"  # relative to the project root
d <- read.csv(file.path(root, data_rel))
syntax <- fromJSON(file.path(root, "tests/data/reference/mlr_shared_loadings/expected.json"))$syntax

f <- fit_with_warnings(syntax, d, list(estimator = "ML", information = "expected"))
fit <- f$fit
# output = "text" keeps the block column (the data.frame output drops it);
# the rows and values are the same.
ss <- with_warnings(standardizedSolution(fit, type = "std.all", se = TRUE,
                                         zstat = FALSE, pvalue = FALSE, ci = FALSE,
                                         output = "text"))
s <- as.data.frame(unclass(ss$value), stringsAsFactors = FALSE)
stopifnot(!is.null(s$block), length(s$block) == nrow(s))
lev <- s$block
rows <- data.frame(lhs = s$lhs, op = s$op, rhs = s$rhs,
                   level = ifelse(lev == 1, "within", "between"),
                   est.std = s$est.std, se = s$se, stringsAsFactors = FALSE)
# Unstandardized estimates too (to check that both programs reach the same optimum).
pe <- parameterEstimates(fit, ci = FALSE, zstat = FALSE, pvalue = FALSE)
plev <- if (!is.null(pe$level)) pe$level else pe$block
unstd <- data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
                    level = ifelse(plev == 1, "within", "between"),
                    est = pe$est, se = pe$se, stringsAsFactors = FALSE)

out <- list(
  case = "standardized_shared",
  description = paste(
    "lavaan's completely standardized solution (standardizedSolution(type = 'std.all'), delta-method",
    "SEs) of the two-level CFA with loadings equal across levels (the psychonetrics ml_lvm model with",
    "lambda = [[1,0]]*3 + [[0,1]]*3) on Demo.twolevel y1..y6; ML with expected information.",
    "Latents are fw1, fw2 (within) and fb1, fb2 (between); level 'within' = block 1, 'between' = block 2."),
  data = "../../reference/mlr_shared_loadings/data.csv",   # relative to this folder
  generator = "generator.R",
  clusters = "cluster",
  syntax = syntax,
  reference = list(
    source = paste0("lavaan ", packageDescription("lavaan")$Version,
                    " sem(syntax, data, cluster = \"cluster\", information = \"expected\");",
                    " standardizedSolution(fit, type = \"std.all\")"),
    lavaan_version = packageDescription("lavaan")$Version,
    converged = isTRUE(lavInspect(fit, "converged")),
    logl = fitMeasures(fit, "logl")[[1]],
    warnings = I(c(f$warnings, ss$warnings)),
    standardized = rows,
    unstandardized = unstd))
to_json_file(out, file.path(here, "expected.json"))
