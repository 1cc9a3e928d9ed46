# Times the synthdid R package (sourced from SYNTHDID_R_DIR, a checkout's R/ folder) on
# California Proposition 99: synthdid_estimate + vcov(method = "placebo"), 200
# replications. Prints "synthdid_r_prop99_seconds <s>".
args = commandArgs(trailingOnly = TRUE)
dir = Sys.getenv("SYNTHDID_R_DIR")
for (f in c("utils.R", "solver.R", "synthdid.R", "vcov.R")) source(file.path(dir, f))
setup = panel.matrices(read.csv(args[1], sep = ";"))
set.seed(1)
t = system.time({
  est = synthdid_estimate(setup$Y, setup$N0, setup$T0)
  se = sqrt(vcov(est, method = "placebo"))
})[["elapsed"]]
cat(sprintf("synthdid_r_prop99_seconds %.3f estimate %.6f se %.4f\n", t, c(est), se))
