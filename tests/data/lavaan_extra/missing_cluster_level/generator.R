# lavaan tutorial two-level SEM on Demo.twolevel with missing values:
#  * about 8% of the cells of y1, y2, y3 and x1 set to NA (MCAR, per cell);
#  * the cluster-level variable w1 set to NA for all rows of 15 whole clusters.
# fixed.x = FALSE, missing = "ml". ML, and MLR attempted.
# (lavaan 0.6-14 fails for MLR here: the robust vcov contains non-finite values,
#  "Error in eigen(VarCov, ...): infinite or missing values in 'x'". The same
#  happens with only y1-y3 missing, and with fixed.x = TRUE; the error is stored.)
# Run from the project root:
#   Rscript tests/data/lavaan_extra/missing_cluster_level/generator.R
arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
here <- if (length(arg)) dirname(normalizePath(sub("^--file=", "", arg[1]))) else getwd()
source(file.path(here, "..", "_common.R"))

set.seed(1)
d <- lavaan::Demo.twolevel
# cell-wise MCAR holes, column by column
for (v in c("y1", "y2", "y3", "x1")) {
  d[[v]][runif(nrow(d)) < 0.08] <- NA
}
# w1 missing for 15 whole clusters
miss_clusters <- sort(sample(unique(d$cluster), 15))
d$w1[d$cluster %in% miss_clusters] <- NA
d <- write_and_read(d, file.path(here, "data.csv"))

syntax <- "level: 1
    fw =~ y1 + y2 + y3
    fw ~ x1 + x2 + x3
level: 2
    fb =~ y1 + y2 + y3
    fb ~ w1 + w2
"

run_case(here, "missing_cluster_level",
  paste0("Demo.twolevel with ~8% MCAR cells in y1-y3 and x1 and w1 missing for 15 whole clusters (",
         paste(miss_clusters, collapse = ", "), "); lavaan tutorial model, fixed.x = FALSE, ",
         "missing = 'ml' (full-information ML). Note: with missing data lavaan's information = 'expected' ",
         "may use the complete-data formula. lavaan 0.6-14 cannot compute MLR (robust) SEs for this two-level missing-data fit."),
  syntax, d, options = list(fixed.x = FALSE, missing = "ml"), estimators = c("ML", "MLR"))
