#include "cli/simulate.h"

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/codec/config_codec.h"
#include "api/codec/json_util.h"
#include "api/handler.h"
#include "app/experiment.h"
#include "assign/engine.h"
#include "cli/commands.h"
#include "cli/flags.h"

namespace causeway::cli {
namespace {

using api::Json;

constexpr int64_t kMinuteMs = 60 * 1000;
constexpr int64_t kDayMs = 24 * 60 * kMinuteMs;
constexpr int kPreDays = 14;           // pre-period before each first exposure (the CUPED lookback)
constexpr size_t kBatchEvents = 1000;  // events per POST /v1/events
constexpr double kSrmDropShare = 0.08;
constexpr int kSendAttempts = 10;  // per batch, 1 s apart, on 503 or a lost connection

// ------------------------------------------------------------------ flags

bool ParseInteger(const char* s, int64_t lo, int64_t hi, int64_t* out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 10);
  if (!*s || *end || errno == ERANGE || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool ValidKey(std::string_view key) {
  if (key.empty() || key.size() > 128) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// ------------------------------------------------------------------ randomness
//
// Every user draws from their own generator, seeded from (seed, experiment, user
// index): the same flags give the same users and events whatever the batching.
// SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
// generators"); the distributions are written out so that runs are reproducible
// across standard libraries.

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// FNV-1a 64-bit over bytes.
uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  // Uniform on [0, 1).
  double Uniform() { return static_cast<double>(SplitMix64(&state_) >> 11) * 0x1.0p-53; }
  // Standard normal (Box–Muller).
  double Normal() {
    const double u = 1.0 - Uniform();  // (0, 1]
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * Uniform());
  }
  bool Bernoulli(double p) { return Uniform() < p; }
  // Poisson(lambda) by Knuth's multiplication method. REQUIRES: 0 <= lambda <= ~30.
  int Poisson(double lambda) {
    const double limit = std::exp(-lambda);
    int k = 0;
    for (double p = Uniform(); p > limit; p *= Uniform()) ++k;
    return k;
  }
  // Gamma(shape, 1) by Marsaglia & Tsang (2000), "A simple method for generating
  // gamma variables", with Gamma(a) = Gamma(a + 1) U^(1/a) for a < 1.
  double Gamma(double shape) {
    if (shape < 1.0) return Gamma(shape + 1.0) * std::pow(1.0 - Uniform(), 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x = Normal(), v = 1.0 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      const double u = 1.0 - Uniform();
      if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
    }
  }

 private:
  uint64_t state_;
};

// ------------------------------------------------------------------ the population
//
// A level of an attribute: its share of users, a multiplier of the baseline
// purchase rate, a multiplier of the treatment's lift (the heterogeneity that
// segments can find), and a scale: the average order value (countries) or the
// median page load in ms (platforms).
struct Level {
  const char* name;
  double share;
  double base;
  double lift;
  double scale;
};

// Skewed as the traffic of a web shop selling in English-speaking markets and Europe.
constexpr Level kCountries[] = {
    {"US", 0.38, 1.10, 1.0, 48}, {"GB", 0.10, 1.00, 1.1, 42}, {"DE", 0.09, 1.05, 1.3, 45},
    {"IN", 0.09, 0.60, 0.6, 14}, {"BR", 0.07, 0.80, 0.8, 22}, {"FR", 0.06, 1.00, 1.2, 40},
    {"CA", 0.05, 1.05, 1.0, 44}, {"JP", 0.04, 0.90, 0.7, 50}, {"MX", 0.03, 0.80, 0.9, 20},
    {"AU", 0.03, 1.00, 1.0, 46}, {"ES", 0.02, 0.90, 1.1, 34}, {"IT", 0.02, 0.90, 0.9, 36},
    {"NL", 0.01, 1.00, 1.2, 41}, {"SE", 0.01, 1.00, 1.3, 43}};
constexpr Level kPlatforms[] = {{"ios", 0.35, 1.15, 1.2, 850},
                                {"android", 0.40, 0.90, 0.9, 1150},
                                {"web", 0.25, 1.00, 0.9, 1400}};

// A user's purchase probability, before and after exposure, is
//   min(kMaxControlRate, kBaseRate * country.base * platform.base * m),
// m ~ Gamma(kPropensityShape) / kPropensityShape (mean 1, variance 3.3): the spread
// of m is what makes the pre-period predict the post-period (CUPED's covariate).
constexpr double kBaseRate = 0.10;
constexpr double kPropensityShape = 0.3;
constexpr double kMaxControlRate = 0.6;
constexpr double kMaxRate = 0.95;
constexpr double kPageLoadEffect = 0.005;  // treatment pages load 0.5 % slower

template <size_t N>
const Level& Pick(const Level (&levels)[N], double u) {
  for (const Level& l : levels) {
    if (u < l.share) return l;
    u -= l.share;
  }
  return levels[N - 1];
}

// E[lift multiplier] weighted by the baseline rate: dividing by it makes the
// population's expected relative lift of the purchase rate equal --effect.
template <size_t N>
double RateWeightedLift(const Level (&levels)[N]) {
  double num = 0, den = 0;
  for (const Level& l : levels) {
    num += l.share * l.base * l.lift;
    den += l.share * l.base;
  }
  return num / den;
}

struct ExperimentView {
  assign::CompiledExperiment compiled;
  std::vector<std::string> variants;  // keys; the first is the control
  int64_t since_ms = 0;               // exposures before it do not count (phase 2+)
};

struct Totals {
  std::vector<int64_t> users;  // per variant
  int64_t not_in_experiment = 0;
  int64_t dropped = 0;  // --srm: users whose exposures were not sent
  int64_t events = 0;
  int64_t accepted = 0;
  int64_t duplicates = 0;
};

// One user's draws, made in a fixed order whatever the flags, so --segments and
// --srm change what is sent, not who the users are.
struct UserDraw {
  const Level* country = nullptr;
  const Level* platform = nullptr;
  double propensity = 1, activity = 1, spend = 1, speed = 1;
  int64_t first_ms = 0;
  bool drop_exposures = false;
};

UserDraw DrawUser(Rng& rng, int64_t start_ms, int64_t end_ms) {
  UserDraw d;
  d.country = &Pick(kCountries, rng.Uniform());
  d.platform = &Pick(kPlatforms, rng.Uniform());
  d.propensity = rng.Gamma(kPropensityShape) / kPropensityShape;
  d.activity = std::exp(0.4 * rng.Normal() - 0.08) * (0.6 + 0.4 * d.propensity);
  d.spend = std::exp(0.5 * rng.Normal() - 0.125);
  d.speed = d.platform->scale * std::exp(0.3 * rng.Normal());
  d.first_ms =
      start_ms + static_cast<int64_t>(rng.Uniform() * static_cast<double>(end_ms - start_ms));
  d.drop_exposures = rng.Bernoulli(kSrmDropShare);
  return d;
}

// Rates of a user in the experiment, after their variant is known.
struct UserRates {
  double control_rate = 0;  // the purchase probability, untreated
  double rate = 0;          // the purchase probability after exposure
  double order_factor = 1;  // of the order value after exposure
  double load_factor = 1;   // of the page load time after exposure
};

UserRates RatesOf(const UserDraw& d, bool treated, double effect, double lift_norm) {
  const double lift = treated ? effect * d.country->lift * d.platform->lift / lift_norm : 0.0;
  UserRates r;
  r.control_rate =
      std::min(kMaxControlRate, kBaseRate * d.country->base * d.platform->base * d.propensity);
  r.rate = std::clamp(r.control_rate * (1.0 + lift), 0.0, kMaxRate);
  // Marginal buyers buy less: revenue per user rises by about half the lift.
  r.order_factor = treated ? (1.0 + lift / 2.0) / (1.0 + lift) : 1.0;
  r.load_factor = treated ? 1.0 + kPageLoadEffect : 1.0;
  return r;
}

// The events of one user, appended to a batch (JSON objects, comma-separated).
class UserEvents {
 public:
  UserEvents(Rng* rng, const std::string& user, const UserDraw& draw, std::string* out)
      : rng_(*rng), user_(user), d_(draw), out_(*out) {}

