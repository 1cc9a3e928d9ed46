#!/usr/bin/env Rscript
# Boundaries of monitoring under a plan (src/app/monitoring.*) for realistic,
# irregular daily look sequences, from rpact (Wassmer & Pahlke). Regenerate with:
#   Rscript tests/reference/stats/monitoring_boundaries.R > tests/reference/stats/monitoring_boundaries.json
# Each case is a daily traffic pattern (users per day, weekday/weekend dips) and a
# planned sample size: looks at t_k = cumulative users / planned size, the final
# look at the first day with t >= 1 (t set to 1 there), as app::PlanLooks does.
# rpact validates kMax <= 10 only and warns above (the designs here have 11-17 looks);
# it is used only where every information increment is >= 0.03: for tiny increments
# its fixed grid is inaccurate (e.g. looks at 0.3, 0.6, 0.6001, 1 give a final
# boundary of 0.51 instead of 1.98), and monitoring_genz.py is the reference there.
suppressMessages(library(rpact))

cases <- list(
  list(name = "weekday_weekend_2s", planned = 8400, alpha = 0.05, sides = 2,
       daily = c(700, 720, 690, 710, 650, 310, 290, 730, 700, 680, 720, 660, 300, 320, 710)),
  list(name = "weekday_weekend_bonferroni4_2s", planned = 8400, alpha = 0.0125, sides = 2,
       daily = c(700, 720, 690, 710, 650, 310, 290, 730, 700, 680, 720, 660, 300, 320, 710)),
  list(name = "ramp_up_1s", planned = 20000, alpha = 0.025, sides = 1,
       daily = c(400, 800, 1200, 1500, 1600, 1500, 900, 800, 1600, 1700, 1650, 1600, 1500, 950, 900, 1700, 1800)),
  list(name = "overshoot_2s", planned = 5000, alpha = 0.05, sides = 2,
       daily = c(350, 420, 380, 500, 460, 390, 410, 430, 520, 480, 470, 900))
)

fmt <- function(x) paste0("[", paste(ifelse(is.finite(x), sprintf("%.10g", x), "null"), collapse = ", "), "]")
out <- c()
for (d in cases) {
  t <- cumsum(d$daily) / d$planned
  k <- which(t >= 1)[1]
  rates <- c(t[seq_len(k - 1)], 1)
  des <- suppressWarnings(getDesignGroupSequential(
    kMax = length(rates), alpha = d$alpha, sided = d$sides, typeOfDesign = "asOF",
    informationRates = rates, typeBetaSpending = "none"))
  out <- c(out, sprintf(
    '  {"name": "%s", "planned_sample_size": %d, "alpha": %s, "sides": %d, "daily_users": %s, "information_fractions": %s, "z": %s, "nominal_p": %s, "cumulative_alpha": %s}',
    d$name, d$planned, d$alpha, d$sides, fmt(d$daily), fmt(rates), fmt(des$criticalValues),
    fmt(des$stageLevels * d$sides), fmt(des$alphaSpent)))
}
cat("{\n", sprintf('"generator": "rpact %s, R %s",\n', packageVersion("rpact"), getRversion()),
    '"cases": [\n', paste(out, collapse = ",\n"), "\n]\n}\n", sep = "")
