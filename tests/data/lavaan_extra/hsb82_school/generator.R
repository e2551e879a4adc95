# High School and Beyond (mlmRev::Hsb82): random-intercept regression of math
# achievement with pupil covariates within and school covariates between.
# lavaan defaults (fixed.x = TRUE).
# Run from the project root:
#   Rscript tests/data/lavaan_extra/hsb82_school/generator.R
arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
here <- if (length(arg)) dirname(normalizePath(sub("^--file=", "", arg[1]))) else getwd()
source(file.path(here, "..", "_common.R"))
suppressPackageStartupMessages(library(mlmRev))

# Data: 7185 pupils in 160 schools. Factors -> 0/1, school -> integer codes 1..160.
h <- mlmRev::Hsb82
d <- data.frame(
  mAch    = h$mAch,
  ses     = h$ses,
  minrty  = as.integer(h$minrty == "Yes"),      # Yes = 1
  sx      = as.integer(h$sx == "Female"),       # Female = 1
  meanses = h$meanses,
  sector  = as.integer(h$sector == "Catholic"), # Catholic = 1
  cluster = as.integer(h$school)                # factor level codes
)
d <- write_and_read(d, file.path(here, "data.csv"))

syntax <- "level: 1
    mAch ~ ses + minrty + sx
level: 2
    mAch ~ meanses + sector
"

run_case(here, "hsb82_school",
  paste("mlmRev::Hsb82 (N = 7185 pupils, J = 160 schools): mAch regressed on ses, minrty, sx",
        "within and on meanses, sector (school level) between; fixed.x = TRUE (lavaan default)."),
  syntax, d, options = list(), estimators = c("ML", "MLR"))