  int count() const { return n_; }

  void Conversion(const std::string& id, const char* event, double value, int64_t ts) {
    Separate();
    out_ += "{\"type\":\"conversion\",\"id\":";
    api::AppendJsonString(out_, user_ + id);
    out_ += ",\"user\":";
    api::AppendJsonString(out_, user_);
    out_ += ",\"event\":\"";
    out_ += event;
    out_ += "\",\"value\":";
    api::AppendNumber(out_, value);
    out_ += ",\"ts\":" + std::to_string(ts) + "}";
  }

  // An exposure to `variant`, with the attributes --segments names.
  void Exposure(const std::string& id, const std::string& experiment, const std::string& variant,
                int64_t ts, bool send_country, bool send_platform) {
    Separate();
    out_ += "{\"type\":\"exposure\",\"id\":";
    api::AppendJsonString(out_, user_ + id);
    out_ += ",\"experiment\":";
    api::AppendJsonString(out_, experiment);
    out_ += ",\"user\":";
    api::AppendJsonString(out_, user_);
    out_ += ",\"variant\":";
    api::AppendJsonString(out_, variant);
    out_ += ",\"ts\":" + std::to_string(ts);
    if (send_country || send_platform) {
      out_ += ",\"attributes\":{";
      if (send_country) out_ += std::string("\"country\":\"") + d_.country->name + "\"";
      if (send_country && send_platform) out_ += ",";
      if (send_platform) out_ += std::string("\"platform\":\"") + d_.platform->name + "\"";
      out_ += "}";
    }
    out_ += "}";
  }

