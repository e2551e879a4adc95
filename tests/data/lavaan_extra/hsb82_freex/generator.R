# High School and Beyond (mlmRev::Hsb82): random-intercept regression of math
# achievement with pupil covariates within and school covariates between.
# fixed.x = FALSE (covariates modelled as random), ML only.
# Run from the project root:
#   Rscript tests/data/lavaan_extra/hsb82_freex/generator.R
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
d <- read.csv(file.path(here, "..", "hsb82_school", "data.csv"))  # the same data, as written for hsb82_school

syntax <- "level: 1
    mAch ~ ses + minrty + sx
level: 2
    mAch ~ meanses + sector
"

run_case(here, "hsb82_freex",
  paste("mlmRev::Hsb82 (N = 7185 pupils, J = 160 schools): mAch regressed on ses, minrty, sx",
        "within and on meanses, sector (school level) between; fixed.x = FALSE; ML only."),
  syntax, d, options = list(fixed.x = FALSE), estimators = "ML", data_file = "../hsb82_school/data.csv")
