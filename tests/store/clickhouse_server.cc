#include "clickhouse_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace causeway::testing {
namespace {

std::string ReadTail(const std::filesystem::path& p, size_t bytes) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string t = s.str();
  return t.size() > bytes ? t.substr(t.size() - bytes) : t;
}

void WriteFile(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

}  // namespace

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

TestClickHouse* TestClickHouse::Shared(std::string* why) {
  static std::mutex mu;
  static std::unique_ptr<TestClickHouse> server;
  static std::string failure;
  static bool tried = false;
  std::lock_guard lock(mu);
  if (!tried) {
    tried = true;
    const char* env = std::getenv("CAUSEWAY_CLICKHOUSE_SERVER");
    const std::string binary = env && *env ? env : "/usr/sbin/clickhouse-server";
    if (::access(binary.c_str(), X_OK) != 0) {
      failure = binary +
                " is not installed (scripts/install-deps.sh --test installs it; "
                "CAUSEWAY_CLICKHOUSE_SERVER names another binary)";
    } else {
      try {
        server = std::make_unique<TestClickHouse>(binary);
      } catch (const std::exception& e) {
        failure = e.what();
      }
    }
  }
  if (why) *why = failure;
  return server.get();
}

TestClickHouse::TestClickHouse(const std::string& binary) {
  static int counter = 0;
  dir_ = std::filesystem::temp_directory_path() /
         ("causeway-clickhouse-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_ / "data");
  std::filesystem::create_directories(dir_ / "tmp");
  std::filesystem::create_directories(dir_ / "format_schemas");
  http_port_ = FreeLoopbackPort();
  tcp_port_ = FreeLoopbackPort();
  while (tcp_port_ == http_port_) tcp_port_ = FreeLoopbackPort();
  if (http_port_ < 0 || tcp_port_ < 0) throw std::runtime_error("no free loopback port");
  const std::string d = dir_.string();
  const std::string tcp = std::to_string(tcp_port_);
  auto shard = [&](const char* db) {
    return "<shard><replica><host>127.0.0.1</host><port>" + tcp + "</port><default_database>" + db +
           "</default_database></replica></shard>";
  };
  WriteFile(dir_ / "config.xml",
            "<?xml version=\"1.0\"?>\n<yandex>\n"
            "  <logger><level>warning</level><log>" +
                d + "/server.log</log><errorlog>" + d +
                "/error.log</errorlog><console>0</console></logger>\n"
                "  <http_port>" +
                std::to_string(http_port_) +
                "</http_port>\n"
                "  <tcp_port>" +
                tcp +
                "</tcp_port>\n"
                "  <listen_host>127.0.0.1</listen_host>\n"
                "  <path>" +
                d +
                "/data/</path>\n"
                "  <tmp_path>" +
                d +
                "/tmp/</tmp_path>\n"
                "  <format_schema_path>" +
                d +
                "/format_schemas/</format_schema_path>\n"
                "  <users_config>users.xml</users_config>\n"
                "  <default_profile>default</default_profile>\n"
                "  <default_database>default</default_database>\n"
                "  <mark_cache_size>268435456</mark_cache_size>\n"
                "  <max_concurrent_queries>100</max_concurrent_queries>\n"
                "  <remote_servers><" +
                std::string(kCluster) + ">" + shard("cw_shard1") + shard("cw_shard2") + "</" +
                kCluster +
                "></remote_servers>\n"
                "</yandex>\n");
  // The password in XML: & < > escaped.
  std::string password;
  for (char c : std::string(kPassword)) {
    password += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
  }
  auto user = [](const std::string& name, const std::string& pw) {
    return "<" + name + "><password>" + pw +
           "</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>"
           "<profile>default</profile><quota>default</quota></" +
           name + ">";
  };
  WriteFile(dir_ / "users.xml",
            "<?xml version=\"1.0\"?>\n<yandex>\n"
            // poll_interval: the server's handler of a native connection (the Distributed
            // table's, to the server itself) checks for shutdown this often (default 10 s).
            // max_threads: 18.16 counts physical cores with cpuid and finds one on some
            // virtual machines; set it to the threads there are (at least 2, so that
            // the report's users are split into buckets in every test run).
            "  <profiles><default><max_memory_usage>2000000000</max_memory_usage>"
            "<poll_interval>1</poll_interval><max_threads>" +
                std::to_string(std::max(2u, std::thread::hardware_concurrency())) +
                "</max_threads></default></profiles>\n"
                "  <users>" +
                user("default", "") + user(kUser, password) +
                "</users>\n"
                "  <quotas><default></default></quotas>\n"
                "</yandex>\n");

  const std::string config = "--config-file=" + (dir_ / "config.xml").string();
  const std::string out = (dir_ / "stdout.log").string();
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Dies with the test binary, even when it crashes. (The signal follows the
    // forking thread: Shared() is called from the tests' main thread.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (::chdir(d.c_str()) != 0) ::_exit(126);
    ::execl(binary.c_str(), binary.c_str(), config.c_str(), nullptr);
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  store::ch::Client client(endpoint());
  while (true) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      const std::string log =
          ReadTail(dir_ / "error.log", 2000) + ReadTail(dir_ / "stdout.log", 2000);
      Stop();
      throw std::runtime_error("clickhouse-server exited at start: " + log);
    }
    if (client.Query("SELECT 1").ok()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      const std::string log = ReadTail(dir_ / "error.log", 2000);
      Stop();
      throw std::runtime_error("clickhouse-server did not answer within 30 s: " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TestClickHouse::~TestClickHouse() { Stop(); }

void TestClickHouse::Stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

store::ch::Endpoint TestClickHouse::endpoint(const std::string& database) const {
  store::ch::Endpoint e;
  e.host = "127.0.0.1";
  e.port = http_port_;
  e.database = database;
  return e;
}

}  // namespace causeway::testing
