#!/usr/bin/env Rscript
# References for src/stats/factorial.* (tests/stats/factorial_test.cc). Regenerate from
# the repository root (Debian 12: r-base-core 4.2, r-cran-sandwich 3.0-2):
#   Rscript tests/reference/stats/factorial.R
# It writes tests/reference/stats/factorial_data.csv (seeded individual-level data)
# and tests/reference/stats/factorial.json (R's lm/anova/sandwich results), numbers
# with 17 significant digits.
#
# (1) npk (Yates' N, P, K field trial shipped with R): lm(yield ~ block + N*P*K).
#     N:P:K is confounded with blocks, so lm reports its coefficient as NA (aliased)
#     and anova() has no N:P:K row. The HC1 standard errors come from the equivalent
#     non-aliased fit yield ~ block + N + P + K + N:P + N:K + P:K (same column space,
#     same fitted values), because vcovHC needs a full-rank model matrix. That fit is
#     also the "two_way" reference, with its combination-vs-baseline contrasts (under
#     the full model every such contrast involves the confounded N:P:K and is not
#     estimable).
# (2) Seeded data: a 2x3 (headline x image) and a 2x2x2 (price x layout x badge)
#     design, unequal cell sizes and unequal cell standard deviations. The CSV is
#     written first and read back, so R fits exactly the numbers the C++ test parses.
#     Models: full, up to two-way, main effects only.
suppressMessages(library(sandwich))

num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
str <- function(x) paste0('"', x, '"')
arr <- function(x) paste0("[", paste(x, collapse = ", "), "]")
obj <- function(...) {
  kv <- list(...)
  paste0("{", paste(sprintf('"%s": %s', names(kv), unlist(kv)), collapse = ", "), "}")
}

# Coefficients (with aliased ones as null), classical and HC1 SEs, ANOVA rows and
# combination-vs-baseline contrasts of a fit. `robust_fit` is a full-rank fit with the
# same column space whose vcovHC supplies the robust SEs.
describe <- function(fit, robust_fit, factors) {
  s <- summary(fit)
  b <- coef(fit)
  ok <- !is.na(b)
  se <- rep(NA, length(b)); tv <- se; pv <- se; rse <- se; rt <- se; rp <- se
  se[ok] <- s$coefficients[, 2]; tv[ok] <- s$coefficients[, 3]; pv[ok] <- s$coefficients[, 4]
  V <- vcov(fit)
  VR <- vcovHC(robust_fit, type = "HC1")
  stopifnot(all(names(b)[ok] == colnames(VR)))
  rse[ok] <- sqrt(diag(VR))
  df <- fit$df.residual
  rt[ok] <- b[ok] / rse[ok]
  rp[ok] <- 2 * pt(-abs(rt[ok]), df)
  coefs <- sapply(seq_along(b), function(i) obj(
    name = str(names(b)[i]), aliased = tolower(!ok[i]), estimate = num(b[i]),
    std_error = num(se[i]), t = num(tv[i]), p = num(pv[i]), robust_std_error = num(rse[i]),
    robust_t = num(rt[i]), robust_p = num(rp[i])))
  a <- anova(fit)
  rows <- sapply(seq_len(nrow(a) - 1), function(i) obj(
    term = str(trimws(rownames(a)[i])), df = a$Df[i], ss = num(a$`Sum Sq`[i]),
    ms = num(a$`Mean Sq`[i]), f = num(a$`F value`[i]), p = num(a$`Pr(>F)`[i])))
  r <- nrow(a)
  residual <- obj(df = a$Df[r], ss = num(a$`Sum Sq`[r]), ms = num(a$`Mean Sq`[r]))
  # Contrasts: model-matrix row of each combination minus the all-baseline row, over
  # the treatment columns (blocks cancel); aliased columns are 0 in the estimate (R's
  # convention) and every contrast here avoids them.
  contrasts <- c()
  if (!is.null(factors)) {
    grid <- expand.grid(lapply(factors, function(f) levels(fit$model[[f]])))
    nd <- as.data.frame(lapply(seq_along(factors), function(j)
      factor(grid[[j]], levels = levels(fit$model[[factors[j]]]))))
    names(nd) <- factors
    for (v in setdiff(names(fit$model)[-1], factors))  # blocks at their first level
      nd[[v]] <- factor(levels(fit$model[[v]])[1], levels = levels(fit$model[[v]]))
    X <- model.matrix(delete.response(terms(fit)), nd)[, ok, drop = FALSE]
    for (i in 2:nrow(X)) {
      l <- X[i, ] - X[1, ]
      contrasts <- c(contrasts, obj(
        levels = arr(sapply(seq_along(factors), function(j) as.integer(nd[[j]][i]) - 1L)),
        estimate = num(sum(l * b[ok])), std_error = num(sqrt(drop(t(l) %*% V %*% l))),
        robust_std_error = num(sqrt(drop(t(l) %*% VR %*% l)))))
    }
  }
  obj(coefficients = arr(paste0("\n    ", coefs)), anova = arr(paste0("\n    ", rows)),
      residual = residual, contrasts = arr(paste0("\n    ", contrasts)))
}

