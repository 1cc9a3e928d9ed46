// ClickHouse-specific store behaviour: idempotent schema, the cluster layout
// (Distributed over two shards), authentication, an unreachable server, and a
// retried batch counted once. The backend-independent contract is store_test.cc.
#include <catch2/catch.hpp>

#include <thread>

#include "clickhouse_server.h"
#include "store/clickhouse_store.h"
#include "store/store.h"

using namespace causeway::store;
using causeway::testing::TestClickHouse;

namespace {

// A database of its own on the test server, dropped at the end.
struct TestDatabase {
  TestClickHouse* server;
  std::string name;
  TestDatabase(TestClickHouse* s, const std::string& tag) : server(s) {
    name = "cw_" + tag + "_" + std::to_string(::getpid());
    Drop();
  }
  ~TestDatabase() { Drop(); }
  void Drop() { (void)ch::Client(server->endpoint()).Query("DROP DATABASE IF EXISTS " + name); }
  ClickHouseOptions Options() const { return ClickHouseOptions{server->endpoint(name), ""}; }
};

Event Conversion(const std::string& id, const std::string& user) {
  Event e;
  e.type = EventType::kConversion;
  e.id = id;
  e.user = user;
  e.name = "purchase";
  e.value = 2.5;
  e.ts_ms = 1000;
  return e;
}

int64_t CountIn(TestClickHouse* server, const std::string& sql) {
  auto rows = ch::Client(server->endpoint()).Rows(sql);
  REQUIRE(rows.ok());
  return std::stoll(rows->at(0).at(0));
}

}  // namespace

TEST_CASE("clickhouse store: opening twice, and from two threads at once, is fine") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  TestDatabase db(server, "idempotent");
  std::string error;
  auto first = OpenClickHouseStore(db.Options(), &error);
  REQUIRE(first);
  REQUIRE(first->CreateMetric({"m", "{\"x\": \"it's\"}", 5}).ok());
  auto second = OpenClickHouseStore(db.Options(), &error);
  REQUIRE(second);
  auto m = second->GetMetric("m");
  REQUIRE(m.ok());
  CHECK(m->config == "{\"x\": \"it's\"}");
  CHECK(m->created_ms == 5);

  TestDatabase fresh(server, "concurrent_open");
  std::vector<std::unique_ptr<Store>> stores(4);
  std::vector<std::string> errors(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < stores.size(); ++i) {
    threads.emplace_back([&, i] { stores[i] = OpenClickHouseStore(fresh.Options(), &errors[i]); });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < stores.size(); ++i) {
    INFO(errors[i]);
    CHECK(stores[i]);
  }
}

TEST_CASE("clickhouse store: a retried batch is accepted again but counted once") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  TestDatabase db(server, "retry");
  std::string error;
  auto s = OpenClickHouseStore(db.Options(), &error);
  REQUIRE(s);
  std::vector<Event> batch = {Conversion("r1", "u1"), Conversion("r2", "u2")};
  REQUIRE(s->WriteEventBatches({&batch})[0].accepted == 2);
  auto again = s->WriteEventBatches({&batch});  // a client's retry after a lost answer
  CHECK(again[0].status.ok());
  CHECK(again[0].accepted + again[0].duplicates == 2);
  CHECK(*s->CountEvents() == 2);
  CHECK(*s->HasEvent("r1"));
  // The second copy is stored until a merge collapses it; OPTIMIZE forces that merge.
  CHECK(CountIn(server, "SELECT count() FROM " + db.name + ".events") == 4);
  REQUIRE(ch::Client(server->endpoint(db.name)).Query("OPTIMIZE TABLE events FINAL").ok());
  CHECK(CountIn(server, "SELECT count() FROM " + db.name + ".events") == 2);
}

TEST_CASE("clickhouse store: a cluster spreads events over its shards by user") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  TestDatabase db(server, "cluster");
  ch::Client admin(server->endpoint());
  for (const char* shard : {"cw_shard1", "cw_shard2"}) {
    REQUIRE(admin.Query(std::string("DROP DATABASE IF EXISTS ") + shard).ok());
  }
  ClickHouseOptions options = db.Options();
  options.cluster = TestClickHouse::kCluster;
  std::string error;
  auto s = OpenClickHouseStore(options, &error);
  INFO(error);
  REQUIRE(s);
  REQUIRE(OpenClickHouseStore(options, &error));  // idempotent on a cluster too
  constexpr int kUsers = 200;
  std::vector<Event> batch;
  for (int u = 0; u < kUsers; ++u) {
    for (int k = 0; k < 3; ++k) {
      batch.push_back(Conversion("c" + std::to_string(u) + "-" + std::to_string(k),
                                 "user-" + std::to_string(u)));
    }
  }
  batch.push_back(batch.front());  // a duplicate within the batch
  auto r = s->WriteEventBatches({&batch});
  REQUIRE(r[0].status.ok());
  CHECK(r[0].accepted == 3 * kUsers);
  CHECK(r[0].duplicates == 1);
  // insert_distributed_sync=1: on the shards as soon as the INSERT is answered.
  const int64_t one = CountIn(server, "SELECT count() FROM cw_shard1.events_local");
  const int64_t two = CountIn(server, "SELECT count() FROM cw_shard2.events_local");
  CHECK(one + two == 3 * kUsers);
  CHECK(one > kUsers / 2);  // both shards hold a fair part (binomial, 200 users)
  CHECK(two > kUsers / 2);
  // A user's events are on one shard only.
  CHECK(CountIn(server,
                "SELECT count() FROM (SELECT uid FROM cw_shard1.events_local) "
                "WHERE uid IN (SELECT uid FROM cw_shard2.events_local)") == 0);
  CHECK(*s->CountEvents() == 3 * kUsers);
  CHECK(*s->HasEvent("c7-2"));
  CHECK_FALSE(*s->HasEvent("c7-3"));
  // Config lives in the configured database only.
  REQUIRE(s->CreateMetric({"m", "{}", 1}).ok());
  CHECK(s->ListMetrics()->size() == 1);
  for (const char* shard : {"cw_shard1", "cw_shard2"}) {
    CHECK(admin.Query(std::string("DROP DATABASE IF EXISTS ") + shard).ok());
  }
}

TEST_CASE("clickhouse store: user and password; refused credentials are an error") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  TestDatabase db(server, "auth");
  ClickHouseOptions options = db.Options();
  options.endpoint.user = TestClickHouse::kUser;
  options.endpoint.password = TestClickHouse::kPassword;
  std::string error;
  auto s = OpenClickHouseStore(options, &error);
  INFO(error);
  REQUIRE(s);
  REQUIRE(s->CreateMetric({"m", "{}", 1}).ok());
  options.endpoint.password = "wrong";
  CHECK_FALSE(OpenClickHouseStore(options, &error));
  CHECK(error.find("password") != std::string::npos);
}

TEST_CASE("clickhouse store: an unreachable server or a bad name is an error, not a crash") {
  std::string error;
  ClickHouseOptions options;
  options.endpoint.port = causeway::testing::FreeLoopbackPort();
  CHECK_FALSE(OpenClickHouseStore(options, &error));
  CHECK(error.find("cannot connect") != std::string::npos);
  options.endpoint.database = "bad-name; DROP DATABASE x";
  CHECK_FALSE(OpenClickHouseStore(options, &error));
  CHECK(error.find("database") != std::string::npos);
  options.endpoint.database = "causeway";
  options.cluster = "no such cluster";
  CHECK_FALSE(OpenClickHouseStore(options, &error));
}
