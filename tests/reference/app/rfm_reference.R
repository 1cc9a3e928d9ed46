#!/usr/bin/env Rscript
# Reference for src/app/rfm.* : runs the R package `rfm` itself (Hebbali,
# github.com/rsquaredacademy/rfm at commit 297ed8b, v0.3.0, MIT licence) on its own
# data set rfm_data_orders. The package is not in Debian 12 and CRAN is not reachable,
# so its R sources are sourced from a checkout (the functions used need only dplyr,
# magrittr and rlang, which Debian ships: r-cran-dplyr, r-cran-magrittr, r-cran-rlang).
#
#   Rscript tests/reference/app/rfm_reference.R /path/to/rfm-checkout \
#     > tests/reference/app/rfm_reference.json
#
# Also (re)writes tests/reference/app/rfm_data_orders.csv from the package's
# data/rfm_data_orders.rda: customer_id replaced by c<index of first appearance>
# (the data is synthetic; the names are not needed), order_date, revenue.
suppressMessages({
  library(dplyr)
  library(magrittr)
  library(rlang)
})
args <- commandArgs(trailingOnly = TRUE)
src <- args[1]
# dplyr 1.0.10 (Debian 12) has no join_by(); the package uses it only in
# left_join(result, data, by = join_by(customer_id)), which attaches the other
# columns and does not touch the scores, so a shim naming the column suffices.
if (!exists("join_by")) join_by <- function(...) vapply(as.list(substitute(list(...)))[-1], deparse, "")
for (f in c("R/utils.R", "R/rfm-table-transaction.R", "R/rfm-segment.R")) source(file.path(src, f))
load(file.path(src, "data/rfm_data_orders.rda"))

ids <- unique(rfm_data_orders$customer_id)
orders <- data.frame(
  customer_id = sprintf("c%04d", match(rfm_data_orders$customer_id, ids)),
  order_date = rfm_data_orders$order_date,
  revenue = rfm_data_orders$revenue,
  stringsAsFactors = FALSE
)
out_csv <- file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))),
                     "rfm_data_orders.csv")
write.csv(orders, out_csv, row.names = FALSE, quote = FALSE)

analysis_date <- as.Date("2006-12-31")
rfm_result <- rfm_table_order(orders, customer_id, order_date, revenue, analysis_date)

# The package's executable segment criteria (tests/testthat/test-rfm-segment.R).
segment_names <- c("Champions", "Loyal Customers", "Potential Loyalist",
                   "New Customers", "Promising", "Need Attention", "About To Sleep",
                   "At Risk", "Can't Lose Them", "Lost")
recency_lower <- c(4, 2, 3, 4, 3, 2, 2, 1, 1, 1)
recency_upper <- c(5, 5, 5, 5, 4, 3, 3, 2, 1, 2)
frequency_lower <- c(4, 3, 1, 1, 1, 2, 1, 2, 4, 1)
frequency_upper <- c(5, 5, 3, 1, 1, 3, 2, 5, 5, 2)
monetary_lower <- c(4, 3, 1, 1, 1, 2, 1, 2, 4, 1)
monetary_upper <- c(5, 5, 3, 1, 1, 3, 2, 5, 5, 2)
seg <- rfm_segment(rfm_result, segment_names, recency_lower, recency_upper,
                   frequency_lower, frequency_upper, monetary_lower, monetary_upper)
seg <- seg[order(seg$customer_id), ]

th <- rfm_result$threshold
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
cat("{\n")
cat(sprintf('"generator": "rfm 0.3.0 (rsquaredacademy/rfm 297ed8b) sourced into R %s, dplyr %s",\n',
            getRversion(), packageVersion("dplyr")))
cat('"analysis_date": "2006-12-31",\n')
cat(sprintf('"breaks": {"recency": %s, "frequency": %s, "monetary": %s},\n',
            num(th$recency_lower[-1]), num(th$frequency_lower[-1]), num(th$monetary_lower[-1])))
rows <- sprintf('  {"customer_id": "%s", "recency_days": %.17g, "frequency": %d, "monetary": %.17g, "r": %d, "f": %d, "m": %d, "segment": "%s"}',
                seg$customer_id, seg$recency_days, as.integer(seg$transaction_count), seg$amount,
                as.integer(seg$recency_score), as.integer(seg$frequency_score),
                as.integer(seg$monetary_score), gsub("'", "\\\\u0027", seg$segment))
cat('"customers": [\n', paste(rows, collapse = ",\n"), "\n]\n}\n", sep = "")
