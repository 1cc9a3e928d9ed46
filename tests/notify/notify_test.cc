// Signing, the URL policy, the back-off schedule and the alert service.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/alerts.h"
#include "crypto/crypto.h"
#include "notify/backoff.h"
#include "notify/url_policy.h"
#include "notify/webhook_message.h"
#include "store/sqlite_store.h"

using namespace causeway;
using namespace causeway::notify;

TEST_CASE("signature: the Standard Webhooks specification's test vector") {
  // The vector of the specification's reference libraries (standard-webhooks, the npm
  // `standardwebhooks` package's tests); the npm package prints the same value:
  // new Webhook(secret).sign(id, new Date(1614265330000), payload).
  auto sig = SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                         1614265330, R"({"test": 2432232314})");
  REQUIRE(sig.ok());
  CHECK(*sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // The prefix is optional for the key, as in the reference libraries.
  CHECK(*SignWebhook("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                     R"({"test": 2432232314})") == *sig);
  CHECK(*SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                     1614265331, R"({"test": 2432232314})") != *sig);
  CHECK_FALSE(SignWebhook("whsec_not base64!", "id", 1, "{}").ok());
}

TEST_CASE("secrets: whsec_ and 32 random bytes, different each time") {
  auto a = NewWebhookSecret(), b = NewWebhookSecret();
  REQUIRE(a.ok());
  CHECK(a->rfind("whsec_", 0) == 0);
  CHECK(crypto::Base64Decode(a->substr(6))->size() == 32);
  CHECK(*a != *b);
}

TEST_CASE("base64 and HMAC-SHA256 against RFC 4648 and RFC 4231") {
  CHECK(crypto::Base64Encode("") == "");
  CHECK(crypto::Base64Encode("f") == "Zg==");
  CHECK(crypto::Base64Encode("foob") == "Zm9vYg==");
  CHECK(crypto::Base64Encode("foobar") == "Zm9vYmFy");
  CHECK(*crypto::Base64Decode("Zm9vYg==") == "foob");
  CHECK(*crypto::Base64Decode("Zm9vYg") == "foob");
  CHECK_FALSE(crypto::Base64Decode("Zm9v Yg==").has_value());
  // RFC 4231 test case 2.
  CHECK(crypto::Hex(crypto::HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("AES-128-CBC against NIST SP 800-38A F.2.1, with PKCS#7 padding") {
  auto unhex = [](std::string_view h) {
    std::string out;
    for (size_t i = 0; i + 1 < h.size(); i += 2) {
      out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
    }
    return out;
  };
  const std::string key = unhex("2b7e151628aed2a6abf7158809cf4f3c");
  const std::string iv = unhex("000102030405060708090a0b0c0d0e0f");
  const std::string plain = unhex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  auto ct = crypto::Aes128CbcEncrypt(key, iv, plain);
  REQUIRE(ct.has_value());
  REQUIRE(ct->size() == 80);  // four blocks and a block of padding
  CHECK(crypto::Hex(ct->substr(0, 64)) ==
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
        "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
  CHECK(*crypto::Aes128CbcDecrypt(key, iv, *ct) == plain);
  // A short text pads to one block; the wrong key fails (bad padding) or differs.
  auto one = crypto::Aes128CbcEncrypt(key, iv, "{}");
  REQUIRE(one.has_value());
  CHECK(one->size() == 16);
  CHECK(*crypto::Aes128CbcDecrypt(key, iv, *one) == "{}");
  auto wrong = crypto::Aes128CbcDecrypt(unhex("000102030405060708090a0b0c0d0e0f"), iv, *one);
  CHECK((!wrong.has_value() || *wrong != "{}"));
  CHECK_FALSE(crypto::Aes128CbcEncrypt("short", iv, "x").has_value());
  CHECK_FALSE(crypto::Aes128CbcDecrypt(key, iv, "not a multiple of 16").has_value());
}

TEST_CASE("URL policy: schemes and shapes") {
  CHECK(ParseWebhookUrl("https://hooks.example.com/a?b=1")->target == "/a?b=1");
  CHECK(ParseWebhookUrl("https://hooks.example.com")->port == 443);
  CHECK(ParseWebhookUrl("HTTP://Hooks.Example.com:8080")->Origin() ==
        "http://hooks.example.com:8080");
  CHECK(ParseWebhookUrl("http://[2001:db8::1]:9/x")->Origin() == "http://[2001:db8::1]:9");
  CHECK(ParseWebhookUrl("http://h?x=1")->target == "/?x=1");
  for (const char* bad :
       {"", "ftp://h/", "file:///etc/passwd", "gopher://h", "hooks.example.com", "http://",
        "http://user:pw@h/", "http://h/#frag", "http://h:0/", "http://h:70000/", "http://h:x/",
        "http://h /", "http://[::1/", "http://a:b:c/"}) {
    auto r = ParseWebhookUrl(bad);
    INFO(bad);
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().field() == "url");
  }
}

TEST_CASE("URL policy: refused address classes") {
  const std::pair<const char*, const char*> refused[] = {{"127.0.0.1", "loopback"},
                                                         {"127.255.0.9", "loopback"},
                                                         {"::1", "loopback"},
                                                         {"0.0.0.0", "unspecified"},
                                                         {"::", "unspecified"},
                                                         {"169.254.169.254", "link-local"},
                                                         {"fe80::1", "link-local"},
                                                         {"10.1.2.3", "private"},
                                                         {"172.16.0.1", "private"},
                                                         {"172.31.255.255", "private"},
                                                         {"192.168.1.1", "private"},
                                                         {"100.64.0.1", "private"},
                                                         {"fc00::1", "private"},
                                                         {"fd12:3456::1", "private"},
                                                         {"224.0.0.1", "multicast"},
                                                         {"ff02::1", "multicast"},
                                                         {"240.0.0.1", "reserved"},
                                                         {"255.255.255.255", "reserved"},
                                                         {"::ffff:127.0.0.1", "loopback"},
                                                         {"::ffff:169.254.169.254", "link-local"},
                                                         {"::ffff:10.0.0.1", "private"}};
  for (const auto& [ip, why] : refused) {
    INFO(ip);
    CHECK(RefusedAddressClass(ip) == std::optional<std::string>(why));
  }
  for (const char* ok : {"8.8.8.8", "172.32.0.1", "172.15.255.255", "192.169.0.1", "100.128.0.1",
                         "2001:4860:4860::8888", "::ffff:8.8.8.8"}) {
    INFO(ok);
    CHECK_FALSE(RefusedAddressClass(ok).has_value());
  }
}

TEST_CASE("URL policy: the host is resolved and every address checked") {
  auto refused = ResolveWebhookHost(*ParseWebhookUrl("http://127.0.0.1:9/"), false);
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message().find("loopback") != std::string::npos);
  CHECK(refused.status().message().find("--allow-private-webhooks") != std::string::npos);
  auto metadata = ResolveWebhookHost(*ParseWebhookUrl("http://169.254.169.254/latest/"), false);
  CHECK(metadata.status().message().find("link-local") != std::string::npos);
  // A name resolving to loopback (no network needed: /etc/hosts).
  CHECK_FALSE(ResolveWebhookHost(*ParseWebhookUrl("http://localhost:9/"), false).ok());
  auto allowed = ResolveWebhookHost(*ParseWebhookUrl("http://127.0.0.1:9/"), true);
  REQUIRE(allowed.ok());
  CHECK(allowed->front() == "127.0.0.1");
}

TEST_CASE("back-off: exponential ceilings, capped, full jitter, and at least 24 h of retries") {
  RetryPolicy p;  // 5 s doubling, capped at 1 h, for 24 h
  CHECK(BackoffCeilingMs(p, 1) == 5'000);
  CHECK(BackoffCeilingMs(p, 2) == 10'000);
  CHECK(BackoffCeilingMs(p, 3) == 20'000);
  CHECK(BackoffCeilingMs(p, 10) == 2'560'000);
  CHECK(BackoffCeilingMs(p, 11) == 3'600'000);
  CHECK(BackoffCeilingMs(p, 1000) == 3'600'000);
  CHECK(*NextAttemptMs(p, 0, 100, 3, 0.0) == 100);
  CHECK(*NextAttemptMs(p, 0, 100, 3, 0.5) == 100 + 10'000);
  CHECK(*NextAttemptMs(p, 0, 100, 3, 0.999999) < 100 + 20'000);
  CHECK(NextAttemptMs(p, 0, 24 * 3'600'000 - 1, 60, 0.5).has_value());
  CHECK_FALSE(NextAttemptMs(p, 0, 24 * 3'600'000, 60, 0.5).has_value());
  // Simulated: with the worst jitter (always the ceiling) or the mean, retries go on
  // for 24 h after the alert, then stop.
  for (double u : {0.999999, 0.5}) {
    int64_t now = 0;
    int attempts = 0;
    std::optional<int64_t> next = 0;
    while (next) {
      now = *next;
      next = NextAttemptMs(p, 0, now, ++attempts, u);
    }
    CHECK(now >= 24 * 3'600'000);
    CHECK(now < 25 * 3'600'000);
    CHECK(attempts > 24);
  }
}

TEST_CASE("bodies: the standard envelope and Slack's text") {
  store::AlertRow a;
  a.id = "alt_1";
  a.kind = "srm";
  a.subject_kind = "experiment";
  a.subject = "checkout";
  a.monitor = "srm";
  a.state = "firing";
  a.at_ms = 1'700'000'000'250;
  a.created_ms = 1'700'000'000'300;
  a.payload = R"({"e_value":31.2})";
  auto j = nlohmann::json::parse(AlertBody(a, "standard"));
  CHECK(j["type"] == "alert.srm");
  CHECK(j["timestamp"] == "2023-11-14T22:13:20.250Z");
  CHECK(j["data"]["id"] == "alt_1");
  CHECK(j["data"]["experiment"] == "checkout");
  CHECK(j["data"]["statistic"]["e_value"] == 31.2);
  auto s = nlohmann::json::parse(AlertBody(a, "slack"));
  CHECK(s.size() == 1);
  CHECK(s["text"].get<std::string>().find("srm firing for experiment checkout") !=
        std::string::npos);
  a.payload = "not json";
  CHECK(nlohmann::json::parse(AlertBody(a, "standard"))["data"]["statistic"].is_null());
}

TEST_CASE("alert service: deterministic ids, one commit, replays store nothing twice") {
  auto dir =
      std::filesystem::temp_directory_path() / ("causeway-alerts-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string error;
  auto store = store::OpenSqliteStore((dir / "a.db").string(), &error);
  REQUIRE(store);
  REQUIRE(
      store->CreateWebhook({"wh_1", "http://h/", {}, "standard", "whsec_c2VjcmV0", "", 1}).ok());
  int woken = 0;
  app::AlertService alerts(store.get(), {[] { return int64_t{5000}; }, [&] { ++woken; }});
  const std::string id = app::AlertId("experiment", "checkout", "srm", 1000, "firing");
  CHECK(id.size() == 28);
  CHECK(id.rfind("alt_", 0) == 0);
  CHECK(id == app::AlertId("experiment", "checkout", "srm", 1000, "firing"));
  CHECK(id != app::AlertId("experiment", "checkout", "srm", 1001, "firing"));
  CHECK(id != app::AlertId("rule", "checkout", "srm", 1000, "firing"));

  store::MonitorStateRow state{"experiment:checkout", "srm", "firing", 1000, 1000, "{}"};
  app::NewAlert srm{"srm", "experiment", "checkout", "srm", "firing", 1000, R"({"e":30})"};
  for (int replay = 0; replay < 2; ++replay) {
    auto rows = alerts.Record({state}, {srm});
    REQUIRE(rows.ok());
    CHECK(rows->front().id == id);
    CHECK(rows->front().created_ms == 5000);
  }
  CHECK(store->ListAlerts(0, 10)->size() == 1);
  CHECK(store->ListDeliveries(id)->size() == 1);
  CHECK(woken == 2);
  CHECK(alerts.Record({}, {app::NewAlert{}}).status().code() == StatusCode::kInvalidArgument);

  auto test = alerts.SendTest("wh_1");
  REQUIRE(test.ok());
  CHECK(test->kind == "test");
  CHECK(store->ListDeliveries(test->id)->size() == 1);
  CHECK(alerts.SendTest("wh_nope").status().code() == StatusCode::kNotFound);
  store.reset();
  std::filesystem::remove_all(dir);
}