  // One or more purchases after sessions (or in [lo, hi) without sessions).
  void Purchases(const char* tag, const std::vector<int64_t>& sessions, int64_t lo, int64_t hi,
                 double factor) {
    const int orders = 1 + rng_.Poisson(0.3 * std::min(d_.propensity, 3.0));
    for (int k = 0; k < orders; ++k) {
      int64_t ts = sessions.empty()
                       ? lo + static_cast<int64_t>(rng_.Uniform() * static_cast<double>(hi - lo))
                       : sessions[static_cast<size_t>(rng_.Uniform() * sessions.size())];
      ts = std::min(hi - 1, ts + kMinuteMs + static_cast<int64_t>(rng_.Uniform() * 20 * kMinuteMs));
      const double amount =
          d_.country->scale * d_.spend * std::exp(0.4 * rng_.Normal() - 0.08) * factor;
      Conversion(std::string(tag) + std::to_string(k), "purchase",
                 std::round(amount * 100.0) / 100.0, ts);
    }
  }

  double PageLoad(double factor) {
    return std::round(d_.speed * std::exp(0.2 * rng_.Normal()) * factor);
  }

 private:
  // A comma before every event but the batch's first.
  void Separate() {
    if (!out_.empty()) out_ += ',';
    ++n_;
  }

  Rng& rng_;
  const std::string& user_;
  const UserDraw& d_;
  std::string& out_;
  int n_ = 0;
};

// The users of one run. Simulate(i) is a pure function of (flags, experiment,
// i, the run's clock), so users can be produced in any order and batching.
class UserSimulator {
 public:
  UserSimulator(const SimulateOptions& o, const ExperimentView& x, int64_t now_ms)
      : o_(o), x_(x), now_ms_(now_ms) {
    lift_norm_ = RateWeightedLift(kCountries) * RateWeightedLift(kPlatforms);
    start_ms_ = std::max(now_ms - o.days * kDayMs, x.since_ms);
    end_ms_ = std::max(start_ms_ + 1, now_ms - 5 * kMinuteMs);
    tag_ = Fnv1a64(o.experiment + '\x1f' + std::to_string(o.seed));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(tag_ >> 32));
    user_prefix_ = std::string("sim-") + hex + "-";
    send_country_ = std::count(o.segments.begin(), o.segments.end(), "country") > 0;
    send_platform_ = std::count(o.segments.begin(), o.segments.end(), "platform") > 0;
  }

  // Appends user `index`'s events to `out` (JSON objects, comma-separated) and
  // returns how many; counts the user in *totals.
  int Simulate(int64_t index, Totals* totals, std::string* out) {
    Rng rng(tag_ ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(index + 1)));
    const std::string user = user_prefix_ + std::to_string(index);
    const UserDraw d = DrawUser(rng, start_ms_, end_ms_);
    assign::Value::Object attributes = {
        {"id", user}, {"country", d.country->name}, {"platform", d.platform->name}};
    const assign::Value attribute_value(std::move(attributes));
    const assign::Assignment a = assign::Assign(x_.compiled, user, &attribute_value);
    if (!a.in_experiment || a.variant_index < 0) {
      ++totals->not_in_experiment;
      return 0;
    }
    const bool treated = a.variant_index != 0;
    const bool send_exposures = !(o_.srm && treated && d.drop_exposures);
    if (send_exposures) {
      ++totals->users[a.variant_index];
    } else {
      ++totals->dropped;
    }
    const UserRates rates = RatesOf(d, treated, o_.effect, lift_norm_);
    UserEvents events(&rng, user, d, out);
    PrePeriod(rng, d, rates, events);
    const std::string& variant = x_.variants[static_cast<size_t>(a.variant_index)];
    PostPeriod(rng, d, rates, send_exposures ? &variant : nullptr, events);
    return events.count();
  }

