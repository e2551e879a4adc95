# Real data: a one-factor-per-level CFA of the 11 bhr2000 leadership items (R package multilevel's bhr2000,
# 5400 soldiers in 99 companies, rows as in tests/data/bhr2000.csv), ML and MLR, lavaan defaults.
# Run from the project root:
#   Rscript tests/data/lavaan_extra/bhr2000_cfa/generator.R
arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
here <- if (length(arg)) dirname(normalizePath(sub("^--file=", "", arg[1]))) else getwd()
source(file.path(here, "..", "_common.R"))

# Data: tests/data/bhr2000.csv with its cluster column "company" read as "cluster".
d <- read.csv(file.path(here, "..", "..", "bhr2000.csv"))
names(d)[names(d) == "company"] <- "cluster"
items <- setdiff(names(d), "cluster")

syntax <- paste0("level: 1\n    fw =~ ", paste(items, collapse = " + "),
                 "\nlevel: 2\n    fb =~ ", paste(items, collapse = " + "), "\n")

run_case(here, "bhr2000_cfa",
  paste("Real data: one leadership factor per level over the 11 bhr2000 items (N = 5400, J = 99);",
        "a poorly fitting model on non-normal Likert items, where MLR's scaling factor is far from 1.",
        "The data file's cluster column is 'company' (read as 'cluster')."),
  syntax, d, options = list(), estimators = c("ML", "MLR"), data_file = "../../bhr2000.csv")

# The data file's cluster column is "company": say so to the readers of expected.json.
path <- file.path(here, "expected.json")
writeLines(sub('"clusters": "cluster"', '"clusters": "company"', readLines(path), fixed = TRUE), path)
