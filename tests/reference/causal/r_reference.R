#!/usr/bin/env Rscript
# R reference values for the causal core (Debian r-base-core 4.2, r-cran-sandwich,
# r-cran-plm, r-cran-estimatr). Writes r_reference.txt: "key value" per line, %.17g.
#
# Conventions reproduced:
#   se      lm(y ~ x + factor(unit) + factor(time)) + sandwich::vcovCL(cluster = ~unit,
#           type = "HC1"): CR1 with K = slopes + all fixed-effect dummies (our default,
#           FixedEffectDof::kAllFixedEffects); estimatr::lm_robust(fixed_effects = ,
#           se_type = "stata") is reported as se_estimatr to show it agrees.
#   se_plm  plm(model = "within", effect = "twoways") + plm::vcovHC(method = "arellano",
#           type = "sss"): K = slopes only (FixedEffectDof::kSlopesOnly).
#   p, ci   t with G - 1 degrees of freedom, 95%.
suppressPackageStartupMessages({
  library(sandwich); library(plm); library(estimatr)
})
here <- function(f) file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))), f)
out <- character(0)
put <- function(key, value) out <<- c(out, sprintf("%s %.17g", key, value))

data_dir <- here("../../data")
mpdta <- read.csv(file.path(data_dir, "mpdta/mpdta.csv"), check.names = FALSE)
mp <- data.frame(unit = mpdta$countyreal, time = mpdta$year, y = mpdta$lemp,
                 x1 = mpdta$lpop, w = 1, start = ifelse(mpdta$`first.treat` == 0, NA, mpdta$`first.treat`))
read_synth <- function(f) {
  d <- read.csv(here(f))
  d$start <- ifelse(is.na(d$start), NA, d$start)
  d
}
sb <- read_synth("synth_balanced.csv")
su <- read_synth("synth_unbalanced.csv")
treat_d <- function(d) as.numeric(!is.na(d$start) & d$time >= d$start)

tinfo <- function(key, b, se, G) {
  put(paste0(key, ".estimate"), b); put(paste0(key, ".se"), se)
  put(paste0(key, ".p"), 2 * pt(-abs(b / se), G - 1))
  q <- qt(0.975, G - 1)
  put(paste0(key, ".ci_lower"), b - q * se); put(paste0(key, ".ci_upper"), b + q * se)
}

twfe <- function(key, d, covs = character(0), weighted = FALSE) {
  d$D <- treat_d(d)
  rhs <- paste(c("D", covs, "factor(unit)", "factor(time)"), collapse = " + ")
  f <- as.formula(paste("y ~", rhs))
  fit <- if (weighted) lm(f, data = d, weights = w) else lm(f, data = d)
  V <- vcovCL(fit, cluster = ~unit, type = "HC1")
  G <- length(unique(d$unit))
  tinfo(key, coef(fit)[["D"]], sqrt(V["D", "D"]), G)
  for (cv in covs) if (!is.na(coef(fit)[[cv]])) {
    put(paste0(key, ".", cv, ".estimate"), coef(fit)[[cv]])
    put(paste0(key, ".", cv, ".se"), sqrt(V[cv, cv]))
  }
  put(paste0(key, ".clusters"), G); put(paste0(key, ".n"), nrow(d))
  put(paste0(key, ".parameters"), fit$rank - 1 + 1)  # rank includes the intercept
  # estimatr with absorbed FE
  ef <- as.formula(paste("y ~", paste(c("D", covs), collapse = " + ")))
  er <- if (weighted) lm_robust(ef, data = d, fixed_effects = ~unit + time, clusters = unit,
                                se_type = "stata", weights = w)
        else lm_robust(ef, data = d, fixed_effects = ~unit + time, clusters = unit, se_type = "stata")
  put(paste0(key, ".se_estimatr"), er$std.error[["D"]])
  # plm within two-ways, Arellano sss: K = slopes only
  if (weighted) return(invisible())  # plm's vcovHC does not support weights
  pd <- pdata.frame(d, index = c("unit", "time"))
  pf <- plm(ef, data = pd, model = "within", effect = "twoways")
  Vp <- vcovHC(pf, method = "arellano", type = "sss", cluster = "group")
  put(paste0(key, ".estimate_plm"), coef(pf)[["D"]])
  put(paste0(key, ".se_plm"), sqrt(Vp["D", "D"]))
}

event_study <- function(key, d, ref = -1, lo = NA, hi = NA) {
  rel <- ifelse(is.na(d$start), NA, d$time - d$start)
  if (!is.na(lo)) rel <- ifelse(!is.na(rel) & rel < lo, lo, rel)
  if (!is.na(hi)) rel <- ifelse(!is.na(rel) & rel > hi, hi, rel)
  ks <- sort(unique(rel[!is.na(rel)]))
  ks <- ks[ks != ref]
  nm <- character(0)
  for (k in ks) {
    v <- paste0("ev", ifelse(k < 0, paste0("m", -k), k))
    d[[v]] <- as.numeric(!is.na(rel) & rel == k)
    nm <- c(nm, v)
  }
  f <- as.formula(paste("y ~", paste(c(nm, "factor(unit)", "factor(time)"), collapse = " + ")))
  fit <- lm(f, data = d)
  V <- vcovCL(fit, cluster = ~unit, type = "HC1")
  G <- length(unique(d$unit))
  for (i in seq_along(ks)) {
    tinfo(paste0(key, ".k", ks[i]), coef(fit)[[nm[i]]], sqrt(V[nm[i], nm[i]]), G)
  }
  leads <- nm[ks < 0]
  b <- coef(fit)[leads]
  W <- as.numeric(t(b) %*% solve(V[leads, leads, drop = FALSE]) %*% b)
  q <- length(leads)
  put(paste0(key, ".wald.statistic"), W); put(paste0(key, ".wald.df"), q)
  put(paste0(key, ".wald.p"), pchisq(W, q, lower.tail = FALSE))
  put(paste0(key, ".wald.f_p"), pf(W / q, q, G - 1, lower.tail = FALSE))
  lags <- nm[ks >= 0]
  a <- rep(1 / length(lags), length(lags))
  tinfo(paste0(key, ".att"), sum(a * coef(fit)[lags]), sqrt(as.numeric(t(a) %*% V[lags, lags] %*% a)), G)
}

did2x2 <- function(key, d) {
  fit <- lm(y ~ treated * post, data = d)
  V <- vcovCL(fit, cluster = ~unit, type = "HC1")
  tinfo(key, coef(fit)[["treated:post"]], sqrt(V["treated:post", "treated:post"]),
        length(unique(d$unit)))
}

twfe("mpdta.twfe", mp)
twfe("synth_balanced.twfe", sb, "x1", weighted = TRUE)
twfe("synth_balanced.twfe_unweighted", sb)
twfe("synth_unbalanced.twfe", su, "x1")
twfe("synth_unbalanced.twfe_weighted", su, "x1", weighted = TRUE)
event_study("mpdta.es", mp)
event_study("synth_balanced.es_binned", sb, ref = -1, lo = -3, hi = 3)
event_study("synth_unbalanced.es", su)
m2 <- mp[is.na(mp$start) | mp$start == 2006, ]
m2$treated <- as.numeric(!is.na(m2$start)); m2$post <- as.numeric(m2$time >= 2006)
did2x2("mpdta.2x2_2006", m2)

writeLines(c("# generated by r_reference.R; do not edit", out), here("r_reference.txt"))
