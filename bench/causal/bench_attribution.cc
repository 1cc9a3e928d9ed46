// Shapley and first-order Markov attribution on 1 000 000 seeded paths over 12 channels
// (issue 13, part 3: target under 1 s on the 2-core machine). The paths are a
// deterministic function of the row number via splitmix64; with a file argument they are
// also written as CSV for bench/causal/attribution_pandas.py, the named reference of
// bench/causal/run_attribution.sh. Also times the whole request handler
// (POST /v1/analyses/attribution without the socket: decoding the JSON or CSV body,
// reading the paths, Shapley + Markov, the response) on the same rows.
//
//   bench_attribution [rows] [repeats] [csv file to write]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "api/resources/analyses_attribution.h"
#include "bench_util.h"
#include "causal/attribution.h"

namespace {

using causeway::bench::MedianSeconds;
using causeway::bench::SplitMix64;

using causeway::causal::AttributionMethod;
using causeway::causal::AttributionOptions;
using causeway::causal::PathTable;
using causeway::causal::PathTableBuilder;

constexpr const char* kChannels[12] = {"search",  "social",    "email",  "display",
                                       "video",   "affiliate", "direct", "organic",
                                       "podcast", "tv",        "radio",  "print"};

// Row i: 1..8 touches (channel j with weight 12 - j), converting with a probability that
// grows with the touches on email and search; value 20 + (i % 80) per conversion.
struct PathRow {
  std::string path;
  int conversions, nulls;
  double value;
};

PathRow MakeRow(uint64_t i) {
  uint64_t h = SplitMix64(i);
  const int len = 1 + static_cast<int>(h % 8);
  PathRow r;
  double p = 0.02;
  for (int t = 0; t < len; ++t) {
    h = SplitMix64(h);
    // Triangular weights: channel j with probability (12 - j) / 78.
    int u = static_cast<int>(h % 78), j = 0;
    while (u >= 12 - j) u -= 12 - j++;
    if (t) r.path += " > ";
    r.path += kChannels[j];
    p += j == 0 ? 0.04 : j == 2 ? 0.03 : 0.01;
  }
  h = SplitMix64(h);
  const bool converted = static_cast<double>(h >> 11) * 0x1.0p-53 < p;
  r.conversions = converted ? 1 : 0;
  r.nulls = converted ? 0 : 1;
  r.value = converted ? 20.0 + static_cast<double>(i % 80) : 0.0;
  return r;
}

// CPU time of the calling thread: on a shared machine it shows the work apart from the
// waiting for a core.
double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  std::vector<PathRow> data;
  data.reserve(rows);
  for (uint64_t i = 0; i < rows; ++i) data.push_back(MakeRow(i));
  if (argc > 3) {
    FILE* f = std::fopen(argv[3], "w");
    std::fprintf(f, "path,total_conversions,total_null,total_conversion_value\n");
    for (const auto& r : data)
      std::fprintf(f, "%s,%d,%d,%.17g\n", r.path.c_str(), r.conversions, r.nulls, r.value);
    std::fclose(f);
  }

  PathTable table;
  const double build_cpu0 = ThreadCpuSeconds();
  const double build_s = MedianSeconds(std::max(1, repeats / 2), [&] {
    PathTableBuilder b;
    for (const auto& r : data) {
      if (b.Add(r.path, r.conversions, r.nulls, r.value)) std::abort();
    }
    table = std::move(b).Finish();
  });
  std::printf("paths: %llu rows, %zu distinct, %zu channels, %zu touches\n",
              static_cast<unsigned long long>(rows), table.size(), table.channels.size(),
              table.touches.size());
  std::printf("parse_and_aggregate_seconds %.4f (cpu %.4f per run)\n", build_s,
              (ThreadCpuSeconds() - build_cpu0) / std::max(1, repeats / 2));

  auto time = [&](std::vector<AttributionMethod> methods, const char* name) {
    AttributionOptions o;
    o.methods = std::move(methods);
    causeway::causal::AttributionSummary s;
    const double secs = MedianSeconds(repeats, [&] {
      auto r = causeway::causal::Attribute(table, o);
      if (!r.ok()) std::abort();
      s = std::move(r).value();
    });
    std::printf("%s_seconds %.4f", name, secs);
    for (const auto& m : s.methods) {
      std::printf(" | %s:", causeway::causal::AttributionMethodName(m.method));
      for (const char* name : {"search", "social", "email"}) {  // as attribution_pandas.py
        const size_t c = static_cast<size_t>(
            std::find(table.channels.begin(), table.channels.end(), name) - table.channels.begin());
        std::printf(" %s=%.6f", name, m.channels[c].conversions);
      }
    }
    std::printf("\n");
    return secs;
  };
  time({AttributionMethod::kLinear}, "reference_linear_touch");
  time({AttributionMethod::kShapley}, "shapley");
  time({AttributionMethod::kMarkov}, "markov");
  const double both =
      time({AttributionMethod::kShapley, AttributionMethod::kMarkov}, "shapley_and_markov");
  std::printf("target: shapley_and_markov under 1 s: %s\n", both < 1.0 ? "met" : "NOT met");

  // End to end: the handler on a JSON body and on a CSV body holding the same rows.
  std::string json = R"({"methods": ["shapley", "markov"], "paths": [)";
  std::string csv = "path,total_conversions,total_null,total_conversion_value\n";
  char number[64];
  for (size_t i = 0; i < data.size(); ++i) {
    const auto& r = data[i];
    json += i ? ",\n" : "\n";
    json += R"({"path": ")" + r.path + R"(", "total_conversions": )" +
            std::to_string(r.conversions) + R"(, "total_null": )" + std::to_string(r.nulls);
    std::snprintf(number, sizeof number, "%.17g", r.value);
    json += std::string(R"(, "total_conversion_value": )") + number + "}";
    csv += r.path + "," + std::to_string(r.conversions) + "," + std::to_string(r.nulls) + "," +
           number + "\n";
  }
  json += "]}";
  const std::multimap<std::string, std::string> no_query, csv_query{{"methods", "shapley,markov"}};
  for (auto [body, type, query, name] :
       {std::tuple{&json, "application/json", &no_query, "handler_json"},
        std::tuple{&csv, "text/csv", &csv_query, "handler_csv"}}) {
    size_t response = 0;
    const double cpu0 = ThreadCpuSeconds();
    const int runs = std::max(1, repeats / 2);
    const double secs = MedianSeconds(runs, [&] {
      auto r = causeway::api::HandleAttribution(type, *body, *query);
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.error().message().c_str());
        std::abort();
      }
      response = r.body().dump().size();
    });
    std::printf("%s_seconds %.4f (cpu %.4f per run; body %.1f MB, response %zu bytes)\n", name,
                secs, (ThreadCpuSeconds() - cpu0) / runs, static_cast<double>(body->size()) / 1e6,
                response);
  }
  return 0;
}
