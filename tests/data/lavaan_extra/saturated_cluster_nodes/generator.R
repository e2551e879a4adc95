# Saturated two-level model written out explicitly on Demo.twolevel:
# y1, y2, y3 on both levels, w1, w2 on the cluster level only.
# fixed.x = FALSE (w1, w2 are not regression predictors here anyway). ML only.
# logl should equal unrestricted.logl (up to lavaan's h1 convergence).
# Run from the project root:
#   Rscript tests/data/lavaan_extra/saturated_cluster_nodes/generator.R
arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
here <- if (length(arg)) dirname(normalizePath(sub("^--file=", "", arg[1]))) else getwd()
source(file.path(here, "..", "_common.R"))

d <- lavaan::Demo.twolevel[, c("y1", "y2", "y3", "w1", "w2", "cluster")]
d <- read.csv(file.path(here, "..", "tutorial_fixedx", "data.csv"))[, names(d)]  # as written for tutorial_fixedx

syntax <- "level: 1
    y1 ~~ y1 + y2 + y3
    y2 ~~ y2 + y3
    y3 ~~ y3
level: 2
    y1 ~~ y1 + y2 + y3 + w1 + w2
    y2 ~~ y2 + y3 + w1 + w2
    y3 ~~ y3 + w1 + w2
    w1 ~~ w1 + w2
    w2 ~~ w2
"

run_case(here, "saturated_cluster_nodes",
  paste("Saturated two-level model on Demo.twolevel: all within (co)variances of y1-y3,",
        "all between (co)variances of y1-y3, w1, w2 (w1, w2 cluster-level only), free",
        "between means; fixed.x = FALSE. logl equals the unrestricted (h1) logl."),
  syntax, d, options = list(fixed.x = FALSE), estimators = "ML", data_file = "../tutorial_fixedx/data.csv")
