# lavaan tutorial two-level SEM on Demo.twolevel, fixed.x = FALSE.
# Run from the project root:
#   Rscript tests/data/lavaan_extra/tutorial_freex/generator.R
arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
here <- if (length(arg)) dirname(normalizePath(sub("^--file=", "", arg[1]))) else getwd()
source(file.path(here, "..", "_common.R"))

# Data: all 12 columns of lavaan's Demo.twolevel (cluster column is "cluster"),
# written with 15 significant digits and read back.
d <- read.csv(file.path(here, "..", "tutorial_fixedx", "data.csv"))  # the data of tutorial_fixedx

syntax <- "level: 1
    fw =~ y1 + y2 + y3
    fw ~ x1 + x2 + x3
level: 2
    fb =~ y1 + y2 + y3
    fb ~ w1 + w2
"

run_case(here, "tutorial_freex",
  paste("lavaan tutorial two-level SEM on Demo.twolevel (N = 2500, J = 200):",
        "one factor per level with exogenous covariates x1-x3 (within) and w1, w2 (between);",
        "fixed.x = FALSE (covariate means/variances estimated)."),
  syntax, d, options = list(fixed.x = FALSE), estimators = c("ML", "MLR"), data_file = "../tutorial_fixedx/data.csv")