 private:
  // The same user before their first exposure, untreated.
  static void PrePeriod(Rng& rng, const UserDraw& d, const UserRates& rates, UserEvents& events) {
    const int64_t pre_lo = d.first_ms - kPreDays * kDayMs;
    std::vector<int64_t> pre(static_cast<size_t>(rng.Poisson(1.2 * d.activity)));
    for (auto& ts : pre) ts = pre_lo + static_cast<int64_t>(rng.Uniform() * kPreDays * kDayMs);
    std::sort(pre.begin(), pre.end());
    for (size_t j = 0; j < pre.size(); ++j) {
      events.Conversion("-b" + std::to_string(j), "session", 1, pre[j]);
      events.Conversion("-bl" + std::to_string(j), "page_load", events.PageLoad(1.0), pre[j]);
    }
    if (rng.Bernoulli(rates.control_rate)) events.Purchases("-bp", pre, pre_lo, d.first_ms, 1.0);
  }

  // After the first exposure: an exposure to *variant (unless null: --srm drops
  // it) with every session.
  void PostPeriod(Rng& rng, const UserDraw& d, const UserRates& rates, const std::string* variant,
                  UserEvents& events) const {
    std::vector<int64_t> post(1 + static_cast<size_t>(rng.Poisson(1.2 * d.activity)), d.first_ms);
    for (size_t j = 1; j < post.size(); ++j) {
      post[j] = d.first_ms +
                static_cast<int64_t>(rng.Uniform() * static_cast<double>(now_ms_ - d.first_ms));
    }
    std::sort(post.begin(), post.end());
    for (size_t j = 0; j < post.size(); ++j) {
      if (variant) {
        events.Exposure("-x" + std::to_string(j), o_.experiment, *variant, post[j], send_country_,
                        send_platform_);
      }
      events.Conversion("-s" + std::to_string(j), "session", 1, post[j]);
      events.Conversion("-l" + std::to_string(j), "page_load", events.PageLoad(rates.load_factor),
                        post[j]);
    }
    if (rng.Bernoulli(rates.rate)) {
      events.Purchases("-p", post, d.first_ms, now_ms_ + 1, rates.order_factor);
    }
  }

  const SimulateOptions& o_;
  const ExperimentView& x_;
  const int64_t now_ms_;
  double lift_norm_ = 1.0;
  int64_t start_ms_ = 0, end_ms_ = 0;
  uint64_t tag_ = 0;
  std::string user_prefix_;
  bool send_country_ = false, send_platform_ = false;
};

// ------------------------------------------------------------------ HTTP

// The string member `name` of `j`, or `fallback` when absent or not a string.
std::string Text(const Json& j, const char* name, const std::string& fallback = "") {
  return j.is_object() && j.contains(name) && j[name].is_string() ? j[name].get<std::string>()
                                                                  : fallback;
}

// The member `name` of `j`, or null.
Json Member(const Json& j, const char* name) {
  return j.is_object() && j.contains(name) ? j[name] : Json();
}

struct Reply {
  int status = 0;  // 0: no answer (connection failed)
  Json body;
  std::string transport_error;
};

class ApiClient {
 public:
  ApiClient(const std::string& url, const std::string& key) : http_(url) {
    http_.set_keep_alive(true);
    http_.set_tcp_nodelay(true);
    http_.set_connection_timeout(5, 0);
    http_.set_read_timeout(120, 0);
    http_.set_write_timeout(60, 0);
    if (!key.empty()) headers_.emplace("Authorization", "Bearer " + key);
  }

  Reply Call(const std::string& method, const std::string& path, const std::string& body = "") {
    httplib::Result r = method == "GET"    ? http_.Get(path, headers_)
                        : method == "POST" ? http_.Post(path, headers_, body, "application/json")
                                           : http_.Patch(path, headers_, body, "application/json");
    Reply out;
    if (!r) {
      out.transport_error = httplib::to_string(r.error());
      return out;
    }
    out.status = r->status;
    out.body = Json::parse(r->body, nullptr, false);
    return out;
  }

 private:
  httplib::Client http_;
  httplib::Headers headers_;
};

std::string Describe(const Reply& r) {
  if (r.status == 0) return "no answer (" + r.transport_error + ")";
  std::string s = std::to_string(r.status);
  const Json e = Member(r.body, "error");
  if (e.is_object()) {
    s += " " + Text(e, "code") + ": " + Text(e, "message");
    if (const std::string field = Text(e, "field"); !field.empty()) s += " (field " + field + ")";
  }
  return s;
}

