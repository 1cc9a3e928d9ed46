// Loading the shared mpdta panel, the synthetic reference panels and the reference
// fixtures ("key value" lines written by tests/reference/causal/*.{R,py}).
#pragma once

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "causal/panel.h"

namespace causeway::causal::testing {

inline std::string ReferenceDir() { return CAUSEWAY_SOURCE_DIR "/tests/reference/causal/"; }

inline std::map<std::string, double> ReadReference(const std::string& file) {
  std::ifstream in(ReferenceDir() + file);
  if (!in) throw std::runtime_error("cannot open " + file);
  std::map<std::string, double> values;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string key, value;
    fields >> key >> value;
    values[key] = std::strtod(value.c_str(), nullptr);
  }
  return values;
}

// Reads a small CSV into columns by header name (no quoting needed for our fixtures).
inline std::map<std::string, std::vector<std::string>> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ',')) header.push_back(f);
  }
  std::map<std::string, std::vector<std::string>> cols;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      size_t comma = line.find(',', start);
      fields.push_back(
          line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    for (size_t j = 0; j < header.size(); ++j)
      cols[header[j]].push_back(j < fields.size() ? fields[j] : "");
  }
  return cols;
}

inline std::vector<double> Doubles(const std::vector<std::string>& v) {
  std::vector<double> out;
  for (const auto& s : v) out.push_back(std::strtod(s.c_str(), nullptr));
  return out;
}
inline std::vector<int64_t> Ints(const std::vector<std::string>& v) {
  std::vector<int64_t> out;
  for (const auto& s : v) out.push_back(std::strtoll(s.c_str(), nullptr, 10));
  return out;
}

// mpdta: unit = countyreal, time = year, outcome = lemp, treatment_start = first.treat
// (0 = never treated), optional covariate lpop.
inline Panel LoadMpdta(bool with_lpop = false) {
  auto c = ReadCsv(CAUSEWAY_DATA_DIR "/mpdta/mpdta.csv");
  Panel p;
  p.unit = Ints(c["countyreal"]);
  p.time = Ints(c["year"]);
  p.outcome = Doubles(c["lemp"]);
  for (int64_t g : Ints(c["first.treat"])) p.treatment_start.push_back(g == 0 ? kNeverTreated : g);
  if (with_lpop) {
    p.covariates.push_back(Doubles(c["lpop"]));
    p.covariate_names.push_back("lpop");
  }
  return p;
}

// synth_*.csv: unit,time,y,x1,w,start (start empty = never treated).
inline Panel LoadSynthetic(const std::string& file, bool with_x1, bool weighted) {
  auto c = ReadCsv(ReferenceDir() + file);
  Panel p;
  p.unit = Ints(c["unit"]);
  p.time = Ints(c["time"]);
  p.outcome = Doubles(c["y"]);
  for (const auto& s : c["start"])
    p.treatment_start.push_back(s.empty() ? kNeverTreated : std::stoll(s));
  if (with_x1) {
    p.covariates.push_back(Doubles(c["x1"]));
    p.covariate_names.push_back("x1");
  }
  if (weighted) p.weight = Doubles(c["w"]);
  return p;
}

inline double RelativeError(double got, double want) {
  return std::fabs(got - want) / std::max(std::fabs(want), 1e-300);
}

}  // namespace causeway::causal::testing
