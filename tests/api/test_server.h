// An in-process Causeway server on an ephemeral port, with a fresh database.
#pragma once

#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "api/http/server.h"

namespace causeway::testing {

using Json = nlohmann::json;

class TestServer {
 public:
  explicit TestServer(api::ServerOptions options = {}) {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("causeway-api-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    options.port = 0;
    options.host = "127.0.0.1";
    options.db_path = (dir_ / "causeway.db").string();
    if (options.threads == 0) options.threads = 16;
    std::string error;
    server_ = api::Server::Open(options, &error);
    if (!server_) throw std::runtime_error(error);
    for (const auto& [scope, key] : server_->initial_keys()) {
      (scope == "admin" ? admin_key : sdk_key) = key;
    }
    port = server_->Bind();
    if (port < 0) throw std::runtime_error("bind failed");
    thread_ = std::thread([this] { server_->Run(); });
    while (!server_->running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TestServer() {
    server_->Stop();
    thread_.join();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c;
  }

  struct Reply {
    int status = 0;
    Json body;
    std::string raw;
    httplib::Headers headers;
  };

  Reply Call(const std::string& method, const std::string& path, const std::string& key,
             const std::string& body = "", const std::string& type = "application/json") const {
    httplib::Client c = Client();
    httplib::Headers h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    httplib::Result r = method == "GET"      ? c.Get(path, h)
                        : method == "POST"   ? c.Post(path, h, body, type)
                        : method == "DELETE" ? c.Delete(path, h, body, type)
                                             : c.Patch(path, h, body, type);
    Reply out;
    if (!r) return out;
    out.status = r->status;
    out.raw = r->body;
    out.headers = r->headers;
    out.body = Json::parse(r->body, nullptr, false);
    return out;
  }
  Reply Get(const std::string& path, const std::string& key) const {
    return Call("GET", path, key);
  }
  Reply Post(const std::string& path, const std::string& key, const Json& body) const {
    return Call("POST", path, key, body.dump());
  }
  Reply Patch(const std::string& path, const std::string& key, const Json& body) const {
    return Call("PATCH", path, key, body.dump());
  }
  Reply Delete(const std::string& path, const std::string& key) const {
    return Call("DELETE", path, key);
  }

  // The database file, for a second Store on it (as `causeway keys` opens it).
  std::string db_path() const { return (dir_ / "causeway.db").string(); }

  int port = -1;
  std::string admin_key, sdk_key;

 private:
  std::filesystem::path dir_;
  std::unique_ptr<api::Server> server_;
  std::thread thread_;
};

#ifdef CAUSEWAY_BINARY
// Runs `causeway <args>`; returns its exit status (-1 if it could not run or did
// not exit) and, in *out, its stdout and stderr.
inline int RunCli(const std::string& args, std::string* out) {
  const std::string cmd = std::string("'") + CAUSEWAY_BINARY + "' " + args + " 2>&1";
  out->clear();
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
#endif

}  // namespace causeway::testing