void Fail(const std::string& what, const Reply& r, const SimulateOptions& o) {
  std::fflush(stdout);
  std::fprintf(stderr, "causeway simulate: %s: %s\n", what.c_str(), Describe(r).c_str());
  if (r.status == 0) {
    std::fprintf(stderr, "is `causeway serve` running at %s?\n", o.url.c_str());
  } else if (r.status == 401 || r.status == 403) {
    std::fprintf(stderr,
                 "pass an admin key with --key or CAUSEWAY_ADMIN_KEY (printed at the server's "
                 "first start; more: causeway keys create --scope admin)\n");
  }
}

// The top-level member a 400 names: "guardrail_metrics[0].margin" -> "guardrail_metrics".
std::string RejectedField(const Reply& r) {
  if (r.status != 400) return "";
  const std::string field = Text(Member(r.body, "error"), "field");
  return field.substr(0, field.find_first_of(".["));
}

// POST `body` to `path`; a 400 naming one of `optional` drops that member and
// tries again (a server without those fields yet). The dropped members are
// appended to *dropped.
Reply CreateDroppingOptional(ApiClient& api, const std::string& path, Json body,
                             const std::set<std::string>& optional,
                             std::vector<std::string>* dropped) {
  for (;;) {
    Reply r = api.Call("POST", path, body.dump());
    const std::string field = RejectedField(r);
    if (field.empty() || !optional.count(field) || !body.contains(field)) return r;
    dropped->push_back(field);
    body.erase(field);
  }
}

struct MetricSpec {
  const char* key;
  const char* type;
  const char* event;
  const char* denominator_event;  // ratio metrics
  bool higher_is_better;
  const char* description;
};

constexpr MetricSpec kMetrics[] = {
    {"purchase", "binomial", "purchase", nullptr, true, "share of users who buy (simulated)"},
    {"revenue", "mean", "purchase", nullptr, true, "revenue per user (simulated)"},
    {"revenue_per_session", "ratio", "purchase", "session", true,
     "revenue over sessions (simulated)"},
    {"page_load_ms", "ratio", "page_load", "session", false,
     "mean page load time per session in ms (simulated)"},
};

bool EnsureMetrics(ApiClient& api, const SimulateOptions& o) {
  for (const MetricSpec& m : kMetrics) {
    Json body = {{"key", m.key},
                 {"type", m.type},
                 {"event", m.event},
                 {"higher_is_better", m.higher_is_better},
                 {"description", m.description}};
    if (m.denominator_event) body["denominator_event"] = m.denominator_event;
    Reply r = api.Call("POST", "/v1/metrics", body.dump());
    if (r.status == 201) {
      std::printf("created metric %s (%s)\n", m.key, m.type);
      continue;
    }
    if (r.status != 409) {
      Fail(std::string("creating metric ") + m.key, r, o);
      return false;
    }
    Reply got = api.Call("GET", std::string("/v1/metrics/") + m.key);
    if (got.status != 200) {
      Fail(std::string("reading metric ") + m.key, got, o);
      return false;
    }
    const bool same =
        Text(got.body, "type") == m.type && Text(got.body, "event") == m.event &&
        Text(got.body, "denominator_event") == (m.denominator_event ? m.denominator_event : "");
    std::printf("metric %s exists; reused%s\n", m.key,
                same ? "" : " (warning: its definition differs from the simulator's)");
  }
  return true;
}

// Builds the assignment engine's view of the experiment from GET /v1/experiments/{key},
// decoded by the server's own codec, so the variants sent are those the server's
// hash gives.
std::optional<ExperimentView> CompileExperimentJson(const Json& j, std::string* error) {
  Json config = Json::object();
  for (const char* f : {"key", "variants", "seed", "hash_version", "coverage", "namespace",
                        "condition", "overrides", "status"}) {
    if (j.contains(f)) config[f] = j[f];
  }
  app::Experiment x;
  Status s = api::DecodeExperiment(config, &x);
  if (s.ok()) s = app::NormalizeExperiment(&x);
  if (!s.ok()) {
    *error = s.ToString();
    return std::nullopt;
  }
  const Json phase = Member(j, "phase"), phases = Member(j, "phases");
  x.phase = phase.is_number_integer() ? phase.get<int>() : 1;
  ExperimentView view;
  if (x.phase > 1 && phases.is_array() && !phases.empty()) {
    const Json started = Member(phases.back(), "started_at_ms");
    view.since_ms = started.is_number_integer() ? started.get<int64_t>() : 0;
  }
  for (const auto& v : x.variants) view.variants.push_back(v.key);
  view.compiled = assign::CompileExperiment(app::ToAssignSpec(x));
  return view;
}

