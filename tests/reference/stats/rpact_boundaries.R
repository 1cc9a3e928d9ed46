#!/usr/bin/env Rscript
# Group sequential efficacy boundaries from rpact (Wassmer & Pahlke), used as the
# reference for src/stats/group_sequential.* . Regenerate with:
#   Rscript tests/reference/stats/rpact_boundaries.R > tests/reference/stats/rpact_boundaries.json
suppressMessages(library(rpact))

# rpact validates kMax <= 10 only (it warns above that, and for 20 looks it returns
# Inf or imprecise boundaries where the spend is below ~1e-8), so designs stay <= 10 looks.
designs <- list(
  list(name = "of_5_equal_2s", looks = c(0.2, 0.4, 0.6, 0.8, 1.0), alpha = 0.05, sides = 2, type = "asOF"),
  list(name = "p_5_equal_2s", looks = c(0.2, 0.4, 0.6, 0.8, 1.0), alpha = 0.05, sides = 2, type = "asP"),
  list(name = "of_5_equal_1s", looks = c(0.2, 0.4, 0.6, 0.8, 1.0), alpha = 0.025, sides = 1, type = "asOF"),
  list(name = "p_5_equal_1s", looks = c(0.2, 0.4, 0.6, 0.8, 1.0), alpha = 0.025, sides = 1, type = "asP"),
  list(name = "of_unequal_2s", looks = c(0.1, 0.35, 0.5, 0.9, 1.0), alpha = 0.05, sides = 2, type = "asOF"),
  list(name = "p_unequal_2s", looks = c(0.1, 0.35, 0.5, 0.9, 1.0), alpha = 0.05, sides = 2, type = "asP"),
  list(name = "of_3_alpha01_2s", looks = c(0.3, 0.7, 1.0), alpha = 0.01, sides = 2, type = "asOF"),
  list(name = "p_2_alpha10_1s", looks = c(0.5, 1.0), alpha = 0.10, sides = 1, type = "asP"),
  list(name = "of_10_equal_2s", looks = (1:10) / 10, alpha = 0.05, sides = 2, type = "asOF"),
  list(name = "p_10_equal_2s", looks = (1:10) / 10, alpha = 0.05, sides = 2, type = "asP"),
  list(name = "of_partial_2s", looks = c(0.25, 0.5, 0.75), alpha = 0.05, sides = 2, type = "asOF")
)

# Non-finite values (rpact reports Inf for a boundary with negligible spend) become null.
fmt <- function(x) paste0("[", paste(ifelse(is.finite(x), sprintf("%.10g", x), "null"), collapse = ", "), "]")

out <- c()
for (d in designs) {
  kmax <- length(d$looks)
  if (kmax == 1) stop("need at least two looks")
  # rpact requires the last information rate to be 1; for a partial design, compute
  # the full design with the same spending and keep only the looks given.
  rates <- d$looks
  partial <- FALSE
  if (rates[kmax] < 1) {
    rates <- c(rates, 1.0)
    partial <- TRUE
  }
  des <- getDesignGroupSequential(kMax = length(rates), alpha = d$alpha, sided = d$sides,
                                  typeOfDesign = d$type, informationRates = rates,
                                  typeBetaSpending = "none")
  crit <- des$criticalValues[seq_len(kmax)]
  spent <- des$alphaSpent[seq_len(kmax)]
  # stageLevels are one-sided nominal levels; two-sided nominal p is twice that.
  nominal <- des$stageLevels[seq_len(kmax)] * d$sides
  out <- c(out, sprintf(
    '  {"name": "%s", "spending": "%s", "alpha": %s, "sides": %d, "looks": %s, "z": %s, "nominal_p": %s, "cumulative_alpha": %s}',
    d$name, ifelse(d$type == "asOF", "obrien_fleming", "pocock"), d$alpha, d$sides,
    fmt(d$looks), fmt(crit), fmt(nominal), fmt(spent)))
}

# Classical (non-spending) O'Brien-Fleming and Pocock designs with equally spaced
# looks: their constants C_B(K, alpha) and C_P(K, alpha) are tabulated in Jennison &
# Turnbull (2000), Tables 2.3 and 2.1. Used to cross-check the published table.
classic <- c()
for (k in 2:10) {
  of <- getDesignGroupSequential(kMax = k, alpha = 0.05, sided = 2, typeOfDesign = "OF")
  p <- getDesignGroupSequential(kMax = k, alpha = 0.05, sided = 2, typeOfDesign = "P")
  classic <- c(classic, sprintf('  {"K": %d, "obf_c": %.10g, "pocock_c": %.10g}', k,
                                of$criticalValues[k], p$criticalValues[1]))
}

cat("{\n", sprintf('"generator": "rpact %s, R %s",\n', packageVersion("rpact"), getRversion()),
    '"spending_designs": [\n', paste(out, collapse = ",\n"), "\n],\n",
    '"classical_alpha_0.05_two_sided": [\n', paste(classic, collapse = ",\n"), "\n]\n}\n", sep = "")
