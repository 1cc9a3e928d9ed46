// Assignment throughput on one core: Hash() alone, Assign() on a found
// experiment, and the full request path SnapshotHolder::Current() ->
// Snapshot::Find(key) -> Assign() over a snapshot of 100 experiments.
//
//   bench_assign_engine [seconds_per_case, default 1.0]
//
// Users are realistic ids: half UUIDv4-shaped strings, half "user-<n>" database
// ids; requests cycle through 100k users and all 100 experiment keys.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "assign/engine.h"

namespace {

using causeway::assign::Assign;
using causeway::assign::Assignment;
using causeway::assign::CompiledExperiment;
using causeway::assign::Condition;
using causeway::assign::ExperimentSpec;
using causeway::assign::ExperimentStatus;
using causeway::assign::Hash;
using causeway::assign::NamespaceSpec;
using causeway::assign::Snapshot;
using causeway::assign::SnapshotHolder;
using causeway::assign::Value;

std::vector<std::string> MakeUsers(size_t n) {
  std::mt19937_64 rng(42);
  std::vector<std::string> users;
  users.reserve(n);
  char buf[40];
  for (size_t i = 0; i < n; ++i) {
    if (i % 2 == 0) {
      const uint64_t hi = rng();
      const uint64_t lo = rng();
      std::snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-%04x-%012llx",
                    static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
                    static_cast<unsigned>(hi & 0xfff),
                    static_cast<unsigned>(0x8000 | ((lo >> 48) & 0x3fff)),
                    static_cast<unsigned long long>(lo & 0xffffffffffffull));
      users.emplace_back(buf);
    } else {
      users.push_back("user-" + std::to_string(rng() % 100000000));
    }
  }
  return users;
}

// 100 experiments as a product team runs them: 2-4 variants, uneven weights,
// partial coverage, a few namespaces, a few overrides for QA accounts.
std::vector<ExperimentSpec> MakeExperiments(bool with_conditions) {
  std::vector<ExperimentSpec> specs;
  for (int i = 0; i < 100; ++i) {
    ExperimentSpec spec;
    spec.key = "exp-" + std::to_string(i) + (i % 3 == 0 ? "-checkout-flow-redesign" : "");
    spec.seed = spec.key;
    const int arms = 2 + i % 3;
    for (int v = 0; v < arms; ++v) spec.variants.push_back({"v" + std::to_string(v), 1.0 / arms});
    spec.coverage = i % 4 == 0 ? 0.5 : 1.0;
    if (i % 5 == 0) spec.ns = NamespaceSpec{"ns-" + std::to_string(i % 3), 0.0, 0.5};
    if (i % 7 == 0) spec.overrides["qa-account-" + std::to_string(i)] = 1;
    if (with_conditions && i % 2 == 0) {
      // {"country": {"$in": ["US", "CA", "GB"]}, "app.version": {"$vgte": "2.3.0"}}
      const Value countries(Value::Array{"US", "CA", "GB"});
      const Value condition(Value::Object{
          {"country", Value(Value::Object{{"$in", countries}})},
          {"app.version", Value(Value::Object{{"$vgte", "2.3.0"}})},
      });
      spec.condition = Condition::Parse(condition, nullptr);
    }
    spec.status = i % 20 == 19 ? ExperimentStatus::kStopped : ExperimentStatus::kRunning;
    specs.push_back(std::move(spec));
  }
  return specs;
}

// Prints the mean rate over `seconds` and the fastest 4096-call chunk. On a
// shared machine the mean moves with other load; the fastest chunk is the
// cost of the code itself and is what to compare between builds.
template <typename Body>
void Run(const char* name, double seconds, Body body) {
  using Clock = std::chrono::steady_clock;
  constexpr int kChunk = 4096;
  uint64_t ops = 0;
  uint64_t sink = 0;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  Clock::time_point now = start;
  Clock::duration fastest = Clock::duration::max();
  do {
    const Clock::time_point chunk_start = now;
    for (int k = 0; k < kChunk; ++k) sink += body(ops++);
    now = Clock::now();
    if (now - chunk_start < fastest) fastest = now - chunk_start;
  } while (now < deadline);
  const double elapsed = std::chrono::duration<double>(now - start).count();
  const double fastest_ns = std::chrono::duration<double, std::nano>(fastest).count() / kChunk;
  std::printf("%-46s %6.2f M ops/s %6.1f ns/op  fastest chunk %6.1f ns/op  (checksum %llu)\n", name,
              ops / elapsed / 1e6, elapsed / static_cast<double>(ops) * 1e9, fastest_ns,
              static_cast<unsigned long long>(sink));
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  const std::vector<std::string> users = MakeUsers(100000);
  const size_t n_users = users.size();

  SnapshotHolder holder;
  holder.Publish(std::make_shared<Snapshot>(MakeExperiments(false)));
  std::vector<std::string> keys;
  for (const auto& e : holder.Current().experiments()) keys.push_back(e.spec.key);
  const size_t n_keys = keys.size();

  std::printf("assignment benchmark: %zu experiments, %zu users, one thread\n", n_keys, n_users);

  Run("Hash(seed, user, 2)", seconds, [&](uint64_t i) {
    return static_cast<uint64_t>(*Hash(keys[i % n_keys], users[i % n_users], 2) * 10000);
  });
  Run("Hash(seed, user, 1)", seconds, [&](uint64_t i) {
    return static_cast<uint64_t>(*Hash(keys[i % n_keys], users[i % n_users], 1) * 1000);
  });

  // Non-ASCII ids (hashed over UTF-16 code units after UTF-8 decoding):
  // "用户<n>", "usuário-<n>-ñ", "😀-<n>".
  std::vector<std::string> unicode_users;
  for (size_t i = 0; i < n_users; ++i) {
    const char* prefix = i % 3 == 0   ? "\xe7\x94\xa8\xe6\x88\xb7"
                         : i % 3 == 1 ? "usu\xc3\xa1rio-"
                                      : "\xf0\x9f\x98\x80-";
    unicode_users.push_back(prefix + std::to_string(i) + (i % 3 == 1 ? "-\xc3\xb1" : ""));
  }
  Run("Hash(seed, non-ASCII user, 2)", seconds, [&](uint64_t i) {
    return static_cast<uint64_t>(*Hash(keys[i % n_keys], unicode_users[i % n_users], 2) * 10000);
  });

  const Snapshot& snapshot = holder.Current();
  Run("Assign(experiment, user, nullptr)", seconds, [&](uint64_t i) {
    const CompiledExperiment& e = snapshot.experiments()[i % n_keys];
    return static_cast<uint64_t>(Assign(e, users[i % n_users], nullptr).variant_index + 1);
  });

  Run("Current() + Find(key) + Assign(.., nullptr)", seconds, [&](uint64_t i) {
    const CompiledExperiment* e = holder.Current().Find(keys[i % n_keys]);
    return static_cast<uint64_t>(Assign(*e, users[i % n_users], nullptr).variant_index + 1);
  });

  // Targeting: half of the experiments carry a condition; attributes given.
  SnapshotHolder targeted;
  targeted.Publish(std::make_shared<Snapshot>(MakeExperiments(true)));
  const Value attributes(Value::Object{
      {"country", "US"}, {"app", Value(Value::Object{{"version", "2.10.1"}})}, {"plan", "pro"}});
  Run("... with conditions on 50% of experiments", seconds, [&](uint64_t i) {
    const CompiledExperiment* e = targeted.Current().Find(keys[i % n_keys]);
    return static_cast<uint64_t>(Assign(*e, users[i % n_users], &attributes).variant_index + 1);
  });
  return 0;
}