std::optional<ExperimentView> EnsureExperiment(ApiClient& api, const SimulateOptions& o) {
  const std::string path = "/v1/experiments/" + o.experiment;
  Json body = {{"key", o.experiment},
               {"name", o.experiment + " (simulated)"},
               {"description", "demo data from causeway simulate"},
               {"variants",
                {{{"key", "control"}, {"weight", 0.5}}, {{"key", "treatment"}, {"weight", 0.5}}}},
               {"status", "running"},
               {"goal_metrics", {"purchase"}},
               {"secondary_metrics", {"revenue", "revenue_per_session"}},
               {"guardrail_metrics", {{{"metric", "page_load_ms"}, {"margin", 0.02}}}},
               {"planned_sample_size", o.users}};
  std::vector<std::string> dropped;
  Reply r = CreateDroppingOptional(
      api, "/v1/experiments", body,
      {"goal_metrics", "secondary_metrics", "guardrail_metrics", "planned_sample_size"}, &dropped);
  Json experiment;
  if (r.status == 201) {
    std::printf("created experiment %s (control/treatment 50/50, running)\n", o.experiment.c_str());
    if (!dropped.empty()) {
      std::string fields;
      for (const auto& f : dropped) fields += (fields.empty() ? "" : ", ") + f;
      std::printf("note: this server does not take %s (400 unknown field); created without\n",
                  fields.c_str());
    }
    experiment = r.body;
  } else if (r.status == 409) {
    Reply got = api.Call("GET", path);
    if (got.status != 200) {
      Fail("reading experiment " + o.experiment, got, o);
      return std::nullopt;
    }
    experiment = got.body;
    std::printf(
        "experiment %s exists (phase %d); reused\n", o.experiment.c_str(),
        Member(experiment, "phase").is_number_integer() ? experiment["phase"].get<int>() : 1);
    if (Text(experiment, "status") != "running") {
      Reply patched = api.Call("PATCH", path, Json{{"status", "running"}}.dump());
      if (patched.status != 200) {
        Fail("setting experiment " + o.experiment + " running", patched, o);
        return std::nullopt;
      }
      std::printf("set experiment %s running\n", o.experiment.c_str());
      experiment = patched.body;
    }
  } else {
    Fail("creating experiment " + o.experiment, r, o);
    return std::nullopt;
  }
  std::string error;
  auto view = CompileExperimentJson(experiment, &error);
  if (!view)
    std::fprintf(stderr, "causeway simulate: experiment %s: %s\n", o.experiment.c_str(),
                 error.c_str());
  return view;
}