# (1) npk
fit <- lm(yield ~ block + N * P * K, npk)
robust <- lm(yield ~ block + N + P + K + N:P + N:K + P:K, npk)
stopifnot(isTRUE(all.equal(fitted(fit), fitted(robust))))
npk_rows <- sapply(seq_len(nrow(npk)), function(i) arr(c(
  as.integer(npk$block[i]) - 1L, as.integer(npk$N[i]) - 1L, as.integer(npk$P[i]) - 1L,
  as.integer(npk$K[i]) - 1L, num(npk$yield[i]))))
npk_json <- paste0('{"rows_block_N_P_K_yield": ', arr(npk_rows), ",\n  ",
                   '"full": ', describe(fit, robust, NULL), ",\n  ",
                   '"two_way": ', describe(robust, robust, c("N", "P", "K")), "}")

# (2) seeded data
set.seed(20261207)
make <- function(design, factors, sizes, means, sds) {
  cells <- expand.grid(factors)  # first factor varies fastest, as in R's model matrix
  out <- list()
  for (i in seq_len(nrow(cells))) {
    n <- sizes[i]
    y <- round(rnorm(n, means[i], sds[i]), 6)
    out[[i]] <- data.frame(design = design, f1 = cells[i, 1], f2 = cells[i, 2],
                           f3 = if (ncol(cells) > 2) cells[i, 3] else "", y = y)
  }
  do.call(rbind, out)
}
d23 <- make("2x3", list(headline = c("a", "b"), image = c("x", "y", "z")),
            sizes = c(520, 310, 450, 180, 640, 260),
            means = c(10, 10.8, 10.3, 11.5, 9.6, 10.9), sds = c(2, 3.5, 1.5, 4, 2.5, 3))
d222 <- make("2x2x2", list(price = c("low", "high"), layout = c("old", "new"),
                           badge = c("off", "on")),
             sizes = c(400, 220, 350, 160, 300, 280, 120, 410),
             means = c(5, 4.6, 5.4, 5.3, 5.2, 4.7, 5.9, 5.1),
             sds = c(1, 1.8, 1.2, 2.5, 0.8, 1.5, 2, 1.1))
data <- rbind(d23, d222)
data <- data[sample(nrow(data)), ]  # rows in random order
csv <- "tests/reference/stats/factorial_data.csv"
write.csv(data, csv, row.names = FALSE, quote = FALSE)
data <- read.csv(csv, colClasses = c("character", "character", "character", "character",
                                     "numeric"))

models <- c()
add <- function(design, terms, formula, factor_names, level_sets) {
  sub <- data[data$design == design, ]
  for (j in seq_along(factor_names))
    sub[[factor_names[j]]] <- factor(sub[[paste0("f", j)]], levels = level_sets[[j]])
  fit <- lm(formula, sub)
  models <<- c(models, paste0('{"design": "', design, '", "terms": "', terms, '",\n  ',
                              "\"n\": ", nrow(sub), ",\n  ",
                              sub("^\\{", "", describe(fit, fit, factor_names))))
}
f23 <- c("headline", "image"); l23 <- list(c("a", "b"), c("x", "y", "z"))
add("2x3", "full", y ~ headline * image, f23, l23)
add("2x3", "main", y ~ headline + image, f23, l23)
f222 <- c("price", "layout", "badge")
l222 <- list(c("low", "high"), c("old", "new"), c("off", "on"))
add("2x2x2", "full", y ~ price * layout * badge, f222, l222)
add("2x2x2", "two_way", y ~ (price + layout + badge)^2, f222, l222)
add("2x2x2", "main", y ~ price + layout + badge, f222, l222)

cat("{\n", sprintf('"generator": "R %s, sandwich %s, lm/anova/vcovHC(type = \\"HC1\\")",\n',
                   getRversion(), packageVersion("sandwich")),
    '"npk": ', npk_json, ",\n",
    '"seeded": [\n', paste(models, collapse = ",\n"), "\n]\n}\n", sep = "",
    file = "tests/reference/stats/factorial.json")