// POSTs one batch, resending it (same ids: never double counted) on 503 or a lost
// connection.
bool SendBatch(ApiClient& api, const std::string& events, const SimulateOptions& o,
               Totals* totals) {
  const std::string body = "{\"events\":[" + events + "]}";
  Reply r;
  for (int attempt = 1; attempt <= kSendAttempts; ++attempt) {
    r = api.Call("POST", "/v1/events", body);
    if (r.status == 200) {
      const Json accepted = Member(r.body, "accepted"), duplicates = Member(r.body, "duplicates");
      totals->accepted += accepted.is_number_integer() ? accepted.get<int64_t>() : 0;
      totals->duplicates += duplicates.is_number_integer() ? duplicates.get<int64_t>() : 0;
      return true;
    }
    if (r.status != 0 && r.status != 503) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  Fail("sending events", r, o);
  return false;
}

std::string Percent(const Json& v) {
  if (!v.is_number()) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f %%", 100.0 * v.get<double>());
  return buf;
}

// A few lines from the report: users, SRM, each metric's relative effect, decisions.
void PrintReportSummary(ApiClient& api, const SimulateOptions& o) {
  Reply r = api.Call("GET", "/v1/experiments/" + o.experiment + "/report");
  if (r.status != 200 || !r.body.is_object()) {
    std::printf("report: not available (%s)\n", Describe(r).c_str());
    return;
  }
  const Json& rep = r.body;
  std::string users;
  for (const Json& e : Member(rep, "exposures")) {
    const Json n = Member(e, "users");
    users += (users.empty() ? "" : ", ") + Text(e, "variant", "?") + " " +
             (n.is_number() ? n.dump() : "?");
  }
  const Json mismatch = Member(Member(rep, "srm"), "mismatch");
  std::printf("in the report: users %s; sample ratio %s\n", users.c_str(),
              mismatch.is_boolean() && mismatch.get<bool>() ? "MISMATCH" : "ok");
  const std::string control = Text(rep, "control", "control");
  for (const Json& m : Member(rep, "metrics")) {
    std::string name = Text(m, "metric", "?");
    if (const std::string role = Text(m, "role"); !role.empty()) name += " (" + role + ")";
    const Json comparisons = Member(m, "comparisons");
    if (!comparisons.is_array()) {
      std::printf("  %-28s %s\n", name.c_str(), Text(m, "reason", "not computed").c_str());
      continue;
    }
    for (const Json& c : comparisons) {
      const Json rel = Member(c, "relative");
      const Json ci = Member(rel, "ci");
      std::printf("  %-28s %s vs %s: %s [%s, %s] %s\n", name.c_str(),
                  Text(c, "variant", "?").c_str(), control.c_str(),
                  Percent(Member(rel, "estimate")).c_str(), Percent(Member(ci, "lower")).c_str(),
                  Percent(Member(ci, "upper")).c_str(), Text(c, "conclusion").c_str());
    }
  }
  for (const Json& d : Member(rep, "decisions")) {
    std::printf("decision for %s: %s (%s)\n", Text(d, "variant", "?").c_str(),
                Text(d, "decision", "?").c_str(), Text(d, "why").c_str());
  }
}

// ------------------------------------------------------------------ flags, continued

// --segments: country, platform or country,platform.
bool ParseSegments(std::string_view rest, std::vector<std::string>* segments, std::string* error) {
  segments->clear();
  for (;;) {
    const size_t comma = rest.find(',');
    const std::string s(rest.substr(0, comma));
    if ((s != "country" && s != "platform") ||
        std::count(segments->begin(), segments->end(), s) > 0) {
      *error = "--segments takes country, platform or country,platform";
      return false;
    }
    segments->push_back(s);
    if (comma == std::string_view::npos) return true;
    rest.remove_prefix(comma + 1);
  }
}

// --url: http://HOST[:PORT], without trailing slashes.
bool ParseUrl(const char* v, std::string* out, std::string* error) {
  std::string url = v;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("http://", 0) != 0 || url.size() <= 7 || url.find('/', 7) != std::string::npos) {
    *error = "--url needs http://HOST[:PORT], e.g. http://127.0.0.1:8080";
    return false;
  }
  *out = url;
  return true;
}

// Applies flag `a` with its value `v`; false and *error for a bad value.
bool ApplyValueFlag(const std::string& a, const char* v, SimulateOptions* o, std::string* error) {
  int64_t n = 0;
  auto refuse = [&](const char* why) {
    *error = why;
    return false;
  };
  if (a == "--experiment") {
    if (!ValidKey(v)) {
      return refuse("--experiment needs a key of 1-128 letters, digits, '_', '-', '.'");
    }
    o->experiment = v;
  } else if (a == "--users") {
    if (!ParseInteger(v, 1, 10000000, &n)) {
      return refuse("--users needs a whole number in [1, 10000000]");
    }
    o->users = n;
  } else if (a == "--effect") {
    char* end = nullptr;
    const double e = std::strtod(v, &end);
    if (!*v || *end || !std::isfinite(e) || e <= -1.0 || e > 10.0) {
      return refuse("--effect needs a relative lift in (-1, 10], e.g. 0.03 for +3 %");
    }
    o->effect = e;
  } else if (a == "--days") {
    if (!ParseInteger(v, 1, 365, &n)) {
      return refuse("--days needs a whole number of days in [1, 365]");
    }
    o->days = static_cast<int>(n);
  } else if (a == "--segments") {
    return ParseSegments(v, &o->segments, error);
  } else if (a == "--url") {
    return ParseUrl(v, &o->url, error);
  } else if (a == "--key") {
    o->key = v;
  } else {  // --seed
    if (!ParseInteger(v, 0, INT64_MAX, &n)) return refuse("--seed needs a whole number >= 0");
    o->seed = static_cast<uint64_t>(n);
  }
  return true;
}

bool TakesValue(const std::string& a) {
  for (const char* f : {"--experiment", "--users", "--effect", "--days", "--segments", "--url",
                        "--key", "--seed"}) {
    if (a == f) return true;
  }
  return false;
}

// ------------------------------------------------------------------ the run

// The metrics and the experiment, created or reused; nullopt after printing why not.
std::optional<ExperimentView> PrepareExperiment(ApiClient& api, const SimulateOptions& o) {
  if (!EnsureMetrics(api, o)) return std::nullopt;
  auto experiment = EnsureExperiment(api, o);
  if (!experiment) return std::nullopt;
  if (experiment->variants.size() < 2) {
    std::fprintf(stderr, "causeway simulate: experiment %s has fewer than 2 variants\n",
                 o.experiment.c_str());
    return std::nullopt;
  }
  return experiment;
}

// Simulates every user and sends their events in batches, with progress lines.
bool SendUsers(ApiClient& api, const SimulateOptions& o, UserSimulator& simulator, Totals* totals) {
  std::string batch;
  size_t in_batch = 0;
  int64_t next_progress = o.users / 10;
  for (int64_t i = 0; i < o.users; ++i) {
    in_batch += simulator.Simulate(i, totals, &batch);
    if (in_batch >= kBatchEvents || i + 1 == o.users) {
      if (in_batch > 0 && !SendBatch(api, batch, o, totals)) return false;
      totals->events += static_cast<int64_t>(in_batch);
      batch.clear();
      in_batch = 0;
    }
    if (i + 1 >= next_progress && o.users >= 10000) {
      std::printf("  %3lld %%  %lld users, %lld events\n",
                  static_cast<long long>((i + 1) * 100 / o.users), static_cast<long long>(i + 1),
                  static_cast<long long>(totals->events));
      std::fflush(stdout);
      next_progress += o.users / 10;
    }
  }
  return true;
}

void PrintTotals(const ExperimentView& experiment, const Totals& totals, double seconds) {
  std::string per_variant;
  for (size_t v = 0; v < totals.users.size(); ++v) {
    per_variant += (v ? ", " : "") + experiment.variants[v] + " " + std::to_string(totals.users[v]);
  }
  std::printf("exposed users: %s", per_variant.c_str());
  if (totals.dropped)
    std::printf("; %lld treatment users' exposures dropped (--srm)",
                static_cast<long long>(totals.dropped));
  if (totals.not_in_experiment)
    std::printf("; %lld users not in the experiment",
                static_cast<long long>(totals.not_in_experiment));
  std::printf("\nevents: %lld sent, %lld accepted, %lld duplicates (already stored), in %.1f s\n",
              static_cast<long long>(totals.events), static_cast<long long>(totals.accepted),
              static_cast<long long>(totals.duplicates), seconds);
}

}  // namespace

bool ParseSimulateOptions(int argc, char** argv, SimulateOptions* o, std::string* error) {
  bool key_given = false;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--srm") {
      o->srm = true;
      continue;
    }
    if (!TakesValue(a)) {
      *error = "unknown option " + a;
      return false;
    }
    if (i + 1 >= argc) {
      *error = a + " needs a value";
      return false;
    }
    if (a == "--key") key_given = true;
    if (!ApplyValueFlag(a, argv[++i], o, error)) return false;
  }
  if (o->experiment.empty()) {
    *error = "simulate needs --experiment KEY";
    return false;
  }
  if (!key_given) {
    if (const char* k = std::getenv("CAUSEWAY_ADMIN_KEY"); k && *k) o->key = k;
  }
  return true;
}

int RunSimulate(const SimulateOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  ApiClient api(o.url, o.key);
  auto experiment = PrepareExperiment(api, o);
  if (!experiment) return 1;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  if (now_ms - experiment->since_ms < kDayMs) {
    std::printf(
        "note: the experiment's current phase started less than a day ago; exposures "
        "before its start would not count, so all fall after it\n");
  }
  Totals totals;
  totals.users.assign(experiment->variants.size(), 0);
  UserSimulator simulator(o, *experiment, now_ms);
  std::printf("sending %lld users' exposures and conversions over the last %d days%s%s...\n",
              static_cast<long long>(o.users), o.days,
              o.srm ? " (--srm: 8 % of treatment exposures dropped)" : "",
              o.segments.empty() ? "" : " with attributes");
  std::fflush(stdout);
  if (!SendUsers(api, o, simulator, &totals)) return 1;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  PrintTotals(*experiment, totals, seconds);
  PrintReportSummary(api, o);
  std::printf("report: %s/v1/experiments/%s/report\n", o.url.c_str(), o.experiment.c_str());
  std::printf("page:   %s/experiments/%s\n", o.url.c_str(), o.experiment.c_str());
  return 0;
}

int RunSimulate(int argc, char** argv) {
  if (WantsHelp(argc, argv)) return Help();
  SimulateOptions options;
  std::string error;
  if (!ParseSimulateOptions(argc, argv, &options, &error)) return Usage(error.c_str());
  signal(SIGPIPE, SIG_IGN);
  return RunSimulate(options);
}

}  // namespace causeway::cli
